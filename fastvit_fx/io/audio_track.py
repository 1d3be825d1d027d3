"""Put an input's sound into a rendered clip, in sync: `render` writes the picture, then this muxes it with
the input's first audio track (copied when it is AAC, else re-encoded to AAC with PyAV).

Sync is by timestamps: the rendered clip's frame i is the input's frame i, so it gets that frame's time
(render writes a steady i / fps, but a clip recorded live has each frame's real capture time, and a
camera's rate wobbles), and a sound at time t on the input's clock goes to t - (the input's frame 0).
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import UserError

MP4_AUDIO_COPY = {"aac", "mp3", "alac"}  # codecs an MP4 holds as they are


class AudioTrackError(UserError):
    """The sound could not be carried over; the message names the file."""


def _video_start(container, frames: int = 9) -> float:
    """Where frame i = 0 sits on the container's clock, in seconds: the median of (time of frame i - i / fps)
    over the first few frames. A file's start_time alone can mislead: our own clips (fragmented MP4 with
    AAC) have every frame but the first moved by the encoder's priming delay."""
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    offsets = []
    if rate:
        for i, frame in enumerate(container.decode(stream)):
            if frame.time is not None:
                offsets.append(float(frame.time) - i / float(rate))
            if i + 1 >= frames:
                break
        container.seek(0)
    if offsets:
        return float(np.median(offsets))
    if stream.start_time is not None and stream.time_base:
        return float(stream.start_time * stream.time_base)
    return 0.0


def copy_audio_track(video_path: str | Path, audio_from: str | Path, out_path: str | Path) -> str:
    """out_path = video_path's picture (copied, not re-encoded) + audio_from's first audio track, aligned
    to audio_from's video. Returns "copied" or "re-encoded". AudioTrackError names the file on failure."""
    import av

    video_path, audio_from, out_path = Path(video_path), Path(audio_from), Path(out_path)
    try:
        with av.open(str(audio_from)) as source, av.open(str(video_path)) as picture, \
                av.open(str(out_path), "w", format="mp4") as out:
            if not source.streams.audio:
                raise AudioTrackError(f"{audio_from}: has no audio track")
            video_in = picture.streams.video[0]
            times = _frame_times(audio_from) if source.streams.video else None
            if times is not None and not _matches(video_path, len(times)):
                times = None  # not frame for frame (or reordered frames): keep render's steady timing
            start = times[0] if times else (_video_start(source) if source.streams.video else 0.0)
            video_out = out.add_stream_from_template(video_in)
            audio_in = source.streams.audio[0]
            if audio_in.codec_context.name in MP4_AUDIO_COPY:
                how = "copied"
                audio_packets = _copied(out, audio_in, source, start)
            else:
                how = "re-encoded"
                audio_packets = _reencoded(out, audio_in, source, start)
            _mux_in_time_order(out, _video_packets(picture, video_in, video_out, times), audio_packets)
    except AudioTrackError:
        _remove(out_path)
        raise
    except Exception as exc:
        _remove(out_path)
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise AudioTrackError(f"{audio_from}: could not carry its audio into {out_path} ({text})") from None
    return how


def _frame_times(path: Path) -> list[float] | None:
    """Every frame's presentation time in seconds, from the packets (nothing decoded)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
        tb = stream.time_base
    return [float(t * tb) for t in pts] if pts and tb else None


def _matches(video_path: Path, count: int) -> bool:
    """The rendered clip has `count` frames, stored in display order (so packet i is frame i)."""
    import av

    with av.open(str(video_path)) as container:
        packets = [p for p in container.demux(container.streams.video[0]) if p.dts is not None]
    return len(packets) == count and all(p.pts == p.dts for p in packets)


def _video_packets(picture, video_in, video_out, times: list[float] | None = None):
    """The rendered picture's packets; with `times`, packet i is re-stamped to the input's frame i."""
    tb = video_in.time_base
    i = 0
    for packet in picture.demux(video_in):
        if packet.dts is None:
            continue
        if times is not None:
            packet.pts = packet.dts = int(round((times[i] - times[0]) / tb))
            i += 1
        packet.stream = video_out
        yield packet


def _mux_in_time_order(out, *streams) -> None:
    """Interleave packet generators by time (each is in time order), so that the file plays from disk."""
    heads = [next(s, None) for s in streams]
    while any(h is not None for h in heads):
        i = min((i for i, h in enumerate(heads) if h is not None),
                key=lambda i: float(heads[i].dts * heads[i].time_base))
        out.mux(heads[i])
        heads[i] = next(streams[i], None)


def _copied(out, audio_in, source, start: float):
    """The track's packets as they are, moved onto the picture's clock (the stream is added now)."""
    stream = out.add_stream_from_template(audio_in)
    shift = int(round(start / audio_in.time_base)) if audio_in.time_base else 0

    def packets():
        for packet in source.demux(audio_in):
            if packet.dts is None or packet.pts is None:
                continue
            packet.pts -= shift
            packet.dts -= shift
            if packet.pts < 0:
                continue  # sound from before the first picture
            packet.stream = stream
            yield packet
    return packets()


def _reencoded(out, audio_in, source, start: float):
    """AAC packets of the decoded track, streamed: a long clip is never held in memory (the stream is added now)."""
    import av

    rate = int(audio_in.codec_context.sample_rate or 48000)
    layout = "mono" if (audio_in.codec_context.channels or 1) == 1 else "stereo"
    stream = out.add_stream("aac", rate=rate, layout=layout)
    stream.codec_context.time_base = Fraction(1, rate)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    encoder = SampleEncoder(stream, rate, layout)

    def chunks():
        for frame in source.decode(audio_in):
            when = None if frame.time is None else float(frame.time) - start
            for plain in resampler.resample(frame):
                yield when, plain.to_ndarray()
                when = None
        for plain in resampler.resample(None):
            yield None, plain.to_ndarray()

    def packets():
        for when, samples in chunks():
            yield from encoder.add(samples, when)
        yield from encoder.finish()
    return packets()


class SampleEncoder:
    """Float32 planar samples (channels x n) -> AAC packets, placed by time: `add(samples, at_seconds)`
    puts the first sample at that time (None: right after the previous ones); samples before 0 are cut.
    Within `tolerance_s` of continuous the sound stays continuous (timestamp jitter); beyond, a gap is left
    as a gap (players play silence) and an overlap is cut, so the sound never wanders off the picture."""

    def __init__(self, stream, rate: int, layout: str, tolerance_s: float = 0.02) -> None:
        self.stream, self.rate, self.layout = stream, int(rate), layout
        self.tolerance = int(round(tolerance_s * self.rate))  # closer than this to continuous: continuous
        self.next_pts: int | None = None  # in samples

    def add(self, samples: np.ndarray, at_seconds: float | None = None):
        import av

        if at_seconds is None:
            pts = self.next_pts or 0
        else:
            pts = int(round(at_seconds * self.rate))
            if self.next_pts is not None and abs(pts - self.next_pts) <= self.tolerance:
                pts = self.next_pts  # timestamp jitter, not a gap: keep the sound continuous
        if self.next_pts is not None and pts < self.next_pts:  # overlaps what was written: cut the overlap
            samples, pts = samples[:, self.next_pts - pts:], self.next_pts
        if pts < 0:
            samples, pts = samples[:, -pts:], 0
        if samples.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp",
                                           layout=self.layout)
        frame.sample_rate = self.rate
        frame.pts = pts
        frame.time_base = Fraction(1, self.rate)
        self.next_pts = pts + samples.shape[1]
        yield from self.stream.encode(frame)

    def finish(self):
        yield from self.stream.encode(None)


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
