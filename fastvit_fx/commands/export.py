"""`fastvit-fx export coreml|onnx`: write the runtime model files for the fused network.

  fastvit-fx export onnx                       models/fastvit_t8_person.onnx (dynamic H, W)
  fastvit-fx export onnx --int8                also models/fastvit_t8_person.int8.onnx
                                               (calibrated on the shipped frames, or --calib DIR)
  fastvit-fx export coreml                     models/fastvit_t8_person-256x160.mlpackage (fp16)

The runtime picks these files up when they match the weights (same SHA-256); otherwise
fastvit_fx.segment.open_segmenter builds one once into the user cache (fastvit_fx/export/build.py).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("format", choices=("coreml", "onnx"), help="runtime to export for")
    parser.add_argument("--weights", default=None, help="weights file (default: the one shipped in models/)")
    parser.add_argument("--size", type=int, default=None,
                        help="network input size, longest side (default: the model's, 256)")
    parser.add_argument("--out", default=None,
                        help="output file (default: next to the weights, e.g. models/fastvit_t8_person.onnx)")
    parser.add_argument("--aspect", default="16:9",
                        help="coreml: frame aspect W:H the fixed input shape is made for (default 16:9 -> 256x160)")
    parser.add_argument("--int8", action="store_true",
                        help="onnx: also write a statically quantised int8 model")
    parser.add_argument("--calib", default=None,
                        help="onnx --int8: folder of camera-like images (people in scenes) for calibration "
                             "(default: the frames shipped in models/calibration)")
    parser.add_argument("--calib-count", type=int, default=64,
                        help="calibration images to use (default 64; the shipped set has 24)")
    parser.add_argument("--opset", type=int, default=None, help="onnx opset (default 20)")


def run(args) -> int:
    from ..errors import UserError
    from ..export.cache import export_name
    from ..export.shapes import fixed_input_hw, parse_aspect
    from ..model.header import read_config
    from ..resources import default_weights

    weights = Path(args.weights) if args.weights else default_weights()
    config = read_config(weights)  # one-line WeightsError for a missing or bad file, before torch loads
    size = int(args.size or config.input_size)
    if size < 32:
        raise UserError(f"--size {size}: must be at least 32")
    if args.format == "coreml" and (args.int8 or args.calib):
        raise UserError("--int8/--calib apply to onnx only (Core ML exports fp16)")
    if args.calib and not args.int8:
        raise UserError("--calib applies with --int8 only")
    try:
        aspect = parse_aspect(args.aspect)
    except ValueError as exc:
        raise UserError(f"--aspect: {exc}") from None

    t0 = time.perf_counter()
    if args.format == "onnx":
        images = None
        if args.int8:  # read the calibration frames first: a bad folder fails before the export
            from ..export.calibration import builtin_calibration_frames, read_calibration_images

            if args.calib:
                images = read_calibration_images(args.calib, limit=args.calib_count)
                where = f"{len(images)} images from {args.calib}"
            else:
                images = builtin_calibration_frames(args.calib_count)
                where = f"{len(images)} built-in webcam-like frames"
        out = Path(args.out) if args.out else weights.parent / export_name(weights, "onnx", size)
        _check_writable(out, UserError)
        from ..export.onnx import export_onnx

        export_onnx(weights, out, size=size, **({"opset": args.opset} if args.opset else {}))
        print(f"wrote {out} (fp32, dynamic input size, {_size_of(out)}) in {time.perf_counter() - t0:.1f} s")
        if args.int8:
            from ..export.calibration import calibration_inputs
            from ..export.int8 import quantize_onnx_int8

            out8 = out.with_name(out.name.removesuffix(".onnx") + ".int8.onnx")
            t1 = time.perf_counter()
            inputs = calibration_inputs(images, config, size, frame_hw=(720, 1280) if args.calib else None)
            quantize_onnx_int8(out, out8, inputs)
            print(f"wrote {out8} (int8 dense convs, calibrated on {where}, {_size_of(out8)}) "
                  f"in {time.perf_counter() - t1:.1f} s")
        return 0

    hw = fixed_input_hw(size, aspect)
    out = Path(args.out) if args.out else weights.parent / export_name(weights, "coreml", size, hw)
    if out.suffix != ".mlpackage":
        raise UserError(f"--out {out}: a Core ML ML Program must be saved as NAME.mlpackage")
    _check_writable(out, UserError)
    print(f"converting to Core ML (fp16, input {hw[1]}x{hw[0]}); this takes a minute...", file=sys.stderr)
    from ..export.coreml import export_coreml

    export_coreml(weights, out, size=size, input_hw=hw)
    print(f"wrote {out} (ML Program, fp16, input 1x3x{hw[0]}x{hw[1]}, {_size_of(out)}) "
          f"in {time.perf_counter() - t0:.1f} s")
    if sys.platform != "darwin":
        print("note: Core ML predicts only on macOS; copy the package to a Mac to run it", file=sys.stderr)
    return 0


def _check_writable(out: Path, error) -> None:
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(f"{parent}: cannot create output folder ({exc.strerror})") from None
    import os

    if not os.access(parent, os.W_OK):
        raise error(f"{parent}: not writable; pass --out PATH")


def _size_of(path: Path) -> str:
    total = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{total / 1e6:.1f} MB"
