"""Baseline for benchmarks/cold_score.py: OTB-100 success AUC of every tracker in a folder of OTB-toolkit .mat files.

    .venv/bin/python benchmarks/naive_score.py ../shared/data/otb100/anno ../shared/data/results/otb100_cfnet_release

What a user would write without evalkit: ``scipy.io.loadmat`` of each file, run 1 (OPE) against the ground truth
(rows matched through ``startFrame - annoBegin``), the OTB toolkit's IoU (inclusive pixels), the 21-threshold success
curve (IoU > 0, 0.05, .., 1), its mean per sequence, the mean over sequences. Prints {tracker: AUC} as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy.io


def key(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def main(anno_dir: Path, results_dir: Path) -> dict[str, float]:
    # the toolkit's files separate by commas, tabs or spaces
    gts = {key(p.stem): np.loadtxt(p.read_text().replace(",", " ").splitlines(), ndmin=2)
           for p in anno_dir.glob("*.txt")}
    thresholds = np.linspace(0, 1, 21)
    aucs: dict[str, list[float]] = {}
    for path in sorted(results_dir.rglob("*.mat")):
        seq, _, tracker = path.stem.rpartition("_")
        run = np.atleast_1d(scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False,
                                             variable_names=["results"])["results"])[0]
        boxes = np.atleast_2d(np.asarray(run.res, dtype=np.float64))
        start = int(run.startFrame) - int(run.annoBegin)
        gt = gts[key(seq)][start:start + len(boxes)]
        boxes = boxes[:len(gt)]
        x1, y1 = np.maximum(boxes[:, 0], gt[:, 0]), np.maximum(boxes[:, 1], gt[:, 1])
        x2 = np.minimum(boxes[:, 0] + boxes[:, 2], gt[:, 0] + gt[:, 2])
        y2 = np.minimum(boxes[:, 1] + boxes[:, 3], gt[:, 1] + gt[:, 3])
        inter = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
        iou = inter / (boxes[:, 2] * boxes[:, 3] + gt[:, 2] * gt[:, 3] - inter)
        iou[~(gt > 0).all(axis=1)] = -1  # unannotated frames count as failures, as the toolkit's
        aucs.setdefault(tracker, []).append(float((iou[:, None] > thresholds).mean()))
    return {tracker: float(np.mean(v)) for tracker, v in sorted(aucs.items())}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), indent=1))
