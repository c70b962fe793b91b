"""Model complexity of evalkit's deep trackers: parameters, size, FLOPs per tracking step, measured speed.

    from trackers.common.complexity import measure_tracker, record_ops, replay_ops

    c = measure_tracker(tracker, frames=30)           # a constructed tracker; it is loaded on c.device
    c.params, c.size_mib, c.gflops_step, c.gflops_crop, c.fps, c.device
    convs = record_ops(tracker.update, frame)         # the convolutions of one step, with copies of their inputs
    seconds = replay_ops(convs, repeats=10)           # ... run again alone: what they cost per 10 frames

    evalkit complexity --trackers fdsiamfc30,fdsiamfc15,siamfc --param siamfc.random_init=true

Conventions (stated in every output):

- **FLOPs** are counted by ``torch.utils.flop_counter.FlopCounterMode``: 2 per multiply-accumulate of convolutions
  and matrix products (so FLOPs = 2 x MACs); element-wise layers (bias, BatchNorm, ReLU, pooling), interpolation and
  FFTs are not counted. ``gflops_step`` is everything torch runs in one ``update()`` (all search scales, the head);
  ``gflops_crop`` is one search crop through the backbone (the FDSiamFC README's convention for its compression
  table), for trackers whose network has a ``backbone`` and an ``instance_size`` parameter.
- **Size** is the float32 parameters and floating buffers (BatchNorm statistics) in MiB (2**20 bytes); ``file_mib``
  is the size of the state dict saved in torch's legacy (non-zip) format, how the released FDSiamFC_15 file was saved.
  Both are of the network as loaded, before trackers fold BatchNorm into convolutions for speed (``fuse_bn``).
- **FPS** is ``update()`` calls per second on synthetic frames (a textured 480x640 image whose target patch moves a
  few pixels per frame) after warm-up, crops and post-processing included; the device is named with the result.
- **Convolution bound**: :func:`record_ops` records the convolutions (or any aten ops) that one ``update()`` runs,
  with copies of their inputs, and :func:`replay_ops` runs exactly those ops again: their time is what the network's
  convolutions alone cost per frame at the tracker's own shapes, memory layouts and algorithms, measured on the same
  machine at the same moment as the tracker (``benchmarks/tracker_speed.py`` interleaves the two).
"""

from __future__ import annotations

import io
import math
import platform
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FLOP_CONVENTION = ("FLOPs = 2 x multiply-accumulates of convolutions and matrix products "
                   "(torch.utils.flop_counter.FlopCounterMode); element-wise ops, interpolation and FFTs not counted")
SIZE_CONVENTION = "float32 parameters + floating buffers, MiB (2**20 bytes)"


@dataclass
class Complexity:
    """Measured complexity of one tracker."""

    tracker: str
    params: int
    buffers: int
    size_mib: float
    file_mib: float
    gflops_step: float
    gflops_init: float
    gflops_crop: float | None
    fps: float | None
    device: str
    frames: int

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly record (``model_size_mb`` and ``gflops`` are what ``evalkit table --measured`` reads)."""
        return {**asdict(self), "model_size_mb": self.size_mib, "size_convention": SIZE_CONVENTION,
                "flop_convention": FLOP_CONVENTION}


def device_name(device: str) -> str:
    """A readable name of a torch device: the GPU model, or the CPU model with the torch thread count."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    model = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"cpu ({model}, {torch.get_num_threads()} torch threads)"


def count_flops(fn: Any, *args: Any, **kwargs: Any) -> int:
    """FLOPs that ``fn(*args)`` runs, by torch's own counter (see the module docstring)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return int(counter.get_total_flops())


# aten names as a dispatch mode sees them: under inference_mode the composite ops (conv2d, fft_rfft2) arrive whole,
# under no_grad they arrive decomposed (convolution, _fft_r2c); either way each op is seen once.
CONV_OPS = ("conv1d", "conv2d", "conv3d", "convolution")
FFT_OPS = ("_fft_r2c", "_fft_c2r", "_fft_c2c", "fft_fft", "fft_ifft", "fft_rfft", "fft_irfft", "fft_fft2", "fft_ifft2",
           "fft_rfft2", "fft_irfft2", "fft_fftn", "fft_ifftn", "fft_rfftn", "fft_irfftn")


@dataclass
class RecordedOp:
    """One aten op as a tracker ran it: the overload and copies of its arguments (replayable any number of times)."""

    func: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self) -> Any:
        """Run the op again on the recorded inputs."""
        return self.func(*self.args, **self.kwargs)

    def signature(self) -> str:
        """The op and its tensor shapes, e.g. ``convolution(3x3x255x255, 96x3x11x11, 96)``."""
        import torch

        def show(a: Any) -> str:
            return "x".join(map(str, a.shape)) if isinstance(a, torch.Tensor) else repr(a)

        return f"{self.func.overloadpacket.__name__}({', '.join(show(a) for a in self.args[:2])})"


def record_ops(fn: Any, *args: Any, ops: tuple[str, ...] = CONV_OPS, **kwargs: Any) -> list[RecordedOp]:
    """Run ``fn(*args)`` once and return the aten ops named in ``ops`` that it ran, with copies of their inputs.

    Ops are matched by their aten name (:data:`CONV_OPS`: every convolution, grouped or not, and the correlations
    done as convolutions; :data:`FFT_OPS`: torch's FFTs). Inputs keep their strides (channels-last stays so).
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_map

    def copy(a: Any) -> Any:
        return a.detach().clone() if isinstance(a, torch.Tensor) else a

    calls: list[RecordedOp] = []

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, a: tuple[Any, ...] = (), kw: Any = None) -> Any:
            kw = kw or {}
            if func.overloadpacket.__name__ in ops:
                calls.append(RecordedOp(func, tree_map(copy, a), tree_map(copy, kw)))
            return func(*a, **kw)

    with Recorder():
        fn(*args, **kwargs)
    return calls


def replay_ops(calls: list[RecordedOp], repeats: int = 1, device: str = "cpu") -> float:
    """Seconds that ``repeats`` runs of the recorded ops take (no gradient; CUDA synchronised before and after).

    Each op runs ``repeats`` times in a row, so its inputs are in cache as they are in the network, where the layer
    before has just written them (run one after the other, each op would find its copied input evicted by the
    previous op's data: several MB per SiamFC layer).
    """
    import torch

    cuda = device.startswith("cuda")
    with torch.inference_mode():
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for call in calls:
            for _ in range(repeats):
                call.run()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - t0


@dataclass
class ProfileRow:
    """One function's share of a tracker's ``update()``: milliseconds and calls per frame (its own time, callees
    excluded), and whether it is a layer that the bound replays (a convolution or an FFT)."""

    function: str
    ms_per_frame: float
    calls_per_frame: float
    in_bound: bool


# torch's Python-level entry points of the ops the bound replays (cProfile sees builtins by these names)
_BOUND_BUILTINS = ("conv1d", "conv2d", "conv3d", "convolution", "conv_transpose2d", "_convolution") + tuple(
    f"fft_{k}" for k in ("fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
                         "irfftn"))


def _profile_label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":  # a builtin: "<built-in method torch.conv2d>", "<method 'float' of ... objects>"
        return name.strip("<>").replace("built-in method ", "")
    if "site-packages/" in filename:  # torch/nn/modules/conv.py
        filename = filename.split("site-packages/", 1)[1]
    else:
        for root in ("/trackers/", "/evalkit/", "/benchmarks/"):  # trackers/common/pool.py
            if root in filename:
                filename = filename[filename.rindex(root) + 1:]
                break
    return f"{filename}:{line}({name})"


def profile_updates(tracker: Any, frames: list[NDArray[np.uint8]]) -> tuple[list[ProfileRow], float]:
    """Run ``tracker.update`` on ``frames`` (an initialised tracker) under :mod:`cProfile`: each function's own time
    per frame, largest first, and the profiled frame's total milliseconds. cProfile adds about a microsecond to every
    Python call it sees, so the Python rows are a little high; C functions (the layers, OpenCV, numpy) are timed as
    they run."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for f in frames:
        tracker.update(f)
    profiler.disable()
    total_ms = 1e3 * (time.perf_counter() - t0) / max(len(frames), 1)
    n = max(len(frames), 1)
    rows = []
    for key, (_, calls, own, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        label = _profile_label(key)
        if "_lsprof.Profiler" in label:  # the profiler's own disable()
            continue
        bound = key[0] == "~" and label.rsplit(".", 1)[-1] in _BOUND_BUILTINS
        rows.append(ProfileRow(label, 1e3 * own / n, calls / n, bound))
    rows.sort(key=lambda r: -r.ms_per_frame)
    return rows, total_ms


def network_size(net: Any) -> tuple[int, int, float, float]:
    """Parameters, floating buffer values, MiB of both as float32, and MiB of the saved (legacy format) state dict."""
    import torch

    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for b in net.buffers() if b.dtype.is_floating_point)
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, buf, _use_new_zipfile_serialization=False)
    return params, buffers, (params + buffers) * 4 / 2**20, len(buf.getvalue()) / 2**20


def synthetic_frames(n: int, height: int = 480, width: int = 640, seed: int = 0) -> tuple[list[NDArray[np.uint8]],
                                                                                           NDArray[np.float64]]:
    """``n`` RGB frames of a blocky random texture with a distinct target patch drifting a few px per frame."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(height // 8, width // 8, 3), dtype=np.uint8)
    background = np.kron(small, np.ones((8, 8, 1), dtype=np.uint8))
    target = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    target = np.kron(target, np.ones((6, 6, 1), dtype=np.uint8))  # 72 x 96
    th, tw = target.shape[:2]
    frames = []
    x0, y0 = width / 2 - tw / 2, height / 2 - th / 2
    for i in range(n):
        f = background.copy()
        x, y = int(x0 + 3 * np.sin(i / 5) * 4), int(y0 + 2 * np.cos(i / 7) * 4)
        f[y:y + th, x:x + tw] = target
        frames.append(f)
    return frames, np.array([x0, y0, tw, th], dtype=np.float64)


def time_frames(tracker: Any, frames: list[NDArray[np.uint8]], device: str = "cpu",
                max_seconds: float = math.inf) -> tuple[float, int]:
    """Seconds that ``update()`` takes on ``frames`` in order (an initialised tracker), and the frames done.

    Stops early once at least 3 frames are done and ``max_seconds`` have passed; on CUDA the device is synchronised
    before and after.
    """
    import torch

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
    done, t0 = 0, time.perf_counter()
    for f in frames:
        tracker.update(f)
        done += 1
        if done >= 3 and time.perf_counter() - t0 > max_seconds:
            break
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0, done


def time_updates(tracker: Any, frames: list[NDArray[np.uint8]], box: NDArray[np.float64], n: int, warmup: int = 3,
                 device: str = "cpu", max_seconds: float = math.inf) -> tuple[float, int]:
    """Initialise on frame 0, run ``warmup`` updates, then time up to ``n`` updates: FPS and the frames timed.

    Timing stops early once at least 3 frames are timed and ``max_seconds`` have passed (:func:`time_frames`).
    """
    tracker.initialize(frames[0], box)
    for f in frames[1:1 + warmup]:
        tracker.update(f)
    seconds, done = time_frames(tracker, frames[1 + warmup:1 + warmup + n], device, max_seconds)
    return done / seconds, done


def measure_tracker(tracker: Any, device: str | None = None, frames: int = 30, warmup: int = 3,
                    time_it: bool = True) -> Complexity:
    """Load ``tracker`` on ``device`` and measure its size, FLOPs per ``update()`` and speed (module docstring)."""
    import torch

    from evalkit.harness import pick_device

    dev = pick_device(device)
    tracker.load(dev)
    net = getattr(tracker, "net", None)
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"{tracker.name}: no torch network in .net; complexity applies to deep trackers only")
    sized = net
    if getattr(tracker.params, "fuse_bn", False):  # size of the network as published, before BN is folded for speed
        twin = type(tracker)(tracker.params, fuse_bn=False)
        twin.load("cpu")
        sized = twin.net
    params, buffers, size_mib, file_mib = network_size(sized)
    seq, box = synthetic_frames(max(frames, 2) + warmup + 1)
    init_flops = count_flops(tracker.initialize, seq[0], box)
    tracker.initialize(seq[0], box)
    step_flops = count_flops(tracker.update, seq[1])
    crop_flops = None
    size = getattr(tracker.params, "instance_size", None)
    if size and hasattr(net, "backbone"):
        x = torch.zeros(1, 3, size, size, device=dev)
        crop_flops = count_flops(net.backbone, x)
    fps = time_updates(tracker, seq, box, frames, warmup, dev)[0] if time_it and frames > 0 else None
    return Complexity(tracker.name, params, buffers, size_mib, file_mib, step_flops / 1e9, init_flops / 1e9,
                      None if crop_flops is None else crop_flops / 1e9, fps, device_name(dev), frames if time_it else 0)
