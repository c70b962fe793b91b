"""got10k-toolkit's GOT-10k result layout: ``<tracker>/<seq>/<seq>_001.txt`` (one file per repetition, ``_001`` ..
``_003``) and ``<tracker>/<seq>/<seq>_time.txt`` (one column of per-frame seconds per repetition).

    >>> rs = read_got10k_set(Path("results/GOT-10k/SiamFC"))            # doctest: +SKIP
    >>> [r.source.name for r in rs.runs_for("GOT-10k_Val_000001")]     # doctest: +SKIP
    ['GOT-10k_Val_000001_001.txt', 'GOT-10k_Val_000001_002.txt', 'GOT-10k_Val_000001_003.txt']

The layout is ExperimentGOT10k's (got10k/experiments/got10k.py ``run`` / ``_record``: ``'%s_%03d.txt' % (seq_name,
r + 1)``, boxes written ``%.3f`` comma separated); its ``report`` reads every ``<seq>_[0-9]*.txt`` of a sequence as
one repetition. A file with a bad line is recorded as a problem (file and line) and its sequence left out, so a
sequence is never scored on fewer repetitions than were stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import read_box_file
from evalkit.errors import InputFileError, read_input_text
from evalkit.results.model import ResultSet, Run

REPETITION = re.compile(r"^(?P<seq>.+)_(?P<rep>\d+)\.txt$")
TIME_SUFFIX = "_time.txt"


def repetition_files(seq_dir: Path) -> list[tuple[int, Path]]:
    """``(repetition, path)`` of every ``<seq>_<digits>.txt`` in a sequence folder, by repetition number."""
    out = []
    for path in seq_dir.glob(f"{glob_escape(seq_dir.name)}_*.txt"):
        m = REPETITION.match(path.name)
        if m and m["seq"] == seq_dir.name:
            out.append((int(m["rep"]), path))
    return sorted(out)


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters bracketed, so a sequence name is matched literally."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def is_got10k_tracker_dir(folder: Path) -> bool:
    """True when some subfolder ``<seq>`` holds ``<seq>_<digits>.txt``: a tracker folder in got10k's GOT-10k layout."""
    return any(d.is_dir() and repetition_files(d) for d in folder.iterdir())


def read_got10k_set(folder: Path, tracker: str | None = None) -> ResultSet:
    """Every sequence folder's repetitions as the runs of that sequence (repetition 1 first)."""
    rs = ResultSet(tracker or folder.name, folder)
    for seq_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        files = repetition_files(seq_dir)
        if not files:
            continue
        runs = []
        for _, path in files:
            try:
                runs.append(Run(read_box_file(path), None, path))
            except InputFileError as exc:
                rs.problems.append(exc.problem)
                runs = []
                break
        if runs:
            rs.add_runs(seq_dir.name, runs)
    return rs


def time_file(run_source: Path) -> Path | None:
    """The ``<seq>_time.txt`` beside a repetition file ``<seq>/<seq>_NNN.txt``, when there is one."""
    m = REPETITION.match(Path(run_source).name)
    if not m or m["seq"] != Path(run_source).parent.name:  # GOT-10k_Val_000001.txt is not repetition 000001
        return None
    path = Path(run_source).with_name(f"{m['seq']}{TIME_SUFFIX}")
    return path if path.is_file() else None


def read_times(path: Path) -> NDArray[np.float64]:
    """Every per-frame time in a ``<seq>_time.txt`` (all repetitions' columns); errors name the file and line."""
    rows = []
    for line_no, line in enumerate(read_input_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.extend(float(v) for v in line.replace(",", " ").split())
        except ValueError:
            raise InputFileError(path, line_no, f"expected seconds per frame, got {line.strip()!r}") from None
    return np.array(rows, dtype=np.float64)
