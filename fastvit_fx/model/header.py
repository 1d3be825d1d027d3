"""A weights file's header, read without torch: its ModelConfig, and the one-line WeightsError.

A .safetensors file starts with an 8-byte little-endian length and that many bytes of JSON (the
tensor table and, under "__metadata__", our config). Reading only that lets the runtime validate
the file and learn the config without importing torch (weights.py loads the tensors themselves).
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

from .config import ModelConfig

CONFIG_KEY = "fastvit_fx_config"
_MAX_HEADER = 100 << 20  # safetensors' own limit on the JSON header


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"weights file {path}: {problem}")
        self.path = Path(path)
        self.problem = problem


def read_config(path: str | Path) -> ModelConfig:
    """The ModelConfig in a weights file's metadata; a one-line WeightsError for anything wrong
    that the header shows (missing, a folder, truncated, not safetensors, no or bad config)."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(path, "no such file")
    if path.is_dir():
        raise WeightsError(path, "is a folder, not a .safetensors file")
    size = path.stat().st_size
    if size < 8:
        raise WeightsError(path, f"truncated ({size} bytes)")
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        if length > min(_MAX_HEADER, size - 8):
            raise WeightsError(path, f"not a readable safetensors file (header of {length} bytes in a "
                                     f"{size}-byte file)")
        raw = f.read(length)
    try:
        table = json.loads(raw.decode("utf-8"))
        if not isinstance(table, dict):
            raise ValueError("the header is not a JSON object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(path, f"not a readable safetensors file ({exc})") from None
    metadata = table.pop("__metadata__", None) or {}
    ends = [entry.get("data_offsets", [0, 0])[1] for entry in table.values() if isinstance(entry, dict)]
    if ends and 8 + length + max(ends) > size:
        raise WeightsError(path, f"truncated ({size} bytes; its tensors need {8 + length + max(ends)})")
    if CONFIG_KEY not in metadata:
        raise WeightsError(path, f"no '{CONFIG_KEY}' in the metadata; not a fastvit-fx weights file")
    try:
        return ModelConfig.from_json(metadata[CONFIG_KEY])
    except (ValueError, TypeError) as exc:
        raise WeightsError(path, f"bad model config ({exc})") from None
