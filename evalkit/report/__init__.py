"""Reports: PDF and self-contained HTML with provenance, vector figures, score tables and per-sequence appendices.

    >>> from evalkit.report import build_report, write_report
    >>> report = build_report(score_reports, vot_reports, result_sets, tables=[...])   # doctest: +SKIP
    >>> write_report(report, Path("report.pdf"))                                       # doctest: +SKIP

matplotlib draws the figures (SVG, text kept as text); reportlab lays out the PDF (svglib turns each SVG into a
vector drawing, so figures stay vector and all text stays selectable); the HTML page inlines the same SVGs.
Nothing here computes a metric: everything comes from the score reports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:  # matplotlib and reportlab are imported only when a report is made
        from evalkit.report import document

        return getattr(document, name)
    raise AttributeError(name)
