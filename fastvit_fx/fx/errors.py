"""The effects engine's user error: its own module, so that passes can raise it without importing
the preset loader (which imports the passes)."""
from __future__ import annotations

from ..errors import UserError


class PresetError(UserError):
    """A preset that cannot be loaded or found; the message is one line naming the file and key."""
