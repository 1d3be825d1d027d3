"""Output paths are checked before any slow work: one line naming the path, no traceback."""
from __future__ import annotations

import os

import numpy as np
import pytest

from fastvit_fx import paths
from fastvit_fx.errors import UserError
from fastvit_fx.paths import check_writable_folder, check_writable_output

as_root = os.name == "posix" and os.geteuid() == 0  # root writes through permission bits


def test_a_writable_or_creatable_output_passes(tmp_path):
    assert check_writable_output(tmp_path / "out.mp4") == tmp_path / "out.mp4"
    assert check_writable_output(tmp_path / "new" / "deeper" / "out.mp4")  # the writer creates folders
    assert check_writable_folder(tmp_path / "clips") == tmp_path / "clips"
    assert not (tmp_path / "new").exists() and not (tmp_path / "clips").exists()  # nothing written


def test_a_path_under_a_file_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(UserError, match=f"^{blocker}/renders/out.mp4: cannot write here .*notes.txt is a file"):
        check_writable_output(blocker / "renders" / "out.mp4")
    with pytest.raises(UserError, match="notes.txt: is a file, not a folder"):
        check_writable_folder(blocker)
    with pytest.raises(UserError, match="is a folder"):
        check_writable_output(tmp_path)


@pytest.mark.skipif(as_root or os.name != "posix", reason="permission bits do not stop root")
def test_a_folder_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(UserError, match=f"{locked}/out.mp4: cannot write here .*no permission"):
            check_writable_output(locked / "out.mp4")
        with pytest.raises(UserError, match="cannot create"):
            check_writable_folder(locked / "clips")
    finally:
        locked.chmod(0o755)


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    # what a read-only mount answers (even to root): access() refuses writes, statvfs says ST_RDONLY
    real_access = os.access
    monkeypatch.setattr(paths.os, "access", lambda p, mode: False if mode & os.W_OK else real_access(p, mode))
    monkeypatch.setattr(paths, "_read_only_mount", lambda p: True)
    with pytest.raises(UserError) as caught:
        check_writable_output(tmp_path / "out.mp4")
    assert str(caught.value) == f"{tmp_path}/out.mp4: cannot write here ({tmp_path} is on a read-only file system)"
    with pytest.raises(UserError, match="read-only file system"):
        check_writable_folder(tmp_path / "clips")


def test_render_refuses_an_unwritable_out_before_loading_the_model(tmp_path, monkeypatch, capsys):
    from fastvit_fx.cli import main
    from fastvit_fx.commands import common
    from fastvit_fx.io.record import ClipWriter

    video = tmp_path / "in.mp4"
    with ClipWriter(video, 64, 48, fps=10) as writer:
        for i in range(5):
            writer.write(np.full((48, 64, 3), 40 * i, np.uint8))

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the output path was checked")

    monkeypatch.setattr(common, "make_segmenter", no_model)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "out.mp4"
    assert main(["render", str(video), "--effect", "blur-bg", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"fastvit-fx: error: {out}: cannot write here ({blocker} is a file, not a folder)"
