"""Reproduction of published OPE numbers from the real raw results in ../shared (read in place).

- CFNet paper Table 1 (reference/TABLES.md, T1): every OPE cell of the six trackers on OTB-2013 / OTB-50 / OTB-100,
  "IoU" = success AUC and "prec." = the area under the precision curve (mean over 0..50 px), to +-0.1 points.
  One pair of cells is inconsistent in the paper itself (see PAPER_INCONSISTENT): evalkit keeps its own number.
- UAV20L survey numbers (data/results/uav20l_dcf/PROVENANCE.md): success AUC and precision at 20 px of KCF, DSST,
  Staple, ECO-HC and SRDCF to +-0.001 with the default profile.

The published values are parsed from those files, not copied here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import PAPER_INCONSISTENT, cfnet_table1, parse_markdown_table

from evalkit.datasets import load_suite
from evalkit.registry import PROFILES
from evalkit.results import ResultSet, discover_results
from evalkit.scoring.ope import ScoreReport, score_ope

SUBSET_COLUMNS = {"otb2013": (2, 3), "otb50": (6, 7), "otb100": (10, 11)}  # (IoU, prec.) OPE columns in T1
TRE_COLUMNS = {"otb2013": (4, 5), "otb50": (8, 9), "otb100": (12, 13)}

# CFNet-conv5 on OTB-2013: the paper prints 61.1 / 73.6, but the released raw results that reproduce all 34 other
# OPE cells (and CFNet-conv5's own OTB-50 and OTB-100 cells) give 58.9 / 71.4. The printed IoU repeats CFNet-conv2's
# OTB-2013 cell, most likely a transcription error in the table; evalkit reports its own number. The TRE cells of the
# same row and subset are off too (paper 62.6 / 75.7, files 61.8 / 74.7).



@cache
def _release(shared: Path) -> list[ResultSet]:
    return discover_results(shared / "data" / "results" / "otb100_cfnet_release")


@cache
def _score(shared: Path, subset: str, protocol: str = "ope") -> ScoreReport:
    suite = load_suite(subset, shared / "data" / "otb100")
    return score_ope(suite, _release(shared), PROFILES.get("otb-toolkit"), protocol=protocol)


@pytest.mark.parametrize("subset", list(SUBSET_COLUMNS))
def test_cfnet_table1_ope(shared_dir: Path, subset: str) -> None:
    """Every OPE cell of the CFNet paper's Table 1 from the released raw results (otb-toolkit profile)."""
    table = cfnet_table1(shared_dir)
    report = _score(shared_dir, subset)
    assert set(report.trackers) == set(table), "the release's result names map to the paper's row names"
    iou_col, prec_col = SUBSET_COLUMNS[subset]
    checked = 0
    for name, row in table.items():
        score = report.trackers[name].score
        assert score.n_sequences == {"otb2013": 51, "otb50": 50, "otb100": 100}[subset]
        ours = (100 * score.success_auc, 100 * score.precision_auc)
        paper = (float(row[iou_col]), float(row[prec_col]))
        if (name, subset) in PAPER_INCONSISTENT:
            assert abs(ours[0] - paper[0]) > 1.0, "if this now matches, the inconsistency note is wrong"
            continue
        assert ours[0] == pytest.approx(paper[0], abs=0.1), f"{name} {subset} IoU"
        assert ours[1] == pytest.approx(paper[1], abs=0.1), f"{name} {subset} prec. (area under precision curve)"
        checked += 1
    assert checked == 6 - sum(1 for n, s in PAPER_INCONSISTENT if s == subset)


@pytest.mark.parametrize("subset", list(TRE_COLUMNS))
def test_cfnet_table1_tre(shared_dir: Path, subset: str) -> None:
    """Every TRE cell of Table 1: the 20 runs of each .mat pooled per sequence (hits / frames), then averaged."""
    table = cfnet_table1(shared_dir)
    report = _score(shared_dir, subset, "tre")
    assert report.protocol == "tre"
    iou_col, prec_col = TRE_COLUMNS[subset]
    for name, row in table.items():
        score = report.trackers[name].score
        assert report.trackers[name].complete
        ours = (100 * score.success_auc, 100 * score.precision_auc)
        paper = (float(row[iou_col]), float(row[prec_col]))
        if (name, subset) in PAPER_INCONSISTENT:  # the same CFNet-conv5 OTB-2013 row is off for TRE too
            assert abs(ours[0] - paper[0]) > 0.5
            continue
        assert ours[0] == pytest.approx(paper[0], abs=0.1), f"{name} {subset} TRE IoU"
        assert ours[1] == pytest.approx(paper[1], abs=0.1), f"{name} {subset} TRE prec."


def test_cfnet_inconsistent_cell_repeats_cfnet_conv2(shared_dir: Path) -> None:
    """The paper's CFNet-conv5 OTB-2013 IoU repeats CFNet-conv2's; evalkit's value is what the files give."""
    table = cfnet_table1(shared_dir)
    assert table["CFNet-conv5"][2] == table["CFNet-conv2"][2]
    score = _score(shared_dir, "otb2013").trackers["CFNet-conv5"].score
    assert round(100 * score.success_auc, 1) == 58.9
    assert round(100 * score.precision_auc, 1) == 71.4


def test_cfnet_prec_column_is_not_precision_at_20px(shared_dir: Path) -> None:
    """The table's "prec." is the area under the precision curve: precision at 20 px is 5-8 points higher."""
    table = cfnet_table1(shared_dir)
    score = _score(shared_dir, "otb100").trackers["SiamFC-3s"].score
    assert abs(100 * score.precision_20 - float(table["SiamFC-3s"][11])) > 5
    assert round(score.precision_20, 3) == 0.771  # the FDSiamFC README's SiamFC DP on OTB-100 (T2)


@cache
def uav20l_published(shared: Path) -> dict[str, tuple[float, float]]:
    """tracker -> (success AUC, precision@20) from the UAV20L PROVENANCE table."""
    text = (shared / "data" / "results" / "uav20l_dcf" / "PROVENANCE.md").read_text()
    rows = parse_markdown_table(text, "Published numbers")
    return {r[0]: (float(r[1]), float(r[2])) for r in rows}


def test_uav20l_published_numbers(shared_dir: Path) -> None:
    """KCF, DSST, Staple, ECO-HC, SRDCF on UAV20L to +-0.001 with the default profile (NaN-GT frames are hits)."""
    published = uav20l_published(shared_dir)
    assert len(published) == 5
    suite = load_suite("uav20l", shared_dir / "data" / "uav123")
    report = score_ope(suite, discover_results(shared_dir / "data" / "results" / "uav20l_dcf"),
                       PROFILES.get("otb-toolkit"))
    for name, (auc, prec) in published.items():
        score = report.trackers[name].score
        assert score.n_sequences == 20 and score.n_frames == 58670
        assert score.success_auc == pytest.approx(auc, abs=0.001), name
        assert score.precision_20 == pytest.approx(prec, abs=0.001), name


def test_uav20l_precision_needs_nan_frames_as_hits(shared_dir: Path) -> None:
    """Counting NaN-GT frames as precision misses (pytracking's non-UAV rule) moves KCF far from the published 0.311."""
    suite = load_suite("uav20l", shared_dir / "data" / "uav123")
    sets = [rs for rs in discover_results(shared_dir / "data" / "results" / "uav20l_dcf") if rs.tracker == "KCF"]
    as_fail = score_ope(suite, sets, PROFILES.get("got10k")).trackers["KCF"].score
    assert as_fail.precision_20 < 0.30


def test_otb100_ground_truth_scores_0952(shared_dir: Path, tmp_path: Path) -> None:
    """The OTB-100 ground truth written as a result set scores 20/21 under the OTB toolkit's rules."""
    suite = load_suite("otb100", shared_dir / "data" / "otb100")
    folder = tmp_path / "GroundTruth"
    folder.mkdir()
    for seq in suite:
        np.savetxt(folder / f"{seq.name}.txt", seq.ground_truth, fmt="%.4f", delimiter=",")
    report = score_ope(suite, discover_results(folder), PROFILES.get("otb-toolkit"))
    score = report.trackers["GroundTruth"].score
    assert score.n_sequences == 100
    assert round(score.success_auc, 3) == 0.952
    assert score.precision_20 == 1.0
