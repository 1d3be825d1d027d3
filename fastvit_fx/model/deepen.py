"""Grow trained weights into a deeper backbone that starts out computing almost what they computed.

FastViT's blocks are residual and scale each branch by a learned LayerScale that timm starts at 1e-5,
so a block appended to a stage is the identity to within 1e-5 of its input: the old blocks keep their
indices and weights, the new ones keep their fresh initialisation, and training grows them (the
scales' gradients are not zero). Used to give T8 T12's depth (``depths=(2, 2, 6, 2)``) without
throwing away what T8 learned.
"""
from __future__ import annotations

import re

import torch

_BLOCK = re.compile(r"^backbone\.stages_(\d)\.blocks\.(\d+)\.")


def block_counts(state: dict[str, torch.Tensor]) -> tuple[int, ...]:
    """Blocks per backbone stage, read off a state dict's keys."""
    counts: dict[int, int] = {}
    for key in state:
        m = _BLOCK.match(key)
        if m:
            stage, block = int(m.group(1)), int(m.group(2))
            counts[stage] = max(counts.get(stage, 0), block + 1)
    return tuple(counts[s] for s in sorted(counts))


def deepen_state(old: dict[str, torch.Tensor],
                 fresh: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Old tensors plus ``fresh``'s tensors for the blocks the old weights lack.

    Returns the tensors to load (all of ``fresh``'s keys) and the keys that are new. Any other
    difference (a missing tensor outside a new block, a shape change, fewer blocks) raises ValueError.
    """
    old_depths, new_depths = block_counts(old), block_counts(fresh)
    if len(old_depths) != len(new_depths) or any(o > n for o, n in zip(old_depths, new_depths)):
        raise ValueError(f"cannot deepen blocks per stage {old_depths} into {new_depths}")
    out, added = {}, []
    for key, new in fresh.items():
        if key in old:
            if old[key].shape != new.shape:
                raise ValueError(f"{key}: shape {tuple(old[key].shape)} differs from {tuple(new.shape)}")
            out[key] = old[key].to(new.dtype)
            continue
        m = _BLOCK.match(key)
        if not m or int(m.group(2)) < old_depths[int(m.group(1))]:
            raise ValueError(f"{key}: missing from the old weights and not part of a new block")
        out[key] = new.clone()
        added.append(key)
    unexpected = sorted(set(old) - set(fresh))
    if unexpected:
        raise ValueError(f"{unexpected[0]}: not in the deeper network")
    return out, added
