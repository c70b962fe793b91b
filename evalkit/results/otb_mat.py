"""OTB MATLAB toolkit results: ``<seq>_<tracker>.mat`` files, OPE (one run) or TRE (20 runs) per file.

    >>> sets = read_mat_folder(Path("../shared/data/results/otb100_cfnet_release/tre"))   # doctest: +SKIP
    >>> len(sets[0].runs_for("Couple"))                                                   # doctest: +SKIP
    20

Several trackers may share a folder; the tracker name is what follows the sequence name. Variable ``results`` is a
cell/struct array of runs (the OTB toolkit's ``main_running.m`` saves it so); run 1 is OPE, all 20 are TRE. Types
``rect`` and the toolkit's affine ``ivtAff`` (converted as ``util/calcRectCenter.m`` does) are read.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import package_data
from evalkit.errors import InputFileError
from evalkit.results.model import ResultSet, Run


@cache
def known_sequence_names() -> tuple[str, ...]:
    """Every sequence name evalkit knows, longest first, to split ``<seq>_<tracker>.mat`` file names."""
    names: set[str] = set()
    otb = package_data("otb.json")["sequences"]
    names.update(e["name"] for e in otb)
    names.update(e["toolkit_anno"] for e in otb)
    for entries in package_data("uav.json")["suites"].values():
        names.update(e["name"] for e in entries)
    names.update(e["name"] for e in package_data("tc128.json")["sequences"])
    return tuple(sorted(names, key=len, reverse=True))


@cache
def _name_variants() -> frozenset[str]:
    """Every known sequence name as file names spell it (``Jogging-1``, ``Jogging_1``, ``Jogging.1``), lower case."""
    return frozenset(v.lower() for name in known_sequence_names()
                     for v in (name, name.replace("-", "_"), name.replace(".", "_"), name.replace("-", ".")))


def split_mat_name(stem: str) -> tuple[str, str] | None:
    """Split ``Jogging_1_cf2camera`` into (``Jogging_1``, ``cf2camera``): the longest known sequence name the stem
    starts with, followed by a separator and a tracker name; else at the last underscore."""
    low, variants = stem.lower(), _name_variants()
    for i in range(len(low) - 2, 0, -1):  # the longest prefix first; a tracker name of one character at least
        if low[i] in "_-." and low[:i] in variants:
            return stem[:i], stem[i + 1:]
    seq, sep, tracker = stem.rpartition("_")
    return (seq, tracker) if sep and seq and tracker else None


def _field(record: object, name: str) -> object | None:
    """A field of a MATLAB struct as :mod:`evalkit.results.mat_guard` reads it (a dict), None when absent."""
    return record.get(name) if isinstance(record, dict) else None


def ivt_affine_to_xywh(params: NDArray[np.float64], template_size: NDArray[np.float64]) -> NDArray[np.float64]:
    """Convert OTB ``ivtAff`` rows (affine matrices p1..p6) to x,y,w,h as the toolkit's calcRectCenter does.

    Raises ValueError for rows of other than 6 numbers or a template size of fewer than 2 finite numbers.
    """
    p = np.atleast_2d(np.asarray(params, dtype=np.float64))
    if p.ndim != 2 or p.shape[1] != 6:
        raise ValueError(f"ivtAff rows have 6 affine parameters, found shape {p.shape}")
    size = np.ravel(np.asarray(template_size, dtype=np.float64))
    if size.size < 2 or not np.isfinite(size[:2]).all():
        raise ValueError(f"tmplsize must hold a finite width and height, found {size.tolist()}")
    tw, th = float(size[0]), float(size[1])
    # corner 1 = template (-w/2, -h/2), corner 3 = (w/2, h/2); M = [p1 p3 p4; p2 p5 p6]; coordinates floored.
    x1 = np.floor(p[:, 0] + p[:, 2] * (-tw / 2) + p[:, 3] * (-th / 2))
    y1 = np.floor(p[:, 1] + p[:, 4] * (-tw / 2) + p[:, 5] * (-th / 2))
    x3 = np.floor(p[:, 0] + p[:, 2] * (tw / 2) + p[:, 3] * (th / 2))
    y3 = np.floor(p[:, 1] + p[:, 4] * (tw / 2) + p[:, 5] * (th / 2))
    return np.stack([x1, y1, x3 - x1, y3 - y1], axis=1)


def _numbers(value: object, what: str) -> NDArray[np.float64]:
    """``value`` as a float array; a string, struct or cell where numbers belong is a ValueError naming ``what``."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numbers, found {arr.dtype.kind == 'U' and 'text' or arr.dtype}")
    return arr.astype(np.float64)


def _start_frame(value: object, i: int) -> int | None:
    """``results{i}.startFrame`` as an int (None when absent); NaN, text or a fraction is a ValueError."""
    if value is None:
        return None
    arr = _numbers(value, f"results{{{i}}}.startFrame")
    if arr.size != 1 or not np.isfinite(arr).all() or not float(arr.item()).is_integer():
        raise ValueError(f"results{{{i}}}.startFrame must be one whole frame number, found {arr.ravel()[:4].tolist()}")
    return int(arr.item())


def _record_run(path: Path, rec: object, i: int) -> Run:
    """Run ``i`` (1-based) of a file from its struct; a malformed field is a ValueError saying which."""
    rtype = _field(rec, "type")
    rtype = "rect" if rtype is None or rtype == "" or (isinstance(rtype, np.ndarray) and rtype.size == 0) else rtype
    if not isinstance(rtype, str):
        raise ValueError(f"results{{{i}}}.type must be text, found {type(rtype).__name__}")
    res = _field(rec, "res")
    if res is None:
        raise ValueError(f"results{{{i}}} has no field 'res'")
    res = np.atleast_2d(_numbers(res, f"results{{{i}}}.res"))
    if res.ndim != 2:
        raise ValueError(f"results{{{i}}}.res must be a matrix (one row a frame), found shape {res.shape}")
    if rtype == "rect":
        boxes = res
    elif rtype == "ivtAff":
        tmpl = _field(rec, "tmplsize")
        if tmpl is None:
            raise ValueError(f"results{{{i}}} is ivtAff but has no 'tmplsize'")
        boxes = ivt_affine_to_xywh(res, _numbers(tmpl, f"results{{{i}}}.tmplsize"))
    else:
        raise ValueError(f"results{{{i}}} has type {rtype!r}; evalkit reads 'rect' and 'ivtAff'")
    if boxes.shape[1] != 4:
        raise ValueError(f"results{{{i}}}.res has {boxes.shape[1]} columns, expected 4")
    if np.isinf(boxes).any():
        raise ValueError(f"results{{{i}}}.res holds an infinite value")
    return Run(boxes, _start_frame(_field(rec, "startFrame"), i), path)


def read_otb_mat(path: Path, first_only: bool = False) -> list[Run]:
    """All runs in an OTB-toolkit result file (run 1 = OPE; TRE files hold 20); ``first_only``: run 1 alone, read
    without inflating the rest of the file (what OPE scores, as the toolkit's ``genPerfMat.m`` takes ``results{1}``).

    Every problem is an :class:`InputFileError` naming the file: a file that is not MATLAB, one that evalkit's
    reader cannot vouch for and scipy's parser cannot read or crashes on (:mod:`evalkit.results.mat_guard` reads
    the files itself and hands only those to scipy, in a child process), and a struct whose fields are not what the
    OTB toolkit writes.
    """
    from evalkit.results.mat_guard import load_results_variable

    results = load_results_variable(Path(path), first_only)
    records = results if isinstance(results, list) else [results]
    try:
        source = Path(path)
        return [_record_run(source, rec, i) for i, rec in enumerate(records, start=1)]
    except (ValueError, TypeError, IndexError, AttributeError) as exc:  # fields of unexpected types or shapes
        raise InputFileError(path, None, str(exc)) from None


def read_mat_folder(folder: Path, first_only: bool = False) -> list[ResultSet]:
    """One result set per tracker named in the folder's ``<seq>_<tracker>.mat`` files (none: an empty list);
    ``first_only``: each file's run 1 alone (OPE).

    A file that cannot be read is recorded in its tracker's ``problems``; the other files are still read.
    """
    sets: dict[str, ResultSet] = {}
    for path in sorted(folder.glob("*.mat")):
        split = split_mat_name(path.stem)
        if split is None:
            continue
        seq, tracker = split
        rs = sets.setdefault(tracker, ResultSet(tracker, folder))
        try:
            runs = read_otb_mat(path, first_only)
        except InputFileError as exc:
            rs.problems.append(exc.problem)
            continue
        rs.add_runs(seq, runs)
    return list(sets.values())
