"""Declarative parameter specs for passes (OBS-filter style: each pass lists its properties with
defaults and ranges) and their validation. A failed check raises ParamError with a short reason;
the preset loader prefixes it with the file and key."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class ParamError(ValueError):
    """A value that does not fit its spec; the message is the reason only (no file or key)."""


def show(value) -> str:
    """A value as the preset author wrote it: strings quoted, lists as lists."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _number(value, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"expected {'an integer' if integer else 'a number'}, got {show(value)}")
    if integer and not isinstance(value, int):
        raise ParamError(f"expected an integer, got {show(value)}")
    return value


@dataclass(frozen=True)
class Num:
    default: float
    lo: float
    hi: float
    help: str = ""

    def check(self, value, base: Path | None = None) -> float:
        value = _number(value)
        if not self.lo <= value <= self.hi:
            raise ParamError(f"{show(value)} is out of range {self.lo:g}..{self.hi:g}")
        return float(value)


@dataclass(frozen=True)
class Int:
    default: int
    lo: int
    hi: int
    help: str = ""

    def check(self, value, base: Path | None = None) -> int:
        value = _number(value, integer=True)
        if not self.lo <= value <= self.hi:
            raise ParamError(f"{show(value)} is out of range {self.lo}..{self.hi}")
        return int(value)


@dataclass(frozen=True)
class Bool:
    default: bool
    help: str = ""

    def check(self, value, base: Path | None = None) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"expected true or false, got {show(value)}")
        return value


@dataclass(frozen=True)
class Choice:
    default: str
    options: tuple[str, ...]
    help: str = ""

    def check(self, value, base: Path | None = None) -> str:
        if value not in self.options:
            raise ParamError(f"expected one of {', '.join(show(o) for o in self.options)}, got {show(value)}")
        return value


def _color(value) -> str:
    if isinstance(value, str) and _HEX.match(value):
        return value.lower()
    if (isinstance(value, list) and len(value) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)):
        return "#{:02x}{:02x}{:02x}".format(*value)
    raise ParamError(f'expected a colour "#rrggbb" or [r, g, b] (0-255), got {show(value)}')


@dataclass(frozen=True)
class Color:
    default: str
    help: str = ""

    def check(self, value, base: Path | None = None) -> str:
        return _color(value)


@dataclass(frozen=True)
class Colors:
    """A list of colours (gradient stops, palettes), normalised to '#rrggbb' strings."""

    default: tuple[str, ...]
    min_len: int = 1
    help: str = ""

    def check(self, value, base: Path | None = None) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) < self.min_len:
            raise ParamError(f"expected a list of at least {self.min_len} colours, got {show(value)}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(_color(v))
            except ParamError as exc:
                raise ParamError(f"item {i}: {exc}") from None
        return tuple(out)


@dataclass(frozen=True)
class File:
    """An optional file path, relative to the preset's folder; "" means none. Must exist if given."""

    default: str = ""
    help: str = ""

    def check(self, value, base: Path | None = None) -> str:
        if not isinstance(value, str):
            raise ParamError(f"expected a file path string, got {show(value)}")
        if value:
            path = Path(value).expanduser()
            if not path.is_absolute() and base is not None:
                path = base / path
            if not path.is_file():
                raise ParamError(f"no such file: {path}")
            return str(path)
        return value


Spec = Num | Int | Bool | Choice | Color | Colors | File


def validate(specs: dict[str, Spec], given: dict, base: Path | None = None) -> dict:
    """Fill defaults and check every given value. Raises KeyError-like ParamError naming the key:
    the error's args are (key, reason)."""
    out = {}
    for key, value in given.items():
        if key not in specs:
            raise ParamKeyError(key, f"unknown parameter; this pass takes: {', '.join(specs) or 'nothing'}")
        try:
            out[key] = specs[key].check(value, base)
        except ParamError as exc:
            raise ParamKeyError(key, str(exc)) from None
    for key, spec in specs.items():
        out.setdefault(key, spec.default)
    return out


class ParamKeyError(ParamError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason
