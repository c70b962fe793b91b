"""``evalkit run``: run trackers on suites, store the results, score them and write a PDF report.

    evalkit run --trackers kcf,csrt --suite demo
    EVALKIT_WEIGHTS=../shared/weights evalkit run --trackers siamfc,cfnet,dcfnet --suite otb100 \\
                --data-root ../shared/data/sequences --sequences Couple,Crossing
    evalkit run --trackers csrt --suite vot2018 --data-root ~/data/vot2018 --protocol vot-multistart
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evalkit.cli.options import (
    add_data_root,
    add_param,
    add_partial,
    add_statistics,
    csv_list,
    data_roots,
    param_overrides,
)
from evalkit.cli.score import PROTOCOL_CHOICES, print_report, protocol_for
from evalkit.errors import EvalkitError
from evalkit.registry import PROFILES, SUITES


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit run``."""
    p = sub.add_parser("run", help="run trackers on suites, store the results, score them", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trackers", type=csv_list, default=[],
                   help="registered names (evalkit list trackers) or path/to/file.py:ClassName, comma separated "
                        "(a file is imported, so its code runs)")
    p.add_argument("--tracker-module", action="append", default=[], metavar="PATH.py:CLASS",
                   help="a tracker class from your own file (its code runs); repeatable")
    p.add_argument("--suite", type=csv_list, required=True, help="suites, comma separated (demo needs no data)")
    p.add_argument("--protocol", choices=PROTOCOL_CHOICES,
                   help="ope (default; vot-supervised on VOT suites); tre: 20 temporal segments; sre: 12 spatial "
                        "perturbations (OTB toolkit); vot-supervised: re-initialised runs (VOT2016-2019); "
                        "vot-multistart: VOT2020 anchor runs")
    add_data_root(p)
    add_partial(p, "run")
    p.add_argument("--workers", type=int, help="parallel worker processes (default from evalkit.toml)")
    p.add_argument("--backend", choices=["loky", "threading", "dask", "ray"], help="joblib backend")
    p.add_argument("--keep-going", action="store_true", help="continue past failing runs; summarise at the end")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="stop a run whose tracker spends longer on one frame (initialize or update) and record it as "
                        "that run's failure; the others go on (default: evalkit.toml [run] timeout, else none)")
    p.add_argument("--run-timeout", type=_seconds, metavar="SECONDS",
                   help="stop a run that takes longer in all (its failure; the others go on); default: none")
    p.add_argument("--results-dir", type=Path, help="result store root (default: evalkit.toml [paths] results)")
    add_param(p)
    p.add_argument("--device", help="torch device for deep trackers (default: cuda if available, else cpu)")
    p.add_argument("--profile", help="metric profile for the scores (default from config)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--check", action="store_true",
                   help="only check: list every problem (data roots, frames, weights, parameters) with its fix, and "
                        "exit (0 when ready). The same check runs before any job of every run")
    add_statistics(p)
    p.set_defaults(handler=run_run)


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the limit must be positive")
    return value


def tracker_specs(names: list[str], params: list[str]) -> list[Any]:
    """One TrackerSpec per tracker named, with its ``--param`` overrides (by name or by the alias used)."""
    from evalkit.registry import tracker_class
    from evalkit.runner import TrackerSpec

    overrides = param_overrides(params)
    specs = []
    for ref in names:
        cls = tracker_class(ref)
        name = getattr(cls, "name", "") or ref
        given = {**overrides.pop(name.lower(), {}), **overrides.pop(ref.lower(), {})}
        specs.append(TrackerSpec(ref, name, tuple(sorted(given.items()))))
    if overrides:
        raise EvalkitError(f"--param names trackers that are not run: {', '.join(sorted(overrides))}")
    return specs


class ProtocolSpecs:
    """Picklable ``(sequence, deterministic) -> run specs`` for a registered protocol."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol

    def __call__(self, seq: object, deterministic: bool) -> list[object]:
        from evalkit.protocols import expand

        options = {"deterministic": deterministic} if self.protocol == "vot-supervised" else {}
        return list(expand(self.protocol, seq, **options))  # type: ignore[arg-type]


def _check_backend(backend: str) -> None:
    """A cluster backend whose package is missing fails before any folder is written."""
    import importlib

    if backend in ("dask", "ray"):
        module, package = ("distributed", "dask[distributed]") if backend == "dask" else ("ray", "ray[default]")
        try:
            importlib.import_module(module)
        except ImportError:
            raise EvalkitError(f"--backend {backend} needs {module}: pip install '{package}'") from None


def _load_suites(args: argparse.Namespace, names: list[str], roots: Any) -> list[Any]:
    """Every suite to run on, with its frames on disk; a missing sequence or frame folder is an error."""
    from evalkit.datasets import load_suite

    suites = []
    for s in names:
        suite = load_suite(s, roots.require(s), args.sequences, collect=True)
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
    return suites


PER_SEQUENCE = ("data", "frames")  # preflight kinds that concern one sequence when the subject is suite/sequence


def check_inputs(args: argparse.Namespace, roots: Any) -> list[Any]:
    """Every problem that would stop this run (evalkit.preflight), found before anything is written."""
    from evalkit.preflight import preflight

    suites = [s.lower() for s in args.suite]
    given = {s: (str(r) if (r := roots.get(s)) is not None else None) for s in suites}
    return preflight([*args.trackers, *args.tracker_module], param_overrides(args.param), suites, given,
                     args.sequences, allow_partial=args.allow_partial)


def execute_runs(args: argparse.Namespace, roots: Any = None) -> tuple[list[Any], list[Any], Any, dict[str, str]]:
    """Check, plan, run and score: the reports (one per suite), the stored result sets, the run summary and each
    suite's data source. ``roots``: the parsed ``--data-root`` and configuration, when the caller has them already.

    Nothing is written when the check finds a problem: the error lists them all with their fixes."""
    from evalkit.preflight import PreflightError
    from evalkit.results import read_store_set
    from evalkit.runner import Limits, execute, plan_jobs
    from evalkit.scoring import ScoringOptions, score
    from evalkit.store import ResultStore

    roots = roots if roots is not None else data_roots(args)
    cfg = roots.config
    for s in args.suite:
        SUITES.get(s)
    if not args.trackers and not args.tracker_module:
        raise EvalkitError("no tracker to run: pass --trackers NAME[,NAME] and/or --tracker-module PATH.py:CLASS")
    problems = check_inputs(args, roots)
    if args.keep_going:  # a broken sequence costs its own runs only: warn, run the rest, record its failures
        for p in (p for p in problems if p.kind in PER_SEQUENCE and "/" in p.subject):
            print(f"evalkit: warning: {p.subject}: {p.message} (its runs will fail; --keep-going)", file=sys.stderr)
        problems = [p for p in problems if not (p.kind in PER_SEQUENCE and "/" in p.subject)]
    if problems:
        raise PreflightError(problems)
    specs = tracker_specs([*args.trackers, *args.tracker_module], args.param)
    backend = args.backend or cfg.backend
    _check_backend(backend)
    profile_name = args.profile
    suites = _load_suites(args, [s.lower() for s in args.suite], roots)
    store = ResultStore(args.results_dir or cfg.results)
    protocols = {s.name: protocol_for(s.name, args.protocol) for s in suites}
    plan = None
    root_text = {s.name: str(roots.get(s.name)) for s in suites}
    for protocol in dict.fromkeys(protocols.values()):  # one plan per protocol, merged; suites keep their order
        part = plan_jobs(specs, [s for s in suites if protocols[s.name] == protocol], protocol,
                         ProtocolSpecs(protocol), store, root_text, args.device, seed=args.seed)
        plan = part if plan is None else plan.merged(part)
    assert plan is not None
    for notice in plan.notices:
        print(f"evalkit: {notice}", file=sys.stderr)
    if plan.skipped:
        print(f"evalkit: resuming: {plan.skipped} finished run(s) reused, {len(plan.jobs)} to run", file=sys.stderr)
    limits = Limits(frame=getattr(args, "timeout", None) or cfg.timeout, run=getattr(args, "run_timeout", None))
    summary = execute(plan, workers=args.workers or cfg.workers, backend=backend, address=cfg.address,
                      keep_going=args.keep_going, progress=not args.no_progress, limits=limits)
    if summary.elsewhere:
        print(f"evalkit: {summary.elsewhere} run(s) were finished by another evalkit on the same store (reused)",
              file=sys.stderr)
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
        options = ScoringOptions(profile=PROFILES.get(profile_name or suite.default_profile or cfg.profile),
                                 allow_partial=True, resamples=max(args.bootstrap, 0), seed=args.seed)
        reports.append(score(protocol, suite, sets, options))
    sources = {s.name: s.source for s in suites}
    return reports, [read_store_set(f) for f in plan.folders.values()], summary, sources


def run_run(args: argparse.Namespace) -> int:
    """Handler of ``evalkit run``."""
    import json
    import warnings

    from evalkit.preflight import PreflightError, format_problems

    roots = data_roots(args)  # configuration and --data-root, read once for the check, the run and the report
    if args.check:
        problems = check_inputs(args, roots)
        print(format_problems(problems) if problems else "evalkit: ready to run: no problem found",
              file=sys.stderr if problems else sys.stdout)
        return 2 if problems else 0
    reports_dir = Path(roots.config.reports)
    check_writable(reports_dir)  # before any job: an unwritable report path must not cost the whole run
    with warnings.catch_warnings():
        # numpy's empty-mean and matplotlib's layout warnings say nothing the table and report do not
        for category in (RuntimeWarning, UserWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        try:
            reports, result_sets, summary, sources = execute_runs(args, roots)
        except PreflightError as exc:
            print(format_problems(exc.problems), file=sys.stderr)
            return 2
        from evalkit.report.document import write_run_report  # the PDF report: provenance, plots, tables, appendix

        problem = None
        path: Path | None = None
        try:
            path = reserve_report_path(reports_dir)
            write_run_report(reports, result_sets, path, data_sources=sources,
                             resamples=max(args.bootstrap, 0), seed=args.seed)
        except (OSError, EvalkitError) as exc:  # the results are stored and scored: still print them
            where = getattr(exc, "filename", None) or path or reports_dir
            problem = f"{where}: {getattr(exc, 'strerror', None) or exc}"
            if path is not None and path.is_file() and path.stat().st_size == 0:
                path.unlink()  # the reserved name, never written
    if args.format == "json":
        print(json.dumps({"runs": [r.as_json() for r in reports], "report": None if problem else str(path)},
                         indent=2))
    else:
        for r in reports:
            print_report(r, "table")
            print()
        if problem is None:
            print(f"report: {path}")
    if problem is not None:
        print(f"evalkit: error: report not written: {problem} (the results are stored; `evalkit report` can write "
              f"it later)", file=sys.stderr)
        return 1
    return 1 if summary.failures else 0


def check_writable(folder: Path) -> None:
    """Fail (one line, before any job) unless a file can be created in ``folder`` (made if missing)."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".evalkit-write-check-"):
            pass
    except OSError as exc:
        raise EvalkitError(f"{exc.filename or folder}: reports folder is not writable "
                           f"({exc.strerror or exc}); set [paths] reports in evalkit.toml") from None


def reserve_report_path(folder: Path) -> Path:
    """A new report file name no other evalkit (two runs started within the same second) can also get:
    ``run-<date>-<time>-<pid>.pdf``, created exclusively (empty until the report replaces it atomically)."""
    import os
    import time

    stem = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    for k in range(1000):
        path = folder / f"{stem}{f'-{k}' if k else ''}.pdf"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return path
    raise EvalkitError(f"{folder}: no free report name {stem}-*.pdf")
