"""How close to its bound a tracker could get if one part of its frame cost nothing: the ceiling of issue 12's figure.

    python benchmarks/speed_ceiling.py                      # cfnet-conv1 without its resizes, dcfnet without its LRN
    python benchmarks/speed_ceiling.py --frames 60 --rounds 3

``tracker_speed.py`` measures ``of bound`` = FPS / the FPS of the frame's convolutions and FFTs alone. This script
measures the same figure, alternately, for the real tracker and for the tracker with one stage replaced by a stub
that returns that stage's first output again (a copy, so the copy's cost stays in):

- ``cfnet-conv1``, ``cfnet``: ``scale_pyramid`` and ``imresize_maps_t`` -- the MATLAB-exact resizes of the search
  pyramid, the template and the response maps (``trackers.common.matlab_ops``);
- ``dcfnet``: the LRN's element-wise work after its band convolution (roots, products, window, the transpose to
  NCHW); the squares and the band convolution still run, so the bound is unchanged.

The tracks of a stubbed tracker are wrong (it sees the same crops every frame); only its time means anything: the
fraction it reaches is the most any implementation of that stage could give the tracker. Same frames, thread
count and memory settings as ``tracker_speed.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def _replaying(fn: Callable[..., Any], key: Callable[..., Any],
               copy: Callable[[Any], Any] = lambda a: a.copy()) -> Callable[..., Any]:
    """``fn`` that computes once per ``key(*args)``, then returns a ``copy`` of that result (numpy's by default)."""
    first: dict[Any, Any] = {}

    def stub(*args: Any, **kwargs: Any) -> Any:
        k = key(*args, **kwargs)
        if k not in first:
            first[k] = fn(*args, **kwargs)
        return copy(first[k])

    return stub


@contextmanager
def free_resizes() -> Iterator[None]:
    """CFNet's MATLAB resizes (crops and response maps) at the cost of a copy."""
    import trackers.cfnet.tracker as ct

    saved = ct.scale_pyramid, ct.imresize_maps_t
    ct.scale_pyramid = _replaying(saved[0], lambda image, pos, sides, side, avg, only=None: (side, only))
    ct.imresize_maps_t = _replaying(saved[1], lambda maps, scale: (maps.shape, scale))
    try:
        yield
    finally:
        ct.scale_pyramid, ct.imresize_maps_t = saved


@contextmanager
def free_lrn() -> Iterator[None]:
    """DCFNet's LRN element-wise work after the band convolution at the cost of a copy (squares and band still run)."""
    import torch

    from trackers.dcfnet.fused import FusedKernels

    real = FusedKernels.band_lrn_window
    replay = _replaying(real, lambda self, norm, x, window, squares=None: tuple(x.shape), torch.Tensor.clone)

    def stub(self: FusedKernels, norm: Any, x: torch.Tensor, window: Any, squares: Any = None) -> torch.Tensor:
        torch.nn.functional.conv2d(torch.mul(x, x, out=squares), norm.band, norm.k)  # the bound's layer still runs
        return replay(self, norm, x, window)

    FusedKernels.band_lrn_window = stub
    try:
        yield
    finally:
        FusedKernels.band_lrn_window = real


STUBS: dict[str, tuple[str, Callable[[], Any]]] = {
    "cfnet-conv1": ("resizes free", free_resizes),
    "cfnet": ("resizes free", free_resizes),
    "dcfnet": ("LRN element-wise free", free_lrn),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", default="cfnet-conv1,dcfnet", help=f"comma separated, of {', '.join(STUBS)}")
    parser.add_argument("--frames", type=int, default=40, help="timed frames per measurement (default 40)")
    parser.add_argument("--rounds", type=int, default=2, help="real / stubbed pairs per tracker (default 2)")
    args = parser.parse_args()
    os.environ.setdefault("EVALKIT_SHARED", str(REPO.parent / "shared"))

    import cv2
    import torch
    import tracker_speed as ts

    from evalkit.harness import keep_freed_memory

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    keep_freed_memory()
    frames, box, source = ts.load_frames(args.frames + 10)
    print(f"frames: {source}; one thread; of bound = FPS / (convolutions + FFTs alone), as tracker_speed.py")
    for name in args.trackers.split(","):
        if name not in STUBS:
            parser.error(f"no stub for {name!r}: one of {', '.join(STUBS)}")
        label, stub = STUBS[name]
        for _ in range(args.rounds):
            for stubbed in (False, True):
                tracker, weights = ts.build(name, {}, "cpu")
                with stub() if stubbed else nullcontext():
                    r = ts.measure(tracker, frames, box, args.frames, 5, "cpu", 60.0, 5)
                bound = r["conv_ms"] + r["fft_ms"]
                print(f"{name:12s} {weights:9s} {label if stubbed else 'real':22s} frame {r['frame_ms']:6.2f} ms  "
                      f"bound {bound:6.2f} ms  of bound {bound / r['frame_ms']:.2f} "
                      f"(chunk median {r['of_bound_chunks_median']:.2f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
