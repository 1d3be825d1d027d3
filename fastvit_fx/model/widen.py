"""Grow trained weights into a wider network that starts out computing exactly what they computed.

Net2Net-style widening (Chen et al. 2016, "Net2Net"), used to give the FPN head's coarse levels more
channels (``coarse_width``) without throwing away a trained head: each grown tensor keeps the old
values in its leading block, the new channels keep their fresh initialisation, and the weights from
new input channels into old output channels start at zero. The old channels therefore see exactly
the inputs they saw before; the new ones feed nothing until training moves those zero weights, and
their gradients are not zero, so they do.
"""
from __future__ import annotations

import torch

PROJECTION_SUFFIX = "coarse_to_fine.weight"  # (width, coarse_width, 1, 1): new when the head widens


@torch.no_grad()
def widen_state(old: dict[str, torch.Tensor],
                fresh: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Old tensors grown to the shapes of ``fresh`` (a new model's state dict).

    Returns the tensors to load and the keys that were grown or added. Keys the old weights lack
    (other than the coarse projection, which starts as the identity on the old channels) are left
    out for the caller to judge; a tensor that would shrink raises ValueError.
    """
    out, grown = {}, []
    for key, new in fresh.items():
        if key not in old:
            if key.endswith(PROJECTION_SUFFIX):
                eye = torch.zeros_like(new)
                eye[:, : new.shape[0], 0, 0] = torch.eye(new.shape[0], dtype=new.dtype)
                out[key] = eye
                grown.append(key)
            continue
        value = old[key].to(new.dtype)
        if value.shape == new.shape:
            out[key] = value
            continue
        if value.dim() != new.dim() or any(o > n for o, n in zip(value.shape, new.shape)):
            raise ValueError(f"{key}: cannot grow {tuple(value.shape)} into {tuple(new.shape)}")
        grownv = new.clone()
        lead = tuple(slice(0, n) for n in value.shape)
        grownv[lead] = value
        if value.dim() >= 2:  # conv weight (out, in, ...): new inputs into old outputs start at zero
            grownv[: value.shape[0], value.shape[1]:] = 0
        out[key] = grownv
        grown.append(key)
    return out, grown
