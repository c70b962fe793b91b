"""The built-in demo suite: deterministic, atomic and concurrent-safe generation, attributes as declared, ground truth
that matches the rendered pixels, scoring through the OTB profile, and a real OpenCV tracker running on it.

The full suite is generated once per module into a temporary folder (about 2 s); atomicity and concurrency use a
two-sequence definition of a few frames.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from evalkit.datasets import demo, load_suite
from evalkit.datasets.base import Suite, package_data
from evalkit.errors import InputFileError
from evalkit.geometry import iou
from evalkit.registry import PROFILES
from evalkit.results import discover_results
from evalkit.scoring.ope import score_ope

DEFN = demo.definition()
SEED = int(DEFN["seed"])
SIZE = (int(DEFN["image_size"][0]), int(DEFN["image_size"][1]))
ENTRIES = {e["name"]: e for e in DEFN["sequences"]}

# sha256 of each groundtruth_rect.txt of demo v1: a change to the paths, the plan or the text format must come with
# a version bump in data/demo.json (and new values here), or caches of the old version would be reused as if equal
GOLDEN_GT_SHA256 = {
    "Glide": "ebca6163e477117583a61a80cbe2fe2d55362efb197a023da5b6e3ca0946640c",
    "Zoom": "49457594b050903c25b5529dfde7fb014ae794b230573a7919cfd2e9687d177c",
    "Dart": "944b5bfdeb61389f13cef8f04f2cf8f0abd10566292cde4908ff3baf7af972f1",
    "Veil": "0997fbe9a8622a570c50244951dab0fd25d908e75a9266c8a04a9e1913daec4b",
    "Dusk": "072591b9e15eb6ae83e3829e2e6d99992729a985ae2013fd9d21e1c500f0b200",
    "Exit": "6b27b2cd90e83aca7b72ce0f24056cd9b23f5fbc84a5f8990145172789a0c81e",
    "Swarm": "efaf99add332c950e0ea358bbf6c0ff7de747b1f1f11ca9d9d755cd6e85a97e4",
    "Speck": "95363bb141b781ec281dc8df678c236f28267b432bcc6b1e77c7d5af95b4c107",
}


def tiny_definition(version: str = "test") -> dict[str, Any]:
    """Two short sequences of the shipped definition, under their own version (so their own folder)."""
    defn = copy.deepcopy(DEFN)
    defn["version"] = version
    defn["sequences"] = [dict(ENTRIES["Glide"], frames=6), dict(ENTRIES["Exit"], frames=5)]
    return defn


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the generated demo suite."""
    root = tmp_path_factory.mktemp("cache")
    demo.ensure_demo(root, progress=False)
    return root


@pytest.fixture(scope="module")
def suite(demo_root: Path) -> Suite:
    """The demo suite loaded the way the CLI loads suites."""
    return load_suite("demo", demo_root)


def plan(name: str) -> demo.SequencePlan:
    """The plan of a shipped sequence."""
    return demo.plan_sequence(ENTRIES[name], SEED, SIZE)


def read_rgb(path: Path) -> NDArray[np.uint8]:
    """A frame as RGB."""
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def all_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, relative, sorted."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------- loading and layout


def test_loads_through_the_registry_with_otb_layout(suite: Suite, demo_root: Path) -> None:
    """load_suite("demo", root) gives the definition's sequences, frame ranges and attributes, family otb."""
    folder = demo_root / "demo" / f"v{DEFN['version']}"
    assert [s.name for s in suite] == list(ENTRIES)
    assert suite.family == "otb" and not suite.is_partial and suite.missing == []
    assert suite.attribute_names == DEFN["attribute_names"]
    assert set(suite.attribute_names) <= set(package_data("otb.json")["attribute_names"])
    for seq in suite:
        entry = ENTRIES[seq.name]
        assert seq.n_frames == entry["frames"] and seq.start_frame == 1
        assert seq.attributes == frozenset(entry["attributes"])
        assert seq.frames is not None and seq.frames[0] == folder / seq.name / "img" / "0001.jpg"
        assert all(p.is_file() for p in seq.frames)
        assert (folder / seq.name / "groundtruth_rect.txt").is_file()
        assert read_rgb(seq.frames[0]).shape == (SIZE[1], SIZE[0], 3)
    assert not list((demo_root / "demo").glob(".*partial*"))


def test_manifest_records_version_seed_attributes_and_checksums(demo_root: Path) -> None:
    """The manifest names the generator version and seed, and the sha256 of each ground-truth file."""
    folder = demo_root / "demo" / f"v{DEFN['version']}"
    manifest = demo.read_manifest(folder)
    assert manifest["version"] == DEFN["version"] and manifest["seed"] == SEED
    for e in manifest["sequences"]:
        data = (folder / e["groundtruth"]).read_bytes()
        assert e["groundtruth_sha256"] == hashlib.sha256(data).hexdigest() == GOLDEN_GT_SHA256[e["name"]]
        assert e["attributes"] == ENTRIES[e["name"]]["attributes"]
        assert e["end_frame"] - e["start_frame"] + 1 == ENTRIES[e["name"]]["frames"]


def test_root_none_uses_the_configured_cache(demo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_demo("demo", None) finds (or generates) the suite under Config.cache ($EVALKIT_CACHE here)."""
    monkeypatch.setenv("EVALKIT_CACHE", str(demo_root))
    suite = demo.load_demo("demo", None)
    assert str(demo_root) in suite.source and len(suite) == len(ENTRIES)


def test_root_may_name_the_generated_folder_itself(demo_root: Path) -> None:
    """--data-root pointing at <cache>/demo/v1 works as well as the cache folder."""
    folder = demo_root / "demo" / f"v{DEFN['version']}"
    assert [s.name for s in load_suite("demo", folder)] == list(ENTRIES)


def test_a_changed_ground_truth_file_is_refused(demo_root: Path, tmp_path: Path) -> None:
    """A ground-truth file that no longer matches the manifest's sha256 is an error naming the file."""
    import shutil

    folder = tmp_path / "v1"
    shutil.copytree(demo_root / "demo" / f"v{DEFN['version']}", folder)
    gt = folder / "Glide" / "groundtruth_rect.txt"
    gt.write_text("1" + gt.read_text()[1:])  # 64.3993 -> 14.3993 on the first line
    with pytest.raises(InputFileError, match="Glide.groundtruth_rect.txt.*sha256"):
        demo.load_demo("demo", folder)


# --------------------------------------------------------------------------------------------------- determinism


def test_generation_is_deterministic(demo_root: Path, tmp_path: Path) -> None:
    """A second generation writes byte-identical files (ground truth, manifest, JPEGs), so identical pixels."""
    first = demo_root / "demo" / f"v{DEFN['version']}"
    second = demo.ensure_demo(tmp_path, progress=False)
    assert all_files(first) == all_files(second)
    for rel in all_files(first):
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    for name in ENTRIES:  # and decoded: the pixels a tracker sees
        for jpg in ("0001.jpg", f"{ENTRIES[name]['frames'] // 2:04d}.jpg"):
            a, b = (read_rgb(f / name / "img" / jpg) for f in (first, second))
            assert np.array_equal(a, b), (name, jpg)


def test_ground_truth_is_pinned() -> None:
    """The plans' ground truth is what v1 always produced (golden sha256, no rendering needed)."""
    for name, entry in ENTRIES.items():
        text = demo.format_ground_truth(demo.plan_sequence(entry, SEED, SIZE).ground_truth)
        assert hashlib.sha256(text.encode()).hexdigest() == GOLDEN_GT_SHA256[name], name


# ------------------------------------------------------------------------------------- attributes and geometry


@pytest.mark.parametrize("name", list(ENTRIES))
def test_attributes_are_exhibited_as_declared(name: str) -> None:
    """Each sequence shows exactly the challenges it declares, by OTB's thresholds, and starts on a clean frame."""
    p = plan(name)
    assert demo.exhibited_attributes(p) == set(ENTRIES[name]["attributes"])
    assert np.isfinite(p.ground_truth[0]).all() and (p.ground_truth[0] > 0).all()
    assert np.allclose(p.ground_truth[0, 2:], p.boxes[0, 2:])  # whole target in view at initialisation
    assert p.occluded[0] == 0 and p.gain[0] == 1 and p.contrast[0] == 1
    for box in p.distractors[0]:  # nothing of the target's texture touches the first box
        assert demo._overlap(box, p.boxes[0]) == 0


def test_out_of_view_rows_are_nan_exactly_where_the_target_is_outside(suite: Suite) -> None:
    """Exit: NaN rows exactly where less than a pixel of the target is inside; clipped boxes while partly out."""
    p = plan("Exit")
    width, height = SIZE
    b = p.boxes
    inside_w = np.minimum(b[:, 0] + b[:, 2], width) - np.maximum(b[:, 0], 0)
    inside_h = np.minimum(b[:, 1] + b[:, 3], height) - np.maximum(b[:, 1], 0)
    outside = (inside_w < 1) | (inside_h < 1)
    gt = suite["Exit"].ground_truth
    assert 10 <= outside.sum() < len(gt) // 2
    assert np.array_equal(np.isnan(gt).any(axis=1), outside)
    assert np.isnan(gt[outside]).all()
    partly = ~outside & (inside_w < b[:, 2] - 1e-9)
    assert partly.sum() >= 4
    assert np.allclose(gt[partly, 2], inside_w[partly], atol=1e-4)
    assert (gt[~outside, 0] + gt[~outside, 2] - 1 <= width + 1e-4).all()  # clipped to the image, 1-based
    for name in ENTRIES:  # the others stay in view: their ground truth is the whole box
        if "OV" not in ENTRIES[name]["attributes"]:
            assert np.allclose(suite[name].ground_truth[:, 2:], plan(name).boxes[:, 2:], atol=1e-4), name


def test_nan_frames_show_at_most_a_sliver_of_the_target() -> None:
    """Rendering Exit's NaN frames with the target removed changes no more than a one-pixel-wide strip."""
    p = plan("Exit")
    scene = demo.build_scene(ENTRIES["Exit"], SEED, p)
    away = p.boxes.copy()
    away[:, 0] = -10_000.0
    gone = replace(p, boxes=away)
    for k in np.flatnonzero(np.isnan(p.ground_truth).any(axis=1)):
        diff = np.abs(demo.render_frame(scene, p, k).astype(int) - demo.render_frame(scene, gone, k).astype(int))
        assert (diff.max(axis=2) > 8).sum() <= p.boxes[k, 3] + 2, k


def _crop(frame: NDArray[np.uint8], box: NDArray[np.float64], out_w: int, out_h: int) -> NDArray[np.float32]:
    """The region of a 0-based x, y, w, h box resampled to out_w x out_h (pixel centres mapped exactly)."""
    x, y, w, h = box
    m = np.array([[w / out_w, 0, x + 0.5 * w / out_w - 0.5], [0, h / out_h, y + 0.5 * h / out_h - 0.5]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(frame, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)


@pytest.mark.parametrize("name", list(ENTRIES))
def test_ground_truth_box_holds_the_rendered_target(suite: Suite, name: str) -> None:
    """In a clean frame (no occluder, light change, blur or clipping) the image at the ground-truth box is the
    target's texture, and that box fits better than the same box moved by a pixel or half a pixel."""
    p = plan(name)
    scene = demo.build_scene(ENTRIES[name], SEED, p)
    clean = np.flatnonzero((p.occluded == 0) & (p.gain == 1) & (p.contrast == 1) & (np.hypot(*p.blur.T) < 1)
                           & np.isclose(p.ground_truth[:, 2:], p.boxes[:, 2:]).all(axis=1))
    seq = suite[name]
    assert seq.frames is not None
    for k in (clean[0], clean[-1]):
        frame = read_rgb(seq.frames[k])
        box = seq.ground_truth[k] - [1, 1, 0, 0]  # 1-based file -> 0-based pixels
        out_w, out_h = max(8, round(box[2])), max(8, round(box[3]))
        texture = cv2.resize(scene.target, (out_w, out_h), interpolation=cv2.INTER_AREA)
        shifts = (-1.0, -0.5, 0.0, 0.5, 1.0)
        mad = {(dx, dy): float(np.abs(_crop(frame, box + [dx, dy, 0, 0], out_w, out_h) - texture)[1:-1, 1:-1].mean())
               for dx in shifts for dy in shifts}
        assert mad[0.0, 0.0] < 16, (k, mad[0.0, 0.0])
        assert min(mad, key=mad.__getitem__) == (0.0, 0.0) or mad[0.0, 0.0] - min(mad.values()) < 0.1, (k, mad)
        assert all(mad[s] > mad[0.0, 0.0] for s in mad if max(abs(s[0]), abs(s[1])) == 1.0), (k, mad)


# ---------------------------------------------------------------------------------------------------- scoring


def test_ground_truth_scored_as_a_result_gets_20_of_21(suite: Suite, tmp_path: Path) -> None:
    """Under the OTB toolkit's rules the ground truth scores 20/21 success AUC (IoU 1 is not > 1) on every sequence
    in view; Exit's NaN frames count as failures, as the toolkit counts frames without usable ground truth."""
    folder = tmp_path / "GroundTruth"
    folder.mkdir()
    for seq in suite:
        np.savetxt(folder / f"{seq.name}.txt", seq.ground_truth, fmt="%.4f", delimiter=",")
    report = score_ope(suite, discover_results(folder), PROFILES.get("otb-toolkit"), allow_partial=False,
                       resamples=0)
    gt_score = report.trackers["GroundTruth"]
    assert gt_score.complete and not report.partial and gt_score.score.n_sequences == len(ENTRIES)
    expected = {}
    for seq in suite:
        visible = float(np.isfinite(seq.ground_truth).all(axis=1).mean())
        expected[seq.name] = 20 / 21 * visible
        assert gt_score.per_sequence[seq.name].success_curve().mean() == pytest.approx(expected[seq.name], abs=1e-12)
    assert expected["Exit"] < 20 / 21 and all(v == 20 / 21 for n, v in expected.items() if n != "Exit")
    assert gt_score.score.success_auc == pytest.approx(np.mean(list(expected.values())), abs=1e-12)
    assert gt_score.score.precision_20 == 1.0
    for code in DEFN["attribute_names"]:
        assert code in gt_score.per_attribute  # every attribute has at least one sequence


def test_an_opencv_tracker_follows_the_easy_sequence(suite: Suite) -> None:
    """CSRT (opencv-contrib) tracks Glide's first 20 frames with a sensible overlap."""
    seq = suite["Glide"]
    assert seq.frames is not None
    gt = seq.ground_truth[:20] - [1, 1, 0, 0]
    tracker = cv2.TrackerCSRT_create()
    tracker.init(cv2.imread(str(seq.frames[0])), tuple(int(round(v)) for v in gt[0]))
    boxes = [gt[0]]
    for path in seq.frames[1:20]:
        ok, box = tracker.update(cv2.imread(str(path)))
        boxes.append(np.asarray(box, float) if ok else boxes[-1])
    assert iou(np.array(boxes), gt).mean() > 0.3


# ------------------------------------------------------------------------------------- atomicity, concurrency


def test_a_crash_mid_generation_leaves_no_complete_looking_suite(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame writer failing after a few frames leaves no suite folder and no partial one; the next call
    regenerates the whole suite."""
    defn = tiny_definition()
    real_writer = demo._write_frame
    written = []
    lock = threading.Lock()

    def failing_writer(path: Path, rgb: NDArray[np.uint8], quality: int) -> None:
        with lock:
            written.append(path)
            if len(written) > 3:
                raise OSError("disk full (simulated)")
        real_writer(path, rgb, quality)

    monkeypatch.setattr(demo, "_write_frame", failing_writer)
    with pytest.raises(OSError, match="simulated"):
        demo.ensure_demo(tmp_path, defn, progress=False)
    assert list(tmp_path.rglob(demo.MANIFEST)) == []
    assert list((tmp_path / "demo").iterdir()) == []  # neither the suite folder nor a partial one
    monkeypatch.setattr(demo, "_write_frame", real_writer)
    folder = demo.ensure_demo(tmp_path, defn, progress=False)
    assert folder == tmp_path / "demo" / "vtest"
    assert len(list(folder.rglob("*.jpg"))) == 11
    assert [e["name"] for e in demo.read_manifest(folder, defn)["sequences"]] == ["Glide", "Exit"]


_HARD_CRASH = """
import json, os, sys
import cv2
from pathlib import Path
from evalkit.datasets import demo
calls = []
def dying_writer(path, rgb, quality):
    calls.append(path)
    if len(calls) > 3:
        os._exit(3)  # killed: no exception handler or cleanup runs
    cv2.imwrite(str(path), rgb)
demo._write_frame = dying_writer
demo.ensure_demo(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), progress=False)
"""

_GENERATE = """
import json, sys
from pathlib import Path
from evalkit.datasets import demo
print(demo.ensure_demo(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), progress=False))
"""


def _python(code: str, root: Path) -> subprocess.Popen[bytes]:
    """A Python process running ``code`` on the tiny definition, generating under ``root``."""
    spec = root.parent / f"{root.name}-definition.json"
    spec.write_text(json.dumps(tiny_definition()))
    repo = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-c", code, str(root), str(spec)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_a_killed_generation_leaves_only_a_partial_folder(tmp_path: Path) -> None:
    """A process killed mid-generation leaves a hidden partial folder, never the suite folder; the next call
    generates the suite, and partial folders older than an hour are removed."""
    root = tmp_path / "cache"
    proc = _python(_HARD_CRASH, root)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err.decode()
    leftovers = list((root / "demo").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".vtest.partial-")
    assert not (leftovers[0] / demo.MANIFEST).exists()
    old = time.time() - 2 * 3600
    os.utime(leftovers[0], (old, old))
    folder = demo.ensure_demo(root, tiny_definition(), progress=False)
    assert (folder / demo.MANIFEST).is_file()
    assert [p.name for p in (root / "demo").iterdir()] == ["vtest"]


def test_the_loser_of_a_generation_race_uses_the_winners_folder(tmp_path: Path) -> None:
    """A generation that finishes second discards its own copy and keeps the first one's files untouched."""
    defn = tiny_definition()
    folder = tmp_path / "demo" / "vtest"
    demo.generate(folder, defn, progress=False)
    first = {p: (folder / p).stat().st_ino for p in all_files(folder)}
    assert demo.generate(folder, defn, progress=False) == folder  # as if it had started before the first finished
    assert {p: (folder / p).stat().st_ino for p in all_files(folder)} == first
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["vtest"]


def test_two_processes_generating_at_once_agree(tmp_path: Path) -> None:
    """Two processes asked for the suite at the same time both return the same complete folder."""
    root = tmp_path / "cache"
    procs = [_python(_GENERATE, root) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.decode() for _, e in outs]
    assert {o.decode().strip() for o, _ in outs} == {str(root / "demo" / "vtest")}
    assert [p.name for p in (root / "demo").iterdir()] == ["vtest"]
    assert len(list((root / "demo" / "vtest").rglob("*.jpg"))) == 11
    demo.read_manifest(root / "demo" / "vtest", tiny_definition())
