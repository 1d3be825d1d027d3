"""The video view: the newest frame scaled to fit (aspect kept, black bars), the HUD, notices and the
help overlay, all painted in one paintEvent so a grab() shows exactly what the user sees."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QPointF, QRect, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

LEVEL_COLOURS = {
    "info": QColor(235, 235, 235),
    "ok": QColor(140, 230, 140),
    "warning": QColor(255, 200, 90),
    "error": QColor(255, 120, 110),
}


@dataclass
class Notice:
    text: str
    level: str = "info"
    until: float | None = None  # time.monotonic() when it disappears; None: until cleared


@dataclass
class HudState:
    effect: str = ""
    effect_key: str = ""
    fps: float = 0.0
    seg_ms: float = 0.0
    seg_fps: float = 0.0
    backend: str = ""
    zoomed: bool = False  # the segmenter is looking closer at someone small in the frame
    input_size: int = 0  # the network input's longest side (a large person may get a larger one)
    render_ms: float = 0.0
    latency_ms: float = 0.0  # capture -> shown: the picture lags the camera by this much
    recording: bool = False
    rec_seconds: float = 0.0
    rec_dropped: int = 0
    rec_warning: str = ""  # the clip is falling below the camera's rate (RecordHealth.warning)
    mirror: bool = False
    debug: bool = False
    source: str = ""
    help_rows: list[tuple[str, str]] = field(default_factory=list)  # (keys, what they do)
    effect_rows: list[tuple[str, str, str]] = field(default_factory=list)  # (key, name, description)

    def recording_lines(self) -> list[str]:
        """What the top-right recording panel says: time, drops, and a warning while the clip is short
        of the camera's rate."""
        if not self.recording:
            return []
        seconds = int(self.rec_seconds)
        line = f"REC {seconds // 60:02d}:{seconds % 60:02d}"
        if self.rec_dropped:
            line += f"  dropped {self.rec_dropped}"
        return [line, self.rec_warning] if self.rec_warning else [line]


def to_qimage(image: np.ndarray) -> QImage:
    """A BGR uint8 array as a QImage that shares its memory (keep the array alive while it's used)."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, int(image.strides[0]), QImage.Format.Format_BGR888)


def fit_rect(image_w: int, image_h: int, area_w: int, area_h: int) -> QRect:
    """The largest rectangle of the image's aspect that fits the area, centred."""
    if image_w <= 0 or image_h <= 0 or area_w <= 0 or area_h <= 0:
        return QRect(0, 0, max(area_w, 0), max(area_h, 0))
    scale = min(area_w / image_w, area_h / image_h)
    w, h = max(int(round(image_w * scale)), 1), max(int(round(image_h * scale)), 1)
    return QRect((area_w - w) // 2, (area_h - h) // 2, w, h)


class VideoView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(320, 180)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self.hud = HudState()
        self.notices: dict[str, Notice] = {}
        self.show_help = False
        self.show_hud = True
        self.frames_shown = 0

    # -- content --------------------------------------------------------------------------------
    def set_frame(self, image: np.ndarray) -> None:
        self._array = np.ascontiguousarray(image)
        self._image = to_qimage(self._array)
        self.frames_shown += 1
        self.update()

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return None if self._array is None else (self._array.shape[1], self._array.shape[0])

    def image_rect(self) -> QRect:
        size = self.frame_size or (16, 9)
        return fit_rect(size[0], size[1], self.width(), self.height())

    def notify(self, key: str, text: str | None, level: str = "info", seconds: float | None = 6.0) -> None:
        """Show (or with text=None, clear) the notice under `key`; seconds=None keeps it until cleared."""
        if text is None:
            if self.notices.pop(key, None) is not None:
                self.update()
            return
        old = self.notices.get(key)
        until = None if seconds is None else time.monotonic() + seconds
        if old is None or old.text != text or old.level != level or seconds is not None:
            self.notices[key] = Notice(text, level, until)
            self.update()

    def active_notices(self) -> list[Notice]:
        now = time.monotonic()
        for key in [k for k, n in self.notices.items() if n.until is not None and n.until < now]:
            del self.notices[key]
        return list(self.notices.values())

    # -- painting -------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(self.image_rect(), self._image)
        else:
            p.setPen(QColor(180, 180, 180))
            p.setFont(self._font(14))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "starting...")
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if self.show_hud:
            self._paint_hud(p)
        self._paint_notices(p)
        if self.show_help:
            self._paint_help(p)
        p.end()

    def _font(self, px: float, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(max(int(px), 8))
        font.setBold(bold)
        return font

    def _unit(self) -> float:
        """Scale for the overlay: readable on a small window and on fullscreen alike."""
        return max(min(self.width() / 1280.0, self.height() / 720.0), 0.6)

    def _panel(self, p: QPainter, rect: QRectF, alpha: int = 150, radius: float = 8.0) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, radius, radius)
        p.fillPath(path, QColor(0, 0, 0, alpha))

    def _paint_hud(self, p: QPainter) -> None:
        u = self._unit()
        h = self.hud
        pad = 10 * u
        # top left: the effect and the numbers
        title = f"{h.effect_key}  {h.effect}" if h.effect_key else h.effect
        if h.debug:
            title += "   [mask view]"
        parts = [f"{h.fps:4.1f} fps"]
        if h.seg_ms > 0:
            size = f" @{h.input_size}" if h.input_size else ""
            parts.append(f"seg {h.seg_ms:.0f} ms{size} ({h.seg_fps:.0f}/s)" + (" zoom" if h.zoomed else ""))
        if h.render_ms > 0:
            parts.append(f"fx {h.render_ms:.0f} ms")
        if h.latency_ms > 0:
            parts.append(f"lag {h.latency_ms:.0f} ms")
        if h.backend:
            parts.append(h.backend)
        line2 = "  ·  ".join(parts)
        line3 = h.source + ("  ·  mirrored" if h.mirror else "")
        f1, f2 = self._font(22 * u, bold=True), self._font(14 * u)
        m1, m2 = QFontMetrics(f1), QFontMetrics(f2)
        width = max(m1.horizontalAdvance(title), m2.horizontalAdvance(line2), m2.horizontalAdvance(line3)) + 2 * pad
        height = m1.height() + 2 * m2.height() + 2 * pad
        box = QRectF(pad, pad, width, height)
        self._panel(p, box)
        p.setFont(f1)
        p.setPen(QColor(255, 255, 255))
        y = box.top() + pad + m1.ascent()
        p.drawText(QPointF(box.left() + pad, y), title)
        p.setFont(f2)
        p.setPen(QColor(210, 210, 210))
        y += m1.descent() + m2.ascent()
        p.drawText(QPointF(box.left() + pad, y), line2)
        y += m2.height()
        p.setPen(QColor(170, 170, 170))
        p.drawText(QPointF(box.left() + pad, y), line3)
        # top right: recording
        if h.recording:
            text, *warning = h.recording_lines()
            f = self._font(20 * u, bold=True)
            m = QFontMetrics(f)
            dot = m.height() * 0.55
            w = m.horizontalAdvance(text) + dot + 3 * pad
            box = QRectF(self.width() - pad - w, pad, w, m.height() + pad)
            self._panel(p, box)
            blink = (time.monotonic() % 1.0) < 0.6
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(235, 40, 40) if blink else QColor(120, 30, 30))
            cy = box.center().y()
            p.drawEllipse(QPointF(box.left() + pad + dot / 2, cy), dot / 2, dot / 2)
            p.setFont(f)
            p.setPen(QColor(255, 255, 255))
            p.drawText(QPointF(box.left() + 2 * pad + dot, cy + (m.ascent() - m.descent()) / 2), text)
            if warning:
                fw = self._font(14 * u)
                mw = QFontMetrics(fw)
                ww = mw.horizontalAdvance(warning[0]) + 2 * pad
                wbox = QRectF(self.width() - pad - ww, box.bottom() + pad / 2, ww, mw.height() + pad)
                self._panel(p, wbox)
                p.setFont(fw)
                p.setPen(LEVEL_COLOURS["warning"])
                p.drawText(wbox, Qt.AlignmentFlag.AlignCenter, warning[0])
        # bottom right: where help is
        f = self._font(13 * u)
        p.setFont(f)
        m = QFontMetrics(f)
        hint = "H  help"
        w = m.horizontalAdvance(hint) + 2 * pad
        box = QRectF(self.width() - pad - w, self.height() - pad - m.height() - pad, w, m.height() + pad)
        self._panel(p, box, alpha=110)
        p.setPen(QColor(220, 220, 220))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, hint)

    def _paint_notices(self, p: QPainter) -> None:
        notices = self.active_notices()
        if not notices:
            return
        u = self._unit()
        pad = 10 * u
        f = self._font(15 * u)
        p.setFont(f)
        m = QFontMetrics(f)
        max_w = int(self.width() * 0.72)
        y = self.height() - pad
        for notice in reversed(notices[-4:]):
            rect = m.boundingRect(QRect(0, 0, max_w, 10000), Qt.TextFlag.TextWordWrap, notice.text)
            box = QRectF(pad, y - rect.height() - pad, rect.width() + 2 * pad, rect.height() + pad)
            self._panel(p, box, alpha=170)
            p.setPen(LEVEL_COLOURS.get(notice.level, LEVEL_COLOURS["info"]))
            p.drawText(box.adjusted(pad, pad / 2, -pad, -pad / 2), Qt.TextFlag.TextWordWrap, notice.text)
            y = box.top() - pad / 2

    def _paint_help(self, p: QPainter) -> None:
        u = self._unit()
        h = self.hud
        pad = 14 * u
        fk, ft, fh = self._font(16 * u, bold=True), self._font(16 * u), self._font(20 * u, bold=True)
        mk, mt, mh = QFontMetrics(fk), QFontMetrics(ft), QFontMetrics(fh)
        line = mt.height() + 4 * u
        key_w = max([mk.horizontalAdvance(k) for k, _ in h.help_rows] + [mk.horizontalAdvance("Left / Right")]) + pad
        col1 = key_w + max([mt.horizontalAdvance(d) for _, d in h.help_rows] + [0])
        ekey_w = max([mk.horizontalAdvance(k) for k, _, _ in h.effect_rows] + [mk.horizontalAdvance("9")]) + pad
        col2 = ekey_w + max([mt.horizontalAdvance(n) for _, n, _ in h.effect_rows] + [0])
        rows = max(len(h.help_rows), len(h.effect_rows))
        width = col1 + col2 + 5 * pad
        height = mh.height() + pad + rows * line + 2 * pad
        scale = min(1.0, (self.width() - 2 * pad) / width, (self.height() - 2 * pad) / height)
        p.save()
        p.fillRect(self.rect(), QColor(0, 0, 0, 90))
        p.translate(self.width() / 2, self.height() / 2)
        p.scale(scale, scale)
        box = QRectF(-width / 2, -height / 2, width, height)
        self._panel(p, box, alpha=215, radius=12 * u)
        p.setPen(QPen(QColor(255, 255, 255, 60), 1))
        p.drawLine(QPointF(box.left() + 2 * pad + col1, box.top() + pad + mh.height() + pad / 2),
                   QPointF(box.left() + 2 * pad + col1, box.bottom() - pad))
        p.setFont(fh)
        p.setPen(QColor(255, 255, 255))
        p.drawText(QPointF(box.left() + pad, box.top() + pad + mh.ascent()), "Keys")
        p.drawText(QPointF(box.left() + 3 * pad + col1, box.top() + pad + mh.ascent()), "Effects")
        y0 = box.top() + pad + mh.height() + pad + mt.ascent()
        for i, (keys, text) in enumerate(h.help_rows):
            y = y0 + i * line
            p.setFont(fk)
            p.setPen(QColor(255, 215, 120))
            p.drawText(QPointF(box.left() + pad, y), keys)
            p.setFont(ft)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QPointF(box.left() + pad + key_w, y), text)
        x2 = box.left() + 3 * pad + col1
        for i, (key, name, _desc) in enumerate(h.effect_rows):
            y = y0 + i * line
            p.setFont(fk)
            p.setPen(QColor(255, 215, 120))
            p.drawText(QPointF(x2, y), key)
            p.setFont(ft)
            p.setPen(QColor(255, 255, 255) if name == h.effect else QColor(200, 200, 200))
            p.drawText(QPointF(x2 + ekey_w, y), name + ("  \u25c0" if name == h.effect else ""))
        p.restore()
