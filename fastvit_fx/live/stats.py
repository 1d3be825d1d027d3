"""The live numbers in one place: rates over a sliding window, smoothed times, and the snapshot the
HUD and the benchmarks read (`LiveStats`)."""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import asdict, dataclass


class RateMeter:
    """Events per second over a sliding window."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._times: collections.deque = collections.deque()
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            while self._times and now - self._times[0] > self.window:
                self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] > self.window:
                self._times.popleft()
            n = len(self._times)
            if n < 2:
                return 0.0
            span = max(now - self._times[0], self._times[-1] - self._times[0])
            return (n - 1) / span if span > 0 else 0.0


class Smoothed:
    """An exponential moving average that starts at its first value (no ramp up from zero)."""

    def __init__(self, k: float = 0.15) -> None:
        self.k = k
        self.value = 0.0
        self._seen = False

    @property
    def seen(self) -> bool:
        return self._seen

    def add(self, sample: float) -> float:
        if not self._seen:
            self.value, self._seen = float(sample), True
        else:
            self.value += self.k * (float(sample) - self.value)
        return self.value


@dataclass
class LiveStats:
    """What the live path is doing, as the HUD and the benchmarks read it."""

    fps: float = 0.0  # frames shown per second
    seg_fps: float = 0.0  # masks made per second
    seg_ms: float = 0.0  # the network alone (the segmenter's last_ms)
    seg_call_ms: float = 0.0  # the whole segmenter call: resize + network + edge refinement
    render_ms: float = 0.0  # compose: the effect (and the debug view, mirror)
    carry_ms: float = 0.0  # carrying a mask to a frame it was not computed on (optical flow + warp)
    latency_ms: float = 0.0  # capture -> shown: the display's lag behind the camera
    frames: int = 0  # frames shown
    skipped: int = 0  # source frames never shown (newest frame wins; or no mask of their own)
    masks: int = 0  # masks made
    carried: int = 0  # frames shown with a mask carried to them from a neighbouring frame
    cuts: int = 0  # cuts seen in the source (a video looping, a new camera)
    backend: str | None = None
    zoomed: bool = False  # the segmenter is looking closer at someone small in the frame
    input_size: int = 0  # the network input's longest side for the last mask (0: not known)
    effect: str = "none"
    mask_mode: str = "own"

    def as_dict(self) -> dict:
        return asdict(self)
