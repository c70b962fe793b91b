"""``evalkit compare``: paired comparison of two trackers on the same suite.

    evalkit compare CFNet-conv2 SiamFC-3s --suite otb100 --data-root ../shared/data/otb100 \\
                    --results ../shared/data/results/otb100_cfnet_release
"""

from __future__ import annotations

import argparse
import json

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
    add_statistics(p)
    p.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Handler of ``evalkit compare``."""
    from evalkit.metrics.statistics import paired_comparison
    from evalkit.scoring.ope import score_ope
    from evalkit.tables import format_comparison

    suite, sets, profile = load_for_scoring(args, args.protocol)
    pair = [only_trackers(sets, [name])[0] for name in (args.a, args.b)]
    report = score_ope(suite, pair, profile, allow_partial=args.allow_partial or bool(args.sequences),
                       protocol=args.protocol, resamples=0)
    ta, tb = report.trackers[pair[0].tracker], report.trackers[pair[1].tracker]
    results = paired_comparison(ta.per_sequence, tb.per_sequence, profile, resamples=max(args.bootstrap, 1),
                                seed=args.seed)
    if args.format == "json":
        print(json.dumps({**report.json_header(), "a": ta.tracker, "b": tb.tracker,
                          "n_sequences": results[0].n_sequences,
                          "fields": {r.field: {"a": r.a, "b": r.b, "difference": r.difference,
                                               "ci95": list(r.interval), "p_value": r.p_value} for r in results}},
                         indent=2))
    else:
        print(format_comparison(ta.tracker, tb.tracker, results, report.suite, report.protocol, report.profile))
    return 0
