"""Options shared by the ``evalkit`` commands, parsed one way everywhere.

Every command module in :mod:`evalkit.cli` defines ``add_parser(sub)``: it adds its subparser to ``sub`` (argparse's
subparsers action), with an example in its description, and calls ``parser.set_defaults(handler=fn)`` with
``fn(args) -> int``. User errors are raised as :class:`evalkit.errors.EvalkitError` (one line, exit status 2).

Shared options: ``--data-root [SUITE=]PATH`` (:func:`add_data_root`, :class:`DataRoots`), ``--results`` (read;
``--results-dir`` is the store a run writes), ``--param TRACKER.KEY=VALUE`` (:func:`param_overrides`),
``--rename OLD=NEW``, ``--bootstrap`` / ``--seed``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError


def csv_list(text: str) -> list[str]:
    """``a,b , c`` -> ``["a", "b", "c"]`` (argparse type for comma-separated lists)."""
    return [t.strip() for t in text.split(",") if t.strip()]


def lower_csv_list(text: str) -> list[str]:
    """Like :func:`csv_list`, lower-cased (suite names)."""
    return [t.lower() for t in csv_list(text)]


def rename_pair(text: str) -> tuple[str, str]:
    """``OLD=NEW`` -> ``(OLD, NEW)`` at the last ``=``: variant labels such as ``kcf[detect_thresh=0.3]`` hold one."""
    old, sep, new = text.rpartition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(f"expected OLD=NEW, got {text!r}")
    return old, new


def interval(text: str) -> tuple[int, int]:
    """``LOW,HIGH`` -> ``(LOW, HIGH)`` with 1 <= LOW <= HIGH (argparse type of ``--eao-interval``)."""
    low, sep, high = text.partition(",")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (two integers), got {text!r}") from None
    if not sep or not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return lo, hi


def param_overrides(entries: list[str]) -> dict[str, dict[str, str]]:
    """``--param TRACKER.KEY=VALUE`` entries -> ``{tracker (lower case): {KEY: VALUE}}``; malformed ones are errors."""
    out: dict[str, dict[str, str]] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        tracker, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise EvalkitError(f"--param expects TRACKER.KEY=VALUE, got {entry!r}")
        out.setdefault(tracker.lower(), {})[name] = value
    return out


# -- options added to parsers ----------------------------------------------------------------------------------------
def add_data_root(p: argparse.ArgumentParser) -> None:
    """``--data-root [SUITE=]PATH``, repeatable: one root for every suite, or one per suite."""
    p.add_argument("--data-root", action="append", default=[], metavar="[SUITE=]PATH",
                   help="the benchmark's ground truth (any supported layout) for every suite, or SUITE=PATH for one; "
                        "repeatable; default from evalkit.toml [datasets] or $EVALKIT_DATA_<SUITE>")


def add_results(p: argparse.ArgumentParser, required: bool = True) -> None:
    """``--results FOLDER``, repeatable: the results to read."""
    p.add_argument("--results", type=Path, action="append", required=required, default=None,
                   help="results folder (OTB .mat files, <tracker>/<seq>.txt, VOT baseline/, or an evalkit store); "
                        "repeatable")


def add_rename(p: argparse.ArgumentParser) -> None:
    """``--rename OLD=NEW``, repeatable."""
    p.add_argument("--rename", type=rename_pair, action="append", default=[], metavar="OLD=NEW",
                   help="rename a tracker found in the results (extends the built-in name map)")


def add_param(p: argparse.ArgumentParser) -> None:
    """``--param TRACKER.KEY=VALUE``, repeatable."""
    p.add_argument("--param", action="append", default=[], metavar="TRACKER.KEY=VALUE",
                   help="override a tracker parameter, e.g. kcf.detect_thresh=0.3; repeatable")


def add_statistics(p: argparse.ArgumentParser) -> None:
    """``--bootstrap N`` and ``--seed S``."""
    p.add_argument("--bootstrap", type=int, default=10_000, metavar="N",
                   help="bootstrap resamples for 95%% intervals and paired tests (0: off; default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")


def add_partial(p: argparse.ArgumentParser, what: str = "score") -> None:
    """``--sequences A,B`` and ``--allow-partial``."""
    p.add_argument("--sequences", type=csv_list, help=f"{what} only these sequences (output labelled partial)")
    p.add_argument("--allow-partial", action="store_true",
                   help=f"{what} a suite whose data root lacks sequences; every output is labelled partial")


def add_scoring_inputs(p: argparse.ArgumentParser, results_required: bool = True) -> None:
    """Where ground truth and results are, and how they are read: data roots, results, renames, profile, partial."""
    add_results(p, results_required)
    add_data_root(p)
    add_rename(p)
    p.add_argument("--profile", help="metric conventions (evalkit list profiles; default from evalkit.toml)")
    add_partial(p)


# -- reading them ----------------------------------------------------------------------------------------------------
@dataclass
class DataRoots:
    """Parsed ``--data-root`` entries: per-suite roots, a root for every suite, then the configuration."""

    per_suite: dict[str, Path] = field(default_factory=dict)
    default: Path | None = None
    config: Any = None  # evalkit.config.Config, for [datasets] and the demo suite's cache

    @classmethod
    def parse(cls, entries: list[str], config: Any = None) -> DataRoots:
        """``PATH`` or ``SUITE=PATH`` entries; an unknown ``SUITE=`` prefix that is not an existing path is an error."""
        from evalkit.registry import SUITES

        out = cls(config=config)
        for e in entries:
            name, sep, path = e.partition("=")
            if sep and name.lower() in SUITES:
                out.per_suite[name.lower()] = Path(path)
            elif sep and not Path(e).exists():
                SUITES.get(name)  # unknown suite name: fails with suggestions
            else:
                out.default = Path(e)
        return out

    def get(self, suite: str) -> Path | None:
        """The root of ``suite``: its own, else the common one, else the configuration's, else the folder
        ``evalkit data fetch`` fills when it exists (demo: the cache, where it is generated on first use)."""
        key = suite.lower()
        root = self.per_suite.get(key) or self.default
        if root is None and self.config is not None:
            root = self.config.data_root(key)
            if root is None:
                from evalkit.datasets.fetch import default_root

                fetched = default_root(key, self.config.cache)
                root = fetched if key == "demo" or fetched.is_dir() else None
        return Path(root) if root is not None else None

    def require(self, suite: str) -> Path:
        """The root of ``suite``, or an error that says how to give one."""
        root = self.get(suite)
        if root is None:
            raise EvalkitError(f"no data root for {suite}: pass --data-root {suite}=PATH or set [datasets] {suite} "
                               "in evalkit.toml")
        return root

    def given(self) -> dict[str, Path]:
        """The roots given on the command line: ``{suite: path}`` plus ``"*"`` for the common one."""
        return {**self.per_suite, **({"*": self.default} if self.default is not None else {})}

    def given_or_configured(self) -> dict[str, Path]:
        """The command line's roots, or the configuration's when none was given (suites a command may detect)."""
        return self.given() or self.configured()

    def configured(self) -> dict[str, Path]:
        """Roots from the configuration alone, per suite (suites a command may find on its own)."""
        from evalkit.registry import SUITES

        if self.config is None:
            return {}
        return {name: Path(root) for name in SUITES.names() if (root := self.config.data_root(name)) is not None}


def data_roots(args: argparse.Namespace) -> DataRoots:
    """The ``--data-root`` entries of ``args`` with the configuration named by ``--config``."""
    from evalkit.config import load_config

    return DataRoots.parse(list(args.data_root or []), load_config(getattr(args, "config", None)))
