"""Mean centre location error (CLE), the pixel figure some papers print beside OP and DP (DCFNet's Table 2).

    >>> cle = mean_centre_error(suite, result_set, PROFILES.get("otb-toolkit"))     # doctest: +SKIP
    >>> round(cle.value, 2), cle.n_sequences                                         # doctest: +SKIP
    (11.52, 51)

Per sequence: the mean Euclidean distance between predicted and ground-truth centres (x + (w - 1) / 2, as the OTB
toolkit computes centres) over the frames whose ground truth is valid (finite, positive size), the first frame
replaced by the ground truth as the profile says (frames with a non-finite prediction are left out); then the
plain mean over sequences. Only the OPE run (run 1) is
used. Sequences without a result are left out and named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit import geometry
from evalkit.datasets.base import Suite
from evalkit.metrics.profiles import Profile
from evalkit.results import ResultSet


@dataclass(frozen=True)
class CentreError:
    """Suite mean of per-sequence mean centre errors (pixels), per sequence, and the sequences left out."""

    value: float
    per_sequence: dict[str, float]
    unscored: list[str] = field(default_factory=list)

    @property
    def n_sequences(self) -> int:
        """Number of sequences in the mean."""
        return len(self.per_sequence)


def mean_centre_error(suite: Suite, rs: ResultSet, profile: Profile) -> CentreError:
    """Mean centre location error of one result set's OPE runs on ``suite`` (see the module docstring)."""
    from evalkit.scoring import _RunProblem, aligned_runs

    names = [s.name for s in suite]
    per_seq: dict[str, float] = {}
    unscored: list[str] = []
    for seq in suite:
        try:
            (_, (boxes, gt, _), _), *_ = aligned_runs(rs, seq, profile, [n for n in names if n != seq.name])
        except _RunProblem:
            unscored.append(seq.name)
            continue
        pred = np.array(boxes, dtype=np.float64)
        if profile.first_frame == "ground-truth":
            pred[0] = gt[0]
        valid = geometry.valid_boxes(gt)
        errors = geometry.center_error(pred[valid], gt[valid])
        errors = errors[np.isfinite(errors)]
        if errors.size:
            per_seq[seq.name] = float(errors.mean())
        else:
            unscored.append(seq.name)
    value = float(np.mean(list(per_seq.values()))) if per_seq else float("nan")
    return CentreError(value, per_seq, unscored)
