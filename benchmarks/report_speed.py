"""Report speed: a 20-tracker, 100-sequence OTB-100 report (PDF and HTML) must render in under 30 s.

    .venv/bin/python benchmarks/report_speed.py                  # 20 trackers, best of 1
    .venv/bin/python benchmarks/report_speed.py --trackers 30 --repeats 2 --keep /tmp/report.pdf

The result sets are synthetic but sit on the real OTB-100 ground truth (``$EVALKIT_SHARED/data/otb100``): tracker k
follows each ground-truth box with seeded noise and, from a random frame on, a drift that grows with k, so the
trackers spread over the whole range of success AUC and every plot and table is as full as a real one. Nothing is
written to disk but the reports.

Timed (best of ``--repeats``, after imports):
- baseline ``evalkit score``: ``score_ope`` of the 20 trackers on OTB-100 with 10 000 bootstrap resamples and the
  paired tests (what ``evalkit score`` prints, and what the report is built from);
- report: ``build_report`` (every figure: success, precision, the 11 per-attribute plots; tables; appendix) plus
  writing the PDF; and the same for HTML.
The target is the report (PDF) in under 30 s; the ratio to the baseline is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from evalkit.datasets import load_suite
from evalkit.datasets.base import Suite
from evalkit.datasets.names import canonical_key
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, Run
from evalkit.scoring.ope import score_ope

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 30.0


def shared_dir() -> Path:
    """The reference-data folder: ``$EVALKIT_SHARED``, else ``<repository root>/../shared``."""
    env = os.environ.get("EVALKIT_SHARED")
    return Path(env).expanduser().resolve() if env else (REPO_ROOT.parent / "shared").resolve()


def synthetic_sets(suite: Suite, n_trackers: int, seed: int = 0) -> list[ResultSet]:
    """Tracker k: ground truth plus noise, drifting away after a random frame by an amount growing with k."""
    rng = np.random.default_rng(seed)
    sets = []
    for k in range(n_trackers):
        rs = ResultSet(f"Tracker-{k + 1:02d}", Path(f"synthetic/{k}"))
        for seq in suite:
            gt = seq.ground_truth
            n = len(gt)
            boxes = gt.copy()
            boxes[~np.isfinite(boxes).all(axis=1)] = gt[0]
            size = np.maximum(boxes[:, 2:], 1.0)
            noise = rng.normal(0.0, 0.04 + 0.01 * k, size=(n, 4)) * np.concatenate([size, size], axis=1)
            start = int(rng.integers(n // 4, n)) if rng.random() < 0.2 + 0.03 * k else n
            drift = np.zeros((n, 2))
            steps = np.arange(n - start)[:, None] * rng.normal(0.0, 0.5 + 0.2 * k, size=(1, 2))
            drift[start:] = steps
            boxes[:, :2] += noise[:, :2] + drift
            boxes[:, 2:] = np.maximum(boxes[:, 2:] * np.exp(noise[:, 2:] / size * 0.5), 1.0)
            key = canonical_key(seq.name)
            rs.runs[key] = [Run(boxes, seq.start_frame, Path(f"synthetic/{k}/{seq.name}.txt"))]
            rs.names[key] = seq.name
        sets.append(rs)
    return sets


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Shortest wall time of ``repeats`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 when the PDF report misses the target."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trackers", type=int, default=20)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--bootstrap", type=int, default=10_000)
    p.add_argument("--keep", type=Path, help="also keep the PDF here")
    args = p.parse_args(argv)

    from evalkit.report.document import build_report, write_report

    root = shared_dir() / "data" / "otb100"
    if not root.is_dir():
        print(f"reference data not found at {root} (set EVALKIT_SHARED)", file=sys.stderr)
        return 2
    suite = load_suite("otb100", root)
    profile = PROFILES.get("otb-toolkit")
    sets = synthetic_sets(suite, args.trackers)

    def score() -> object:
        return score_ope(suite, sets, profile, resamples=args.bootstrap)

    t_score, report = best_of(args.repeats, score)
    aucs = sorted(t.score.success_auc for t in report.trackers.values())  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        out_pdf = args.keep or Path(tmp) / "report.pdf"
        out_html = Path(tmp) / "report.html"

        def render(path: Path) -> Callable[[], Path]:
            def go() -> Path:
                doc = build_report([report], sets, data_sources={"otb100": suite.source},
                                   title=f"{args.trackers} trackers on OTB-100", resamples=args.bootstrap, seed=0)
                return write_report(doc, path)
            return go

        t_pdf, _ = best_of(args.repeats, render(out_pdf))
        t_html, _ = best_of(args.repeats, render(out_html))
        pdf_size = out_pdf.stat().st_size
        html_size = out_html.stat().st_size
        try:
            import pypdf

            pages = len(pypdf.PdfReader(out_pdf).pages)
        except ImportError:
            pages = -1

    print(f"{args.trackers} trackers x {len(suite)} sequences ({sum(s.n_frames for s in suite)} frames), "
          f"success AUC {aucs[0]:.3f} .. {aucs[-1]:.3f}; best of {args.repeats}")
    print(f"baseline  evalkit score (score_ope, {args.bootstrap} bootstrap resamples + paired tests): {t_score:7.2f} s")
    print(f"report    PDF  (figures, tables, appendix; {pages} pages, {pdf_size / 1e6:.2f} MB):"
          f" {t_pdf:7.2f} s  = {t_pdf / t_score:5.2f} x baseline")
    print(f"report    HTML (same blocks, inline SVG; {html_size / 1e6:.2f} MB):"
          f"{'':14s} {t_html:7.2f} s  = {t_html / t_score:5.2f} x baseline")
    ok = t_pdf < TARGET_S
    print(f"target: PDF report under {TARGET_S:.0f} s: {'PASS' if ok else 'FAIL'} ({t_pdf:.2f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
