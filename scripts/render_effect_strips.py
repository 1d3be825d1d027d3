#!/usr/bin/env python3
"""Render every effect preset to a PNG strip (a few frames side by side) in docs/effects/.

By default the input is the built-in demo scene (fastvit_fx.io.demo: a real person walking, swaying
and swinging their arms in a room), segmented frame by frame by the shipped model exactly as the
app does it (Segmenter(smooth=True): zoom tracking and temporal smoothing included), so the strips
show what a user sees, segmentation mistakes and all. Other inputs:

    python scripts/render_effect_strips.py --input clip.mp4                # a video, segmented the same way
    python scripts/render_effect_strips.py --input photo.jpg --mask photo_mask.png   # a still with its mask
    python scripts/render_effect_strips.py --source synthetic              # the drawn figure (tests; no weights)

Every frame from t = 0 is segmented and rendered at --fps, so smoothing, zoom tracking and the
simulations (snow piling up) run as they would live before the sampled frames.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastvit_fx.fx import EffectRenderer, load_presets  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/effects", help="folder for NAME.png strips")
    ap.add_argument("--names", nargs="*", help="only these presets (default: all)")
    ap.add_argument("--effects-dir", default=None, help="preset folder (default: the shipped effects/)")
    ap.add_argument("--times", type=float, nargs="*", default=[2.5, 4.6, 7.2, 9.6],
                    help="seconds into the clip to show")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--source", choices=("demo", "synthetic"), default="demo",
                    help="without --input: the demo scene's real person (default) or the drawn test figure")
    ap.add_argument("--size", default="1280x720", help="render size WxH (demo and synthetic sources)")
    ap.add_argument("--thumb", type=int, default=320, help="width of each frame in the strip")
    ap.add_argument("--crop", type=float, default=None,
                    help="keep this centred fraction of the width (default: 0.6 for the demo, whose person "
                         "walks in the middle of a wide room; 1 otherwise)")
    ap.add_argument("--input", default=None, help="an image or a video instead of the generated clip")
    ap.add_argument("--mask", default=None, help="a mask image for a still --input (no weights needed)")
    ap.add_argument("--weights", default=None, help="segmenter weights (default: the shipped model)")
    ap.add_argument("--backend", default="auto")
    return ap.parse_args(argv)


class Source:
    """frame, mask = source(i, t) for the demo scene, the drawn test figure, a still image, or a video."""

    def __init__(self, args) -> None:
        self.args = args
        self.video = None
        self.segmenter = None
        self.scene = None
        self.clip = None
        self.image = None
        self.fixed_mask = None
        if args.input is None:
            w, h = (int(v) for v in args.size.lower().split("x"))
            if args.source == "synthetic":
                from fastvit_fx.fx.synth import SyntheticClip

                self.clip = SyntheticClip(w, h)
                return
            from fastvit_fx.io.demo import DemoScene

            self.scene = DemoScene(w, h)
            self.segmenter = self._segmenter(video=True)
            return
        path = Path(args.input)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            self.video = cv2.VideoCapture(str(path))
            if not self.video.isOpened():
                sys.exit(f"{path}: not a readable image or video")
        self.image = image
        if args.mask:
            m = cv2.imread(args.mask, cv2.IMREAD_GRAYSCALE)
            if m is None:
                sys.exit(f"{args.mask}: not a readable image")
            self.fixed_mask = m.astype(np.float32) / 255
        else:
            self.segmenter = self._segmenter(video=self.video is not None)

    def _segmenter(self, video: bool):
        from fastvit_fx import open_segmenter

        # as the app builds it: smoothing and zoom tracking for video
        return open_segmenter(self.args.weights, backend=self.args.backend, smooth=video)

    def __call__(self, i: int, t: float):
        if self.clip is not None:
            return self.clip(t)
        if self.scene is not None:
            frame = self.scene.frame(t)
            return frame, self.segmenter(frame)
        if self.video is not None:
            ok, frame = self.video.read()
            if not ok:
                return None, None
        else:
            frame = self.image
        if self.fixed_mask is not None:
            mask = cv2.resize(self.fixed_mask, (frame.shape[1], frame.shape[0]))
        elif self.video is None and i > 0:
            mask = self._last
        else:
            mask = self.segmenter(frame)
        self._last = mask
        return frame, mask

    def mask_iou(self, t: float, mask: np.ndarray) -> float | None:
        """The demo only: IoU of the segmented mask against the scene's exact mask at t."""
        if self.scene is None:
            return None
        truth = self.scene.mask(t) > 0.5
        found = mask > 0.5
        return float((truth & found).sum() / max(1, (truth | found).sum()))


def centre_crop(frame: np.ndarray, fraction: float) -> np.ndarray:
    """The middle `fraction` of the frame's width."""
    w = frame.shape[1]
    keep = max(1, min(w, int(round(w * fraction))))
    x0 = (w - keep) // 2
    return frame[:, x0:x0 + keep]


def main(argv=None) -> int:
    args = parse_args(argv)
    presets = load_presets(args.effects_dir)
    for line in presets.errors:
        print("skipped:", line, file=sys.stderr)
    chosen = [presets.get(n) for n in args.names] if args.names else list(presets)
    renderers = {p.name: EffectRenderer(p) for p in chosen}
    shots: dict[str, list[np.ndarray]] = {p.name: [] for p in chosen}
    cost: dict[str, list[float]] = {p.name: [] for p in chosen}
    source = Source(args)
    times = sorted(args.times)
    wanted = {int(round(t * args.fps)) for t in times}
    last = max(wanted)
    start = time.time()
    for i in range(last + 1):
        t = i / args.fps
        frame, mask = source(i, t)
        if frame is None:
            break
        if i in wanted:
            iou = source.mask_iou(t, mask)
            if iou is not None:
                print(f"\rt = {t:.2f} s: the shipped model's mask, IoU {iou:.3f} against the demo's exact mask",
                      file=sys.stderr)
        for name, r in renderers.items():
            out = r.render(frame, mask, t)
            cost[name].append(r.last_ms)
            if i in wanted:
                shots[name].append(out)
        if i % 30 == 0:
            print(f"\r{t:5.1f}s / {last / args.fps:.1f}s", end="", file=sys.stderr, flush=True)
    print(f"\rrendered {last + 1} frames in {time.time() - start:.0f}s", file=sys.stderr)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    crop = args.crop if args.crop is not None else (0.6 if source.scene is not None else 1.0)
    for name, frames in shots.items():
        if not frames:
            continue
        frames = [centre_crop(f, crop) for f in frames]
        h, w = frames[0].shape[:2]
        th = int(round(h * args.thumb / w))
        gap = np.full((th, 4, 3), 24, np.uint8)
        row = []
        for k, f in enumerate(frames):
            row.append(cv2.resize(f, (args.thumb, th), interpolation=cv2.INTER_AREA))
            if k < len(frames) - 1:
                row.append(gap)
        path = out_dir / f"{name}.png"
        cv2.imwrite(str(path), np.hstack(row), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"{path}  {path.stat().st_size // 1024} KB  median {np.median(cost[name]):.1f} ms/frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
