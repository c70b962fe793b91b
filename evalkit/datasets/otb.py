"""OTB-2013 (``otb2013``), OTB-50 (``otb50``) and OTB-100 (``otb100``) from any of the three layouts in use.

- OTB MATLAB toolkit: ``<root>/anno/<seq>.txt`` covering frames startFrame..endFrame (``david.txt``: 300..770);
- the OTB dataset download: ``<root>/<Seq>/groundtruth_rect[.N].txt`` with ``<Seq>/img/NNNN.jpg``;
- pysot: ``<root>/OTB100.json`` (or the json file itself) with image folders beside it.

    >>> suite = load_otb("otb50", Path("../shared/data/otb100"))     # doctest: +SKIP

Frame ranges, initOmit, multi-target entries (Jogging-1/-2, Skating2-1/-2, Human4-2) and attributes come from the
versioned ``data/otb.json``, never from code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.datasets.base import Sequence, Suite, find_file_ci, frame_paths, package_data, per_sequence, read_box_file
from evalkit.datasets.names import canonical_key
from evalkit.errors import EvalkitError, InputFileError, read_input_text

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "<Seq>/groundtruth_rect.txt and <Seq>/img/0001.jpg (OTB dataset), anno/<seq>.txt and data/<Seq>/img "
    "(OTB toolkit), or OTB100.json (pysot)"
)


SUBSETS = ("otb2013", "otb50", "otb100")
_FRAME_NUMBER = re.compile(r"(\d+)\.\w+$")


def _entries(subset: str) -> list[dict[str, Any]]:
    meta = package_data("otb.json")
    if subset not in meta["subsets"]:
        raise EvalkitError(f"unknown OTB subset {subset!r}; known: {', '.join(meta['subsets'])}")
    wanted = {canonical_key(n) for n in meta["subsets"][subset]}
    return [e for e in meta["sequences"] if canonical_key(e["name"]) in wanted]


def _aliases(entry: dict[str, Any]) -> tuple[str, ...]:
    return (entry["toolkit_anno"], entry["folder"] if entry["gt_file"] == "groundtruth_rect.txt" else entry["name"])


def _sequence(entry: dict[str, Any], gt: np.ndarray, frames: tuple[Path, ...] | None, start: int) -> Sequence:
    return Sequence(
        name=entry["name"], ground_truth=gt, frames=frames, attributes=frozenset(entry["attributes"]),
        start_frame=start, init_omit=tuple((int(a), int(b)) for a, b in entry["init_omit"]),
        aliases=_aliases(entry),
    )


def detect_layout(root: Path) -> str:
    """``pysot``, ``toolkit`` or ``dataset``, from what is in ``root``."""
    if root.is_file() and root.suffix == ".json":
        return "pysot"
    if (root / "OTB100.json").is_file() or (root / "OTB2015.json").is_file():
        return "pysot"
    if (root / "anno").is_dir():
        return "toolkit"
    return "dataset"


def load_otb(subset: str, root: Path) -> Suite:
    """Load an OTB subset from ``root`` in whichever layout it is; sequences not on disk are listed as missing."""
    root = Path(root)
    if not root.exists():
        raise EvalkitError(f"OTB data root {root} does not exist")
    entries = _entries(subset)
    layout = detect_layout(root)
    loader = {"pysot": _load_pysot, "toolkit": _load_toolkit, "dataset": _load_dataset}[layout]
    sequences = loader(entries, root)
    meta = package_data("otb.json")
    return Suite(subset, sequences, [e["name"] for e in entries], family="otb",
                 attribute_names=meta["attribute_names"], source=f"{root} ({layout} layout)")


def _load_toolkit(entries: list[dict[str, Any]], root: Path) -> list[Sequence]:
    out = []
    anno = root / "anno"
    for e in entries:
        with per_sequence(e["name"]):
            path = find_file_ci(anno, e["toolkit_anno"] + ".txt")
            if path is None:
                continue
            n = e["end_frame"] - e["start_frame"] + 1
            gt = read_box_file(path, expected_rows=n, cached=True)
            frames = frame_paths(root / "data" / e["folder"] / "img", e["start_frame"], e["end_frame"], e["digits"],
                                 e["ext"])
            out.append(_sequence(e, gt, frames, e["start_frame"]))
    return out


def _load_dataset(entries: list[dict[str, Any]], root: Path) -> list[Sequence]:
    out = []
    for e in entries:
        with per_sequence(e["name"]):
            folder = root / e["folder"] if (root / e["folder"]).is_dir() else _find_dir_ci(root, e["folder"])
            if folder is None:
                continue
            path = find_file_ci(folder, e["gt_file"])
            if path is None and e["gt_file"] == "groundtruth_rect.1.txt":
                path = find_file_ci(folder, "groundtruth_rect.txt")
            if path is None:  # e.g. only groundtruth_rect.1.txt of a two-target folder: the other entry is missing
                continue
            n = e["end_frame"] - e["start_frame"] + 1
            gt = read_box_file(path, expected_rows=n, cached=True)
            frames = frame_paths(folder / "img", e["start_frame"], e["end_frame"], e["digits"], e["ext"])
            out.append(_sequence(e, gt, frames, e["start_frame"]))
    return out


def _find_dir_ci(root: Path, name: str) -> Path | None:
    low = name.lower()
    for p in root.iterdir():
        if p.is_dir() and p.name.lower() == low:
            return p
    return None


def _load_pysot(entries: list[dict[str, Any]], root: Path) -> list[Sequence]:
    path = root if root.is_file() else (root / "OTB100.json" if (root / "OTB100.json").is_file()
                                        else root / "OTB2015.json")
    base = path.parent
    try:
        data = json.loads(read_input_text(path))
    except json.JSONDecodeError as exc:
        raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None
    index = {canonical_key(k): v for k, v in data.items()}
    out = []
    for e in entries:
        with per_sequence(e["name"]):
            item = index.get(canonical_key(e["name"]))
            if item is None:
                continue
            gt = np.asarray(item["gt_rect"], dtype=np.float64).reshape(-1, 4)
            names = item.get("img_names") or []
            if len(names) != len(gt):
                raise InputFileError(path, None, f"{e['name']}: {len(names)} img_names but {len(gt)} gt_rect rows")
            m = _FRAME_NUMBER.search(names[0]) if names else None
            start = int(m.group(1)) if m else e["start_frame"]
            frames = tuple(base / n for n in names)
            has_frames = frames and frames[0].is_file()
            out.append(_sequence(e, gt, frames if has_frames else None, start))
    return out
