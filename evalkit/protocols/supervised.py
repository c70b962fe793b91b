"""VOT supervised ("baseline", VOT2013-2019) experiment: repeated runs over the whole sequence with re-initialisation.

    >>> [s.label for s in vot_supervised_runs(seq, deterministic=True)]     # doctest: +SKIP
    ['vot-001', 'vot-002', 'vot-003']

Every repetition starts at row 0 with the ground-truth region's box and runs to the end; the harness declares a
failure when the overlap is <= ``failure_overlap`` (0), re-initialises ``skip_after_failure`` (5) frames later,
and the accuracy ignores ``burn_in`` (10) frames after each (re-)initialisation. 15 repetitions (VOT stacks
``repetitions: 15``); a deterministic tracker needs 3: vot-toolkit stops once 3 stored trajectories are identical
(the MATLAB toolkit did the same), so a harness that finds the 3 differ should ask for the full 15.
"""

from __future__ import annotations

from evalkit.datasets.base import Sequence
from evalkit.protocols.base import RunSpec, initial_box

PROTOCOL = "vot-supervised"
REPETITIONS = 15
DETERMINISTIC_REPETITIONS = 3
SKIP_AFTER_FAILURE = 5
BURN_IN = 10
FAILURE_OVERLAP = 0.0


def vot_supervised_runs(seq: Sequence, repetitions: int = REPETITIONS, deterministic: bool = False,
                        skip_after_failure: int = SKIP_AFTER_FAILURE, burn_in: int = BURN_IN,
                        failure_overlap: float = FAILURE_OVERLAP) -> list[RunSpec]:
    """The repetitions (labels ``vot-001`` ..) of the supervised experiment on ``seq``, each from row 0."""
    if repetitions < 1 or skip_after_failure < 1 or burn_in < 0:
        raise ValueError("need repetitions >= 1, skip_after_failure >= 1 and burn_in >= 0")
    count = min(repetitions, DETERMINISTIC_REPETITIONS) if deterministic else repetitions
    box = initial_box(seq, 0)
    return [RunSpec(seq.name, 0, seq.n_frames, box, PROTOCOL, f"vot-{rep:03d}", seq.frame_number(0),
                    repetition=rep, skip_after_failure=skip_after_failure, burn_in=burn_in,
                    failure_overlap=failure_overlap)
            for rep in range(1, count + 1)]
