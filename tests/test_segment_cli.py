"""`fastvit-fx segment` on generated images, including a bad file among good ones."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fastvit_fx.cli import main


def test_segment_writes_one_mask_per_image_and_reports_bad_files(tmp_path, weights_file, person_frame, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    sizes = {"wide": (359, 641), "tall": (641, 359), "small": (48, 64)}
    for name, (h, w) in sizes.items():
        frame, _ = person_frame(h, w)
        cv2.imwrite(str(inputs / f"{name}.jpg"), frame)
    (inputs / "broken.png").write_bytes(b"not an image at all")
    out = tmp_path / "masks"
    code = main(["segment", str(inputs), str(tmp_path / "missing.jpg"), "--out", str(out),
                 "--weights", str(weights_file), "--backend", "torch"])
    err = capsys.readouterr().err
    assert code == 1  # some inputs failed
    assert "broken.png" in err and "missing.jpg" in err
    for name, (h, w) in sizes.items():
        mask = cv2.imread(str(out / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        assert mask is not None and mask.dtype == np.uint8 and mask.shape == (h, w)
    assert not (out / "broken.png").exists()


def test_segment_glob_all_good_exits_zero(tmp_path, weights_file, person_frame):
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), person_frame(60, 80)[0])
    code = main(["segment", str(tmp_path / "img*.png"), "--out", str(tmp_path / "o"),
                 "--weights", str(weights_file)])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["img0.png", "img1.png"]


def test_segment_with_corrupt_weights_is_one_line(tmp_path, capsys, person_frame):
    cv2.imwrite(str(tmp_path / "a.png"), person_frame(40, 40)[0])
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken json")
    code = main(["segment", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"), "--weights", str(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and str(bad) in err and err.startswith("fastvit-fx: error:")


def test_segment_nothing_found(tmp_path, capsys, weights_file):
    code = main(["segment", str(tmp_path / "*.jpg"), "--out", str(tmp_path / "o"), "--weights", str(weights_file)])
    assert code == 2
    assert "no input images" in capsys.readouterr().err


def test_library_warnings_show_only_with_verbose(tmp_path, weights_file, person_frame, capsys, monkeypatch):
    """Building the int8 export makes ONNX Runtime's quantiser warn ('Please consider to run
    pre-processing before quantization'): nothing a user can act on, so it shows with -v only."""
    import logging

    pytest.importorskip("onnxruntime")
    cv2.imwrite(str(tmp_path / "a.png"), person_frame(40, 60)[0])
    logger = logging.getLogger("fastvit_fx")
    level, handlers = logger.level, logger.handlers[:]
    try:
        for verbose in (False, True):
            monkeypatch.setenv("FASTVIT_FX_CACHE", str(tmp_path / f"cache-{verbose}"))  # a fresh build each time
            argv = ["segment", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"), "--weights", str(weights_file),
                    "--backend", "onnx-int8", "--size", "64"] + (["-v"] if verbose else [])
            assert main(argv) == 0
            err = capsys.readouterr().err
            assert ("pre-processing" in err) == verbose, err
        assert "quantising tiny.safetensors to int8 once" in err  # -v shows our own notes too
    finally:
        logger.handlers[:], logger.level = handlers, level
