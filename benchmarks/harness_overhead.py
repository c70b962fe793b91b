"""Harness overhead per frame and the speed-up of parallel workers, measured against baselines in the same run.

    python benchmarks/harness_overhead.py [--suite demo] [--data-root PATH] [--repeats 3]

1. Overhead: a no-op tracker (returns its initial box) runs every sequence through ``evalkit.harness.run_spec``;
   the harness' own time per frame is the wall time minus the tracker's measured time, divided by the frames.
   Baseline printed beside it: decoding the same JPEGs with ``cv2.imread`` alone, single-threaded.
   Target: under 1 ms per frame for 320x240 frames.
2. Parallel speed-up: the same plan of CSRT runs (enough work to outweigh starting worker processes) executed with
   ``--workers 1`` and ``--workers 2`` (joblib loky processes), wall time ratio. Baseline: the one-worker run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evalkit.datasets import load_suite  # noqa: E402
from evalkit.harness import run_spec  # noqa: E402
from evalkit.protocols import expand  # noqa: E402
from evalkit.runner import TrackerSpec, execute, plan_jobs  # noqa: E402
from evalkit.store import ResultStore  # noqa: E402
from evalkit.tracker import Prediction, Tracker  # noqa: E402


class NoOp(Tracker):
    """Returns its initial box: the cheapest possible tracker, so everything measured is harness cost."""

    name = "noop"

    def initialize(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Remember the box."""
        self.box = box

    def update(self, frame: np.ndarray) -> Prediction:
        """Return the initial box."""
        return Prediction(self.box)


def overhead(suite: object, repeats: int) -> tuple[float, float, int, tuple[int, int]]:
    """Best-of-N harness ms/frame beyond the tracker, and plain decode ms/frame, frame count, frame size."""
    best_harness = best_decode = float("inf")
    frames = 0
    size = (0, 0)
    for _ in range(repeats):
        harness_s = tracker_s = 0.0
        frames = 0
        for seq in suite:  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            out = run_spec(NoOp(), seq, SimpleNamespace(label="ope", start=0))
            harness_s += time.perf_counter() - t0
            tracker_s += float(out.times.sum())
            frames += len(out.times)
        best_harness = min(best_harness, (harness_s - tracker_s) / frames * 1e3)
        t0 = time.perf_counter()
        for seq in suite:  # type: ignore[attr-defined]
            for p in seq.frames:
                img = cv2.imread(str(p))
                size = (img.shape[1], img.shape[0])
        best_decode = min(best_decode, (time.perf_counter() - t0) / frames * 1e3)
    return best_harness, best_decode, frames, size


def parallel_speedup(suite: object, data_root: str | None) -> tuple[float, float]:
    """Wall seconds of the same CSRT plan with one and with two worker processes."""
    walls = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            store = ResultStore(Path(tmp))
            plan = plan_jobs([TrackerSpec("csrt", "csrt")], [suite], "ope",  # type: ignore[list-item]
                             lambda seq, det: expand("ope", seq), store,
                             {suite.name: data_root}, None)  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            summary = execute(plan, workers=workers, progress=False)
            walls.append(time.perf_counter() - t0)
            assert not summary.failures, summary.failures
    return walls[0], walls[1]


def main() -> None:
    """Run both measurements and print them with their baselines and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="demo")
    ap.add_argument("--data-root", default=None, help="data root (demo: the cache, generated on first use)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    suite = load_suite(args.suite, args.data_root) if args.data_root or args.suite != "demo" else load_suite(
        "demo", None)  # type: ignore[arg-type]
    h, d, frames, size = overhead(suite, args.repeats)
    print(f"suite {args.suite}: {len(suite)} sequences, {frames} frames of {size[0]}x{size[1]}; best of {args.repeats}")
    print(f"{'measure':58s} {'ms/frame':>9s}")
    print(f"{'harness overhead beyond the tracker (no-op tracker)':58s} {h:9.3f}   target < 1 ms")
    print(f"{'baseline: cv2.imread of the same frames, one thread':58s} {d:9.3f}   ratio {h / d:.2f}x")
    w1, w2 = parallel_speedup(suite, args.data_root)
    print(f"{'CSRT plan, --workers 1 (baseline), wall s':58s} {w1:9.2f}")
    print(f"{'CSRT plan, --workers 2, wall s':58s} {w2:9.2f}   speed-up {w1 / w2:.2f}x")


if __name__ == "__main__":
    main()
