"""``evalkit compare``: paired comparison of two trackers on the same suite.

    evalkit compare CFNet-conv2 SiamFC-3s --suite otb100 --data-root ../shared/data/otb100 \\
                    --results ../shared/data/results/otb100_cfnet_release
    evalkit compare cfnet-conv2 CFNet-conv2 --frames --suite otb100 --data-root ../shared/data/otb100 \\
                    --results results/otb100/ope --results ../shared/data/results/otb100_cfnet_release \\
                    --sequences Couple,Crossing

Without ``--frames``: the paired comparison of the two trackers' scores (bootstrap interval of the difference and
a permutation test over sequences). With ``--frames``: how far the two trackers' boxes agree frame by frame, per
sequence (mean IoU between their boxes and the first frame where they part, IoU < ``--threshold``), to check a port
against its authors' own results.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from evalkit.cli.options import add_scoring_inputs, add_statistics
from evalkit.cli.score import load_for_scoring, only_trackers


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit compare``."""
    p = sub.add_parser("compare", help="paired comparison of two trackers on the same suite", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="first tracker (name after renaming)")
    p.add_argument("b", help="second tracker")
    p.add_argument("--suite", required=True)
    add_scoring_inputs(p)
    p.add_argument("--protocol", default="ope", choices=["ope", "tre", "sre"])
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--frames", action="store_true",
                   help="compare the two trackers' boxes frame by frame (mean IoU, first frame they part)")
    p.add_argument("--threshold", type=float, default=0.5, help="with --frames: IoU below which they part (0.5)")
    add_statistics(p)
    p.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Handler of ``evalkit compare``."""
    from evalkit.metrics.statistics import paired_comparison
    from evalkit.scoring.ope import score_ope
    from evalkit.tables import format_comparison

    suite, sets, profile = load_for_scoring(args, args.protocol)
    pair = [only_trackers(sets, [name])[0] for name in (args.a, args.b)]
    if args.frames:
        return compare_frames(suite, pair, profile, args.threshold, args.format)
    report = score_ope(suite, pair, profile, allow_partial=args.allow_partial or bool(args.sequences),
                       protocol=args.protocol, resamples=0)
    ta, tb = report.trackers[pair[0].tracker], report.trackers[pair[1].tracker]
    results = paired_comparison(ta.per_sequence, tb.per_sequence, profile, resamples=max(args.bootstrap, 1),
                                seed=args.seed)
    if args.format == "json":
        print(json.dumps({**report.json_header(), "a": ta.tracker, "b": tb.tracker,
                          "n_sequences": results[0].n_sequences,
                          "fields": {r.field: {"a": r.a, "b": r.b, "difference": r.difference,
                                               "ci95": list(r.interval), "p_value": r.p_value,
                                               "conclusive": r.conclusive, "min_p_value": r.min_p_value}
                                     for r in results}},
                         indent=2))
    else:
        print(format_comparison(ta.tracker, tb.tracker, results, report.suite, report.protocol, report.profile))
    return 0


def compare_frames(suite: Any, pair: list[Any], profile: Any, threshold: float, fmt: str) -> int:
    """Frame-by-frame agreement of two result sets on every sequence both hold (aligned to the ground truth)."""
    from evalkit.errors import EvalkitError
    from evalkit.metrics.agreement import agreement_table
    from evalkit.scoring.ope import RunProblem, aligned_runs

    if not 0.0 < threshold <= 1.0:
        raise EvalkitError(f"--threshold must lie in (0, 1], got {threshold}")
    pairs, skipped = {}, []
    for seq in suite:
        full = []
        for rs in pair:
            try:
                run, (boxes, _, _), offset = aligned_runs(rs, seq, profile)[0]
            except RunProblem as exc:
                skipped.append(f"{rs.tracker}: {exc.problem}")
                break
            rows = np.full((seq.n_frames, 4), np.nan)
            rows[offset:offset + len(boxes)] = boxes
            full.append(rows)
        if len(full) == 2:
            pairs[seq.name] = (full[0], full[1])
    for line in skipped:
        print(f"evalkit: {line} (sequence left out)", file=sys.stderr)
    if not pairs:
        raise EvalkitError(f"{pair[0].tracker} and {pair[1].tracker} share no scorable sequence of {suite.name}")
    table = agreement_table(pairs, threshold)
    a, b = pair[0].tracker, pair[1].tracker
    if fmt == "json":
        print(json.dumps({"suite": suite.name, "a": a, "b": b, **table.as_json()}, indent=2))
        return 0
    import pandas as pd

    from evalkit.tables import render

    frame = pd.DataFrame({
        "Sequence": list(table.per_sequence),
        "Mean IoU": [f"{x.mean_iou:.3f}" for x in table.per_sequence.values()],
        "First parting frame": [str(suite[n].frame_number(x.first_parting)) if x.first_parting is not None else "-"
                                for n, x in table.per_sequence.items()],
        "Frames compared": [str(x.n_compared) for x in table.per_sequence.values()]})
    print(f"{a} vs {b} | {suite.name.upper()} | frame by frame | parting: IoU < {threshold:g}")
    print(render(frame, "text"))
    print(f"mean IoU over {table.n_compared} frames: {table.mean_iou:.3f}; over sequences: "
          f"{table.mean_of_sequences:.3f}; parted on {len(table.parted)} of {len(pairs)} sequences")
    return 0
