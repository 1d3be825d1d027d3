"""Training and evaluation on the scene sources: unlabelled pixels (128) give no loss and no score,
sources are drawn in their shares, scenes keep their own scale, and video is scored in frame order
with its flicker."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fastvit_fx.training.augment import (FRAMINGS, IGNORE, make_framed_sample, make_sample, mask_bbox,
                                         parse_framing_names, parse_scene_scales, paste_clutter, paste_person,
                                         person_free_crop, turn_cutout, zoomed_out_scene)
from fastvit_fx.training.data import (TAUGHT_WHERE_LABELLED, AugmentedPeople, Item, fit_longest_side, load_pair,
                                      parse_loss_weights, parse_shares, read_manifest, sequence_name,
                                      source_sample_weights, valid_map)
from fastvit_fx.training.evaluate import evaluate_video, flicker, pixel_counts, score_mask
from fastvit_fx.training.losses import segmentation_loss
from fastvit_fx.training.loop import TrainConfig, selection_score, teacher_matched_where, train
from test_training import make_dataset


def test_unlabelled_pixels_give_no_loss_and_no_gradient():
    torch.manual_seed(0)
    target = (torch.rand(2, 1, 16, 16) > 0.5).float()
    valid = torch.ones_like(target)
    valid[:, :, :, :6] = 0
    logits = torch.randn(2, 1, 16, 16, requires_grad=True)
    loss = segmentation_loss(logits, target, lovasz=1.0, valid=valid)
    loss.backward()
    assert logits.grad[:, :, :, :6].abs().max().item() == 0.0
    assert logits.grad[:, :, :, 6:].abs().max().item() > 0.0
    # whatever the network says where nothing is labelled, the loss is the same
    changed = logits.detach().clone()
    changed[:, :, :, :6] = 50.0
    again = segmentation_loss(changed, target, lovasz=1.0, valid=valid)
    assert again.item() == pytest.approx(loss.item(), rel=1e-5)
    # and without the valid map that region does count
    assert segmentation_loss(changed, target, lovasz=1.0).item() != pytest.approx(
        segmentation_loss(logits.detach(), target, lovasz=1.0).item(), rel=1e-3)


def test_a_sample_weight_scales_that_samples_gradient_and_ones_change_nothing():
    torch.manual_seed(1)
    target = (torch.rand(3, 1, 16, 16) > 0.5).float()
    valid = torch.ones_like(target)
    valid[1, :, :4] = 0

    def grad(sample_weight):
        logits = torch.randn(3, 1, 16, 16, generator=torch.Generator().manual_seed(2), requires_grad=True)
        loss = segmentation_loss(logits, target, lovasz=1.0, valid=valid, sample_weight=sample_weight)
        loss.backward()
        return loss.item(), logits.grad

    plain_loss, plain = grad(None)
    ones_loss, ones = grad(torch.ones(3))
    assert ones_loss == pytest.approx(plain_loss, rel=1e-6) and torch.allclose(ones, plain)
    _, weighted = grad(torch.tensor([3.0, 1.0, 0.0]))
    assert torch.allclose(weighted[0], 3 * plain[0], atol=1e-7)  # every term of sample 0 counts 3x
    assert torch.allclose(weighted[1], plain[1], atol=1e-7)  # the others' terms are untouched
    assert weighted[2].abs().max().item() == 0.0  # weight 0: no gradient at all


def test_loss_weights_name_their_source_and_bad_ones_are_named():
    assert parse_loss_weights("camvid-street=3, sbi2015-indoor=1.5") == {"camvid-street": 3.0,
                                                                         "sbi2015-indoor": 1.5}
    assert parse_loss_weights(None) == {}
    with pytest.raises(ValueError, match="'street=x' is not source=weight"):
        parse_loss_weights("street=x")
    with pytest.raises(ValueError, match="'camvid-street=-1'"):
        parse_loss_weights("camvid-street=-1")
    with pytest.raises(ValueError, match="unknown source 'camvid'"):
        parse_loss_weights("camvid=3", {"camvid-street"})


def test_valid_map_drops_ignore_and_its_resized_blend_but_keeps_soft_person_edges():
    label = np.array([[0, 64, 128, 150, 191, 255]], np.uint8)
    assert valid_map(label, had_ignore=True).tolist() == [[1, 1, 0, 0, 1, 1]]
    assert valid_map(label, had_ignore=False).tolist() == [[1, 1, 1, 1, 1, 1]]


def test_a_shrunk_mask_without_ignore_never_reads_as_unlabelled(tmp_path):
    """A plain linear shrink of a person's hard edge lands some pixels on 128; load_pair keeps them
    as a blend, so a photo's soft edge stays a target instead of muting the whole photo's edge band."""
    img = np.full((200, 200, 3), 90, np.uint8)
    mask = np.zeros((200, 200), np.uint8)
    cv2.circle(mask, (100, 100), 63, 255, -1)
    cv2.imwrite(str(tmp_path / "p.jpg"), img)
    cv2.imwrite(str(tmp_path / "p.png"), mask)
    item = Item("p", tmp_path / "p.jpg", tmp_path / "p.png", "synthetic", "train", "photo")
    sides = range(20, 120)
    blended_to_ignore = [side for side in sides
                         if (cv2.resize(mask, (side, side), interpolation=cv2.INTER_LINEAR) == IGNORE).any()]
    assert blended_to_ignore  # the case exists
    for side in blended_to_ignore:
        shrunk = load_pair(item, side)[1]
        assert not (shrunk == IGNORE).any()
        assert ((shrunk > 0) & (shrunk < 255)).any()  # the edge is still soft


def test_scores_leave_unlabelled_pixels_out():
    truth = np.zeros((20, 20), np.uint8)
    truth[5:15, 5:10] = 255
    truth[5:15, 10:15] = IGNORE  # a cyclist nobody labelled
    pred = np.zeros((20, 20), bool)
    pred[5:15, 5:15] = True  # the person and the cyclist
    iou_value, bf = score_mask(pred, truth)
    assert iou_value == 1.0
    assert bf == 1.0
    pred[0:3, 0:3] = True  # a false blob in labelled background does count
    assert score_mask(pred, truth)[0] == pytest.approx(50 / 59)
    # pooled: 40 found, the blob's 9 false, the cyclist's 50 counted nowhere, 10 of the person missed
    pred[5:7, 5:10] = False
    assert pixel_counts(pred, truth).tolist() == [40, 9, 10]


def test_sources_are_drawn_in_their_shares_whatever_their_size():
    items = read_fake_items({"big": 900, "small": 100})
    weights = np.array(source_sample_weights(items, {"big": 0.5, "small": 0.5}))
    share_small = weights[[it.source == "small" for it in items]].sum() / weights.sum()
    assert share_small == pytest.approx(0.5)
    # a source the shares do not name gets the mean share, not nothing
    items += read_fake_items({"other": 10})
    weights = np.array(source_sample_weights(items, {"big": 0.5, "small": 0.5}))
    assert weights[-10:].sum() / weights.sum() == pytest.approx(0.5 / 1.5)
    assert parse_shares("camvid-street=0.5")["camvid-street"] == 0.5
    with pytest.raises(ValueError, match="source=share"):
        parse_shares("camvid-street")


def read_fake_items(counts: dict[str, int]):
    from fastvit_fx.training.data import Item

    return [Item(f"{src}-{i}", Path("x.jpg"), Path("x.png"), src, "train") for src, n in counts.items()
            for i in range(n)]


def test_a_scene_stays_at_its_own_scale():
    """A street frame whose person is a tenth of its height is not cut out and blown up."""
    img = np.full((240, 320, 3), 90, np.uint8)
    mask = np.zeros((240, 320), np.uint8)
    mask[100:124, 150:158] = 255
    mask[0:30, 0:40] = IGNORE
    for seed in range(8):
        frame, label = make_sample(np.random.default_rng(seed), img, mask, [img], [], 96, scene=True)
        assert frame.shape == (96, 96, 3) and label.shape == (96, 96)
        ys, xs = np.nonzero(label > 200)
        height = ys.max() - ys.min() + 1 if len(ys) else 0
        assert height <= 0.25 * 96, f"seed {seed}: person {height} px tall in a 96 px sample"


def test_a_turned_cutout_keeps_its_matte_on_its_pixels():
    person = np.zeros((40, 10, 3), np.uint8)
    person[:] = (0, 0, 255)
    alpha = np.full((40, 10), 255, np.uint8)
    for seed in range(6):
        p, a = turn_cutout(person, alpha, np.random.default_rng(seed))
        assert p.shape[:2] == a.shape
        assert abs(int(np.count_nonzero(a > 127)) - 400) < 60  # the same person, turned
        inside = a > 200
        assert (p[inside][:, 2] > 200).all()  # the matte sits on the person's pixels


def test_furniture_in_front_cuts_the_label_and_behind_leaves_it():
    rng = np.random.default_rng(0)
    canvas = np.full((64, 64, 3), 200, np.uint8)
    label = np.full((64, 64), 255, np.uint8)
    paste_clutter(canvas, label, [], rng, in_front=False)
    assert (label == 255).all()
    assert canvas.mean() < 200  # something dark was put there
    paste_clutter(canvas, label, [], np.random.default_rng(1), in_front=True)
    assert (label == 0).any()


def _saturated_red_share(img: np.ndarray) -> float:
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    reddish = (hsv[..., 0] < 22) | (hsv[..., 0] >= 140)
    return float(np.mean(reddish & (hsv[..., 1] >= 140) & (hsv[..., 2] >= 40)))


def test_colourful_clutter_is_saturated_red_or_pink_and_stays_background():
    grey = np.full((64, 64, 3), 200, np.uint8)
    scene = np.random.default_rng(5).integers(60, 200, (80, 80, 3), dtype=np.uint8)
    dark, coloured = grey.copy(), grey.copy()
    for canvas, share in ((dark, 0.0), (coloured, 1.0)):
        label = np.full((64, 64), 255, np.uint8)
        paste_clutter(canvas, label, [scene], np.random.default_rng(3), in_front=False, colourful_p=share)
        assert (label == 255).all()  # behind the person: the label is untouched
    assert (coloured != grey).any(axis=2).mean() > 0.05  # something was put there
    assert _saturated_red_share(dark) == 0.0
    pasted = (coloured != grey).any(axis=2)
    assert _saturated_red_share(coloured) > 0.8 * pasted.mean()


def test_colourful_clutter_off_draws_exactly_as_before():
    scene = np.random.default_rng(5).integers(60, 200, (80, 80, 3), dtype=np.uint8)
    a, b = np.full((64, 64, 3), 200, np.uint8), np.full((64, 64, 3), 200, np.uint8)
    for canvas, kw in ((a, {}), (b, {"colourful_p": 0.0})):
        paste_clutter(canvas, np.zeros((64, 64), np.uint8), [scene], np.random.default_rng(7), in_front=False, **kw)
    assert np.array_equal(a, b)


def test_turned_hues_change_colours_and_keep_greys_and_light():
    from fastvit_fx.training.augment import turn_hue

    img = np.zeros((8, 16, 3), np.uint8)
    img[:, :8] = (30, 30, 220)  # a red shirt (BGR)
    img[:, 8:] = (128, 128, 128)  # a grey wall
    turned = turn_hue(img, np.random.default_rng(0))
    assert _saturated_red_share(turned[:, :8]) == 0.0  # no longer red
    assert np.abs(turned[:, 8:].astype(int) - 128).max() <= 1  # grey stays grey
    value = lambda x: cv2.cvtColor(x, cv2.COLOR_BGR2HSV)[..., 2].astype(int)
    assert np.abs(value(turned) - value(img)).max() <= 2  # light and shade kept


def test_hue_turn_changes_frames_not_labels_and_off_leaves_samples_as_before(tmp_path):
    root = make_dataset(tmp_path / "d", n_train=3, n_val=1)
    items = read_manifest(root, "train")
    plain = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4)
    off = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4, hue_turn=0.0)
    turned = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, seed=4, hue_turn=1.0)
    changed = 0
    for i in range(len(items)):
        x0, y0 = plain[i][:2]
        assert torch.equal(x0, off[i][0]) and torch.equal(y0, off[i][1])
        x1, y1 = turned[i][:2]
        assert torch.equal(y0, y1)  # the label does not move
        changed += int(not torch.equal(x0, x1))
    assert changed == len(items)


@pytest.mark.parametrize("flag, value", [("--hue-turn", "1.5"), ("--outdoor-clutter", "-0.2"),
                                         ("--flash-at-night", "2")])
def test_train_script_names_a_share_out_of_range(tmp_path, capsys, flag, value):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train as train_script

    root = make_dataset(tmp_path / "d", n_train=1, n_val=1)
    assert train_script.main(["--data", str(root), flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value}" in err and err.count("\n") == 1


def test_flicker_counts_flips_where_the_truth_holds_still():
    truth = np.zeros((10, 10), np.uint8)
    truth[2:8, 2:8] = 255  # 36 px of person
    still = truth > 127
    assert flicker([still, still, still], [truth] * 3) == 0.0
    wobble = still.copy()
    wobble[0, 0:9] = True  # 9 background px flip on, then off again
    assert flicker([still, wobble, still], [truth] * 3) == pytest.approx(9 / 36)
    # where the truth itself changes, a change in the prediction is no flicker
    moved = np.roll(truth, 1, axis=1)
    assert flicker([still, moved > 127], [truth, moved]) == 0.0


class RecordingSegmenter:
    """Returns the truth it is given through `answers`, and logs calls and resets."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def reset(self):
        self.calls.append("reset")

    def __call__(self, frame, interval_s=None):
        self.calls.append(int(frame[0, 0, 0]))
        return self.answers[int(frame[0, 0, 0])]


def make_video_dataset(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for seq, frames in (("street-a", (3, 1, 2)), ("street-b", (5, 4))):
        for f in frames:
            name = f"{seq}-{f:04d}"
            img = np.full((20, 20, 3), 10 * f + (100 if seq == "street-b" else 0), np.uint8)
            mask = np.zeros((20, 20), np.uint8)
            mask[5:15, 5:15] = 255
            cv2.imwrite(str(root / "images" / f"{name}.png"), img)
            cv2.imwrite(str(root / "masks" / f"{name}.png"), mask)
            rows.append([f"images/{name}.png", f"masks/{name}.png", "camvid-street", "scene", "val", "test"])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["image", "mask", "source", "style", "split", "licence"], *rows])
    return root


def test_video_eval_runs_each_sequence_in_order_from_a_reset(tmp_path):
    root = make_video_dataset(tmp_path)
    items = read_manifest(root, "val")
    assert sequence_name(items[0].name) == "street-a"
    truth = np.zeros((20, 20), np.float32)
    truth[5:15, 5:15] = 1.0
    answers = {v: truth for v in (10, 20, 30, 140, 150)}
    seg = RecordingSegmenter(answers)
    result = evaluate_video(seg, items)
    assert seg.calls == ["reset", 10, 20, 30, "reset", 140, 150]
    assert result["sequences"]["street-a"]["miou"] == 1.0
    assert result["flicker"] == 0.0
    # a prediction that blinks off every other frame scores its IoU and its flicker
    answers[20] = np.zeros((20, 20), np.float32)
    result = evaluate_video(RecordingSegmenter(answers), items)
    assert result["sequences"]["street-a"]["miou"] == pytest.approx(2 / 3)
    assert result["sequences"]["street-a"]["flicker"] == pytest.approx(1.0)
    # street-a blinks over 2 pairs, street-b holds still over 1: the plain mean is 1/2, by pairs 2/3
    assert result["flicker"] == pytest.approx(0.5)
    assert result["flicker_by_pairs"] == pytest.approx(2 / 3)


def test_video_eval_holds_the_large_size_gate_open_and_gives_it_back(tmp_path):
    items = read_manifest(make_video_dataset(tmp_path), "val")
    truth = np.ones((20, 20), np.float32)
    seen = []

    class Gated(RecordingSegmenter):
        def __call__(self, frame, interval_s=None):
            seen.append(self.large_size_gate)  # what scoring runs with: no gate, whatever the machine's load
            return super().__call__(frame, interval_s)

    seg = Gated({v: truth for v in (10, 20, 30, 140, 150)})
    seg.large_size_gate = gate = object()
    evaluate_video(seg, items)
    assert seen == [None] * 5 and seg.large_size_gate is gate


def test_selection_weighs_sources_equally_and_leaves_the_tiny_one_out():
    sources = {"a": {"miou": 0.9}, "b": {"miou": 0.5}, "cdnet-pedestrians": {"miou": 0.0}}
    assert selection_score(sources) == pytest.approx(0.7)


def _train_frames_with_unlabelled_strip(root: Path, count: int | None = None) -> None:
    """The manifest's first `count` frames (all by default) become train frames whose top 4 rows
    nobody labelled."""
    rows = list(csv.reader(open(root / "manifest.csv")))
    for row in rows[1:][:count]:
        row[4] = "train"
        m = cv2.imread(str(root / row[1]), cv2.IMREAD_GRAYSCALE)
        m[0:4] = IGNORE
        cv2.imwrite(str(root / row[1]), m)
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_a_scene_source_with_unlabelled_pixels_trains_and_is_scored(tmp_path):
    root = make_video_dataset(tmp_path / "data")
    # make it a train split with some unlabelled pixels, plus the val frames
    _train_frames_with_unlabelled_strip(root, 3)
    ds = AugmentedPeople(read_manifest(root, "train"), [], 32, (0.5,) * 3, (0.25,) * 3)
    x, y, valid, teach, weight = ds[0]
    assert x.shape == (3, 32, 32) and y.shape == valid.shape == (1, 32, 32)
    assert (valid == 0).any() and (valid == 1).any()
    assert float(teach) == 0.0  # no teacher sources named: nothing is taught
    assert float(weight) == 1.0  # no loss weights named: every sample counts once
    first = read_manifest(root, "train")[0].source
    taught = AugmentedPeople(read_manifest(root, "train"), [], 32, (0.5,) * 3, (0.25,) * 3,
                             teach_sources=(first,), loss_weights={first: 3.0})
    assert float(taught[0][3]) == 1.0 and float(taught[0][4]) == 3.0
    out = tmp_path / "run"
    cfg = TrainConfig(data=str(root), out=str(out), size=32, eval_size=32, batch=2, epochs=1, lr=1e-3,
                      warmup_steps=1, workers=0, head_width=16, source_loss_weights=f"{first}=3")
    result = train(cfg, log=lambda *_: None)
    assert result["step"] >= 1
    assert "camvid-street" in result["val"]["sources"]
    row = list(csv.DictReader(open(out / "log.csv")))[-1]
    assert row["val_street"] != ""


def _street_frame():
    """A 240x320 scene: one small person, a patch nobody labelled, the rest background."""
    rng = np.random.default_rng(5)
    img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    mask = np.zeros((240, 320), np.uint8)
    mask[100:150, 200:215] = 255
    mask[180:220, 20:60] = IGNORE
    return img, mask


def test_a_zoomed_out_scene_is_smaller_than_any_whole_frame_sample_and_keeps_its_labels():
    img, mask = _street_frame()
    for seed in range(8):
        frame, label = zoomed_out_scene(np.random.default_rng(seed), img, mask, 96, [], faults_p=0.0)
        assert frame.shape == (96, 96, 3) and label.shape == (96, 96)
        person = label == 255
        ys, xs = np.nonzero(person)
        # the person is 50/240 of the frame, drawn at 0.4-0.85 of the sample's side (x 96/320)
        assert 0.4 * 50 * 96 / 320 - 1 <= ys.max() - ys.min() + 1 <= 0.85 * 50 * 96 / 320 + 1
        assert (label == IGNORE).any()  # unlabelled stays unlabelled, not half a person
        assert set(np.unique(label)) <= {0, IGNORE, 255}
        assert (label == 0).mean() > 0.4  # the surround is background


def test_a_person_free_crop_holds_no_person_and_none_where_the_person_fills_the_frame():
    img, mask = _street_frame()
    found, found_unlabelled = 0, False
    for seed in range(8):
        drawn = person_free_crop(np.random.default_rng(seed), img, mask, 64, faults_p=0.0)
        if drawn is None:
            continue
        found += 1
        frame, label = drawn
        assert frame.shape == (64, 64, 3) and set(np.unique(label)) <= {0, IGNORE}
        found_unlabelled = found_unlabelled or (label == IGNORE).any()
    assert found >= 6  # most of this street is free of people
    assert found_unlabelled  # a crop over the unlabelled patch keeps it unlabelled, not background
    full = np.full((240, 320), 255, np.uint8)
    assert person_free_crop(np.random.default_rng(0), img, full, 64) is None


def test_scene_scales_are_parsed_and_bad_ones_named():
    assert parse_scene_scales(None) == {"out": 0.0, "negative": 0.0}
    assert parse_scene_scales("out=0.25,negative=0.15") == {"out": 0.25, "negative": 0.15}
    with pytest.raises(ValueError, match="'far'"):
        parse_scene_scales("far=0.2")
    with pytest.raises(ValueError, match="at most 1"):
        parse_scene_scales("out=0.7,negative=0.6")


def _street_frames_dataset(root: Path, sources: list[str], with_portrait: bool = False) -> Path:
    """A train split of _street_frame copies, one per source named (style scene), and optionally a
    portrait made of the same picture with its unlabelled patch called background."""
    img, mask = _street_frame()
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = [["image", "mask", "source", "style", "split"]]
    pictures = [(f"s{i}", img, mask, source, "scene") for i, source in enumerate(sources)]
    if with_portrait:
        pictures.append(("p", img, np.where(mask == 255, 255, 0).astype(np.uint8), "shen2016-portraits", "portrait"))
    for name, picture, label, source, style in pictures:
        cv2.imwrite(str(root / f"images/{name}.png"), picture)
        cv2.imwrite(str(root / f"masks/{name}.png"), label)
        rows.append([f"images/{name}.png", f"masks/{name}.png", source, style, "train"])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return root


def test_scene_samples_at_other_scales_learn_from_their_labels_and_leave_other_samples_alone(tmp_path):
    root = _street_frames_dataset(tmp_path / "data", ["camvid-street"] * 6, with_portrait=True)
    items = read_manifest(root, "train")
    args = dict(teach_sources=("camvid-street",), loss_weights={"camvid-street": 0.0})
    plain = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, **args)
    scaled = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"negative": 1.0}, **args)
    for i in range(6):
        x, y, valid, teach, weight = scaled[i]
        assert not y.any() and float(teach) == 0.0 and float(weight) == 1.0  # a true negative, learned
        assert float(plain[i][3]) == 1.0 and float(plain[i][4]) == 0.0  # the source's own settings
    # a source with no scene style is never drawn another way, and draws exactly what it did
    assert torch.equal(plain[6][0], scaled[6][0])
    out = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"out": 1.0}, **args)
    y = out[0][1]
    assert (y[0] > 0.5).any() and (y[0] == 0).float().mean() > 0.4


def test_a_shrunk_frames_background_takes_its_sources_weight_and_its_people_keep_theirs(tmp_path):
    root = _street_frames_dataset(tmp_path / "data", ["camvid-street", "sbi2015-indoor"])
    items = read_manifest(root, "train")
    street = [i for i, it in enumerate(items) if it.source == "camvid-street"][0]
    weighted = dict(shrunk_background={"camvid-street": 0.3})
    out = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"out": 1.0}, **weighted)
    _, y, valid, _, _ = out[street]
    labelled = valid[0] > 0
    person, background = labelled & (y[0] > 0.5), labelled & (y[0] == 0)
    assert person.any() and background.any()
    assert torch.allclose(valid[0][person], torch.tensor(1.0))
    assert torch.allclose(valid[0][background], torch.tensor(0.3))
    # unlabelled pixels stay out, and another source's shrunk frame keeps its background at 1
    assert (valid[0] == 0).any()
    _, y2, valid2, _, _ = out[1 - street]
    assert set(valid2.unique().tolist()) <= {0.0, 1.0} and (valid2[0][y2[0] == 0] == 1).any()
    # a person-free close crop of the weighted source is a negative at full weight
    crops = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"negative": 1.0}, **weighted)
    assert set(crops[street][2].unique().tolist()) <= {0.0, 1.0}


def test_only_the_scene_sources_named_are_drawn_at_other_scales(tmp_path):
    root = _street_frames_dataset(tmp_path / "data", ["camvid-street", "sbi2015-indoor"])
    items = read_manifest(root, "train")
    street = [i for i, it in enumerate(items) if it.source == "camvid-street"][0]
    plain = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3)
    every = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"negative": 1.0})
    indoor = AugmentedPeople(items, [], 64, (0.5,) * 3, (0.25,) * 3, scene_scales={"negative": 1.0},
                             scene_scale_sources=("sbi2015-indoor",))
    assert not every[street][1].any() and not indoor[1 - street][1].any()  # person-free close crops
    assert torch.equal(indoor[street][0], plain[street][0])  # street drawn as without other scales
    assert not torch.equal(indoor[1 - street][0], plain[1 - street][0])


def test_scene_scale_sources_not_in_the_data_are_an_error_naming_them(tmp_path):
    root = make_video_dataset(tmp_path / "data")
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=32, eval_size=32, batch=2, epochs=1,
                      workers=0, head_width=16, scene_scales="out=0.25", scene_scale_sources="sbi-indoor")
    with pytest.raises(ValueError, match="sbi-indoor"):
        train(cfg, log=lambda *_: None)


def test_a_shrunk_background_weight_for_an_unknown_source_is_an_error_naming_it(tmp_path):
    root = make_video_dataset(tmp_path / "data")
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=32, eval_size=32, batch=2, epochs=1,
                      workers=0, head_width=16, shrunk_background_weights="camvid=0.3")
    with pytest.raises(ValueError, match="camvid"):
        train(cfg, log=lambda *_: None)


def test_label_framings_learn_from_their_labels_and_leave_the_frames_and_other_framings_alone(tmp_path):
    root = make_dataset(tmp_path / "d", n_train=4, n_val=1)
    items = [it for it in read_manifest(root, "train") if it.style != "scene"]
    assert items
    source = items[0].source
    args = dict(teach_sources=(source,), loss_weights={source: 0.5}, seed=5)
    for framing, by_labels in (("small", True), ("group", True), ("native", False)):
        mix = {framing: 1.0}
        plain = AugmentedPeople(items, [], 48, (0.5,) * 3, (0.25,) * 3, framings=mix, **args)
        labelled = AugmentedPeople(items, [], 48, (0.5,) * 3, (0.25,) * 3, framings=mix,
                                   label_framings=("small", "group"), **args)
        for i, it in enumerate(items):
            x0, y0, _, teach0, weight0 = plain[i]
            x1, y1, _, teach1, weight1 = labelled[i]
            assert torch.equal(x0, x1) and torch.equal(y0, y1)  # the same sample drawn
            if it.source != source:
                continue
            assert (float(teach0), float(weight0)) == (1.0, 0.5)  # the source's own settings
            assert (float(teach1), float(weight1)) == ((0.0, 1.0) if by_labels else (1.0, 0.5))


def test_a_framed_sample_names_its_framing_and_make_sample_draws_the_same_pair():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)
    mask = np.zeros((80, 60), np.uint8)
    mask[20:70, 15:45] = 255
    for seed in range(8):
        frame, label, framing = make_framed_sample(np.random.default_rng(seed), img, mask, [img], [], 48)
        assert framing in FRAMINGS
        again = make_sample(np.random.default_rng(seed), img, mask, [img], [], 48)
        assert np.array_equal(frame, again[0]) and np.array_equal(label, again[1])
    assert make_framed_sample(np.random.default_rng(0), img, mask, [img], [], 48, scene=True)[2] == "scene"


def test_label_framings_are_parsed_and_an_unknown_one_is_named(tmp_path, capsys):
    assert parse_framing_names(" small, group ") == ("small", "group")
    assert parse_framing_names(None) == ()
    with pytest.raises(ValueError, match="'tiny'"):
        parse_framing_names("small,tiny")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train as train_script

    root = make_dataset(tmp_path / "d", n_train=1, n_val=1)
    assert train_script.main(["--data", str(root), "--label-framings", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --label-framings:") and "'tiny'" in err and err.count("\n") == 1


def test_a_photo_with_unlabelled_people_is_taught_only_where_labelled(tmp_path):
    """A photo source's 128 (people its convention leaves out, such as bystanders) mutes the teacher
    there too, since the teacher learned that convention; a scene's 128 keeps it (it fills the gaps)."""
    root = make_dataset(tmp_path / "data", n_train=2, n_val=0)
    mask_path = root / "masks" / "p000.png"
    m = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    m[:, :10] = IGNORE
    cv2.imwrite(str(mask_path), m)
    items = read_manifest(root, "train")
    taught = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, teach_sources=("synthetic",),
                             framings={"native": 1.0})
    (_, _, valid0, teach0, _), (_, _, valid1, teach1, _) = taught[0], taught[1]
    assert float(teach0) == TAUGHT_WHERE_LABELLED and float(teach1) == 1.0
    assert (valid0 == 0).any()
    where = teacher_matched_where(torch.stack([valid0, valid1]), torch.stack([teach0, teach1]))
    assert torch.equal(where[0], (valid0 > 0.5).float()) and bool((where[1] == 1).all())
    assert teacher_matched_where(valid1[None], teach1[None]) is None  # nothing muted: everywhere
    untaught = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, framings={"native": 1.0})
    assert float(untaught[0][3]) == 0.0
    # a shrunk unmarked photo's edge is a blend, never IGNORE: it neither mutes the teacher nor
    # leaves the loss
    raw = cv2.imread(str(items[1].mask), cv2.IMREAD_GRAYSCALE)
    side = next(side for side in range(20, 80)
                if (fit_longest_side(raw, side, cv2.INTER_LINEAR) == IGNORE).any())
    shrunk = AugmentedPeople(items, [], 32, (0.5,) * 3, (0.25,) * 3, teach_sources=("synthetic",),
                             framings={"native": 1.0}, max_side=side)
    assert not shrunk.has_ignore[1] and float(shrunk[1][3]) == 1.0
    assert bool((shrunk[1][2] == 1).all())
    scene = make_video_dataset(tmp_path / "scene")
    _train_frames_with_unlabelled_strip(scene)
    scene_items = read_manifest(scene, "train")
    ds = AugmentedPeople(scene_items, [], 32, (0.5,) * 3, (0.25,) * 3, teach_sources=(scene_items[0].source,))
    assert float(ds[0][3]) == 1.0


def test_a_cutout_leaves_the_unlabelled_bystander_behind():
    img = np.full((120, 90, 3), 200, np.uint8)
    mask = np.zeros((120, 90), np.uint8)
    mask[20:100, 10:40] = 255  # the labelled person
    mask[30:110, 55:80] = IGNORE  # a bystander the label leaves out
    assert mask_bbox(mask) == (10, 20, 40, 100)
    canvas = np.zeros((128, 128, 3), np.uint8)
    label = np.zeros((128, 128), np.uint8)
    paste_person(canvas, label, img, mask, "desk", np.random.default_rng(0))
    assert not (label == IGNORE).any()
    x0, y0, x1, y1 = mask_bbox(label)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(30 / 80, abs=0.08)  # the person's shape, not with the bystander
