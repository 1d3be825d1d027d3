"""The import rules in pyproject.toml ([tool.importlinter]) hold: Qt only in the app, no torch or
timm on the runtime path, no import cycles in the effects engine. Checked with import-linter on
this checkout, and shown to catch a break on a copy with one bad import added."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ("import sys\nfrom importlinter.cli import lint_imports\n"
         "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under `root` (a fresh interpreter, so that copy is the one found)."""
    pytest.importorskip("importlinter")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", CHECK], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_import_contracts_are_kept():
    proc = lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rule in ("Qt only in the app", "the runtime path imports no torch or timm",
                 "no import cycles between the effects engine's modules"):
        assert f"{rule} KEPT" in proc.stdout


@pytest.mark.parametrize("module,line,broken", [
    ("fastvit_fx/segment/letterbox.py", "import torch", "the runtime path imports no torch or timm"),
    ("fastvit_fx/backends/onnx_backend.py", "from ..model import load_model",
     "backends other than torch import no torch or timm"),
    ("fastvit_fx/fx/ops.py", "from PyQt6 import QtGui", "Qt only in the app"),
    ("fastvit_fx/live/compose.py", "import torch", "the runtime path imports no torch or timm"),
    ("fastvit_fx/live/session.py", "from PyQt6 import QtCore", "Qt only in the app"),
    ("fastvit_fx/app/window.py", "import timm", "the runtime path imports no torch or timm"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "fastvit_fx", tmp_path / "fastvit_fx", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n\ndef _added():\n    {line}\n")  # even a lazy import counts
    proc = lint(tmp_path)
    assert proc.returncode != 0
    assert f"{broken} BROKEN" in proc.stdout
