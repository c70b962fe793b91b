"""`evalkit run` on a VOT suite: supervised runs with re-initialisation, multistart anchor runs, scored end to end.

The VOT data root is built in the test in the VOT folder layout (``list.txt``, ``<seq>/groundtruth.txt`` with
polygons, ``<seq>/color/00000001.jpg``) from two demo sequences under VOT2018 sequence names, so the whole path
(loader, protocol, harness, store, VOT scoring) runs on real files. Hand-computed answers come from trackers whose
behaviour is fixed: one that reports a far-away box from a chosen frame on, so every failure and re-initialisation
frame is known in advance.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.demo import load_demo

NAMES = {"Glide": "ants1", "Zoom": "bag"}  # demo sequence -> a VOT2018 name (the suite's list decides the names)

STUCK_TRACKER = '''
import numpy as np
from evalkit.tracker import Prediction, Tracker

class Stuck(Tracker):
    """Follows the ground truth it was given for LIMIT frames, then reports a box far from any target."""
    name = "stuck"
    deterministic = True
    LIMIT = 3

    def initialize(self, frame, box):
        self.box = np.asarray(box, float)
        self.k = 0

    def update(self, frame):
        self.k += 1
        if self.k > self.LIMIT:
            return Prediction([-500.0, -500.0, 10.0, 10.0])
        return Prediction(self.box)
'''


@pytest.fixture(scope="module")
def vot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VOT-layout folder: two demo sequences, ground truth as 4-vertex polygons (0-based), frames as color/."""
    demo = load_demo("demo", tmp_path_factory.mktemp("cache"))
    root = tmp_path_factory.mktemp("vot2018")
    for demo_name, vot_name in NAMES.items():
        seq = demo[demo_name]
        folder = root / vot_name / "color"
        folder.mkdir(parents=True)
        assert seq.frames is not None
        for i, src in enumerate(seq.frames, start=1):
            shutil.copyfile(src, folder / f"{i:08d}.jpg")
        lines = []
        for x, y, w, h in seq.ground_truth - np.array([1.0, 1.0, 0.0, 0.0]):  # OTB 1-based -> VOT 0-based
            if not np.isfinite([x, y, w, h]).all():
                lines.append("0")  # VOT: no region in this frame
                continue
            lines.append(",".join(f"{v:.2f}" for v in (x, y, x + w, y, x + w, y + h, x, y + h)))
        (root / vot_name / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    (root / "list.txt").write_text("\n".join(NAMES.values()) + "\n")
    return root


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    rc = main(["run", *args, "--format", "json", "--no-progress", "--bootstrap", "0"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def test_supervised_failures_and_reinitialisation_by_hand(vot_root: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A tracker that fails on its 4th update: init at row r, boxes r+1..r+3, failure at r+4, next init at r+9."""
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "stuck.py"
    module.write_text(STUCK_TRACKER)
    rc, obj = _run(["--tracker-module", f"{module}:Stuck", "--suite", "vot2018", "--data-root", str(vot_root),
                    "--sequences", "ants1", "--results-dir", str(tmp_path / "res")], capsys)
    assert rc == 0
    [run] = obj["runs"]
    assert run["protocol"] == "vot-supervised" and run["partial"] is True
    suite = load_suite("vot2018", vot_root, ["ants1"])
    n = suite["ants1"].n_frames
    # expected codes, computed by hand from the rules: 1 at init, the 3 followed boxes, 2 at the failure,
    # 0 for the 4 skipped frames, re-initialisation 5 frames after the failure
    expected = []
    row = 0
    while row < n:
        expected.append("1")
        for k in range(1, 4):
            if row + k < n:
                expected.append("box")
        if row + 4 < n:
            expected.append("2")
        expected.extend("0" for r in range(row + 5, min(row + 9, n)))
        row += 9
    expected = expected[:n]
    folder = next((tmp_path / "res" / "vot2018" / "vot-supervised").glob("stuck@*"))
    runs = sorted(p for p in (folder / "ants1").glob("vot-*.txt") if not p.name.endswith(".time.txt"))
    assert [p.stem for p in runs] == ["vot-001", "vot-002", "vot-003"]  # deterministic: 3 repetitions
    lines = runs[0].read_text().splitlines()
    assert [("box" if "," in line else line) for line in lines] == expected
    assert run["trackers"]["stuck"]["failures"] == expected.count("2")
    assert run["trackers"]["stuck"]["robustness"] == pytest.approx(expected.count("2"))  # one sequence
    # the followed frames repeat the initial box: their overlaps are known, and accuracy skips 10 burn-in frames
    # after every (re-)initialisation, so with failures every 9 frames no frame is scored at all
    assert run["trackers"]["stuck"]["accuracy"] is None


def test_supervised_run_scores_like_evalkit_score(vot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """KCF under the supervised protocol: scores printed by `run` equal `evalkit score` on the stored results."""
    monkeypatch.chdir(tmp_path)
    rc, obj = _run(["--trackers", "kcf", "--suite", "vot2018", "--data-root", str(vot_root), "--sequences",
                    "ants1,bag", "--results-dir", str(tmp_path / "res")], capsys)
    assert rc == 0
    [run] = obj["runs"]
    kcf = run["trackers"]["kcf"]
    assert set(kcf) == {"eao", "accuracy", "robustness", "failures", "failures_per_100", "n_sequences", "complete"}
    assert kcf["n_sequences"] == 2 and kcf["complete"] is True
    assert 0.3 < kcf["accuracy"] <= 1.0 and kcf["failures"] >= 0
    rc = main(["score", "--suite", "vot2018", "--data-root", str(vot_root), "--results", str(tmp_path / "res"),
               "--sequences", "ants1,bag", "--format", "json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["trackers"] == run["trackers"]


def test_multistart_run_and_score(vot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Multistart: anchor runs forwards and backwards are stored in frame order and scored with VOT2020 rules."""
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "stuck.py"
    module.write_text(STUCK_TRACKER)
    rc, obj = _run(["--tracker-module", f"{module}:Stuck", "--suite", "vot2018", "--data-root", str(vot_root),
                    "--sequences", "ants1", "--protocol", "vot-multistart", "--results-dir", str(tmp_path / "res")],
                   capsys)
    assert rc == 0
    [run] = obj["runs"]
    assert run["protocol"] == "vot-multistart"
    seq = load_suite("vot2018", vot_root, ["ants1"])["ants1"]
    n = seq.n_frames
    folder = next((tmp_path / "res" / "vot2018" / "vot-multistart").glob("stuck@*"))
    anchors = sorted(p.stem for p in (folder / "ants1").glob("anchor-*.txt") if not p.name.endswith(".time.txt"))
    expected_anchors = [(i, 1 if n - i >= i + 1 else -1) for i in range(0, n, 50)]
    assert anchors == sorted(f"anchor-{r:05d}-{'forward' if d > 0 else 'backward'}" for r, d in expected_anchors)
    # By hand: every run scores 0 at its anchor (VOT2020's initialisation marker), then the 3 followed frames
    # (overlap q_k of the anchor box with the region there), then 0. A run fails at the first of 10 consecutive
    # frames with overlap <= 0.1 (index 4 when every q_k > 0.1); a run shorter than that never fails.
    from evalkit.geometry.region import region_overlap

    total_overlap, total_progress, total_len = 0.0, 0, 0
    for row, direction in expected_anchors:
        rows = list(range(row, n)) if direction > 0 else list(range(row, -1, -1))
        box = seq.ground_truth[row]
        pred = np.array([np.r_[box, [np.nan] * 4]] * 3)
        q = region_overlap(pred, seq.regions[rows[1:4]], np.tile(np.asarray(seq.image_size, float), (3, 1)))
        values = np.r_[0.0, q, np.zeros(len(rows) - 4)][: len(rows)]
        low = values <= 0.1
        progress = len(rows)
        for start in range(len(rows)):
            if low[start:start + 10].all() and start + 10 <= len(rows):
                progress = start
                break
        total_overlap += values[:progress].sum()
        total_progress += progress
        total_len += len(rows)
    stuck = run["trackers"]["stuck"]
    assert stuck["n_runs"] == len(expected_anchors) and stuck["n_sequences"] == 1
    assert stuck["accuracy"] == pytest.approx(total_overlap / total_progress if total_progress else 0.0, abs=1e-12)
    assert stuck["robustness"] == pytest.approx(total_progress / total_len, abs=1e-12)


def test_vot_protocol_checks(vot_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """TRE on a VOT suite and vot-supervised on an OTB suite are refused with the reason."""
    assert main(["run", "--trackers", "kcf", "--suite", "vot2018", "--data-root", str(vot_root), "--sequences",
                 "ants1", "--protocol", "tre", "--results-dir", str(tmp_path)]) == 2
    assert "vot-supervised" in capsys.readouterr().err
    assert main(["score", "--suite", "otb100", "--data-root", str(tmp_path), "--results", str(tmp_path),
                 "--protocol", "vot-supervised"]) == 2
    assert "needs a VOT suite" in capsys.readouterr().err


def test_score_vot2018_command(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evalkit score --suite vot2018`: the published EAO to 0.001, with accuracy and failures in JSON and table."""
    args = ["score", "--suite", "vot2018", "--data-root", str(shared_dir / "data" / "vot2018" / "VOT2018.json"),
            "--results", str(shared_dir / "data" / "results" / "vot2018")]
    assert main([*args, "--format", "json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["suite"] == "vot2018" and obj["protocol"] == "vot-supervised" and obj["partial"] is False
    light, nano = obj["trackers"]["LightTrack"], obj["trackers"]["NanoTrack"]
    assert light["eao"] == pytest.approx(0.418, abs=1e-3) and nano["eao"] == pytest.approx(0.311, abs=1e-3)
    assert (light["failures"], nano["failures"]) == (38, 70)
    assert isinstance(light["failures"], int)
    assert main([*args, "--by-attribute"]) == 0
    table = capsys.readouterr().out
    assert "EAO interval [100, 356]" in table and "occlusion" in table
    row = next(line for line in table.splitlines() if line.startswith("LightTrack"))
    assert row.split()[1:5] == ["0.418", "0.529", "0.633", "38"]


def test_one_store_two_protocols(vot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A store holding KCF's supervised and multistart runs: `score` picks the protocol's folders; `report` says
    which folder to point at instead of mixing them."""
    monkeypatch.chdir(tmp_path)
    res = str(tmp_path / "res")
    base = ["--trackers", "kcf", "--suite", "vot2018", "--data-root", str(vot_root), "--sequences", "ants1",
            "--results-dir", res]
    _, supervised = _run(base, capsys)
    _, multistart = _run([*base, "--protocol", "vot-multistart"], capsys)
    common = ["score", "--suite", "vot2018", "--data-root", str(vot_root), "--sequences", "ants1", "--results", res,
              "--format", "json"]
    assert main(common) == 0
    assert json.loads(capsys.readouterr().out)["trackers"] == supervised["runs"][0]["trackers"]
    assert main([*common, "--protocol", "vot-multistart"]) == 0
    assert json.loads(capsys.readouterr().out)["trackers"] == multistart["runs"][0]["trackers"]
    assert main(["report", "--data-root", f"vot2018={vot_root}", "--results", res, "--sequences", "ants1",
                 "--out", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert "several protocols (vot-multistart, vot-supervised)" in err and "vot-supervised" in err


def test_multistart_report_section(vot_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`evalkit report` on stored multistart runs gives them their own section through the scorer registry: the
    A / R / EAO table with the tracker's numbers, the same as `evalkit score --protocol vot-multistart`."""
    pypdf = pytest.importorskip("pypdf")
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "stuck.py"
    module.write_text(STUCK_TRACKER)
    res = str(tmp_path / "res")
    rc, obj = _run(["--tracker-module", f"{module}:Stuck", "--suite", "vot2018", "--data-root", str(vot_root),
                    "--sequences", "ants1", "--protocol", "vot-multistart", "--results-dir", res], capsys)
    assert rc == 0
    scores = obj["runs"][0]["trackers"]["stuck"]
    out = tmp_path / "ms.pdf"
    assert main(["report", "--data-root", f"vot2018={vot_root}", "--results", res, "--sequences", "ants1",
                 "--bootstrap", "0", "--out", str(out), "--no-progress"]) == 0
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
    assert "VOT2018 — VOT multistart" in text and "VOT2020 rules" in text
    values = r"\s+".join(f"{scores[k]:.3f}" for k in ("eao", "accuracy", "robustness"))
    assert re.search(rf"stuck\s+{values}", text), text
