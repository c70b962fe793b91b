"""Training pairs from video datasets: GOT-10k, ILSVRC-VID, LaSOT layouts, and any evalkit suite with frames (demo).

    sampler = open_pairs("demo")                          # evalkit's generated demo suite (no download)
    sampler = open_pairs("got10k:/data/GOT-10k")          # <root>/train/<seq>/{00000001.jpg, groundtruth.txt}
    sampler = open_pairs("vid:/data/ILSVRC2015")          # <root>/Data/VID/train, <root>/Annotations/VID/train
    sampler = open_pairs("lasot:/data/LaSOT")             # <root>/<class>/<class>-N/{img/, groundtruth.txt}
    sampler = open_pairs("suite:otb100:/data/otb")        # any suite evalkit loads, with frames on disk
    pair = sampler.sample(np.random.default_rng(0), max_gap=100)   # two RGB frames of one target, <= 100 apart

Boxes are 0-based x, y, w, h floats. A track is one target in one video; frames where the target is absent, fully
occluded or out of view are never sampled. Sampling is uniform over tracks, then over a track's valid frames, then
over valid frames at most ``max_gap`` away (SiamFC/CFNet practice). ILSVRC-VID's XML annotations are indexed once
(with a progress bar) into ``<cache>/training-index/`` so later runs start at once.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError, InputFileError


@dataclass(frozen=True)
class Pair:
    """Two frames of the same target: exemplar (``image_a``, ``box_a``) and search (``image_b``, ``box_b``)."""

    image_a: NDArray[np.uint8]
    box_a: NDArray[np.float64]
    image_b: NDArray[np.uint8]
    box_b: NDArray[np.float64]
    source: str = ""


@dataclass(frozen=True)
class Track:
    """One target in one video: frame files, 0-based boxes, and which frames may be sampled."""

    name: str
    frames: tuple[Path, ...]
    boxes: NDArray[np.float64]
    valid: NDArray[np.bool_]


def _valid_boxes(boxes: NDArray[np.float64], extra: NDArray[np.bool_] | None = None) -> NDArray[np.bool_]:
    ok = np.all(np.isfinite(boxes), axis=1) & (boxes[:, 2] > 1) & (boxes[:, 3] > 1)
    return ok if extra is None else ok & extra


def read_image(path: Path) -> NDArray[np.uint8]:
    """An RGB uint8 frame; an unreadable file is an error naming it."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputFileError(path, None, "cannot be decoded as an image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class PairSampler:
    """Random pairs from a list of tracks (see the module docstring)."""

    def __init__(self, tracks: list[Track], description: str) -> None:
        tracks = [t for t in tracks if int(t.valid.sum()) >= 2]
        if not tracks:
            raise EvalkitError(f"{description}: no track has two frames with a visible target")
        self.tracks = tracks
        self.description = description

    def __len__(self) -> int:
        return len(self.tracks)

    def n_frames(self) -> int:
        """Sampleable frames over all tracks."""
        return int(sum(int(t.valid.sum()) for t in self.tracks))

    def sample_indices(self, rng: np.random.Generator, max_gap: int) -> tuple[Track, int, int]:
        """A track and two valid frame indices at most ``max_gap`` apart (possibly equal only if nothing else fits)."""
        track = self.tracks[int(rng.integers(len(self.tracks)))]
        idx = np.flatnonzero(track.valid)
        i = int(idx[int(rng.integers(len(idx)))])
        near = idx[(np.abs(idx - i) <= max_gap) & (idx != i)]
        j = int(near[int(rng.integers(len(near)))]) if len(near) else i
        return track, i, j

    def sample(self, rng: np.random.Generator, max_gap: int = 100) -> Pair:
        """A random pair (frames decoded to RGB)."""
        track, i, j = self.sample_indices(rng, max_gap)
        return Pair(read_image(track.frames[i]), track.boxes[i].copy(), read_image(track.frames[j]),
                    track.boxes[j].copy(), source=f"{track.name}:{i}-{j}")


def _read_rows(path: Path, n_cols: int = 4) -> NDArray[np.float64]:
    """Numeric rows separated by commas, tabs or spaces; a bad row is an error naming the file and line."""
    rows: list[list[float]] = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        parts = text.replace(",", " ").replace("\t", " ").split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise InputFileError(path, lineno, f"expected {n_cols} numbers, got {text!r}") from None
        if len(values) != n_cols:
            raise InputFileError(path, lineno, f"expected {n_cols} numbers, got {len(values)}")
        rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(-1, n_cols)


def _read_flags(path: Path, n: int) -> NDArray[np.bool_] | None:
    if not path.is_file():
        return None
    text = path.read_text().replace(",", " ").split()
    flags = np.asarray([int(float(v)) for v in text], dtype=bool)
    if len(flags) != n:
        raise InputFileError(path, None, f"has {len(flags)} flags for {n} frames")
    return flags


def _images(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")))


def _check_lengths(gt: Path, frames: tuple[Path, ...], boxes: NDArray[np.float64]) -> None:
    if len(frames) < len(boxes):
        raise InputFileError(gt, None, f"{len(boxes)} boxes but only {len(frames)} frames in {gt.parent}")


def got10k_tracks(root: Path) -> list[Track]:
    """GOT-10k layout: ``<root>[/train]/<seq>/`` with ``groundtruth.txt`` (x,y,w,h) and ``absence.label``."""
    base = root / "train" if (root / "train").is_dir() else root
    listing = base / "list.txt"
    names = ([n.strip() for n in listing.read_text().splitlines() if n.strip()] if listing.is_file()
             else sorted(p.name for p in base.iterdir() if (p / "groundtruth.txt").is_file()))
    tracks = []
    for name in names:
        folder = base / name
        gt = folder / "groundtruth.txt"
        if not gt.is_file():
            raise InputFileError(gt, None, "missing (listed in list.txt)" if listing.is_file() else "missing")
        boxes = _read_rows(gt)
        frames = _images(folder)
        _check_lengths(gt, frames, boxes)
        absent = _read_flags(folder / "absence.label", len(boxes))
        tracks.append(Track(name, frames[:len(boxes)], boxes, _valid_boxes(boxes, None if absent is None else ~absent)))
    return tracks


def lasot_tracks(root: Path, names: list[str] | None = None) -> list[Track]:
    """LaSOT layout: ``<root>/<class>/<class>-N/`` with ``img/``, ``groundtruth.txt`` (1-based), occlusion flags."""
    folders = sorted(p.parent for p in root.glob("*/*/groundtruth.txt"))
    if names is not None:
        wanted = set(names)
        folders = [f for f in folders if f.name in wanted]
    tracks = []
    for folder in folders:
        gt = folder / "groundtruth.txt"
        boxes = _read_rows(gt)
        boxes[:, :2] -= 1.0
        frames = _images(folder / "img")
        _check_lengths(gt, frames, boxes)
        ok = np.ones(len(boxes), dtype=bool)
        for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
            flags = _read_flags(folder / flag_file, len(boxes))
            if flags is not None:
                ok &= ~flags
        tracks.append(Track(folder.name, frames[:len(boxes)], boxes, _valid_boxes(boxes, ok)))
    return tracks


def _index_cache(root: Path) -> Path:
    from evalkit.config import load_config

    cache = Path(load_config().cache).expanduser()  # $EVALKIT_CACHE overrides evalkit.toml inside load_config
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache / "training-index" / f"vid-{key}.json"


def vid_tracks(root: Path, split: str = "train") -> list[Track]:
    """ILSVRC-VID layout: ``Data/VID/<split>/**/<frame>.JPEG`` with ``Annotations/VID/<split>/**/<frame>.xml``."""
    data = root / "Data" / "VID" / split
    ann = root / "Annotations" / "VID" / split
    if not data.is_dir() or not ann.is_dir():
        raise EvalkitError(f"{root}: not an ILSVRC-VID folder (expected Data/VID/{split} and Annotations/VID/{split})")
    index_path = _index_cache(root)
    if index_path.is_file():
        index = json.loads(index_path.read_text())
    else:
        from tqdm import tqdm

        index = {}
        snippets = sorted({p.parent for p in ann.rglob("*.xml")})
        for snip in tqdm(snippets, desc="indexing ILSVRC-VID annotations", unit="video"):
            rel = str(snip.relative_to(ann))
            objects: dict[str, dict[int, list[float]]] = {}
            xmls = sorted(snip.glob("*.xml"))
            for k, xml in enumerate(xmls):
                try:
                    tree = ET.parse(xml)
                except ET.ParseError as exc:
                    raise InputFileError(xml, None, f"malformed XML ({exc})") from None
                for obj in tree.getroot().iter("object"):
                    tid = obj.findtext("trackid", "0")
                    bb = obj.find("bndbox")
                    if bb is None:
                        continue
                    x0, x1 = float(bb.findtext("xmin", "0")), float(bb.findtext("xmax", "0"))
                    y0, y1 = float(bb.findtext("ymin", "0")), float(bb.findtext("ymax", "0"))
                    objects.setdefault(tid, {})[k] = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
            index[rel] = {"n": len(xmls), "objects": {t: {str(k): v for k, v in o.items()} for t, o in objects.items()}}
        from evalkit.io import atomic_write_text

        atomic_write_text(index_path, json.dumps(index))
    tracks = []
    for rel, entry in index.items():
        frames = tuple(sorted((data / rel).glob("*.JPEG")))
        n = int(entry["n"])
        if len(frames) < n:
            raise EvalkitError(f"{data / rel}: {len(frames)} frames but {n} annotation files")
        for tid, boxes_by_frame in entry["objects"].items():
            boxes = np.full((n, 4), np.nan)
            for k, b in boxes_by_frame.items():
                boxes[int(k)] = b
            tracks.append(Track(f"{rel}#{tid}", frames[:n], boxes, _valid_boxes(boxes)))
    return tracks


def suite_tracks(name: str, root: Path | None) -> list[Track]:
    """Tracks from any evalkit suite whose sequences have frames on disk (``demo`` is generated on first use)."""
    from evalkit.datasets import load_suite

    suite = load_suite(name, root)
    tracks = []
    for seq in suite:
        if seq.frames is None:
            raise EvalkitError(f"suite {name}: sequence {seq.name} has no frames on disk, so it cannot be trained on")
        boxes = np.asarray(seq.ground_truth, dtype=np.float64).copy()
        boxes[:, :2] -= 1.0  # evalkit ground truth is 1-based (OTB); training works in 0-based pixels
        tracks.append(Track(seq.name, tuple(seq.frames), boxes, _valid_boxes(boxes, seq.target_visible)))
    return tracks


LAYOUTS = ("got10k", "vid", "lasot", "suite", "demo")


def open_pairs(spec: str) -> PairSampler:
    """A sampler for ``SPEC``: ``demo``, ``got10k:PATH``, ``vid:PATH``, ``lasot:PATH`` or ``suite:NAME[:PATH]``."""
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind == "demo":
        return PairSampler(suite_tracks("demo", Path(rest) if rest else None), "demo suite")
    if kind == "suite":
        name, _, path = rest.partition(":")
        if not name:
            raise EvalkitError(f"--data {spec!r}: expected suite:NAME[:PATH]")
        return PairSampler(suite_tracks(name, Path(path) if path else None), f"suite {name}")
    if kind not in LAYOUTS or not rest:
        raise EvalkitError(f"--data {spec!r}: expected demo, got10k:PATH, vid:PATH, lasot:PATH or suite:NAME[:PATH]")
    root = Path(rest).expanduser()
    if not root.is_dir():
        raise EvalkitError(f"--data {spec!r}: {root} is not a folder")
    loaders = {"got10k": got10k_tracks, "vid": vid_tracks, "lasot": lasot_tracks}
    return PairSampler(loaders[kind](root), f"{kind} at {root}")
