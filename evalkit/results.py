"""Import raw tracking results in the layouts researchers already have.

- OTB MATLAB toolkit: ``<seq>_<tracker>.mat`` files (several trackers may share a folder; the tracker name is what
  follows the sequence name). Variable ``results`` is a cell/struct array of runs; run 1 is OPE, all 20 are TRE.
  Types ``rect`` and the toolkit's affine ``ivtAff`` (converted as calcRectCenter does) are read.
- got10k / pysot text: ``<tracker>/<seq>.txt``, one x,y,w,h box per line, comma, tab or space separated.
- evalkit's own store: a folder with ``run.json`` and ``<seq>.txt`` files (see :mod:`evalkit.store`).
- VOT supervised ("baseline") experiment: ``<tracker>/baseline/<seq>/<seq>_NNN.txt`` (NNN = repetition), one line a
  frame: ``1`` initialisation, ``2`` failure, ``0`` skipped frame, or the region (4 or 8 numbers). These are read
  into ``ResultSet.vot_runs`` as :class:`VotRun` (per-frame codes + N x 8 regions), never as OPE boxes.

    >>> sets = discover_results(Path("../shared/data/results/uav20l_dcf"))   # doctest: +SKIP
    >>> [s.tracker for s in sets]                                           # doctest: +SKIP
    ['DSST', 'ECO_HC', 'KCF', 'SRDCF', 'Staple']

Problems in one file (wrong row count, non-numeric field, a corners-format first line) are collected with file and
line in ``ResultSet.problems``; the rest of the set is still scored.
"""

from __future__ import annotations

import json
import re
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
VOT_EXPERIMENT = "baseline"
_VOT_RUN_FILE = re.compile(r"^(?P<seq>.+)_(?P<rep>\d{3,})\.txt$")
_VOT_SPLIT = re.compile(r"[,\s;]+")


@dataclass(frozen=True)
class Run:
    """One run of a tracker on one sequence: boxes from ``start_frame`` (video numbering) to the sequence end."""

    boxes: NDArray[np.float64]
    start_frame: int | None
    source: Path
    line_offset: int = 0


class VotCode:
    """Per-frame codes of a VOT supervised run: the file's special lines, and -1 where the line is a region."""

    REGION = -1
    SKIPPED = 0
    INIT = 1
    FAILURE = 2


@dataclass(frozen=True, eq=False)
class VotRun:
    """One repetition of the VOT supervised experiment on one sequence, as the result file stores it.

    ``codes[i]`` is a :class:`VotCode` (region, skipped, initialisation, failure); ``regions`` is N x 8 with the
    reported region where ``codes == REGION`` (x,y,w,h rectangles padded with NaN, or polygons) and NaN elsewhere.
    A region line with a NaN is read as skipped (unknown), as the VOT toolkit's region parser does.
    """

    codes: NDArray[np.int8]
    regions: NDArray[np.float64]
    source: Path
    repetition: int = 1

    def __post_init__(self) -> None:
        codes = np.array(self.codes, dtype=np.int8)
        regions = np.array(self.regions, dtype=np.float64)
        if codes.ndim != 1 or regions.shape != (len(codes), 8):
            raise ValueError(f"{self.source}: codes must be (N,) and regions N x 8, got {codes.shape} and "
                             f"{regions.shape}")
        codes.setflags(write=False)
        regions.setflags(write=False)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "regions", regions)

    @property
    def n_frames(self) -> int:
        """Number of frames (lines) in the run."""
        return int(len(self.codes))


@dataclass
class ResultSet:
    """All runs of one tracker found under one results location."""

    tracker: str
    source: Path
    runs: dict[str, list[Run]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    vot_runs: dict[str, list[VotRun]] = field(default_factory=dict)

    def vot_runs_for(self, sequence_name: str, aliases: Iterable[str] = ()) -> list[VotRun] | None:
        """The VOT supervised runs stored for a sequence (case and separators ignored), ordered by repetition."""
        for n in (sequence_name, *aliases):
            if (key := canonical_key(n)) in self.vot_runs:
                return self.vot_runs[key]
        return None

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


def read_vot_run(path: Path, repetition: int = 1) -> VotRun:
    """One VOT supervised result file: a line per frame, ``1``/``2``/``0`` flags (``1.0000`` too) or a region.

    Errors name the file and line: a flag other than 0, 1, 2, a region of other than 4, 6 or 8 numbers, a
    non-numeric field, an empty line between frames.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read: {exc.strerror}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputFileError(path, None, "empty result file")
    parsed = _parse_vot_lines_fast(lines)
    codes, regions = parsed if parsed is not None else _parse_vot_lines_checked(path, lines)
    return VotRun(codes, regions, Path(path), repetition)


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


def _vot_experiment_dir(folder: Path) -> Path | None:
    """The ``baseline`` folder of a VOT tracker folder (or the folder itself when it is one)."""
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
    experiment = _vot_experiment_dir(folder)
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
            key = canonical_key(seq_dir.name)
            rs.vot_runs[key] = runs
            rs.names[key] = seq_dir.name
    return rs


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
            if run_meta.get("status") == "ok" and run_meta.get("format") == "vot":
                _read_store_vot_run(rs, seq_dir, run_meta_path, run_meta)
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


def _read_store_vot_run(rs: ResultSet, seq_dir: Path, meta_path: Path, meta: dict[str, object]) -> None:
    """Add one VOT-format run of the store (written by the harness for the supervised protocol) to ``rs``."""
    label = str(meta.get("label", meta_path.stem))
    digits = re.search(r"(\d+)$", label)
    try:
        run = read_vot_run(meta_path.with_suffix(".txt"), int(digits.group(1)) if digits else 1)
    except InputFileError as exc:
        rs.problems.append(exc.problem)
        return
    name = str(meta.get("sequence", seq_dir.name))
    key = canonical_key(name)
    runs = rs.vot_runs.setdefault(key, [])
    runs.append(run)
    runs.sort(key=lambda r: r.repetition)
    rs.names.setdefault(key, name)


def _scan(folder: Path, depth: int) -> list[ResultSet]:
    """Result sets in ``folder``: a store, VOT ``baseline/`` results, .mat files, or box .txt files; else look one
    level further down."""
    if _looks_like_store(folder):
        return [read_store_set(folder)]
    if _vot_experiment_dir(folder) is not None:
        return [read_vot_set(folder)]
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
                           f"<tracker>/<seq>.txt, <tracker>/baseline/<seq>/<seq>_001.txt and evalkit store "
                           f"folders)")
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
