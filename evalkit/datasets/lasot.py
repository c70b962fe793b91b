"""LaSOT (``lasot``, the 280-sequence test split) in its download layout.

``<root>/<class>/<class>-<k>/groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt`` and ``img/NNNNNNNN.jpg``
(``<root>/<class>-<k>/`` is accepted too). Frames where the target is fully occluded or out of view are marked
not visible; the metrics' profile decides how they count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.datasets.base import Sequence, Suite, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError, InputFileError


def _flags(path: Path, n: int) -> np.ndarray | None:
    if not path.is_file():
        return None
    values = [v for v in path.read_text().replace("\n", ",").split(",") if v.strip()]
    try:
        flags = np.array([int(float(v)) for v in values], dtype=bool)
    except ValueError:
        raise InputFileError(path, None, "expected comma-separated 0/1 flags") from None
    if len(flags) != n:
        raise InputFileError(path, None, f"has {len(flags)} flags, expected {n} (one per frame)")
    return flags


def load_lasot(suite: str, root: Path) -> Suite:
    """Load the LaSOT test split from ``root``; sequences not present are listed as missing."""
    root = Path(root)
    if not root.is_dir():
        raise EvalkitError(f"LaSOT data root {root} does not exist")
    names = package_data("lasot.json")["splits"]["test"]
    sequences = []
    for name in names:
        with per_sequence(name):
            cls = name.rsplit("-", 1)[0]
            folder = next((d for d in (root / cls / name, root / name) if d.is_dir()), None)
            if folder is None:
                continue
            gt = read_box_file(folder / "groundtruth.txt")
            n = len(gt)
            occluded = _flags(folder / "full_occlusion.txt", n)
            out_of_view = _flags(folder / "out_of_view.txt", n)
            visible = None
            if occluded is not None or out_of_view is not None:
                visible = ~((occluded if occluded is not None else False) | (out_of_view if out_of_view is not None
                                                                              else False))
                visible = np.broadcast_to(visible, (n,)).copy()
            img = folder / "img"
            frames = tuple(img / f"{i:08d}.jpg" for i in range(1, n + 1)) if img.is_dir() else None
            sequences.append(Sequence(name, gt, frames, frozenset({cls}), target_visible=visible))
    return Suite(suite, sequences, list(names), family="lasot", source=str(root))
