"""Subcommands of ``evalkit`` beyond score/compare/run/list, one module each (see ``evalkit.cli.COMMAND_MODULES``).

A module defines ``add_parser(sub)``: it adds its subparser to ``sub`` (argparse's subparsers action) and calls
``parser.set_defaults(handler=fn)`` with ``fn(args) -> int``. Raise ``evalkit.errors.EvalkitError`` for user errors.
"""

from __future__ import annotations

import argparse


def csv_list(text: str) -> list[str]:
    """``a,b , c`` -> ``["a", "b", "c"]`` (argparse type for comma-separated lists)."""
    return [t.strip() for t in text.split(",") if t.strip()]


def rename_pair(text: str) -> tuple[str, str]:
    """``OLD=NEW`` -> ``(OLD, NEW)`` at the last ``=``: variant labels such as ``kcf[detect_thresh=0.3]`` hold one."""
    old, sep, new = text.rpartition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(f"expected OLD=NEW, got {text!r}")
    return old, new


def param_overrides(entries: list[str]) -> dict[str, dict[str, str]]:
    """``--param TRACKER.KEY=VALUE`` entries -> ``{tracker (lower case): {KEY: VALUE}}``; malformed ones are errors."""
    from evalkit.errors import EvalkitError

    out: dict[str, dict[str, str]] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        tracker, dot, field = key.partition(".")
        if not sep or not dot or not field:
            raise EvalkitError(f"--param expects TRACKER.KEY=VALUE, got {entry!r}")
        out.setdefault(tracker.lower(), {})[field] = value
    return out
