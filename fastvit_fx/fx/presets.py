"""Preset files: effects/*.toml, one effect each - name, hotkey, description and a chain of passes.

    name = "snow"
    hotkey = "4"
    description = "Snow that piles on your shoulders"

    [[passes]]
    pass = "grade"
    where = "background"
    saturation = 0.6

    [[passes]]
    pass = "snow"
    count = 3000

Loading validates everything (encoding, unknown keys and passes, types, ranges); a broken file
becomes one line in `PresetSet.errors` naming the file and the key, and the other presets still
load. `PresetSet.broken` keeps those lines by effect name, so asking for a broken effect by name
reports what is wrong with its file rather than "unknown effect".
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..errors import PresetError
from .params import ParamKeyError, show

TOP_KEYS = ("name", "hotkey", "description", "passes")
HOTKEYS = tuple("123456789")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Preset:
    name: str
    hotkey: str | None
    description: str
    passes: list[tuple[str, dict]]
    path: Path | None = None

    def __repr__(self) -> str:
        return f"Preset({self.name!r}, hotkey={self.hotkey!r}, passes={[n for n, _ in self.passes]})"


# Always available, even from a folder that lacks them: the app needs a pass-through and a debug view.
BUILTIN = (
    Preset("none", None, "Pass-through: the camera as it is", []),
    Preset("mask", None, "Debug view: the mask, its edge band and motion", [("mask_view", {"style": "fields"})]),
)


@dataclass
class PresetSet:
    presets: list[Preset]
    errors: list[str] = field(default_factory=list)
    folder: Path | None = None
    broken: dict[str, str] = field(default_factory=dict)  # effect name -> why its file did not load

    def names(self) -> list[str]:
        return [p.name for p in self.presets]

    def get(self, name: str) -> Preset:
        """The preset called `name`; PresetError with its file's problem if that file is broken,
        else one listing the choices."""
        for p in self.presets:
            if p.name == name:
                return p
        if name in self.broken:
            raise PresetError(self.broken[name], name)
        raise PresetError(f"unknown effect {name!r}; choose one of: {', '.join(self.names())}", name)

    def by_hotkey(self, key: str) -> Preset | None:
        return next((p for p in self.presets if p.hotkey == key), None)

    def __iter__(self):
        return iter(self.presets)

    def __len__(self) -> int:
        return len(self.presets)

    def __contains__(self, name: object) -> bool:
        return any(p.name == name for p in self.presets)


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (effects/snow.toml), else as given."""
    try:
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _read_toml(path: Path, fail) -> dict:
    """The file's TOML table; `fail(key, reason)` builds the error for a file that is not UTF-8 TOML."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail("", f"cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # TOML is UTF-8; a leading BOM (Windows editors) is harmless
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise fail("", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
                       "save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail("", f"invalid TOML: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def parse_preset(path: Path) -> Preset:
    """Read and validate one preset file. Raises PresetError('FILE: KEY: reason')."""
    from .passes import PASSES

    where = display_path(path)
    declared = path.stem  # the effect this file defines, for `PresetSet.broken`; its "name" once read

    def fail(key: str, reason: str) -> PresetError:
        return PresetError(f"{where}: {key}: {reason}" if key else f"{where}: {reason}", declared)

    data = _read_toml(path, fail)
    if isinstance(data.get("name"), str):
        declared = data["name"]
    for key in data:
        if key not in TOP_KEYS:
            raise fail(key, f"unknown key; a preset has: {', '.join(TOP_KEYS)}")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", f"expected a lowercase name like \"rim-light\", got {show(name)}")
    hotkey = data.get("hotkey")
    if hotkey is not None and hotkey not in HOTKEYS:
        raise fail("hotkey", f"expected a string \"1\"..\"9\", got {show(hotkey)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", f"expected a string, got {show(description)}")
    if "passes" not in data:
        raise fail("passes", "missing; add [[passes]] tables (none at all: passes = [])")
    raw = data["passes"]
    if not isinstance(raw, list):
        raise fail("passes", f"expected a list of [[passes]] tables, got {show(raw)}")

    passes = []
    for i, entry in enumerate(raw):
        at = f"passes[{i}]"
        if not isinstance(entry, dict):
            raise fail(at, f"expected a table, got {show(entry)}")
        kind = entry.get("pass")
        if kind is None:
            raise fail(at, "missing \"pass\" (which pass to run)")
        if kind not in PASSES:
            raise fail(f"{at}.pass", f"unknown pass {show(kind)}; choose one of: {', '.join(sorted(PASSES))}")
        from .params import validate

        try:
            params = validate(PASSES[kind].params, {k: v for k, v in entry.items() if k != "pass"}, path.parent)
        except ParamKeyError as exc:
            raise fail(f"{at}.{exc.key}", exc.reason) from None
        passes.append((kind, params))
    return Preset(name, hotkey, description, passes, path)


def load_presets(folder: str | Path | None = None) -> PresetSet:
    """Every *.toml in `folder` (default: the shipped effects/), in hotkey order then by name,
    plus the built-in "none" and "mask" if the folder does not define them."""
    if folder is None:
        from ..resources import effects_dir

        folder = effects_dir()
    folder = Path(folder)
    errors: list[str] = []
    found: list[Preset] = []
    if not folder.is_dir():
        errors.append(f"{display_path(folder)}: no such effects folder")
        files = []
    else:
        files = sorted(folder.glob("*.toml"))
    names: dict[str, Path] = {}
    keys: dict[str, Path] = {}
    broken: dict[str, str] = {}
    # Oldest file first: when two files claim one name or hotkey, the one that was there first
    # (a shipped preset) keeps it and the newcomer (a user's new file) is the one reported.
    for path in sorted(files, key=_age_order):
        try:
            preset = parse_preset(path)
        except PresetError as exc:
            errors.append(str(exc))
            broken.setdefault(exc.name or path.stem, str(exc))
            continue
        if preset.name in names:
            errors.append(f"{display_path(path)}: name: {show(preset.name)} is already used by "
                          f"{display_path(names[preset.name])}")
            continue
        if preset.hotkey is not None and preset.hotkey in keys:
            line = (f"{display_path(path)}: hotkey: {show(preset.hotkey)} is already used by "
                    f"{display_path(keys[preset.hotkey])}; choose another or remove the hotkey")
            errors.append(line)
            broken.setdefault(preset.name, line)
            continue
        names[preset.name] = path
        if preset.hotkey is not None:
            keys[preset.hotkey] = path
        found.append(preset)
    for builtin in BUILTIN:
        if builtin.name not in names:
            found.append(builtin)
    found.sort(key=lambda p: (p.hotkey is None, p.hotkey or "", p.name))
    errors.sort()  # by file name (each line starts with its file), whatever order they were met in
    # a name that did load (from another file) is not broken; one that never did keeps its reason
    return PresetSet(found, errors, folder, {n: e for n, e in broken.items() if n not in names})


def _age_order(path: Path) -> tuple[int, str]:
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        modified = 0
    return modified, path.name
