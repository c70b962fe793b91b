"""Temple Color 128 (``tc128``) in its download layout: ``<root>/<Seq>/<Seq>_gt.txt`` and ``<Seq>/img/NNNN.jpg``.

The frame range of each sequence comes from the versioned ``data/tc128.json`` (the benchmark's configSeqs);
``<Seq>_frames.txt`` is not needed.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.datasets.base import Sequence, Suite, find_file_ci, frame_paths, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "<Seq>/<Seq>_gt.txt and <Seq>/img/0001.jpg"
)


def load_tc128(suite: str, root: Path) -> Suite:
    """Load TColor-128 ground truth (and frames when present) from ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise EvalkitError(f"TColor-128 data root {root} does not exist")
    entries = package_data("tc128.json")["sequences"]
    sequences = []
    for e in entries:
        with per_sequence(e["name"]):
            folder = root / e["folder"]
            path = find_file_ci(folder, f"{e['folder']}_gt.txt")
            if path is None:
                continue
            n = e["end_frame"] - e["start_frame"] + 1
            gt = read_box_file(path, expected_rows=n, cached=True)
            frames = frame_paths(folder / "img", e["start_frame"], e["end_frame"], e["digits"], e["ext"])
            sequences.append(Sequence(e["name"], gt, frames, start_frame=e["start_frame"]))
    return Suite(suite, sequences, [e["name"] for e in entries], family="otb", source=str(root))
