"""How fast a tracker ran: frames per second from the per-frame times stored beside its runs.

    >>> speed = tracker_speed(result_set)      # doctest: +SKIP
    >>> round(speed.fps, 1), speed.device      # doctest: +SKIP
    (142.3, 'cuda')

Times are read from evalkit's store (``<label>.time.txt`` beside each run, written by the harness) or got10k's
layouts (``times/<seq>_time.txt``, ``got10k/experiments/otb.py``; ``<seq>_time.txt`` beside the boxes, or beside
the ``<seq>/<seq>_NNN.txt`` repetitions with a column per repetition, ``got10k/experiments/got10k.py``). A
sequence's FPS is its frame count over its total time (initialisation included), and a tracker's FPS is the mean over
sequences, as the OTB toolkit averages per-sequence speeds. Result archives without times (OTB .mat
files) have no speed; it is never guessed. The device is what the store's ``run.json`` records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evalkit.datasets.names import canonical_key
from evalkit.errors import InputFileError
from evalkit.results.got10k import read_times
from evalkit.results.got10k import time_file as got10k_time_file
from evalkit.results.model import ResultSet
from evalkit.results.text import TIME_SUFFIX, TIMES_FOLDER
from evalkit.store.reader import stored_run_meta
from evalkit.store.writer import TIMES_SUFFIX as STORE_TIMES_SUFFIX


@dataclass(frozen=True)
class Speed:
    """Mean frames per second over sequences, the device it was measured on, and how many sequences had times."""

    fps: float
    device: str
    n_sequences: int


def time_file(source: Path) -> Path | None:
    """The per-frame time file beside a stored run, in evalkit's or got10k's layouts; None when there is none."""
    stem = source.name[: -len(".txt")] if source.name.endswith(".txt") else source.stem
    for candidate in (source.with_name(f"{stem}{STORE_TIMES_SUFFIX}"),
                      source.parent / TIMES_FOLDER / f"{stem}{TIME_SUFFIX}.txt",
                      source.with_name(f"{stem}{TIME_SUFFIX}.txt")):
        if candidate.is_file():
            return candidate
    return got10k_time_file(source)  # <seq>/<seq>_NNN.txt: one <seq>_time.txt for every repetition


def sequence_fps(path: Path) -> float | None:
    """Frames over total seconds of one time file (non-finite entries ignored; got10k's repetition columns all
    count); None when unreadable or empty."""
    try:
        times = read_times(path)
    except (OSError, InputFileError):  # a speed is never guessed: an unreadable file gives none
        return None
    times = times[np.isfinite(times)]
    total = float(times.sum())
    return len(times) / total if total > 0 and len(times) else None


def tracker_speed(rs: ResultSet, sequences: Iterable[str] | None = None) -> Speed | None:
    """Mean FPS over the sequences (all, or those named) whose first run has stored times; None when none has."""
    wanted = None if sequences is None else {canonical_key(s) for s in sequences}
    sources: list[Path] = []
    for key, runs in rs.runs.items():
        if runs and (wanted is None or key in wanted):
            sources.append(Path(runs[0].source))
    for key, vot_runs in rs.vot_runs.items():
        if vot_runs and key not in rs.runs and (wanted is None or key in wanted):
            sources.append(Path(vot_runs[0].source))
    rates = [fps for src in sources if (tf := time_file(src)) is not None and (fps := sequence_fps(tf))]
    if not rates:
        return None
    meta = stored_run_meta(rs)
    device = meta.device if meta is not None else None
    return Speed(float(np.mean(rates)), device or "unknown device", len(rates))
