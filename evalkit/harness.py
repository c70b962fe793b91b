"""The harness: drives a tracker through one run spec, times it, catches its failures, and stores the result.

    outcome = run_spec(tracker, seq, spec)            # one run: boxes, per-frame times, or the error
    summary = execute(jobs, store, keep_going=True)   # many runs, resumable, in parallel with joblib

Trackers never read files or time themselves (got10k's ``Tracker.track``, pytracking's ``BaseTracker``). The harness
decodes frames in a background thread, converts the benchmark's boxes to the tracker's 0-based coordinates and back,
times ``initialize`` and ``update`` separately, and turns a tracker exception or a NaN box into a recorded failure
with its traceback, so one bad run never costs the others.

VOT supervised runs re-initialise the tracker ``skip_after_failure`` frames after a failure (overlap <= the failure
threshold with the ground truth) and are stored in the VOT result format (``1`` init, ``2`` failure, ``0`` skipped,
else the box: :class:`evalkit.geometry.region.VotCode`).
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit.datasets.base import Sequence
from evalkit.errors import EvalkitError
from evalkit.frames import FrameError, PrefetchingReader
from evalkit.geometry.region import VotCode, region_overlap
from evalkit.tracker import Prediction, Tracker


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else ``cuda`` when torch sees a GPU, else ``cpu`` (also when torch is not installed)."""
    if device:
        return device
    try:
        import torch  # only here: scoring installs (no torch) still run weightless trackers on "cpu"
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def keep_freed_memory() -> bool:
    """Let this process's allocator keep freed memory for the next frame instead of handing it back to the system
    (once per process; False where the C library is not glibc, whose defaults stay).

    A deep tracker allocates the same large arrays every frame (activations of several MB). glibc serves blocks above
    its dynamic mmap threshold with fresh mappings and trims its heap whenever more than twice that threshold is free
    at the top, so each frame faults its memory in again: DCFNet alone in a process spent 15-20 ms of its 60-80 ms
    frames in page faults here (5,800 a frame), FDSiamFC_15 5 ms of 23. Blocks up to 32 MB (glibc's largest mmap
    threshold) then come from the heap and up to 1 GB of free heap is kept; larger blocks are mapped as before. The
    process keeps its peak heap resident, which a tracking worker reuses every frame anyway.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
            return False
        m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
        return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))
    except OSError:
        return False


class TrackerFailure(EvalkitError):
    """The tracker raised, or returned an unusable box; carries the frame index and the traceback text."""

    def __init__(self, message: str, frame: int | None, trace: str) -> None:
        self.frame = frame
        self.trace = trace
        super().__init__(message)


@dataclass
class RunOutcome:
    """The result of one run spec: boxes (benchmark coordinates) or VOT lines, times, or the failure."""

    sequence: str
    label: str
    status: str
    boxes: NDArray[np.float64] | None = None
    vot_lines: list[str] | None = None
    times: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    start_frame: int | None = None
    error: str | None = None
    trace: str | None = None
    done_elsewhere: bool = False  # another evalkit process on the same store finished this run meanwhile

    @property
    def fps(self) -> float:
        """Frames per second of the tracker's own time (initialize + updates)."""
        total = float(self.times.sum())
        return len(self.times) / total if total > 0 else float("nan")


def _spec(spec: Any, name: str, default: Any = None) -> Any:
    return getattr(spec, name, default)


def _frame_order(spec: Any, n_frames: int) -> list[int]:
    start = int(_spec(spec, "start", 0))
    direction = int(_spec(spec, "direction", 1))
    end = _spec(spec, "end", None)
    if direction >= 0:
        stop = n_frames if end is None else int(end)
        return list(range(start, stop))
    stop = -1 if end is None else int(end)
    return list(range(start, stop, -1))


def _box(pred: Any, frame: int, path: Any) -> NDArray[np.float64]:
    """The box of what ``update`` returned (a Prediction, 4 numbers, a (box, score) pair), else a failure."""
    try:
        box = Prediction.coerce(pred).box
    except ValueError as exc:
        raise TrackerFailure(f"tracker {exc} at frame {frame} ({path})", frame, "") from None
    if not np.isfinite(box).all():
        raise TrackerFailure(f"tracker returned an unusable box {box.tolist()} at frame {frame} ({path})", frame, "")
    return box


FrameHook = Callable[[int], None]  # called with the frame index before each initialize / update (timeouts)


def _call(fn: Callable[[], Any], frame: int, what: str, hook: FrameHook | None = None) -> tuple[Any, float]:
    if hook is not None:
        hook(frame)
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # the tracker's own failure: recorded with its traceback, never fatal to other runs
        raise TrackerFailure(f"tracker raised in {what} at frame {frame}: {type(exc).__name__}: {exc}", frame,
                             traceback.format_exc()) from exc
    except SystemExit as exc:  # sys.exit() in a tracker ends its run, not evalkit (KeyboardInterrupt still does)
        raise TrackerFailure(f"tracker called sys.exit({exc.code!r}) in {what} at frame {frame}", frame,
                             traceback.format_exc()) from None
    return out, time.perf_counter() - t0


def run_spec(tracker: Tracker, seq: Sequence, spec: Any, origin: float = 1.0,
             hook: FrameHook | None = None) -> RunOutcome:
    """Run ``tracker`` through one run spec of ``seq``; failures are returned, not raised.

    ``origin`` is the benchmark's pixel origin (1 for OTB-style 1-based boxes): trackers always see 0-based boxes.
    ``hook`` is called with the frame index before each tracker call (the runner's time limits watch it).
    """
    label = str(_spec(spec, "label", "ope"))
    if seq.frames is None:
        return RunOutcome(seq.name, label, "failed", error=f"{seq.name}: no frames on disk (only ground truth)")
    order = _frame_order(spec, seq.n_frames)
    offset = np.array([origin, origin, 0.0, 0.0])
    try:
        if _spec(spec, "protocol", "ope") == "vot-supervised":
            return _run_supervised(tracker, seq, spec, order, offset, label, hook)
        return _run_boxes(tracker, seq, spec, order, offset, label, hook)
    except FrameError as exc:
        return RunOutcome(seq.name, label, "failed", error=str(exc))
    except TrackerFailure as exc:
        return RunOutcome(seq.name, label, "failed", error=str(exc), trace=exc.trace)


def _run_boxes(tracker: Tracker, seq: Sequence, spec: Any, order: list[int], offset: NDArray[np.float64],
               label: str, hook: FrameHook | None) -> RunOutcome:
    init = _spec(spec, "init_box", None)
    init_box = np.asarray(seq.ground_truth[order[0]] if init is None else init, dtype=np.float64)
    boxes = np.empty((len(order), 4))
    times = np.empty(len(order))
    assert seq.frames is not None
    with PrefetchingReader(seq.frames, order) as frames:
        for k, (i, image) in enumerate(frames):
            if k == 0:
                _, times[0] = _call(lambda image=image: tracker.initialize(image, init_box - offset), i, "initialize",
                                    hook)
                boxes[0] = init_box
                continue
            pred, times[k] = _call(lambda image=image: tracker.update(image), i, "update", hook)
            boxes[k] = _box(pred, i, seq.frames[i]) + offset
    if _spec(spec, "direction", 1) < 0:  # store in frame order
        boxes, times = boxes[::-1], times[::-1]
    first = min(order)
    return RunOutcome(seq.name, label, "ok", boxes=boxes, times=times, start_frame=seq.frame_number(first))


def _run_supervised(tracker: Tracker, seq: Sequence, spec: Any, order: list[int], offset: NDArray[np.float64],
                    label: str, hook: FrameHook | None) -> RunOutcome:
    skip = int(_spec(spec, "skip_after_failure", 5))
    threshold = float(_spec(spec, "failure_overlap", 0.0))
    lines: list[str] = []
    times = np.zeros(len(order))
    gt = seq.ground_truth
    # The failure test uses the VOT overlap: the ground-truth polygon (not its bounding box), rasterised within the
    # image, exactly as the scoring does; the tracker is (re-)initialised on the polygon's axis-aligned box.
    regions = seq.region_rows
    bounds = np.asarray(seq.image_size, dtype=np.float64) if seq.image_size is not None else None
    resume_at = order[0]
    assert seq.frames is not None
    with PrefetchingReader(seq.frames, order) as frames:
        for k, (i, image) in enumerate(frames):
            if i < resume_at:
                lines.append(str(VotCode.SKIPPED.value))
                continue
            if i == resume_at:
                if not np.isfinite(gt[i]).all():  # no region to initialise on: wait for the next annotated frame
                    resume_at = i + 1
                    lines.append(str(VotCode.SKIPPED.value))
                    continue
                box0 = gt[i] - offset
                _, times[k] = _call(lambda image=image, box0=box0: tracker.initialize(image, box0), i, "initialize",
                                    hook)
                lines.append(str(VotCode.INIT.value))
                continue
            pred, times[k] = _call(lambda image=image: tracker.update(image), i, "update", hook)
            stored = _box(pred, i, seq.frames[i]) + offset
            overlap = _supervised_overlap(stored, regions[i], bounds)
            if overlap <= threshold:
                lines.append(str(VotCode.FAILURE.value))
                resume_at = i + skip
            else:
                lines.append(",".join(f"{v:.4f}" for v in stored))
    return RunOutcome(seq.name, label, "ok", vot_lines=lines, times=times, start_frame=seq.frame_number(order[0]))


def _supervised_overlap(box: NDArray[np.float64], region: NDArray[np.float64],
                        bounds: NDArray[np.float64] | None) -> float:
    """VOT overlap of a reported box with the ground-truth region; 1 (no failure) where the frame has no region."""
    if not np.isfinite(region[:4]).all():
        return 1.0
    row = np.concatenate([box, np.full(4, np.nan)])[None]
    value = float(region_overlap(row, region[None], None if bounds is None else bounds[None])[0])
    return 1.0 if np.isnan(value) else value
