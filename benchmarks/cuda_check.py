"""The deep trackers and their training on CUDA, against the same code on the CPU, measured in one run.

    EVALKIT_WEIGHTS=../shared/weights python benchmarks/cuda_check.py --data-root ../shared/data/sequences \\
        --sequences Couple,Crossing,Football1 [--trackers siamfc,cfnet,dcfnet] [--train-steps 20]

For each tracker: run it through evalkit's harness on the sequences on ``cuda`` and on ``cpu`` (the same stored-run
path `evalkit run` uses), then print success AUC on both devices, the frame-by-frame agreement of the two devices'
boxes (mean IoU, sequences where they part), and the frames per second on each device (from the stored per-frame
times, initialisation excluded). Then a few optimiser steps of each training task on ``cuda`` (autocast and
GradScaler as the trainer uses them), printing the first and last loss. Exits 1 when CUDA is not available, so a run
on a machine without a GPU says so instead of measuring the CPU twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_TRACKERS = "siamfc,fdsiamfc30,fdsiamfc15,cfnet-conv1,cfnet,baseline-cf-conv3,dcfnet"
DEFAULT_TASKS = "siamfc,cfnet-conv2,dcfnet,dcffnet"


def track(trackers: list[str], root: str, sequences: list[str], store: Path, devices: tuple[str, str]) -> None:
    """Run every tracker on both devices and print AUC, device agreement and FPS."""
    from evalkit import api
    from evalkit.metrics.agreement import agreement_table
    from evalkit.results import read_store_set

    print(f"{'tracker':20s} {'AUC cuda':>9s} {'AUC cpu':>9s} {'IoU cuda/cpu':>13s} {'parted':>7s} "
          f"{'fps cuda':>9s} {'fps cpu':>8s}")
    for name in trackers:
        row = {}
        for device in devices:
            folder = store / name / device
            started = time.perf_counter()
            [report] = api.run([name], "otb100", data_root=root, sequences=sequences, results_dir=folder,
                               device=device, progress=False)
            wall = time.perf_counter() - started
            t = next(iter(report.trackers.values()))
            sets = [read_store_set(p) for p in (folder / "otb100" / "ope").glob("*@*")]
            times = [np.loadtxt(p, ndmin=1)[1:] for s in sets for p in Path(s.source).glob("*/ope.time.txt")]
            fps = 1.0 / float(np.mean(np.concatenate(times))) if times else float("nan")
            boxes = {seq: runs[0].boxes for s in sets for seq, runs in s.runs.items()}
            row[device] = (t.score.success_auc, fps, boxes, wall)
        a, b = (row[d] for d in devices)
        table = agreement_table({seq: (a[2][seq], b[2][seq]) for seq in a[2] if seq in b[2]})
        print(f"{name:20s} {a[0]:9.3f} {b[0]:9.3f} {table.mean_iou:13.4f} {len(table.parted):7d} {a[1]:9.1f} "
              f"{b[1]:8.1f}", flush=True)


def train(tasks: list[str], steps: int, out: Path) -> None:
    """A few optimiser steps of each training task on CUDA, from the demo suite."""
    from evalkit.cli import main
    from trackers.training.trainer import read_loss_log

    for task in tasks:
        target = out / task
        started = time.perf_counter()
        rc = main(["train", "--tracker", task, "--data", "demo", "--out", str(target), "--max-steps", str(steps)])
        rows = read_loss_log(target / "loss.csv") if (target / "loss.csv").is_file() else []
        first, last = (f"{rows[0]['loss']:.4f}", f"{rows[-1]['loss']:.4f}") if rows else ("-", "-")
        finite = all(np.isfinite(r["loss"]) for r in rows)
        print(f"train {task:14s} rc={rc} steps={len(rows)} loss first {first} last {last} all finite {finite} "
              f"({time.perf_counter() - started:.1f} s)", flush=True)


def main() -> int:
    """Parse the options, refuse without CUDA, then track and train."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--sequences", default="Couple,Crossing,Football1")
    parser.add_argument("--trackers", default=DEFAULT_TRACKERS)
    parser.add_argument("--tasks", default=DEFAULT_TASKS)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--cpu-twice", action="store_true", help="no GPU: run the plumbing on the CPU twice")
    args = parser.parse_args()
    devices = ("cpu", "cpu") if args.cpu_twice else ("cuda", "cpu")
    if not args.cpu_twice and not torch.cuda.is_available():
        print("cuda_check: CUDA is not available on this machine; nothing measured", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__} on "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.trackers:
            track(args.trackers.split(","), args.data_root, args.sequences.split(","), Path(tmp) / "runs", devices)
        if args.tasks and args.train_steps > 0:
            train(args.tasks.split(","), args.train_steps, Path(tmp) / "train")
    return 0


if __name__ == "__main__":
    sys.exit(main())
