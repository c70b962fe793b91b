"""One-pass evaluation: a single run from the first usable start frame to the sequence end.

    >>> [s.start_frame for s in ope_runs(suite["Tiger1"])]     # doctest: +SKIP
    [6]

The OTB toolkit's OPE run is the first TRE segment (splitSeqTRE's first start): the first frame that is neither in
initOmit nor without a valid ground-truth box, so Tiger1 starts at frame 6. got10k starts every sequence at row 0
(``honour_init_omit=False``).
"""

from __future__ import annotations

from evalkit.datasets.base import Sequence
from evalkit.protocols.base import RunSpec, initial_box

PROTOCOL = "ope"


def ope_runs(seq: Sequence, honour_init_omit: bool = True) -> list[RunSpec]:
    """The one OPE run of ``seq``, initialised with the ground truth of its start frame."""
    start = seq.first_start_index(honour_init_omit)
    return [RunSpec(seq.name, start, seq.n_frames, initial_box(seq, start), PROTOCOL, PROTOCOL,
                    seq.frame_number(start))]
