"""Frame-by-frame agreement of two trackers' boxes: how closely a port follows the original, and where they part.

    >>> a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 10, 10]])
    >>> b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [0, 0, 10, 10]])
    >>> r = frame_agreement(a, b)
    >>> round(r.mean_iou, 4), r.first_parting, r.n_compared
    (0.4444, 1, 3)

Per sequence (two N x 4 x,y,w,h arrays of the same length): the IoU of each frame's pair of boxes
(``evalkit.geometry.iou``). A frame where neither tracker has a usable box (``geometry.valid_boxes``: finite, positive
size) is not compared; a frame where only one has one is compared with IoU 0 (one tracker lost the target, the
other did not: they disagree there). ``mean_iou`` is the mean over compared frames, ``first_parting`` the first row
(0-based) whose IoU is below ``threshold`` (default 0.5), None when they never part, and ``n_compared`` the number of
frames compared. Over a table of sequences, :func:`agreement_table` keeps each sequence's figures and adds the mean
IoU over all compared frames (frame-weighted) and over sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalkit.geometry import iou, valid_boxes, view_boxes

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class FrameAgreement:
    """One sequence: mean IoU between the two trackers, first row where they part, number of frames compared."""

    mean_iou: float
    first_parting: int | None
    n_compared: int
    ious: NDArray[np.float64]  # per row; NaN where the frame was not compared

    def as_json(self) -> dict[str, float | int | None]:
        """The summary figures (no per-frame array)."""
        return {"mean_iou": self.mean_iou, "first_parting": self.first_parting, "n_compared": self.n_compared}


@dataclass(frozen=True)
class AgreementTable:
    """Per-sequence agreement and the two suite means (over compared frames, and over sequences)."""

    per_sequence: dict[str, FrameAgreement]
    threshold: float

    @property
    def n_compared(self) -> int:
        """Frames compared over all sequences."""
        return sum(a.n_compared for a in self.per_sequence.values())

    @property
    def mean_iou(self) -> float:
        """Mean IoU over every compared frame of every sequence (long sequences weigh more); NaN when none."""
        total = sum(a.mean_iou * a.n_compared for a in self.per_sequence.values() if a.n_compared)
        return total / self.n_compared if self.n_compared else float("nan")

    @property
    def mean_of_sequences(self) -> float:
        """Plain mean of the per-sequence mean IoUs (sequences without a compared frame left out); NaN when none."""
        means = [a.mean_iou for a in self.per_sequence.values() if a.n_compared]
        return float(np.mean(means)) if means else float("nan")

    @property
    def parted(self) -> list[str]:
        """Sequences where the two trackers part at some frame."""
        return [name for name, a in self.per_sequence.items() if a.first_parting is not None]

    def as_json(self) -> dict[str, object]:
        """Suite figures and the per-sequence summaries."""
        return {"threshold": self.threshold, "mean_iou": self.mean_iou, "mean_of_sequences": self.mean_of_sequences,
                "n_compared": self.n_compared, "parted": self.parted,
                "sequences": {name: a.as_json() for name, a in self.per_sequence.items()}}


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"agreement threshold must lie in (0, 1], got {threshold}")


def frame_agreement(a: ArrayLike, b: ArrayLike, threshold: float = DEFAULT_THRESHOLD) -> FrameAgreement:
    """Agreement of two N x 4 x,y,w,h box arrays of one sequence (see the module docstring)."""
    _check_threshold(threshold)
    boxes_a, boxes_b = view_boxes(a), view_boxes(b)
    if boxes_a.shape != boxes_b.shape:
        raise ValueError(f"frame agreement needs boxes for the same frames, got {len(boxes_a)} and {len(boxes_b)} rows")
    ok_a, ok_b = valid_boxes(boxes_a), valid_boxes(boxes_b)
    compared = ok_a | ok_b
    ious = np.where(ok_a & ok_b, iou(boxes_a, boxes_b), 0.0)  # one box missing: they disagree on that frame
    ious[~compared] = np.nan
    n = int(compared.sum())
    parted = np.flatnonzero(compared & ~(ious >= threshold))  # NaN-safe: uncompared rows are excluded first
    return FrameAgreement(float(np.nanmean(ious)) if n else float("nan"),
                          int(parted[0]) if parted.size else None, n, ious)


def agreement_table(pairs: Mapping[str, tuple[ArrayLike, ArrayLike]],
                    threshold: float = DEFAULT_THRESHOLD) -> AgreementTable:
    """Agreement per sequence of ``{sequence: (boxes of A, boxes of B)}``; a length mismatch names the sequence."""
    _check_threshold(threshold)
    out: dict[str, FrameAgreement] = {}
    for name, (a, b) in pairs.items():
        try:
            out[name] = frame_agreement(a, b, threshold)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return AgreementTable(out, threshold)
