"""GOT-10k validation (``got10k-val``) and test (``got10k-test``) splits in the download layout.

``<root>/val/list.txt`` (or ``<root>/list.txt`` when ``root`` is the split folder), ``<seq>/groundtruth.txt``,
``absence.label`` and ``<seq>/NNNNNNNN.jpg``. The test split publishes only the first box of each sequence:
it loads for running trackers, and scoring it is refused (its ground truth is withheld by the evaluation server).

For GOT-10k's own AO / SR (:mod:`evalkit.scoring.got10k`) the validation split's two further files are read as
got10k-toolkit reads them (got10k/datasets/got10k.py ``_fetch_meta``, got10k/experiments/got10k.py ``report``):
``cover.label`` (0..8, one per frame; frames with 0 are left out of AO / SR) becomes the per-frame tag
``VISIBLE_TAG`` (cover > 0), and ``meta_info.ini``'s ``resolution: (W, H)`` becomes ``image_size``, the bound both
boxes are clipped to before the IoU. ``target_visible`` stays ``not absence.label`` for the OPE profiles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite, check_sequence_name, per_sequence, read_box_file
from evalkit.errors import EvalkitError, InputFileError, read_input_text

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "val/list.txt, <seq>/groundtruth.txt and <seq>/00000001.jpg"
)


VISIBLE_TAG = "visible"  # Sequence.tags key: cover.label > 0, the frames got10k's report scores


def read_labels(path: Path, n_frames: int) -> NDArray[np.int64]:
    """One integer label per frame (``absence.label``, ``cover.label``); errors name the file and line."""
    values = []
    for line_no, line in enumerate(read_input_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            values.append(int(float(line.strip())))
        except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
            raise InputFileError(path, line_no, f"expected one integer label, got {line.strip()!r}") from None
    if len(values) != n_frames:
        raise InputFileError(path, None, f"has {len(values)} labels, expected {n_frames} (one per frame)")
    return np.array(values, dtype=np.int64)


def read_resolution(meta_file: Path) -> tuple[int, int] | None:
    """``resolution: (W, H)`` of a ``meta_info.ini`` (a header line, then ``key: value`` lines); None without one."""
    for line_no, line in enumerate(read_input_text(meta_file).splitlines(), 1):
        key, sep, value = line.partition(": ")
        if sep and key.strip() == "resolution":
            parts = value.strip().strip("()[]").split(",")
            try:
                width, height = (int(float(v)) for v in parts)
            except (ValueError, OverflowError):
                raise InputFileError(meta_file, line_no, f"resolution should be (W, H), got {value.strip()!r}") \
                    from None
            return width, height
    return None


def load_got10k(suite: str, root: Path) -> Suite:
    """Load a GOT-10k split (``got10k-val`` or ``got10k-test``) from ``root``."""
    split = suite.split("-", 1)[1]
    root = Path(root)
    split_dir = root / split if (root / split / "list.txt").is_file() else root
    list_file = split_dir / "list.txt"
    if not list_file.is_file():
        raise EvalkitError(f"GOT-10k {split}: no list.txt in {root} or {root / split}")
    numbered = [(lineno, ln.strip()) for lineno, ln in enumerate(read_input_text(list_file).splitlines(), 1)
                if ln.strip()]
    names = [name for _, name in numbered]
    sequences = []
    for lineno, name in numbered:
        with per_sequence(name):
            check_sequence_name(name, list_file, lineno)  # before the name becomes a folder or a result path
            folder = split_dir / name
            gt_file = folder / "groundtruth.txt"
            if not gt_file.is_file():
                continue
            gt = read_box_file(gt_file, cached=True)
            frames = tuple(sorted(folder.glob("*.jpg"))) or None
            if split == "test":
                frames_n = len(frames) if frames else len(gt)
                gt = np.vstack([gt[:1], np.full((max(frames_n - 1, 0), 4), np.nan)])
            elif frames is not None and len(frames) != len(gt):
                raise InputFileError(gt_file, None, f"{len(gt)} boxes but {len(frames)} frames")
            visible = None
            absence = folder / "absence.label"
            if absence.is_file() and split != "test":
                visible = read_labels(absence, len(gt)) == 0
            tags = {}
            cover = folder / "cover.label"
            if cover.is_file() and split != "test":
                tags[VISIBLE_TAG] = read_labels(cover, len(gt)) > 0
            meta = folder / "meta_info.ini"
            size = read_resolution(meta) if meta.is_file() and split != "test" else None
            sequences.append(Sequence(name, gt, frames, target_visible=visible, tags=tags, image_size=size))
    withheld = ("the GOT-10k test split publishes only each sequence's first box; its results are scored by the "
                "GOT-10k evaluation server") if split == "test" else ""
    return Suite(suite, sequences, names, family="got10k", source=str(split_dir), withheld=withheld)
