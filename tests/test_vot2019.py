"""VOT2019 as distributed (issue 13, item 2): the 60-sequence list, the json's image sizes, short tag arrays.

Every public copy of VOT2019 (../shared/data/vot2019: the challenge's list.txt, pysot-toolkit's and video_analyst's
VOT2019.json) has ``pedestrian1`` where VOT2020 has ``hand02``. The dataset's own .tag files of graduate,
gymnastics1 and hand stop before the last frame; the toolkits read the missing tail as "tag absent", and evalkit
pads it so, with one line on stderr.

The scoring test builds a VOT-layout result folder from the ground truth: every frame reports the ground-truth
region (overlap 1) except known frames reported far outside the image (overlap 0), and known runs fail (a ``2``
line), skip 4 frames (``0``) and re-initialise 5 frames after the failure (``1``), as the supervised experiment
does. Failures, robustness, accuracy (10-frame burn-in after each initialisation) and the per-tag failures follow
by counting.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.base import Sequence, Suite
from evalkit.datasets.vot import suite_metadata

BURN_IN = 10
FAIL_AT = 20  # failure frame (0-based) of most failing runs
SHORT_TAGS = {"graduate": (768, 844), "gymnastics1": (553, 567), "hand": (264, 267)}


def _vot2019(shared: Path) -> Suite:
    return load_suite("vot2019", shared / "data/vot2019/VOT2019.json")


def test_vot2019_list_is_the_distributed_one(shared_dir: Path) -> None:
    names = suite_metadata("vot2019")["sequences"]
    listed = (shared_dir / "data/vot2019/list.txt").read_text().split()
    in_json = json.loads((shared_dir / "data/vot2019/VOT2019.json").read_text())
    assert len(names) == 60 and set(names) == set(listed) == set(in_json)
    assert "pedestrian1" in names and "hand02" not in names
    vot2018 = (shared_dir / "data/vot2018/list.txt").read_text().split()
    assert set(suite_metadata("vot2018")["sequences"]) == set(vot2018) and len(vot2018) == 60


def test_vot2019_loads_sizes_from_json_and_pads_short_tags(shared_dir: Path) -> None:
    suite = _vot2019(shared_dir)
    data = json.loads((shared_dir / "data/vot2019/VOT2019.json").read_text())
    assert len(suite) == 60 and suite.missing == []
    for seq in suite:
        assert seq.image_size == (data[seq.name]["width"], data[seq.name]["height"])
    for name, (given, n) in SHORT_TAGS.items():
        seq = suite[name]
        assert seq.n_frames == n
        short = [t for t in seq.tags if len(data[name][t]) == given]
        assert short and all(not seq.tags[t][given:].any() for t in short)
        assert all(seq.tags[t][:given].tolist() == [bool(v) for v in data[name][t]] for t in short)
    (notice,) = suite.notices
    text = str(notice)
    assert "VOT2019.json" in text and "\n" not in text
    assert "graduate (camera_motion, motion_change, size_change, occlusion: 768 of 844)" in text
    assert "gymnastics1" in text and "hand (motion_change, size_change: 264 of 267)" in text


def _line(region: np.ndarray) -> str:
    return ",".join(f"{v:.4f}" for v in region[np.isfinite(region)])


def _away(region: np.ndarray) -> np.ndarray:
    return region + 100000.0  # far outside any image: overlap 0, and not a failure (no `2` line)


def _write_run(path: Path, seq: Sequence, fail_at: int | None, zero: range) -> None:
    lines = []
    restart = None if fail_at is None else fail_at + 5
    for i, region in enumerate(seq.regions):
        if i == 0 or i == restart:
            lines.append("1")
        elif fail_at is not None and i == fail_at:
            lines.append("2")
        elif fail_at is not None and fail_at < i < restart:  # type: ignore[operator]
            lines.append("0")
        else:
            lines.append(_line(_away(region) if i in zero else region))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _plan(suite: Suite) -> dict[str, tuple[int | None, range]]:
    """Per sequence: failure frame (or None) and the frames reported far away (overlap 0)."""
    plan: dict[str, tuple[int | None, range]] = {}
    for k, seq in enumerate(suite):
        plan[seq.name] = (FAIL_AT, range(12, 17)) if k % 4 == 0 else (None, range(0))
    plan["graduate"] = (800, range(790, 793))  # the failure falls where 4 of its 5 tag arrays were padded
    plan["gymnastics1"] = (560, range(0))      # ... and 3 of 5 here
    plan["hand"] = (FAIL_AT, range(0))
    return plan


def test_vot2019_cli_scores_known_failures_and_accuracy(shared_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    suite = _vot2019(shared_dir)
    plan = _plan(suite)
    root = tmp_path / "R"
    for seq in suite:
        _write_run(root / "Known" / "baseline" / seq.name / f"{seq.name}_001.txt", seq, *plan[seq.name])

    # expectations by counting: scored = region frames outside the 10-frame burn-in after each initialisation
    scored = zeros = 0
    failures = 0
    tag_failures = dict.fromkeys([*suite.attribute_names, "empty"], 0)
    for seq in suite:
        fail_at, zero = plan[seq.name]
        n = seq.n_frames
        if fail_at is None:
            scored += n - BURN_IN
        else:
            restart = fail_at + 5
            scored += (fail_at - BURN_IN) + max(n - (restart + BURN_IN), 0)
            failures += 1
            tagged = [t for t, flags in seq.tags.items() if flags[fail_at]]
            for t in tagged or ["empty"]:
                tag_failures[t] += 1
        zeros += sum(1 for i in zero if i >= BURN_IN)
    assert suite["graduate"].tags["camera_motion"][800] == np.False_  # padded: tag absent

    rc = main(["score", "--suite", "vot2019", "--data-root", str(shared_dir / "data/vot2019/VOT2019.json"),
               "--results", str(root), "--format", "json", "--by-attribute", "--per-sequence"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert err.count("\n") == 1 and "note:" in err and "padded with 0 (tag absent)" in err
    report = json.loads(out)
    t = report["trackers"]["Known"]
    assert t["failures"] == failures >= 15
    assert t["robustness"] == pytest.approx(failures / 60)
    assert t["accuracy"] == pytest.approx((scored - zeros) / scored, abs=1e-12)
    assert np.isfinite(t["eao"])
    got = {r["attribute"]: r["failures"] for r in report["per_attribute"] if r["tracker"] == "Known"}
    assert {k: got[k] for k in tag_failures} == tag_failures


def test_short_tag_file_in_the_folder_layout_is_padded_with_a_notice(tmp_path: Path) -> None:
    """VOT toolkit folders: graduate with 3 frames, a camera_motion.tag of 2 lines -> the third frame is untagged."""
    seq = tmp_path / "graduate"
    seq.mkdir()
    (seq / "groundtruth.txt").write_text("1,1,10,10\n2,2,10,10\n3,3,10,10\n")
    (seq / "camera_motion.tag").write_text("1\n1\n")
    (seq / "occlusion.tag").write_text("0\n1\n1\n")
    (seq / "sequence").write_text("width=64\nheight=48\n")
    suite = load_suite("vot2019", tmp_path)
    assert [s.name for s in suite] == ["graduate"] and suite["graduate"].image_size == (64, 48)
    assert suite["graduate"].tags["camera_motion"].tolist() == [True, True, False]
    (notice,) = suite.notices
    assert "graduate (camera_motion: 2 of 3)" in str(notice) and "occlusion" not in str(notice)
