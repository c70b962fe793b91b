"""UAV123 (``uav123``) and UAV20L (``uav20l``) in the official download or the UAV toolkit layout.

- official: ``<root>/anno/UAV123/<seq>.txt`` (or ``anno/UAV20L``), frames
  ``<root>/data_seq/UAV123/<folder>/NNNNNN.jpg``;
- toolkit: ``<root>/anno/<seq>.txt`` (UAV123 and UAV20L files side by side, as in ``../shared/data/uav123``).

NaN ground-truth rows mark frames where the target is absent; sub-sequences (``bird1_2``) are frame ranges of one
image folder, all from the versioned ``data/uav.json``.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.datasets.base import Sequence, Suite, find_file_ci, frame_paths, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "anno/UAV123/<seq>.txt and data_seq/UAV123/<folder>/000001.jpg (or the toolkit's anno/<seq>.txt)"
)


SUITES = ("uav123", "uav20l")


def load_uav(suite: str, root: Path) -> Suite:
    """Load UAV123 or UAV20L ground truth (and frames when present) from ``root``."""
    root = Path(root)
    if not root.exists():
        raise EvalkitError(f"UAV data root {root} does not exist")
    meta = package_data("uav.json")
    entries = meta["suites"][suite]
    version = "UAV123" if suite == "uav123" else "UAV20L"
    anno_dirs = [root / "anno" / version, root / "anno"]
    sequences = []
    for e in entries:
        with per_sequence(e["name"]):
            path = next((p for d in anno_dirs if (p := find_file_ci(d, e["name"] + ".txt")) is not None), None)
            if path is None:
                continue
            n = e["end_frame"] - e["start_frame"] + 1
            gt = read_box_file(path, expected_rows=n, cached=True)
            frames = frame_paths(root / "data_seq" / "UAV123" / e["folder"], e["start_frame"], e["end_frame"],
                                 e["digits"], e["ext"])
            sequences.append(Sequence(e["name"], gt, frames, frozenset(e["attributes"]), start_frame=e["start_frame"]))
    return Suite(suite, sequences, [e["name"] for e in entries], family="uav",
                 attribute_names=meta["attribute_names"], source=str(root))
