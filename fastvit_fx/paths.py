"""Can we write there? Checked before any slow work (a model load, a recording), so a bad output
path is one line naming it at once, not an OSError after the work is done.

    check_writable_output("renders/out.mp4")    # a file to create or replace
    check_writable_folder("~/Videos/fastvit-fx")  # a folder to create files in

Both accept a folder that does not exist yet when it can be created (its nearest existing parent
is a writable folder), since the writers create it; both raise UserError otherwise. Neither writes
anything: they ask the OS (`os.access`, which also answers for read-only file systems).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError


def check_writable_output(path: str | Path) -> Path:
    """The path, expanded, if a file can be written at it; UserError naming it otherwise."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give a file name to write")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise UserError(f"{path}: cannot overwrite it ({_why_not_writable(path)})")
        return path
    _check_folder(path.parent if str(path.parent) else Path("."), named=path)
    return path


def check_writable_folder(folder: str | Path) -> Path:
    """The folder, expanded, if files can be created in it (or it can be created); UserError naming it
    otherwise. For `--record-dir`: call it before remembering the folder as the default."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: is a file, not a folder")
    _check_folder(folder, named=folder)
    return folder


def _check_folder(folder: Path, named: Path) -> None:
    """Files can be created in `folder`, or it can be made: else UserError naming `named`."""
    existing = folder
    while not existing.exists():  # the nearest part of the path that is there
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{named}: cannot write here ({existing} is a file, not a folder)")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "" if existing == folder else f"; cannot create {folder}"
        raise UserError(f"{named}: cannot write here ({_why_not_writable(existing)}{what})")


def _why_not_writable(path: Path) -> str:
    if _read_only_mount(path):
        return f"{path} is on a read-only file system"
    return f"no permission to write in {path}" if path.is_dir() else f"no permission to write {path}"


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
