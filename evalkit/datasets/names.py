"""Sequence-name matching across the aliases used by toolkits and result archives.

``Jogging-1``, ``jogging_1``, ``jogging.1`` and ``Jogging1`` name the same OTB entry; ``Human4.2`` and ``human4-2`` too.

    >>> canonical_key("Skating2_1") == canonical_key("skating2.1") == canonical_key("Skating2-1")
    True
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s._\-]+")


def canonical_key(name: str) -> str:
    """Case- and separator-insensitive key of a sequence name (``Human4.2`` -> ``human4-2``)."""
    return _SEPARATORS.sub("-", name.strip().lower()).strip("-")


def compact_key(name: str) -> str:
    """Key without any separator (``jogging-1`` -> ``jogging1``), used as a second, looser match."""
    return canonical_key(name).replace("-", "")
