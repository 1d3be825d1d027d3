"""Add branches' changes to the weights they grew from, scaled by how deep each layer sits.

A soup `(1 - c) base + c branch` adds the same share `c` of a branch's change to every layer. LiNeS
(Wang et al. 2024, "post-training layer scaling") scales the change with depth instead, on the premise
that fine-tuning forgets in the shallow layers (general features) and learns the new task in the deep
ones. Here the change goes from `first` at the stem to `last` at the head; with `first == last` it is
the ordinary soup. For this network's branches the premise did not hold (model card, "Branches added
by depth"): the tool is kept for measuring where a branch's gains and losses sit.
"""
from __future__ import annotations

import re

import torch

# one "layer" is a stem conv, a stage's downsample, one block, or the whole head
_LAYER = re.compile(r"backbone\.(stem_\d+|stages_\d+\.downsample|stages_\d+\.blocks\.\d+)|head")


def layer_of(key: str) -> str:
    """The layer a state key belongs to: `backbone.stages_2.blocks.3`, `head`, ... (the key itself
    where it matches none, so an unforeseen tensor is its own layer rather than silently pooled)."""
    m = _LAYER.match(key)
    return m.group(0) if m else key


def layer_depths(keys) -> dict[str, float]:
    """Each key's layer depth in [0, 1]: 0 for the first layer in `keys`' order, 1 for the last.

    `keys` must be in forward order (a model's `state_dict()` order is: stem, stages, head)."""
    layers: list[str] = []
    for k in keys:
        if layer_of(k) not in layers:
            layers.append(layer_of(k))
    span = max(1, len(layers) - 1)
    index = {name: i / span for i, name in enumerate(layers)}
    return {k: index[layer_of(k)] for k in keys}


def depth_scaled_merge(base: dict[str, torch.Tensor], branches: list[dict[str, torch.Tensor]],
                       first: float, last: float) -> dict[str, torch.Tensor]:
    """`base + s(depth) * (mean(branches) - base)` per tensor, `s` linear from `first` to `last`.

    `base`'s key order sets the depths (pass a model's `state_dict()`). Integer buffers (BatchNorm's
    step counters) are the base's. BatchNorm's running statistics are merged like the weights; they
    are not a merged model's own, so re-estimate them afterwards (scripts/refresh_batch_norm.py)."""
    if not branches:
        raise ValueError("depth_scaled_merge needs at least one branch")
    for i, br in enumerate(branches):
        if br.keys() != base.keys() or any(br[k].shape != base[k].shape for k in base):
            raise ValueError(f"branch {i} does not have the base's architecture")
    depths = layer_depths(list(base))
    merged = {}
    for k, b in base.items():
        if not b.is_floating_point():
            merged[k] = b.clone()
            continue
        change = sum(br[k].float() for br in branches) / len(branches) - b.float()
        share = first + (last - first) * depths[k]
        merged[k] = (b.float() + share * change).to(b.dtype)
    return merged
