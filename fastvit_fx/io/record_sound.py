"""Clips with sound: the live `Recorder` plus an AAC track from a microphone (or any `AudioSource`).

Picture and sound meet by timestamps on one clock: a frame captured at t is at t - t0 in the clip (t0:
the clip's first frame), and a block of samples whose first sample was heard at s is at s - t0. The
recorder's thread takes in the sound captured so far after each picture it writes, so both tracks
grow together in the fragmented MP4 (a crash still leaves a playable clip, with its sound).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio_track import SampleEncoder
from .microphone import AudioSource
from .record import ClipWriter, Recorder

# how far sound may wander from the capture clock before it is re-placed: small re-placings (a few ms of
# silence or cut) are inaudible, and the sound stays well within a frame of the picture
SYNC_TOLERANCE_S = 0.008


class SoundClipWriter:
    """A ClipWriter with an AAC track from `audio`, placed relative to `origin` (the first frame's time)."""

    def __init__(self, writer: ClipWriter, audio: AudioSource, origin: float) -> None:
        self.writer, self.audio, self.origin = writer, audio, float(origin)
        self.codec_name = writer.codec_name
        self.settings = writer.settings  # what the recorder reports as its encoder
        layout = "mono" if audio.channels == 1 else "stereo"
        self.stream = writer.container.add_stream("aac", rate=int(audio.rate), layout=layout)
        self.stream.codec_context.time_base = Fraction(1, int(audio.rate))
        self.encoder = SampleEncoder(self.stream, int(audio.rate), layout, tolerance_s=SYNC_TOLERANCE_S)

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        self.writer.write(image, pts)
        self._take_sound()

    def _take_sound(self) -> None:
        for start, samples in self.audio.read():
            for packet in self.encoder.add(samples, start - self.origin):
                self.writer.container.mux(packet)

    def close(self) -> None:
        self._take_sound()
        for packet in self.encoder.finish():
            self.writer.container.mux(packet)
        self.writer.close()

    def abandon(self) -> None:
        self.writer.abandon()

    @property
    def frames(self) -> int:
        return self.writer.frames


class SoundRecorder(Recorder):
    """A Recorder whose clips carry `audio` (None: silent clips). The source runs while a clip is recorded.
    `sound_note` says in one line why a clip is silent, when it is."""

    def __init__(self, folder: str | Path, audio: AudioSource | None, **options) -> None:
        super().__init__(folder, **options)
        self.audio = audio
        self.sound_note: str | None = None
        self._sound_on = False

    def start(self) -> Path:
        self._sound_on = False
        if self.audio is not None and not self.active:
            try:
                self.audio.start()
                self._sound_on = True
            except Exception as exc:
                name = getattr(self.audio, "name", "microphone")
                self.sound_note = f"no sound in clips: {name} would not start ({' '.join(str(exc).split())})"
        try:
            return super().start()
        except Exception:
            self._stop_sound()
            raise

    def _open_writer(self, path: Path, image: np.ndarray, t: float, time_base: Fraction):
        writer = super()._open_writer(path, image, t, time_base)
        return SoundClipWriter(writer, self.audio, t) if self._sound_on else writer

    def stop(self, timeout: float = 30.0):
        info = super().stop(timeout)
        self._stop_sound()
        return info

    def _stop_sound(self) -> None:
        if self._sound_on:
            self._sound_on = False
            try:
                self.audio.stop()
            except Exception:
                pass
