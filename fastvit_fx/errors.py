"""Which exceptions are user errors (bad file, device, key) and how to say them in one line."""
from __future__ import annotations


class UserError(Exception):
    """Raised with a finished one-line message that names the file, device or key at fault."""


class PresetError(UserError):
    """A preset that cannot be loaded or found; the message is one line naming the file and key.

    Defined here, in a module that imports nothing, so that effect passes can raise it without
    importing the preset loader (which imports the passes). `name` is the effect it belongs to,
    where known."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def describe(exc: BaseException) -> str | None:
    """One line for a known user-facing failure; None for a bug (which should show its traceback)."""
    from .backends.base import BackendError
    from .model.header import WeightsError

    if isinstance(exc, (UserError, WeightsError, BackendError)):
        return str(exc)
    av_error = _ffmpeg_error(exc)
    if av_error is not None:
        return av_error
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        name = getattr(exc, "filename", None)
        reason = exc.strerror or str(exc)
        return f"{name}: {reason}" if name else reason
    if isinstance(exc, OSError) and exc.errno is not None:
        name = getattr(exc, "filename", None)
        return f"{name}: {exc.strerror}" if name else str(exc)
    # the fx package's own preset errors, and friends, register by subclassing UserError
    return None


def _ffmpeg_error(exc: BaseException) -> str | None:
    """PyAV's errors in words: its str() leads with FFmpeg's AVERROR code as an errno
    ("[Errno 1094995529] Invalid data found ...: 'clip.mp4'"), a number no reader can use."""
    import sys

    av_error = sys.modules.get("av.error")  # never import PyAV just to look at an exception
    if av_error is None or not isinstance(exc, av_error.FFmpegError):
        return None
    reason = str(exc.strerror or type(exc).__name__)
    reason = reason[:1].lower() + reason[1:]
    name = getattr(exc, "filename", None)
    return f"{name}: {reason}" if name else reason
