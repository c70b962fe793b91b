"""Adapters between evalkit trackers and the trackers of got10k, pysot and pytracking, in both directions for got10k.

Run a foreign tracker object under evalkit's harness (no import of pysot or pytracking is needed here):

    from evalkit.harness import run_spec
    from got10k.trackers import IdentityTracker
    from trackers.interop import Got10kTracker, PysotTracker, PytrackingTracker

    outcome = run_spec(Got10kTracker(IdentityTracker()), seq, spec)
    outcome = run_spec(PysotTracker(build_tracker(model)), seq, spec)          # pysot: init / track
    outcome = run_spec(PytrackingTracker(DiMP(params)), seq, spec)             # pytracking: initialize / track

Run an evalkit tracker inside got10k's experiments:

    from got10k.experiments import ExperimentOTB
    from trackers.classic import KCF
    from trackers.interop import as_got10k

    ExperimentOTB("data/OTB", version=2015).run(as_got10k(KCF(), origin=1.0))

To register a wrapped tracker by name (``evalkit run --trackers siamrpn``), subclass the wrapper, set ``name``,
``deterministic`` and ``Params``, and build the foreign object in ``create(device)``, which ``load`` calls:

    class SiamRPN(PysotTracker):
        name = "siamrpn"
        Params = SiamRPNParams
        def create(self, device):
            cfg.merge_from_file(self.params.config)
            return build_tracker(load_pretrain(ModelBuilder(), self.params.snapshot).to(device).eval())

Coordinates. evalkit trackers always see 0-based x, y, w, h boxes (the harness subtracts 1 from OTB's 1-based
ground truth and adds it back to the output). got10k, pysot and pytracking hand their trackers the dataset's boxes
unchanged: 1-based on OTB, UAV123, LaSOT and TColor-128, 0-based on GOT-10k and VOT. Every adapter here therefore
takes ``origin``, the pixel origin of the boxes on the *foreign* side:

- ``origin=0.0`` (default): the foreign tracker sees evalkit's 0-based boxes, which is what its array indexing
  expects, on every benchmark alike.
- ``origin=1.0``: the foreign tracker sees exactly what its own toolkit would show it on a 1-based benchmark (OTB
  style), so its results there are reproduced exactly, one-pixel shift included.

Wrapping adds ``origin`` on the way in and subtracts it on the way out (``as_got10k`` the reverse), so with the same
``origin`` on both sides a round trip is the identity: ``Got10kTracker(as_got10k(t, origin=o), origin=o)`` behaves
as ``t``, and ``as_got10k(Got10kTracker(g, origin=o), origin=o)`` as ``g``.

Frames: evalkit passes RGB uint8 arrays; got10k trackers get PIL RGB images, pysot trackers BGR arrays (its
``cv2.imread`` convention) and pytracking trackers RGB arrays, as in their own toolkits.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from evalkit.tracker import Prediction, Tracker


class ForeignTracker(Tracker):
    """Shared logic of the wrappers: hold (or ``create`` at ``load``) the foreign tracker and shift boxes by origin."""

    origin: float = 0.0  # pixel origin of the foreign side's boxes (see the module docstring); subclasses may set it

    def __init__(self, tracker: Any | None = None, *, origin: float | None = None, params: Any | None = None,
                 **overrides: Any) -> None:
        super().__init__(params, **overrides)
        self.foreign = tracker
        if origin is not None:
            self.origin = float(origin)

    def create(self, device: str | None) -> Any:
        """Build the foreign tracker (weights included); registered subclasses override this, ``load`` calls it."""
        raise NotImplementedError(f"{type(self).__name__}: pass the foreign tracker object, or override create()")

    def load(self, device: str | None = None) -> None:
        """Build the foreign tracker through ``create`` unless one was passed to the constructor."""
        if self.foreign is None:
            self.foreign = self.create(device)

    def _tracker(self) -> Any:
        if self.foreign is None:
            raise RuntimeError(f"{type(self).__name__}: no foreign tracker; pass one or call load(device) first")
        return self.foreign

    def _to_foreign(self, box: NDArray[np.float64]) -> list[float]:
        """An evalkit (0-based) box as the plain list of floats the foreign tracker expects, shifted to its origin."""
        return [float(v) for v in np.asarray(box, dtype=np.float64) + [self.origin, self.origin, 0.0, 0.0]]

    def _from_foreign(self, box: Any) -> NDArray[np.float64]:
        """A foreign box (any 4-sequence) in evalkit's 0-based coordinates."""
        return np.asarray(box, dtype=np.float64).reshape(-1) - [self.origin, self.origin, 0.0, 0.0]


class Got10kTracker(ForeignTracker):
    """A got10k tracker (``init(PIL image, box)``, ``update(image) -> box``) as an evalkit tracker."""

    name = "got10k"

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """got10k's ``init`` on the frame as a PIL RGB image and the box shifted to ``origin``."""
        from PIL import Image

        self._tracker().init(Image.fromarray(frame), np.asarray(self._to_foreign(box)))

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """got10k's ``update``; got10k trackers report no confidence."""
        from PIL import Image

        return Prediction(self._from_foreign(self._tracker().update(Image.fromarray(frame))))


class PysotTracker(ForeignTracker):
    """A pysot tracker (``init(bgr, [x, y, w, h])``, ``track(bgr) -> {'bbox', 'best_score'}``) as an evalkit tracker."""

    name = "pysot"

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """pysot's ``init`` on the BGR frame (pysot reads frames with ``cv2.imread``)."""
        self._tracker().init(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), self._to_foreign(box))

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """pysot's ``track``: its ``bbox``, with ``best_score`` as the confidence when it reports one."""
        out = self._tracker().track(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        score = out.get("best_score")
        return Prediction(self._from_foreign(out["bbox"]), score=None if score is None else float(score))


class PytrackingTracker(ForeignTracker):
    """A pytracking tracker (``initialize(rgb, info)``, ``track(rgb, info) -> {'target_bbox'}``) as an evalkit one."""

    name = "pytracking"
    score_key = "object_presence_score"  # the output field read as confidence, when the tracker reports it

    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """pytracking's ``initialize`` with ``{'init_bbox': [x, y, w, h]}``, as its ``Tracker.run_sequence`` does."""
        out = self._tracker().initialize(frame, {"init_bbox": self._to_foreign(box)})
        self._previous: OrderedDict[str, Any] = OrderedDict(out or {})

    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """pytracking's ``track`` with ``{'previous_output': ...}`` (the last output, as pytracking passes it)."""
        out = self._tracker().track(frame, {"previous_output": self._previous})
        self._previous = OrderedDict(out)
        score = out.get(self.score_key)
        return Prediction(self._from_foreign(out["target_bbox"]), score=None if score is None else float(score))


@functools.cache
def _got10k_adapter_class() -> type:
    """got10k.trackers.Tracker subclass driving an evalkit tracker (built on first use: got10k is optional)."""
    from got10k.trackers import Tracker as Got10kBase

    class EvalkitInGot10k(Got10kBase):  # type: ignore[misc]
        """An evalkit tracker behind got10k's ``init`` / ``update`` (see ``as_got10k``)."""

        def __init__(self, tracker: Tracker, origin: float) -> None:
            super().__init__(name=type(tracker).name or type(tracker).__name__,
                             is_deterministic=type(tracker).deterministic)
            self.tracker = tracker
            self.offset = np.array([origin, origin, 0.0, 0.0])

        def init(self, image: Any, box: Any) -> None:
            self.tracker.initialize(_rgb_array(image), np.asarray(box, dtype=np.float64)[:4] - self.offset)

        def update(self, image: Any) -> NDArray[np.float64]:
            return self.tracker.update(_rgb_array(image)).box + self.offset

    return EvalkitInGot10k


def _rgb_array(image: Any) -> NDArray[np.uint8]:
    """A PIL image (got10k passes RGB ones) as the writable RGB uint8 H x W x 3 array evalkit trackers take."""
    if getattr(image, "mode", "RGB") != "RGB":
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)


def as_got10k(tracker: Tracker, origin: float = 0.0) -> Any:
    """``tracker`` as a got10k ``Tracker``, so got10k's experiments (``ExperimentOTB.run`` ...) can run it.

    got10k hands trackers the dataset's boxes unchanged; ``origin`` is their pixel origin (1.0 for ExperimentOTB,
    ExperimentUAV123, ExperimentTColor128; 0.0 for ExperimentGOT10k and ExperimentVOT). It is subtracted from the
    initial box, so the evalkit tracker sees the same 0-based box as under evalkit's harness, and added back to every
    returned box, so got10k records boxes in the dataset's coordinates, equal to what evalkit stores. The got10k name
    is the tracker's ``name``. Call ``tracker.load(device)`` first if it has weights.
    """
    return _got10k_adapter_class()(tracker, float(origin))
