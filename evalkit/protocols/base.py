"""The one type every protocol produces: a ``RunSpec``, one tracker run to perform and store.

    >>> spec = RunSpec("Tiger1", start=5, end=354, init_box=(1.0, 2.0, 3.0, 4.0), protocol="ope", label="ope",
    ...                start_frame=6)
    >>> spec.n_frames, list(spec.rows)[:2]
    (349, [5, 6])

Rows are 0-based indices into the sequence's ground truth (``Sequence.ground_truth``); ``start_frame`` is the video
frame number of ``start`` (what the OTB toolkit stores as ``startFrame``). A run visits ``range(start, end,
direction)``: forwards to the sequence end, or (VOT2020 multistart) backwards to row 0 with ``end = -1``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evalkit.datasets.base import Sequence
from evalkit.errors import EvalkitError

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class RunSpec:
    """One run: which sequence, which rows in which order, the initial box, and the re-initialisation rules."""

    sequence: str
    start: int
    end: int
    init_box: Box
    protocol: str
    label: str
    start_frame: int
    direction: int = 1
    repetition: int = 1
    skip_after_failure: int | None = None
    burn_in: int | None = None
    failure_overlap: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise ValueError(f"{self.label}: direction must be +1 or -1, got {self.direction}")
        if len(range(self.start, self.end, self.direction)) == 0:
            raise ValueError(f"{self.label}: rows {self.start}..{self.end} (step {self.direction}) are empty")
        object.__setattr__(self, "init_box", tuple(float(v) for v in self.init_box))
        if len(self.init_box) != 4:
            raise ValueError(f"{self.label}: init_box must be x, y, w, h")

    @property
    def rows(self) -> range:
        """Ground-truth rows of the run, in the order the tracker sees them (the first is the initial frame)."""
        return range(self.start, self.end, self.direction)

    @property
    def n_frames(self) -> int:
        """Number of frames in the run, the initial frame included."""
        return len(self.rows)

    @property
    def supervised(self) -> bool:
        """True when the harness re-initialises the tracker after a failure (VOT supervised experiment)."""
        return self.skip_after_failure is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for a stored run's metadata)."""
        out = asdict(self)
        out["init_box"] = list(self.init_box)
        return out


def initial_box(seq: Sequence, row: int) -> Box:
    """The ground-truth box of ``row`` as the initial box; refuses a row without a usable box."""
    box = seq.ground_truth[row]
    if not (np.isfinite(box).all() and box[2] > 0 and box[3] > 0):
        raise EvalkitError(f"{seq.name}: frame {seq.frame_number(row)} has no usable ground-truth box "
                           f"({box.tolist()}) to initialise a run from")
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
