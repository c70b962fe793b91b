"""The ``evalkit`` command: one module per subcommand in this package, options shared through :mod:`.options`.

    evalkit score --suite otb100 --data-root ../shared/data/otb100 \\
                  --results ../shared/data/results/otb100_cfnet_release [--profile otb-toolkit] [--format json]
    evalkit run --trackers kcf,csrt --suite demo
    evalkit list trackers|suites|profiles|protocols

Errors in the user's input are printed as one line naming the file, line and problem (no traceback) and give exit
status 2; problems in single result files are listed on stderr while everything else is still scored.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from collections.abc import Sequence as SequenceABC
from pathlib import Path

from evalkit import __version__
from evalkit.errors import EvalkitError

# Command modules, in help order. Each defines add_parser(sub); heavy imports (torch, matplotlib, pandas) happen
# inside the handlers, so `evalkit --help` stays fast.
COMMAND_MODULES: list[str] = [
    "evalkit.cli.score", "evalkit.cli.compare", "evalkit.cli.run", "evalkit.cli.listing", "evalkit.cli.table",
    "evalkit.cli.report", "evalkit.cli.vot_toolkit", "evalkit.cli.train", "evalkit.cli.weights",
    "evalkit.cli.complexity", "evalkit.cli.compress", "evalkit.cli.pack", "evalkit.cli.data",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="evalkit", description="Evaluation toolkit for single-object tracking.")
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    parser.add_argument("--config", type=Path, help="evalkit.toml to use (default: $EVALKIT_CONFIG, ./evalkit.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
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
        raise EvalkitError(f"evalkit {name} is unavailable: {exc} (pip install 'evalkit[trackers]' for the "
                           f"tracker commands)")
    return handler


def main(argv: SequenceABC[str] | None = None) -> int:
    """Entry point of the ``evalkit`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except EvalkitError as exc:
        print(f"evalkit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `evalkit list trackers | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
