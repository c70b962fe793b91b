"""``evalkit table``: a published table in its paper's layout, filled from results evalkit scores.

    evalkit table --layout cfnet-table1 --data-root ../shared/data/otb100 \\
                  --results ../shared/data/results/otb100_cfnet_release --format markdown [--against-published]
    evalkit table --layout dcffnet-vot2018 --data-root vot2018=../shared/data/vot2018 \\
                  --results ../shared/data/results/vot2018 --format latex
    evalkit table --layout fdsiamfc-compression --results RUNS --measured complexity.json
    evalkit table --layout ablation --suite otb100 --trackers Baseline,CF-1st,CF-2nd --results RUNS --data-root ...
    evalkit table --list

Result archives' tracker names are mapped to the names papers print by the built-in map
(``evalkit/datasets/data/tracker_names.json``: siamfc3s -> SiamFC-3s, cf1camera -> CFNet-conv1, ...); extend it with
``--rename OLD=NEW``. ``--data-root`` is ``PATH`` (every suite) or ``SUITE=PATH``; suites without one stay empty.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evalkit.cli.options import add_scoring_inputs, data_roots
from evalkit.cli.options import csv_list as _csv_list
from evalkit.errors import EvalkitError


def _discover(path: Path, renames: dict[str, str]) -> list[Any]:
    """Result sets under ``path``; a folder holding several runs of one tracker (an evalkit store's ``<tracker>@<fp>``
    folders: the variants of an ablation, or a run before and after a ``--param`` change) is read store folder by store
    folder instead of being refused."""
    from evalkit.results import discover_results

    try:
        return discover_results(path, renames)
    except EvalkitError as exc:
        root = Path(path)  # the store root (<suite>/<protocol>/<tracker>@<fp>), a protocol folder, or one tracker's
        children = sorted({m.parent for pattern in ("*/run.json", "*/*/run.json", "*/*/*/run.json")
                           for m in root.glob(pattern)})
        if "several places" not in str(exc) or len(children) < 2:
            raise
        return [rs for child in children for rs in discover_results(child, renames)]


def store_protocol(rs: Any) -> str | None:
    """The protocol an evalkit store folder's ``run.json`` records (None for other layouts, or when it records none)."""
    from evalkit.report.provenance import read_run_json

    meta = read_run_json(Path(rs.source))
    protocol = None if meta is None else meta.get("protocol")
    return None if protocol is None else str(protocol)


def _run_params(rs: Any) -> dict[str, Any]:
    """The parameters an evalkit store folder's ``run.json`` records (empty for other layouts)."""
    from evalkit.report.provenance import read_run_json

    return dict((read_run_json(Path(rs.source)) or {}).get("params") or {})


def _variant_label(rs: Any, mine: dict[str, Any], theirs: list[dict[str, Any]]) -> str:
    """``name[key=value,...]`` from the run.json parameters (``mine``) in which this set differs from the others of
    its name (``theirs``), else ``name@<fingerprint>`` (the store folder's suffix)."""
    keys = sorted({k for p in theirs for k, v in p.items() if mine.get(k) != v}
                  | {k for k in mine if any(p.get(k) != mine[k] for p in theirs)})
    if keys:
        return f"{rs.tracker}[{','.join(f'{k}={mine.get(k)}' for k in keys)}]"
    return f"{rs.tracker}@{Path(rs.source).name.rpartition('@')[2] or Path(rs.source).name}"


def load_result_sets(paths: list[Path], renames: list[tuple[str, str]], protocol: str | None = None) -> list[Any]:
    """Every result set under the ``--results`` folders, the built-in name map applied, then ``--rename``.

    Several stored runs of one tracker with different parameters (an ablation by ``--param``) are told apart as
    ``name[key=value]`` (the parameters in which they differ), which ``--rename`` can map to the printed names.
    With ``protocol``, store folders recorded under another protocol are left out. Example:
    ``--rename "dcffnet[variant=cf-1st]=CF-1st"``. One tracker name may appear once.
    """
    user = dict(renames)
    sets = [rs for path in paths for rs in _discover(path, user)]  # archive names mapped, then --rename
    if protocol is not None:  # evalkit store folders of other protocols are not these results
        sets = [rs for rs in sets if store_protocol(rs) in (None, protocol)]
    by_name: dict[str, list[Any]] = {}
    for rs in sets:
        by_name.setdefault(rs.tracker.lower(), []).append(rs)
    for group in by_name.values():
        if len(group) > 1:
            protocols = {store_protocol(rs) for rs in group}
            if len(protocols) > 1:  # one tracker's runs under several protocols: not variants to tell apart
                folders = sorted({str(Path(rs.source).parent) for rs in group})
                raise EvalkitError(f"tracker {group[0].tracker!r} has results of several protocols "
                                   f"({', '.join(sorted(p or '?' for p in protocols))}) under the --results folder; "
                                   f"point --results at one protocol's folder: {' or '.join(folders)}")
            params = [_run_params(rs) for rs in group]
            labels = [_variant_label(rs, mine, params[:i] + params[i + 1:]) for i, (rs, mine)
                      in enumerate(zip(group, params, strict=True))]
            for rs, label in zip(group, labels, strict=True):
                rs.tracker = user.get(label, label)
    seen: dict[str, Path] = {}
    for rs in sets:
        if rs.tracker.lower() in seen:
            raise EvalkitError(f"tracker {rs.tracker!r} is in both {seen[rs.tracker.lower()]} and {rs.source}; "
                               f"rename one with --rename")
        seen[rs.tracker.lower()] = rs.source
    return sets


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evalkit table``."""
    p = sub.add_parser("table", help="a published table (CFNet, FDSiamFC, DCFNet, DCFFNet) in its paper's layout",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layout", help="table layout (evalkit table --list)")
    p.add_argument("--list", action="store_true", help="list the layouts and exit")
    p.add_argument("--format", default="markdown", choices=["markdown", "latex", "csv"])
    p.add_argument("--against-published", action="store_true",
                   help="print the paper's value and the difference beside every cell evalkit has it for")
    p.add_argument("--trackers", type=_csv_list, help="rows (columns) and their order; ablation: the variants")
    p.add_argument("--suite", default="otb100", help="suite of the generic 'ablation' layout (default otb100)")
    p.add_argument("--measured", type=Path, metavar="FILE.json",
                   help="measured model size / GFLOPs (evalkit complexity --format json) for fdsiamfc-compression")
    p.add_argument("--out", type=Path, help="write to this file (atomically) instead of standard output")
    add_scoring_inputs(p, results_required=False)
    p.set_defaults(handler=run_table)


def layout_for(name: str, suite: str) -> object:
    """The registered layout ``name`` (the generic ablation layout on ``suite``)."""
    from evalkit.paper_tables.definitions import ablation
    from evalkit.registry import LAYOUTS, SUITES

    layout = LAYOUTS.get(name)
    if layout.generic:
        SUITES.get(suite)
        layout = ablation(suite.lower())
    return layout


def run_table(args: argparse.Namespace) -> int:
    """Handler of ``evalkit table``."""
    from evalkit.paper_tables import TableInputs, fill_table, read_measured, render
    from evalkit.registry import LAYOUTS

    if args.list:
        for name in LAYOUTS.names():
            print(f"{name:22s} {LAYOUTS.get(name).title}")
        return 0
    if not args.layout:
        raise EvalkitError("pass --layout NAME (evalkit table --list shows them)")
    layout = layout_for(args.layout, args.suite)
    if not args.results:
        raise EvalkitError("pass --results FOLDER (repeatable) with the results to fill the table from")
    roots = data_roots(args)
    inputs = TableInputs(load_result_sets(args.results, args.rename), roots.given(),
                         args.profile, read_measured(args.measured) if args.measured else {},
                         allow_partial=args.allow_partial, sequences=args.sequences,
                         config_roots=roots.configured())
    table = fill_table(layout, inputs, args.trackers, against_published=args.against_published)
    text = render(table, args.format)
    if args.out:
        from evalkit.io import atomic_write_text

        atomic_write_text(args.out, text if text.endswith("\n") else text + "\n")
        print(f"table: {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
