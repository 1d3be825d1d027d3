"""Training pipeline on generated data: loss falls, checkpoints load in the Segmenter, resume works,
and evaluation numbers equal hand-computed IoU."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fastvit_fx import open_segmenter
from fastvit_fx.metrics import boundary_f, iou
from fastvit_fx.training.augment import FRAMINGS, make_sample, parse_framings, paste_person, whole_photo
from fastvit_fx.training.data import read_manifest
from fastvit_fx.training.evaluate import evaluate
from fastvit_fx.training.loop import TrainConfig, lr_factor, train


def make_dataset(root: Path, n_train: int = 16, n_val: int = 4) -> Path:
    """Blobs of 'person' colour on noisy backgrounds, laid out like shared/data/person-seg."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_train + n_val):
        h, w = int(rng.integers(60, 90)), int(rng.integers(60, 90))
        img = rng.integers(0, 80, (h, w, 3)).astype(np.uint8)
        mask = np.zeros((h, w), np.uint8)
        cx, cy = int(rng.integers(w // 3, 2 * w // 3)), int(rng.integers(h // 3, 2 * h // 3))
        cv2.ellipse(mask, (cx, cy), (w // 5, h // 3), 0, 0, 360, 255, -1)
        img[mask > 0] = (60, 160, 230)
        name = f"p{i:03d}"
        cv2.imwrite(str(root / "images" / f"{name}.jpg"), img)
        cv2.imwrite(str(root / "masks" / f"{name}.png"), mask)
        split = "train" if i < n_train else "val"
        rows.append([f"images/{name}.jpg", f"masks/{name}.png", "synthetic", "portrait", split, "CC0"])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["image", "mask", "source", "style", "split", "licence"], *rows])
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("data"))
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(data=str(root), out=str(out), size=64, eval_size=64, batch=4, epochs=4,
                      lr=3e-3, warmup_steps=2, workers=0, head_width=16,
                      export=str(out / "export.safetensors"))
    torch.manual_seed(0)
    result = train(cfg, log=lambda *_: None)
    return cfg, result, root, out


def test_loss_falls_and_checkpoint_loads_in_segmenter(trained):
    cfg, result, root, out = trained
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 4
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < 0.8 * losses[0]  # 1.65 -> 1.06 here; the labels must agree for it to learn
    assert result["step"] == 16
    for name in ("best.safetensors", "last.safetensors", "export.safetensors", "last.pt", "curves.png"):
        assert (out / name).exists(), name
    from fastvit_fx.model import load_weights

    last_config, last_weights = load_weights(out / "last.safetensors")  # the last epoch, not the best
    final = torch.load(out / "last.pt", weights_only=False)["model"]
    assert last_config.training["epochs"] == 4 and all(torch.equal(last_weights[k], final[k]) for k in last_weights)
    seg = open_segmenter(out / "export.safetensors", backend="torch", device="cpu")
    mask = seg(cv2.imread(str(root / "images" / "p000.jpg")))
    assert mask.shape == cv2.imread(str(root / "masks" / "p000.png"), 0).shape
    assert seg.config.training["epochs"] >= 1  # the file says how it was trained


def test_resume_continues_from_saved_step(trained):
    cfg, result, root, out = trained
    ckpt = torch.load(out / "last.pt", weights_only=False)
    assert ckpt["step"] == 16 and ckpt["epoch"] == 4
    more = TrainConfig(**{**cfg.__dict__, "epochs": 5})
    resumed = train(more, log=lambda *_: None)
    assert resumed["step"] == 20  # one more epoch of 4 steps, not a restart from 0
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]


def test_resume_goes_on_with_the_time_already_spent(tmp_path):
    root = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=1,
                      lr=3e-3, warmup_steps=1, workers=0, head_width=16, time_budget_min=30)
    train(cfg, log=lambda *_: None)
    ckpt_path = tmp_path / "run" / "last.pt"
    ckpt = torch.load(ckpt_path, weights_only=False)
    assert ckpt["elapsed_s"] > 0
    ckpt["elapsed_s"] = 31 * 60  # as if the run had used all of its 30 minutes before a restart
    torch.save(ckpt, ckpt_path)
    messages: list[str] = []
    resumed = train(TrainConfig(**{**cfg.__dict__, "epochs": 10}), log=messages.append)
    # the budget is spent after the first step of the resumed run: it stops, at the schedule's end
    assert resumed["step"] == ckpt["step"] + 1
    assert any("31.0 min spent" in m for m in messages) and any("time budget" in m for m in messages)
    last = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))[-1]
    assert float(last["minutes"]) >= 31 and float(last["lr"]) < 0.03 * cfg.lr


def first_epoch_loss(run_dir: Path) -> float:
    return float(list(csv.DictReader(open(run_dir / "log.csv")))[0]["train_loss"])


def train_one_epoch_from(trained, out: Path, **changes) -> list[str]:
    """One epoch initialised from the trained fixture's exported weights; returns the log lines."""
    cfg, _, _, run = trained
    messages: list[str] = []
    train(TrainConfig(**{**cfg.__dict__, "out": str(out), "epochs": 1, "init": str(run / "export.safetensors"),
                         "export": None, **changes}), log=messages.append)
    return messages


def test_init_from_shipped_weights_when_no_checkpoint(trained, tmp_path):
    cfg, result, root, out = trained
    messages = train_one_epoch_from(trained, tmp_path / "new")
    assert any("initialised from" in m for m in messages)
    # it starts where the shipped model left off, not from scratch
    assert first_epoch_loss(tmp_path / "new") < first_epoch_loss(out)


def test_init_adds_a_fresh_edge_refiner_that_starts_as_bilinear_upsampling(trained, tmp_path):
    cfg, result, root, out = trained
    messages = train_one_epoch_from(trained, tmp_path / "refined", refine_width=8, lr=1e-9)
    assert any("refiner tensors start fresh" in m for m in messages)
    from fastvit_fx.model import load_model

    after = load_model(tmp_path / "refined" / "best.safetensors", fuse=False)
    assert after.refiner is not None and after.output_stride == 2
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():  # lr ~0: the zero-initialised residual leaves the head's logits, upsampled
        features = after.backbone(x)
        coarse = torch.nn.functional.interpolate(after.head(features[1:]), size=(32, 32), mode="bilinear")
        plain = torch.nn.functional.interpolate(coarse, size=(64, 64), mode="bilinear")
        assert features[0].shape[-1] == 32 and torch.allclose(after(x), plain, atol=1e-4)
    seg = open_segmenter(tmp_path / "refined" / "best.safetensors", backend="torch", device="cpu")
    prob, _ = seg.probabilities(cv2.imread(str(root / "images" / "p000.jpg")))
    assert prob.shape[0] > 64 // 4  # stride 2, not 4


def test_training_with_a_loader_worker_process_runs(tmp_path):
    # forked loader workers once deadlocked reconfiguring OpenCV's inherited thread pool
    root = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=1,
                      lr=3e-3, warmup_steps=1, workers=1, head_width=16)
    threads = cv2.getNumThreads()
    assert train(cfg, log=lambda *_: None)["step"] == 2
    assert cv2.getNumThreads() == threads  # the one-thread setting for the workers does not outlive the run


def test_ema_run_validates_and_ships_the_average_and_resumes_it(tmp_path):
    root = make_dataset(tmp_path / "data", n_train=16, n_val=2)  # 4 steps: timm's EMA copies for the first 2
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=1,
                      lr=3e-3, warmup_steps=1, workers=0, head_width=16, ema=0.5, lovasz=1.0)
    train(cfg, log=lambda *_: None)
    ckpt = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    from fastvit_fx.model import load_weights

    _, shipped = load_weights(tmp_path / "run" / "best.safetensors")
    key = "head.classifier.weight" if "head.classifier.weight" in shipped else next(iter(shipped))
    assert torch.equal(shipped[key], ckpt["ema"][key])  # the average ships...
    assert not torch.equal(ckpt["ema"][key], ckpt["model"][key])  # ...and it is not the raw weights
    resumed = train(TrainConfig(**{**cfg.__dict__, "epochs": 2}), log=lambda *_: None)
    assert resumed["step"] == 8
    assert "ema" in torch.load(tmp_path / "run" / "last.pt", weights_only=False)


def test_lr_schedule_warms_up_then_decays_by_steps_or_time():
    assert lr_factor(0, 100, 10, 0, None) == pytest.approx(0.1)
    assert lr_factor(10, 100, 10, 0, None) == pytest.approx(1.0)
    assert lr_factor(99, 100, 10, 0, None) < 0.05
    # with a time budget, running out of time anneals the rate even early in the step count
    assert lr_factor(20, 1000, 10, elapsed_s=590, budget_s=600) < 0.05


class _FixedSegmenter:
    """Returns pre-made masks, so evaluation can be checked against hand-computed numbers."""

    def __init__(self, masks):
        self.masks = masks
        self.i = 0

    def reset(self):
        pass

    def __call__(self, frame, interval_s=None):
        m = self.masks[self.i]
        self.i += 1
        return m


def test_evaluate_equals_hand_computed_iou(tmp_path):
    root = make_dataset(tmp_path / "d", n_train=0, n_val=2)
    items = read_manifest(root, "val")
    truths = [cv2.imread(str(it.mask), 0) > 127 for it in items]
    preds = []
    for t in truths:
        p = np.zeros_like(t, np.float32)
        ys, xs = np.nonzero(t)
        p[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = 1.0  # the bounding box: IoU < 1
        preds.append(p)
    result = evaluate(_FixedSegmenter(preds), items)
    expected = [(t & (p > 0.5)).sum() / (t | (p > 0.5)).sum() for t, p in zip(truths, preds)]
    assert result["sources"]["synthetic"]["miou"] == pytest.approx(np.mean(expected))
    assert 0.5 < result["miou"] < 1.0
    # per image, in manifest order, for finding the images that pull the mean down
    assert [r["name"] for r in result["per_image"]] == [it.name for it in items]
    assert [r["iou"] for r in result["per_image"]] == pytest.approx(expected)


def test_pasted_person_is_the_asked_height_and_the_label_covers_exactly_their_pixels():
    from fastvit_fx.training.evaluate import paste_small_in_wide_frame

    img = np.zeros((200, 100, 3), np.uint8)
    mask = np.zeros((200, 100), np.uint8)
    mask[20:180, 30:70] = 255  # a 160 px tall person
    img[mask > 0] = (10, 200, 30)
    bg = np.full((50, 80, 3), 120, np.uint8)
    frame, label = paste_small_in_wide_frame(img, mask, bg, 0.25, np.random.default_rng(3))
    assert frame.shape == (720, 1280, 3) and label.shape == (720, 1280)
    ys, xs = np.nonzero(label)
    assert ys.max() - ys.min() + 1 == 180  # a quarter of 720
    assert (frame[label > 0] == (10, 200, 30)).all()  # the person's pixels, where the label says
    assert (frame[label == 0] == 120).all()  # and only the scene elsewhere: the photo's border stays out


def test_a_pasted_person_leaves_the_unlabelled_region_beside_them_behind():
    from fastvit_fx.training.evaluate import paste_small_in_wide_frame

    img = np.zeros((200, 100, 3), np.uint8)
    mask = np.zeros((200, 100), np.uint8)
    mask[20:180, 10:40] = 255  # the person
    mask[20:180, 60:90] = 128  # a cyclist beside them, not labelled
    img[mask == 255] = (10, 200, 30)
    img[mask == 128] = (200, 10, 30)
    bg = np.zeros((50, 80, 3), np.uint8)
    bg[..., 2] = 120  # no blue in the scene: blue here can only come from the cyclist
    frame, label = paste_small_in_wide_frame(img, mask, bg, 0.25, np.random.default_rng(3))
    assert set(np.unique(label)) == {0, 255}
    assert (frame[label > 0][:, 1] > 100).mean() > 0.9  # the person, where the label says
    assert frame[..., 0].max() <= 10  # the unlabelled one is not pasted as a person, nor anywhere


def test_a_pasted_group_stands_on_the_ground_each_person_small_and_all_of_them_labelled():
    from fastvit_fx.training.evaluate import paste_group_in_wide_frame

    people = []
    for colour in ((10, 200, 30), (200, 10, 30), (30, 10, 200)):
        img = np.zeros((200, 100, 3), np.uint8)
        mask = np.zeros((200, 100), np.uint8)
        mask[20:180, 30:70] = 255
        img[mask > 0] = colour
        people.append((img, mask))
    bg = np.full((50, 80, 3), 120, np.uint8)
    frame, label = paste_group_in_wide_frame(people, bg, np.random.default_rng(5), heights=(0.05, 0.15))
    assert (frame[label == 0] == 120).all() and (frame[label > 0] != 120).any(axis=-1).all()
    for colour in ((10, 200, 30), (200, 10, 30), (30, 10, 200)):
        ys, _ = np.nonzero((frame == colour).all(axis=-1))
        assert ys.size > 0  # everyone is in the frame (a later one may hide part of an earlier one)
        assert ys.max() - ys.min() + 1 <= 0.15 * 720 + 1 and ys.max() >= 0.45 * 720  # small, feet on the ground
    again, _ = paste_group_in_wide_frame(people, bg, np.random.default_rng(5))
    assert (again == frame).all()  # seeded: every candidate is shown the same group


def test_pasted_groups_score_the_frames_of_each_photo_with_its_group(tmp_path):
    from fastvit_fx.training.evaluate import evaluate_pasted_groups

    root = make_dataset(tmp_path, n_train=1, n_val=4)
    items = read_manifest(root, "val")

    class Everything:  # calls every pixel a person
        def reset(self):
            pass

        def __call__(self, frame):
            return np.ones(frame.shape[:2], np.float32)

    class Nothing(Everything):  # calls no pixel a person
        def __call__(self, frame):
            return np.zeros(frame.shape[:2], np.float32)

    result = evaluate_pasted_groups(Everything(), items, None, people=3)
    assert result["n"] == 4 and [r["name"] for r in result["per_image"]] == [it.name for it in items]
    # three people 5-15% of the frame tall cover a small part of it: "everything" scores low but not 0
    assert 0.0 < result["miou"] < 0.05
    # pooled over the frames, "everything" finds every person pixel and paints the rest of each scene;
    # "nothing" misses exactly the pixels "everything" found
    everything, nothing = result["pixels"], evaluate_pasted_groups(Nothing(), items, None, people=3)["pixels"]
    assert everything["missed"] == 0 and 0 < everything["true"] < everything["false"]
    assert everything["true"] + everything["false"] <= 4 * 1280 * 720
    assert nothing == {"true": 0, "false": 0, "missed": everything["true"]}
    with pytest.raises(ValueError, match="group of 5"):
        evaluate_pasted_groups(Everything(), items, None, people=5)


def test_a_turned_photo_keeps_its_truth_on_the_same_pixels():
    from fastvit_fx.training.evaluate import rotate_pair

    img = np.zeros((60, 40, 3), np.uint8)
    mask = np.zeros((60, 40), np.uint8)
    mask[5:50, 10:20] = 255  # standing, on the left
    img[mask > 0] = (10, 200, 30)
    lying, lying_mask = rotate_pair(img, mask, 90)
    assert lying.shape[:2] == lying_mask.shape == (40, 60)
    ys, xs = np.nonzero(lying_mask)
    assert xs.max() - xs.min() + 1 == 45 and ys.max() - ys.min() + 1 == 10  # now lying down
    assert (lying[lying_mask > 0] == (10, 200, 30)).all() and (lying[lying_mask == 0] == 0).all()
    upside, upside_mask = rotate_pair(img, mask, 180)
    assert (upside_mask[::-1, ::-1] == mask).all()
    assert rotate_pair(img, mask, 0)[1] is mask
    with pytest.raises(ValueError, match="multiple of 90"):
        rotate_pair(img, mask, 45)


def test_iou_and_boundary_f_by_hand():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[0:4, 0:5] = True  # 20 px
    b[2:6, 0:5] = True  # 20 px, 10 shared
    assert iou(a, b) == pytest.approx(10 / 30)
    assert iou(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0
    assert boundary_f(a, a) == 1.0
    assert boundary_f(a, np.zeros_like(a)) == 0.0


def test_augmented_samples_are_square_and_labelled():
    rng = np.random.default_rng(0)
    img = np.full((120, 80, 3), 50, np.uint8)
    mask = np.zeros((120, 80), np.uint8)
    mask[20:120, 20:60] = 255
    bg = np.full((100, 160, 3), 200, np.uint8)
    fractions = []
    for seed in range(40):
        frame, label = make_sample(np.random.default_rng(seed), img, mask, [bg], [(img, mask)], 96)
        assert frame.shape == (96, 96, 3) and label.shape == (96, 96)
        assert frame.dtype == np.uint8 and label.dtype == np.uint8
        fractions.append((label > 127).mean())
    # framings vary: some samples have the person small, some large
    assert min(fractions) < 0.1 and max(fractions) > 0.3
    del rng


def test_framing_mix_and_fault_share_steer_the_samples():
    img = np.full((150, 100, 3), 60, np.uint8)
    mask = np.zeros((150, 100), np.uint8)
    mask[5:150, 30:70] = 255
    bg = np.full((100, 160, 3), 200, np.uint8)
    pad = (104, 116, 124)
    whole_only = parse_framings("whole=1")
    assert whole_only == {"native": 0.0, "whole": 1.0, "close": 0.0, "desk": 0.0, "small": 0.0, "pose": 0.0, "group": 0.0}
    for seed in range(6):
        # whole photos only, no camera faults: every sample is exactly whole_photo's clean output
        frame, label = make_sample(np.random.default_rng(seed), img, mask, [bg], [], 96, pad,
                                   framings=whole_only, faults_p=0.0)
        assert set(np.unique(frame[label == 0])) <= {60, 104, 116, 124}  # no noise, jitter or JPEG
        assert (frame[:, 70:] == pad).all()  # letterboxed: the tall photo standing, padded right
    # the default mix puts some samples through the camera: the same flat photo gets other values
    noisy = [make_sample(np.random.default_rng(seed), img, mask, [bg], [], 96, pad)[0] for seed in range(6)]
    assert any(len(np.unique(f)) > 10 for f in noisy)
    assert parse_framings(None) == FRAMINGS
    for bad in ("whole=1,crowd=1", "whole=x", "whole=0", "whole=-1,native=2"):
        with pytest.raises(ValueError):
            parse_framings(bad)


def test_train_script_names_a_bad_framing_or_scene_scale(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train as train_script

    root = make_dataset(tmp_path / "d", n_train=1, n_val=1)
    assert train_script.main(["--data", str(root), "--framings", "whole=1,crowd=1"]) == 2
    assert "crowd" in capsys.readouterr().err
    assert train_script.main(["--data", str(root), "--scene-scales", "far=0.2"]) == 2
    err = capsys.readouterr().err
    assert "--scene-scales" in err and "far" in err and err.count("\n") == 1


def test_defocused_background_blurs_the_scene_and_leaves_the_person_sharp():
    from fastvit_fx.training.augment import defocus_background

    yy, xx = np.mgrid[:120, :160]
    frame = np.repeat((((yy // 4 + xx // 4) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)  # sharp checks
    label = np.zeros((120, 160), np.uint8)
    label[30:110, 60:100] = 255
    out = defocus_background(frame, label, np.random.default_rng(0))
    assert np.array_equal(out[label == 255], frame[label == 255])  # the person is untouched
    sharpness = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[:, :50].var()
    assert sharpness(out) < 0.2 * sharpness(frame)  # the scene lost most of its detail


def test_whole_photo_keeps_a_tall_frame_standing_and_pads_the_right_like_the_segmenter():
    img = np.full((150, 100, 3), 60, np.uint8)
    mask = np.zeros((150, 100), np.uint8)
    mask[5:150, 30:70] = 255  # a standing person filling the photo's height
    pad = (104, 116, 124)
    for seed in range(10):
        frame, label = whole_photo(np.random.default_rng(seed), img, mask, 96, pad)
        assert frame.shape == (96, 96, 3) and label.shape == (96, 96)
        rows = np.nonzero((label > 127).any(axis=1))[0]
        assert rows.max() - rows.min() > 80  # not cropped down to a part of the person
        width = int(round(96 * 100 / 150 / 0.8)) + 1  # widest the (cropped, scaled) photo can get
        assert (frame[:, width:] == pad).all() and not label[:, width:].any()


def test_close_framing_of_a_standing_person_shows_the_upper_body_cut_by_the_frame():
    img = np.full((200, 60, 3), 80, np.uint8)
    mask = np.zeros((200, 60), np.uint8)
    mask[10:190, 15:45] = 255  # head at the top, feet well above the photo's bottom: full body
    for seed in range(10):
        canvas = np.zeros((90, 160, 3), np.uint8)
        label = np.zeros((90, 160), np.uint8)
        paste_person(canvas, label, img, mask, "close", np.random.default_rng(seed))
        rows = np.nonzero((label > 127).any(axis=1))[0]
        assert rows.min() <= 0.2 * 90  # the head is near the top...
        assert rows.max() == 89  # ...and the frame cuts the body at the bottom


def test_train_script_rejects_a_folder_without_manifest_and_bad_depths(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import train as train_script

    assert train_script.main(["--data", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
    root = make_dataset(tmp_path / "data", n_train=2, n_val=1)
    assert train_script.main(["--data", str(root), "--depths", "2,2,x"]) == 2
    assert "--depths" in capsys.readouterr().err
    assert train_script.main(["--data", str(root), "--depths", "2,2,6"]) == 2
    assert "four block counts" in capsys.readouterr().err


def test_validates_every_n_epochs_and_after_the_last(tmp_path):
    root = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=3,
                      lr=3e-3, warmup_steps=1, workers=0, head_width=16, val_every=2, keep_validated=1)
    train(cfg, log=lambda *_: None)
    rows = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))
    assert [bool(r["val_miou"]) for r in rows] == [False, True, True]
    assert (tmp_path / "run" / "best.safetensors").exists() and (tmp_path / "run" / "curves.png").exists()
    # the weights of each validated epoch are kept, and only those
    kept = sorted(p.name for p in (tmp_path / "run").glob("epoch*.safetensors"))
    assert kept == ["epoch02.safetensors", "epoch03.safetensors"]
    seg = open_segmenter(tmp_path / "run" / "epoch02.safetensors", backend="torch", device="cpu")
    assert seg.config.training["epochs"] == 2


def test_timed_snapshots_bring_back_points_along_a_run_without_val(tmp_path):
    from safetensors import safe_open

    root = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    base = dict(data=str(root), size=64, eval_size=64, batch=4, epochs=3, lr=3e-3, warmup_steps=1, workers=0,
                head_width=16, val_limit=0)
    # a period shorter than any epoch: every epoch ends past the next snapshot time
    train(TrainConfig(**base, out=str(tmp_path / "run"), snapshot_minutes=1e-9,
                      snapshot_dir=str(tmp_path / "back")), log=lambda *_: None)
    steps = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "run" / "log.csv"))]
    kept = sorted(p.name for p in (tmp_path / "back").glob("*.safetensors"))
    assert kept == [f"step{s:06d}.safetensors" for s in steps] and len(kept) == 3
    with safe_open(str(tmp_path / "back" / kept[1]), "pt") as f:  # fp16, as shipped files are
        assert {f.get_tensor(k).dtype for k in f.keys()} - {torch.int64} == {torch.float16}  # counters stay ints
    seg = open_segmenter(tmp_path / "back" / kept[1], backend="torch", device="cpu")
    assert seg.config.training["steps"] == steps[1] and seg.config.training["epochs"] == 2
    # a period longer than the run keeps none; no period keeps none either
    train(TrainConfig(**base, out=str(tmp_path / "long"), snapshot_minutes=600), log=lambda *_: None)
    train(TrainConfig(**base, out=str(tmp_path / "off")), log=lambda *_: None)
    assert not list((tmp_path / "long").glob("step*")) and not list((tmp_path / "off").glob("step*"))


def test_init_grows_narrow_weights_into_a_coarse_wide_head(trained, tmp_path):
    cfg, result, root, out = trained
    messages = train_one_epoch_from(trained, tmp_path / "wide", coarse_width=32)
    assert any("widened to coarse width 32" in m for m in messages)
    # it starts from the trained narrow head, not from scratch
    assert first_epoch_loss(tmp_path / "wide") < first_epoch_loss(out)
    seg = open_segmenter(tmp_path / "wide" / "best.safetensors", backend="torch", device="cpu")
    assert seg.config.coarse_width == 32
    with pytest.raises(ValueError, match="does not grow"):  # a narrower coarse head cannot take them
        train(TrainConfig(**{**cfg.__dict__, "out": str(tmp_path / "bad"), "epochs": 1, "export": None,
                             "init": str(tmp_path / "wide" / "best.safetensors")}), log=lambda *_: None)


def test_init_deepens_the_backbone_from_shallower_weights(trained, tmp_path):
    cfg, result, root, out = trained
    messages = train_one_epoch_from(trained, tmp_path / "deep", depths="2,2,6,2")
    assert any("tensors of new blocks, depths (2, 2, 6, 2)" in m for m in messages)
    # it starts from the trained network (the new blocks start near the identity), not from scratch
    assert first_epoch_loss(tmp_path / "deep") < first_epoch_loss(out)
    seg = open_segmenter(tmp_path / "deep" / "best.safetensors", backend="torch", device="cpu")
    assert seg.config.depths == (2, 2, 6, 2)
    for depths in ("2,2,3,2", None):  # fewer blocks cannot take them, nor the arch's own depths
        with pytest.raises(ValueError, match=r"blocks per stage.*--depths 2,2,6,2 keeps the file's"):
            train(TrainConfig(**{**cfg.__dict__, "out": str(tmp_path / "bad"), "epochs": 1, "export": None,
                                 "depths": depths, "init": str(tmp_path / "deep" / "best.safetensors")}),
                  log=lambda *_: None)


def test_a_teacher_adds_its_term_on_the_taught_sources_and_bad_teachers_are_named(trained, tmp_path):
    from fastvit_fx.model import ModelConfig, build_model, save_weights

    cfg, _, _, run = trained
    # the student's own weights as teacher: the term starts at zero and the log names the teacher
    messages = train_one_epoch_from(trained, tmp_path / "self", teacher=str(run / "export.safetensors"),
                                    teach_sources="synthetic")
    assert any("teacher" in m and "synthetic" in m for m in messages)
    # a teacher that disagrees (untrained), weighted heavily: the logged loss carries its term
    torch.manual_seed(1)
    stranger = save_weights(build_model(ModelConfig(head_width=16, input_size=64)), tmp_path / "stranger.safetensors")
    train_one_epoch_from(trained, tmp_path / "taught", teacher=str(stranger), teach_sources="synthetic", distill=20.0)
    assert first_epoch_loss(tmp_path / "taught") > first_epoch_loss(tmp_path / "self") + 1.0
    with pytest.raises(ValueError, match="nowhere.safetensors"):
        train_one_epoch_from(trained, tmp_path / "bad", teacher=str(tmp_path / "nowhere.safetensors"),
                             teach_sources="synthetic")
    with pytest.raises(ValueError, match="unknown source 'portraits'"):
        train_one_epoch_from(trained, tmp_path / "bad2", teacher=str(stranger), teach_sources="portraits")
    with pytest.raises(ValueError, match="none of the train sources"):  # the default sources are not here
        train_one_epoch_from(trained, tmp_path / "bad3", teacher=str(stranger))


def test_the_teacher_input_is_enlarged_to_its_size_on_the_network_stride():
    from fastvit_fx.training.loop import teacher_input

    x = torch.rand(2, 3, 64, 64)
    assert teacher_input(x, 0) is x and teacher_input(x, 64) is x  # the student's own size
    big = teacher_input(x, 80)  # 1.25x, each side rounded up to the stride: 80 -> 96
    assert big.shape == (2, 3, 96, 96)
    assert teacher_input(torch.rand(1, 3, 64, 96), 192).shape == (1, 3, 128, 192)
    flat = torch.full((1, 3, 64, 64), 0.25)  # resizing keeps what the picture shows
    assert torch.allclose(teacher_input(flat, 128), torch.full((1, 3, 128, 128), 0.25))


def test_a_teacher_at_a_larger_input_teaches_and_a_bad_size_is_named(trained, tmp_path, monkeypatch):
    import fastvit_fx.training.loop as loop

    _, _, _, run = trained
    seen = []  # the teacher's input shapes, as the loop hands them over
    resize = loop.teacher_input

    def recording(x, side):
        out = resize(x, side)
        seen.append(tuple(out.shape[-2:]))
        return out

    monkeypatch.setattr(loop, "teacher_input", recording)
    messages = train_one_epoch_from(trained, tmp_path / "large", teacher=str(run / "export.safetensors"),
                                    teach_sources="synthetic", teacher_size=128, turn=0.5)
    assert any("at 128 px" in m for m in messages)
    assert seen and set(seen) == {(128, 128)}  # the student trains at 64 px
    loss = first_epoch_loss(tmp_path / "large")
    assert np.isfinite(loss) and loss > 0
    with pytest.raises(ValueError, match="--teacher-size 16"):
        train_one_epoch_from(trained, tmp_path / "bad", teacher=str(run / "export.safetensors"),
                             teach_sources="synthetic", teacher_size=16)


def test_turned_samples_train_with_a_teacher_whose_answer_turns_with_them(trained, tmp_path):
    cfg, _, _, run = trained
    messages = train_one_epoch_from(trained, tmp_path / "turned", teacher=str(run / "export.safetensors"),
                                    teach_sources="synthetic", turn=1.0)
    assert any("100% of samples turned" in m for m in messages)
    loss = first_epoch_loss(tmp_path / "turned")
    assert np.isfinite(loss) and loss > 0


def test_frozen_batch_norm_keeps_the_starting_statistics_while_the_weights_learn(trained, tmp_path):
    from fastvit_fx.model import load_weights

    _, _, _, run = trained
    _, start = load_weights(run / "export.safetensors")
    ends = {}
    for frozen in (0, 1):
        messages = train_one_epoch_from(trained, tmp_path / f"bn{frozen}", frozen_bn=frozen, lr=3e-2)
        assert any("keep their running statistics" in m for m in messages) == bool(frozen)
        _, ends[frozen] = load_weights(tmp_path / f"bn{frozen}" / "last.safetensors")

    def largest_change(tensors, part):
        return max(float((tensors[k].float() - start[k].float()).abs().max()) for k in start if part in k)

    assert largest_change(ends[1], "running_mean") == 0.0
    assert largest_change(ends[0], "running_mean") > 1e-3  # what the frozen run is kept from
    assert largest_change(ends[1], "conv.weight") > 1e-3  # it still learns


@pytest.mark.parametrize("flag, frozen, learns, message", [
    ("freeze_backbone", "backbone.", "head.", "the backbone is frozen"),
    ("freeze_head", "head.", "backbone.", "the head is frozen"),
])
def test_a_frozen_half_keeps_its_weights_while_the_other_learns(trained, tmp_path, flag, frozen, learns, message):
    from fastvit_fx.model import load_weights

    _, _, _, run = trained
    _, start = load_weights(run / "export.safetensors")
    messages = train_one_epoch_from(trained, tmp_path / "run", **{flag: 1}, lr=3e-2)
    assert any(message in m for m in messages)
    _, end = load_weights(tmp_path / "run" / "last.safetensors")

    def largest_change(part):
        return max(float((end[k].float() - start[k].float()).abs().max()) for k in start if k.startswith(part))

    assert largest_change(frozen) == 0.0  # weights and running statistics alike
    assert largest_change(learns) > 1e-3


def test_freezing_both_halves_is_refused(trained, tmp_path):
    with pytest.raises(ValueError, match="nothing to train"):
        train_one_epoch_from(trained, tmp_path / "none", freeze_head=1, freeze_backbone=1)


def test_echo_trains_that_many_steps_for_each_rendered_batch(trained, tmp_path):
    steps = {}
    for echo in (1, 3):
        messages = train_one_epoch_from(trained, tmp_path / f"echo{echo}", echo=echo, turn=0.5)
        assert any("trains 3 steps" in m for m in messages) == (echo == 3)
        with open(tmp_path / f"echo{echo}" / "log.csv") as f:
            rows = list(csv.DictReader(f))
        steps[echo] = int(rows[-1]["step"])
        assert np.isfinite(float(rows[-1]["train_loss"]))
    assert steps[3] == 3 * steps[1]
    with pytest.raises(ValueError, match="echo must be 1"):
        train_one_epoch_from(trained, tmp_path / "echo0", echo=0)


def test_without_a_val_set_the_last_epoch_ships(tmp_path):
    # a lent GPU trains without val (it runs later, on the full-size photos): the latest weights
    # ship, not the epoch with the lowest (noisy, augmented) train loss
    root = make_dataset(tmp_path / "data", n_train=8, n_val=2)
    cfg = TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=3,
                      lr=3e-3, warmup_steps=1, workers=0, head_width=16, val_limit=0)
    result = train(cfg, log=lambda *_: None)
    from fastvit_fx.model import load_weights

    config, shipped = load_weights(tmp_path / "run" / "best.safetensors")
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["model"]
    assert result["val"] == {} and config.training["epochs"] == 3
    assert config.training["val_miou"] is None  # no val ran, so no val score in the file's metadata
    assert all(torch.equal(shipped[k], last[k]) for k in shipped)


@pytest.mark.parametrize("avx512_bf16, amx, expected", [
    (True, False, torch.bfloat16), (False, True, torch.bfloat16), (False, False, None)])
def test_cpu_trains_in_bf16_only_where_the_cpu_has_it(monkeypatch, avx512_bf16, amx, expected):
    # emulated bf16 made a CPU step 5.5x slower than fp32 on an AVX2-only machine
    from fastvit_fx.training.loop import autocast_dtype

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    assert autocast_dtype("cpu") is expected
    assert autocast_dtype("cuda") is torch.float16


def test_the_run_says_which_precision_it_trains_in(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    root = make_dataset(tmp_path / "data", n_train=4, n_val=1)
    messages = []
    train(TrainConfig(data=str(root), out=str(tmp_path / "run"), size=64, eval_size=64, batch=4, epochs=1,
                      lr=1e-3, warmup_steps=1, workers=0, head_width=16, val_limit=0), log=messages.append)
    assert any("on cpu (fp32)" in m for m in messages)


def test_a_paired_difference_sees_a_shift_that_the_per_image_spread_would_hide():
    from fastvit_fx.training.evaluate import paired_difference

    rng = np.random.default_rng(1)
    base = rng.uniform(0.5, 1.0, 200)  # images differ a lot from each other ...
    shifted = paired_difference(base, base + 0.01 + rng.normal(0, 0.002, 200))
    assert shifted["low"] > 0.0 and shifted["low"] <= shifted["mean"] <= shifted["high"]  # ... the pairs do not
    assert shifted["mean"] == pytest.approx(0.01, abs=0.001)
    noise = paired_difference(base, base + rng.normal(0, 0.05, 200))
    assert noise["low"] < 0.0 < noise["high"]  # a change that is only noise is not told apart from none
    few = paired_difference(base[:20], base[:20] + rng.normal(0, 0.05, 20))
    assert few["high"] - few["low"] > noise["high"] - noise["low"]  # fewer images, a wider interval
