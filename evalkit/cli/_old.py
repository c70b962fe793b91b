"""The ``evalkit`` command.

    evalkit score --suite otb100 --data-root ../shared/data/otb100 \\
                  --results ../shared/data/results/otb100_cfnet_release [--profile otb-toolkit] [--format json]
    evalkit list suites|profiles

Errors in the user's input are printed as one line naming the file, line and problem (no traceback) and give exit
status 2; problems in single result files are listed on stderr while everything else is still scored.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from collections.abc import Sequence as SequenceABC
from pathlib import Path

from evalkit import __version__
from evalkit.commands import csv_list as _csv_list
from evalkit.commands import param_overrides
from evalkit.commands import rename_pair as _rename
from evalkit.config import load_config
from evalkit.errors import EvalkitError
from evalkit.registry import PROFILES, SUITES, VOT_SUITES


def _interval(text: str) -> tuple[int, int]:
    low, sep, high = text.partition(",")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (two integers), got {text!r}") from None
    if not sep or not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return lo, hi


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="evalkit", description="Evaluation toolkit for single-object tracking.")
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    parser.add_argument("--config", type=Path, help="evalkit.toml to use (default: $EVALKIT_CONFIG, ./evalkit.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="score raw tracking results against a benchmark's ground truth")
    score.add_argument("--suite", required=True, help=f"one of: {', '.join(SUITES.names())}")
    score.add_argument("--data-root", type=Path, help="the benchmark's ground truth, in any supported layout")
    score.add_argument("--results", type=Path, action="append", required=True,
                       help="results folder (OTB .mat files, <tracker>/<seq>.txt, or an evalkit store); repeatable")
    score.add_argument("--profile", help=f"metric conventions: {', '.join(PROFILES.names())} (default from config)")
    score.add_argument("--protocol", choices=["ope", "tre", "sre", "vot-supervised", "vot-multistart"],
                       help="ope (default for OTB-style suites), or tre / sre: pool every stored run per sequence as "
                            "the OTB toolkit does; vot-supervised (default for vot2016/2018/2019); vot-multistart: "
                            "VOT2020 anchor runs stored by `evalkit run --protocol vot-multistart`")
    score.add_argument("--format", default="table", choices=["table", "json", "csv"])
    score.add_argument("--sequences", type=_csv_list, help="score only these sequences (output labelled partial)")
    score.add_argument("--allow-partial", action="store_true",
                       help="score a suite with missing sequences; every output is labelled partial")
    score.add_argument("--rename", type=_rename, action="append", default=[], metavar="OLD=NEW",
                       help="rename a tracker found in the results (extends the built-in name map)")
    score.add_argument("--trackers", type=_csv_list, help="score only these trackers (names after renaming)")
    score.add_argument("--by-attribute", action="store_true", help="also print per-attribute success AUC")
    score.add_argument("--per-sequence", action="store_true", help="also print per-sequence scores")
    score.add_argument("--strict", action="store_true", help="exit with status 3 when any result file had a problem")
    _add_statistics_options(score)
    vot = score.add_argument_group("VOT suites (vot2016, vot2018, vot2019)")
    vot.add_argument("--convention", default="matlab", choices=["matlab", "pysot"],
                     help="EAO as the VOT2016-2018 MATLAB toolkit computes it (default) or as pysot's port does")
    vot.add_argument("--eao-interval", type=_interval, metavar="LOW,HIGH",
                     help="EAO sequence-length interval (default: the suite's, e.g. 100,356 for vot2018)")

    cmp = sub.add_parser("compare", help="paired comparison of two trackers on the same suite")
    cmp.add_argument("a", help="first tracker (name after renaming)")
    cmp.add_argument("b", help="second tracker")
    cmp.add_argument("--suite", required=True)
    cmp.add_argument("--data-root", type=Path)
    cmp.add_argument("--results", type=Path, action="append", required=True)
    cmp.add_argument("--profile")
    cmp.add_argument("--protocol", default="ope", choices=["ope", "tre", "sre"])
    cmp.add_argument("--sequences", type=_csv_list)
    cmp.add_argument("--allow-partial", action="store_true")
    cmp.add_argument("--rename", type=_rename, action="append", default=[], metavar="OLD=NEW")
    cmp.add_argument("--format", default="table", choices=["table", "json"])
    _add_statistics_options(cmp)

    run = sub.add_parser("run", help="run trackers on suites, store the results, score them")
    run.add_argument("--trackers", type=_csv_list, default=[],
                     help="registered names (evalkit list trackers) or path/to/file.py:ClassName, comma separated")
    run.add_argument("--tracker-module", action="append", default=[], metavar="PATH.py:CLASS",
                     help="a tracker class from your own file; repeatable")
    run.add_argument("--suite", type=_csv_list, required=True, help="suites, comma separated (demo needs no data)")
    run.add_argument("--protocol", choices=["ope", "tre", "sre", "vot-supervised", "vot-multistart"],
                     help="ope (default; vot-supervised on VOT suites); tre: 20 temporal segments; sre: 12 spatial "
                          "perturbations (OTB toolkit); vot-supervised: re-initialised runs (VOT2016-2019); "
                          "vot-multistart: VOT2020 anchor runs")
    run.add_argument("--data-root", action="append", default=[], metavar="[SUITE=]PATH",
                     help="data root for all suites, or SUITE=PATH for one; default from evalkit.toml")
    run.add_argument("--sequences", type=_csv_list, help="run only these sequences (output labelled partial)")
    run.add_argument("--allow-partial", action="store_true", help="run on a data root that lacks sequences")
    run.add_argument("--workers", type=int, help="parallel worker processes (default from evalkit.toml)")
    run.add_argument("--backend", choices=["loky", "threading", "dask", "ray"], help="joblib backend")
    run.add_argument("--keep-going", action="store_true", help="continue past failing runs; summarise at the end")
    run.add_argument("--results-dir", type=Path, help="result store root (default: evalkit.toml [paths] results)")
    run.add_argument("--param", action="append", default=[], metavar="TRACKER.KEY=VALUE",
                     help="override a tracker parameter, e.g. kcf.detect_thresh=0.3; repeatable")
    run.add_argument("--device", help="torch device for deep trackers (default: cuda if available, else cpu)")
    run.add_argument("--profile", help="metric profile for the scores (default from config)")
    run.add_argument("--format", default="table", choices=["table", "json"])
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_statistics_options(run)

    lst = sub.add_parser("list", help="list known trackers, suites or profiles")
    lst.add_argument("what", choices=["trackers", "suites", "profiles"])

    # Further commands live in their own modules (evalkit/commands/<name>.py), each with
    # ``add_parser(sub)`` that registers its subparser and sets ``handler`` to a function (args) -> exit status.
    # Modules import heavy dependencies (torch, matplotlib) inside the handler, so `evalkit --help` stays fast.
    import importlib

    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module).add_parser(sub)
        except ImportError as exc:  # one broken command (a missing optional package) must not take down the others
            name = module.rpartition(".")[2].replace("_", "-")
            broken = sub.add_parser(name, help=f"(unavailable: {exc})")
            broken.set_defaults(handler=_unavailable(name, exc))
    return parser


def _unavailable(name: str, exc: ImportError) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        raise EvalkitError(f"evalkit {name} is unavailable: {exc} (reinstall evalkit: make install)")
    return handler


# Command modules added to the parser, in help order.
COMMAND_MODULES: list[str] = ["evalkit.commands.table", "evalkit.commands.report", "evalkit.commands.vot_toolkit",
                              "evalkit.commands.train", "evalkit.commands.weights", "evalkit.commands.complexity",
                              "evalkit.commands.compress"]


def _add_statistics_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", type=int, default=10_000, metavar="N",
                   help="bootstrap resamples for 95%% intervals and paired tests (0: off; default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")


def _load_for_scoring(args: argparse.Namespace, protocol: str) -> tuple[object, list[object], object]:
    """Suite, result sets and profile named by the common scoring options."""
    from evalkit.commands.table import load_result_sets
    from evalkit.datasets import load_suite

    cfg = load_config(args.config)
    SUITES.get(args.suite)  # unknown names fail here, with suggestions
    root = args.data_root or cfg.data_root(args.suite) or (cfg.cache if args.suite.lower() == "demo" else None)
    if root is None:
        raise EvalkitError(f"no data root for {args.suite}: pass --data-root or set [datasets] {args.suite} in "
                           f"evalkit.toml")
    profile = PROFILES.get(args.profile or cfg.profile)
    suite = load_suite(args.suite, root, args.sequences)
    # several stored runs of one tracker (a --param change) are told apart as name[key=value] (evalkit table's loader)
    sets = load_result_sets(args.results, args.rename, protocol=protocol)
    return suite, sets, profile


def _cmd_compare(args: argparse.Namespace) -> int:
    import json

    from evalkit.metrics.statistics import paired_comparison
    from evalkit.scoring import score_ope
    from evalkit.tables import format_comparison

    suite, sets, profile = _load_for_scoring(args, protocol_for(args.suite, args.protocol))
    by_name = {rs.tracker.lower(): rs for rs in sets}
    for t in (args.a, args.b):
        if t.lower() not in by_name:
            raise EvalkitError(f"tracker {t!r} not found in the results; found: {', '.join(rs.tracker for rs in sets)}")
    pair = [by_name[args.a.lower()], by_name[args.b.lower()]]
    report = score_ope(suite, pair, profile, allow_partial=args.allow_partial or bool(args.sequences),
                       protocol=args.protocol, resamples=0)
    ta, tb = report.trackers[pair[0].tracker], report.trackers[pair[1].tracker]
    results = paired_comparison(ta.per_sequence, tb.per_sequence, profile, resamples=max(args.bootstrap, 1),
                                seed=args.seed)
    if args.format == "json":
        print(json.dumps({"suite": report.suite, "protocol": report.protocol, "profile": report.profile,
                          "partial": report.partial, "a": ta.tracker, "b": tb.tracker,
                          "n_sequences": results[0].n_sequences,
                          "fields": {r.field: {"a": r.a, "b": r.b, "difference": r.difference,
                                               "ci95": list(r.interval), "p_value": r.p_value} for r in results}},
                         indent=2))
    else:
        print(format_comparison(ta.tracker, tb.tracker, results, report.suite, report.protocol, report.profile))
    return 0


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


def _report_problems(trackers: dict[str, object]) -> int:
    n_problems = 0
    for name, t in trackers.items():
        for p in t.problems:  # type: ignore[attr-defined]
            print(f"evalkit: {name}: {p}", file=sys.stderr)
            n_problems += 1
    if n_problems:
        print(f"evalkit: {n_problems} problem(s) in the results; the rest was scored", file=sys.stderr)
    return n_problems


def score_suite(protocol: str, suite: object, sets: list[object], profile: object, *, allow_partial: bool,
                resamples: int = 0, seed: int = 0, convention: str = "matlab",
                interval: tuple[int, int] | None = None) -> object:
    """The report of one suite under one protocol: VOT supervised, VOT multistart, or OPE/TRE/SRE."""
    if protocol == "vot-supervised":
        from evalkit.scoring_vot import score_vot

        return score_vot(suite, sets, interval=interval, convention=convention,  # type: ignore[arg-type]
                         allow_partial=allow_partial)
    if protocol == "vot-multistart":
        from evalkit.scoring_multistart import score_multistart

        return score_multistart(suite, sets, allow_partial=allow_partial)  # type: ignore[arg-type]
    from evalkit.scoring import score_ope

    return score_ope(suite, sets, profile, allow_partial=allow_partial, protocol=protocol,  # type: ignore[arg-type]
                     resamples=resamples, seed=seed)


def _cmd_score(args: argparse.Namespace) -> int:
    from evalkit import tables
    from evalkit.scoring_multistart import MultistartReport
    from evalkit.scoring_vot import VotReport

    protocol = protocol_for(args.suite, args.protocol)
    suite, sets, profile = _load_for_scoring(args, protocol)
    if args.trackers:
        wanted = {t.lower() for t in args.trackers}
        unknown = wanted - {rs.tracker.lower() for rs in sets}
        if unknown:
            raise EvalkitError(f"trackers not found in the results: {', '.join(sorted(unknown))}; found: "
                               f"{', '.join(rs.tracker for rs in sets)}")
        sets = [rs for rs in sets if rs.tracker.lower() in wanted]
    report = score_suite(protocol, suite, sets, profile, allow_partial=args.allow_partial or bool(args.sequences),
                         resamples=max(args.bootstrap, 0), seed=args.seed, convention=args.convention,
                         interval=args.eao_interval)
    n_problems = _report_problems(report.trackers)  # type: ignore[attr-defined]

    vot = isinstance(report, VotReport)
    if args.format == "json":
        print(tables.format_json(report))  # type: ignore[arg-type]
    elif args.format == "csv" and not isinstance(report, MultistartReport):
        sys.stdout.write(tables.format_vot_csv(report) if vot else tables.format_csv(report))  # type: ignore[arg-type]
    else:
        print(tables.format_any(report))  # type: ignore[arg-type]
        if args.by_attribute and not isinstance(report, MultistartReport):
            print()
            print(tables.format_vot_tag_table(report) if vot else tables.format_attribute_table(report))  # type: ignore
        if args.per_sequence and not isinstance(report, MultistartReport):
            print()
            print(tables.format_vot_sequence_table(report) if vot else tables.format_sequence_table(report))  # type: ignore
    return 3 if (args.strict and n_problems) else 0


def _data_roots(entries: list[str], suites: list[str], cfg: object) -> dict[str, str | None]:
    """Data root per suite from --data-root (PATH or SUITE=PATH) and the configuration."""
    roots: dict[str, str | None] = {}
    default = None
    for e in entries:
        name, sep, path = e.partition("=")
        if sep and name in SUITES:
            roots[name.lower()] = path
        else:
            default = e
    out: dict[str, str | None] = {}
    for s in suites:
        root = roots.get(s) or default or cfg.data_root(s)  # type: ignore[attr-defined]
        if root is None and s == "demo":  # generated on first use into the configured cache
            root = cfg.cache  # type: ignore[attr-defined]
        if root is None:
            raise EvalkitError(f"no data root for {s}: pass --data-root {s}=PATH or set [datasets] {s} in "
                               f"evalkit.toml (evalkit never downloads datasets)")
        out[s] = str(root) if root is not None else None
    return out


def _tracker_specs(names: list[str], params: list[str]) -> list[object]:
    from evalkit.registry import tracker_class
    from evalkit.runner import TrackerSpec

    overrides = param_overrides(params)
    specs = []
    for ref in names:
        cls = tracker_class(ref)
        name = getattr(cls, "name", "") or ref
        given = {**overrides.pop(name.lower(), {}), **overrides.pop(ref.lower(), {})}  # by name or alias used
        specs.append(TrackerSpec(ref, name, tuple(sorted(given.items()))))
    if overrides:
        raise EvalkitError(f"--param names trackers that are not run: {', '.join(sorted(overrides))}")
    return specs


class _ProtocolSpecs:
    """Picklable ``(sequence, deterministic) -> run specs`` for a registered protocol."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol

    def __call__(self, seq: object, deterministic: bool) -> list[object]:
        from evalkit.protocols import expand

        options = {"deterministic": deterministic} if self.protocol == "vot-supervised" else {}
        return list(expand(self.protocol, seq, **options))  # type: ignore[arg-type]


def _cmd_run(args: argparse.Namespace) -> int:
    import json
    import time

    from evalkit.datasets import load_suite
    from evalkit.results import read_store_set
    from evalkit.runner import execute, plan_jobs
    from evalkit.store import ResultStore
    from evalkit.tables import format_any

    cfg = load_config(args.config)
    suite_names = [s.lower() for s in args.suite]
    for s in suite_names:
        SUITES.get(s)
    roots = _data_roots(args.data_root, suite_names, cfg)
    if not args.trackers and not args.tracker_module:
        raise EvalkitError("no tracker to run: pass --trackers NAME[,NAME] and/or --tracker-module PATH.py:CLASS")
    specs = _tracker_specs([*args.trackers, *args.tracker_module], args.param)
    backend = args.backend or cfg.backend
    if backend in ("dask", "ray"):  # fail before any folder is written
        import importlib

        module, package = ("distributed", "dask[distributed]") if backend == "dask" else ("ray", "ray[default]")
        try:
            importlib.import_module(module)
        except ImportError:
            raise EvalkitError(f"--backend {backend} needs {module}: pip install '{package}'") from None
    profile = PROFILES.get(args.profile or cfg.profile)
    suites = []
    for s in suite_names:
        suite = load_suite(s, roots[s], args.sequences, collect=True)
        for problem in suite.problems:
            print(f"evalkit: {problem} (sequence left out)", file=sys.stderr)
        if suite.missing and not args.allow_partial and not args.sequences:
            raise EvalkitError(f"{s}: {len(suite.missing)} of {len(suite.expected)} sequences are not in "
                               f"{suite.source}; pass --sequences or --allow-partial to run the {len(suite)} present "
                               f"(scores are then labelled partial)")
        no_frames = [q.name for q in suite if not q.has_frames]
        if no_frames:
            raise EvalkitError(f"{s}: no frames on disk for {', '.join(no_frames[:5])}"
                               f"{' ...' if len(no_frames) > 5 else ''} under {suite.source}; running trackers needs "
                               f"the image folders (scoring stored results does not)")
        suites.append(suite)
    store = ResultStore(args.results_dir or cfg.results)
    protocols = {s.name: protocol_for(s.name, args.protocol) for s in suites}
    plan = None
    for protocol in dict.fromkeys(protocols.values()):  # one plan per protocol, merged; suites keep their order
        part = plan_jobs(specs, [s for s in suites if protocols[s.name] == protocol], protocol,
                         _ProtocolSpecs(protocol), store, roots, args.device, seed=args.seed)
        plan = part if plan is None else plan.merged(part)
    assert plan is not None
    if plan.skipped:
        print(f"evalkit: resuming: {plan.skipped} finished run(s) reused, {len(plan.jobs)} to run", file=sys.stderr)
    summary = execute(plan, workers=args.workers or cfg.workers, backend=backend,
                      address=cfg.address, keep_going=args.keep_going, progress=not args.no_progress)
    for job, outcome in summary.failures:
        print(f"evalkit: FAILED {job.tracker.name} {job.suite}/{job.sequence} ({job.spec.label}): {outcome.error}",
              file=sys.stderr)
    if summary.failures:
        print(f"evalkit: {len(summary.failures)} run(s) failed; the others finished and were stored",
              file=sys.stderr)

    reports = []
    for suite in suites:
        protocol = protocols[suite.name]
        sets = [read_store_set(plan.folders[(t.name, suite.name, protocol)]) for t in specs]
        reports.append(score_suite(protocol, suite, sets, profile, allow_partial=True,
                                   resamples=max(args.bootstrap, 0), seed=args.seed))
    from evalkit.report.document import write_run_report  # the PDF report: provenance, plots, tables, appendix

    path = Path(cfg.reports) / f"run-{time.strftime('%Y%m%d-%H%M%S')}.pdf"
    write_run_report(reports, [read_store_set(f) for f in plan.folders.values()], path,
                     data_sources={s.name: s.source for s in suites}, resamples=max(args.bootstrap, 0), seed=args.seed)
    if args.format == "json":
        print(json.dumps({"runs": [r.as_json() for r in reports], "report": str(path)}, indent=2))
    else:
        for r in reports:
            print(format_any(r))
            print()
        print(f"report: {path}")
    return 1 if summary.failures else 0


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "trackers":
        from evalkit.registry import TRACKERS, _load_entry_points, tracker_class

        _load_entry_points()
        width = max(len(n) for n in TRACKERS.names())
        for name in TRACKERS.names():
            cls = tracker_class(name)
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            alias = f" (alias of {cls.name})" if getattr(cls, "name", name) != name else ""
            print(f"{name:{width}s}  {doc}{alias}")
    elif args.what == "suites":
        print("\n".join(SUITES.names()))
    else:
        for name in PROFILES.names():
            print(f"{name:12s} {PROFILES.get(name).description}")
    return 0


def main(argv: SequenceABC[str] | None = None) -> int:
    """Entry point of the ``evalkit`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        commands = {"score": _cmd_score, "compare": _cmd_compare, "run": _cmd_run, "list": _cmd_list}
        handler = getattr(args, "handler", None) or commands[args.command]
        return handler(args)
    except EvalkitError as exc:
        print(f"evalkit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `evalkit list trackers | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
