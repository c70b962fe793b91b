"""GOT-10k's average overlap (AO) and success rates (SR0.50, SR0.75), as got10k-toolkit's ExperimentGOT10k computes
them (got10k/experiments/got10k.py ``report`` and ``_evaluate``; got10k/utils/metrics.py ``rect_iou``).

    >>> import numpy as np
    >>> gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    >>> pred = np.array([[0, 0, 10, 10], [0, 0, 10, 6], [0, 0, 10, 8]], float)
    >>> ious = sequence_ious([pred], gt, visible=None, bound=None)   # frame 1 is left out: IoUs .6 and .8
    >>> s = summarize(ious)
    >>> round(s.ao, 3), s.sr50, s.sr75
    (0.7, 1.0, 0.5)

The toolkit's rules, each reproduced here:

- IoU of x,y,w,h boxes after clipping both to the image (``rect_iou(..., bound=resolution)``: x and y clipped to
  [0, W] / [0, H], then w and h to [0, W - x] / [0, H - y], so a box reaching past the left edge is not shifted, only
  its x is clamped), continuous, with machine epsilon added to the union and the result clipped to [0, 1].
- The first frame (the given initial box) is left out: ``rect_iou(b[1:], anno[1:])``.
- Frames where the target is fully occluded or out of view (``cover.label`` 0) are left out: ``covers > 0``.
- Every repetition (``<seq>_001.txt`` .. ``_003.txt``) contributes its frames; a sequence's IoUs are the
  repetitions' IoUs concatenated, and the overall IoUs all sequences' concatenated: AO is the mean over that pool of
  frames (long sequences weigh more; with equal-length repetitions this is the mean of the repetitions' AOs).
- SR at t is the share of pooled frames with IoU **greater than** t; the success curve has 101 thresholds
  ``linspace(0, 1, 101)``. Speed is the mean of 1 / t over every positive, non-NaN per-frame time.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evalkit import geometry
from evalkit.errors import EvalkitError

FIELDS = ("ao", "sr50", "sr75", "speed_fps", "n_sequences", "n_frames")
CURVE_THRESHOLDS = np.linspace(0, 1, 101)  # ExperimentGOT10k.nbins_iou
SR_THRESHOLDS = {"sr50": 0.50, "sr75": 0.75}  # the GOT-10k leaderboard's SR0.50 and SR0.75
UNION_EPS = float(np.finfo(float).eps)  # rect_iou: areas_inter / (areas_union + eps)


def clip_to_image(boxes: NDArray[np.float64], bound: tuple[float, float]) -> NDArray[np.float64]:
    """Boxes clamped to a W x H image as got10k's ``rect_iou(..., bound=...)`` does (a copy; input unchanged)."""
    b = np.array(boxes, dtype=np.float64)
    width, height = float(bound[0]), float(bound[1])
    b[:, 0] = np.clip(b[:, 0], 0, width)
    b[:, 1] = np.clip(b[:, 1], 0, height)
    b[:, 2] = np.clip(b[:, 2], 0, width - b[:, 0])  # the clamped x: a box past the left edge keeps its width
    b[:, 3] = np.clip(b[:, 3], 0, height - b[:, 1])
    return b


def bounded_iou(pred: NDArray[np.float64], gt: NDArray[np.float64], bound: tuple[float, float] | None
                ) -> NDArray[np.float64]:
    """got10k's ``rect_iou``: both box sets clipped to the image (when ``bound`` is given), IoU in [0, 1]."""
    p, g = geometry.view_boxes(pred), geometry.view_boxes(gt)
    if bound is not None:
        p, g = clip_to_image(p, bound), clip_to_image(g, bound)
    return np.clip(geometry.iou(p, g, pixel_inclusive=False, union_eps=UNION_EPS), 0.0, 1.0)


def sequence_ious(repetitions: SequenceABC[NDArray[np.float64]], gt: NDArray[np.float64],
                  visible: NDArray[np.bool_] | None, bound: tuple[float, float] | None) -> NDArray[np.float64]:
    """The IoUs one sequence contributes: every repetition's frames 2..N where the target is visible, concatenated.

    ``visible`` is per frame (frame 1 included, as loaded); got10k reads it as ``cover.label > 0``.
    """
    gt = geometry.view_boxes(gt)
    if not repetitions:
        raise EvalkitError("no repetition to score")
    keep = np.ones(len(gt) - 1, bool) if visible is None else np.asarray(visible, bool)[1:]
    out = []
    for boxes in repetitions:
        b = geometry.view_boxes(boxes)
        if b.shape != gt.shape:
            raise EvalkitError(f"prediction has {len(b)} rows but ground truth {len(gt)}")
        out.append(bounded_iou(b[1:], gt[1:], bound)[keep])
    return np.concatenate(out)


def fps(times: NDArray[np.float64]) -> float:
    """got10k's speed: mean of 1 / t over the positive, non-NaN per-frame times; NaN when there is none."""
    t = np.asarray(times, dtype=np.float64).ravel()
    t = t[~np.isnan(t)]
    t = t[t > 0]
    return float(np.mean(1.0 / t)) if len(t) else float("nan")


@dataclass(frozen=True)
class Got10kScore:
    """AO, SR0.50, SR0.75 and the 101-point success curve of a pool of frames, with its speed."""

    ao: float
    sr50: float
    sr75: float
    success_curve: NDArray[np.float64]
    speed_fps: float
    n_sequences: int
    n_frames: int

    def as_dict(self) -> dict[str, float | int]:
        """The headline fields, in ``FIELDS`` order."""
        return {k: getattr(self, k) for k in FIELDS}


def summarize(ious: NDArray[np.float64], times: NDArray[np.float64] | None = None, n_sequences: int = 1
              ) -> Got10kScore:
    """``_evaluate``: AO = mean IoU, SR_t = share of IoUs > t, the success curve at 101 thresholds, the speed."""
    v = np.asarray(ious, dtype=np.float64).ravel()
    if len(v) == 0:  # got10k would print NaN (mean of nothing); say so instead
        nan = float("nan")
        return Got10kScore(nan, nan, nan, np.full(len(CURVE_THRESHOLDS), nan), nan, n_sequences, 0)
    curve = np.mean(v[:, None] > CURVE_THRESHOLDS[None, :], axis=0)
    return Got10kScore(float(np.mean(v)), float(np.mean(v > SR_THRESHOLDS["sr50"])),
                       float(np.mean(v > SR_THRESHOLDS["sr75"])), curve,
                       fps(times) if times is not None else float("nan"), n_sequences, len(v))
