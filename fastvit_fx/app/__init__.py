"""The Qt app: window, video view, HUD, hotkeys, settings. All Qt code lives in this package;
nothing else in fastvit_fx imports Qt, so the engine stays headless.

`run_app(options)` is what `fastvit-fx app` calls. `main.build_window` wires a live session (the
Qt-free `fastvit_fx.live.session`) to a `MainWindow`, which only maps keys to session calls and
paints; tests and the screenshot script build windows with it, with their own source, segmenter and
settings file.
"""
from __future__ import annotations


def run_app(options) -> int:
    from .main import run_app as _run

    return _run(options)


__all__ = ["run_app"]
