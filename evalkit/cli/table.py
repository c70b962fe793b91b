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

from evalkit.cli.options import add_scoring_inputs, data_roots
from evalkit.cli.options import csv_list as _csv_list
from evalkit.errors import EvalkitError


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
    from evalkit.results import load_result_sets

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
