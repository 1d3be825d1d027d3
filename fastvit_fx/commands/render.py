"""`fastvit-fx render INPUT --effect NAME --out OUT.mp4`: apply an effect to a video file, offline.

Every frame is segmented (nothing dropped, temporal smoothing on), the frame rate and size are kept
(an odd width or height loses one pixel: H.264 needs even sizes) and the input's sound is kept, in sync
(copied when it is AAC, else re-encoded). `--quality high` spends more per frame than live can: a larger
network input and a close look (zoom) at the person on every frame - for re-rendering a raw recording.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .common import add_model_options

HIGH_QUALITY_SIZE = 384  # network input (longest side) for --quality high; live runs smaller


def add_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a video file")
    parser.add_argument("--effect", required=True, metavar="NAME", help="effect preset (see `fastvit-fx effects`)")
    parser.add_argument("--out", required=True, metavar="OUT.mp4",
                        help="output file (H.264 MP4, with the input's sound)")
    parser.add_argument("--quality", choices=("live", "high"), default="live",
                        help="high: network input %d unless --size says otherwise, and zoom on every frame "
                        "(slower; for re-rendering a raw recording)" % HIGH_QUALITY_SIZE)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_options(parser)


def run(args) -> int:
    from ..io.capture import VideoReader
    from ..errors import UserError
    from ..live.offline import render_video
    from ..paths import check_writable_output

    out = Path(args.out)
    if out.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise UserError(f"{out}: the output must be an .mp4 file")
    source = Path(args.input)
    if out.exists() and source.exists() and out.resolve() == source.resolve():
        raise UserError(f"{out}: would overwrite the input; choose another --out")
    check_writable_output(out)  # one line naming the path, before the model loads
    with VideoReader(source) as probe:  # a one-line error naming the file if it isn't a readable video
        has_audio, fps, size, count = probe.has_audio, probe.fps, probe.size, probe.frame_count
    from ..fx import EffectRenderer, load_presets

    preset = load_presets().get(args.effect)  # PresetError (a UserError) names an unknown effect
    from .common import make_segmenter

    if args.quality == "high" and args.size is None:
        args.size = HIGH_QUALITY_SIZE
    segmenter = make_segmenter(args, smooth=True)
    if args.quality == "high":
        zoom_every_frame(segmenter)
    print(f"{source.name}: {size[0]}x{size[1]} at {float(fps):.3g} fps"
          + (f", {count} frames" if count else "") + f" -> {out} with {preset.name!r} on {segmenter.backend_name}",
          file=sys.stderr)
    picture = out.with_name(f".{out.stem}.picture{out.suffix}") if has_audio else out
    try:
        result = render_video(source, picture, EffectRenderer(preset), segmenter, progress=not args.no_progress)
    except BaseException:
        if picture != out:
            picture.unlink(missing_ok=True)
        raise
    if has_audio:
        carry_sound(picture, source, out)
    print(f"wrote {out}: {result.frames} frames, {result.size[0]}x{result.size[1]} at {result.fps:.3g} fps "
          f"({result.codec}), {result.seconds:.1f} s = {result.speed:.2f}x real time")
    return 0


def zoom_every_frame(segmenter) -> None:
    """Live looks at the whole frame every few frames and only at the person's crop in between; offline
    can afford both on every frame."""
    tracker = getattr(segmenter, "tracker", None)
    if tracker is not None:
        tracker.refresh = 1


def carry_sound(picture: Path, source: Path, out: Path) -> None:
    """out = the rendered picture + the input's sound; if the sound can't be carried, a silent clip and
    one line saying why."""
    from ..io.audio_track import AudioTrackError, copy_audio_track

    try:
        how = copy_audio_track(picture, source, out)
        print(f"sound: {source.name}'s audio track {how}", file=sys.stderr)
    except AudioTrackError as exc:
        picture.replace(out)
        print(f"note: {exc}; {out.name} is silent", file=sys.stderr)
    finally:
        picture.unlink(missing_ok=True)
