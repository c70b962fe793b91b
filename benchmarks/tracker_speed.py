"""Speed of every registered deep tracker on this machine, as ratios to OpenCV's KCF measured in the same run.

    python benchmarks/tracker_speed.py                       # all deep trackers that load (untrained where needed)
    python benchmarks/tracker_speed.py --trackers siamfc,fdsiamfc30,fdsiamfc15 --frames 40 --threads 1
    python benchmarks/tracker_speed.py --device cuda --json speed.json

For each registered tracker with a torch network (``needs_device``): construct it with its defaults; if its weights
are not available (SiamFC, DCFFNet, CFNet: none published) use seeded untrained weights instead (``random_init=true``;
speed does not depend on the values; the table says which). DCFFNet's four ablation variants are measured
separately. Each tracker is initialised on frame 0 of a real OTB sequence (``$EVALKIT_SHARED/data/sequences``, else
synthetic frames), warmed up, then ``update()`` is timed over ``--frames`` frames (at least 3 and at most
``--max-seconds`` per tracker). Printed per tracker:

- FPS and the ratio to KCF (OpenCV contrib, its defaults) timed on the same frames in the same process, before and
  after the deep trackers (their mean is the baseline; the drift between the two is printed);
- GFLOPs per frame: everything torch counts in one ``update()`` (trackers.common.complexity conventions: 2 FLOPs per
  multiply-accumulate of convolutions/matrix products; FFTs, interpolation and element-wise ops not counted, so the
  FFT-based correlations of DCFFNet's fusion modules and head and of the DCF/CFNet layers are not in the count);
- the compute bound: measured float32 GEMM throughput (and SiamFC-like convolution throughput) / GFLOPs per frame,
  i.e. the FPS the counted work alone would allow; "of bound" = measured FPS / that bound.

Ends with the FDSiamFC_30 / SiamFC speed ratio (the authors report 2.2x on their GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def load_frames(n: int) -> tuple[list[np.ndarray], np.ndarray, str]:
    """``n`` RGB frames and the initial box of a real sequence (Crossing), else synthetic frames."""
    shared = Path(os.environ.get("EVALKIT_SHARED", REPO.parent / "shared"))
    seq = shared / "data" / "sequences" / "Crossing"
    if (seq / "img").is_dir():
        paths = sorted((seq / "img").glob("*.jpg"))
        frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths[:n]]
        box = np.loadtxt(seq / "groundtruth_rect.txt", max_rows=1).astype(np.float64)
        box[:2] -= 1  # OTB boxes are 1-based
        while len(frames) < n:
            frames += frames[-2:0:-1][: n - len(frames)]  # play back and forth when the sequence is short
        return frames, box, f"OTB Crossing ({frames[0].shape[1]}x{frames[0].shape[0]})"
    from trackers.common.complexity import synthetic_frames

    frames, box = synthetic_frames(n)
    return frames, box, "synthetic 640x480"


def candidates(names: list[str] | None) -> list[tuple[str, str, dict[str, str]]]:
    """(label, registered name, parameters) of every deep tracker to measure; DCFFNet once per variant."""
    from evalkit.registry import TRACKERS, tracker_class

    out = []
    for name in names or TRACKERS.names():
        cls = tracker_class(name)
        if not getattr(cls, "needs_device", False):
            continue
        if name == "dcffnet" and names is None:
            from trackers.dcffnet.network import VARIANTS

            out += [(f"dcffnet[{v}]", name, {"variant": v}) for v in VARIANTS]
        else:
            out.append((name, name, {}))
    return out


def build(name: str, params: dict[str, str], device: str) -> tuple[Any, str]:
    """A loaded tracker and which weights it runs with (released / given / untrained)."""
    from evalkit.registry import tracker_class
    from trackers.weights import WeightsError

    cls = tracker_class(name)
    tracker = cls.from_mapping(params)
    try:
        tracker.load(device)
        return tracker, "released" if getattr(cls, "catalog_name", None) else "given"
    except WeightsError:
        if "random_init" not in getattr(cls.Params, "__dataclass_fields__", {}):
            raise
        tracker = cls.from_mapping({**params, "random_init": "true"})
        tracker.load(device)
        return tracker, "untrained"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trackers", type=lambda s: [t for t in s.split(",") if t], help="default: all deep ones")
    parser.add_argument("--frames", type=int, default=40, help="timed frames per tracker (default 40)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time budget per tracker")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and OpenCV threads (default 1: stable on a shared machine; 2 threads on 2 "
                             "busy cores oversubscribe and measured 3-6x slower here)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import torch

    from trackers.classic import KCF
    from trackers.common.complexity import conv_throughput, count_flops, device_name, gemm_throughput, time_updates

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    frames, box, source = load_frames(args.frames + args.warmup + 2)
    gemm = gemm_throughput(device=args.device)
    conv = conv_throughput(device=args.device)
    kcf_before, _ = time_updates(KCF(), frames, box, args.frames, args.warmup, max_seconds=args.max_seconds)

    rows = []
    for label, name, params in candidates(args.trackers):
        try:
            tracker, weights = build(name, params, args.device)
        except Exception as exc:  # noqa: BLE001 - a tracker that cannot load is reported and skipped
            print(f"skip {label}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        tracker.initialize(frames[0], box)
        gflops = count_flops(tracker.update, frames[1]) / 1e9
        fps, n = time_updates(tracker, frames, box, args.frames, args.warmup, args.device, args.max_seconds)
        rows.append({"tracker": label, "weights": weights, "gflops_per_frame": gflops, "fps": fps, "frames": n})
        print(f"  {label}: {fps:.1f} FPS over {n} frames", file=sys.stderr)
        del tracker

    kcf_after, _ = time_updates(KCF(), frames, box, args.frames, args.warmup, max_seconds=args.max_seconds)
    kcf = (kcf_before + kcf_after) / 2
    for r in rows:
        r["ratio_to_kcf"] = r["fps"] / kcf
        r["bound_fps_gemm"] = gemm / r["gflops_per_frame"] if r["gflops_per_frame"] > 0 else None
        r["bound_fps_conv"] = conv / r["gflops_per_frame"] if r["gflops_per_frame"] > 0 else None

    print(f"device: {device_name(args.device)}; torch {torch.__version__}, {args.threads} thread(s); frames: {source}")
    print(f"measured throughput: float32 GEMM {gemm:.1f} GFLOP/s, SiamFC-like 3x3 convolution {conv:.1f} GFLOP/s")
    print(f"baseline: OpenCV KCF {kcf:.1f} FPS (before {kcf_before:.1f}, after {kcf_after:.1f})")
    print()
    head = (f"{'tracker':24s} {'weights':9s} {'GFLOPs/frame':>12s} {'FPS':>8s} {'x KCF':>7s} "
            f"{'bound(GEMM)':>11s} {'of bound':>8s} {'bound(conv)':>11s}")
    print(head)
    print("-" * len(head))
    for r in rows:
        bound = r["bound_fps_gemm"]
        print(f"{r['tracker']:24s} {r['weights']:9s} {r['gflops_per_frame']:12.3f} {r['fps']:8.1f} "
              f"{r['ratio_to_kcf']:7.3f} {bound or float('nan'):11.1f} "
              f"{(r['fps'] / bound if bound else float('nan')):8.2f} {r['bound_fps_conv'] or float('nan'):11.1f}")
    by = {r["tracker"]: r for r in rows}
    if "fdsiamfc30" in by and "siamfc" in by:
        print()
        print(f"FDSiamFC_30 / SiamFC speed on this device: {by['fdsiamfc30']['fps'] / by['siamfc']['fps']:.2f}x "
              f"(FLOPs ratio {by['siamfc']['gflops_per_frame'] / by['fdsiamfc30']['gflops_per_frame']:.1f}x; "
              f"the authors report 2.2x on their GPU)")
    if args.json:
        args.json.write_text(json.dumps({"device": device_name(args.device), "threads": args.threads,
                                         "frames_source": source, "gemm_gflops": gemm, "conv_gflops": conv,
                                         "kcf_fps": kcf, "kcf_fps_before": kcf_before, "kcf_fps_after": kcf_after,
                                         "trackers": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
