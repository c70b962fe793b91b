"""Suite mean of the centre location error (CLE) of one result set: the scoring side of
:mod:`evalkit.metrics.centre_error` (which measures one run from arrays).

    >>> cle = mean_centre_error(suite, result_set, PROFILES.get("otb-toolkit"))     # doctest: +SKIP
    >>> round(cle.value, 2), cle.n_sequences                                         # doctest: +SKIP
    (11.52, 51)

Per sequence the OPE run (run 1) is aligned to the ground truth as the OPE scoring aligns it, its first frame replaced
by the ground truth when the profile says so; then the plain mean over sequences. Sequences without a result, or
without a frame that can be measured, are left out and named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit.datasets.base import Suite
from evalkit.metrics.centre_error import sequence_centre_error
from evalkit.metrics.profiles import Profile
from evalkit.results import ResultSet
from evalkit.scoring.ope import RunProblem, aligned_runs


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
    names = [s.name for s in suite]
    per_seq: dict[str, float] = {}
    unscored: list[str] = []
    for seq in suite:
        try:
            (_, (boxes, gt, _), _), *_ = aligned_runs(rs, seq, profile, [n for n in names if n != seq.name])
        except RunProblem:
            unscored.append(seq.name)
            continue
        error = sequence_centre_error(boxes, gt, first_frame_from_gt=profile.first_frame == "ground-truth")
        if np.isnan(error):
            unscored.append(seq.name)
        else:
            per_seq[seq.name] = error
    value = float(np.mean(list(per_seq.values()))) if per_seq else float("nan")
    return CentreError(value, per_seq, unscored)
