"""scripts/eval.py: bad input is one line naming it, and the pasted-groups score runs on the standing-person photos."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from fastvit_fx.model import build_model, save_weights
from test_training import make_dataset

_spec = importlib.util.spec_from_file_location("eval_script", Path(__file__).resolve().parents[1] / "scripts" / "eval.py")
eval_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_script)


def test_a_missing_data_folder_is_one_line_naming_it(tmp_path, capsys):
    assert eval_script.main(["--data", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in err and err.count("\n") == 1


def test_pasted_groups_need_enough_standing_people_and_score_them(tmp_path, capsys):
    root = make_dataset(tmp_path / "data", n_train=1, n_val=3)
    torch.manual_seed(0)
    weights = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    args = ["--data", str(root), "--weights", str(weights), "--backend", "torch", "--paste-group", "2"]
    assert eval_script.main(args) == 2  # the synthetic source is not a standing-person one
    assert "--paste-group 2" in capsys.readouterr().err
    manifest = root / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("synthetic", "clothing-co-parsing"))
    out = tmp_path / "groups.json"
    assert eval_script.main(args + ["--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == 3 and result["paste_group"] == 2 and 0.0 <= result["miou"] <= 1.0
    px = result["pixels"]  # every labelled person pixel is either found or missed
    assert px["true"] + px["missed"] > 0 and f"{px['false']:,} painted where no person is" in capsys.readouterr().out


def _tiny_model_args(tmp_path, n_val: int) -> list[str]:
    """eval.py's arguments for a small synthetic val split and an untrained small model."""
    root = make_dataset(tmp_path / "data", n_train=1, n_val=n_val)
    torch.manual_seed(0)
    weights = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    return ["--data", str(root), "--weights", str(weights), "--backend", "torch"]


def test_a_still_zoom_blend_outside_0_to_1_is_one_line_naming_it(tmp_path, capsys):
    args = _tiny_model_args(tmp_path, n_val=2)
    assert eval_script.main(args + ["--still-zoom-blend", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "--still-zoom-blend 1.5" in err and err.count("\n") == 1
    assert eval_script.main(args + ["--still-zoom-blend", "0.5"]) == 0


@pytest.mark.parametrize("band", ["0.7,0.25", "half", "0.25"])
def test_a_bad_flip_people_band_is_one_line_naming_it(tmp_path, capsys, band):
    args = _tiny_model_args(tmp_path, n_val=2)
    assert eval_script.main(args + ["--flip-people", band]) == 2
    err = capsys.readouterr().err
    assert f"--flip-people {band}" in err and err.count("\n") == 1


def test_the_mirrored_looks_are_scored_and_recorded(tmp_path):
    args = _tiny_model_args(tmp_path, n_val=2)
    out = tmp_path / "flip.json"
    assert eval_script.main(args + ["--flip-people", "0,100", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["flip_people"] == [0.0, 100.0]
    assert eval_script.main(args + ["--flip", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["flip"] is True


def test_one_source_is_scored_with_its_pooled_pixels_and_an_unknown_one_is_named(tmp_path, capsys):
    args = _tiny_model_args(tmp_path, n_val=3)
    assert eval_script.main(args + ["--source", "camvid-street"]) == 2
    err = capsys.readouterr().err
    assert "--source camvid-street" in err and "synthetic" in err and err.count("\n") == 1
    out = tmp_path / "one.json"
    assert eval_script.main(args + ["--source", "synthetic", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert list(result["sources"]) == ["synthetic"] and result["n"] == 3
    px = result["sources"]["synthetic"]["pixels"]
    assert px["true"] + px["missed"] > 0  # every synthetic val image has a person to find
    assert all(v >= 0 for v in px.values())


def test_a_source_alone_scores_as_it_does_among_the_rest():
    """Scenes and pasting positions go by each image's place in the split, so scoring one source
    alone does not hand its images other scenes."""
    import numpy as np

    from fastvit_fx.training.data import Item
    from fastvit_fx.training.evaluate import evaluate

    class SeeScene:  # "finds" a person wherever the frame is bright: depends on the scene behind
        def reset(self):
            pass

        def __call__(self, img):
            return (img.mean(axis=2) > 100).astype(np.float32)

    import cv2
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        items = []
        for k, source in enumerate(["a", "b", "a", "b"]):
            img = np.full((60, 80, 3), 60 + 40 * k, np.uint8)
            mask = np.zeros((60, 80), np.uint8)
            mask[20:50, 30:50] = 255
            cv2.imwrite(f"{d}/{k}.png", img)
            cv2.imwrite(f"{d}/{k}m.png", mask)
            items.append(Item(str(k), Path(f"{d}/{k}.png"), Path(f"{d}/{k}m.png"), source, "val"))
        scenes = [np.full((90, 160, 3), v, np.uint8) for v in (20, 200, 90)]
        for how in ({"wide": True}, {"paste_height": 0.3}):
            both = evaluate(SeeScene(), items, backgrounds=scenes, **how)
            alone = evaluate(SeeScene(), items, backgrounds=scenes, sources={"b"}, **how)
            assert list(alone["sources"]) == ["b"] and alone["n"] == 2
            assert alone["sources"]["b"] == both["sources"]["b"]
            # what dropping the other images instead would do: other scenes, other scores
            dropped = evaluate(SeeScene(), [it for it in items if it.source == "b"], backgrounds=scenes, **how)
            assert dropped["sources"]["b"] != both["sources"]["b"]
