"""The Python API: score results (on disk or in memory) and run trackers from a notebook, with pandas tables.

    >>> import evalkit
    >>> report = evalkit.score("otb100", "../shared/data/results/otb100_cfnet_release",
    ...                        data_root="../shared/data/otb100")                     # doctest: +SKIP
    >>> report.to_pandas()                 # tracker x metric, best first                 # doctest: +SKIP
    >>> report.per_sequence()              # long form: one row per (tracker, sequence)   # doctest: +SKIP
    >>> evalkit.plot_success(report, ax=ax, trackers=["SiamFC-3s", "CFNet-conv2"])      # doctest: +SKIP

Results held in memory (``{tracker: {sequence: N x 4 boxes}}``, x,y,w,h in the benchmark's pixel convention) are
scored by exactly the same code as files: the same alignment to the ground truth (first frame, the OTB toolkit's
initOmit frames, runs that start later), the same profile rules and the same problems reported per tracker.
Everything here is what the ``evalkit`` command does; see docs/api.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.results import ResultSet
    from evalkit.scoring.base import Report

Boxes = Any  # an N x 4 array-like of x, y, w, h
InMemory = Mapping[str, Mapping[str, Boxes]]
ResultsArg = str | PathLike[str] | Iterable[str | PathLike[str]] | InMemory | Iterable["ResultSet"]


def in_memory_results(results: InMemory) -> list[ResultSet]:
    """Result sets from ``{tracker: {sequence: boxes}}``; a box array that is not N x 4 numbers is an error naming
    the tracker and sequence."""
    from evalkit.results import ResultSet, Run

    sets = []
    for tracker, per_sequence in results.items():
        source = Path("<memory>") / str(tracker)
        rs = ResultSet(str(tracker), source)
        for sequence, boxes in per_sequence.items():
            try:
                array = np.asarray(boxes, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise EvalkitError(f"results[{tracker!r}][{sequence!r}]: not numbers ({exc})") from None
            if array.ndim != 2 or array.shape[1] != 4 or len(array) == 0:
                raise EvalkitError(f"results[{tracker!r}][{sequence!r}]: expected N x 4 boxes (x, y, w, h), got "
                                   f"shape {array.shape}")
            rs.add_runs(str(sequence), [Run(array, None, source / str(sequence))])
        sets.append(rs)
    return sets


def _result_sets(results: ResultsArg, renames: Mapping[str, str] | None, protocol: str) -> list[ResultSet]:
    from evalkit.results import ResultSet, load_result_sets

    if isinstance(results, Mapping):
        sets = in_memory_results(results)
        return [_renamed(rs, renames) for rs in sets]
    if isinstance(results, str | PathLike):
        results = [results]
    items = list(results)  # type: ignore[arg-type]
    if items and all(isinstance(i, ResultSet) for i in items):
        return [_renamed(rs, renames) for rs in items]
    return load_result_sets([Path(p) for p in items], list((renames or {}).items()), protocol=protocol)


def _renamed(rs: ResultSet, renames: Mapping[str, str] | None) -> ResultSet:
    """``rs`` under its new name, as a shallow copy (the caller's result set keeps its name)."""
    new = (renames or {}).get(rs.tracker)
    return dataclasses.replace(rs, tracker=new) if new else rs


def score(suite: str, results: ResultsArg, *, data_root: str | PathLike[str] | None = None,
          profile: str | None = None, protocol: str | None = None, sequences: SequenceABC[str] | None = None,
          allow_partial: bool = False, trackers: SequenceABC[str] | None = None,
          renames: Mapping[str, str] | None = None, bootstrap: int = 0, seed: int = 0, convention: str = "matlab",
          eao_interval: tuple[int, int] | None = None, config: str | PathLike[str] | None = None) -> Report:
    """Score ``results`` (folders, result sets, or ``{tracker: {sequence: boxes}}``) on ``suite``: the report
    ``evalkit score`` prints, as an object (``to_pandas()``, ``per_sequence()``, ``per_attribute()``, ``curves()``).

    ``data_root`` defaults to evalkit.toml / ``$EVALKIT_DATA_<SUITE>``; ``profile`` to the suite's own (LaSOT: the
    LaSOT toolkit's) else the configured one; ``protocol`` to ``vot-supervised`` on VOT suites and ``ope`` elsewhere;
    ``bootstrap`` resamples for intervals and paired tests (0: off).
    """
    from evalkit.cli.options import DataRoots
    from evalkit.cli.score import only_trackers, protocol_for
    from evalkit.config import load_config
    from evalkit.datasets import load_suite
    from evalkit.registry import PROFILES, SUITES
    from evalkit.scoring import ScoringOptions
    from evalkit.scoring import score as score_protocol

    SUITES.get(suite)
    roots = DataRoots(default=Path(data_root) if data_root is not None else None, config=load_config(config))
    chosen = protocol_for(suite, protocol)
    loaded = load_suite(suite, roots.require(suite), list(sequences) if sequences else None)
    sets = only_trackers(_result_sets(results, renames, chosen), trackers)
    options = ScoringOptions(profile=PROFILES.get(profile or loaded.default_profile or roots.config.profile),
                             allow_partial=allow_partial or bool(sequences), resamples=max(bootstrap, 0), seed=seed,
                             convention=convention, interval=eao_interval)
    return score_protocol(chosen, loaded, sets, options)


def run(trackers: SequenceABC[str] | str, suite: SequenceABC[str] | str, *,
        data_root: str | PathLike[str] | None = None, protocol: str | None = None,
        sequences: SequenceABC[str] | None = None, params: Mapping[str, Mapping[str, object]] | None = None,
        results_dir: str | PathLike[str] | None = None, workers: int | None = None, device: str | None = None,
        bootstrap: int = 0, seed: int = 0, progress: bool = True) -> list[Report]:
    """Run trackers on suites as ``evalkit run`` does (stored, resumable, one report per suite) and return the
    reports; no PDF is written. ``params``: ``{tracker: {key: value}}`` overrides."""
    import argparse

    from evalkit.cli.run import execute_runs

    names = [trackers] if isinstance(trackers, str) else list(trackers)
    suites = [suite] if isinstance(suite, str) else list(suite)
    args = argparse.Namespace(
        trackers=names, tracker_module=[], suite=suites, protocol=protocol,
        data_root=[str(data_root)] if data_root is not None else [], sequences=list(sequences) if sequences else None,
        allow_partial=False, workers=workers, backend=None, keep_going=True,
        results_dir=Path(results_dir) if results_dir is not None else None,
        param=[f"{t}.{k}={v}" for t, kv in (params or {}).items() for k, v in kv.items()], device=device,
        profile=None, bootstrap=bootstrap, seed=seed, no_progress=not progress, config=None)
    reports, _, _, _ = execute_runs(args)
    return reports


def _ax(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def plot_success(report: Report, ax: Any = None, trackers: SequenceABC[str] | None = None) -> Any:
    """The success plot of an OPE/TRE/SRE report on ``ax`` (a new figure when None), for ``trackers`` (all)."""
    from evalkit.report.figures import draw_curves

    return draw_curves(report, "success", _ax(ax), trackers)


def plot_precision(report: Report, ax: Any = None, trackers: SequenceABC[str] | None = None) -> Any:
    """The precision plot of an OPE/TRE/SRE report on ``ax``, for ``trackers`` (all)."""
    from evalkit.report.figures import draw_curves

    return draw_curves(report, "precision", _ax(ax), trackers)


def plot_eao_curve(report: Report, ax: Any = None, trackers: SequenceABC[str] | None = None) -> Any:
    """The expected-overlap curve of a VOT supervised report on ``ax``, for ``trackers`` (all)."""
    from evalkit.report.figures import draw_eao_curve

    return draw_eao_curve(report, _ax(ax), trackers)
