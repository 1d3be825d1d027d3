"""The key table: one list drives both what a key does and what the help overlay says about it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence

DIGIT_KEYS = [getattr(Qt.Key, f"Key_{i}") for i in range(1, 10)]


@dataclass
class Binding:
    keys: list[int]  # Qt.Key values (as ints)
    label: str  # how the help overlay writes the keys, e.g. "R / Space"
    description: str
    action: Callable[[], None] = field(repr=False)
    group: str = "app"  # "app" or "effect"


def key_of(text: str) -> int | None:
    """'3', 'b', 'F5' -> the Qt key (an int); None when it isn't one plain key."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) == 1:
        text = text.upper()
    seq = QKeySequence.fromString(text)
    if seq.count() != 1:
        return None
    combo = seq[0]
    if combo.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
        return None
    key = combo.key()
    return None if key == Qt.Key.Key_unknown else int(key.value if hasattr(key, "value") else key)


def key_label(key: int) -> str:
    text = QKeySequence(key).toString()
    return text or f"key {key}"


def assign_preset_keys(presets: list, reserved: set[int]) -> tuple[list[tuple[int, object]], list[str]]:
    """Each preset's own `hotkey` where set; presets without one get the free digits 1-9 in order.
    Keys already taken (by the app or an earlier preset) are refused with a warning."""
    taken = set(reserved)
    pairs: list[tuple[int, object]] = []
    warnings: list[str] = []
    unassigned = []
    for preset in presets:
        hotkey = getattr(preset, "hotkey", None)
        if hotkey is None or str(hotkey).strip() == "":
            unassigned.append(preset)
            continue
        key = key_of(str(hotkey))
        if key is None:
            warnings.append(f"effect {preset.name!r}: hotkey {hotkey!r} is not a single key; ignored")
            unassigned.append(preset)
        elif key in taken:
            warnings.append(f"effect {preset.name!r}: hotkey {hotkey!r} is already taken; ignored")
            unassigned.append(preset)
        else:
            taken.add(key)
            pairs.append((key, preset))
    free = [k for k in DIGIT_KEYS if int(k.value) not in taken]
    for preset in unassigned:
        if not free:
            break  # still reachable with Left/Right
        key = int(free.pop(0).value)
        taken.add(key)
        pairs.append((key, preset))
    order = {id(p): i for i, p in enumerate(presets)}
    pairs.sort(key=lambda kp: order[id(kp[1])])
    return pairs, warnings
