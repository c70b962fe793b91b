"""VOT supervised ("baseline") results: ``<tracker>/baseline/<seq>/<seq>_NNN.txt``, NNN the repetition.

    >>> rs = read_vot_set(Path("../shared/data/results/vot2018/LightTrack"))   # doctest: +SKIP
    >>> rs.vot_runs_for("ants1")[0].codes[:3]                                   # doctest: +SKIP
    array([ 1, -1, -1], dtype=int8)

One line a frame, as the VOT toolkit writes them (``vot/region/io.py``, ``vot/experiment/multirun.py``): ``1``
initialisation, ``2`` failure, ``0`` skipped frame, or the region (4 numbers x,y,w,h, or a polygon of 6 or 8). These
are read into ``ResultSet.vot_runs`` as :class:`VotRun` (per-frame codes + N x 8 regions), never as OPE boxes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError, InputFileError, read_input_text
from evalkit.geometry.region import VotCode
from evalkit.results.model import ResultSet, VotRun

VOT_EXPERIMENT = "baseline"
_VOT_RUN_FILE = re.compile(r"^(?P<seq>.+)_(?P<rep>\d{3,})\.txt$")
_VOT_SPLIT = re.compile(r"[,\s;]+")


def read_vot_run(path: Path, repetition: int = 1) -> VotRun:
    """One VOT supervised result file: a line per frame, ``1``/``2``/``0`` flags (``1.0000`` too) or a region.

    Errors name the file and line: a flag other than 0, 1, 2, a region of other than 4, 6 or 8 numbers, a
    non-numeric field, an empty line between frames.
    """
    lines = read_input_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputFileError(path, None, "empty result file")
    codes, regions = parse_vot_lines(path, lines)
    return VotRun(codes, regions, Path(path), repetition)


def parse_vot_lines(path: Path, lines: list[str]) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Per-frame codes and N x 8 regions of a run's lines (``path`` names the file in errors)."""
    parsed = _parse_vot_lines_fast(lines)
    return parsed if parsed is not None else _parse_vot_lines_checked(path, lines)


def _parse_vot_lines_fast(lines: list[str]) -> tuple[NDArray[np.int8], NDArray[np.float64]] | None:
    """Whole-file parse of comma-separated lines with numpy; None when any line needs the checked parser."""
    if any((" " in ln or "\t" in ln or ";" in ln) for ln in lines):
        return None
    n_fields = np.array([ln.count(",") for ln in lines]) + 1
    if not np.isin(n_fields, (1, 4, 6, 8)).all():
        return None
    try:
        values = np.array(",".join(lines).split(","), dtype=np.float64)
    except ValueError:
        return None
    rows = np.repeat(np.arange(len(lines)), n_fields)
    cols = np.arange(len(values)) - np.repeat(np.cumsum(n_fields) - n_fields, n_fields)
    flag_lines = n_fields == 1
    flags = values[(n_fields[rows] == 1)]
    if not np.isin(flags, (VotCode.SKIPPED, VotCode.INIT, VotCode.FAILURE)).all():
        return None
    codes = np.full(len(lines), VotCode.REGION, dtype=np.int8)
    codes[flag_lines] = flags.astype(np.int8)
    regions = np.full((len(lines), 8), np.nan)
    region_values = ~flag_lines[rows]
    regions[rows[region_values], cols[region_values]] = values[region_values]
    unknown = ~flag_lines & (np.isnan(regions).sum(axis=1) > 8 - n_fields)
    codes[unknown] = VotCode.SKIPPED  # a NaN in a region: the toolkit's parser makes it the unknown region
    regions[unknown] = np.nan
    return codes, regions


def _parse_vot_lines_checked(path: Path, lines: list[str]) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Line-by-line parse that names the first bad line."""
    codes = np.full(len(lines), VotCode.REGION, dtype=np.int8)
    regions = np.full((len(lines), 8), np.nan)
    for i, line in enumerate(lines):
        fields = [f for f in _VOT_SPLIT.split(line.strip()) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise InputFileError(path, i + 1, f"non-numeric field in {line.strip()!r}") from None
        if len(values) == 1:
            if values[0] not in (VotCode.SKIPPED, VotCode.INIT, VotCode.FAILURE):
                raise InputFileError(path, i + 1, f"a one-number line is a flag 1 (initialisation), 2 (failure) "
                                                  f"or 0 (skipped), found {line.strip()!r}")
            codes[i] = int(values[0])
        elif len(values) in (4, 6, 8):
            if any(v != v for v in values):  # NaN: the toolkit's parser makes it the unknown special region
                codes[i] = VotCode.SKIPPED
            else:
                regions[i, : len(values)] = values
        elif not values:
            raise InputFileError(path, i + 1, "empty line between frames (one line per frame)")
        else:
            raise InputFileError(path, i + 1, f"expected a flag (1, 2, 0) or a region of 4 or 8 numbers, found "
                                              f"{len(values)} values: {line.strip()!r}")
    return codes, regions


def vot_experiment_dir(folder: Path) -> Path | None:
    """The ``baseline`` folder of a VOT tracker folder (or the folder itself when it is one); None otherwise."""
    if folder.name.lower() == VOT_EXPERIMENT and any(_vot_run_files(d) for d in folder.iterdir() if d.is_dir()):
        return folder
    sub = folder / VOT_EXPERIMENT
    return sub if sub.is_dir() else None


def _vot_run_files(seq_dir: Path) -> list[tuple[int, Path]]:
    """(repetition, path) of the ``<seq>_NNN.txt`` files in a sequence folder, by repetition."""
    found = []
    for p in seq_dir.glob("*.txt"):
        m = _VOT_RUN_FILE.match(p.name)
        if m and not m.group("seq").endswith("_time"):
            found.append((int(m.group("rep")), p))
    return sorted(found)


def read_vot_set(folder: Path) -> ResultSet:
    """A tracker's VOT supervised results: ``<folder>/baseline/<seq>/<seq>_NNN.txt`` (tracker = folder name).

    A file with a bad line is left out and its problem (file and line) recorded; the other runs are still read.
    """
    experiment = vot_experiment_dir(folder)
    if experiment is None:
        raise EvalkitError(f"{folder} has no {VOT_EXPERIMENT}/ folder of VOT results")
    tracker_dir = experiment.parent if experiment == folder else folder
    rs = ResultSet(tracker_dir.name, tracker_dir)
    for seq_dir in sorted(d for d in experiment.iterdir() if d.is_dir()):
        runs = []
        for rep, path in _vot_run_files(seq_dir):
            try:
                runs.append(read_vot_run(path, rep))
            except InputFileError as exc:
                rs.problems.append(exc.problem)
        if runs:
            rs.add_vot_runs(seq_dir.name, runs)
    return rs
