"""Grab the window with chosen effects (and the help overlay) to PNGs, as the README shows them.

    QT_QPA_PLATFORM=offscreen python3 -m fastvit_fx.app.screenshots docs/screenshots neon-outline snow color-pop \
        --recording snow --help-effect chrome [--truth]

Runs the real app window on the demo source with the trained segmenter, lets each effect settle for
a few seconds (masks, simulations), then grabs. Needs the trained weights in models/, or --truth:
the demo scene's exact mask drives the effects instead (the HUD then says so).
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


def take(out_dir: str | Path, effects: list[str], settle: float = 4.0, size=(1280, 720), window_size=(1024, 576),
         help_effect: str | None = None, truth: bool = False, recording: str | None = None) -> list[Path]:
    """truth=True: drive the effects with the demo scene's exact mask instead of the segmenter (the
    HUD says so); recording=EFFECT: that effect's shot is taken while a clip records (the REC dot)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    from ..io.capture import DemoSource
    from ..fx import EffectRenderer, load_presets
    from .main import build_window, live_segmenter_factory
    from .settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    presets = load_presets().presets
    tmp = tempfile.mkdtemp(prefix="fastvit-fx-shots-")

    settings = AppSettings(Path(tmp) / "s.ini")
    settings.mirror = False
    window = build_window(DemoSource(*size, with_truth=truth), presets, settings,
                          segmenter_factory=None if truth else live_segmenter_factory(), make_effect=EffectRenderer,
                          record_dir=tmp, truth_masks=truth)
    session = window.session
    window.resize(*window_size)  # the camera-sized frames, shown scaled in a window of this size
    window.show()
    window.start()
    written = []
    try:
        _pump(app, 1.0)
        if not truth and not session.driver.wait_masks(3, timeout=120):
            raise RuntimeError(f"no masks: {session.driver.model_message}")
        names = [p.name for p in presets]
        for effect in effects:
            window.set_effect(presets[names.index(effect)])
            if effect == recording:
                session.start_recording()
            _pump(app, settle)
            window._tick()
            _pump(app, 0.1)
            path = out_dir / f"app-{effect}.png"
            window.grab().save(str(path))
            written.append(path)
            if session.recording is not None:
                session.stop_recording()
                session.poll()
                window.view.notify("record", None)  # not in the next picture
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
    import argparse

    parser = argparse.ArgumentParser(description="grab the app window to PNGs")
    parser.add_argument("out", nargs="?", default="docs/screenshots")
    parser.add_argument("effects", nargs="*", default=["rim-light", "snow", "color-pop"])
    parser.add_argument("--truth", action="store_true", help="the demo's exact mask instead of the segmenter")
    parser.add_argument("--recording", default=None, metavar="EFFECT", help="record while taking this one")
    parser.add_argument("--settle", type=float, default=4.0)
    parser.add_argument("--help-effect", default=None, metavar="EFFECT", help="the effect behind the help overlay")
    a = parser.parse_args()
    for p in take(a.out, a.effects, settle=a.settle, help_effect=a.help_effect or a.effects[0], truth=a.truth,
                  recording=a.recording):
        print(p)
