"""Temporal robustness evaluation (TRE): 20 runs of one sequence from start frames spread over its length.

    >>> [s.start_frame for s in tre_runs(suite["David"])][:3]     # doctest: +SKIP
    [300, 324, 349]

The rules are the OTB toolkit's ``splitSeqTRE.m`` (tracker_benchmark v1.0/v1.1), reproduced exactly:

1. candidate starts: every row, minus the initOmit ranges, minus rows whose box has x, y, w or h <= 0 or NaN;
2. E = the position (1-based, among the candidates) of the last candidate with at least 20 frames from it to the
   sequence end, itself included;
3. the segments start at candidates ``floor(1 : E/19 : E)`` followed by candidate E, each running to the end.

The MATLAB colon with step E/19 yields 19 points whenever E >= 19 (fewer for shorter candidate lists, which the
toolkit keeps, as it keeps a repeated last start); ``1 + k*E/19`` is floored in exact integer arithmetic here, which
equals MATLAB's float result because the fraction is either 0 or at least 1/19. A sequence with no candidate 20
frames from its end has no TRE in the toolkit (the MATLAB function fails); evalkit raises ``EvalkitError``.

Checked against the 20 ``startFrame`` values stored in each of the CFNet release's OTB-100 result files
(tests/test_protocols.py), for all 100 sequences.
"""

from __future__ import annotations

import numpy as np

from evalkit.datasets.base import Sequence
from evalkit.errors import EvalkitError
from evalkit.protocols.base import RunSpec, initial_box

PROTOCOL = "tre"
SEGMENTS = 20
MIN_LENGTH = 20


def tre_start_indices(seq: Sequence, segments: int = SEGMENTS, min_length: int = MIN_LENGTH) -> list[int]:
    """Ground-truth rows where the TRE segments start (splitSeqTRE's rule; duplicates kept as the toolkit does)."""
    if segments < 2 or min_length < 1:
        raise ValueError(f"need segments >= 2 and min_length >= 1, got {segments} and {min_length}")
    candidates = np.flatnonzero(seq.start_allowed())
    long_enough = np.flatnonzero(seq.n_frames - candidates >= min_length)
    if long_enough.size == 0:
        raise EvalkitError(f"{seq.name}: no valid start frame has {min_length} frames after it "
                           f"({seq.n_frames} frames, {candidates.size} valid starts); TRE is undefined "
                           f"(the OTB toolkit's splitSeqTRE fails on it too)")
    last = int(long_enough[-1]) + 1  # E, 1-based position among the candidates
    k = np.arange(segments - 1)
    k = k[k * last <= (segments - 1) * (last - 1)]  # the colon's points 1 + k*E/(S-1) that do not pass E
    positions = np.append(1 + (k * last) // (segments - 1), last)
    return [int(candidates[p - 1]) for p in positions]


def tre_runs(seq: Sequence, segments: int = SEGMENTS, min_length: int = MIN_LENGTH) -> list[RunSpec]:
    """The TRE runs of ``seq`` (labels ``tre-00`` ..), each from its segment start to the end with that frame's GT."""
    return [RunSpec(seq.name, start, seq.n_frames, initial_box(seq, start), PROTOCOL, f"{PROTOCOL}-{i:02d}",
                    seq.frame_number(start))
            for i, start in enumerate(tre_start_indices(seq, segments, min_length))]
