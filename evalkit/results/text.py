"""Text box results: ``<tracker>/<seq>.txt``, one x,y,w,h box per line (got10k, pysot and most public archives).

    >>> rs = read_text_set(Path("results/KCF"), "KCF")   # doctest: +SKIP
    >>> rs.runs_for("Couple")[0].boxes.shape             # doctest: +SKIP
    (140, 4)

Fields may be comma, tab or space separated (:func:`evalkit.datasets.base.read_box_file`). ``<seq>_time.txt`` files
(got10k's per-frame times, ``got10k/experiments/otb.py``) and hidden files are not boxes and are skipped.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.datasets.base import read_box_file
from evalkit.errors import InputFileError
from evalkit.results.model import ResultSet, Run

TIME_SUFFIX = "_time"  # got10k's per-frame times: <seq>_time.txt
TIMES_FOLDER = "times"  # got10k keeps them in <tracker>/times/ (got10k/experiments/otb.py)


def has_box_files(folder: Path) -> bool:
    """True when ``folder`` holds a ``<seq>.txt`` that is not a ``<seq>_time.txt``: a text result folder."""
    return any(not p.stem.endswith(TIME_SUFFIX) for p in folder.glob("*.txt"))


def read_text_set(folder: Path, tracker: str) -> ResultSet:
    """Every ``<seq>.txt`` in ``folder`` as one OPE run per sequence of ``tracker``.

    A file with a bad line is left out and its problem (file and line) recorded; the other sequences are still read.
    """
    rs = ResultSet(tracker, folder)
    for path in sorted(folder.glob("*.txt")):
        if path.stem.endswith(TIME_SUFFIX) or path.stem.startswith("."):
            continue
        try:
            boxes = read_box_file(path)
        except InputFileError as exc:
            rs.problems.append(exc.problem)
            continue
        rs.add_runs(path.stem, [Run(boxes, None, path)])
    return rs
