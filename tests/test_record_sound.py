"""Clips with sound: the recorder with a fake audio source (known samples at known times) writes an AAC
track whose onset is where it should be; the block clock keeps a drifting sound card within a frame over
10 minutes; no microphone or no library gives a silent clip and one line."""
from __future__ import annotations


import av
import numpy as np
import pytest

from fastvit_fx.io.audio_track import SampleEncoder
from fastvit_fx.io.microphone import BlockClock, open_microphone
from fastvit_fx.io.record_sound import SYNC_TOLERANCE_S, SoundRecorder

from test_render_sound import flash_time, tone_onset

T0 = 5000.0  # the capture clock (time.monotonic()) when the first frame was taken
FPS = 30


class FakeAudio:
    """Mono blocks stamped on the capture clock: silence, then a 1 kHz tone from tone_at (capture time).
    Each read() hands over the next few blocks, as a microphone would while a clip is recorded."""

    def __init__(self, tone_at: float, begin: float = T0 - 0.3, end: float = T0 + 2.2, rate: int = 48000,
                 block: int = 1024) -> None:
        self.rate, self.channels, self.name = rate, 1, "fake microphone"
        self.started = self.stopped = 0
        starts = np.arange(begin, end, block / rate)
        self.blocks = []
        for start in starts:
            t = start + np.arange(block) / rate
            samples = np.where(t >= tone_at, 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0).astype(np.float32)
            self.blocks.append((float(start), samples[None, :]))

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1

    def read(self):
        taken, self.blocks = self.blocks[:3], self.blocks[3:]
        return taken


def record(tmp_path, audio, count=60, flash=30):
    recorder = SoundRecorder(tmp_path, audio, fps=FPS, queue_frames=count + 5)
    path = recorder.start()
    for i in range(count):
        image = np.full((48, 64, 3), 255 if i == flash else 20, np.uint8)
        assert recorder.write(image, T0 + i / FPS)
    info = recorder.stop()
    assert info.error is None and info.frames == count
    return path, recorder


def test_sound_onset_is_where_it_was_heard(tmp_path):
    audio = FakeAudio(tone_at=T0 + 1.0)  # heard at the flash frame's capture time
    path, _ = record(tmp_path, audio)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    # (the muxer moves both tracks by the AAC encoder's priming, 1024 samples, so only the difference counts)
    assert abs(tone_onset(path) - flash_time(path)) < 1 / FPS
    assert audio.started == 1 and audio.stopped == 1  # the microphone runs only while recording


def test_sound_heard_later_is_later_in_the_clip(tmp_path):
    path, _ = record(tmp_path, FakeAudio(tone_at=T0 + 1.5))
    assert abs(tone_onset(path) - flash_time(path) - 0.5) < 1 / FPS


def test_no_audio_source_gives_a_silent_clip(tmp_path):
    path, recorder = record(tmp_path, None, count=5)
    with av.open(str(path)) as container:
        assert not container.streams.audio and container.streams.video


def test_a_microphone_that_will_not_start_gives_a_silent_clip_and_one_line(tmp_path):
    class Broken(FakeAudio):
        def start(self):
            raise OSError("Error opening InputStream: Device unavailable\n[PaErrorCode -9985]")

    path, recorder = record(tmp_path, Broken(tone_at=T0), count=5)
    with av.open(str(path)) as container:
        assert not container.streams.audio
    assert recorder.sound_note == ("no sound in clips: fake microphone would not start (Error opening InputStream: "
                                   "Device unavailable [PaErrorCode -9985])")


def test_open_microphone_without_a_library_or_device_is_one_line():
    mic, note = open_microphone()
    if mic is not None:
        pytest.skip(f"this machine has a working microphone ({mic.name})")
    assert note.startswith("no sound in clips: ") and "\n" not in note


class CollectingStream:
    """Stands in for an AAC stream: keeps where each block was placed (in samples)."""

    def __init__(self) -> None:
        self.placed: list[tuple[int, int]] = []

    def encode(self, frame):
        if frame is not None:
            self.placed.append((frame.pts, frame.samples))
        return []


@pytest.mark.parametrize("ppm", [-300, 0, 300])
def test_a_drifting_sound_card_stays_within_a_frame_over_ten_minutes(ppm):
    """The card's clock runs ppm off the computer's and each block's measured time jitters by up to
    4 ms: over 10 minutes, every block stays within one frame of when it was heard, and the sound
    is re-placed rarely and by a few ms only (no audible jumps)."""
    rate, block, minutes = 16000, 1024, 10
    true_rate = rate * (1 + ppm * 1e-6)  # samples per real second
    rng = np.random.default_rng(0)
    clock, stream = BlockClock(rate), CollectingStream()
    encoder = SampleEncoder(stream, rate, "mono", tolerance_s=SYNC_TOLERANCE_S)
    origin = T0  # the clip's first frame
    silence = np.zeros((1, block), np.float32)
    errors = []
    for k in range(int(minutes * 60 * true_rate / block)):
        heard = T0 + k * block / true_rate
        measured = heard + rng.uniform(0, 0.004)  # the callback is a little late, never early
        stamped = clock.stamp(block, measured)
        before = len(stream.placed)
        list(encoder.add(silence, stamped - origin))
        if len(stream.placed) > before:
            pts, _ = stream.placed[-1]
            errors.append(pts / rate - (heard - origin))
    errors = np.abs(np.array(errors))
    assert errors.max() < 1 / FPS, errors.max()
    steps = np.diff([pts for pts, _ in stream.placed]) - block
    assert np.abs(steps).max() <= 2 * SYNC_TOLERANCE_S * rate  # small re-placings only, and rarely
    assert (steps != 0).mean() < 0.01


def test_counting_alone_would_drift():
    """The test above can fail: a clock that never adapts is off by 180 ms after 10 minutes at 300 ppm."""
    rate, block = 16000, 1024
    clock = BlockClock(rate, adapt=0.0)
    true_rate = rate * (1 + 300e-6)
    k = int(600 * true_rate / block)
    for i in range(k + 1):
        stamped = clock.stamp(block, T0 + i * block / true_rate)
    assert abs(stamped - (T0 + k * block / true_rate)) > 0.15


def test_one_microphone_feeds_the_clip_and_the_raw_clip():
    from fastvit_fx.io.microphone import SharedAudio

    source = FakeAudio(tone_at=T0)
    total = len(source.blocks)
    shared = SharedAudio(source)
    clip, raw = shared.reader(), shared.reader()
    clip.start()
    raw.start()
    got_clip, got_raw = [], []
    for _ in range(total):
        got_clip += clip.read()
        got_raw += raw.read()
    assert len(got_clip) == len(got_raw) == total and source.started == 1
    assert [t for t, _ in got_clip] == [t for t, _ in got_raw]
    clip.stop()
    assert source.stopped == 0  # the raw clip still records
    raw.stop()
    assert source.stopped == 1
