"""Check everything a run needs before any job starts, and list every problem at once with the flag that fixes it.

    >>> problems = preflight(["siamfc", "cfnet"], {"siamfc": {"scale_stp": "1.04"}}, ["otb100"],
    ...                      {"otb100": "~/data/OTB100"}, sequences=None)          # doctest: +SKIP
    >>> print(format_problems(problems))                                            # doctest: +SKIP
    evalkit: 2 problems found before running anything
      1. [parameter] siamfc.scale_stp: unknown parameter of siamfc
         fix: --param siamfc.scale_step=1.04
      2. [weights] siamfc: weights 'siamfc' not found; looked in: ~/.cache/evalkit/weights/siamfc/...
         fix: export EVALKIT_WEIGHTS=/work/shared/weights  (or: evalkit weights fetch siamfc)

Checked, in this order: each tracker name (did-you-mean), each ``--param`` key and value (did-you-mean), each
tracker's weights (an explicit file, a train-only network, the catalog file in every place looked, a file whose sha256
is not the published one); each suite name, its data root (none given, missing, a layout with none of the suite's
sequences, malformed files), the sequences asked for (did-you-mean) or missing from the root, and every frame image
of every selected sequence. Trackers are imported through the registry when checked (never at import: this module
imports neither torch nor ``trackers``), and no weights are loaded: files are only found and hashed.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError

_MAX_NAMES = 5  # sequences named in one problem before "..."


@dataclass(frozen=True)
class Problem:
    """One thing that would make the run fail: its kind, what it concerns, what is wrong, and how to fix it."""

    kind: str  # tracker | parameter | weights | suite | data | sequence | frames
    subject: str  # the tracker, parameter, suite or suite/sequence concerned
    message: str
    fix: str  # the exact command or flag that fixes it

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}\n   fix: {self.fix}"


class PreflightError(EvalkitError):
    """A run cannot start; carries every problem found (the message is :func:`format_problems`)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(format_problems(problems))
        self.problems = list(problems)


def format_problems(problems: Sequence[Problem]) -> str:
    """A numbered list of the problems with their fixes (empty string when there are none)."""
    if not problems:
        return ""
    head = f"evalkit: {len(problems)} problem{'s' if len(problems) > 1 else ''} found before running anything"
    width = len(str(len(problems)))
    lines = [head]
    for i, p in enumerate(problems, start=1):
        lines.append(f"  {i:>{width}}. [{p.kind}] {p.subject}: {p.message}")
        lines.append(f"  {'':>{width}}  fix: {p.fix}")
    return "\n".join(lines)


def _did_you_mean(word: str, known: typing.Iterable[str]) -> list[str]:
    return difflib.get_close_matches(word.lower(), [k.lower() for k in known], n=3, cutoff=0.6)


def _names(items: Sequence[str]) -> str:
    return ", ".join(items[:_MAX_NAMES]) + (f" ... ({len(items)} in all)" if len(items) > _MAX_NAMES else "")


def preflight(trackers: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None = None,
              suites: Sequence[str] = (), data_roots: Mapping[str, str | os.PathLike[str] | None] | None = None,
              sequences: Sequence[str] | None = None, *, allow_partial: bool = False) -> list[Problem]:
    """Every problem that would stop ``evalkit run`` with these inputs (an empty list: ready to run).

    ``trackers``: names or aliases as given to ``--trackers`` (``file.py:Class`` too); ``params``:
    ``{tracker (name or alias, any case): {key: value}}`` as ``evalkit.cli.options.param_overrides`` parses
    ``--param``; ``data_roots``: ``{suite: root or None}`` (None or absent: none configured; ``demo`` needs none);
    ``sequences``: the ``--sequences`` filter; ``allow_partial``: sequences missing from a root are accepted
    (``--allow-partial``).
    """
    problems: list[Problem] = []
    pending = {k.lower(): dict(v) for k, v in (params or {}).items()}
    for ref in trackers:
        problems += _check_tracker(ref, pending)
    for key, given in pending.items():
        close = _did_you_mean(key, trackers)
        example = next(iter(given), "KEY")
        problems.append(Problem(
            "parameter", key, f"--param names tracker {key!r}, which is not run",
            f"--param {close[0]}.{example}=..." if close else f"add {key} to --trackers, or drop --param {key}.*"))
    roots = {k.lower(): v for k, v in (data_roots or {}).items()}
    for suite in suites:
        problems += _check_suite(suite.lower(), roots.get(suite.lower()), sequences, allow_partial)
    return problems


def require_ready(trackers: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None = None,
                  suites: Sequence[str] = (), data_roots: Mapping[str, str | os.PathLike[str] | None] | None = None,
                  sequences: Sequence[str] | None = None, *, allow_partial: bool = False) -> None:
    """Raise :class:`PreflightError` listing every problem :func:`preflight` finds; return when there is none."""
    problems = preflight(trackers, params, suites, data_roots, sequences, allow_partial=allow_partial)
    if problems:
        raise PreflightError(problems)


# --- trackers, parameters, weights -------------------------------------------------------------------------------

def _check_tracker(ref: str, pending: dict[str, dict[str, Any]]) -> list[Problem]:
    """Problems of one ``--trackers`` entry; its ``--param`` entries are taken out of ``pending``."""
    from evalkit.registry import TRACKERS, tracker_class

    try:
        cls = tracker_class(ref)
    except ImportError as exc:
        pending.pop(ref.lower(), None)
        missing = getattr(exc, "name", None)
        return [Problem("tracker", ref, f"cannot be imported: {exc}",
                        f"install the missing module{f' {missing!r}' if missing else ''} into the environment "
                        f"(.venv/bin/pip install ...)")]
    except EvalkitError as exc:
        pending.pop(ref.lower(), None)
        if ".py:" in ref:
            return [Problem("tracker", ref, str(exc), "--tracker-module path/to/file.py:ClassName")]
        close = _did_you_mean(ref, TRACKERS.names())
        return [Problem("tracker", ref, f"unknown tracker {ref!r}",
                        f"--trackers {close[0]}" + (f" (or {', '.join(close[1:])})" if close[1:] else "")
                        if close else "evalkit list trackers (the registered names)")]
    name = getattr(cls, "name", "") or ref
    given = {**pending.pop(name.lower(), {}), **pending.pop(ref.lower(), {})}
    problems = _check_params(ref, cls, given)
    bad = {p.subject.partition(".")[2] for p in problems}
    usable = {k: v for k, v in given.items() if k not in bad}  # the weights are still checked with the rest
    try:
        tracker = cls.from_mapping(usable)
    except (EvalkitError, ValueError, TypeError) as exc:  # checks across parameters (e.g. an even scale count)
        keys = " ".join(f"--param {ref}.{k}=..." for k in usable) or f"--param {ref}.KEY=VALUE"
        return [*problems, Problem("parameter", ref, str(exc), f"change {keys}")]
    return problems + _check_weights(ref, tracker)


def _check_params(ref: str, cls: Any, given: Mapping[str, Any]) -> list[Problem]:
    """Unknown keys (did-you-mean) and values that do not convert to the field's type, each separately."""
    params_type = getattr(cls, "Params", None)
    if params_type is None or not dataclasses.is_dataclass(params_type):
        return []
    fields = [f.name for f in dataclasses.fields(params_type)]
    hints = typing.get_type_hints(params_type)
    problems = []
    for key, value in given.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
            problems.append(Problem(
                "parameter", f"{ref}.{key}", f"unknown parameter of {ref}",
                f"--param {ref}.{close[0]}={value}" if close else
                f"drop --param {ref}.{key} (known: {', '.join(sorted(fields))})"))
            continue
        try:
            cls.from_mapping({key: value})
        except (EvalkitError, ValueError, TypeError) as exc:
            kind = getattr(hints.get(key), "__name__", None) or str(hints.get(key))
            problems.append(Problem("parameter", f"{ref}.{key}", str(exc), f"--param {ref}.{key}=<{kind}>"))
    return problems


def _check_weights(ref: str, tracker: Any) -> list[Problem]:
    """Whether the tracker's weights can be found (and are the published file); nothing is loaded. The check is the
    trackers package's (registered as the ``weights`` hook: evalkit reaches trackers only through the registry)."""
    from evalkit.registry import HOOKS

    found = HOOKS.get("weights")(ref, tracker)
    return [Problem("weights", ref, *found)] if found else []


# --- suites, data roots, sequences, frames -----------------------------------------------------------------------

def _layout(suite: str) -> str:
    """What a data root of ``suite`` holds: the ``LAYOUT`` its loader module declares."""
    import importlib

    from evalkit.registry import SUITES

    module = getattr(SUITES.get(suite), "module", None)
    layout = getattr(importlib.import_module(module), "LAYOUT", None) if module else None
    return layout or f"the layout evalkit.datasets reads for {suite}"


def _check_suite(suite: str, root: str | os.PathLike[str] | None, sequences: Sequence[str] | None,
                 allow_partial: bool) -> list[Problem]:
    """Problems of one suite: its name, data root, layout, files, the sequences asked for, and their frames."""
    from evalkit.datasets import load_suite
    from evalkit.registry import SUITES

    if suite not in SUITES:
        close = _did_you_mean(suite, SUITES.names())
        return [Problem("suite", suite, f"unknown suite {suite!r}",
                        f"--suite {close[0]}" if close else f"--suite NAME (known: {', '.join(SUITES.names())})")]
    flag = f"--data-root {suite}=PATH"
    if root is None and suite != "demo":
        env = "EVALKIT_DATA_" + suite.upper().replace("-", "_")
        return [Problem("data", suite, f"no data root for {suite} (none given or configured)",
                        f"{flag} (or [datasets] {suite} = \"PATH\" in evalkit.toml, or export {env}=PATH); "
                        f"PATH holds {_layout(suite)}")]
    if root is not None and not Path(root).expanduser().exists() and suite != "demo":  # demo: generated on use
        return [Problem("data", suite, f"data root {root} does not exist", f"{flag} where PATH holds {_layout(suite)}")]
    try:
        loaded = load_suite(suite, None if root is None else Path(root).expanduser(), collect=True)
    except (EvalkitError, OSError) as exc:
        return [Problem("data", suite, f"cannot be read from {root}: {exc}", f"{flag} where PATH holds "
                                                                             f"{_layout(suite)}")]
    problems = [Problem("data", f"{suite}/{name}", str(problem), f"repair or replace {problem.path}")
                for problem, name in zip(loaded.problems, loaded.failed, strict=False)]
    if not len(loaded) and not loaded.failed:
        return [*problems, Problem("data", suite, f"{loaded.source or root} holds none of the {suite} sequences "
                                                  f"(wrong folder or layout)",
                                   f"{flag} where PATH holds {_layout(suite)}")]
    selected = list(loaded)
    if sequences:
        from evalkit.datasets.names import canonical_key

        failed = {canonical_key(f) for f in loaded.failed}  # malformed files: reported above
        expected = {canonical_key(e): e for e in loaded.expected}
        selected = []
        for n in sequences:
            seq = loaded.find(n)
            if seq is not None:
                selected.append(seq)
            elif canonical_key(n) in failed:
                continue
            elif canonical_key(n) in expected:
                problems.append(Problem("sequence", f"{suite}/{n}", f"not in {loaded.source}",
                                        f"add its files to the data root, or leave {n} out of --sequences"))
            else:
                close = difflib.get_close_matches(n, loaded.expected, n=1, cutoff=0.6) or \
                    _did_you_mean(n, loaded.expected)
                problems.append(Problem("sequence", f"{suite}/{n}", f"no sequence {n!r} in {suite}",
                                        f"--sequences {expected.get(canonical_key(close[0]), close[0])} in place of "
                                        f"{n}" if close else f"--sequences NAMES of {suite} "
                                                             f"(e.g. {', '.join(loaded.expected[:3])})"))
    elif loaded.missing and not allow_partial:
        problems.append(Problem("data", suite, f"{len(loaded.missing)} of {len(loaded.expected)} sequences are not "
                                               f"in {loaded.source} ({_names(loaded.missing)})",
                                f"--allow-partial (scores labelled partial), --sequences NAMES, or {flag} with the "
                                f"whole benchmark"))
    return problems + _check_frames(suite, selected)


def _check_frames(suite: str, selected: Sequence[Any]) -> list[Problem]:
    """Sequences without frames on disk (one problem) and sequences missing some frame images (one each)."""
    no_frames = [s.name for s in selected if not s.has_frames]
    fix = (f"put the images beside the ground truth ({_layout(suite)}), or leave it out with --sequences NAMES "
           f"(scoring stored results needs no frames)")
    if len(no_frames) > _MAX_NAMES:  # a root with ground truth only: one problem, not hundreds
        problems = [Problem("frames", suite, f"no frame folder on disk for {_names(no_frames)}", fix)]
    else:
        problems = [Problem("frames", f"{suite}/{name}", "no frame folder on disk", fix) for name in no_frames]
    listings: dict[Path, set[str]] = {}
    for seq in selected:
        if not seq.has_frames:
            continue
        missing = []
        for path in seq.frames:
            folder = path.parent
            if folder not in listings:  # one directory listing per folder instead of one stat per frame
                listings[folder] = set(os.listdir(folder)) if folder.is_dir() else set()
            if path.name not in listings[folder]:
                missing.append(path)
        if missing:
            problems.append(Problem(
                "frames", f"{suite}/{seq.name}", f"{len(missing)} of {len(seq.frames)} frame images missing "
                                                 f"(first: {missing[0]})",
                f"restore the images in {missing[0].parent}, or leave {seq.name} out with --sequences NAMES"))
    return problems
