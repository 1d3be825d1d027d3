"""scripts/pack_data.py: a compact copy of the training data that trains the same way."""
from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import cv2
import numpy as np

from fastvit_fx.training.data import AugmentedPeople, load_backgrounds, load_pair, read_manifest
from test_training import make_dataset

_spec = importlib.util.spec_from_file_location(
    "pack_data", Path(__file__).resolve().parents[1] / "scripts" / "pack_data.py")
pack_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pack_data)


def test_packed_copy_keeps_every_pair_split_and_label_at_the_training_size(tmp_path):
    src = tmp_path / "data"
    make_dataset(src / "person-seg", n_train=6, n_val=2)
    (src / "backgrounds").mkdir()
    scene = np.random.default_rng(1).integers(0, 255, (300, 600, 3)).astype(np.uint8)
    cv2.imwrite(str(src / "backgrounds" / "street.jpg"), scene)

    assert pack_data.main(["--src", str(src), "--out", str(tmp_path / "pack"), "--max-side", "50",
                           "--background-side", "120"]) == 0

    before = read_manifest(src / "person-seg")
    after = read_manifest(tmp_path / "pack" / "person-seg")
    assert [(i.name, i.source, i.split) for i in after] == [(i.name, i.source, i.split) for i in before]
    for old, new in zip(before, after):
        img, mask = load_pair(new)
        ref_img, ref_mask = load_pair(old, max_side=50)  # what training would have read from the original
        assert img.shape == ref_img.shape and max(img.shape[:2]) <= 50
        assert np.abs(mask.astype(int) - ref_mask).max() == 0  # labels are lossless
        assert np.abs(img.astype(int) - ref_img).mean() < 12  # photos only lose a little to WebP
    scenes = load_backgrounds(tmp_path / "pack" / "backgrounds")
    assert len(scenes) == 1 and scenes[0].shape == (60, 120, 3)
    ds = AugmentedPeople(after, scenes, 64, (0.5,) * 3, (0.25,) * 3)
    x, y, _valid, _teach, _weight = ds[0]
    assert x.shape == (3, 64, 64) and 0 < float(y.mean()) < 1


def test_the_archive_that_travels_unpacks_to_the_same_pack(tmp_path):
    src = tmp_path / "data"
    make_dataset(src / "person-seg", n_train=3, n_val=1)
    assert pack_data.main(["--src", str(src), "--out", str(tmp_path / "pack"), "--max-side", "50"]) == 0
    packed = sorted(p.relative_to(tmp_path) for p in (tmp_path / "pack").rglob("*") if p.is_file())
    landed = tmp_path / "device"
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:  # as gpu_train.sh unpacks it on the device
        z.extractall(landed)
    unpacked = sorted(p.relative_to(landed) for p in landed.rglob("*") if p.is_file())
    assert unpacked == packed and len(packed) == 9  # 4 images, 4 masks, the manifest
    for rel in packed:
        assert (landed / rel).read_bytes() == (tmp_path / rel).read_bytes()


def test_missing_manifest_is_a_one_line_error(tmp_path, capsys):
    assert pack_data.main(["--src", str(tmp_path), "--out", str(tmp_path / "pack")]) == 2
    assert str(tmp_path / "person-seg") in capsys.readouterr().err


def test_a_train_only_pack_leaves_val_out(tmp_path, capsys):
    src = tmp_path / "data"
    make_dataset(src / "person-seg", n_train=4, n_val=2)
    assert pack_data.main(["--src", str(src), "--out", str(tmp_path / "pack"), "--max-side", "50",
                           "--split", "train"]) == 0
    packed = read_manifest(tmp_path / "pack" / "person-seg")
    assert [i.name for i in packed] == [i.name for i in read_manifest(src / "person-seg", "train")]
    assert len(list((tmp_path / "pack" / "person-seg" / "images").iterdir())) == 4

    assert pack_data.main(["--src", str(src), "--out", str(tmp_path / "none"), "--split", "test"]) == 2
    assert "'test'" in capsys.readouterr().err


def test_a_pack_too_large_to_travel_with_the_tree_is_named_with_both_sizes(tmp_path):
    assert pack_data.travel_error(30 * 2**20, 20 * 2**20, tmp_path / "pack") is None
    problem = pack_data.travel_error(45 * 2**20, 31 * 2**20, tmp_path / "pack")
    assert problem is not None and str(tmp_path / "pack") in problem
    assert "45.0 MiB" in problem and "31.0 MiB" in problem and "76.0 MiB" in problem and "\n" not in problem


def test_tree_bytes_counts_what_travels_and_not_what_git_ignores(tmp_path):
    import subprocess

    assert pack_data.tree_bytes(tmp_path) is None  # not a checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("/pack/\n")  # 7 bytes
    (tmp_path / "kept.bin").write_bytes(b"x" * 1000)
    (tmp_path / "new.bin").write_bytes(b"y" * 500)  # untracked, not ignored: it travels too
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "big.bin").write_bytes(b"z" * 9000)  # carried separately, counted by folder_bytes
    subprocess.run(["git", "-C", str(tmp_path), "add", "kept.bin"], check=True)
    assert pack_data.tree_bytes(tmp_path) == 1000 + 500 + 7
