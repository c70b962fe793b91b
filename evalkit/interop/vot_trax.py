"""TraX server that lets the official VOT toolkit (``vot-toolkit``, protocol ``traxpython``) run an evalkit tracker.

In a vot-toolkit ``trackers.ini``::

    [evalkit_kcf]
    label = evalkit kcf
    protocol = traxpython
    command = evalkit.interop.vot_trax
    env_EVALKIT_TRACKER = kcf
    env_EVALKIT_PARAMS = {"detect_thresh": 0.3}
    env_EVALKIT_DEVICE = cuda

``evalkit vot-toolkit workspace`` writes such entries. The toolkit starts ``python -m evalkit.interop.vot_trax``; the
server answers TraX requests: on ``initialize`` it reads the image (a file path), turns the region (rectangle, or a
polygon's bounding box) into an x,y,w,h box and calls ``Tracker.initialize``; on each ``frame`` it calls
``Tracker.update`` and reports the box (and the tracker's score as the ``confidence`` property when it has one).
Boxes pass through unchanged: VOT regions and evalkit adapter boxes are both 0-based pixel coordinates.
A tracker exception ends the process with the traceback on stderr, which the toolkit shows with the tracker's log.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

ENV_TRACKER = "EVALKIT_TRACKER"
ENV_PARAMS = "EVALKIT_PARAMS"
ENV_DEVICE = "EVALKIT_DEVICE"


def region_to_box(region: Any) -> NDArray[np.float64]:
    """x, y, w, h of a TraX region: a rectangle as it is, a polygon as its axis-aligned bounding box."""
    import trax

    if isinstance(region, trax.Rectangle):
        return np.asarray(region.bounds(), dtype=np.float64)
    if isinstance(region, trax.Polygon):
        pts = np.asarray([region.get(i) for i in range(region.size())], dtype=np.float64)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return np.array([x0, y0, x1 - x0, y1 - y0])
    raise ValueError(f"evalkit trackers take rectangles or polygons, got {type(region).__name__}")


def read_rgb(path: str) -> NDArray[np.uint8]:
    """An image file as RGB uint8 (what evalkit trackers take)."""
    import cv2

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def build_tracker(name: str, params: dict[str, Any], device: str | None) -> Any:
    """The registered evalkit tracker ``name`` with ``params``, weights loaded on ``device`` (or the best one)."""
    from evalkit.harness import pick_device
    from evalkit.registry import tracker_class

    cls = tracker_class(name)
    tracker = cls.from_mapping(params)
    tracker.load(pick_device(device) if getattr(cls, "needs_device", False) else "cpu")
    return tracker


def serve(name: str, params: dict[str, Any] | None = None, device: str | None = None) -> None:
    """Answer TraX requests with evalkit tracker ``name`` until the client quits."""
    import trax

    tracker = build_tracker(name, params or {}, device)
    with trax.Server([trax.Region.RECTANGLE, trax.Region.POLYGON], [trax.Image.PATH], ["color"],
                     tracker_name=f"evalkit-{name}", tracker_family="evalkit") as server:
        while True:
            request = server.wait()
            if request.type in (trax.TraxStatus.QUIT, trax.TraxStatus.ERROR):
                break
            frame = read_rgb(request.image["color"].path())
            if request.type == trax.TraxStatus.INITIALIZE:
                region, _ = request.objects[0]
                box = region_to_box(region)
                tracker.initialize(frame, box)
                server.status([(trax.Rectangle.create(*box.tolist()), {})])
                continue
            prediction = tracker.update(frame)
            x, y, w, h = (float(v) for v in prediction.box)
            properties = {} if prediction.score is None else {"confidence": float(prediction.score)}
            server.status([(trax.Rectangle.create(x, y, w, h), properties)])


def main() -> int:
    """``python -m evalkit.interop.vot_trax``: tracker from $EVALKIT_TRACKER, parameters (JSON) from $EVALKIT_PARAMS."""
    name = os.environ.get(ENV_TRACKER)
    if not name:
        print(f"evalkit.interop.vot_trax: set {ENV_TRACKER} to a registered tracker name", file=sys.stderr)
        return 2
    params = json.loads(os.environ.get(ENV_PARAMS) or "{}")
    serve(name, params, os.environ.get(ENV_DEVICE) or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
