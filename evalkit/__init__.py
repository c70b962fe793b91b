"""evalkit: benchmark and evaluation toolkit for single-object visual tracking.

    >>> from evalkit.datasets import load_suite
    >>> from evalkit.results import discover_results
    >>> from evalkit.registry import PROFILES
    >>> from evalkit.scoring.ope import score_ope
    >>> report = score_ope(load_suite("otb100", "../shared/data/otb100"),                 # doctest: +SKIP
    ...                    discover_results("../shared/data/results/otb100_cfnet_release"),
    ...                    PROFILES.get("otb-toolkit"))
"""

__version__ = "0.1.0"
