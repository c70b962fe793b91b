"""Published tables in their papers' layouts, filled from results evalkit scored (``evalkit table --layout NAME``).

    >>> from evalkit.paper_tables import TableInputs, fill_table, render
    >>> from evalkit.registry import LAYOUTS
    >>> table = fill_table(LAYOUTS.get("cfnet-table1"), TableInputs(sets, {"*": otb_root}))   # doctest: +SKIP
    >>> print(render(table, "latex"))                                                          # doctest: +SKIP

See :mod:`evalkit.paper_tables.definitions` for the layouts and ``published.json`` for the papers' values.
"""

from evalkit.paper_tables.fill import TableInputs, fill_table, published_values, read_measured
from evalkit.paper_tables.model import Cell, FilledTable, Layout, Metric, PaperRow
from evalkit.paper_tables.render import render

__all__ = ["Cell", "FilledTable", "Layout", "Metric", "PaperRow", "TableInputs", "fill_table", "published_values",
           "read_measured", "render"]
