#!/usr/bin/env python
"""Measure candidate weights side by side and apply a shipping rule written down beforehand.

    python scripts/compare_candidates.py --data ../shared/data/person-seg \
        --candidate c=models/fastvit_t8_person.safetensors --candidate u=runs/x/best.safetensors \
        --floor shen2016-portraits=0.9487 --floor clothing-co-parsing=0.9192 --max-time-ratio 1.15 \
        --max-drop camvid-street=0.01 --max-drop sbi2015-indoor=0.005 --json runs/x/candidates.json

The first candidate is the incumbent: network times are ratios to it, and the rule falls back to it.
Each candidate is scored on the split through the app's path (--backend, onnx-int8 by default; zoom
on), its video sequences through one smoothing Segmenter (mIoU and flicker), and its network timed on
a 256x160 input, all candidates interleaved in one process (medians). Eligible: every --floor met
(a floor given as @NAME sits at that candidate's exact score in this process),
no source more than its --max-drop under the --reference candidate's (the incumbent unless named: a
fixed reference stops guards written against each round's incumbent from letting a loss accumulate
round after round), video flicker at most --max-flicker-rise over the incumbent's where given, and the
network time at most --max-time-ratio of the incumbent's (and video mIoU at most --max-video-drop
under it where given); the rule ships the eligible candidate with the best mean mIoU over
--score-sources if that beats the incumbent's by --min-gain (else the incumbent).

--turned 90 also scores portraits and full body with every photo turned (`turned90:<source>`, in the
score by default: the five upright sources and these two are the mean of seven); --paste-height 0.25
also scores the people of those photos cut out and pasted that fraction of a wide frame's height on
--backgrounds (`pasted-small`, the mean over their images). Any of these keys can carry a --max-drop,
and a --max-drop may name its own reference (`pasted-small=0.01@n`), so guards can sit against
different fixed references.

Each candidate's per-source difference from the incumbent is printed with its 95% interval by a
paired bootstrap over the same images: a floor missed by less than that interval's half-width was
missed inside what val can tell apart. --no-detectable-loss SOURCE makes that interval a guard: a
candidate whose interval on SOURCE lies wholly below zero is not eligible (a regression val can tell
apart from its noise), where a floor at the incumbent's own value also fails on rounding. Where a
candidate is behind on a floor's source, the few images it loses most on are named, beside the mean
of the rest.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SCORE_SOURCES = ("shen2016-portraits", "clothing-co-parsing", "sbi2015-indoor", "davis2016-poses", "camvid-street")
SHORT = {"shen2016-portraits": "portraits", "clothing-co-parsing": "full body", "cdnet-pedestrians": "pedestrians",
         "sbi2015-indoor": "indoor", "davis2016-poses": "poses", "camvid-street": "street", "pasted-small": "pasted small",
         "pasted-group": "pasted groups"}
# the photo sources: one person each, cut out whole, so they can be turned and pasted small
PHOTO_SOURCES = ("shen2016-portraits", "clothing-co-parsing")


def label(key: str) -> str:
    """'turned90:shen2016-portraits' -> 'portraits turned 90'; a source -> its short name."""
    turned, sep, source = key.partition(":")
    if sep and turned.startswith("turned"):
        return f"{SHORT.get(source, source)} turned {turned[len('turned'):]}"
    return SHORT.get(key, key)


def parse_values(pairs: list[str], flag: str, parse, expected: str) -> dict:
    """NAME=VALUE arguments of one flag, each value through `parse`; a bad one raises a ValueError
    naming the flag, the argument and the form expected."""
    out = {}
    for name, value in parse_pairs(pairs, flag):
        try:
            out[name] = parse(value)
        except ValueError:
            raise ValueError(f"{flag} {name}={value}: expected {expected}") from None
    return out


def parse_floor(value: str) -> float | str:
    """'0.925' -> 0.925; '@c' -> 'c': a floor fixed beforehand, or one at that candidate's own value."""
    return value[1:] if value.startswith("@") and len(value) > 1 else float(value)


def resolve_floors(floors: dict[str, float | str], rows: dict[str, dict]) -> dict[str, float]:
    """Each floor as a number: a floor named by a candidate sits at that candidate's exact score on the
    source, measured in this process (so the reference meets it, and a rounded copy cannot misjudge it)."""
    return {s: rows[v]["sources"].get(s, float("nan")) if isinstance(v, str) else v for s, v in floors.items()}


def parse_drop(value: str) -> tuple[float, str | None]:
    """'0.01' -> (0.01, None); '0.01@n' -> (0.01, 'n'): how far, and against whom (None: --reference)."""
    drop, _, reference = value.partition("@")
    return float(drop), reference or None


SIZE_KEYS = {"large": "large", "from": "large_from", "small": "small"}


def parse_sizes(spec: str) -> dict:
    """'large:320,from:0.5,small:224' -> the InputSizes fields they set (a size of 0: that case off)."""
    out = {}
    for part in spec.split(","):
        key, sep, value = part.partition(":")
        if not sep or key not in SIZE_KEYS:
            raise ValueError(f"--sizes {spec!r}: expected large:N, from:F and small:N, comma-separated")
        out[SIZE_KEYS[key]] = float(value) if key == "from" else (int(value) or None)
    return out


def parse_pairs(pairs: list[str], what: str) -> list[tuple[str, str]]:
    """['a=b', ...] -> [('a', 'b'), ...]; a pair without '=' is a one-line ValueError naming it."""
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{what} {pair!r}: expected NAME=VALUE")
        out.append((name, value))
    return out


def apply_rule(rows: dict[str, dict], floors: dict[str, float], max_time_ratio: float,
               score_sources: tuple[str, ...], max_drops: dict[str, float | tuple[float, str | None]] | None = None,
               reference: str | None = None, max_flicker_rise: float | None = None,
               max_video_drop: float | None = None, min_gain: float = 0.0,
               no_detectable_loss: tuple[str, ...] = ()) -> str:
    """Mark each row eligible (and why not) and scored; return the name the rule ships. Rows are
    {'sources': {source: mIoU}, 'time_ratio': float[, 'flicker': float]}; the first row is the
    incumbent, and the reference of max_drops ({source: most it may fall, or (that, the row it is
    measured against)}) unless `reference` names another row. max_flicker_rise: how far a row's video
    flicker may rise over the incumbent's (a row without a flicker, or an incumbent without one, is a
    miss); max_video_drop: how far its video mIoU may fall under the incumbent's; min_gain: how much its
    score must beat the incumbent's by to ship (a gain inside val's noise changes nothing);
    no_detectable_loss: sources where a row whose paired 95% interval against the incumbent
    (row['difference'][source], from `differences`) lies wholly below zero is a miss: a loss val can
    tell apart from its noise, where a floor at the incumbent's exact value also fails rounding."""
    incumbent = next(iter(rows))
    reference = reference or incumbent
    for row in rows.values():
        misses = [f"{SHORT.get(s, s)} {floor - row['sources'].get(s, float('nan')):.4f} short"
                  for s, floor in floors.items() if not row["sources"].get(s, -1.0) >= floor]
        for s, spec in (max_drops or {}).items():
            drop, against = spec if isinstance(spec, tuple) else (spec, None)
            against = against or reference
            fall = rows[against]["sources"].get(s, float("nan")) - row["sources"].get(s, float("nan"))  # unmeasured: a miss
            if not fall <= drop:
                misses.append(f"{label(s)} {fall:.4f} under {against}")
        for s in no_detectable_loss if row is not rows[incumbent] else ():
            d = row.get("difference", {}).get(s)
            if d is None or not d["high"] >= 0:  # unmeasured: a miss
                misses.append(f"{label(s)} {d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] under {incumbent}"
                              if d else f"{label(s)} not paired with {incumbent}")
        if max_flicker_rise is not None:
            rise = row.get("flicker", float("nan")) - rows[incumbent].get("flicker", float("nan"))
            if not rise <= max_flicker_rise + 1e-12:  # unmeasured: a miss
                misses.append(f"flicker {rise:+.4f} over {incumbent}")
        if max_video_drop is not None:
            fall = rows[incumbent].get("video_miou", float("nan")) - row.get("video_miou", float("nan"))
            if not fall <= max_video_drop + 1e-12:  # unmeasured: a miss
                misses.append(f"video mIoU {fall:.4f} under {incumbent}")
        if row["time_ratio"] > max_time_ratio:
            misses.append(f"network {row['time_ratio']:.2f}x")
        row["eligible"] = not misses
        row["why_not"] = "; ".join(misses)
        row["score"] = float(np.mean([row["sources"].get(s, 0.0) for s in score_sources]))
    eligible = [name for name, row in rows.items() if row["eligible"]]
    if not eligible:
        return incumbent
    best = max(eligible, key=lambda name: rows[name]["score"])
    return best if rows[best]["score"] >= rows[incumbent]["score"] + min_gain - 1e-12 else incumbent


def network_ms(paths: list[Path], backend: str, repeats: int) -> list[float]:
    """Median ms per network call on a 256x160 input, all candidates interleaved in one process."""
    from fastvit_fx.bench.segmentation import interleaved
    from fastvit_fx.memory import keep_freed_buffers
    from fastvit_fx.segment import open_backend

    keep_freed_buffers()  # as the app runs: without it each call pays for fresh pages
    x = np.random.default_rng(0).standard_normal((1, 3, 160, 256)).astype(np.float32)
    runtimes = [open_backend(p, backend, 256, "cpu")[0] for p in paths]
    samples = interleaved([lambda r=r: r(x) for r in runtimes], repeats=repeats)
    return [float(np.median(s)) for s in samples]


def measure(path: Path, items, backend: str, video: bool, turned: int = 0, paste_height: float | None = None,
            backgrounds: list | None = None, sizes: dict | None = None, paste_group: int = 0,
            tiles: tuple[bool, float | None] | None = None) -> dict:
    """sizes: InputSizes fields to set on the candidate's Segmenters (parse_sizes), e.g. a larger input
    for large people; tiles: the stills' tiled look, (on, hold) (None: the app's); so one set of weights
    can be measured under several ways of looking."""
    from fastvit_fx.segment import open_segmenter
    from fastvit_fx.training.evaluate import STANDING_SOURCES, evaluate, evaluate_pasted_groups, evaluate_video

    def opened(**kw):
        seg = open_segmenter(path, backend=backend, device="cpu", **kw)
        seg.sizes = replace(seg.sizes, **(sizes or {}))
        if tiles is not None:
            seg.tile_small_people, seg.tile_hold = tiles
        return seg

    segmenter = opened()
    result = evaluate(segmenter, items)
    row = {"path": str(path), "sizes": asdict(segmenter.sizes),
           "tiles": [segmenter.tile_small_people, segmenter.tile_hold],
           "sources": {s: r["miou"] for s, r in result["sources"].items()},
           "per_image": {im["name"]: (im["source"], im["iou"]) for im in result["per_image"]}}
    # every item goes through the turned and pasted passes, as eval.py does, so the pasted positions
    # (one seeded draw per item in order) are the same as there
    if turned:
        for s, r in evaluate(segmenter, items, rotate=turned)["sources"].items():
            if s in PHOTO_SOURCES:
                row["sources"][f"turned{turned}:{s}"] = r["miou"]
    if paste_height:
        pasted = evaluate(segmenter, items, backgrounds=backgrounds, paste_height=paste_height)["per_image"]
        ious = [im["iou"] for im in pasted if im["source"] in PHOTO_SOURCES]
        if ious:
            row["sources"]["pasted-small"] = float(np.mean(ious))
    if paste_group:
        standing = [it for it in items if it.source in STANDING_SOURCES]
        if len(standing) >= paste_group:
            groups = evaluate_pasted_groups(segmenter, standing, backgrounds, paste_group)
            row["sources"]["pasted-group"] = groups["miou"]
            row["pasted_group_pixels"] = groups["pixels"]
    if video:
        clip = evaluate_video(opened(smooth=True), items)
        row.update(video_miou=clip["miou"], flicker=clip["flicker"], flicker_by_pairs=clip["flicker_by_pairs"],
                   video_sequences=clip["sequences"])  # in the JSON: which clip moved a flicker guard
    return row


def paired_by_source(incumbent: dict, candidate: dict) -> dict[str, list[tuple[str, float, float]]]:
    """The images both were scored on, per source: (image, the incumbent's IoU, the candidate's)."""
    pairs: dict[str, list[tuple[str, float, float]]] = {}
    for image, (source, iou) in candidate.items():
        if image in incumbent:
            pairs.setdefault(source, []).append((image, incumbent[image][1], iou))
    return dict(sorted(pairs.items()))


def differences(rows: dict[str, dict]) -> None:
    """Add to each row after the first its per-source paired difference from the first (evaluate.paired_difference)."""
    from fastvit_fx.training.evaluate import paired_difference

    incumbent = next(iter(rows.values()))["per_image"]
    for row in list(rows.values())[1:]:
        row["difference"] = {s: paired_difference([b for _, b, _ in p], [o for _, _, o in p])
                             for s, p in paired_by_source(incumbent, row["per_image"]).items()}


def difference_table(rows: dict[str, dict], sources: list[str]) -> str:
    incumbent = next(iter(rows))
    head = ["difference from " + incumbent] + [label(s) for s in sources]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, row in rows.items():
        if "difference" not in row:
            continue
        cells = [name]
        for s in sources:
            d = row["difference"].get(s)
            cells.append(f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]" if d else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def largest_losses(rows: dict[str, dict], sources: list[str], k: int = 3) -> str:
    """For each candidate after the first and each of `sources` where it is behind the incumbent, the
    k images it loses most on and the mean difference over all the others: whether a shortfall is
    spread over the source or carried by a few photos (to look at, not to drop)."""
    incumbent = next(iter(rows.values()))["per_image"]
    lines = []
    for name, row in list(rows.items())[1:]:
        pairs = paired_by_source(incumbent, row["per_image"])
        for source in sources:
            diffs = sorted((other - base, image) for image, base, other in pairs.get(source, []))
            mean = float(np.mean([d for d, _ in diffs])) if diffs else 0.0
            if not diffs or mean >= 0:
                continue
            worst = ", ".join(f"{image} {d:+.3f}" for d, image in diffs[:k] if d < 0)
            rest = [d for d, _ in diffs[k:]]
            others = f"; the other {len(rest)}: {np.mean(rest):+.4f}" if rest else ""
            lines.append(f"- {name}, {SHORT.get(source, source)} {mean:+.4f}: {worst}{others}")
    return "\n".join(lines)


def group_pixels_table(rows: dict[str, dict]) -> str:
    """The pasted-group frames' person pixels pooled per candidate, false paint as a ratio to the
    incumbent's: a per-frame IoU of small people hides paint spread over the scene (model card,
    "Outdoor hard negatives, from (Tg)")."""
    measured = {name: row["pasted_group_pixels"] for name, row in rows.items() if "pasted_group_pixels" in row}
    if not measured:
        return ""
    base = next(iter(measured.values()))
    lines = ["| pasted groups, pooled | found | painted where no person is | missed | painted, x the incumbent |",
             "|---|---:|---:|---:|---:|"]
    for name, px in measured.items():
        ratio = px["false"] / base["false"] if base["false"] else float("nan")
        lines.append(f"| {name} | {px['true']:,} | {px['false']:,} | {px['missed']:,} | {ratio:.2f}x |")
    return "\n".join(lines)


def table(rows: dict[str, dict], sources: list[str], chosen: str) -> str:
    head = ["candidate"] + [label(s) for s in sources] + ["eligible", "rule score", "video mIoU", "flicker",
                                                                 "flicker by pairs", "network ms"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, row in rows.items():
        cells = [f"**{name}**" if name == chosen else name]
        cells += [f"{row['sources'][s]:.4f}" if s in row["sources"] else "" for s in sources]
        cells.append("yes" if row["eligible"] else f"no ({row['why_not']})")
        cells.append(f"{row['score']:.4f}")
        cells += [f"{row[k]:.3f}" if k in row else "" for k in ("video_miou", "flicker", "flicker_by_pairs")]
        cells.append(f"{row['network_ms']:.2f} ({row['time_ratio']:.2f}x)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--candidate", action="append", default=[], help="NAME=WEIGHTS; the first is the incumbent")
    p.add_argument("--tiles", action="append", default=[], metavar="NAME=off|on|unheld",
                   help="that candidate's tiled look at stills of small people: on is held to the first look "
                        "(default: the app's)")
    p.add_argument("--sizes", action="append", default=[],
                   help="NAME=large:320,from:0.5,small:224: that candidate's input sizes by the people found "
                        "(default: the app's); the same weights may be given under several names")
    p.add_argument("--floor", action="append", default=[],
                   help="SOURCE=MIOU a candidate must reach, or SOURCE=@NAME: that candidate's own score there")
    p.add_argument("--max-drop", action="append", default=[],
                   help="SOURCE=MIOU a candidate may fall under the reference's on that source")
    p.add_argument("--no-detectable-loss", action="append", default=[], metavar="SOURCE",
                   help="a candidate whose paired 95%% interval against the incumbent on SOURCE lies wholly "
                        "below zero is not eligible (a loss val can tell apart)")
    p.add_argument("--reference", default=None, help="NAME of the candidate --max-drop is measured against "
                   "(default: the incumbent, the first)")
    p.add_argument("--max-flicker-rise", type=float, default=None,
                   help="how far a candidate's video flicker may rise over the incumbent's (needs the video pass)")
    p.add_argument("--max-video-drop", type=float, default=None,
                   help="how far a candidate's video mIoU may fall under the incumbent's (needs the video pass)")
    p.add_argument("--min-gain", type=float, default=0.0,
                   help="how much the best eligible candidate's score must beat the incumbent's by to ship")
    p.add_argument("--max-time-ratio", type=float, default=1.15)
    p.add_argument("--score-sources", default=None,
                   help="comma-separated keys the rule averages (default: the five upright sources, and with "
                   "--turned the two turned ones)")
    p.add_argument("--turned", type=int, default=0, choices=(0, 90, 180, 270),
                   help="also score portraits and full body turned clockwise by this many degrees")
    p.add_argument("--paste-height", type=float, default=None,
                   help="also score their people pasted this fraction of a wide frame's height (needs --backgrounds)")
    p.add_argument("--paste-group", type=int, default=0, metavar="N",
                   help="also score groups of N small people pasted on --backgrounds scenes (`pasted-group`)")
    p.add_argument("--backgrounds", default=None)
    p.add_argument("--backend", default="onnx-int8")
    p.add_argument("--repeats", type=int, default=150, help="timed network calls per candidate")
    p.add_argument("--limit", type=int, default=None, help="score only the first N items (smoke runs)")
    p.add_argument("--no-video", dest="video", action="store_false")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    try:
        candidates = [(name, Path(path)) for name, path in parse_pairs(args.candidate, "--candidate")]
        floors = parse_values(args.floor, "--floor", parse_floor, "SOURCE=MIOU or SOURCE=@NAME")
        sizes = {name: parse_sizes(spec) for name, spec in parse_pairs(args.sizes, "--sizes")}
        from fastvit_fx.segment.segmenter import TILE_CHOICES

        def tile_choice(value: str):
            if value not in TILE_CHOICES:
                raise ValueError(value)
            return TILE_CHOICES[value]

        tiles = parse_values(args.tiles, "--tiles", tile_choice, "off, on or unheld")
        max_drops = parse_values(args.max_drop, "--max-drop", parse_drop, "SOURCE=DROP or SOURCE=DROP@NAME")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not candidates:
        print("error: no --candidate given", file=sys.stderr)
        return 2
    for flag, named in (("--sizes", sizes), ("--tiles", tiles)):
        for name in named:
            if name not in dict(candidates):
                print(f"error: {flag} {name}: not one of the --candidate names", file=sys.stderr)
                return 2
    for flag, value in (("--max-flicker-rise", args.max_flicker_rise), ("--max-video-drop", args.max_video_drop)):
        if value is not None and not args.video:
            print(f"error: {flag} needs the video pass (drop --no-video)", file=sys.stderr)
            return 2
    if args.reference is not None and args.reference not in dict(candidates):
        print(f"error: --reference {args.reference}: not one of the --candidate names", file=sys.stderr)
        return 2
    for s, at in floors.items():
        if isinstance(at, str) and at not in dict(candidates):
            print(f"error: --floor {s}: @{at} is not one of the --candidate names", file=sys.stderr)
            return 2
    for s, (_, against) in max_drops.items():
        if against is not None and against not in dict(candidates):
            print(f"error: --max-drop {s}: reference {against} is not one of the --candidate names", file=sys.stderr)
            return 2
    if (args.paste_height or args.paste_group) and not (args.backgrounds and Path(args.backgrounds).is_dir()):
        flag = "--paste-height" if args.paste_height else "--paste-group"
        print(f"error: {flag} needs --backgrounds, a folder of scenes (got {args.backgrounds})",
              file=sys.stderr)
        return 2
    for name, path in candidates:
        if not path.is_file():
            print(f"error: --candidate {name}: {path}: no such file", file=sys.stderr)
            return 2
    from fastvit_fx.training.data import read_manifest
    from fastvit_fx.training.data import load_backgrounds

    try:
        items = read_manifest(args.data, args.split)[: args.limit]
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    backgrounds = load_backgrounds(args.backgrounds) if args.paste_height or args.paste_group else None
    rows = {}
    for name, path in candidates:
        rows[name] = measure(path, items, args.backend, args.video, args.turned, args.paste_height, backgrounds,
                             sizes.get(name), args.paste_group, tiles.get(name))
        print(f"measured {name}: " + ", ".join(f"{label(s)} {v:.4f}" for s, v in rows[name]["sources"].items()),
              file=sys.stderr)
    times = network_ms([path for _, path in candidates], args.backend, args.repeats)
    for (name, _), ms in zip(candidates, times):
        rows[name].update(network_ms=ms, time_ratio=ms / times[0])
    if args.score_sources is None:  # the default keys this split has (a split without street scores without it)
        defaults = SCORE_SOURCES + tuple(f"turned{args.turned}:{s}" for s in PHOTO_SOURCES if args.turned)
        score_sources = tuple(s for s in defaults if any(s in row["sources"] for row in rows.values()))
    else:
        score_sources = tuple(s for s in args.score_sources.split(",") if s)
    floors = resolve_floors(floors, rows)
    differences(rows)
    chosen = apply_rule(rows, floors, args.max_time_ratio, score_sources, max_drops, args.reference,
                        args.max_flicker_rise, args.max_video_drop, args.min_gain,
                        tuple(args.no_detectable_loss))
    measured = {s for r in rows.values() for s in r["sources"]}
    pasted = [s for s in ("pasted-small", "pasted-group") if s in measured]
    sources = [s for s in SHORT if s in measured and s not in pasted] + sorted(measured - set(SHORT)) + pasted
    print(table(rows, sources, chosen))
    print(f"the rule ships: {chosen}" + (" (the incumbent: nothing new ships)" if chosen == candidates[0][0] else ""))
    pixels = group_pixels_table(rows)
    if pixels:
        print("\nthe pasted-group frames' person pixels, pooled over every frame:\n")
        print(pixels)
    if len(rows) > 1:
        print("\nper-source difference from the incumbent, mean [95% interval, paired bootstrap over images]:\n")
        print(difference_table(rows, sources))
        losses = largest_losses(rows, [s for s in sources if s in floors])
        if losses:
            print("\nwhere a candidate is behind on a floor's source, the images it loses most on:\n")
            print(losses)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "chosen": chosen, "floors": floors,
                                               "max_drops": max_drops, "reference": args.reference or candidates[0][0],
                                               "max_flicker_rise": args.max_flicker_rise,
                                               "max_video_drop": args.max_video_drop, "min_gain": args.min_gain,
                                               "max_time_ratio": args.max_time_ratio, "backend": args.backend,
                                               "no_detectable_loss": args.no_detectable_loss,
                                               "split": args.split}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
