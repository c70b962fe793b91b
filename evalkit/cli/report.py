"""``evalkit report``: a PDF (or self-contained HTML) report of stored results.

    evalkit report --data-root ../shared/data/otb100 --results ../shared/data/results/otb100_cfnet_release \\
                   --out cfnet.pdf [--layout cfnet-table1] [--format pdf|html]
    evalkit report --data-root ../shared/data/vot2018 --results ../shared/data/results/vot2018 --out vot.html

Suites: ``--suite A,B`` or, by default, every suite whose sequences are all under the data root(s) and for which
the results hold runs (an OTB-100 root gives OTB-2013, OTB-50 and OTB-100). Protocols: ``--protocol ope,tre`` or, by
default, OPE plus TRE / SRE when the results hold the OTB toolkit's 20 / 12 runs per sequence (or an evalkit store
says so). VOT results get the supervised-experiment section. ``--layout`` adds published tables. Tracker names of
result archives are mapped by the built-in name map; extend it with ``--rename OLD=NEW``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import Any

from evalkit.cli.options import add_scoring_inputs, add_statistics, csv_list, data_roots, lower_csv_list
from evalkit.cli.score import only_trackers
from evalkit.errors import EvalkitError

# suites never guessed from a data root: the demo suite is generated on demand, GOT-10k has no public test labels
_NOT_GUESSED = {"demo", "got10k-test", "got10k-val"}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit report``."""
    p = sub.add_parser("report", help="write a PDF or HTML report (plots, tables, provenance) of stored results",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.html")
    p.add_argument("--format", choices=["pdf", "html"], help="default: from the --out extension")
    p.add_argument("--suite", type=lower_csv_list,
                   help="suites to report (default: those the data roots hold in full)")
    p.add_argument("--protocol", type=lower_csv_list,
                   help="ope, tre, sre (default: what the results hold; VOT supervised and multistart runs are "
                        "found by their layout and store)")
    p.add_argument("--trackers", type=csv_list, help="only these trackers (names after renaming)")
    p.add_argument("--layout", type=csv_list, default=[],
                   help="published tables to include (evalkit table --list)")
    p.add_argument("--measured", type=Path, metavar="FILE.json", help="measured complexity for fdsiamfc-compression")
    p.add_argument("--against-published", action="store_true",
                   help="paper tables show the published value and the difference beside evalkit's")
    p.add_argument("--title", default="evalkit report")
    p.add_argument("--figures", type=Path, metavar="DIR",
                   help="also write every figure to DIR as suite_protocol_kind.pdf and .svg (and .pgf when a TeX "
                        "program is installed: matplotlib needs one to save PGF) for a paper")
    add_statistics(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_scoring_inputs(p)
    p.set_defaults(handler=run_report)


def runs_per_sequence(rs: Any) -> int:
    """Median number of stored runs per sequence of a result set (1 for OPE, 20 TRE, 12 SRE in OTB archives)."""
    counts = [len(runs) for runs in rs.runs.values() if runs]
    return int(statistics.median(counts)) if counts else 0


def detect_protocols(result_sets: SequenceABC[Any]) -> list[str]:
    """OPE, plus TRE or SRE when some result set holds those runs (an evalkit store's run.json says which)."""
    from evalkit.results import store_protocol

    found = []
    for rs in result_sets:
        protocol = store_protocol(rs)
        if protocol is None:
            protocol = {20: "tre", 12: "sre"}.get(runs_per_sequence(rs))
        if protocol in ("tre", "sre"):
            found.append(protocol)
    return ["ope", *sorted(set(found), key=["tre", "sre"].index)]


def detect_suites(roots: dict[str, Path], allow_partial: bool) -> list[tuple[str, Any]]:
    """Suites that load from the data roots with every sequence present (or named explicitly with SUITE=PATH)."""
    from evalkit.datasets import load_suite
    from evalkit.registry import SUITES

    out = []
    for name in SUITES.names():
        if name in _NOT_GUESSED and name not in roots:
            continue
        root = roots.get(name) or roots.get("*")
        if root is None:
            continue
        try:
            suite = load_suite(name, root)
        except Exception:  # noqa: BLE001 - a root of another benchmark fails to load: not this suite
            if name in roots:
                raise
            continue
        if len(suite) and (not suite.missing or name in roots or allow_partial):
            out.append((name, suite))
    return sorted(out, key=lambda item: (item[1].family, len(item[1].expected), item[0]))


def box_set_protocols(rs: Any, asked: list[str] | None) -> list[str]:
    """The protocols a set of box runs is scored under: its store's (multistart anchor runs), else the asked ones,
    else OPE plus TRE / SRE when it holds the OTB toolkit's 20 / 12 runs per sequence."""
    from evalkit.results import store_protocol

    stored = store_protocol(rs)
    if stored == "vot-multistart":
        return [stored]
    if asked:
        return [p for p in asked if p == "ope" or runs_per_sequence(rs) > 1]
    return detect_protocols([rs])


def _covers(rs: Any, suite: Any, vot: bool) -> bool:
    """Whether a result set belongs to ``suite``: it holds runs for half of the suite's sequences (OTB-100 results
    on OTB-50), or half of its runs are of the suite's sequences (a partial run). Any single matching name was
    not enough: UAV20L's bird1 and car1 made every UAV tracker an OTB-100 entry with 98 sequences missing."""
    runs = rs.vot_runs if vot else rs.runs
    find = rs.vot_runs_for if vot else rs.runs_for
    matched = sum(1 for s in suite if find(s.name, s.aliases))
    own = sum(1 for v in runs.values() if v)
    return matched > 0 and (2 * matched >= len(suite) or 2 * matched >= own)


def score_everything(result_sets: list[Any], roots: dict[str, Path], suites: list[str] | None,
                     protocols: list[str] | None, profile_name: str | None, allow_partial: bool,
                     sequences: list[str] | None, resamples: int, seed: int
                     ) -> tuple[list[Any], dict[str, str], dict[str, dict[str, str]], dict[str, int]]:
    """Reports of every suite and protocol the results hold runs for (through the scorer registry), their data
    sources, attribute names and the benchmarks' sizes (a --sequences subset is "5 of 100", not "5 of 5")."""
    from evalkit.datasets import load_suite
    from evalkit.registry import PROFILES, SUITES
    from evalkit.report.provenance import provenance_note
    from evalkit.scoring import ScoringOptions, score

    options = ScoringOptions(profile=PROFILES.get(profile_name or "otb-toolkit"), allow_partial=True,
                             resamples=max(resamples, 0), seed=seed)
    if suites:
        loaded = []
        for name in suites:
            SUITES.get(name)
            root = roots.get(name) or roots.get("*")
            if root is None and name != "demo":
                raise EvalkitError(f"no data root for {name}: pass --data-root {name}=PATH")
            loaded.append((name, load_suite(name, root, sequences)))
    else:
        loaded = [(n, s.subset(sequences) if sequences else s) for n, s in detect_suites(roots, allow_partial)]
        if not loaded:
            raise EvalkitError(f"no complete suite found under {', '.join(str(p) for p in roots.values())}; name "
                               f"one with --suite (and --allow-partial for a root that lacks sequences)")
    by_protocol: dict[str, list[Any]] = {}
    for rs in result_sets:
        for protocol in (["vot-supervised"] if rs.vot_runs else []) + (box_set_protocols(rs, protocols)
                                                                      if rs.runs else []):
            by_protocol.setdefault(protocol, []).append(rs)
    reports = []
    sources: dict[str, str] = {}
    attributes: dict[str, dict[str, str]] = {}
    sizes: dict[str, int] = {}
    for name, suite in loaded:
        if suite.missing and not allow_partial and not sequences:
            raise EvalkitError(f"{name}: {len(suite.missing)} of {len(suite.expected)} sequences are not in "
                               f"{suite.source}; pass --allow-partial to report on the {len(suite)} present "
                               f"(labelled partial)")
        for protocol, sets in by_protocol.items():
            if (protocol == "vot-supervised") != (suite.family == "vot") and protocol != "vot-multistart":
                continue
            covering = [rs for rs in sets if _covers(rs, suite, protocol == "vot-supervised")]
            if covering:
                reports.append(score(protocol, suite, covering, options))
        if any(r.suite == suite.name for r in reports):
            root = roots.get(name) or roots.get("*")
            note = provenance_note(Path(root), levels=0) if root is not None else None
            sources[name] = suite.source + (f"; {note}" if note else "")
            attributes[name] = dict(suite.attribute_names)
            sizes[name] = len(suite.expected) or len(suite)
    if not reports:
        raise EvalkitError("the results hold no run of any sequence of " + ", ".join(n for n, _ in loaded))
    order = ["ope", "tre", "sre", "vot-supervised", "vot-multistart"]
    reports.sort(key=lambda r: ([n for n, _ in loaded].index(r.suite), order.index(r.protocol)))
    return reports, sources, attributes, sizes


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``evalkit report``."""
    from tqdm import tqdm

    from evalkit.cli.table import layout_for
    from evalkit.paper_tables import TableInputs, fill_table, read_measured
    from evalkit.report.document import build_report, command_line, write_report
    from evalkit.results import load_result_sets

    fmt = args.format or args.out.suffix.lstrip(".").lower()
    if fmt not in ("pdf", "html"):
        raise EvalkitError(f"--out {args.out}: pass --format pdf or html, or name the file .pdf or .html")
    data = data_roots(args)
    roots = data.given_or_configured()  # the command line, else configuration
    sets = only_trackers(load_result_sets(args.results, args.rename), args.trackers)
    if not roots:
        raise EvalkitError("pass --data-root PATH (or SUITE=PATH) with the ground truth the results are scored on")
    reports, sources, attributes, sizes = score_everything(sets, roots, args.suite, args.protocol, args.profile,
                                                    args.allow_partial, args.sequences, args.bootstrap, args.seed)
    tables = []
    if args.layout:
        inputs = TableInputs(sets, data.given(), args.profile,
                             read_measured(args.measured) if args.measured else {}, allow_partial=args.allow_partial,
                             sequences=args.sequences, config_roots=data.configured())
        for name in args.layout:
            layout = layout_for(name, (args.suite or ["otb100"])[0])
            tables.append(fill_table(layout, inputs, args.trackers if layout.generic else None,
                                     args.against_published))
    total = 2 * len(reports) + 1
    with tqdm(total=total, desc="report", unit="part", disable=args.no_progress, file=sys.stderr) as bar:
        report = build_report(reports, sets, tables, sources, args.title, command_line(),
                              resamples=args.bootstrap, seed=args.seed, attribute_names=attributes,
                              progress=lambda _what: bar.update(1), suite_sizes=sizes,
                              keep_figures=args.figures is not None)
        write_report(report, args.out, fmt)
        if args.figures is not None:
            from evalkit.report.document import write_figures
            from evalkit.report.figures import tex_available

            written = write_figures(report, args.figures)
            pgf = "" if tex_available() else " (no .pgf: saving PGF needs a TeX program, none is installed)"
            print(f"figures: {len({p.stem for p in written})} in {args.figures}{pgf}", file=sys.stderr)
        bar.update(1)
    n_problems = sum(len(t.problems) for r in reports for t in r.trackers.values())
    if n_problems:
        print(f"evalkit: {n_problems} problem(s) in the results are listed in the report", file=sys.stderr)
    print(f"report: {args.out}")
    return 0
