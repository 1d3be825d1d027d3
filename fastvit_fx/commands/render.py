"""`fastvit-fx render INPUT --effect NAME --out OUT.mp4`: apply an effect to a video file, offline.

Every frame is segmented (nothing dropped, temporal smoothing on), the frame rate and size are kept
(an odd width or height loses one pixel: H.264 needs even sizes) and the audio is dropped.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .common import add_model_options


def add_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a video file")
    parser.add_argument("--effect", required=True, metavar="NAME", help="effect preset (see `fastvit-fx effects`)")
    parser.add_argument("--out", required=True, metavar="OUT.mp4", help="output file (H.264 MP4; audio is dropped)")
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

    segmenter = make_segmenter(args, smooth=True)
    if has_audio:
        print(f"note: {source.name} has an audio track; the output has none (audio is dropped)", file=sys.stderr)
    print(f"{source.name}: {size[0]}x{size[1]} at {float(fps):.3g} fps"
          + (f", {count} frames" if count else "") + f" -> {out} with {preset.name!r} on {segmenter.backend_name}",
          file=sys.stderr)
    result = render_video(source, out, EffectRenderer(preset), segmenter, progress=not args.no_progress)
    print(f"wrote {result.path}: {result.frames} frames, {result.size[0]}x{result.size[1]} at {result.fps:.3g} fps "
          f"({result.codec}), {result.seconds:.1f} s = {result.speed:.2f}x real time")
    return 0
