"""What the app remembers between launches (QSettings): camera, effect, mirror, record folder, backend,
mask mode, recording quality."""
from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings, QStandardPaths

from ..paths import check_writable_folder
from ..io.record import DEFAULT_CRF, RecordError, check_crf

ORGANIZATION = "fastvit-fx"
APPLICATION = "fastvit-fx"


def default_record_dir() -> Path:
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies or Path.home() / "Videos") / "fastvit-fx"


class AppSettings:
    """Typed access to QSettings. `path` gives a private INI file (tests); None: the user's settings."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._q = QSettings(ORGANIZATION, APPLICATION)
        else:
            self._q = QSettings(str(path), QSettings.Format.IniFormat)

    def _get(self, key: str, default, kind):
        value = self._q.value(key, None)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    @property
    def camera(self) -> int:
        return self._get("camera", 0, int)

    @camera.setter
    def camera(self, value: int) -> None:
        self._q.setValue("camera", int(value))

    @property
    def effect(self) -> str | None:
        return self._get("effect", None, str)

    @effect.setter
    def effect(self, value: str) -> None:
        self._q.setValue("effect", str(value))

    @property
    def mirror(self) -> bool:
        return self._get("mirror", True, bool)  # a webcam preview reads like a mirror by default

    @mirror.setter
    def mirror(self, value: bool) -> None:
        self._q.setValue("mirror", bool(value))

    @property
    def record_dir(self) -> Path:
        value = self._get("record_dir", None, str)
        return Path(value) if value else default_record_dir()

    @record_dir.setter
    def record_dir(self, value: str | Path) -> None:
        """Only a folder that can be written is remembered (UserError naming it otherwise): a bad one
        would fail every recording of every later launch."""
        self._q.setValue("record_dir", str(check_writable_folder(value)))

    @property
    def crf(self) -> int:
        """The recorder's constant quality (x264 CRF 0-51; lower: better and bigger). A bad value in
        the settings file falls back to the default rather than stopping every recording."""
        try:
            return check_crf(self._get("crf", DEFAULT_CRF, int))
        except RecordError:
            return DEFAULT_CRF

    @crf.setter
    def crf(self, value: int) -> None:
        self._q.setValue("crf", check_crf(value))

    @property
    def backend(self) -> str:
        return self._get("backend", "auto", str)

    @backend.setter
    def backend(self, value: str) -> None:
        self._q.setValue("backend", str(value))

    @property
    def mask_mode(self) -> str:
        """'own' or 'carry' (see fastvit_fx/live/driver.py); the measured default otherwise."""
        from ..live import DEFAULT_MASK_MODE, MaskMode

        value = self._get("mask_mode", DEFAULT_MASK_MODE.value, str)
        return value if value in [m.value for m in MaskMode] else DEFAULT_MASK_MODE.value

    @mask_mode.setter
    def mask_mode(self, value: str) -> None:
        self._q.setValue("mask_mode", str(value))

    def sync(self) -> None:
        self._q.sync()

    @property
    def file_name(self) -> str:
        return self._q.fileName()
