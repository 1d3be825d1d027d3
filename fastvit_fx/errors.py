"""Which exceptions are user errors (bad file, device, key) and how to say them in one line."""
from __future__ import annotations


class UserError(Exception):
    """Raised with a finished one-line message that names the file, device or key at fault."""


def describe(exc: BaseException) -> str | None:
    """One line for a known user-facing failure; None for a bug (which should show its traceback)."""
    from .backends.base import BackendError
    from .model.header import WeightsError

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
