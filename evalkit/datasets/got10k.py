"""GOT-10k validation (``got10k-val``) and test (``got10k-test``) splits in the download layout.

``<root>/val/list.txt`` (or ``<root>/list.txt`` when ``root`` is the split folder), ``<seq>/groundtruth.txt``,
``absence.label`` and ``<seq>/NNNNNNNN.jpg``. The test split publishes only the first box of each sequence:
it loads for running trackers, and scoring it is refused (its ground truth is withheld by the evaluation server).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.datasets.base import Sequence, Suite, per_sequence, read_box_file
from evalkit.errors import EvalkitError, InputFileError


def load_got10k(suite: str, root: Path) -> Suite:
    """Load a GOT-10k split (``got10k-val`` or ``got10k-test``) from ``root``."""
    split = suite.split("-", 1)[1]
    root = Path(root)
    split_dir = root / split if (root / split / "list.txt").is_file() else root
    list_file = split_dir / "list.txt"
    if not list_file.is_file():
        raise EvalkitError(f"GOT-10k {split}: no list.txt in {root} or {root / split}")
    names = [ln.strip() for ln in list_file.read_text().splitlines() if ln.strip()]
    sequences = []
    for name in names:
        with per_sequence(name):
            folder = split_dir / name
            gt_file = folder / "groundtruth.txt"
            if not gt_file.is_file():
                continue
            gt = read_box_file(gt_file)
            frames = tuple(sorted(folder.glob("*.jpg"))) or None
            if split == "test":
                frames_n = len(frames) if frames else len(gt)
                gt = np.vstack([gt[:1], np.full((max(frames_n - 1, 0), 4), np.nan)])
            elif frames is not None and len(frames) != len(gt):
                raise InputFileError(gt_file, None, f"{len(gt)} boxes but {len(frames)} frames")
            visible = None
            absence = folder / "absence.label"
            if absence.is_file() and split != "test":
                try:
                    flags = np.array([int(v) for v in absence.read_text().split()], dtype=bool)
                except ValueError:
                    raise InputFileError(absence, None, "expected one 0/1 flag per line") from None
                if len(flags) != len(gt):
                    raise InputFileError(absence, None, f"has {len(flags)} flags, expected {len(gt)} (one per frame)")
                visible = ~flags
            sequences.append(Sequence(name, gt, frames, target_visible=visible))
    withheld = ("the GOT-10k test split publishes only each sequence's first box; its results are scored by the "
                "GOT-10k evaluation server") if split == "test" else ""
    return Suite(suite, sequences, names, family="got10k", source=str(split_dir), withheld=withheld)
