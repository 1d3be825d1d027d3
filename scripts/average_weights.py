#!/usr/bin/env python
"""Average the weights of runs that share a lineage (a "model soup", Wortsman et al. 2022).

    python scripts/average_weights.py a.safetensors b.safetensors --out models/fastvit_t8_person.safetensors

The shipped weights are such an average: of two runs trained side by side from the same weights with
different framing mixes (the model card's run table says which). Averaging only works for runs where one
was fine-tuned from the other or both from a common start; the config (and training notes) of the last
of the deepest files is kept. A file with a shallower backbone (the same weights before `--depths` grew them) is grown to
the deepest file's blocks per stage first (model/deepen.py). A file named twice counts twice:
`a a a b` is 3/4 a + 1/4 b.

With `--base` the files listed are branches grown from it, and their mean change from the base is
added scaled by each layer's depth, from FIRST at the stem to LAST at the head (LiNeS;
fastvit_fx/model/depth_scaling.py):

    python scripts/average_weights.py branch.safetensors --base shipped.safetensors --depth-scale 0 0.5 --out merged.safetensors

`--depth-scale 0.25 0.25` is the same as `shipped shipped shipped branch`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastvit_fx.model import WeightsError, load_model, save_weights  # noqa: E402
from fastvit_fx.model.deepen import block_counts  # noqa: E402


def _grown_states(paths: list[Path], models: list) -> list[dict]:
    """Each model's state, shallower backbones grown to the deepest one's blocks per stage.

    A grown model's appended blocks are fresh (seeded, so the soup is reproducible) and start as the
    identity to within timm's 1e-5 LayerScale: averaging them with trained blocks halves those blocks'
    contribution, as if the shallow model had learned them to do nothing."""
    import torch

    from fastvit_fx.model import build_model
    from fastvit_fx.model.deepen import deepen_state

    states = [m.state_dict() for m in models]
    deepest = max(range(len(states)), key=lambda i: sum(block_counts(states[i])))
    target = block_counts(states[deepest])
    for i, st in enumerate(states):
        if block_counts(st) == target:
            continue
        torch.manual_seed(0)
        fresh = build_model(models[deepest].config).state_dict()
        try:
            states[i], _ = deepen_state(st, fresh)
        except ValueError as exc:
            raise WeightsError(paths[i], f"does not grow into blocks per stage {target}: {exc}") from None
    return states


def _check_same_architecture(paths: list[Path], states: list[dict]) -> None:
    for p, st in zip(paths[1:], states[1:]):
        if st.keys() != states[0].keys() or any(st[k].shape != states[0][k].shape for k in st):
            raise WeightsError(p, f"not the same architecture as {paths[0]}; cannot average")


RUN_SCORES = ("val", "val_miou")  # keys of a run's training notes that score that run alone


def average(paths: list[Path], out: Path, half: bool = True) -> Path:
    models = [load_model(p, fuse=False) for p in paths]
    states = _grown_states(paths, models)
    _check_same_architecture(paths, states)
    merged = {k: sum(st[k].float() for st in states) / len(states) if states[0][k].is_floating_point()
              else states[-1][k] for k in states[0]}
    # the last of the deepest files gives the config (and the training notes)
    target = max(reversed(models), key=lambda m: sum(block_counts(m.state_dict())))
    target.load_state_dict(merged)
    # one ingredient's val scores say nothing of the average: they are left out of its notes
    notes = {k: v for k, v in (target.config.training or {}).items() if k not in RUN_SCORES}
    target.config.training = {**notes, "averaged_from": [p.name for p in paths]}
    return save_weights(target, out, half=half)


def depth_scaled(base: Path, branches: list[Path], out: Path, first: float, last: float,
                 half: bool = True) -> Path:
    """The base plus its branches' mean change, scaled from `first` (stem) to `last` (head)."""
    from fastvit_fx.model.depth_scaling import depth_scaled_merge

    paths = [base, *branches]
    models = [load_model(p, fuse=False) for p in paths]
    states = _grown_states(paths, models)
    if block_counts(states[0]) != block_counts(models[0].state_dict()):
        raise WeightsError(base, "is shallower than its branches; grow it first (train.py --depths)")
    _check_same_architecture(paths, states)
    merged = depth_scaled_merge(states[0], states[1:], first, last)
    target = models[0]
    target.load_state_dict(merged)
    notes = {k: v for k, v in (target.config.training or {}).items() if k not in RUN_SCORES}
    target.config.training = {**notes, "merged_from": {"base": base.name, "branches": [p.name for p in branches],
                                                       "depth_scale": [first, last]}}
    return save_weights(target, out, half=half)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--base", type=Path, help="the weights the listed branches grew from")
    ap.add_argument("--depth-scale", type=float, nargs=2, metavar=("FIRST", "LAST"),
                    help="with --base: the share of the branches' change at the stem and at the head")
    args = ap.parse_args(argv)
    if (args.base is None) != (args.depth_scale is None):
        ap.error("--base and --depth-scale go together")
    try:
        if args.base is not None:
            written = depth_scaled(args.base, args.weights, args.out, *args.depth_scale)
        else:
            written = average(args.weights, args.out)
        print(f"wrote {written}")
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
