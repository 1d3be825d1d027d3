"""A person lit from the camera in a dark room: the room darkens, the people do not, lights stay behind."""
from __future__ import annotations

import numpy as np
import torch

from fastvit_fx.training.data import AugmentedPeople, read_manifest
from fastvit_fx.training.flash_at_night import flash_at_night
from test_training import make_dataset


def _grey(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32).mean(axis=2)


def test_the_room_darkens_and_the_person_keeps_its_light():
    frame = np.full((96, 96, 3), 150, np.uint8)
    label = np.zeros((96, 96), np.uint8)
    label[20:90, 30:66] = 255
    for seed in range(10):
        out = flash_at_night(frame, label, np.random.default_rng(seed))
        assert out.shape == frame.shape and out.dtype == np.uint8
        room, person = _grey(out)[label == 0], _grey(out)[label == 255]
        assert np.median(room) < 0.7 * 150  # a dim room, its points of light sparse
        assert np.median(person) > 0.9 * 150  # lit from the camera


def test_dark_clothes_stay_dark_and_no_light_is_drawn_on_the_person():
    frame = np.full((64, 64, 3), 5, np.uint8)  # a black top filling the frame
    label = np.full((64, 64), 255, np.uint8)
    for seed in range(10):
        out = flash_at_night(frame, label, np.random.default_rng(seed))
        assert _grey(out).max() < 40  # at most the flash's lift and the gain's noise


def test_flash_at_night_changes_frames_not_labels_and_off_leaves_samples_as_before(tmp_path):
    """Lit samples learn from their labels alone: the teacher misses what they are made to show."""
    root = make_dataset(tmp_path / "d", n_train=3, n_val=1)
    items = read_manifest(root, "train")
    plain = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4)
    off = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4, flash_at_night=0.0)
    lit = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4, flash_at_night=1.0,
                          teach_sources=tuple({it.source for it in items}))
    changed = 0
    for i in range(len(items)):
        x0, y0 = plain[i][:2]
        assert torch.equal(x0, off[i][0]) and torch.equal(y0, off[i][1])
        x1, y1, _, teach, loss_weight = lit[i]
        assert torch.equal(y0, y1)  # the label does not move
        assert float(teach) == 0.0 and float(loss_weight) == 1.0
        changed += int(not torch.equal(x0, x1))
    assert changed == len(items)
