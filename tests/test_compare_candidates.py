"""scripts/compare_candidates.py: the shipping rule applied to measured candidates, and the whole
script on generated data."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fastvit_fx.model import build_model, save_weights
from fastvit_fx.segment.input_size import LARGE_PEOPLE_SIZE
from test_training import make_dataset

_spec = importlib.util.spec_from_file_location(
    "compare_candidates", Path(__file__).resolve().parents[1] / "scripts" / "compare_candidates.py")
compare_candidates = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_candidates)

P, F, S = "shen2016-portraits", "clothing-co-parsing", "camvid-street"


def _rows(**rows):
    return {name: {"sources": dict(zip((P, F, S), scores)), "time_ratio": ratio}
            for name, (scores, ratio) in rows.items()}


def test_the_best_eligible_candidate_ships_and_the_incumbent_is_the_fallback():
    floors = {P: 0.94, F: 0.91}
    rows = _rows(c=((0.95, 0.92, 0.10), 1.0), better=((0.945, 0.915, 0.30), 1.05),
                 best_but_short=((0.95, 0.905, 0.50), 1.0), best_but_slow=((0.95, 0.92, 0.60), 1.3))
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S)) == "better"
    assert rows["best_but_short"]["why_not"] == "full body 0.0050 short"
    assert rows["best_but_slow"]["why_not"] == "network 1.30x"
    assert rows["better"]["score"] == pytest.approx((0.945 + 0.915 + 0.30) / 3)
    # nothing eligible beats the incumbent: it stays, even when it misses a floor itself
    rows = _rows(c=((0.95, 0.92, 0.10), 1.0), short=((0.93, 0.95, 0.9), 1.0))
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S)) == "c"
    rows = _rows(c=((0.93, 0.92, 0.10), 1.0), short=((0.93, 0.95, 0.9), 1.0))
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S)) == "c"


def test_a_floor_may_sit_at_a_candidates_own_exact_score():
    rows = _rows(c=((0.956397, 0.92511, 0.10), 1.0), level=((0.956397, 0.92511, 0.30), 1.0),
                 under=((0.956396, 0.93, 0.50), 1.0))
    floors = compare_candidates.resolve_floors({P: "c", F: 0.925}, rows)
    assert floors == {P: 0.956397, F: 0.925}
    # a floor typed as the rounded 0.9564 would mark c itself short; at c's own value, c and its equal meet it
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S)) == "level"
    assert rows["c"]["eligible"] and not rows["under"]["eligible"]
    assert rows["under"]["why_not"] == "portraits 0.0000 short"
    assert compare_candidates.parse_floor("@c") == "c"
    assert compare_candidates.parse_floor("0.925") == 0.925


def test_a_flicker_guard_holds_candidates_to_the_incumbents_flicker():
    rows = _rows(c=((0.95, 0.92, 0.10), 1.0), steadier=((0.95, 0.92, 0.20), 1.0),
                 shakier=((0.95, 0.92, 0.30), 1.0), unmeasured=((0.95, 0.92, 0.40), 1.0))
    for name, flicker in (("c", 0.119), ("steadier", 0.110), ("shakier", 0.125)):
        rows[name]["flicker"] = flicker
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), max_flicker_rise=0.0) == "steadier"
    assert rows["shakier"]["why_not"] == "flicker +0.0060 over c"
    assert not rows["unmeasured"]["eligible"]
    # within an allowed rise the shakier, better candidate ships
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), max_flicker_rise=0.01) == "shakier"


@pytest.mark.parametrize("flag", ["--max-flicker-rise", "--max-video-drop"])
def test_a_video_guard_without_the_video_pass_is_a_one_line_error(tmp_path, capsys, flag):
    rc = compare_candidates.main(["--data", str(tmp_path), "--candidate", f"c={tmp_path / 'c.safetensors'}",
                                  flag, "0", "--no-video"])
    assert rc == 2
    assert capsys.readouterr().err.strip() == f"error: {flag} needs the video pass (drop --no-video)"


def test_a_video_miou_guard_holds_candidates_to_the_incumbents():
    rows = _rows(c=((0.95, 0.92, 0.10), 1.0), holds=((0.95, 0.92, 0.20), 1.0),
                 drops=((0.95, 0.92, 0.30), 1.0), unmeasured=((0.95, 0.92, 0.40), 1.0))
    for name, miou in (("c", 0.700), ("holds", 0.696), ("drops", 0.690)):
        rows[name]["video_miou"] = miou
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), max_video_drop=0.005) == "holds"
    assert rows["drops"]["why_not"] == "video mIoU 0.0100 under c"
    assert not rows["unmeasured"]["eligible"]


def test_a_gain_inside_the_margin_ships_nothing():
    rows = _rows(c=((0.95, 0.92, 0.30), 1.0), slightly=((0.95, 0.92, 0.306), 1.0))
    # the mean of three rises 0.002: under a 0.003 margin the incumbent stays, without one the candidate ships
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), min_gain=0.003) == "c"
    assert rows["slightly"]["eligible"]
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S)) == "slightly"
    rows["slightly"]["sources"][S] = 0.309
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), min_gain=0.003) == "slightly"

def test_the_script_measures_times_and_chooses(tmp_path, capsys):
    root = make_dataset(tmp_path / "data", n_train=2, n_val=3)
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        paths.append(save_weights(build_model(head_width=16, input_size=64), tmp_path / f"w{seed}.safetensors"))
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"old={paths[0]}", "--candidate",
                                  f"new={paths[1]}", "--floor", "synthetic=0.0", "--score-sources", "synthetic",
                                  "--backend", "torch", "--repeats", "3", "--no-video", "--json", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    assert set(result["rows"]) == {"old", "new"} and result["rows"]["old"]["time_ratio"] == 1.0
    scores = {name: row["sources"]["synthetic"] for name, row in result["rows"].items()}
    assert result["chosen"] == max(scores, key=scores.get)
    assert f"the rule ships: {result['chosen']}" in capsys.readouterr().out


def test_a_source_may_fall_only_so_far_under_the_reference():
    floors = {P: 0.94}
    rows = _rows(c=((0.95, 0.92, 0.195), 1.0), ref=((0.94, 0.91, 0.20), 1.0),
                 holds=((0.955, 0.925, 0.19), 1.0), falls=((0.97, 0.94, 0.18), 1.0))
    # against the incumbent c: "falls" (the best score) is 0.015 under it and out, "holds" 0.005 under and in
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S), {S: 0.01}) == "holds"
    assert rows["falls"]["why_not"] == "street 0.0150 under c"
    # against a fixed reference with a tighter guard, "holds" (0.01 under ref) is out too: c stays
    assert compare_candidates.apply_rule(rows, floors, 1.15, (P, F, S), {S: 0.006}, reference="ref") == "c"
    assert rows["holds"]["why_not"] == "street 0.0100 under ref"
    assert rows["c"]["eligible"] and rows["ref"]["eligible"]


@pytest.mark.parametrize("args, named", [
    (["--candidate", "nameonly"], "'nameonly'"),
    (["--candidate", "x=/nowhere/w.safetensors"], "/nowhere/w.safetensors"),
    (["--candidate", "x=README.md", "--floor", "portraits"], "'portraits'"),
    (["--candidate", "x=README.md", "--max-drop", "street"], "'street'"),
    (["--candidate", "x=README.md", "--floor", "portraits=high"], "--floor portraits=high"),
    (["--candidate", "x=README.md", "--floor", "portraits=@y"], "@y"),
    (["--candidate", "x=README.md", "--reference", "y"], "--reference y"),
    (["--candidate", "x=README.md", "--sizes", "x=huge:320"], "'huge:320'"),
    (["--candidate", "x=README.md", "--sizes", "y=large:320"], "--sizes y"),
])
def test_bad_arguments_are_one_line_errors_naming_them(tmp_path, capsys, args, named):
    assert compare_candidates.main(["--data", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") == 1


def test_the_script_reports_each_candidates_paired_difference_from_the_incumbent(tmp_path, capsys):
    root = make_dataset(tmp_path / "data", n_train=2, n_val=3)
    torch.manual_seed(0)
    path = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"old={path}", "--candidate", f"same={path}",
                                  "--score-sources", "synthetic", "--backend", "torch", "--repeats", "3",
                                  "--no-video", "--no-detectable-loss", "synthetic", "--max-time-ratio", "100",
                                  "--json", str(out)])
    assert rc == 0
    rows = json.loads(out.read_text())["rows"]
    assert "difference" not in rows["old"]
    # the guard reads the interval measured in the same run: an interval reaching zero passes it
    assert rows["same"]["eligible"], rows["same"]["why_not"]
    # the same weights on the same images: no difference, and no width to the interval
    assert rows["same"]["difference"]["synthetic"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    assert "| same | +0.0000 [+0.0000, +0.0000] |" in capsys.readouterr().out


def test_a_shortfall_carried_by_a_few_images_is_named_with_the_rest_beside_it():
    incumbent = {f"p{i}": (P, 0.95) for i in range(10)} | {"f0": (F, 0.9), "f1": (F, 0.9)}
    behind = dict(incumbent) | {"p3": (P, 0.65), "p7": (P, 0.90), "p0": (P, 0.96)}
    ahead = dict(incumbent) | {"f0": (F, 0.95)}
    rows = {"c": {"per_image": incumbent}, "x": {"per_image": behind}, "y": {"per_image": ahead}}
    text = compare_candidates.largest_losses(rows, [P, F], k=2)
    # x's portraits: -0.034 on the mean, carried by p3 and p7; the other eight gain (p0 +0.01)
    assert text.splitlines() == ["- x, portraits -0.0340: p3 -0.300, p7 -0.050; the other 8: +0.0013"]


def test_each_guard_may_name_its_own_reference():
    rows = _rows(c=((0.95, 0.92, 0.15), 1.0), x=((0.95, 0.92, 0.18), 1.0), n=((0.95, 0.92, 0.17), 1.0),
                 cand=((0.95, 0.92, 0.16), 1.0))
    for name, pasted in (("c", 0.742), ("x", 0.750), ("n", 0.745), ("cand", 0.733)):
        rows[name]["sources"]["pasted-small"] = pasted
    drops = {S: (0.03, None), "pasted-small": (0.01, "n")}
    # street against --reference x (0.02 under: in), pasted small against n (0.012 under: out)
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), drops, reference="x") == "x"
    assert rows["cand"]["why_not"] == "pasted small 0.0120 under n"
    assert compare_candidates.parse_drop("0.01@n") == (0.01, "n")
    assert compare_candidates.parse_drop("0.03") == (0.03, None)
    assert compare_candidates.label("turned90:clothing-co-parsing") == "full body turned 90"


def test_turned_and_pasted_scores_are_eval_pys_on_the_same_items(tmp_path):
    from fastvit_fx.segment import open_segmenter
    from fastvit_fx.training.data import load_backgrounds, read_manifest
    from fastvit_fx.training.evaluate import evaluate

    root = make_dataset(tmp_path / "data", n_train=1, n_val=3)
    manifest = root / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("synthetic", P))
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        cv2.imwrite(str(scenes / f"s{i}.jpg"), rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
    torch.manual_seed(0)
    path = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"c={path}", "--turned", "90",
                                  "--paste-height", "0.25", "--backgrounds", str(scenes), "--backend", "torch",
                                  "--repeats", "3", "--no-video", "--json", str(out)])
    assert rc == 0
    row = json.loads(out.read_text())["rows"]["c"]
    items = read_manifest(root, "val")
    seg = open_segmenter(path, backend="torch", device="cpu")
    turned = evaluate(seg, items, rotate=90)["sources"][P]["miou"]
    pasted = evaluate(seg, items, backgrounds=load_backgrounds(scenes), paste_height=0.25)["per_image"]
    assert row["sources"][f"turned90:{P}"] == pytest.approx(turned)
    assert row["sources"]["pasted-small"] == pytest.approx(np.mean([im["iou"] for im in pasted]))
    # the default score is the upright sources measured and the turned ones: here portraits both ways
    assert row["score"] == pytest.approx((row["sources"][P] + turned) / 2)


def test_a_pasted_score_without_backgrounds_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "w.safetensors").write_bytes(b"")
    rc = compare_candidates.main(["--data", str(tmp_path), "--candidate", f"c={tmp_path / 'w.safetensors'}",
                                  "--paste-height", "0.25"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--paste-height needs --backgrounds" in err and err.count("\n") == 1


def test_one_set_of_weights_is_measured_under_each_candidates_input_sizes(tmp_path):
    root = make_dataset(tmp_path / "data", n_train=2, n_val=3)
    torch.manual_seed(0)
    path = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"one={path}", "--candidate", f"two={path}",
                                  "--sizes", "two=large:96,from:0.3,small:0", "--score-sources", "synthetic",
                                  "--backend", "torch", "--repeats", "3", "--no-video", "--json", str(out)])
    assert rc == 0
    rows = json.loads(out.read_text())["rows"]
    assert rows["one"]["sizes"]["large"] == LARGE_PEOPLE_SIZE  # no --sizes: the app's own
    assert rows["two"]["sizes"] == {**rows["one"]["sizes"], "large": 96, "large_from": 0.3, "small": None}
    assert compare_candidates.parse_sizes("large:320,from:0.5,small:224") == {"large": 320, "large_from": 0.5,
                                                                              "small": 224}


def test_pasted_groups_are_scored_on_the_full_body_photos(tmp_path, capsys):
    from fastvit_fx.segment import open_segmenter
    from fastvit_fx.training.data import read_manifest
    from fastvit_fx.training.evaluate import evaluate_pasted_groups

    root = make_dataset(tmp_path / "data", n_train=1, n_val=3)
    manifest = root / "manifest.csv"
    manifest.write_text(manifest.read_text().replace("synthetic", "clothing-co-parsing"))
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    cv2.imwrite(str(scenes / "s.jpg"), np.random.default_rng(1).integers(0, 255, (90, 160, 3), dtype=np.uint8))
    torch.manual_seed(0)
    path = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"c={path}", "--paste-group", "2",
                                  "--backgrounds", str(scenes), "--backend", "torch", "--repeats", "3", "--no-video",
                                  "--json", str(out)])
    assert rc == 0
    row = json.loads(out.read_text())["rows"]["c"]
    from fastvit_fx.training.data import load_backgrounds

    seg = open_segmenter(path, backend="torch", device="cpu")
    expected = evaluate_pasted_groups(seg, read_manifest(root, "val"), load_backgrounds(scenes), 2)
    assert row["sources"]["pasted-group"] == pytest.approx(expected["miou"])
    # the frames' pooled pixels travel with the score, and are printed beside the table
    assert row["pasted_group_pixels"] == expected["pixels"]
    px = expected["pixels"]
    assert f"| c | {px['true']:,} | {px['false']:,} | {px['missed']:,} | 1.00x |" in capsys.readouterr().out


def test_the_video_pass_reports_flicker_by_pairs_and_each_sequence(tmp_path, capsys):
    from test_training_scenes import make_video_dataset

    root = make_video_dataset(tmp_path / "data")
    torch.manual_seed(0)
    path = save_weights(build_model(head_width=16, input_size=64), tmp_path / "w.safetensors")
    out = tmp_path / "rule.json"
    rc = compare_candidates.main(["--data", str(root), "--candidate", f"c={path}", "--score-sources",
                                  "camvid-street", "--backend", "torch", "--repeats", "1", "--json", str(out)])
    assert rc == 0
    row = json.loads(out.read_text())["rows"]["c"]
    sequences = row["video_sequences"]
    assert set(sequences) == {"street-a", "street-b"} and sequences["street-a"]["n"] == 3
    weighted = (2 * sequences["street-a"]["flicker"] + sequences["street-b"]["flicker"]) / 3
    assert row["flicker_by_pairs"] == pytest.approx(weighted)
    assert "flicker by pairs" in capsys.readouterr().out


def test_a_loss_val_can_tell_apart_is_a_miss_and_one_inside_its_noise_is_not():
    rows = _rows(c=((0.9564, 0.9251, 0.24), 1.0), noisy=((0.9559, 0.9251, 0.26), 1.0),
                 detectable=((0.9554, 0.9251, 0.30), 1.0))
    rows["noisy"]["difference"] = {P: {"mean": -0.0005, "low": -0.0014, "high": 0.0003}}
    rows["detectable"]["difference"] = {P: {"mean": -0.0010, "low": -0.0020, "high": -0.0002}}
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), no_detectable_loss=(P,)) == "noisy"
    assert rows["detectable"]["why_not"] == "portraits -0.0010 [-0.0020, -0.0002] under c"
    assert rows["c"]["eligible"]
    # a source named but never paired is a miss, not a pass
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S), no_detectable_loss=(F,)) == "c"
    assert rows["noisy"]["why_not"] == "full body not paired with c"
    # without the guard the larger gain ships
    assert compare_candidates.apply_rule(rows, {}, 1.15, (P, F, S)) == "detectable"
