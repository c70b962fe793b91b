"""LaSOT (``lasot``, the 280-sequence test split), in its download layout or its evaluation toolkit's layout.

- download: ``<root>/<class>/<class>-<k>/groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt`` and
  ``img/NNNNNNNN.jpg`` (``<root>/<class>-<k>/`` is accepted too); frames where the target is fully occluded or out
  of view are marked not visible.
- LaSOT_Evaluation_Toolkit: ``<root>/annos/<seq>.txt`` (boxes, ``0,0,0,0`` where the target is absent),
  ``annos/absent/<seq>.txt`` (one 0/1 a line, 1 = absent) and ``annos/att/<seq>.txt`` (the 14 attribute flags in
  the toolkit's order, ``data/lasot.json``), as ``run_tracker_performance_evaluation.m`` reads them. Absent frames
  are marked not visible; the attributes feed ``--by-attribute``.

    >>> suite = load_lasot("lasot", Path("../shared/data/lasot/lasot_toolkit"))        # doctest: +SKIP
    >>> suite["monkey-17"].n_frames, sorted(suite["monkey-17"].attributes)[:3]          # doctest: +SKIP
    (2260, ['ARC', 'CM', 'DEF'])

The profile decides how not-visible frames count; with no ``--profile`` the suite is scored under its own toolkit's
rules (``default_profile`` in ``data/lasot.json``: ``lasot-toolkit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence, Suite, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError, InputFileError, read_input_text

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "<class>/<class>-<k>/groundtruth.txt and img/00000001.jpg (or the LaSOT toolkit's annos/)"
)


def lasot_metadata() -> dict[str, Any]:
    """``data/lasot.json``: the splits, the toolkit's 14 attributes (code -> name, in file order), default profile."""
    return package_data("lasot.json")


def _flags(path: Path, n: int | None) -> NDArray[np.bool_] | None:
    """Comma- or line-separated 0/1 flags; ``n`` (when given) is the count expected; None when the file is absent."""
    if not path.is_file():
        return None
    values = [v for v in read_input_text(path).replace("\n", ",").split(",") if v.strip()]
    try:
        flags = np.array([int(float(v)) for v in values], dtype=bool)
    except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise InputFileError(path, None, "expected comma-separated 0/1 flags") from None
    if n is not None and len(flags) != n:
        raise InputFileError(path, None, f"has {len(flags)} flags, expected {n} (one per frame)")
    return flags


def is_toolkit_layout(root: Path) -> bool:
    """True when ``root`` is a LaSOT_Evaluation_Toolkit folder (``annos/`` with ``absent/``)."""
    return (root / "annos").is_dir() and (root / "annos" / "absent").is_dir()


def load_lasot(suite: str, root: Path) -> Suite:
    """Load the LaSOT test split from ``root`` (either layout); sequences not present are listed as missing."""
    root = Path(root)
    if not root.is_dir():
        raise EvalkitError(f"LaSOT data root {root} does not exist")
    meta = lasot_metadata()
    names = meta["splits"]["test"]
    toolkit = is_toolkit_layout(root)
    load = _toolkit_sequence if toolkit else _download_sequence
    sequences = []
    for name in names:
        with per_sequence(name):
            seq = load(root, name)
            if seq is not None:
                sequences.append(seq)
    return Suite(suite, sequences, list(names), family="lasot",
                 attribute_names=dict(meta["attributes"]) if toolkit else {},
                 source=f"{root} ({'LaSOT toolkit' if toolkit else 'download'} layout)",
                 default_profile=meta.get("default_profile"))


def _download_sequence(root: Path, name: str) -> Sequence | None:
    cls = name.rsplit("-", 1)[0]
    folder = next((d for d in (root / cls / name, root / name) if d.is_dir()), None)
    if folder is None:
        return None
    gt = read_box_file(folder / "groundtruth.txt", cached=True)
    n = len(gt)
    occluded = _flags(folder / "full_occlusion.txt", n)
    out_of_view = _flags(folder / "out_of_view.txt", n)
    visible = None
    if occluded is not None or out_of_view is not None:
        hidden = np.zeros(n, dtype=bool)
        for flags in (occluded, out_of_view):
            if flags is not None:
                hidden |= flags
        visible = ~hidden
    img = folder / "img"
    frames = tuple(img / f"{i:08d}.jpg" for i in range(1, n + 1)) if img.is_dir() else None
    return Sequence(name, gt, frames, frozenset({cls}), target_visible=visible)


def _toolkit_sequence(root: Path, name: str) -> Sequence | None:
    annos = root / "annos"
    path = annos / f"{name}.txt"
    if not path.is_file():
        return None
    gt = read_box_file(path, cached=True)
    n = len(gt)
    absent = _flags(annos / "absent" / f"{name}.txt", n)
    codes = list(lasot_metadata()["attributes"])
    att_path = annos / "att" / f"{name}.txt"
    attributes = {name.rsplit("-", 1)[0]}
    att = _flags(att_path, None)
    if att is not None:
        if len(att) != len(codes):
            raise InputFileError(att_path, 1, f"has {len(att)} attribute flags, expected {len(codes)} "
                                              f"({', '.join(codes)})")
        attributes |= {code for code, on in zip(codes, att, strict=True) if on}
    return Sequence(name, gt, None, frozenset(attributes), target_visible=None if absent is None else ~absent)
