"""Grab the window with chosen effects (and the help overlay) to PNGs, as the README shows them.

    QT_QPA_PLATFORM=offscreen python3 -m fastvit_fx.app.screenshots docs/screenshots rim-light snow color-pop

Runs the real app window on the demo source with the trained segmenter, lets each effect settle for
a few seconds (masks, simulations), then grabs. Needs the trained weights in models/.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def _pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def take(out_dir: str | Path, effects: list[str], settle: float = 4.0, size=(1280, 720),
         help_effect: str | None = None) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    from ..capture import DemoSource
    from ..fx import EffectRenderer, load_presets
    from ..segment import Segmenter
    from .settings import AppSettings
    from .window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    presets = load_presets().presets
    tmp = tempfile.mkdtemp(prefix="fastvit-fx-shots-")

    def factory():
        return Segmenter(smooth=True)

    window = MainWindow(DemoSource(*size), presets, AppSettings(Path(tmp) / "s.ini"), segmenter_factory=factory,
                        renderer_factory=EffectRenderer, record_dir=tmp)
    window.pipeline.mirror = False
    window.resize(*size)
    window.show()
    window.start()
    written = []
    try:
        _pump(app, 1.0)
        if not window.pipeline.wait_masks(3, timeout=120):
            raise RuntimeError(f"no masks: {window.pipeline.model_status}")
        names = [p.name for p in presets]
        for effect in effects:
            window.set_effect(presets[names.index(effect)])
            _pump(app, settle)
            window._tick()
            _pump(app, 0.1)
            path = out_dir / f"app-{effect}.png"
            window.grab().save(str(path))
            written.append(path)
        if help_effect is not None:
            window.set_effect(presets[names.index(help_effect)])
            _pump(app, settle)
            window.toggle_help()
            window._tick()
            _pump(app, 0.1)
            path = out_dir / "app-help.png"
            window.grab().save(str(path))
            written.append(path)
    finally:
        window.close()
    return written


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"
    chosen = sys.argv[2:] or ["rim-light", "snow", "color-pop"]
    for p in take(target, chosen, help_effect=chosen[0]):
        print(p)
