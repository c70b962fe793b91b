"""VOT2016 (``vot2016``), VOT2018 (``vot2018``) and VOT2019 (``vot2019``) short-term datasets, in either layout in use.

- VOT toolkit folders: ``<root>/list.txt`` (optional) and ``<root>/<seq>/groundtruth.txt``, one region a line
  (x1,y1,x2,y2,x3,y3,x4,y4 polygons, or x,y,w,h rectangles), frames ``<seq>/color/00000001.jpg`` or
  ``<seq>/00000001.jpg``, per-frame tag files ``<seq>/camera_motion.tag`` (or ``.label``) with one 0/1 a line, and
  optionally the vot-toolkit's ``<seq>/sequence`` properties file (``width=``, ``height=``);
- pysot json: ``<root>/VOT2018.json`` (or the json file itself): ``{seq: {gt_rect, img_names, camera_motion, ...,
  width, height}}``, polygons mixed with 4-value rectangles.

    >>> suite = load_vot("vot2018", Path("../shared/data/vot2018"))     # doctest: +SKIP
    >>> seq = suite["ants1"]; seq.regions.shape, seq.image_size, int(seq.tags["occlusion"].sum())   # doctest: +SKIP
    ((325, 8), (1024, 1024), ...)

``Sequence.ground_truth`` is the axis-aligned bounding box of each region (what a box tracker is initialised with);
``Sequence.regions`` keeps the published regions (N x 8, rectangles as x,y,w,h + 4 NaN) for the VOT overlap,
``Sequence.tags`` the five per-frame tags and ``Sequence.image_size`` the (width, height) that bounds the overlap.
The image size comes from the json, the ``sequence`` file, or else the first frame (read with OpenCV only then).
Sequence lists and EAO intervals are versioned data (``data/vot.json``); errors name the file and line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit import geometry
from evalkit.datasets.base import (
    REGION_WIDTH,
    Sequence,
    Suite,
    find_file_ci,
    package_data,
    per_sequence,
    read_image_size,
)
from evalkit.datasets.names import canonical_key
from evalkit.errors import EvalkitError, InputFileError, InputProblem, read_input_text

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "<seq>/groundtruth.txt and <seq>/color/00000001.jpg (VOT toolkit), or VOT2018.json (pysot)"
)


SUITES = ("vot2016", "vot2018", "vot2019")
FAMILY = "vot"
_SPLIT = re.compile(r"[,\s;]+")
_FRAME_DIGITS = 8


def vot_metadata() -> dict[str, Any]:
    """The versioned VOT metadata (``data/vot.json``): tag names, and per suite its sequences and EAO interval."""
    return package_data("vot.json")


def suite_metadata(suite: str) -> dict[str, Any]:
    """One suite's entry of ``data/vot.json`` (sequences, EAO interval, pysot json name)."""
    suites = vot_metadata()["suites"]
    if suite not in suites:
        raise EvalkitError(f"unknown VOT suite {suite!r}; known: {', '.join(suites)}")
    return dict(suites[suite])


def tag_names() -> dict[str, str]:
    """The per-frame tags of VOT2016-2019, code -> readable name (camera_motion -> camera motion ...)."""
    return dict(vot_metadata()["tags"])


def pack_regions(values: list[list[float]]) -> NDArray[np.float64]:
    """Regions of 4, 6 or 8 numbers each as an N x 8 array padded with NaN (callers check the counts)."""
    out = np.full((len(values), REGION_WIDTH), np.nan)
    for i, row in enumerate(values):
        out[i, : len(row)] = row
    return out


def regions_to_xywh(regions: NDArray[np.float64]) -> NDArray[np.float64]:
    """Axis-aligned x,y,w,h box of each N x 8 region row (rectangles pass through, polygons are bounded)."""
    regions = np.asarray(regions, dtype=np.float64)
    out = np.full((len(regions), 4), np.nan)
    count = np.isfinite(regions).sum(axis=1)
    rect = count == 4
    out[rect] = regions[rect, :4]
    for k in (6, 8):
        rows = count == k
        if rows.any():
            out[rows] = geometry.polygon_to_xywh(regions[rows, :k])
    return out


def read_region_file(path: Path) -> NDArray[np.float64]:
    """A VOT ``groundtruth.txt``: one region a line (comma separated), as N x 8 NaN-padded; errors name the line."""
    lines = read_input_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    values = []
    for lineno, line in enumerate(lines, start=1):
        fields = [f for f in _SPLIT.split(line.strip()) if f]
        if not fields:
            raise InputFileError(path, lineno, "empty line inside the region list (one region per frame)")
        try:
            row = [float(f) for f in fields]
        except ValueError:
            raise InputFileError(path, lineno, f"non-numeric field in {line.strip()!r}") from None
        if any(math.isinf(v) for v in row):
            raise InputFileError(path, lineno, f"infinite value in {line.strip()!r}")
        if len(row) not in (4, 6, 8):
            raise InputFileError(path, lineno, f"a region has 4 (x,y,w,h) or 6 or 8 (polygon) values, found "
                                               f"{len(row)}: {line.strip()!r}")
        values.append(row)
    if not values:
        raise InputFileError(path, None, "no regions")
    return pack_regions(values)


def read_tag_file(path: Path, n_frames: int) -> NDArray[np.bool_]:
    """A per-frame tag file (one 0/1 a line); shorter files are padded with 0, as the VOT toolkits do."""
    flags = np.zeros(n_frames, dtype=bool)
    lines = read_input_text(path).splitlines()
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise InputFileError(path, lineno, f"a tag line is 0 or 1, found {text!r}") from None
        if lineno > n_frames:
            if value:
                raise InputFileError(path, lineno, f"tag set after the last frame ({n_frames})")
            continue
        flags[lineno - 1] = value != 0
    return flags


def read_properties(path: Path) -> dict[str, str]:
    """The vot-toolkit's ``sequence`` file: ``key=value`` lines."""
    out = {}
    for line in read_input_text(path).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _sequence(name: str, regions: NDArray[np.float64], frames: tuple[Path, ...] | None,
              tags: Mapping[str, NDArray[np.bool_]], size: tuple[int, int] | None) -> Sequence:
    return Sequence(name=name, ground_truth=regions_to_xywh(regions), frames=frames, regions=regions, tags=tags,
                    image_size=size)


def detect_layout(root: Path, suite: str) -> tuple[str, Path]:
    """(``pysot``, json path) or (``vot``, root), from what is in ``root``."""
    if root.is_file() and root.suffix == ".json":
        return "pysot", root
    name = suite_metadata(suite)["json"]
    path = find_file_ci(root, name)
    if path is not None:
        return "pysot", path
    return "vot", root


def load_vot(suite: str, root: Path) -> Suite:
    """Load a VOT suite from ``root`` in whichever layout it is; sequences not on disk are listed as missing."""
    root = Path(root)
    if not root.exists():
        raise EvalkitError(f"VOT data root {root} does not exist")
    meta = suite_metadata(suite)
    layout, path = detect_layout(root, suite)
    names = list(meta["sequences"])
    short: list[ShortTags] = []
    sequences = _load_pysot(names, path, short) if layout == "pysot" else _load_folders(names, root, short)
    return Suite(suite, sequences, names, family=FAMILY, attribute_names=tag_names(),
                 source=f"{path} ({layout} layout)", notices=short_tags_notice(path, short))


ShortTags = tuple[str, str, int, int]  # sequence, tag, flags given, frames


def short_tags_notice(path: Path, short: list[ShortTags]) -> list[InputProblem]:
    """One line for every tag array shorter than its sequence, padded with 0 ("tag absent") as the toolkits do.

    The VOT2019 data's own .tag files stop early (graduate: 768 of 844 frames; shared/data/vot2019/PROVENANCE.md);
    the toolkits count the missing tail as tag absent, so this is a notice, not a problem.
    """
    if not short:
        return []
    by_seq: dict[tuple[str, int, int], list[str]] = {}
    for name, tag, given, n in short:
        by_seq.setdefault((name, given, n), []).append(tag)
    parts = [f"{name} ({', '.join(tags)}: {given} of {n})" for (name, given, n), tags in by_seq.items()]
    return [InputProblem(path, None, "tag arrays shorter than their sequence, padded with 0 (tag absent) as the VOT "
                                     "toolkits do: " + "; ".join(parts))]


def _load_folders(names: list[str], root: Path, short: list[ShortTags] | None = None) -> list[Sequence]:
    out = []
    tag_codes = list(tag_names())
    for name in names:
        with per_sequence(name):
            folder = root / name
            gt_path = folder / "groundtruth.txt"
            if not gt_path.is_file():
                continue
            regions = read_region_file(gt_path)
            n = len(regions)
            frames = _frame_paths(folder, n)
            tags = {}
            for tag in tag_codes:
                tag_path = next((p for ext in vot_metadata()["tag_files"] if (p := folder / f"{tag}{ext}").is_file()),
                                None)
                tags[tag] = read_tag_file(tag_path, n) if tag_path else np.zeros(n, dtype=bool)
                given = (len([line for line in read_input_text(tag_path).splitlines() if line.strip()]) if tag_path
                         else n)
                if given < n and short is not None:
                    short.append((name, tag, given, n))
            out.append(_sequence(name, regions, frames, tags, _folder_image_size(folder, frames)))
    return out


def _frame_paths(folder: Path, n: int) -> tuple[Path, ...] | None:
    for images in (folder / "color", folder):
        if (images / f"{1:0{_FRAME_DIGITS}d}.jpg").is_file():
            return tuple(images / f"{i:0{_FRAME_DIGITS}d}.jpg" for i in range(1, n + 1))
    return None


def _folder_image_size(folder: Path, frames: tuple[Path, ...] | None) -> tuple[int, int] | None:
    props_path = folder / "sequence"
    if props_path.is_file():
        props = read_properties(props_path)
        if "width" in props and "height" in props:
            try:
                return int(props["width"]), int(props["height"])
            except ValueError:
                raise InputFileError(props_path, None, f"width/height are not integers: {props['width']!r}, "
                                                       f"{props['height']!r}") from None
    return read_image_size(frames[0]) if frames else None


def _load_pysot(names: list[str], path: Path, short: list[ShortTags] | None = None) -> list[Sequence]:
    try:
        data = json.loads(read_input_text(path))
    except json.JSONDecodeError as exc:
        raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputFileError(path, None, "expected an object {sequence: {...}}")
    index = {canonical_key(k): v for k, v in data.items()}
    base = path.parent
    out = []
    for name in names:
        with per_sequence(name):
            item = index.get(canonical_key(name))
            if item is None:
                continue
            out.append(_pysot_sequence(name, item, path, base, short))
    return out


def _pysot_sequence(name: str, item: dict[str, Any], path: Path, base: Path,
                    short: list[ShortTags] | None = None) -> Sequence:
    rows = item.get("gt_rect")
    if not isinstance(rows, list) or not rows:
        raise InputFileError(path, None, f"{name}: no gt_rect list")
    try:
        values = [[float(v) for v in row] for row in rows]
    except (TypeError, ValueError):
        raise InputFileError(path, None, f"{name}: gt_rect holds a non-numeric value") from None
    bad = next((i for i, row in enumerate(values) if len(row) not in (4, 6, 8)), None)
    if bad is not None:
        raise InputFileError(path, None, f"{name}: gt_rect row {bad + 1} has {len(values[bad])} values; a region "
                                         f"has 4 (x,y,w,h) or 6 or 8 (polygon)")
    regions = pack_regions(values)
    n = len(regions)
    tags = {}
    for tag in tag_names():
        flags = np.zeros(n, dtype=bool)
        raw = item.get(tag) or []
        if len(raw) > n:
            raise InputFileError(path, None, f"{name}: {tag} has {len(raw)} flags for {n} frames")
        flags[: len(raw)] = np.asarray(raw, dtype=float) != 0
        tags[tag] = flags
        if 0 < len(raw) < n and short is not None:  # an empty array is a copy without tags (video_analyst's)
            short.append((name, tag, len(raw), n))
    img_names = item.get("img_names") or []
    if img_names and len(img_names) != n:
        raise InputFileError(path, None, f"{name}: {len(img_names)} img_names but {n} gt_rect rows")
    frames = tuple(base / p for p in img_names) if img_names else None
    if frames and not frames[0].is_file():
        frames = None
    width, height = item.get("width"), item.get("height")
    size = None
    if width is not None and height is not None:
        if not (_is_int(width) and _is_int(height)):
            raise InputFileError(path, None, f"{name}: width/height are not integers: {width!r}, {height!r}")
        size = (int(width), int(height))
    elif frames:
        size = read_image_size(frames[0])
    return _sequence(name, regions, frames, tags, size)


def _is_int(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
