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

Loading validates everything (unknown keys and passes, types, ranges); a broken file becomes one
line in `PresetSet.errors` naming the file and the key, and the other presets still load.
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

from .errors import PresetError  # noqa: F401  (defined apart so passes can raise it)
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

    def names(self) -> list[str]:
        return [p.name for p in self.presets]

    def get(self, name: str) -> Preset:
        for p in self.presets:
            if p.name == name:
                return p
        raise PresetError(f"unknown effect {name!r}; choose one of: {', '.join(self.names())}")

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


def parse_preset(path: Path) -> Preset:
    """Read and validate one preset file. Raises PresetError('FILE: KEY: reason')."""
    from .passes import PASSES

    where = display_path(path)

    def fail(key: str, reason: str) -> PresetError:
        return PresetError(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise fail("", f"invalid TOML: {exc}") from None
    except OSError as exc:
        raise fail("", f"cannot read ({exc.strerror})") from None

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
    for path in files:
        try:
            preset = parse_preset(path)
        except PresetError as exc:
            errors.append(str(exc))
            continue
        if preset.name in names:
            errors.append(f"{display_path(path)}: name: {show(preset.name)} is already used by "
                          f"{display_path(names[preset.name])}")
            continue
        if preset.hotkey is not None and preset.hotkey in keys:
            errors.append(f"{display_path(path)}: hotkey: {show(preset.hotkey)} is already used by "
                          f"{display_path(keys[preset.hotkey])}")
            continue
        names[preset.name] = path
        if preset.hotkey is not None:
            keys[preset.hotkey] = path
        found.append(preset)
    for builtin in BUILTIN:
        if builtin.name not in names:
            found.append(builtin)
    found.sort(key=lambda p: (p.hotkey is None, p.hotkey or "", p.name))
    return PresetSet(found, errors, folder)
