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
import scipy.io
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


def split_mat_name(stem: str) -> tuple[str, str] | None:
    """Split ``Jogging_1_cf2camera`` into (``Jogging_1``, ``cf2camera``) using the known sequence names."""
    low = stem.lower()
    for name in known_sequence_names():
        for variant in {name, name.replace("-", "_"), name.replace(".", "_"), name.replace("-", ".")}:
            v = variant.lower()
            if low.startswith(v) and len(low) > len(v) + 1 and low[len(v)] in "_-.":
                return stem[: len(v)], stem[len(v) + 1:]
    seq, sep, tracker = stem.rpartition("_")
    return (seq, tracker) if sep and seq and tracker else None


def _field(record: object, name: str) -> object | None:
    """A field of a MATLAB struct as scipy loads it (record array or mat_struct), None when absent."""
    if isinstance(record, np.ndarray) and record.dtype.names:
        return record[name].item() if name in record.dtype.names else None
    return getattr(record, name, None)


def ivt_affine_to_xywh(params: NDArray[np.float64], template_size: NDArray[np.float64]) -> NDArray[np.float64]:
    """Convert OTB ``ivtAff`` rows (affine matrices p1..p6) to x,y,w,h as the toolkit's calcRectCenter does."""
    p = np.atleast_2d(np.asarray(params, dtype=np.float64))
    tw, th = (float(v) for v in np.ravel(template_size)[:2])
    # corner 1 = template (-w/2, -h/2), corner 3 = (w/2, h/2); M = [p1 p3 p4; p2 p5 p6]; coordinates floored.
    x1 = np.floor(p[:, 0] + p[:, 2] * (-tw / 2) + p[:, 3] * (-th / 2))
    y1 = np.floor(p[:, 1] + p[:, 4] * (-tw / 2) + p[:, 5] * (-th / 2))
    x3 = np.floor(p[:, 0] + p[:, 2] * (tw / 2) + p[:, 3] * (th / 2))
    y3 = np.floor(p[:, 1] + p[:, 4] * (tw / 2) + p[:, 5] * (th / 2))
    return np.stack([x1, y1, x3 - x1, y3 - y1], axis=1)


def read_otb_mat(path: Path) -> list[Run]:
    """All runs in an OTB-toolkit result file (run 1 = OPE; TRE files hold 20)."""
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False, variable_names=["results"])
    except Exception as exc:  # scipy raises several types for corrupt files
        raise InputFileError(path, None, f"not a readable MATLAB file: {exc}") from None
    if "results" not in mat:
        raise InputFileError(path, None, "no variable 'results' (expected the OTB toolkit's result struct)")
    records = np.atleast_1d(mat["results"])
    runs = []
    for i, rec in enumerate(records.ravel(), start=1):
        rtype = str(_field(rec, "type") or "rect")
        res = _field(rec, "res")
        if res is None:
            raise InputFileError(path, None, f"results{{{i}}} has no field 'res'")
        res = np.atleast_2d(np.asarray(res, dtype=np.float64))
        if rtype == "rect":
            boxes = res
        elif rtype == "ivtAff":
            tmpl = _field(rec, "tmplsize")
            if tmpl is None:
                raise InputFileError(path, None, f"results{{{i}}} is ivtAff but has no 'tmplsize'")
            boxes = ivt_affine_to_xywh(res, np.asarray(tmpl))
        else:
            raise InputFileError(path, None, f"results{{{i}}} has type {rtype!r}; evalkit reads 'rect' and 'ivtAff'")
        if boxes.shape[1] != 4:
            raise InputFileError(path, None, f"results{{{i}}}.res has {boxes.shape[1]} columns, expected 4")
        start = _field(rec, "startFrame")
        runs.append(Run(boxes, int(start) if start is not None else None, path))
    return runs


def read_mat_folder(folder: Path) -> list[ResultSet]:
    """One result set per tracker named in the folder's ``<seq>_<tracker>.mat`` files (none: an empty list).

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
            runs = read_otb_mat(path)
        except InputFileError as exc:
            rs.problems.append(exc.problem)
            continue
        rs.add_runs(seq, runs)
    return list(sets.values())
