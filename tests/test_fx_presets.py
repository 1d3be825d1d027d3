"""Preset loading: the shipped set, validation errors naming file and key, the effects command."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from fastvit_fx.errors import UserError
from fastvit_fx.fx import Preset, PresetError, load_presets
from fastvit_fx.fx.passes import PASSES
from fastvit_fx.resources import effects_dir

REPO = Path(__file__).resolve().parent.parent
EXPECTED = {"rim-light", "sheen", "chrome", "snow", "bounce", "ripples", "blur-bg", "replace-bg",
            "color-pop", "neon-outline", "none", "mask"}


def test_shipped_presets_load_cleanly():
    presets = load_presets()
    assert presets.errors == []
    assert EXPECTED <= set(presets.names())
    keys = [p.hotkey for p in presets.presets if p.hotkey]
    assert keys == [str(i) for i in range(1, 10)]  # nine hotkeys, first, in order
    assert all(p.hotkey is None for p in presets.presets[9:])
    rest = [p.name for p in presets.presets[9:]]
    assert rest == sorted(rest)
    for p in presets:
        assert isinstance(p, Preset) and p.description
        for name, params in p.passes:
            assert set(params) == set(PASSES[name].params)  # defaults filled in


def test_get_unknown_effect_lists_the_choices():
    presets = load_presets()
    assert presets.get("snow").name == "snow"
    with pytest.raises(PresetError, match=r"unknown effect 'snowy'; choose one of: .*snow"):
        presets.get("snowy")
    assert issubclass(PresetError, UserError)


BROKEN = {
    "a-wrong-type.toml": ('name = "a"\n[[passes]]\npass = "grade"\n[[passes]]\npass = "snow"\nwind = "strong"\n',
                          'passes[1].wind: expected a number, got "strong"'),
    "b-unknown-pass.toml": ('name = "b"\n[[passes]]\npass = "sparkle"\n', 'passes[0].pass: unknown pass "sparkle"'),
    "c-unknown-key.toml": ('name = "c"\n[[passes]]\npass = "blur"\nradius = 5\nsigma = 3\n',
                           "passes[0].sigma: unknown parameter"),
    "d-range.toml": ('name = "d"\n[[passes]]\npass = "snow"\ncount = -5\n', "passes[0].count: -5 is out of range"),
    "e-hotkey.toml": ('name = "e"\nhotkey = 3\npasses = []\n', "hotkey: expected a string"),
    "f-toml.toml": ('name = "f"\npasses = [\n', "invalid TOML"),
    "g-top-key.toml": ('name = "g"\ncolour = "red"\npasses = []\n', "colour: unknown key"),
    "h-color.toml": ('name = "h"\n[[passes]]\npass = "rim_light"\ncolor = "orange"\n', "passes[0].color: expected a colour"),
    "i-missing-image.toml": ('name = "i"\n[[passes]]\npass = "background"\nsource = "image"\nimage = "nope.png"\n',
                             "passes[0].image: no such file"),
    "j-choice.toml": ('name = "j"\n[[passes]]\npass = "grade"\nwhere = "bg"\n', 'passes[0].where: expected one of'),
    "k-no-passes.toml": ('name = "k"\n', "passes: missing"),
    "z-dup-hotkey.toml": ('name = "z"\nhotkey = "4"\npasses = []\n', 'hotkey: "4" is already used by'),
}


def test_broken_presets_name_file_and_key_and_the_others_load(tmp_path):
    shutil.copy(effects_dir() / "snow.toml", tmp_path / "snow.toml")
    shutil.copy(effects_dir() / "rim-light.toml", tmp_path / "rim-light.toml")
    for name, (text, _) in BROKEN.items():
        (tmp_path / name).write_text(text)
    presets = load_presets(tmp_path)
    assert {"snow", "rim-light", "none", "mask"} == set(presets.names())
    assert len(presets.errors) == len(BROKEN)
    for name, (_, expected) in BROKEN.items():
        line = next((e for e in presets.errors if name in e), None)
        assert line is not None, name
        assert expected in line, line
        assert "\n" not in line


def test_missing_folder_still_gives_the_builtins(tmp_path):
    presets = load_presets(tmp_path / "nowhere")
    assert set(presets.names()) == {"none", "mask"}
    assert "no such effects folder" in presets.errors[0]


def test_image_path_is_relative_to_the_preset(tmp_path):
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "beach.png"), np.full((20, 30, 3), 90, np.uint8))
    (tmp_path / "beach.toml").write_text('name = "beach"\n[[passes]]\npass = "background"\n'
                                         'source = "image"\nimage = "beach.png"\n')
    presets = load_presets(tmp_path)
    assert presets.errors == []
    params = presets.get("beach").passes[0][1]
    assert Path(params["image"]) == tmp_path / "beach.png"


def test_effects_command_lists_and_reports(tmp_path, capsys):
    from fastvit_fx.commands import effects

    assert effects.run(Namespace(folder=None, verbose=True)) == 0
    out = capsys.readouterr().out
    assert " 4  snow" in out and "snow:" in out
    (tmp_path / "bad.toml").write_text('name = "bad"\n[[passes]]\npass = "snow"\nwind = "strong"\n')
    assert effects.run(Namespace(folder=str(tmp_path), verbose=False)) == 1
    err = capsys.readouterr().err
    assert "bad.toml: passes[0].wind" in err


def test_effects_command_does_not_import_torch():
    code = ("import sys; from fastvit_fx.cli import main; rc = main(['effects']); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "rim-light" in result.stdout


# -- bad input: encodings, broken effects asked for by name, a user's file clashing with a shipped one --
NOT_UTF8 = {
    "latin1.toml": 'name = "latin1"\ndescription = "café"\npasses = []\n'.encode("latin-1"),
    "noise.toml": bytes(range(128, 256)) * 4,
}


def _folder_with_snow_and(tmp_path, files: dict[str, bytes]) -> Path:
    shutil.copy(effects_dir() / "snow.toml", tmp_path / "snow.toml")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_a_preset_that_is_not_utf8_is_one_line_naming_it_and_the_others_load(tmp_path):
    presets = load_presets(_folder_with_snow_and(tmp_path, NOT_UTF8))
    assert "snow" in presets.names()
    for name in NOT_UTF8:
        line = next(e for e in presets.errors if name in e)
        assert "not UTF-8" in line and "\n" not in line
    assert "line 2" in next(e for e in presets.errors if "latin1.toml" in e)  # where the é is


def test_effects_command_reports_a_non_utf8_preset_without_a_traceback(tmp_path, capsys):
    from fastvit_fx.cli import main

    folder = _folder_with_snow_and(tmp_path, NOT_UTF8)
    assert main(["effects", "--folder", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert " 4  snow" in out
    assert "Traceback" not in err and "UnicodeDecodeError" not in err
    lines = err.strip().splitlines()
    assert len(lines) == len(NOT_UTF8) and all("not UTF-8" in line for line in lines)


def test_app_start_up_survives_a_non_utf8_preset(tmp_path, monkeypatch):
    from fastvit_fx.app.main import load_effects

    monkeypatch.setenv("FASTVIT_FX_EFFECTS", str(_folder_with_snow_and(tmp_path, NOT_UTF8)))
    presets, problems, _ = load_effects()
    assert "snow" in [p.name for p in presets]
    assert sum("not UTF-8" in p for p in problems) == len(NOT_UTF8)


def test_asking_for_a_broken_effect_by_name_reports_its_file_and_key(tmp_path):
    (tmp_path / "snow.toml").write_text('name = "snow"\nhotkey = "4"\n[[passes]]\npass = "snow"\ncount = -5\n')
    (tmp_path / "cafe.toml").write_bytes('name = "café"\npasses = []\n'.encode("latin-1"))
    presets = load_presets(tmp_path)
    with pytest.raises(PresetError, match=r"snow\.toml: passes\[0\]\.count: -5 is out of range"):
        presets.get("snow")
    with pytest.raises(PresetError, match=r"cafe\.toml: not UTF-8"):  # known by its file's name
        presets.get("cafe")
    with pytest.raises(PresetError, match="unknown effect 'sleet'"):
        presets.get("sleet")


def test_a_user_preset_reusing_a_shipped_hotkey_is_the_one_dropped(tmp_path):
    shutil.copy(effects_dir() / "snow.toml", tmp_path / "snow.toml")
    mine = tmp_path / "a-mine.toml"  # sorts before snow.toml, but was added later
    mine.write_text('name = "a-mine"\nhotkey = "4"\npasses = []\n')
    shipped = (tmp_path / "snow.toml").stat().st_mtime
    os.utime(mine, (shipped + 60, shipped + 60))
    presets = load_presets(tmp_path)
    assert presets.by_hotkey("4").name == "snow"
    assert "a-mine" not in presets.names()
    assert presets.errors == [f"{mine}: hotkey: \"4\" is already used by {tmp_path / 'snow.toml'}; "
                              "choose another or remove the hotkey"]
    with pytest.raises(PresetError, match="a-mine.toml: hotkey"):
        presets.get("a-mine")


def test_preset_error_lives_where_passes_can_raise_it_without_the_loader():
    from fastvit_fx import errors
    from fastvit_fx.fx import presets

    assert presets.PresetError is errors.PresetError is PresetError


def test_render_with_a_broken_effect_reports_the_file_and_key_not_no_such_effect(tmp_path, monkeypatch, capsys):
    import numpy as np

    from fastvit_fx.cli import main
    from fastvit_fx.io.record import ClipWriter

    effects = tmp_path / "effects"
    effects.mkdir()
    (effects / "snow.toml").write_text('name = "snow"\nhotkey = "4"\n[[passes]]\npass = "snow"\ncount = -5\n')
    monkeypatch.setenv("FASTVIT_FX_EFFECTS", str(effects))
    video = tmp_path / "in.mp4"
    with ClipWriter(video, 64, 48, fps=10) as writer:
        for i in range(3):
            writer.write(np.full((48, 64, 3), 60 * i, np.uint8))
    assert main(["render", str(video), "--effect", "snow", "--out", str(tmp_path / "out.mp4"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fastvit-fx: error: ") and "snow.toml: passes[0].count: -5 is out of range" in err
    assert "unknown effect" not in err and "\n" not in err
