"""NfS-30, added as one loader (evalkit/datasets/nfs.py), one metadata file (data/nfs.json) and one registry line:
the suite loads from pytracking's layout, scores results, and the preflight names its layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.base import package_data


def _layout(root: Path, names: dict[str, int]) -> None:
    """Ground truth for the named sequences (tab separated, as pytracking's converted NfS)."""
    (root / "anno").mkdir(parents=True)
    for name, n in names.items():
        boxes = np.column_stack([np.arange(n) + 10.0, np.full(n, 20.0), np.full(n, 30.0), np.full(n, 40.0)])
        np.savetxt(root / "anno" / f"nfs_{name}.txt", boxes, fmt="%.2f", delimiter="\t")


def test_nfs_metadata_is_the_benchmark() -> None:
    """100 sequences, unique names, frame counts >= 1, the occlusion subset as an attribute."""
    entries = package_data("nfs.json")["sequences"]
    assert len(entries) == 100 and len({e["name"] for e in entries}) == 100
    assert all(e["frames"] >= 1 for e in entries)
    assert 0 < sum(e["occlusion"] for e in entries) < 100


def test_nfs_loads_and_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two sequences of the layout load (partial), occlusion is the OCC attribute, and their ground truth scored
    against itself gives the OTB toolkit's perfect-tracker AUC, 20/21."""
    entries = {e["name"]: e for e in package_data("nfs.json")["sequences"]}
    names = {"bee": entries["bee"]["frames"], "Skydiving": entries["Skydiving"]["frames"]}
    _layout(tmp_path / "nfs", names)
    suite = load_suite("nfs", tmp_path / "nfs")
    assert [s.name for s in suite] == ["Skydiving", "bee"] and len(suite.missing) == 98
    assert "OCC" in suite["Skydiving"].attributes and "OCC" not in suite["bee"].attributes
    results = tmp_path / "results" / "perfect"
    results.mkdir(parents=True)
    for name in names:
        np.savetxt(results / f"{name}.txt", suite[name].ground_truth, fmt="%.4f", delimiter=",")
    assert main(["score", "--suite", "nfs", "--data-root", str(tmp_path / "nfs"), "--results",
                 str(tmp_path / "results"), "--allow-partial", "--bootstrap", "0", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)["trackers"]["perfect"]
    assert abs(out["success_auc"] - 20 / 21) < 1e-12 and out["n_sequences"] == 2


def test_preflight_names_the_nfs_layout(tmp_path: Path) -> None:
    """The loader's LAYOUT is what a wrong data root's fix names (no table elsewhere to update)."""
    from evalkit.preflight import preflight

    [problem] = preflight([], suites=["nfs"], data_roots={"nfs": str(tmp_path)})
    assert "anno/nfs_<name>.txt" in problem.fix
