"""The official vot-toolkit (0.9.0) runs an evalkit tracker on a workspace built from the demo suite, its own
analysis completes, and evalkit scores the same workspace.

- TraX: the toolkit starts ``python -m evalkit.interop.vot_trax`` and drives it through vot-trax; the in-process
  Python runtime is checked too. The boxes the toolkit stores are the ones the evalkit tracker gives when run
  directly on the same frames (0-based VOT coordinates, until the first failure).
- Scores: evalkit's per-sequence failures equal the failure codes the toolkit wrote, the toolkit's robustness
  (length-weighted failures per sequence) follows from them exactly, and per-sequence accuracy agrees with the
  toolkit's own ``compute_accuracy`` to the few points its pixel rasterisation differs by (see
  tests/test_vot_toolkit_compare.py for those rules).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.interop import vot_toolkit as vt

SEQUENCES = ["Dart", "Glide"]  # Dart: fast motion, KCF fails on it; Glide: an easy one
MAX_FRAMES = 60


@pytest.fixture(scope="module")
def demo() -> object:
    """Two demo sequences from the configured cache (generated there once, about 2 s, as `evalkit run` does)."""
    return load_suite("demo", None).subset(SEQUENCES)


@pytest.fixture(scope="module")
def evaluated(demo: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[vt.Workspace, dict[str, object]]:
    """A workspace with evalkit's KCF, evaluated and analysed by vot-toolkit through TraX."""
    require_module("vot")
    require_module("trax")
    ws = vt.build_workspace(tmp_path_factory.mktemp("ws") / "ws", demo, ["kcf"], max_frames=MAX_FRAMES)
    log = vt.evaluate(ws)
    assert "Evaluation concluded successfuly" in log  # (the toolkit's spelling)
    return ws, vt.analyse(ws)


def test_workspace_layout(evaluated: tuple[vt.Workspace, dict[str, object]]) -> None:
    """config.yaml, stack, trackers.ini (TraX entry) and VOT sequence folders with 0-based ground truth."""
    ws, _ = evaluated
    ini = (ws.root / "trackers.ini").read_text()
    assert "[evalkit_kcf]" in ini and "protocol = evalkit-trax" in ini and "command = evalkit.interop.vot_trax" in ini
    assert (ws.root / "sequences" / "list.txt").read_text().split() == SEQUENCES
    props = (ws.root / "sequences" / "Dart" / "sequence").read_text()
    assert "channels.color=color/%08d.jpg" in props and f"length={MAX_FRAMES}" in props
    assert len(list((ws.root / "sequences" / "Dart" / "color").iterdir())) == MAX_FRAMES
    meta = json.loads((ws.root / vt.METADATA).read_text())
    assert meta["eao_interval"] == [MAX_FRAMES // 4, MAX_FRAMES] and meta["trackers"] == ["kcf"]


def test_toolkit_ran_the_evalkit_tracker(demo: object, evaluated: tuple[vt.Workspace, dict[str, object]]) -> None:
    """The stored boxes are KCF's own, run directly on the same frames from the same 0-based box."""
    from evalkit.interop.vot_trax import build_tracker, read_rgb

    ws, _ = evaluated
    for seq in demo:  # type: ignore[attr-defined]
        lines = (ws.results / "evalkit_kcf" / "baseline" / seq.name / f"{seq.name}_001.txt").read_text().split()
        assert len(lines) == MAX_FRAMES and lines[0] == "1"
        tracker = build_tracker("kcf", {}, None)
        box0 = seq.ground_truth[0].copy()
        box0[:2] -= 1
        tracker.initialize(read_rgb(str(seq.frames[0])), box0)
        compared = 0
        for k in range(1, MAX_FRAMES):
            if "," not in lines[k]:
                break  # the first failure: the toolkit re-initialises from here on
            ours = np.asarray(tracker.update(read_rgb(str(seq.frames[k]))).box, dtype=np.float64)
            theirs = np.array([float(v) for v in lines[k].split(",")])
            np.testing.assert_allclose(theirs, ours, atol=1e-3, err_msg=f"{seq.name} frame {k + 1}")
            compared += 1
        assert compared >= 5


def test_toolkit_analysis_and_evalkit_scores_agree(evaluated: tuple[vt.Workspace, dict[str, object]]) -> None:
    """The toolkit's analysis completed; evalkit's failures and per-sequence accuracy agree with the toolkit's."""
    from vot.analysis.supervised import compute_accuracy
    from vot.dataset import load_dataset
    from vot.region.io import read_trajectory

    from evalkit.cli.vot_toolkit import toolkit_summary

    ws, analysis = evaluated
    theirs = toolkit_summary(analysis)["evalkit_kcf"]
    assert set(theirs) == {"accuracy", "failures", "eao"} and 0 < theirs["eao"] <= 1
    report = vt.score_workspace(ws)
    t = report.trackers["kcf"]
    assert t.complete and set(t.per_sequence) == set(SEQUENCES)
    dataset = load_dataset(str(ws.root / "sequences"))
    total_frames = 0
    weighted_failures = 0.0
    for name, seq_score in t.per_sequence.items():
        path = ws.results / "evalkit_kcf" / "baseline" / name / f"{name}_001.txt"
        codes = [ln for ln in path.read_text().split() if ln == "2"]
        assert seq_score.failures == len(codes)
        trajectory = read_trajectory(str(path))
        acc, _ = compute_accuracy(trajectory, dataset[name], burnin=10, ignore_unknown=True, bounded=True)
        assert seq_score.accuracy == pytest.approx(acc, abs=0.05), name
        total_frames += MAX_FRAMES
        weighted_failures += seq_score.failures * MAX_FRAMES
    assert t.per_sequence["Dart"].failures >= 1, "the fast sequence must exercise re-initialisation"
    assert theirs["failures"] == pytest.approx(weighted_failures / total_frames, abs=1e-9)
    assert 0 < report.trackers["kcf"].score.eao <= 1


def test_python_runtime_and_cli(demo: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The toolkit's in-process Python runtime gives the same results; the CLI builds, evaluates and scores."""
    require_module("vot")
    out = tmp_path / "ws"
    root = demo.sequences[0].frames[0].parents[2]  # type: ignore[attr-defined]
    assert main(["vot-toolkit", "workspace", "--suite", "demo", "--data-root", str(root), "--sequences", "Glide",
                 "--trackers", "kcf", "--max-frames", "30", "--runtime", "python", "--out", str(out)]) == 0
    assert "evalkit_kcf" in capsys.readouterr().out
    assert "protocol = evalkit-python" in (out / "trackers.ini").read_text()
    assert main(["vot-toolkit", "evaluate", str(out)]) == 0
    assert "analysis: " in capsys.readouterr().out
    assert main(["vot-toolkit", "score", str(out), "--format", "json", "--compare"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["trackers"]["kcf"]["failures"] == 0 and obj["trackers"]["kcf"]["accuracy"] > 0.5
    assert 0 < obj["vot_toolkit"]["evalkit_kcf"]["eao"] <= 1 and obj["vot_toolkit"]["evalkit_kcf"]["failures"] == 0
    in_process = (out / "results" / "evalkit_kcf" / "baseline" / "Glide" / "Glide_001.txt").read_text().split()
    assert len(in_process) == 30 and in_process[0] == "1"


def test_binary_results_are_read(evaluated: tuple[vt.Workspace, dict[str, object]], tmp_path: Path) -> None:
    """The toolkit's default binary results (.bin) read through its own reader give the same runs as text."""
    import shutil

    from vot.region.io import read_trajectory, write_trajectory_binary

    ws, _ = evaluated
    copy = tmp_path / "ws"
    shutil.copytree(ws.root, copy, symlinks=True)
    for txt in (copy / "results").rglob("*_001.txt"):
        regions = read_trajectory(str(txt))
        with open(txt.with_suffix(".bin"), "wb") as fp:
            write_trajectory_binary(fp, regions)
        txt.unlink()
    [text_set] = vt.read_workspace_results(ws)
    [bin_set] = vt.read_workspace_results(vt.open_workspace(copy))
    assert bin_set.tracker == "kcf" and set(bin_set.vot_runs) == set(text_set.vot_runs)
    for key, runs in text_set.vot_runs.items():
        np.testing.assert_array_equal(bin_set.vot_runs[key][0].codes, runs[0].codes)
        np.testing.assert_allclose(bin_set.vot_runs[key][0].regions, runs[0].regions, equal_nan=True)


def test_workspace_errors(demo: object, tmp_path: Path) -> None:
    """Unknown trackers and reused folders are refused with the reason."""
    from evalkit.errors import EvalkitError

    with pytest.raises(EvalkitError, match="unknown tracker 'kfc'"):
        vt.build_workspace(tmp_path / "a", demo, ["kfc"])
    vt.build_workspace(tmp_path / "b", demo, ["kcf"], max_frames=10)
    with pytest.raises(EvalkitError, match="already holds a vot-toolkit workspace"):
        vt.build_workspace(tmp_path / "b", demo, ["kcf"])
    with pytest.raises(EvalkitError, match="not a vot-toolkit workspace"):
        vt.open_workspace(tmp_path)


def test_named_stack_workspace_with_binary_results(shared_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A vot2018-stack workspace (VOT folder layout, no frames needed to score) whose results are in the toolkit's
    default binary format: `evalkit vot-toolkit score` gives the published EAO of LightTrack and NanoTrack."""
    require_module("vot")
    import re

    from vot.region.io import read_trajectory, write_trajectory_binary

    data = json.loads((shared_dir / "data" / "vot2018" / "VOT2018.json").read_text())
    ws = tmp_path / "ws"
    (ws / "sequences").mkdir(parents=True)
    (ws / "config.yaml").write_text("registry:\n- ./trackers.ini\nstack: vot2018\n")
    for name, item in data.items():
        folder = ws / "sequences" / name
        folder.mkdir()
        (folder / "groundtruth.txt").write_text("\n".join(",".join(f"{v:g}" for v in row) for row in item["gt_rect"]))
        (folder / "sequence").write_text(f"channels.color=color/%08d.jpg\nwidth={item['width']}\n"
                                         f"height={item['height']}\n")
        for tag in ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion"):
            (folder / f"{tag}.tag").write_text("\n".join(str(int(v)) for v in item[tag]))
    (ws / "sequences" / "list.txt").write_text("\n".join(data) + "\n")
    results = shared_dir / "data" / "results" / "vot2018"
    for txt in results.glob("*/baseline/*/*_001.txt"):
        target = ws / "results" / txt.relative_to(results).with_suffix(".bin")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fp:
            write_trajectory_binary(fp, read_trajectory(str(txt)))
    assert not list((ws / "results").rglob("*.txt"))
    assert main(["vot-toolkit", "score", str(ws), "--format", "json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["suite"] == "vot2018"
    published = (results / "PROVENANCE.md").read_text()
    for name in ("LightTrack", "NanoTrack"):
        eao = float(re.search(rf"{name} (\d\.\d+)", published).group(1))  # type: ignore[union-attr]
        assert scored["trackers"][name]["eao"] == pytest.approx(eao, abs=0.001), name
