"""scripts/mark_bystanders.py: the people beside the labelled person become not labelled (128)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from test_training import make_dataset

_spec = importlib.util.spec_from_file_location(
    "mark_bystanders", Path(__file__).resolve().parents[1] / "scripts" / "mark_bystanders.py")
mark_bystanders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mark_bystanders)


def test_a_box_away_from_the_person_is_marked_and_the_persons_own_box_is_not():
    mask = np.zeros((100, 80), np.uint8)
    mask[10:90, 5:35] = 255  # the labelled person
    boxes = [(50.0, 20.0, 20.0, 50.0),  # a bystander on the right
             (4.0, 8.0, 32.0, 84.0)]  # the labelled person found again
    out, n = mark_bystanders.mark_bystanders(mask, boxes)
    assert n == 1
    assert (out[20:70, 50:70] == mark_bystanders.IGNORE).all()
    assert (out[10:90, 5:35] == 255).all()  # person pixels stay person
    assert (out[:, :45][mask[:, :45] == 0] == 0).all()  # nothing marked near the person but the bystander's box
    assert not (mask == mark_bystanders.IGNORE).any()  # the input is left as it was


def test_without_a_people_detector_it_says_what_to_install(tmp_path, capsys, monkeypatch):
    root = make_dataset(tmp_path / "data", n_train=2, n_val=0)
    monkeypatch.delattr(mark_bystanders.cv2, "HOGDescriptor", raising=False)
    assert mark_bystanders.main(["--data", str(root), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "opencv-python-headless<5" in err
    assert mark_bystanders.main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 2
    assert "none/manifest.csv" in capsys.readouterr().err
