#!/usr/bin/env python3
"""Plot several training logs (scripts/train.py's log.csv) end to end, one after the other.

A model trained in several runs has one log per run (each later run starting from an earlier one's
weights with --init). This draws them on one time axis (cumulative training minutes) with a line
where each run starts, labelled with the run's name from its log's file name (train_log_run12.csv:
"run 12"; the model card's run table says what each run was).

    python scripts/plot_runs.py docs/model/train_log_run1.csv docs/model/train_log_run2.csv \
        --out docs/model/curves_runs1-2.png
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path


def run_label(log: Path) -> str:
    """'train_log_run12.csv' -> 'run 12', 'train_log_runs12-14.csv' -> 'runs 12-14'; other names: the
    stem, or for train.py's own 'log.csv' the name of the run's folder."""
    m = re.search(r"(runs?)[_-]?([0-9][0-9A-Za-z-]*)$", log.stem)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    return log.parent.name if log.stem == "log" and log.parent.name else log.stem


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax1 = plt.subplots(figsize=(8, 4.2))
    ax2 = ax1.twinx()
    offset = 0.0
    for i, log in enumerate(args.logs):
        rows = list(csv.DictReader(open(log)))
        if not rows:
            print(f"plot_runs: {log} has no rows", file=sys.stderr)
            return 1
        t = [offset + float(r["minutes"]) for r in rows]
        label = (lambda s: s) if i == 0 else (lambda s: "_" + s)  # one legend entry per series
        ax1.plot(t, [float(r["train_loss"]) for r in rows], "C0-", label=label("train loss"))
        # per source only: val_miou changed meaning between runs (macro over sources, then per image)
        for key, style in (("val_portrait", "C2--"), ("val_fullbody", "C3--")):
            points = [(x, float(r[key])) for x, r in zip(t, rows) if r.get(key)]  # validated epochs only
            if points:
                ax2.plot(*zip(*points), style, label=label(key))
        if i:
            ax1.axvline(offset, color="0.6", lw=0.8, ls=":")
        # x in data, y in axes fraction; every other label a line lower, so short runs stay readable
        ax1.text(offset if i else t[0], 0.95 if i % 2 else 1.0, f" {run_label(log)}", va="top", fontsize=8, color="0.4",
                 transform=ax1.get_xaxis_transform())
        offset = t[-1]
    ax1.set_xlabel("training minutes (cumulative)")
    ax1.set_ylabel("train loss", color="C0")
    ax2.set_ylabel("val mIoU per source")
    fig.legend(loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
