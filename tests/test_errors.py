"""errors.describe: one line naming the file, device or key; None for bugs."""
from __future__ import annotations

import av
import pytest

from fastvit_fx.errors import PresetError, UserError, describe


def test_ffmpeg_errors_name_the_file_once_without_the_averror_code(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video" * 20)
    with pytest.raises(av.error.FFmpegError) as caught:
        av.open(str(bad))
    assert "Errno" in str(caught.value)  # what PyAV says on its own
    line = describe(caught.value)
    assert line == f"{bad}: invalid data found when processing input"


def test_os_errors_name_their_path_and_bugs_are_left_alone(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError) as caught:
        open(missing)
    assert describe(caught.value) == f"{missing}: No such file or directory"
    assert describe(ValueError("a bug")) is None
    assert describe(UserError("camera 3: busy")) == "camera 3: busy"
    assert describe(PresetError("effects/snow.toml: hotkey: taken", "snow")) == "effects/snow.toml: hotkey: taken"
