"""Scoring: result sets on a suite under a protocol, as one report model (see :mod:`evalkit.scoring.base`).

    >>> from evalkit.scoring import ScoringOptions, score
    >>> report = score("vot-supervised", suite, result_sets, ScoringOptions())       # doctest: +SKIP

Protocols and their scorers (registered in :data:`evalkit.registry.SCORERS`): ``ope``, ``tre``, ``sre``
(:mod:`evalkit.scoring.ope`), ``vot-supervised`` (:mod:`evalkit.scoring.vot`), ``vot-multistart``
(:mod:`evalkit.scoring.multistart`).
"""

from evalkit.scoring.base import Column, Report, ScoringOptions, TrackerResult, check_suite, score

__all__ = ["Column", "Report", "ScoringOptions", "TrackerResult", "check_suite", "score"]
