"""`fastvit-fx bench`: segmentation latency per backend and size, mask upsampling, effects cost, pipeline rate,
start-up time and memory; on request, a soak (the live path left running, watched for leaks and crashes)."""
from __future__ import annotations

import importlib.util
import json
import sys

SECTIONS = ("segmentation", "refine", "effects", "pipeline", "live", "startup", "soak")
# the soak runs for minutes by design: only when asked for by name
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "soak")


def add_arguments(parser) -> None:
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(DEFAULT_SECTIONS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[192, 256, 320], help="network input sizes")
    parser.add_argument("--backends", nargs="+", default=None,
                        help="backends to time (default: every one available here)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--startup-runs", type=int, default=3,
                        help="startup: fresh processes per case (the median is reported)")
    parser.add_argument("--minutes", type=float, default=0.5,
                        help="soak: how long to run the live path with physics and recording on")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run(args) -> int:
    from ..bench.timing import format_table

    report: dict = {}
    if "segmentation" in args.sections:
        from ..bench.segmentation import bench_segmentation

        backends = tuple(args.backends) if args.backends else available_backends()
        report["segmentation"] = bench_segmentation(sizes=tuple(args.sizes), repeats=args.repeats,
                                                    weights=args.weights, backends=backends)
    if "refine" in args.sections:
        from ..bench.refine import bench_refine

        report["refine"] = bench_refine(repeats=args.repeats)
    if "effects" in args.sections:
        if _available("fastvit_fx.bench.effects"):
            from ..bench.effects import bench_effects

            report["effects"] = bench_effects()
        else:
            report["effects"] = "not available in this build"
    if "pipeline" in args.sections:
        if _available("fastvit_fx.bench.pipeline"):
            from ..bench import pipeline as pipeline_bench

            report["pipeline"] = {"live": pipeline_bench.bench_pipeline()}
            if hasattr(pipeline_bench, "bench_render"):
                report["pipeline"]["render"] = pipeline_bench.bench_render()
        else:
            report["pipeline"] = "not available in this build"
    if "startup" in args.sections:
        from ..bench.startup import bench_startup

        report["startup"] = bench_startup(runs=max(1, args.startup_runs), weights=args.weights)
    if "live" in args.sections:
        from ..bench.live import bench_live, format_live

        report["live"] = bench_live(weights=args.weights)
    soak = None
    if "soak" in args.sections:
        from ..bench.soak import bench_soak

        soak = bench_soak(minutes=args.minutes, weights=args.weights,
                          progress=lambda line: print(f"soak: {line}", file=sys.stderr))
        report["soak"] = [soak.row()]
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    if soak is not None:
        print(soak.summary() + "\n")
        report.pop("soak")
    if "live" in report:
        print(format_live(report.pop("live")) + "\n")
    seg = report.get("segmentation")
    if seg:
        print(f"Segmentation, batch 1, {seg['frame']} frame, {seg['threads']} threads, model: {seg['model']}")
        print(format_table(seg["rows"], [("backend", "backend"), ("size", "size"), ("input", "input"),
                                         ("fused", "fused"), ("net_ms", "net ms (median)"),
                                         ("net_p90_ms", "net ms (p90)"), ("segment_ms", "Segmenter ms")]))
        print()
    startup = report.get("startup")
    if startup:
        print(f"Startup, median of {startup['runs']} fresh processes each, on {startup['backend']} "
              f"({startup['cpus']} CPUs); 'with torch imported' imports torch and timm first")
        print(format_table(startup["rows"], [(k, k) for k in startup["rows"][0]]))
        print()
    for key in ("refine", "effects", "pipeline"):
        value = report.get(key)
        if value is None:
            continue
        print(key.capitalize())
        if isinstance(value, list):
            print(format_table(value, [(k, k) for k in value[0]]) if value else "(none)")
        elif isinstance(value, dict):
            for name, rows in value.items():
                print(f"  {name}:")
                if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                    print(format_table(rows, [(k, k) for k in rows[0]]))
                else:
                    print(f"  {rows}")
        else:
            print(f"  {value}")
        print()
    return 0


def available_backends() -> tuple[str, ...]:
    """Backends that can run on this machine (torch always)."""
    try:
        from ..backends import available_backends as probe
    except ImportError:
        return ("torch",)
    return tuple(probe())
