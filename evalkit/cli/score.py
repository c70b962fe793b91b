"""``evalkit score``: score raw tracking results against a benchmark's ground truth.

    evalkit score --suite otb100 --data-root ../shared/data/otb100 \\
                  --results ../shared/data/results/otb100_cfnet_release
    evalkit score --suite vot2018 --data-root ../shared/data/vot2018/VOT2018.json \\
                  --results ../shared/data/results/vot2018 --format json --by-attribute
    evalkit score --suite otb100 --data-root otb100=../shared/data/sequences --results RESULTS --sequences Couple
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.cli.options import add_scoring_inputs, add_statistics, csv_list, data_roots, interval
from evalkit.errors import EvalkitError
from evalkit.registry import PROFILES, SUITES, VOT_SUITES

PROTOCOL_CHOICES = ["ope", "tre", "sre", "vot-supervised", "vot-multistart"]
TABLE_FORMATS = ["table", "markdown", "latex", "html", "json", "csv"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit score``."""
    p = sub.add_parser("score", help="score raw tracking results against a benchmark's ground truth",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", required=True, help=f"one of: {', '.join(SUITES.names())}")
    add_scoring_inputs(p)
    p.add_argument("--protocol", choices=[*PROTOCOL_CHOICES, "got10k"],
                   help="ope (default for OTB-style suites), or tre / sre: pool every stored run per sequence as "
                        "the OTB toolkit does; vot-supervised (default for vot2016/2018/2019); vot-multistart: "
                        "VOT2020 anchor runs stored by `evalkit run --protocol vot-multistart`; got10k: GOT-10k's "
                        "AO / SR0.50 / SR0.75 (default for got10k-val)")
    p.add_argument("--format", default="table", choices=TABLE_FORMATS)
    p.add_argument("--trackers", type=csv_list, help="score only these trackers (names after renaming)")
    p.add_argument("--by-attribute", action="store_true", help="also give per-attribute (VOT: per-tag) scores")
    p.add_argument("--per-sequence", action="store_true", help="also give per-sequence scores")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 3 when any input file had a problem or a tracker was not scored on every "
                        "sequence")
    add_statistics(p)
    add_vot_options(p)
    p.set_defaults(handler=run_score)


def add_vot_options(p: argparse.ArgumentParser) -> None:
    """``--convention`` and ``--eao-interval`` of the VOT supervised scorer."""
    vot = p.add_argument_group("VOT suites (vot2016, vot2018, vot2019)")
    vot.add_argument("--convention", default="matlab", choices=["matlab", "pysot"],
                     help="EAO as the VOT2016-2018 MATLAB toolkit computes it (default) or as pysot's port does")
    vot.add_argument("--eao-interval", type=interval, metavar="LOW,HIGH",
                     help="EAO sequence-length interval (default: the suite's, e.g. 100,356 for vot2018)")


def protocol_for(suite: str, asked: str | None) -> str:
    """The protocol for one suite: the one asked for, else vot-supervised on VOT suites and ope elsewhere."""
    vot = suite.lower() in VOT_SUITES
    protocol = asked or ("vot-supervised" if vot else "ope")
    if vot and protocol not in ("vot-supervised", "vot-multistart"):
        raise EvalkitError(f"{suite} is scored with --protocol vot-supervised (its baseline experiment) or "
                           f"vot-multistart, not {protocol}")
    if not vot and protocol == "vot-supervised":
        raise EvalkitError(f"--protocol vot-supervised needs a VOT suite (vot2016, vot2018, vot2019), not {suite}")
    return protocol


def load_for_scoring(args: argparse.Namespace, protocol: str) -> tuple[Any, list[Any], Any]:
    """Suite, result sets and profile named by the common scoring options."""
    from evalkit.datasets import load_suite
    from evalkit.results import load_result_sets

    SUITES.get(args.suite)  # unknown names fail here, with suggestions
    roots = data_roots(args)
    if args.profile:
        PROFILES.get(args.profile)  # an unknown profile fails before any data is read
    # a malformed ground-truth file costs its sequence only: named on stderr, the rest scored (labelled partial)
    suite = load_suite(args.suite, roots.require(args.suite), args.sequences, collect=True)
    for problem in suite.problems:
        print(f"evalkit: {problem} (sequence not scored)", file=sys.stderr)
    # --profile, else the suite's own (LaSOT: lasot-toolkit), else the configured default
    profile = PROFILES.get(args.profile or suite.default_profile or roots.config.profile)
    for notice in suite.notices:
        print(f"evalkit: note: {notice}", file=sys.stderr)
    # several stored runs of one tracker (a --param change) are told apart as name[key=value]
    sets = load_result_sets(args.results, args.rename, protocol=protocol)
    return suite, sets, profile


def only_trackers(sets: list[Any], wanted: Sequence[str] | None) -> list[Any]:
    """The result sets of the trackers named (case-insensitive); an unknown name is an error listing the found."""
    if not wanted:
        return sets
    names = {t.lower() for t in wanted}
    unknown = names - {rs.tracker.lower() for rs in sets}
    if unknown:
        raise EvalkitError(f"trackers not found in the results: {', '.join(sorted(unknown))}; found: "
                           f"{', '.join(rs.tracker for rs in sets)}")
    return [rs for rs in sets if rs.tracker.lower() in names]


def report_problems(trackers: Mapping[str, Any]) -> int:
    """Print every tracker's result-file problems (and notices: scored as a toolkit would, nothing dropped) on
    stderr, one line each; returns how many problems there were."""
    n_problems = 0
    for name, t in trackers.items():
        for p in getattr(t, "notices", ()):
            print(f"evalkit: {name}: note: {p}", file=sys.stderr)
        for p in t.problems:
            print(f"evalkit: {name}: {p}", file=sys.stderr)
            n_problems += 1
    if n_problems:
        print(f"evalkit: {n_problems} problem(s) in the results; the rest was scored", file=sys.stderr)
    return n_problems


def print_report(report: Any, fmt: str, per_sequence: bool = False, by_attribute: bool = False) -> None:
    """Print a report in ``fmt`` (``table`` is text) with the asked extra tables (JSON: as extra keys)."""
    from evalkit import tables

    if fmt == "json":
        print(tables.format_json(report, per_sequence=per_sequence, per_attribute=by_attribute))
        return
    if fmt == "csv":
        sys.stdout.write(tables.format_csv(report))
        if per_sequence:
            sys.stdout.write("\n" + report.per_sequence().to_csv(index=False, lineterminator="\n"))
        if by_attribute:
            sys.stdout.write("\n" + report.per_attribute().to_csv(index=False, lineterminator="\n"))
        return
    text_fmt = "text" if fmt == "table" else fmt
    print(tables.format_report(report, text_fmt))
    if by_attribute:
        extra = tables.format_attributes(report, fmt=text_fmt)
        if extra:
            print()
            print(extra)
    if per_sequence:
        print()
        print(tables.format_sequences(report, text_fmt))


def _only_failed_missing(suite: Any) -> bool:
    """True when every sequence missing from the suite is one whose files failed to load (each named on stderr):
    those cost their own sequences, the rest is scored; sequences simply absent still need --allow-partial."""
    return bool(suite.failed) and set(suite.missing) <= set(suite.failed)


def run_score(args: argparse.Namespace) -> int:
    """Handler of ``evalkit score``."""
    from evalkit.scoring import ScoringOptions, score

    protocol = protocol_for(args.suite, args.protocol)
    if args.protocol is None and args.suite.lower() == "got10k-val":
        protocol = "got10k"  # the benchmark's own AO / SR; --protocol ope gives OTB-style scores
    # GOT-10k AO / SR score one-pass runs: evalkit store folders recorded as OPE runs are the ones to read
    suite, sets, profile = load_for_scoring(args, "ope" if protocol == "got10k" else protocol)
    sets = only_trackers(sets, args.trackers)
    options = ScoringOptions(profile=profile,
                             allow_partial=args.allow_partial or bool(args.sequences) or _only_failed_missing(suite),
                             resamples=max(args.bootstrap, 0), seed=args.seed, convention=args.convention,
                             interval=args.eao_interval)
    report = score(protocol, suite, sets, options)
    n_problems = report_problems(report.trackers) + len(suite.problems)
    print_report(report, args.format, args.per_sequence, args.by_attribute)
    incomplete = [name for name, t in report.trackers.items() if not t.complete]
    if args.strict and incomplete:
        print(f"evalkit: not scored on every sequence: {', '.join(incomplete)}", file=sys.stderr)
    return 3 if (args.strict and (n_problems or incomplete)) else 0
