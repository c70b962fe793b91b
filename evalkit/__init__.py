"""evalkit: benchmark and evaluation toolkit for single-object visual tracking.

    >>> import evalkit
    >>> report = evalkit.score("otb100", "../shared/data/results/otb100_cfnet_release",
    ...                        data_root="../shared/data/otb100")                        # doctest: +SKIP
    >>> report.to_pandas()                                                                # doctest: +SKIP

The public names (see docs/api.md) are imported on first use, so ``import evalkit`` stays cheap and needs neither
pandas, matplotlib, torch nor OpenCV until a function that uses them is called.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (PEP 562 lazy attributes)
_PUBLIC = {
    "score": "evalkit.api", "run": "evalkit.api", "in_memory_results": "evalkit.api",
    "plot_success": "evalkit.api", "plot_precision": "evalkit.api", "plot_eao_curve": "evalkit.api",
    "load_suite": "evalkit.datasets", "discover_results": "evalkit.results", "load_result_sets": "evalkit.results",
    "Report": "evalkit.scoring", "ScoringOptions": "evalkit.scoring", "Column": "evalkit.scoring",
    "EvalkitError": "evalkit.errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
