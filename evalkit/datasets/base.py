"""The dataset-agnostic types: a ``Sequence`` (one evaluated target) and a ``Suite`` (a benchmark's list of them).

    >>> from evalkit.datasets import load_suite
    >>> suite = load_suite("otb100", "../shared/data/otb100")       # doctest: +SKIP
    >>> seq = suite["jogging_1"]; seq.name, seq.n_frames            # doctest: +SKIP
    ('Jogging-1', 307)

Ground truth is float64 N x 4 (x, y, w, h, 1-based pixels as the benchmarks publish them) with NaN rows where the
target is absent. ``start_frame`` is the video's frame number of row 0 (OTB's David starts at 300), so results that
carry their own start frame can be aligned to the ground truth.

VOT sequences also carry what the VOT toolkits score against: ``regions`` (N x 8, the annotated region of each
frame as published: x1,y1,..,x4,y4 polygons, or x,y,w,h rectangles padded with NaN), per-frame ``tags``
(``camera_motion``, ``occlusion`` ...: N booleans each) and ``image_size`` (width, height), which bounds the overlap.
"""

from __future__ import annotations

import contextvars
import io
import json
import re
import warnings
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.names import canonical_key, compact_key
from evalkit.errors import EvalkitError, InputFileError, InputProblem, read_input_text

# one field separator: a comma or semicolon (spaces around it allowed), or a run of spaces / tabs; two commas in a
# row therefore leave an empty field, which is an error, not a skipped value
_SPLIT = re.compile(r"[ \t]*[,;][ \t]*|[ \t]+")
# what the whole-file numpy parse cannot tell from a good file: a comment mark (loadtxt drops the rest of the line),
# an empty field (",," or a separator at a line's start or end, which the comma-to-space rewrite would hide); found
# by plain substring searches on the text without blanks (a multi-line regex took as long as numpy's parse)
_EMPTY_FIELD = (",,", ",;", ";,", ";;", "\n,", "\n;", "\r,", "\r;", ",\n", ",\r", ";\n", ";\r")
REGION_WIDTH = 8  # VOT regions: four x,y vertices, or x,y,w,h padded with NaN


@dataclass(frozen=True, eq=False)
class Sequence:
    """One evaluated target: name, ground truth, optional frames, attributes and start-frame rules."""

    name: str
    ground_truth: NDArray[np.float64]
    frames: tuple[Path, ...] | None = None
    attributes: frozenset[str] = frozenset()
    start_frame: int = 1
    init_omit: tuple[tuple[int, int], ...] = ()
    target_visible: NDArray[np.bool_] | None = None
    aliases: tuple[str, ...] = ()
    regions: NDArray[np.float64] | None = None
    tags: Mapping[str, NDArray[np.bool_]] = field(default_factory=dict)
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        gt = np.asarray(self.ground_truth, dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] != 4:
            raise ValueError(f"{self.name}: ground truth must be N x 4, got {gt.shape}")
        gt.setflags(write=False)
        object.__setattr__(self, "ground_truth", gt)
        if self.frames is not None and len(self.frames) != len(gt):
            raise ValueError(f"{self.name}: {len(self.frames)} frames but {len(gt)} ground-truth rows")
        if self.regions is not None:
            regions = np.array(self.regions, dtype=np.float64)
            if regions.shape != (len(gt), REGION_WIDTH):
                raise ValueError(f"{self.name}: regions must be N x {REGION_WIDTH} (N = {len(gt)}), "
                                 f"got {regions.shape}")
            regions.setflags(write=False)
            object.__setattr__(self, "regions", regions)
        tags = {}
        for tag, flags in self.tags.items():
            arr = np.array(flags, dtype=bool)
            if arr.shape != (len(gt),):
                raise ValueError(f"{self.name}: tag {tag!r} has {arr.shape} flags, expected ({len(gt)},)")
            arr.setflags(write=False)
            tags[tag] = arr
        object.__setattr__(self, "tags", tags)
        if self.image_size is not None:
            object.__setattr__(self, "image_size", (int(self.image_size[0]), int(self.image_size[1])))

    @property
    def n_frames(self) -> int:
        """Number of annotated frames."""
        return int(self.ground_truth.shape[0])

    @property
    def region_rows(self) -> NDArray[np.float64]:
        """N x 8 VOT regions: the annotated ones, else the boxes as x,y,w,h padded with NaN (VOT's rectangles)."""
        if self.regions is not None:
            return self.regions
        return np.hstack([self.ground_truth, np.full((self.n_frames, 4), np.nan)])

    @property
    def has_frames(self) -> bool:
        """True when image paths are known (needed to run a tracker, not to score results)."""
        return self.frames is not None

    def frame_number(self, index: int) -> int:
        """Video frame number of row ``index``."""
        return self.start_frame + index

    def start_allowed(self) -> NDArray[np.bool_]:
        """Rows usable as start frames: ground truth valid (all four values > 0, as OTB) and not in initOmit."""
        gt = self.ground_truth
        with np.errstate(invalid="ignore"):
            ok = (gt > 0).all(axis=1)
        numbers = self.start_frame + np.arange(self.n_frames)
        for lo, hi in self.init_omit:
            ok &= ~((numbers >= lo) & (numbers <= hi))
        return ok

    def first_start_index(self, honour_init_omit: bool = True) -> int:
        """Row where a one-pass evaluation starts (OTB: the first valid start frame; Tiger1 starts at frame 6)."""
        if not honour_init_omit:
            return 0
        if self._first_allowed is None:
            raise EvalkitError(f"sequence {self.name} has no valid start frame")
        return self._first_allowed

    @cached_property
    def _first_allowed(self) -> int | None:
        """The first row :meth:`start_allowed` allows (None: none), found once: scoring asks for every run."""
        ok = np.flatnonzero(self.start_allowed())
        return int(ok[0]) if ok.size else None


@dataclass
class Suite:
    """A benchmark's sequences as found on disk, with the names the full benchmark expects."""

    name: str
    sequences: list[Sequence]
    expected: list[str]
    family: str
    attribute_names: dict[str, str] = field(default_factory=dict)
    source: str = ""
    selected: bool = False
    withheld: str = ""
    absent: list[str] | None = None
    problems: list[InputProblem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # what the loader tolerated as the benchmark's own toolkits do (VOT tag files shorter than their sequence,
    # padded with "tag absent"): one line each on stderr, nothing left out
    notices: list[InputProblem] = field(default_factory=list)
    # the profile a suite is scored with when none is asked for (LaSOT: its own toolkit's rules)
    default_profile: str | None = None

    def __post_init__(self) -> None:
        # exact (canonical) keys win over the separator-free fallback: UAV123's ``car1_1`` compacts to ``car11``,
        # which is another sequence's own name; a fallback key shared by two sequences is dropped as ambiguous
        self._index: dict[str, Sequence] = {}
        self._loose: dict[str, Sequence | None] = {}
        for seq in self.sequences:
            for key in {canonical_key(n) for n in (seq.name, *seq.aliases)}:
                self._index.setdefault(key, seq)
        for seq in self.sequences:
            key = compact_key(seq.name)
            self._loose[key] = seq if self._loose.get(key, seq) is seq else None

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[Sequence]:
        return iter(self.sequences)

    def __getitem__(self, name: str) -> Sequence:
        seq = self.find(name)
        if seq is None:
            raise KeyError(f"{self.name} has no sequence {name!r}")
        return seq

    def find(self, name: str) -> Sequence | None:
        """The sequence with this name or alias (case and separators ignored), or None."""
        return self._index.get(canonical_key(name)) or self._loose.get(compact_key(name))

    @property
    def missing(self) -> list[str]:
        """Sequences of the full benchmark that were not found on disk (not those left out by ``subset``)."""
        if self.absent is not None:
            return list(self.absent)
        have = {canonical_key(s.name) for s in self.sequences}
        return [n for n in self.expected if canonical_key(n) not in have]

    @property
    def is_partial(self) -> bool:
        """True when scores on this suite are not the benchmark's headline numbers."""
        return bool(self.missing) or self.selected

    def subset(self, names: SequenceABC[str]) -> Suite:
        """A suite restricted to the named sequences (marked partial when it is not the whole benchmark)."""
        picked = []
        failed = {canonical_key(n) for n in self.failed}
        for n in names:
            seq = self.find(n)
            if seq is None and canonical_key(n) in failed:
                continue  # its files failed to load: reported in problems, left out as missing
            if seq is None:
                raise EvalkitError(f"{self.name}: no sequence {n!r} in {self.source or 'the data root'}")
            picked.append(seq)
        whole = {canonical_key(s.name) for s in picked} >= {canonical_key(n) for n in self.expected}
        return Suite(self.name, picked, self.expected, self.family, self.attribute_names, self.source,
                     selected=self.selected or not whole, withheld=self.withheld, absent=self.missing,
                     problems=self.problems, failed=self.failed, notices=self.notices,
                     default_profile=self.default_profile)


@dataclass
class Collected:
    """Loading problems gathered while ``load_suite(..., collect=True)`` runs, and the sequences they cost."""

    problems: list[InputProblem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


_COLLECTED: contextvars.ContextVar[Collected | None] = contextvars.ContextVar("collected", default=None)


class per_sequence:  # noqa: N801 - used as a statement: `with per_sequence(name): ...`
    """Wrap the loading of one sequence: while problems are collected (``load_suite(..., collect=True)``) a malformed
    file skips that sequence and is recorded with its name; otherwise the error propagates."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        collected = _COLLECTED.get()
        if isinstance(exc, InputFileError) and collected is not None:
            collected.problems.append(exc.problem)
            collected.failed.append(self.name)
            return True
        return False


def collect_problems(loader: Any, root: Path) -> Suite:
    """Run a suite loader with per-sequence problems collected into the returned suite."""
    collected = Collected()
    token = _COLLECTED.set(collected)
    try:
        suite: Suite = loader(root)
    finally:
        _COLLECTED.reset(token)
    suite.problems = collected.problems
    suite.failed = collected.failed
    return suite


@cache
def package_data(name: str) -> dict[str, Any]:
    """Versioned metadata shipped with evalkit (``evalkit/datasets/data/<name>``)."""
    return json.loads(resources.files("evalkit.datasets").joinpath("data", name).read_text())


def check_sequence_name(name: str, path: Path, line: int | None = None) -> str:
    """``name`` when it can be one path component (a sequence folder, a result file's stem); an InputFileError naming
    the file and line that gave it otherwise: a separator, ``.`` / ``..`` or a NUL would put a path outside its
    folder (GOT-10k's ``list.txt`` entry ``..`` made a result path outside the tracker's folder)."""
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise InputFileError(path, line, f"{name!r} is not a sequence name (a name has no '/', '\\' or NUL and is "
                                         f"not '.' or '..')")
    return name


def read_box_file(path: Path, expected_rows: int | None = None, allow_nan: bool = True, cached: bool = False
                  ) -> NDArray[np.float64]:
    """Read an N x 4 box file separated by commas, tabs or spaces; errors name the file and line.

    NaN rows are read (``allow_nan``: the benchmarks mark absent targets so); infinities, empty fields, comments and
    lines of other than four values are errors. ``cached``: the parse is kept by content for the next process (the
    datasets' ground truth; result folders have their own cache).
    """
    text = read_input_text(path)
    if cached:  # parsed once per content (evalkit.datasets.box_cache); the checks below run either way
        from evalkit.datasets.box_cache import cached_boxes

        arr = cached_boxes(text, lambda: _parse_boxes(path, text))
    else:
        arr = _parse_boxes(path, text)
    if np.isinf(arr).any():
        bad = int(np.flatnonzero(np.isinf(arr).any(axis=1))[0])
        raise InputFileError(path, _line_of_row(text, bad), "infinite value (a box is finite, or NaN when absent)")
    if not allow_nan and np.isnan(arr).any():
        bad = int(np.flatnonzero(np.isnan(arr).any(axis=1))[0])
        raise InputFileError(path, _line_of_row(text, bad), "NaN is not allowed here")
    if expected_rows is not None and len(arr) != expected_rows:
        raise InputFileError(path, None, f"has {len(arr)} boxes, expected {expected_rows} (one per frame)")
    return arr


def _parse_boxes(path: Path, text: str) -> NDArray[np.float64]:
    arr = _parse_boxes_fast(text)
    return arr if arr is not None else _parse_boxes_checked(path, text)


def _parse_boxes_fast(text: str) -> NDArray[np.float64] | None:
    """Whole-file parse by numpy's C reader for the common case; None when any line is not four numbers.

    ``np.loadtxt`` checks every row's field count (a 3-value line next to a 5-value line is an error, not two
    re-chunked rows); the line-by-line parser then finds and names the bad line.
    """
    if not text.strip():
        return np.zeros((0, 4))
    if _fast_unsafe(text):
        return None
    normalized = text.replace(",", " ").replace(";", " ").replace("\t", " ")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(io.StringIO(normalized), dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    return arr if arr.shape[1] == 4 else None


def _fast_unsafe(text: str) -> bool:
    """Whether ``text`` has a comment mark or an empty field, which the whole-file parse would not see."""
    if "#" in text:
        return True
    packed = text.replace(" ", "").replace("\t", "")
    return packed.startswith((",", ";")) or packed.endswith((",", ";")) or any(p in packed for p in _EMPTY_FIELD)


def _line_of_row(text: str, row: int) -> int:
    """1-based line number of the row-th non-empty line."""
    seen = -1
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            seen += 1
            if seen == row:
                return lineno
    return row + 1


def _parse_boxes_checked(path: Path, text: str) -> NDArray[np.float64]:
    """Line-by-line parse that reports the first bad line."""
    rows: list[list[float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        fields = _SPLIT.split(stripped)
        if "" in fields:
            raise InputFileError(path, lineno, f"expected 4 values (x,y,w,h), found an empty field in {stripped!r}")
        if len(fields) != 4:
            raise InputFileError(path, lineno, f"expected 4 values (x,y,w,h), found {len(fields)}: {stripped!r}")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise InputFileError(path, lineno, f"non-numeric field in {stripped!r}") from None
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def frame_paths(folder: Path, start: int, end: int, digits: int, ext: str) -> tuple[Path, ...] | None:
    """Paths folder/NNNN.ext for frames start..end, or None when the folder does not exist."""
    if not folder.is_dir():
        return None
    return tuple(folder / f"{i:0{digits}d}.{ext}" for i in range(start, end + 1))


def read_image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file from its header (Pillow reads no pixels; no OpenCV in a scoring install)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return int(image.width), int(image.height)
    except (OSError, UnidentifiedImageError) as exc:  # missing, unreadable or not an image
        raise InputFileError(path, None, f"cannot read the image to find the frame size ({exc})") from None


def find_file_ci(folder: Path, name: str) -> Path | None:
    """``folder/name`` matched case-insensitively (toolkit archives mix ``david.txt`` and ``David.txt``)."""
    exact = folder / name
    if exact.is_file():
        return exact
    if not folder.is_dir():
        return None
    low = name.lower()
    for p in folder.iterdir():
        if p.name.lower() == low:
            return p
    return None
