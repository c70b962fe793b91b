"""``evalkit vot-toolkit``: run evalkit trackers under the official VOT toolkit and score its workspaces.

    evalkit vot-toolkit workspace --suite demo --trackers kcf,csrt --out ws [--max-frames 60] [--runtime trax|python]
    evalkit vot-toolkit evaluate ws           # the toolkit's evaluate, then its analysis (JSON under ws/analysis)
    evalkit vot-toolkit score ws [--format table|json] [--compare]

``workspace`` writes a vot-toolkit workspace from an evalkit suite with frames (the built-in demo suite needs no
download). ``evaluate`` runs vot-toolkit (installed with ``make install-test``) on it: each tracker runs through TraX
(``evalkit.interop.vot_trax``) or the toolkit's in-process Python runtime. ``score`` reads the workspace's results
(text or binary) and prints evalkit's EAO, accuracy and robustness; ``--compare`` puts the toolkit's own analysis
beside them. A workspace of a named VOT stack (``stack: vot2018`` ...) is scored as that suite, with its EAO
interval; with text results ``evalkit score --suite vot2018 --data-root WS/sequences --results WS/results`` gives the
same numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evalkit.cli.options import csv_list as _csv_list
from evalkit.cli.options import param_overrides
from evalkit.errors import EvalkitError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit vot-toolkit``."""
    p = sub.add_parser("vot-toolkit", help="run evalkit trackers under the official VOT toolkit; score its workspaces",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    vs = p.add_subparsers(dest="vot_action", required=True)
    w = vs.add_parser("workspace", help="write a vot-toolkit workspace from an evalkit suite")
    w.add_argument("--suite", default="demo", help="suite with frames (default demo: generated, no download)")
    w.add_argument("--data-root", type=Path, help="the suite's data root (default from evalkit.toml; demo: cache)")
    w.add_argument("--sequences", type=_csv_list, help="only these sequences")
    w.add_argument("--trackers", type=_csv_list, required=True, help="registered evalkit trackers, comma separated")
    w.add_argument("--param", action="append", default=[], metavar="TRACKER.KEY=VALUE")
    w.add_argument("--max-frames", type=int, help="cut every sequence to its first N frames")
    w.add_argument("--eao-interval", type=lambda s: tuple(int(v) for v in s.split(",")), metavar="LOW,HIGH")
    w.add_argument("--runtime", choices=["trax", "python"], default="trax",
                   help="trax: tracker process speaking TraX (default); python: the toolkit's in-process runtime")
    w.add_argument("--device", help="torch device for deep trackers (default: cuda if available)")
    w.add_argument("--out", type=Path, required=True, help="new workspace folder")
    e = vs.add_parser("evaluate", help="run the toolkit's evaluate and analysis on a workspace")
    e.add_argument("workspace", type=Path)
    e.add_argument("--no-analysis", action="store_true")
    s = vs.add_parser("score", help="evalkit's EAO / A / R of a workspace's results")
    s.add_argument("workspace", type=Path)
    s.add_argument("--format", default="table", choices=["table", "json"])
    s.add_argument("--convention", default="matlab", choices=["matlab", "pysot"])
    s.add_argument("--compare", action="store_true", help="beside the toolkit's own analysis (runs it if needed)")
    p.set_defaults(handler=run_vot_toolkit)


def toolkit_summary(analysis: dict[str, object]) -> dict[str, dict[str, float]]:
    """Per tracker identifier: the toolkit's accuracy, failures (AverageAccuracyRobustness) and EAO (EAOScore)."""
    experiment = analysis["results"]["baseline"]  # type: ignore[index]
    kinds = [a["type"].rsplit(".", 1)[-1] for a in experiment["parameters"]["analyses"]]  # type: ignore[index]
    ids = list(analysis["trackers"])  # type: ignore[arg-type]
    out: dict[str, dict[str, float]] = {i: {} for i in ids}
    for kind, per_tracker in zip(kinds, experiment["results"], strict=False):  # type: ignore[index]
        for ident, value in zip(ids, per_tracker, strict=False):
            if kind == "AverageAccuracyRobustness":
                out[ident]["accuracy"], out[ident]["failures"] = float(value[0]), float(value[1])
            elif kind == "EAOScore":
                out[ident]["eao"] = float(value[0])
    return out


def run_vot_toolkit(args: argparse.Namespace) -> int:
    """Handler of ``evalkit vot-toolkit``."""
    from evalkit.interop import vot_toolkit as vt

    if args.vot_action == "workspace":
        from evalkit.config import load_config
        from evalkit.datasets import load_suite

        cfg = load_config(args.config)
        root = args.data_root or cfg.data_root(args.suite) or (cfg.cache if args.suite == "demo" else None)
        if root is None:
            raise EvalkitError(f"no data root for {args.suite}: pass --data-root")
        suite = load_suite(args.suite, root, args.sequences)
        overrides = param_overrides(args.param)
        params = {t: overrides[t.lower()] for t in args.trackers if t.lower() in overrides}
        ws = vt.build_workspace(args.out, suite, args.trackers, params, args.max_frames,
                                args.eao_interval, device=args.device, runtime=args.runtime)
        print(f"workspace: {ws.root} ({len((ws.root / 'sequences' / 'list.txt').read_text().split())} sequences, "
              f"trackers {', '.join(vt.tracker_identifier(t) for t in ws.trackers)}, EAO interval "
              f"{ws.interval[0]}-{ws.interval[1]})")
        return 0
    ws = vt.open_workspace(args.workspace)
    if args.vot_action == "evaluate":
        try:
            import vot  # noqa: F401
        except ImportError:
            raise EvalkitError("vot-toolkit is not installed: make install-test (or pip install --no-deps "
                               "vot-toolkit==0.9.0 plus the 'vot-compat' extra)") from None
        log = vt.evaluate(ws)
        print(log.strip().splitlines()[-1] if log.strip() else "evaluated", file=sys.stderr)
        if not args.no_analysis:
            vt.analyse(ws)
            print(f"analysis: {sorted((ws.root / 'analysis').glob('evalkit*.json'))[-1]}")
        return 0
    from evalkit.tables import format_json, format_report

    report = vt.score_workspace(ws, args.convention)
    for name, t in report.trackers.items():
        for problem in t.problems:
            print(f"evalkit: {name}: {problem}", file=sys.stderr)
    if args.compare:
        found = sorted((ws.root / "analysis").glob("evalkit*.json"))
        theirs = toolkit_summary(json.loads(found[-1].read_text()) if found else vt.analyse(ws))
        if args.format == "json":
            out = report.as_json()
            out["vot_toolkit"] = {vt.tracker_identifier(n): theirs.get(vt.tracker_identifier(n), {})
                                  for n in report.trackers}
            print(json.dumps(out, indent=2))
        else:
            print(format_report(report))
            print("\nvot-toolkit 0.9.0's own analysis of the same files (its overlap and weighting rules):")
            for n in report.trackers:
                v = theirs.get(vt.tracker_identifier(n), {})
                print(f"  {n}: EAO {v.get('eao', float('nan')):.3f}  accuracy {v.get('accuracy', float('nan')):.3f}"
                      f"  failures {v.get('failures', float('nan')):g}")
        return 0
    print(format_json(report) if args.format == "json" else format_report(report))
    return 0
