"""`render` keeps the input's sound in sync: a generated clip with a flash and a tone at known times; after
render, the tone's onset and the flash frame line up within one frame (AAC copied, and PCM re-encoded)."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from fastvit_fx.io.audio_track import AudioTrackError, copy_audio_track
from fastvit_fx.cli import main
from fastvit_fx.live.offline import render_video

FPS = 25
FLASH_FRAME = 30  # at 1.2 s
RATE = 48000


def make_flash_and_tone(path, codec="aac", fmt=None, count=50, size=(64, 48), audio_start=0.0, tone_at=None,
                        container_format=None):
    """Dark frames with one white frame at FLASH_FRAME; silence with a 1 kHz tone from tone_at seconds
    (default: the flash's time). The audio track starts at audio_start seconds."""
    tone_at = FLASH_FRAME / FPS if tone_at is None else tone_at
    with av.open(str(path), "w", format=container_format) as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        sound = container.add_stream(codec, rate=RATE, layout="mono")
        if fmt:
            sound.format = fmt
        for i in range(count):
            image = np.full((size[1], size[0], 3), 255 if i == FLASH_FRAME else 20, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        total = int(RATE * (count / FPS - audio_start))
        t = audio_start + np.arange(total) / RATE
        samples = np.where(t >= tone_at, 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0).astype(np.float32)
        block = 1024
        for start in range(0, total, block):
            chunk = samples[None, start:start + block]
            if fmt == "s16":
                chunk = (chunk * 32767).astype(np.int16)
            aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=fmt or "fltp", layout="mono")
            aframe.sample_rate = RATE
            aframe.pts = int(round(audio_start * RATE)) + start
            aframe.time_base = Fraction(1, RATE)
            for packet in sound.encode(aframe):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    return path


def flash_time(path) -> float:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.to_ndarray(format="gray").mean() > 128:
                return float(frame.time)
    raise AssertionError(f"{path}: no flash")


def tone_onset(path) -> float:
    with av.open(str(path)) as container:
        assert container.streams.audio, f"{path}: no audio track"
        for frame in container.decode(audio=0):
            samples = frame.to_ndarray().astype(np.float32)
            if samples.dtype != np.float32 or np.abs(samples).max() > 2:
                samples = samples / 32768.0
            loud = np.flatnonzero(np.abs(samples[0]) > 0.1)
            if loud.size:
                return float(frame.time) + loud[0] / frame.sample_rate
    raise AssertionError(f"{path}: no tone")


def black_segmenter(frame, interval_s=None):
    return np.zeros(frame.shape[:2], np.float32)


def rendered_with_sound(tmp_path, source):
    picture = tmp_path / "picture.mp4"
    render_video(source, picture, None, black_segmenter, progress=False)
    out = tmp_path / "out.mp4"
    return out, copy_audio_track(picture, source, out)


def test_the_clip_itself_has_flash_and_tone_together(tmp_path):
    source = make_flash_and_tone(tmp_path / "in.mp4")
    assert abs(flash_time(source) - 1.2) < 1e-6
    assert abs(tone_onset(source) - 1.2) < 1 / FPS  # the measuring itself is sound


def test_aac_is_copied_and_stays_in_sync(tmp_path):
    source = make_flash_and_tone(tmp_path / "in.mp4")
    out, how = rendered_with_sound(tmp_path, source)
    assert how == "copied"
    assert abs(tone_onset(out) - flash_time(out)) < 1 / FPS


def test_pcm_is_reencoded_to_aac_in_sync_even_when_the_sound_starts_late(tmp_path):
    source = make_flash_and_tone(tmp_path / "in.mov", codec="pcm_s16le", fmt="s16", audio_start=0.4)
    out, how = rendered_with_sound(tmp_path, source)
    assert how == "re-encoded"
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    assert abs(tone_onset(out) - flash_time(out)) < 1 / FPS


def test_a_tone_off_the_flash_stays_off_it(tmp_path):
    """The check can fail: sound 0.5 s after the flash must still be 0.5 s after it."""
    source = make_flash_and_tone(tmp_path / "in.mp4", tone_at=1.7)
    out, _ = rendered_with_sound(tmp_path, source)
    assert abs(tone_onset(out) - flash_time(out) - 0.5) < 1 / FPS


def test_no_audio_track_is_named(tmp_path):
    from test_render import make_video

    silent = make_video(tmp_path / "silent.mp4", count=3)
    with pytest.raises(AudioTrackError, match="silent.mp4: has no audio track"):
        copy_audio_track(silent, silent, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_render_command_keeps_the_sound(tmp_path, capsys, monkeypatch):
    pytest.importorskip("fastvit_fx.fx")
    from fastvit_fx.commands import common

    monkeypatch.setattr(common, "make_segmenter", lambda args, smooth=False: FakeSegmenter())
    source = make_flash_and_tone(tmp_path / "in.mp4")
    out = tmp_path / "out.mp4"
    assert main(["render", str(source), "--effect", "none", "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "audio track copied" in err
    assert abs(tone_onset(out) - flash_time(out)) < 1 / FPS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]  # no leftovers


class FakeSegmenter:
    backend_name = "fake"

    def __call__(self, frame, interval_s=None):
        return black_segmenter(frame)


def test_our_own_recorded_clip_rerendered_stays_in_sync(tmp_path):
    """A clip from the recorder (fragmented MP4, AAC priming moving the picture by 21 ms) keeps its sound
    on the flash after render, to well within a frame."""
    from test_record_sound import T0, FakeAudio, record

    (tmp_path / "clips").mkdir()
    clip, _ = record(tmp_path / "clips", FakeAudio(tone_at=T0 + 1.0))
    recorded_gap = tone_onset(clip) - flash_time(clip)
    out, how = rendered_with_sound(tmp_path, clip)
    assert how == "copied"
    assert abs(recorded_gap) < 0.005
    assert abs(tone_onset(out) - flash_time(out)) < 0.005
