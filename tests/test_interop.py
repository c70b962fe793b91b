"""Interoperation: got10k, pysot and pytracking trackers under evalkit, evalkit trackers under got10k, entry points.

- evalkit's KCF run by got10k's own ``ExperimentOTB.run`` (through ``as_got10k``) on the real Couple and Crossing
  frames records the boxes evalkit's harness produces for KCF, within got10k's 3-decimal text format.
- got10k's ``IdentityTracker`` (and a drifting got10k tracker) run by evalkit's harness (through ``Got10kTracker``)
  give the boxes got10k's own ``Tracker.track`` gives, and see the initial box their ``origin`` asks for.
- Round trips through both got10k adapters are the identity; the pysot and pytracking wrappers, driven by tiny fakes
  of those interfaces, get the colour order and info dicts those toolkits use and return their boxes and scores.
- A distribution declaring an ``evalkit.trackers`` entry point is listed by ``evalkit list trackers``, loaded by
  ``tracker_class`` and runnable by ``evalkit run``; the registry is restored afterwards.

    .venv/bin/pytest tests/test_interop.py -q

The got10k cases need the ``got10k`` package (``make install-test``) and the reference data: skipped without them on
a developer machine, failed under CI (see ``conftest.py``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import require_module
from numpy.typing import NDArray

from evalkit import registry
from evalkit.cli import main
from evalkit.datasets import load_suite
from evalkit.datasets.base import Suite
from evalkit.harness import run_spec
from evalkit.protocols import expand
from evalkit.tracker import Prediction, Tracker
from trackers.classic import KCF
from trackers.interop import Got10kTracker, PysotTracker, PytrackingTracker, as_got10k

SEQUENCES = ("Couple", "Crossing")
OTB_ORIGIN = 1.0  # OTB's ground truth is 1-based; got10k's ExperimentOTB hands it to trackers unchanged
DRIFT = np.array([1.5, -0.5, 0.25, 0.0])  # per-frame motion of the fake trackers: sub-pixel, not symmetric


class FrameDataset:
    """Stand-in for got10k's OTB dataset class: ``(img_files, anno)`` per sequence, from an evalkit suite."""

    def __init__(self, suite: Suite) -> None:
        self.seq_names = [seq.name for seq in suite]
        self._items = [([str(p) for p in seq.frames or ()], seq.ground_truth.copy()) for seq in suite]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[list[str], NDArray[np.float64]]]:
        return ((files, anno.copy()) for files, anno in self._items)


@pytest.fixture(scope="module")
def got10k() -> tuple[ModuleType, ModuleType]:
    """``got10k.trackers`` and ``got10k.experiments``, imported with matplotlib's Agg backend."""
    require_module("matplotlib").use("Agg")
    return require_module("got10k.trackers"), require_module("got10k.experiments")


@pytest.fixture(scope="module")
def suite(shared_dir: Path) -> Suite:
    """Couple and Crossing: real OTB frames and 1-based ground truth."""
    return load_suite("otb100", shared_dir / "data" / "sequences", list(SEQUENCES))


def evalkit_boxes(tracker: Tracker, suite: Suite, name: str) -> NDArray[np.float64]:
    """Boxes (the benchmark's 1-based coordinates) of one OPE run of ``tracker`` under evalkit's harness."""
    seq = suite[name]
    [spec] = expand("ope", seq)
    outcome = run_spec(tracker, seq, spec, origin=OTB_ORIGIN)
    assert outcome.status == "ok", outcome.error
    assert outcome.boxes is not None
    return outcome.boxes


def run_in_experiment_otb(experiments: ModuleType, tracker: Any, suite: Suite, workdir: Path) -> dict[str, Any]:
    """Run a got10k tracker with got10k's own ExperimentOTB.run on ``suite``; return the boxes it recorded."""
    experiment = object.__new__(experiments.ExperimentOTB)  # its __init__ wants (and downloads) the full dataset
    experiment.dataset = FrameDataset(suite)
    experiment.result_dir = str(workdir / "results" / "OTB2015")
    experiment.report_dir = str(workdir / "reports" / "OTB2015")
    experiment.run(tracker)
    return {name: np.loadtxt(workdir / "results" / "OTB2015" / tracker.name / f"{name}.txt", delimiter=",")
            for name in SEQUENCES}


def test_kcf_inside_got10k_experiment_otb_matches_evalkit(got10k: tuple[ModuleType, ModuleType], suite: Suite,
                                                          tmp_path: Path) -> None:
    """got10k's ExperimentOTB.run records, for evalkit's KCF, the boxes evalkit's own harness produces."""
    _, experiments = got10k
    adapter = as_got10k(KCF(), origin=OTB_ORIGIN)
    assert adapter.name == "kcf" and adapter.is_deterministic is True
    recorded = run_in_experiment_otb(experiments, adapter, suite, tmp_path / "origin1")
    for name in SEQUENCES:
        ours = evalkit_boxes(KCF(), suite, name)
        assert recorded[name].shape == ours.shape == (suite[name].n_frames, 4)
        np.testing.assert_allclose(recorded[name], ours, rtol=0, atol=1e-3, err_msg=name)  # got10k writes %.3f
        np.testing.assert_array_equal(recorded[name][0], suite[name].ground_truth[0])
        assert len(np.unique(ours, axis=0)) >= 3, f"KCF never moved on {name}: the comparison would be vacuous"

    # The comparison sees the convention: KCF handed OTB's 1-based boxes as they are (origin 0) tracks otherwise.
    shifted = run_in_experiment_otb(experiments, as_got10k(KCF(), origin=0.0), suite, tmp_path / "origin0")
    assert any(np.abs(shifted[name] - evalkit_boxes(KCF(), suite, name)).max() >= 1 for name in SEQUENCES)


def test_got10k_identity_tracker_inside_evalkit(got10k: tuple[ModuleType, ModuleType], suite: Suite) -> None:
    """got10k's IdentityTracker under evalkit's harness gives the boxes of got10k's own IdentityTracker.track."""
    trackers, _ = got10k
    for name in SEQUENCES:
        seq = suite[name]
        theirs, _ = trackers.IdentityTracker().track([str(p) for p in seq.frames or ()], seq.ground_truth[0])
        for origin in (0.0, 1.0):
            ours = evalkit_boxes(Got10kTracker(trackers.IdentityTracker(), origin=origin), suite, name)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9, err_msg=f"{name}, origin {origin}")


def drifting_got10k_tracker(trackers: ModuleType) -> Any:
    """A got10k tracker that remembers the box it was given and moves it by ``DRIFT`` every frame."""

    class Drift(trackers.Tracker):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__(name="Drift", is_deterministic=True)
            self.images: list[Any] = []

        def init(self, image: Any, box: Any) -> None:
            self.init_box = np.array(box, dtype=np.float64)
            self.box = self.init_box.copy()
            self.images.append(image)

        def update(self, image: Any) -> NDArray[np.float64]:
            self.images.append(image)
            self.box = self.box + DRIFT
            return self.box

    return Drift()


@pytest.mark.parametrize("origin", [0.0, 1.0])
def test_got10k_tracker_sees_the_box_its_origin_asks_for(got10k: tuple[ModuleType, ModuleType], suite: Suite,
                                                         origin: float) -> None:
    """origin=1 hands a got10k tracker OTB's 1-based box, as got10k does; origin=0 evalkit's 0-based one."""
    trackers, _ = got10k
    seq = suite["Crossing"]
    wrapped = drifting_got10k_tracker(trackers)
    ours = evalkit_boxes(Got10kTracker(wrapped, origin=origin), suite, "Crossing")
    np.testing.assert_array_equal(wrapped.init_box, seq.ground_truth[0] - [1 - origin, 1 - origin, 0, 0])
    assert wrapped.images[0].mode == "RGB" and wrapped.images[0].size == (360, 240)
    own = drifting_got10k_tracker(trackers)
    theirs, _ = own.track([str(p) for p in seq.frames or ()], seq.ground_truth[0])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)  # the drift itself is unaffected by the shift
    np.testing.assert_array_equal(np.asarray(wrapped.images[5]), np.asarray(own.images[5]))  # same pixels


class DriftingEvalkitTracker(Tracker):
    """An evalkit tracker that remembers its initial box and moves it by ``DRIFT`` every frame."""

    name = "drift"

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        self.frames = [frame]
        self.init_box = np.asarray(box, dtype=np.float64).copy()
        self.box = self.init_box.copy()

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        self.frames.append(frame)
        self.box = self.box + DRIFT
        return Prediction(self.box, score=0.5)


def synthetic_frames(n: int = 4) -> list[NDArray[np.uint8]]:
    """Small RGB frames whose channels differ (red 200, green 100, blue = the frame index)."""
    frames = []
    for k in range(n):
        f = np.zeros((6, 8, 3), np.uint8)
        f[..., 0], f[..., 1], f[..., 2] = 200, 100, k
        frames.append(f)
    return frames


@pytest.mark.parametrize("origin", [0.0, 1.0])
def test_got10k_round_trips_are_the_identity(got10k: tuple[ModuleType, ModuleType], origin: float) -> None:
    """as_got10k(Got10kTracker(g)) behaves as g, and Got10kTracker(as_got10k(t)) as t, for the same origin."""
    from PIL import Image

    trackers, _ = got10k
    box = np.array([10.0, 20.0, 30.0, 40.0])
    frames = synthetic_frames()

    inner = drifting_got10k_tracker(trackers)
    outer = as_got10k(Got10kTracker(inner, origin=origin), origin=origin)
    outer.init(Image.fromarray(frames[0]), box)
    np.testing.assert_array_equal(inner.init_box, box)
    for k, f in enumerate(frames[1:], start=1):
        np.testing.assert_allclose(outer.update(Image.fromarray(f)), box + k * DRIFT, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(inner.images[-1]), frames[-1])

    evalkit_inner = DriftingEvalkitTracker()
    evalkit_outer = Got10kTracker(as_got10k(evalkit_inner, origin=origin), origin=origin)
    evalkit_outer.initialize(frames[0], box)
    np.testing.assert_array_equal(evalkit_inner.init_box, box)
    for k, f in enumerate(frames[1:], start=1):
        np.testing.assert_allclose(evalkit_outer.update(f).box, box + k * DRIFT, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(evalkit_inner.frames[-1], frames[-1])
    assert evalkit_inner.frames[-1].flags.writeable  # evalkit trackers get writable RGB arrays, as from the harness


class FakePysot:
    """pysot's tracker interface: ``init(bgr_image, [x, y, w, h])``, ``track(bgr_image) -> {'bbox', 'best_score'}``."""

    def init(self, img: NDArray[np.uint8], bbox: list[float]) -> None:
        self.images, self.init_bbox = [img], bbox
        self.box = np.array(bbox, dtype=np.float64)

    def track(self, img: NDArray[np.uint8]) -> dict[str, Any]:
        self.images.append(img)
        self.box = self.box + DRIFT
        return {"bbox": list(self.box), "best_score": np.float32(0.75)}


class FakePytracking:
    """pytracking's interface: ``initialize(image, info) -> dict | None``, ``track(image, info) -> {'target_bbox'}``."""

    def initialize(self, image: NDArray[np.uint8], info: dict[str, Any]) -> dict[str, Any] | None:
        self.images, self.infos = [image], [info]
        self.box = np.array(info["init_bbox"], dtype=np.float64)
        return None  # most pytracking trackers return nothing from initialize

    def track(self, image: NDArray[np.uint8], info: dict[str, Any]) -> dict[str, Any]:
        self.images.append(image)
        self.infos.append(info)
        self.box = self.box + DRIFT
        return {"target_bbox": self.box.tolist(), "object_presence_score": 0.25, "step": len(self.images)}


@pytest.mark.parametrize("origin", [0.0, 1.0])
def test_pysot_wrapper(origin: float) -> None:
    """pysot trackers get BGR frames and the box as a list of floats shifted to origin; 'bbox' and 'best_score' back."""
    fake = FakePysot()
    wrapper = PysotTracker(fake, origin=origin)
    frames = synthetic_frames()
    box = np.array([3.0, 4.0, 5.0, 6.0])
    wrapper.initialize(frames[0], box)
    assert fake.init_bbox == [3.0 + origin, 4.0 + origin, 5.0, 6.0] and isinstance(fake.init_bbox[0], float)
    for k, f in enumerate(frames[1:], start=1):
        pred = wrapper.update(f)
        np.testing.assert_allclose(pred.box, box + k * DRIFT, rtol=0, atol=1e-12)
        assert pred.score == 0.75 and type(pred.score) is float
    np.testing.assert_array_equal(fake.images[-1], frames[-1][..., ::-1])  # BGR, as pysot's cv2.imread gives


@pytest.mark.parametrize("origin", [0.0, 1.0])
def test_pytracking_wrapper(origin: float) -> None:
    """pytracking trackers get RGB frames, {'init_bbox'} and then {'previous_output'}; 'target_bbox' comes back."""
    fake = FakePytracking()
    wrapper = PytrackingTracker(fake, origin=origin)
    frames = synthetic_frames()
    box = np.array([3.0, 4.0, 5.0, 6.0])
    wrapper.initialize(frames[0], box)
    assert fake.infos[0] == {"init_bbox": [3.0 + origin, 4.0 + origin, 5.0, 6.0]}
    for k, f in enumerate(frames[1:], start=1):
        pred = wrapper.update(f)
        np.testing.assert_allclose(pred.box, box + k * DRIFT, rtol=0, atol=1e-12)
        assert pred.score == 0.25
    assert fake.infos[1] == {"previous_output": {}}
    assert fake.infos[2]["previous_output"]["step"] == 2  # the previous frame's output, as pytracking passes it
    np.testing.assert_array_equal(fake.images[-1], frames[-1])  # RGB, unchanged


@pytest.mark.parametrize("wrapper_cls, fake_cls", [(PysotTracker, FakePysot), (PytrackingTracker, FakePytracking)],
                         ids=["pysot", "pytracking"])
def test_wrappers_run_under_the_harness(suite: Suite, wrapper_cls: type, fake_cls: type) -> None:
    """A wrapped foreign tracker runs under evalkit's harness on real frames; with origin=1 it sees OTB's box."""
    fake = fake_cls()
    seq = suite["Couple"]
    boxes = evalkit_boxes(wrapper_cls(fake, origin=1.0), suite, "Couple")
    expected = seq.ground_truth[0] + np.arange(seq.n_frames)[:, None] * DRIFT
    np.testing.assert_allclose(boxes, expected, rtol=0, atol=1e-9)
    assert fake.box[:2].tolist() == pytest.approx((seq.ground_truth[0] + (seq.n_frames - 1) * DRIFT)[:2].tolist())
    assert len(fake.images) == seq.n_frames and fake.images[0].shape == (240, 320, 3)


class LazyPysot(PysotTracker):
    """A registered-style wrapper: the foreign tracker is built by ``create`` when ``load`` is called."""

    name = "lazy-pysot"

    def create(self, device: str | None) -> Any:
        self.device = device
        return FakePysot()


def test_wrapper_builds_its_foreign_tracker_at_load() -> None:
    """Subclasses build the foreign tracker in create(device), called by load(); without either, a clear error."""
    t = LazyPysot()
    with pytest.raises(RuntimeError, match="call load"):
        t.initialize(synthetic_frames()[0], np.array([1.0, 1, 2, 2]))
    t.load("cpu")
    assert t.device == "cpu" and isinstance(t.foreign, FakePysot)
    t.initialize(synthetic_frames()[0], np.array([1.0, 1, 2, 2]))
    assert t.update(synthetic_frames()[1]).box.tolist() == [2.5, 0.5, 2.25, 2.0]
    with pytest.raises(NotImplementedError, match="override create"):
        PysotTracker().load()


def test_wrapper_subclass_runs_by_file_with_evalkit_run(got10k: tuple[ModuleType, ModuleType], shared_dir: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A Got10kTracker subclass in a user's file runs under `evalkit run`; the runner's load() builds the tracker."""
    module = tmp_path / "identity.py"
    module.write_text(
        "from trackers.interop import Got10kTracker\n"
        "class Identity(Got10kTracker):\n"
        "    '''got10k's IdentityTracker, built at load().'''\n"
        "    name = 'got10k-identity'\n"
        "    origin = 1.0\n"
        "    def create(self, device):\n"
        "        from got10k.trackers import IdentityTracker\n"
        "        return IdentityTracker()\n"
    )
    monkeypatch.chdir(tmp_path)
    rc = main(["run", "--trackers", f"{module}:Identity", "--suite", "otb100", "--data-root",
               str(shared_dir / "data" / "sequences"), "--sequences", "Crossing", "--results-dir", str(tmp_path / "r"),
               "--format", "json", "--no-progress", "--bootstrap", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    assert json.loads(out)["runs"][0]["trackers"]["got10k-identity"]["n_frames"] == 120
    [boxes] = (tmp_path / "r" / "otb100" / "ope").glob("got10k-identity@*/Crossing/ope.txt")
    assert set(boxes.read_text().splitlines()) == {"205.0000,151.0000,17.0000,50.0000"}  # Crossing's first box


PLUGIN = '''"""A third-party tracker package, found through its evalkit.trackers entry point."""
import numpy as np
from evalkit.tracker import Prediction, Tracker


class StillTracker(Tracker):
    """Keeps the initial box (a plugin declared by an entry point)."""

    name = "ep-still"

    def initialize(self, frame, box):
        self.box = np.asarray(box, dtype=np.float64)

    def update(self, frame):
        return Prediction(self.box)
'''


@pytest.fixture
def plugin_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed-looking distribution on sys.path declaring ``ep-still`` in the evalkit.trackers group.

    importlib.metadata finds ``*.dist-info`` folders on sys.path, which is what ``pip install`` leaves behind. The
    registry's entry-point flag and its tracker table are replaced for the test and restored afterwards, so the
    plugin is never visible to other tests.
    """
    site = tmp_path / "site"
    dist_info = site / "evalkit_ep_demo-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: evalkit-ep-demo\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text("[evalkit.trackers]\nep-still = evalkit_ep_demo:StillTracker\n")
    (site / "evalkit_ep_demo.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry.TRACKERS, "_targets", dict(registry.TRACKERS._targets))
    try:
        yield site
    finally:
        sys.modules.pop("evalkit_ep_demo", None)


def test_entry_point_tracker_is_listed_loaded_and_run(plugin_distribution: Path, shared_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`evalkit list trackers` shows the entry point, tracker_class loads it and `evalkit run` runs it."""
    assert "ep-still" not in registry.TRACKERS
    assert main(["list", "trackers"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert any(line.split()[0] == "ep-still" and "entry point" in line for line in listing), listing
    assert {"kcf", "csrt"} <= {line.split()[0] for line in listing}  # built-ins still there
    cls = registry.tracker_class("ep-still")
    assert cls.__module__ == "evalkit_ep_demo" and cls.__name__ == "StillTracker"

    monkeypatch.chdir(tmp_path)
    rc = main(["run", "--trackers", "ep-still", "--suite", "otb100", "--data-root",
               str(shared_dir / "data" / "sequences"), "--sequences", "Crossing", "--results-dir", str(tmp_path / "r"),
               "--format", "json", "--no-progress", "--bootstrap", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    assert json.loads(out)["runs"][0]["trackers"]["ep-still"]["n_frames"] == 120
    [boxes] = (tmp_path / "r" / "otb100" / "ope").glob("ep-still@*/Crossing/ope.txt")
    assert set(boxes.read_text().splitlines()) == {"205.0000,151.0000,17.0000,50.0000"}  # Crossing's first box


def test_entry_point_registration_does_not_leak() -> None:
    """After the plugin test the registry is as before: no ep-still (whatever order the tests run in)."""
    assert "ep-still" not in registry.TRACKERS
