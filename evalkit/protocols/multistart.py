"""VOT2020 multistart experiment: from each anchor frame, one run forwards to the end or backwards to frame 0.

    >>> anchors_from_values([1, 0, 0, -1])
    [(0, 1), (3, -1)]
    >>> anchors_every(120, spacing=50)
    [(0, 1), (50, 1), (100, -1)]

Rules read from vot-toolkit 0.9.0 (``vot/experiment/multistart.py``):

- anchors come from the sequence's ``anchor.value`` file, one number per frame (missing lines count as 0): a frame
  with a positive value is a forward anchor, a negative value a backward anchor, 0 no anchor;
- runs are ordered: all forward anchors by frame, then all backward anchors by frame;
- a forward run visits frames i, i+1, .., n-1; a backward run i, i-1, .., 0; each is initialised with the ground
  truth of frame i and stored as ``<sequence>_<i:08d>``.

The VOT2020 data ships the anchor files. For a sequence without one, ``anchors_every`` places anchors every
``spacing`` frames from frame 0 and runs each in the direction with more frames (forward on a tie), the placement
the VOT2020 report describes (anchors about 50 frames apart); this is evalkit's reconstruction, not toolkit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as SequenceABC
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalkit.datasets.base import Sequence
from evalkit.errors import EvalkitError, InputFileError
from evalkit.protocols.base import RunSpec, initial_box

PROTOCOL = "vot-multistart"
ANCHOR_SPACING = 50
Anchor = tuple[int, int]  # (row, direction +1 / -1)


def read_anchor_values(path: str | Path, n_frames: int) -> NDArray[np.float64]:
    """Per-frame values of an ``anchor.value`` file, padded with 0 to ``n_frames`` (as vot-toolkit reads them)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read: {exc.strerror}") from exc
    values = []
    for lineno, line in enumerate(lines, start=1):
        try:
            values.append(float(line.strip()))
        except ValueError:
            raise InputFileError(path, lineno, f"expected one number per frame, found {line.strip()!r}") from None
    if len(values) > n_frames:
        raise InputFileError(path, None, f"has {len(values)} values for a sequence of {n_frames} frames")
    return np.concatenate([np.asarray(values, dtype=np.float64), np.zeros(n_frames - len(values))])


def anchors_from_values(values: ArrayLike) -> list[Anchor]:
    """Anchors of a per-frame value list: forward ones (value > 0) by frame, then backward ones (value < 0)."""
    v = np.asarray(values, dtype=np.float64)
    return [(int(i), 1) for i in np.flatnonzero(v > 0)] + [(int(i), -1) for i in np.flatnonzero(v < 0)]


def anchors_every(n_frames: int, spacing: int = ANCHOR_SPACING) -> list[Anchor]:
    """Anchors every ``spacing`` frames from 0, each run towards the longer side (n - i frames vs i + 1)."""
    if spacing < 1 or n_frames < 1:
        raise ValueError(f"need spacing >= 1 and n_frames >= 1, got {spacing} and {n_frames}")
    return [(i, 1 if n_frames - i >= i + 1 else -1) for i in range(0, n_frames, spacing)]


def anchor_label(row: int, direction: int) -> str:
    """Run label of an anchor run, e.g. ``anchor-00115-backward``."""
    return f"anchor-{row:05d}-{'forward' if direction > 0 else 'backward'}"


def multistart_runs(seq: Sequence, anchors: Iterable[Anchor] | SequenceABC[float] | None = None,
                    spacing: int = ANCHOR_SPACING) -> list[RunSpec]:
    """The anchor runs of ``seq``, in vot-toolkit's order (forward anchors, then backward ones).

    ``anchors`` is a list of (row, direction) pairs, or per-frame anchor values (one number per frame, as in
    ``anchor.value``); without it, anchors are placed every ``spacing`` frames (``anchors_every``).
    """
    n = seq.n_frames
    if anchors is None:
        pairs = anchors_every(n, spacing)
    else:
        items = list(anchors)
        if items and np.ndim(items[0]) == 0:  # per-frame values
            if len(items) != n:
                raise EvalkitError(f"{seq.name}: {len(items)} anchor values for {n} frames")
            pairs = anchors_from_values(items)
        else:
            pairs = [(int(r), int(d)) for r, d in items]
            pairs = [p for p in pairs if p[1] > 0] + [p for p in pairs if p[1] < 0]
    if not pairs:
        raise EvalkitError(f"{seq.name}: the sequence has no anchors (vot-toolkit refuses it too)")
    specs = []
    for row, direction in pairs:
        if not 0 <= row < n or direction not in (1, -1):
            raise EvalkitError(f"{seq.name}: anchor ({row}, {direction}) is not a row 0..{n - 1} with direction +-1")
        end = n if direction > 0 else -1
        specs.append(RunSpec(seq.name, row, end, initial_box(seq, row), PROTOCOL, anchor_label(row, direction),
                             seq.frame_number(row), direction=direction))
    return specs
