"""Quarter turns of training samples (training/turn.py): each sample turned by its own count, the
label and valid map with it, and a loop that trains with them (and a teacher) end to end."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fastvit_fx.training.turn import draw_quarter_turns, turn


def test_each_sample_turns_clockwise_by_its_own_count():
    batch = torch.zeros(4, 1, 5, 5)
    batch[:, 0, 0, 4] = 1.0  # a mark in the top-right corner of every sample
    out = turn(batch, torch.tensor([0, 1, 2, 3]))
    corners = [tuple(np.argwhere(out[i, 0].numpy() == 1.0)[0]) for i in range(4)]
    # clockwise: top-right -> bottom-right -> bottom-left -> top-left
    assert corners == [(0, 4), (4, 4), (4, 0), (0, 0)]
    assert torch.equal(batch[:, 0, 0, 4], torch.ones(4))  # the input is left as it was


def test_image_label_and_valid_map_turn_together():
    x, y = torch.rand(6, 3, 8, 8), (torch.rand(6, 1, 8, 8) > 0.5).float()
    q = torch.tensor([1, 0, 3, 2, 1, 0])
    tx, ty = turn(x, q), turn(y, q)
    for i, k in enumerate(q.tolist()):
        assert torch.equal(tx[i], torch.rot90(x[i], -k, dims=(-2, -1)))
        assert torch.equal(ty[i], torch.rot90(y[i], -k, dims=(-2, -1)))
    assert torch.equal(turn(tx, (4 - q) % 4), x)  # turning on round the circle gives the sample back


def test_the_share_decides_how_many_are_turned():
    g = torch.Generator().manual_seed(0)
    assert not draw_quarter_turns(100, 0.0, g).any()
    every = draw_quarter_turns(1000, 1.0, g)
    assert set(every.tolist()) == {1, 2, 3}
    some = draw_quarter_turns(4000, 0.25, g)
    assert 0.2 < (some > 0).float().mean().item() < 0.3


def test_only_square_samples_can_be_turned():
    with pytest.raises(ValueError, match="square"):
        turn(torch.zeros(2, 1, 4, 6), torch.tensor([1, 0]))
    wide = torch.zeros(2, 1, 4, 6)
    assert turn(wide, torch.tensor([0, 0])) is wide  # nothing to turn: nothing asked of the shape
