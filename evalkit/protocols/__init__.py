"""Protocols: each expands a sequence into the ``RunSpec`` list a harness runs and a store keeps.

    >>> from evalkit.protocols import expand
    >>> specs = expand("tre", suite["David"])                      # doctest: +SKIP
    >>> len(specs), specs[0].label, specs[0].start_frame           # doctest: +SKIP
    (20, 'tre-00', 300)

A protocol only decides runs (sequence, rows, initial box, repetition, re-initialisation rules); TRE and SRE are just
more run specs, so the store and the metrics need no special cases. Registered in ``evalkit.registry.PROTOCOLS``:
``ope``, ``tre``, ``sre`` (OTB toolkit), ``vot-supervised`` (VOT2013-2019 baseline), ``vot-multistart`` (VOT2020+).
"""

from __future__ import annotations

from typing import Any

from evalkit.datasets.base import Sequence
from evalkit.protocols.base import RunSpec, initial_box
from evalkit.protocols.multistart import anchors_every, anchors_from_values, multistart_runs, read_anchor_values
from evalkit.protocols.ope import ope_runs
from evalkit.protocols.sre import SRE_SHIFTS, shift_initial_box, sre_runs
from evalkit.protocols.supervised import vot_supervised_runs
from evalkit.protocols.tre import tre_runs, tre_start_indices

__all__ = [
    "RunSpec",
    "SRE_SHIFTS",
    "anchors_every",
    "anchors_from_values",
    "expand",
    "initial_box",
    "multistart_runs",
    "ope_runs",
    "read_anchor_values",
    "shift_initial_box",
    "sre_runs",
    "tre_runs",
    "tre_start_indices",
    "vot_supervised_runs",
]


def expand(protocol: str, seq: Sequence, **options: Any) -> list[RunSpec]:
    """The run specs of ``seq`` under the registered ``protocol``; ``options`` go to its function."""
    from evalkit.registry import PROTOCOLS

    return PROTOCOLS.get(protocol)(seq, **options)
