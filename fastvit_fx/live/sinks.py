"""Where composed frames go besides the screen: the clip recorder and snapshots (a virtual camera
would be one more sink: a callable that takes an `Output`)."""
from __future__ import annotations

from pathlib import Path

import cv2

from ..io.record import DEFAULT_CRF, ClipInfo, Recorder, RecordError, prepare_folder, timestamped_path
from .step import Output


class RecorderSink:
    """A sink that records what is shown: ``driver.add_sink(sink)`` after `start()`. The recorder
    never blocks the live path (a full queue drops the frame and counts it)."""

    def __init__(self, folder: str | Path, fps: float = 30.0, crf: int = DEFAULT_CRF,
                 recorder: Recorder | None = None) -> None:
        self.recorder = recorder or Recorder(folder, fps=fps, crf=crf)  # recorder: e.g. one with sound

    def start(self) -> Path:
        """The clip's path; RecordError (naming the folder) when it cannot start."""
        return self.recorder.start()

    def __call__(self, output: Output) -> None:
        self.recorder.write(output.image, output.frame.t)

    def stop(self) -> ClipInfo | None:
        return self.recorder.stop()

    @property
    def active(self) -> bool:
        return self.recorder.active

    @property
    def error(self) -> str | None:
        return self.recorder.error


def save_snapshot(folder: str | Path, output: Output) -> Path:
    """The picture (no HUD) as a date-named PNG; RecordError naming the folder when it cannot."""
    try:
        folder = prepare_folder(folder)
    except RecordError as exc:
        raise RecordError(str(exc).replace("cannot record to", "cannot save a snapshot in")) from None
    path = timestamped_path(folder, suffix=".png")
    if not cv2.imwrite(str(path), output.image):
        raise RecordError(f"cannot save a snapshot in {folder}")
    return path
