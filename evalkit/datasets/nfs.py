"""Need for Speed (``nfs``, 30 fps version) in the layout pytracking converts it to:
``<root>/sequences/<name>/00001.jpg`` and ``<root>/anno/nfs_<name>.txt`` (x y w h, one row per frame, tab or comma
separated).

The 100 sequences, their frame counts, object classes and occlusion flags are the versioned ``data/nfs.json`` (from
pytracking's ``evaluation/nfsdataset.py``); ``--by-attribute`` gives the occlusion subset.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.datasets.base import Sequence, Suite, find_file_ci, frame_paths, package_data, per_sequence, read_box_file
from evalkit.errors import EvalkitError

LAYOUT = (  # what a data root holds (preflight and verify name it in their fixes)
    "anno/nfs_<name>.txt and sequences/<name>/00001.jpg (pytracking's NfS-30 layout)"
)


SUITE = "nfs"


def load_nfs(suite: str, root: Path) -> Suite:
    """Load NfS-30 ground truth (and frames when present) from ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise EvalkitError(f"NfS data root {root} does not exist")
    meta = package_data("nfs.json")
    sequences = []
    for e in meta["sequences"]:
        with per_sequence(e["name"]):
            path = find_file_ci(root / "anno", f"nfs_{e['name']}.txt")
            if path is None:
                continue
            gt = read_box_file(path, expected_rows=e["frames"], cached=True)
            frames = frame_paths(root / "sequences" / e["name"], 1, e["frames"], 5, "jpg")
            attributes = frozenset(code for code, flag in meta["attributes"].items() if e.get(flag))
            sequences.append(Sequence(e["name"], gt, frames, attributes=attributes))
    return Suite(suite, sequences, [e["name"] for e in meta["sequences"]], family="otb",
                 attribute_names=dict(meta["attributes"]), source=str(root))
