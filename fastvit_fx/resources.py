"""Where the shipped data lives: models/ and effects/ in a checkout, fastvit_fx/_models and
fastvit_fx/_effects inside an installed wheel. FASTVIT_FX_MODELS / FASTVIT_FX_EFFECTS override;
FASTVIT_FX_CACHE moves the cache of generated exports."""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DEFAULT_WEIGHTS_NAME = "fastvit_t8_person.safetensors"


def _find(env: str, packaged: str, checkout: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    inside = _PACKAGE / packaged
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / checkout


def models_dir() -> Path:
    return _find("FASTVIT_FX_MODELS", "_models", "models")


def effects_dir() -> Path:
    return _find("FASTVIT_FX_EFFECTS", "_effects", "effects")


def default_weights() -> Path:
    return models_dir() / DEFAULT_WEIGHTS_NAME


def user_cache_dir() -> Path:
    """Per-user cache for generated files (exported Core ML / ONNX models): FASTVIT_FX_CACHE if set
    (tests point it at a temporary folder), else $XDG_CACHE_HOME/fastvit-fx or ~/.cache/fastvit-fx."""
    if os.environ.get("FASTVIT_FX_CACHE"):
        return Path(os.environ["FASTVIT_FX_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fastvit-fx"
