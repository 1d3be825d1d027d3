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
    from .model.weights import WeightsError

    if isinstance(exc, (UserError, WeightsError, BackendError)):
        return str(exc)
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        name = getattr(exc, "filename", None)
        reason = exc.strerror or str(exc)
        return f"{name}: {reason}" if name else reason
    if isinstance(exc, OSError) and exc.errno is not None:
        name = getattr(exc, "filename", None)
        return f"{name}: {exc.strerror}" if name else str(exc)
    # the fx package's own preset errors, and friends, register by subclassing UserError
    return None
