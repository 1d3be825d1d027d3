"""The package ships every subpackage and finds its data (models/, effects/) from a checkout."""
from __future__ import annotations

import sys
from pathlib import Path

from fastvit_fx import resources

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "fastvit_fx").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    missing = found - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_data_folders_are_found(monkeypatch):
    assert resources.effects_dir().is_dir()
    assert any(resources.effects_dir().glob("*.toml"))
    assert resources.models_dir().name in ("models", "_models")
    monkeypatch.setenv("FASTVIT_FX_MODELS", "/somewhere/else")
    assert resources.models_dir() == Path("/somewhere/else")


def test_package_data_patterns_cover_every_shipped_model_file():
    """A file in models/ that no package-data pattern matches would be missing from a wheel."""
    from fnmatch import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    model_patterns = patterns["fastvit_fx._models"]
    tracked = [p.relative_to(ROOT / "models").as_posix() for p in (ROOT / "models").rglob("*")
               if p.is_file() and not p.name.endswith((".onnx", ".mlpackage")) and "mlpackage" not in str(p)]
    uncovered = [f for f in tracked if not any(fnmatch(f, pat) for pat in model_patterns)]
    assert not uncovered, f"add to package-data for fastvit_fx._models in pyproject.toml: {uncovered}"
