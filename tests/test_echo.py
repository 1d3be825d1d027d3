"""Data echoing (training/echo.py): fresh views of a rendered batch keep label and valid map on the
image's pixels and differ from the batch and from each other (the loop's --echo: test_training.py)."""
from __future__ import annotations

import numpy as np
import torch

from fastvit_fx.training.echo import echo_views


def blob_batch(n: int = 8, size: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Off-centre blobs whose image channels are the label itself (plus a ramp): any misplacement of
    the label against the image shows as lost correlation."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    ys = []
    for _ in range(n):
        cy, cx = rng.integers(6, size - 6, 2)
        ys.append(((yy - cy) ** 2 + (xx - cx * 0.7) ** 2 < 30).astype(np.float32))
    y = torch.from_numpy(np.stack(ys))[:, None]
    x = torch.cat([y, y, y], dim=1) * 2 - 1
    valid = torch.ones_like(y)
    valid[:, :, :, : size // 4] = 0  # the left quarter unlabelled
    return x, y, valid


def test_a_view_keeps_the_label_on_the_image_pixels():
    x, y, valid = blob_batch()
    vx, vy, vvalid = echo_views(x, y, valid, torch.Generator().manual_seed(1))
    assert vx.shape == x.shape and vy.shape == y.shape and vvalid.shape == valid.shape
    for i in range(x.shape[0]):
        for c in range(3):  # light shifts are affine in each channel: the match stays exact
            r = np.corrcoef(vx[i, c].flatten().numpy(), vy[i, 0].flatten().numpy())[0, 1]
            assert r > 0.999
    assert not torch.allclose(vy, y)  # the views moved


def test_unlabelled_pixels_stay_unlabelled_and_views_differ():
    x, y, valid = blob_batch()
    g = torch.Generator().manual_seed(2)
    views = [echo_views(x, y, valid, g) for _ in range(2)]
    for _, _, v in views:
        assert set(torch.unique(v).tolist()) <= {0.0, 1.0}  # never half counted
    # the unlabelled quarter sits left or, mirrored, right: it moves to the right edge in some views
    right_edge = torch.stack([v[:, 0, :, -1].mean(dim=1) for _, _, v in views])
    left_edge = torch.stack([v[:, 0, :, 0].mean(dim=1) for _, _, v in views])
    assert bool((right_edge == 0).any()) and bool((left_edge == 0).any())
    assert not torch.allclose(views[0][0], views[1][0])  # two echoes are two different views
