"""Import raw tracking results in the layouts researchers already have.

- OTB MATLAB toolkit: ``<seq>_<tracker>.mat`` files (several trackers may share a folder; the tracker name is what
  follows the sequence name). Variable ``results`` is a cell/struct array of runs; run 1 is OPE, all 20 are TRE.
  Types ``rect`` and the toolkit's affine ``ivtAff`` (converted as calcRectCenter does) are read.
- got10k / pysot text: ``<tracker>/<seq>.txt``, one x,y,w,h box per line, comma, tab or space separated.
- evalkit's own store: a folder with ``run.json`` and ``<seq>.txt`` files (see :mod:`evalkit.store`).

    >>> sets = discover_results(Path("../shared/data/results/uav20l_dcf"))   # doctest: +SKIP
    >>> [s.tracker for s in sets]                                           # doctest: +SKIP
    ['DSST', 'ECO_HC', 'KCF', 'SRDCF', 'Staple']

Problems in one file (wrong row count, non-numeric field, a corners-format first line) are collected with file and
line in ``ResultSet.problems``; the rest of the set is still scored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import scipy.io
from numpy.typing import NDArray

from evalkit.datasets.base import package_data, read_box_file
from evalkit.datasets.names import canonical_key, compact_key
from evalkit.errors import EvalkitError, InputFileError, InputProblem

STORE_MARKER = "run.json"


@dataclass(frozen=True)
class Run:
    """One run of a tracker on one sequence: boxes from ``start_frame`` (video numbering) to the sequence end."""

    boxes: NDArray[np.float64]
    start_frame: int | None
    source: Path
    line_offset: int = 0


@dataclass
class ResultSet:
    """All runs of one tracker found under one results location."""

    tracker: str
    source: Path
    runs: dict[str, list[Run]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)

    def runs_for(self, sequence_name: str, aliases: Iterable[str] = (), others: Iterable[str] = ()
                 ) -> list[Run] | None:
        """The runs stored for a sequence, matched case-insensitively across name aliases.

        Exact (separator-insensitive) names win; a separator-free match (``jogging1.txt`` for ``Jogging-1``) is used
        only when one stored file has that key and that file is not named after one of ``others`` (the suite's other
        sequences: UAV123's ``car1_1`` must never take ``car11``'s results).
        """
        names = (sequence_name, *aliases)
        for n in names:
            if (key := canonical_key(n)) in self.runs:
                return self.runs[key]
        loose: dict[str, list[str]] = defaultdict(list)
        for key in self.runs:  # a few hundred keys: cheap next to reading the files
            loose[compact_key(key)].append(key)
        taken = {canonical_key(o) for o in others}
        for n in names:
            stored = loose.get(compact_key(n), [])
            if len(stored) == 1 and stored[0] not in taken:
                return self.runs[stored[0]]
        return None


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


def _looks_like_store(folder: Path) -> bool:
    return (folder / STORE_MARKER).is_file()


def _read_text_set(folder: Path, tracker: str) -> ResultSet:
    rs = ResultSet(tracker, folder)
    for path in sorted(folder.glob("*.txt")):
        if path.stem.endswith("_time") or path.stem.startswith("."):
            continue
        try:
            boxes = read_box_file(path)
        except InputFileError as exc:
            rs.problems.append(exc.problem)
            continue
        key = canonical_key(path.stem)
        rs.runs[key] = [Run(boxes, None, path)]
        rs.names[key] = path.stem
    return rs


def _read_mat_folder(folder: Path) -> list[ResultSet]:
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
        key = canonical_key(seq)
        rs.runs[key] = runs
        rs.names[key] = seq
    return list(sets.values())


def read_store_set(folder: Path) -> ResultSet:
    """A result set from evalkit's own store folder (tracker name from its run.json).

    Store layout (see :mod:`evalkit.store`): ``<Sequence>/<label>.txt`` boxes with ``<label>.json`` metadata, of
    which only runs whose status is ``ok`` are read, ordered by label (``tre-00`` .. ``tre-19``). Flat
    ``<seq>.txt`` files beside ``run.json`` (with an optional ``start_frames`` map) are read too.
    """
    meta_path = folder / STORE_MARKER
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise InputFileError(meta_path, exc.lineno, f"invalid json: {exc.msg}") from None
    boxes_dir = folder / "boxes" if (folder / "boxes").is_dir() else folder
    rs = _read_text_set(boxes_dir, str(meta.get("tracker", folder.name)))
    starts = meta.get("start_frames", {})
    for key, runs in rs.runs.items():
        name = rs.names[key]
        if name in starts:
            rs.runs[key] = [Run(r.boxes, int(starts[name]), r.source) for r in runs]
    for seq_dir in sorted(d for d in folder.iterdir() if d.is_dir() and d.name != "boxes"):
        runs = []
        for run_meta_path in sorted(seq_dir.glob("*.json")):
            try:
                run_meta = json.loads(run_meta_path.read_text())
            except json.JSONDecodeError as exc:
                rs.problems.append(InputProblem(run_meta_path, exc.lineno, f"invalid json: {exc.msg}"))
                continue
            if run_meta.get("status") != "ok" or run_meta.get("format", "boxes") != "boxes":
                continue
            box_path = run_meta_path.with_suffix(".txt")
            try:
                boxes = read_box_file(box_path)
            except InputFileError as exc:
                rs.problems.append(exc.problem)
                continue
            start = run_meta.get("start_frame")
            runs.append(Run(boxes, int(start) if start is not None else None, box_path))
        if runs:
            name = str(json.loads(sorted(seq_dir.glob("*.json"))[0].read_text()).get("sequence", seq_dir.name))
            key = canonical_key(name)
            rs.runs[key] = runs
            rs.names[key] = name
    rs.source = folder
    return rs


def _scan(folder: Path, depth: int) -> list[ResultSet]:
    """Result sets in ``folder``: a store, .mat files, or box .txt files; else look one level further down."""
    if _looks_like_store(folder):
        return [read_store_set(folder)]
    mats = _read_mat_folder(folder)
    if mats:
        return mats
    if any(not p.stem.endswith("_time") for p in folder.glob("*.txt")):
        return [_read_text_set(folder, folder.name)]
    if depth == 0:
        return []
    return [rs for d in sorted(folder.iterdir()) if d.is_dir() and d.name != "times" for rs in _scan(d, depth - 1)]


def discover_results(path: Path, renames: dict[str, str] | None = None) -> list[ResultSet]:
    """Every tracker's result set under ``path`` (a tracker folder, a folder of them, or a folder of .mat files)."""
    path = Path(path)
    if not path.is_dir():
        raise EvalkitError(f"results folder {path} does not exist")
    found = _scan(path, depth=3)
    if not found:
        raise EvalkitError(f"no tracking results found under {path} (looked for <seq>_<tracker>.mat, "
                           f"<tracker>/<seq>.txt and evalkit store folders)")
    renames = {**default_renames(), **(renames or {})}
    for rs in found:
        rs.tracker = renames.get(rs.tracker, renames.get(rs.tracker.lower(), rs.tracker))
    by_name: dict[str, list[ResultSet]] = defaultdict(list)
    for rs in found:
        by_name[rs.tracker].append(rs)
    dupes = {k: v for k, v in by_name.items() if len(v) > 1}
    if dupes:
        k, v = next(iter(dupes.items()))
        raise EvalkitError(f"tracker name {k!r} found in several places: {', '.join(str(r.source) for r in v)}; "
                           f"point --results at one of them, or rename one folder")
    return sorted(found, key=lambda r: r.tracker.lower())


@cache
def default_renames() -> dict[str, str]:
    """Built-in map from result-archive tracker names to the names papers print (extend with --rename)."""
    return dict(package_data("tracker_names.json")["names"])
