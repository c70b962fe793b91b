"""The tracker adapter interface: typed frozen parameters, the registry, --tracker-module, OpenCV adapters."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from evalkit.errors import EvalkitError
from evalkit.geometry import iou
from evalkit.harness import pick_device
from evalkit.registry import TRACKERS, tracker_class
from evalkit.tracker import ParameterError, Prediction, Tracker, build_params
from trackers.classic import CSRT, KCF, MIL, MOSSE, MedianFlow


@dataclass(frozen=True)
class _Params:
    scale: float = 1.0
    steps: int = 3
    use_hog: bool = True
    name: str | None = None
    window: tuple[int, int] = (5, 7)


def test_parameters_are_typed_frozen_and_strict() -> None:
    """Strings from a command line are converted; 'false' is False; unknown keys and bad values are errors."""
    p = build_params(_Params, {"scale": "2.5", "steps": "4", "use_hog": "false", "name": "none", "window": "3,9"})
    assert p == _Params(2.5, 4, False, None, (3, 9))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.scale = 3.0  # type: ignore[misc]
    with pytest.raises(ParameterError, match="did you mean 'steps'"):
        build_params(_Params, {"stpes": 3})
    with pytest.raises(ParameterError, match="not a boolean"):
        build_params(_Params, {"use_hog": "maybe"})
    with pytest.raises(ParameterError, match="not an integer"):
        build_params(_Params, {"steps": 2.5})
    assert issubclass(ParameterError, EvalkitError)  # the CLI prints it as a message, not a traceback


def test_prediction_checks_its_box() -> None:
    """A prediction holds exactly four floats."""
    assert Prediction([1, 2, 3, 4]).box.dtype == np.float64
    with pytest.raises(ValueError):
        Prediction([1, 2, 3])


def test_pick_device_prefers_cuda_and_needs_no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit device wins; else CUDA exactly when torch sees a GPU; without torch (core install) the CPU."""
    import torch

    assert pick_device("cuda:1") == "cuda:1"
    assert pick_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == "cuda"
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets when torch is not installed
    assert pick_device() == "cpu"


def test_registry_names_and_suggestions() -> None:
    """The five OpenCV trackers are registered; a typo gets a suggestion."""
    assert set(TRACKERS.names()) >= {"kcf", "csrt", "mosse", "mil", "medianflow"}
    assert tracker_class("KCF") is KCF
    with pytest.raises(EvalkitError, match="did you mean 'csrt'"):
        tracker_class("crst")


def test_tracker_module_loads_a_users_file(tmp_path: Path) -> None:
    """--tracker-module path/to/file.py:ClassName imports the class from that file."""
    f = tmp_path / "mine.py"
    f.write_text(
        "from evalkit.tracker import Tracker, Prediction\n"
        "class Still(Tracker):\n"
        "    name = 'still'\n"
        "    def initialize(self, frame, box):\n"
        "        self.box = box\n"
        "    def update(self, frame):\n"
        "        return Prediction(self.box)\n"
    )
    cls = tracker_class(f"{f}:Still")
    t = cls()
    t.initialize(np.zeros((4, 4, 3), np.uint8), np.array([1.0, 1, 2, 2]))
    assert t.update(np.zeros((4, 4, 3), np.uint8)).box.tolist() == [1, 1, 2, 2]
    with pytest.raises(EvalkitError, match="defines no 'Nope'"):
        tracker_class(f"{f}:Nope")
    with pytest.raises(EvalkitError, match="does not exist"):
        tracker_class(f"{tmp_path / 'missing.py'}:X")


def _moving_square(n: int = 12) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A textured square moving 3 px right per frame over a smooth background (RGB frames, 0-based boxes)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:160]
    background = np.stack([(xx * 1.2) % 255, (yy * 1.5) % 255, np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    noise = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    patch = cv2.normalize(cv2.GaussianBlur(noise, (5, 5), 2), None, 0, 255, cv2.NORM_MINMAX)
    frames, boxes = [], []
    for k in range(n):
        f = background.copy()
        x, y = 30 + 3 * k, 40
        f[y:y + 32, x:x + 32] = patch
        frames.append(f)
        boxes.append(np.array([x, y, 32, 32], dtype=np.float64))
    return frames, boxes


@pytest.mark.parametrize("cls", [KCF, CSRT, MOSSE, MIL, MedianFlow], ids=lambda c: c.name)
def test_opencv_trackers_follow_a_moving_square(cls: type[Tracker]) -> None:
    """Every OpenCV adapter runs on RGB frames and stays on an easy target."""
    frames, boxes = _moving_square()
    t = cls()
    t.load(None)
    t.initialize(frames[0], boxes[0])
    preds = [t.update(f) for f in frames[1:]]
    assert all(p.box.shape == (4,) for p in preds)
    if cls.deterministic:
        assert abs(preds[-1].box[0] - boxes[-1][0]) < 6, f"{cls.name} drifted: {preds[-1].box} vs {boxes[-1]}"
    else:  # MIL samples at random (OpenCV's RNG seed does not fix it): over 40 runs here it always stayed on the
        # target but sometimes 15 px behind, so only overlap is asserted for it
        overlaps = iou(np.array([p.box for p in preds]), np.array(boxes[1:]))
        assert (overlaps > 0).all(), f"{cls.name} lost the target: overlaps {overlaps.round(2).tolist()}"


def test_opencv_parameters_reach_opencv() -> None:
    """A KCF parameter is passed to OpenCV (a huge detection threshold makes it report the target lost)."""
    frames, boxes = _moving_square()
    strict = KCF(detect_thresh="100")
    strict.initialize(frames[0], boxes[0])
    default = KCF()
    default.initialize(frames[0], boxes[0])
    assert any(strict.update(f).score == 0.0 for f in frames[1:4])
    assert all(default.update(f).score == 1.0 for f in frames[1:4])
    assert KCF().params.detect_thresh is None
