"""`fastvit-fx app`: the one place that wires the app together - the source, the effects, the segmenter,
the live session, the settings and the window."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def load_effects() -> tuple[object | None, list[str], object | None]:
    """(the PresetSet, problems to show, renderer factory) from the effects engine. Without a working
    engine: no presets (the window offers just 'none'), with the reason as a notice."""
    try:
        from ..fx import EffectRenderer, load_presets
    except ImportError as exc:
        return None, [f"effects engine not available ({exc}); showing the camera as it is"], None
    library = load_presets()
    return library, list(library.errors), EffectRenderer


def choose_effect(library, name: str | None) -> str | None:
    """`name` if the library has it; otherwise PresetError with the reason: its file's own problem
    (file and key) when that file is broken, else the list of choices."""
    if name is None or library is None:
        return name if library is not None else None
    return library.get(name).name


def check_qt_platform() -> None:
    """Qt aborts the whole process (SIGABRT) when its platform plugin cannot load a system library;
    find that out first and say it in one line (before anything imports PyQt6)."""
    from . import platform_check

    problem = platform_check.qt_platform_problem()
    if problem:
        raise UserError(problem)


def _check_display() -> None:
    """Qt aborts the whole process when it finds no display; say it in one line instead."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                        "for a headless run set QT_QPA_PLATFORM=offscreen, or use `fastvit-fx render`")


def build_window(source, presets: list | None, settings, *, segmenter=None, segmenter_factory=None,
                 make_effect=None, effect: str | None = None, record_dir=None, demo_factory=None,
                 notices: list[str] | None = None, truth_masks: bool = False, mask_mode: str | None = None,
                 record_raw: bool = False, virtual_camera_settings=None, open_audio=None,
                 crf: int | None = None):
    """The session over `source` and the window over the session (not started). presets: fx Presets
    (None: just 'none'); make_effect(preset) builds one's renderer (default: fx.EffectRenderer)."""
    from ..io.capture import DemoSource
    from ..live.session import LiveSession
    from ..live.virtual_camera import VirtualCameraSettings
    from .window import MainWindow, PlainPreset

    presets = list(presets or [PlainPreset("none", None, "the camera as it is")])
    session = LiveSession(source, presets, make_effect=make_effect or _effect_renderer,
                          segmenter=segmenter, segmenter_factory=segmenter_factory,
                          record_dir=record_dir or settings.record_dir, effect=effect or settings.effect,
                          mirror=settings.mirror, mask_mode=mask_mode or settings.mask_mode,
                          truth_masks=truth_masks, demo_factory=demo_factory or DemoSource, record_raw=record_raw,
                          virtual_camera_settings=virtual_camera_settings or VirtualCameraSettings(),
                          open_audio=open_audio, crf=settings.crf if crf is None else crf)
    return MainWindow(session, settings, notices=notices)


def live_segmenter_factory(weights=None, backend: str = "auto", size: int | None = None, device: str | None = None,
                           zoom: bool = True):
    """The app's one way to build its segmenter: a factory the live driver calls on its segmenter thread
    (so a slow model load never holds up the window, and torch's threads are capped where it runs)."""
    def build():
        from ..segment import open_segmenter

        return open_segmenter(weights, backend=backend, size=size, device=device, smooth=True, zoom=zoom)
    return build


def virtual_camera_settings(options):
    from ..live.virtual_camera import VirtualCameraSettings

    mirror = {"on": True, "off": False}.get(getattr(options, "virtual_camera_mirror", None) or "")
    return VirtualCameraSettings(device=getattr(options, "virtual_camera_device", None), mirror=mirror)


def _effect_renderer(preset):
    from .window import PlainPreset

    if isinstance(preset, PlainPreset):
        return None
    from ..fx import EffectRenderer

    return EffectRenderer(preset)


def run_app(options) -> int:
    """options: argparse namespace from commands/app.py (camera, source, effect, backend, record_dir,
    weights, size, device, mask_mode, settings)."""
    _check_display()
    check_qt_platform()  # before the first PyQt6 import: Qt would abort instead of raising
    from PyQt6.QtWidgets import QApplication

    from ..io.capture import VideoFileSource, VideoReader, open_source
    from ..io.microphone import open_microphone
    from ..paths import check_writable_folder
    from ..resources import default_weights
    from .settings import APPLICATION, ORGANIZATION, AppSettings

    if options.weights is not None and not Path(options.weights).expanduser().exists():
        raise UserError(f"weights file {options.weights}: no such file")
    # a folder that cannot be written is one line now, not a failed recording later (nor a saved default)
    record_dir = check_writable_folder(options.record_dir) if options.record_dir else None
    library, problems, renderer_cls = load_effects()
    effect = choose_effect(library, getattr(options, "effect", None))
    presets = list(library.presets) if library is not None else []

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    settings = AppSettings(getattr(options, "settings", None))

    if options.source:
        source = open_source(options.source)  # a missing file is a one-line error before any window
        if isinstance(source, VideoFileSource):
            VideoReader(source.path).close()  # ... and so is one that is not a readable video
    else:
        camera = options.camera if options.camera is not None else settings.camera
        source = open_source(int(camera))
    backend = options.backend or settings.backend
    if options.backend:
        settings.backend = options.backend
    if record_dir is not None:
        settings.record_dir = record_dir
    else:
        record_dir = settings.record_dir
    if getattr(options, "mask_mode", None):
        settings.mask_mode = options.mask_mode

    segmenter_factory = live_segmenter_factory(weights=options.weights, backend=backend, size=options.size,
                                               device=options.device, zoom=getattr(options, "zoom", True))
    make_effect = (lambda p: renderer_cls(p)) if renderer_cls is not None else (lambda p: None)
    window = build_window(source, presets or None, settings, segmenter_factory=segmenter_factory,
                          make_effect=make_effect, effect=effect, record_dir=record_dir, notices=problems,
                          record_raw=getattr(options, "record_raw", False),
                          virtual_camera_settings=virtual_camera_settings(options),
                          open_audio=None if getattr(options, "no_sound", False) else open_microphone,
                          crf=settings.crf)
    if options.weights is None and not default_weights().exists():  # said at once; the window's notice follows
        print(f"fastvit-fx: no trained weights yet ({default_weights()}): the app runs, effects start "
              "as soon as that file exists", file=sys.stderr)
    window.show()
    window.start()
    if getattr(options, "virtual_camera", False):
        window.toggle_virtual_camera()  # no device: one line says what to load; the app runs on
    if options.camera is not None and not window.session.fell_back:
        settings.camera = options.camera  # remembered once it has opened
    if getattr(options, "quit_after", None):
        from PyQt6.QtCore import QTimer

        QTimer.singleShot(int(options.quit_after * 1000), window.close)
    return int(app.exec())
