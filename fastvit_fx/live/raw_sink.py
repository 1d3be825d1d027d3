"""The raw recording: the camera's frames as captured (no effect, no mirror, no HUD) in a clip beside the
effected one, so that `fastvit-fx render CLIP-raw.mp4 --effect NAME --quality high` can redo it later
with any effect and heavier settings than live allows."""
from __future__ import annotations

from pathlib import Path

from ..io.record_sound import SoundRecorder
from .sinks import RecorderSink
from .step import Output

RAW_SUFFIX = "-raw"


def raw_path_beside(clip: Path) -> Path:
    """clip.mp4 -> clip-raw.mp4, in the same folder."""
    return clip.with_name(f"{clip.stem}{RAW_SUFFIX}{clip.suffix}")


class _RecorderAt(SoundRecorder):
    """A recorder (with sound, when given a source) that writes to one given path, not a new date-named one."""

    def __init__(self, path: Path, audio=None, **kwargs) -> None:
        super().__init__(path.parent, audio, **kwargs)
        self._fixed_path = path

    def new_path(self) -> Path:
        return self._fixed_path


class RawRecorderSink(RecorderSink):
    """A recorder sink fed the source frame of each output (`output.frame.image`) at its capture time."""

    def __init__(self, beside: Path, fps: float = 30.0, audio=None, **recorder_options) -> None:
        self.recorder = _RecorderAt(raw_path_beside(Path(beside)), audio, fps=fps, **recorder_options)

    def __call__(self, output: Output) -> None:
        self.recorder.write(output.frame.image, output.frame.t)
