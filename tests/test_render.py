"""Offline render: every frame kept, same frame rate and size, errors name the file, the sound kept."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from fastvit_fx.cli import main
from fastvit_fx.model import build_model, save_weights
from fastvit_fx.live.offline import render_video
from fastvit_fx.segment import Segmenter


def make_video(path, count=20, size=(96, 64), fps=Fraction(25), audio=False):
    """A tiny clip: the demo scene at a small size (and a tone, with audio=True)."""
    from fastvit_fx.io.capture import demo_frames

    images, _ = demo_frames(count, size[0], size[1], fps=float(fps))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        if audio:
            sound = container.add_stream("aac", rate=22050)
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio:
            samples = int(22050 * count / float(fps))
            tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 22050)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[None, start:start + 1024]
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                aframe.sample_rate = 22050
                aframe.pts = start
                for packet in sound.encode(aframe):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


def probe(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, stream.average_rate, (stream.codec_context.width, stream.codec_context.height), \
            len(container.streams.audio)


def random_segmenter():
    from fastvit_fx.backends.torch_backend import TorchBackend

    model = build_model()
    return Segmenter(TorchBackend(model, device="cpu"), model.config, smooth=True, size=64)


def test_render_tells_the_segmenter_the_clips_frame_interval(tmp_path):
    source = make_video(tmp_path / "in.mp4", count=6, size=(96, 64), fps=Fraction(5))
    intervals = []

    def recording_segmenter(frame, interval_s=None):
        intervals.append(interval_s)
        return np.zeros(frame.shape[:2], np.float32)

    render_video(source, tmp_path / "out.mp4", lambda frame, mask, t: frame, recording_segmenter, progress=False)
    # five frames a second: the smoother is told so, and blends far less than at a camera's 30
    assert intervals == [pytest.approx(0.2)] * 6


def test_render_keeps_frame_count_fps_and_size(tmp_path):
    source = make_video(tmp_path / "in.mp4", count=20, size=(96, 64), fps=Fraction(25))
    seen = []

    def effect(frame, mask, t):
        seen.append((mask.shape, t))
        out = frame.copy()
        out[mask > 0.5] = 255
        return out

    result = render_video(source, tmp_path / "out.mp4", effect, random_segmenter(), progress=False)
    assert result.frames == 20 and result.size == (96, 64) and result.fps == 25
    assert [t for _, t in seen] == pytest.approx([i / 25 for i in range(20)])  # every frame segmented
    assert all(shape == (64, 96) for shape, _ in seen)
    count, rate, size, _ = probe(result.path)
    assert (count, rate, size) == (20, 25, (96, 64))
    assert result.speed > 0


def test_render_ntsc_rate_and_serial_path_agree(tmp_path):
    source = make_video(tmp_path / "in.mp4", count=12, size=(64, 48), fps=Fraction(30000, 1001))
    outs = []
    for overlap in (True, False):
        out = tmp_path / f"out_{overlap}.mp4"
        render_video(source, out, None, random_segmenter(), progress=False, overlap=overlap)
        count, rate, size, _ = probe(out)
        assert (count, rate, size) == (12, Fraction(30000, 1001), (64, 48))
        with av.open(str(out)) as c:
            outs.append([f.to_ndarray(format="bgr24") for f in c.decode(video=0)])
    assert all(np.array_equal(a, b) for a, b in zip(*outs))


def test_render_command_end_to_end(tmp_path, capsys):
    pytest.importorskip("fastvit_fx.fx")
    weights = save_weights(build_model(), tmp_path / "w.safetensors")
    source = make_video(tmp_path / "in.mp4", count=10, size=(80, 48), audio=True)
    out = tmp_path / "out.mp4"
    code = main(["render", str(source), "--effect", "blur-bg", "--out", str(out), "--weights", str(weights),
                 "--backend", "torch", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "audio track copied" in captured.err
    count, rate, size, audio_streams = probe(out)
    assert (count, rate, size, audio_streams) == (10, 25, (80, 48), 1)
    assert "wrote" in captured.out and "real time" in captured.out


def test_render_unreadable_video_is_one_line_naming_it(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    code = main(["render", str(bad), "--effect", "none", "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("fastvit-fx: error:") and "broken.mp4" in err and "\n" not in err
    code = main(["render", str(tmp_path / "nope.mp4"), "--effect", "none", "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "nope.mp4: no such file" in err


def test_render_unknown_effect_names_it(tmp_path, capsys):
    pytest.importorskip("fastvit_fx.fx")
    source = make_video(tmp_path / "in.mp4", count=3)
    code = main(["render", str(source), "--effect", "sparkles", "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err
    assert code == 2 and "sparkles" in err
