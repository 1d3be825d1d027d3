"""The microphone, for clips with sound: blocks of samples stamped on `time.monotonic()`, the clock the
camera stamps its frames with, so the recorder can place sound and picture by timestamps.

    mic, note = open_microphone()      # (None, "no sound: ...") without a microphone or sounddevice
    mic.start(); ...; blocks = mic.read(); mic.stop()    # [(t_first_sample, float32 channels x n), ...]

sounddevice (PortAudio) is the optional extra `fastvit-fx[sound]`. Any object with `rate`, `channels`,
`start()`, `stop()` and `read()` can stand in for a microphone (tests feed known samples that way).
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Protocol

import numpy as np

INSTALL_EXTRA = "pip install 'fastvit-fx[sound]'"


class AudioSource(Protocol):
    rate: int
    channels: int

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read(self) -> list[tuple[float, np.ndarray]]:
        """Blocks since the last call: (time.monotonic() of the first sample, float32 channels x n)."""


class BlockClock:
    """Stamps blocks by counting samples from the first one, kept on the monotonic clock by a slowly
    adapting offset: a sound card's clock drifts from the computer's (0.01 % is 60 ms in 10 minutes),
    and single callback times jitter by milliseconds. Counting alone would drift; stamping each block
    with its own callback time would jitter."""

    def __init__(self, rate: int, adapt: float = 0.05) -> None:
        self.rate = int(rate)
        self.adapt = adapt
        self.samples = 0
        self.origin: float | None = None  # monotonic time of sample 0, as currently believed

    def stamp(self, n: int, measured_start: float) -> float:
        """The start time of a block of n samples whose start was measured at measured_start."""
        if self.origin is None:
            self.origin = measured_start
        counted = self.origin + self.samples / self.rate
        self.origin += self.adapt * (measured_start - counted)
        self.samples += n
        return self.origin + (self.samples - n) / self.rate


class Microphone:
    """The default input device through sounddevice; blocks queue up (bounded: about a minute) until read()."""

    def __init__(self, rate: int = 48000, channels: int = 1, device=None, block: int = 1024) -> None:
        import sounddevice

        self._sd = sounddevice
        self.rate, self.channels, self.device, self.block = int(rate), int(channels), device, int(block)
        self.name = str(sounddevice.query_devices(device, "input")["name"])
        self._blocks: collections.deque = collections.deque(maxlen=int(60 * self.rate / self.block))
        self._lock = threading.Lock()
        self._clock = BlockClock(self.rate)
        self._stream = None
        self.status: str | None = None  # an overflow, say

    def _callback(self, data, frames, time_info, status) -> None:  # PortAudio's thread
        now = time.monotonic()
        latency = max(float(time_info.currentTime - time_info.inputBufferAdcTime), 0.0) \
            if time_info.currentTime else 0.0
        start = self._clock.stamp(frames, now - latency)
        if status:
            self.status = str(status)
        with self._lock:
            self._blocks.append((start, np.ascontiguousarray(data.T, dtype=np.float32)))

    def start(self) -> None:
        self._clock = BlockClock(self.rate)
        self._stream = self._sd.InputStream(samplerate=self.rate, channels=self.channels, dtype="float32",
                                            blocksize=self.block, device=self.device, callback=self._callback)
        self._stream.start()

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()

    def read(self) -> list[tuple[float, np.ndarray]]:
        with self._lock:
            blocks = list(self._blocks)
            self._blocks.clear()
        return blocks


def open_microphone(rate: int = 48000, channels: int = 1, device=None) -> tuple[Microphone | None, str | None]:
    """(the microphone, None), or (None, one line saying why clips will be silent)."""
    try:
        import sounddevice  # noqa: F401
    except ImportError:
        return None, f"no sound in clips: sounddevice is not installed ({INSTALL_EXTRA})"
    except OSError as exc:  # the module is there but PortAudio is not
        return None, f"no sound in clips: {exc} (Debian/Ubuntu: sudo apt install libportaudio2)"
    try:
        return Microphone(rate, channels, device), None
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return None, f"no sound in clips: no microphone{f' {device}' if device is not None else ''} ({text})"


class SharedAudio:
    """One microphone, several clips (the effected one and the raw one): `reader()` gives each its own
    AudioSource; every reader gets every block heard while it runs, and the microphone runs while any does."""

    def __init__(self, source: AudioSource) -> None:
        self.source = source
        self.rate, self.channels = source.rate, source.channels
        self.name = getattr(source, "name", "microphone")
        self._lock = threading.Lock()
        self._running: list[_SharedReader] = []

    def reader(self) -> "_SharedReader":
        return _SharedReader(self)

    def _start(self, reader: "_SharedReader") -> None:
        with self._lock:
            if not self._running:
                self.source.start()
            reader.blocks.clear()
            self._running.append(reader)

    def _stop(self, reader: "_SharedReader") -> None:
        with self._lock:
            if reader in self._running:
                self._running.remove(reader)
                if not self._running:
                    self.source.stop()

    def _read(self, reader: "_SharedReader") -> list[tuple[float, np.ndarray]]:
        with self._lock:
            fresh = self.source.read() if self._running else []
            for other in self._running:
                other.blocks.extend(fresh)
            taken = list(reader.blocks)
            reader.blocks.clear()
        return taken


class _SharedReader:
    def __init__(self, shared: SharedAudio) -> None:
        self.shared = shared
        self.rate, self.channels, self.name = shared.rate, shared.channels, shared.name
        self.blocks: list[tuple[float, np.ndarray]] = []

    def start(self) -> None:
        self.shared._start(self)

    def stop(self) -> None:
        self.shared._stop(self)

    def read(self) -> list[tuple[float, np.ndarray]]:
        return self.shared._read(self)
