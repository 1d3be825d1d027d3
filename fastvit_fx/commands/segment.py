"""`fastvit-fx segment INPUT... --out DIR`: one 8-bit grey PNG mask per image, named after its stem."""
from __future__ import annotations

import sys
from pathlib import Path

from .common import add_model_options, expand_inputs, make_segmenter


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="images, folders or globs")
    parser.add_argument("--out", required=True, help="folder for the masks (created if needed)")
    parser.add_argument("--no-refine", action="store_true", help="plain bilinear upsampling, no guided filter")
    add_model_options(parser)


def run(args) -> int:
    import cv2
    import numpy as np
    from tqdm import tqdm

    from ..errors import UserError

    paths, missing = expand_inputs(args.inputs)
    for spec in missing:
        print(f"fastvit-fx: skipped {spec}: no such file or no match", file=sys.stderr)
    if not paths:
        raise UserError("no input images found in " + ", ".join(args.inputs))
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create output folder ({exc.strerror})") from None
    seg = make_segmenter(args)
    seg.refine = not args.no_refine
    failed = len(missing)
    bar = tqdm(paths, unit="img", disable=len(paths) <= 3, file=sys.stderr)
    for path in bar:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            bar.write(f"fastvit-fx: skipped {path}: not a readable image", file=sys.stderr)
            failed += 1
            continue
        mask = seg(frame)
        target = out / f"{path.stem}.png"
        if not cv2.imwrite(str(target), np.round(mask * 255).astype(np.uint8)):
            bar.write(f"fastvit-fx: could not write {target}", file=sys.stderr)
            failed += 1
    done = len(paths) - (failed - len(missing))
    print(f"wrote {done} mask(s) to {out}" + (f"; {failed} input(s) failed" if failed else ""))
    return 1 if failed else 0
