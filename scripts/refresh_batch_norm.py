#!/usr/bin/env python
"""Re-estimate the BatchNorm running statistics of weights files on training samples
(fastvit_fx/training/batch_norm.py says why: an average of runs keeps statistics that are not its own).

    python scripts/refresh_batch_norm.py runs/soup.safetensors --data ../shared/data/person-seg \\
        --backgrounds ../shared/data/backgrounds --out-dir runs/refreshed

Each file is refreshed on the same samples (train split only, drawn as training draws them: the
sources in their set shares, the given framings and camera-fault share) and written as
<out-dir>/<name> in fp16; nothing but the running statistics changes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TAUGHT_FRAMINGS = "native=0.3,whole=0.35,close=0.1,desk=0.1,small=0.15"


def sample_loader(data: str, backgrounds: str | None, model_cfg, samples: int, batch: int, size: int,
                  framings: str, faults: float, seed: int, workers: int):
    import cv2
    import torch
    from torch.utils.data import DataLoader, WeightedRandomSampler

    from fastvit_fx.training.augment import parse_framings
    from fastvit_fx.training.data import (AugmentedPeople, load_backgrounds, parse_shares, read_manifest,
                                          source_sample_weights)
    from fastvit_fx.training.loop import _one_thread_per_worker

    items = read_manifest(data, "train")
    if not items:
        raise ValueError(f"{data}: no training pairs in its manifest")
    dataset = AugmentedPeople(items, load_backgrounds(backgrounds), size, model_cfg.mean, model_cfg.std,
                              seed=seed, framings=parse_framings(framings), faults_p=faults)
    sampler = WeightedRandomSampler(source_sample_weights(items, parse_shares(None)), num_samples=samples,
                                    replacement=True, generator=torch.Generator().manual_seed(seed))
    if workers > 0:
        cv2.setNumThreads(1)  # before the fork (training/loop.py says why)
    return DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers,
                      worker_init_fn=_one_thread_per_worker if workers > 0 else None)


def refresh_file(path: Path, out: Path, loader, samples: int) -> int:
    from fastvit_fx.model import load_model, save_weights
    from fastvit_fx.training.batch_norm import refresh_batch_norm

    model = load_model(path, fuse=False)
    n = refresh_batch_norm(model, loader)
    notes = dict(model.config.training or {})
    notes["batch_norm_refreshed"] = {"samples": samples, "from": path.name}
    model.config.training = notes
    save_weights(model.eval(), out, half=True)
    return n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+", type=Path)
    ap.add_argument("--data", required=True)
    ap.add_argument("--backgrounds", default=None)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--framings", default=TAUGHT_FRAMINGS)
    ap.add_argument("--faults", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)

    import torch

    from fastvit_fx.model import WeightsError, read_config

    try:
        # every header read first: a missing or foreign file is named before the samples load
        configs = [read_config(p) for p in args.weights]
        loader = sample_loader(args.data, args.backgrounds, configs[0], args.samples, args.batch, args.size,
                               args.framings, args.faults, args.seed, args.workers)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for path in args.weights:
            out = args.out_dir / path.name
            if out.resolve() == path.resolve():
                raise ValueError(f"{out}: would overwrite its input; choose another --out-dir")
            loader.sampler.generator.manual_seed(args.seed)  # the same samples for every file
            n = refresh_file(path, out, loader, args.samples)
            print(f"wrote {out} ({n} BatchNorms refreshed on {args.samples} samples)")
    except (WeightsError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
