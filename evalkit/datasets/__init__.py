"""Datasets: the ``Sequence`` and ``Suite`` types and one loader per benchmark, looked up by suite name.

    >>> from evalkit.datasets import load_suite
    >>> suite = load_suite("uav20l", "../shared/data/uav123")   # doctest: +SKIP
    >>> len(suite), suite.is_partial                            # doctest: +SKIP
    (20, False)
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from pathlib import Path

from evalkit.datasets.base import Sequence, Suite, collect_problems
from evalkit.registry import SUITES

__all__ = ["Sequence", "Suite", "load_suite"]


def load_suite(name: str, root: str | Path | None, sequences: SequenceABC[str] | None = None,
               collect: bool = False) -> Suite:
    """Load suite ``name`` from ``root``; ``sequences`` restricts it to the named ones (and marks it partial).

    ``root`` may be None only for suites that need no data on disk (``demo`` is generated into the cache).

    With ``collect``, a sequence whose files are malformed is left out (as missing) and its problem, naming the file
    and line, is kept in ``suite.problems``; without it the first such problem raises.
    """
    loader = SUITES.get(name)
    path = Path(root) if root is not None else None
    suite: Suite = collect_problems(loader, path) if collect else loader(path)
    return suite.subset(sequences) if sequences else suite
