"""Build N perturbed LaSOT result sets (all 280 test sequences, from the toolkit's annotations) for timing
``evalkit score --suite lasot`` at scale.

    .venv/bin/python benchmarks/lasot_scale.py --out /tmp/lasot_scale --trackers 10
    /usr/bin/time -v .venv/bin/evalkit score --suite lasot --data-root ../shared/data/lasot/lasot_toolkit \\
        --results /tmp/lasot_scale --format json > /dev/null

Each tracker's boxes are the ground truth moved by Gaussian noise (its own scale), zero boxes on absent frames, a NaN
every 97th frame, a negative width every 89th, a lost stretch, and monkey-17 432 rows too long.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("EVALKIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/lasot_scale"))
    ap.add_argument("--trackers", type=int, default=10)
    ap.add_argument("--root", type=Path, default=SHARED / "data/lasot/lasot_toolkit")
    args = ap.parse_args()
    names = (args.root / "sequence_evaluation_config/testing_set.txt").read_text().split()
    started = time.perf_counter()
    annos = {n: np.loadtxt(args.root / "annos" / f"{n}.txt", delimiter=",", ndmin=2) for n in names}
    absent = {n: np.loadtxt(args.root / "annos/absent" / f"{n}.txt", ndmin=1) == 1 for n in names}
    for t in range(args.trackers):
        rng = np.random.default_rng(t)
        folder = args.out / f"Tracker{t:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(names):
            gt = annos[name]
            pred = gt + rng.normal(0, 1 + t, gt.shape)
            pred[absent[name]] = 0.0
            pred[5::97, 0] = np.nan
            pred[7::89, 2] = -5.0
            lost = slice(len(gt) // 2, len(gt) // 2 + len(gt) // (3 + (k + t) % 7))
            pred[lost, :2] += 300
            if name == "monkey-17":
                pred = np.vstack([pred, np.tile(pred[-1:], (432, 1))])
            np.savetxt(folder / f"{name}.txt", pred, fmt="%.2f", delimiter=",")
    frames = sum(len(a) for a in annos.values())
    print(f"{args.trackers} result sets x {len(names)} sequences ({frames} frames each) in {args.out}, "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
