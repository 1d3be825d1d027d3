"""Data echoing: each batch the loader renders trains more than one step, seen anew each time.

On a lent GPU the loader's workers, not the GPU, set the pace: pasting people on scenes, framings,
camera faults and colour casts are CPU work (an H100 run trained on about 730 samples a second from
14 workers), and a T8 step on a batch takes the GPU a fraction of the time its rendering took.
Echoing a rendered batch (Choi et al. 2019, "Faster neural network training with data echoing")
spends the GPU's idle time on it again, through cheap transforms done on the batch where it already
is: a mirror, a zoom into a random part of the sample, and a shift of
brightness, contrast and colour. Image, label and valid map move together; photometric shifts touch
the image only, since they change nothing about who is a person.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

ZOOM = (1.0, 1.25)  # how much closer a view may look: crops of 80-100% of the side, never off the sample
GAIN = (0.75, 1.25)  # contrast, in the normalised input's units
SHIFT = 0.25  # brightness, +- in units of the channel's std
CAST = 0.1  # per-channel shift on top of the brightness: a colour cast


def echo_views(x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A fresh view of each sample of an (N, 3, H, W) normalised image batch and its (N, 1, H, W)
    label and valid map: mirrored half the time, zoomed into a random part, shifted in light."""
    n = x.shape[0]

    def draw(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    # the view as an affine map of output coords to input coords (-1..1): a side `scale` of the
    # sample, anywhere it fits, mirrored by a negative x scale
    scale = 1.0 / (ZOOM[0] + (ZOOM[1] - ZOOM[0]) * draw(n))
    mirror = torch.where(draw(n) < 0.5, -1.0, 1.0)
    room = 1.0 - scale
    tx, ty = (2 * draw(n) - 1) * room, (2 * draw(n) - 1) * room
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = scale * mirror, tx
    theta[:, 1, 1], theta[:, 1, 2] = scale, ty
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", align_corners=False)
    y = F.grid_sample(y, grid.to(y.dtype), mode="bilinear", align_corners=False)
    # an unlabelled pixel stays unlabelled: nearest, so no blend of labelled and not is half-counted
    valid = F.grid_sample(valid, grid.to(valid.dtype), mode="nearest", align_corners=False)

    gain = GAIN[0] + (GAIN[1] - GAIN[0]) * draw(n, 1, 1, 1)
    shift = (2 * draw(n, 1, 1, 1) - 1) * SHIFT + (2 * draw(n, x.shape[1], 1, 1) - 1) * CAST
    x = x * gain.to(x.device, x.dtype) + shift.to(x.device, x.dtype)
    return x, y, valid
