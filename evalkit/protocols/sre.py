"""Spatial robustness evaluation (SRE): 12 runs from the first start frame with perturbed initial boxes.

    >>> shift_initial_box((10, 20, 30, 40), "left", image_size=(320, 240))
    (7.0, 20.0, 30.0, 40.0)

The perturbations are the OTB toolkit's ``shiftInitBB.m`` (tracker_benchmark v1.0/v1.1), applied to the first TRE
segment (the first usable start frame), in the toolkit's ``shiftTypeSet`` order:

- ``left`` / ``right`` / ``up`` / ``down``: x or y moved by ``ceil(0.1 w)`` / ``ceil(0.1 h)``;
- ``topLeft`` / ``topRight`` / ``bottomLeft`` / ``bottomRight``: that corner moved outwards by ``round(0.1 w)`` and
  ``round(0.1 h)`` (the moved coordinate is rounded), the opposite corner kept (inclusive right edge x + w - 1);
- ``scale_8`` / ``scale_9`` / ``scale_11`` / ``scale_12``: w, h times 0.8 .. 1.2 about the centre (x + w/2, y + h/2),
  all four values rounded (``scale_7`` and ``scale_13`` exist in the toolkit too and are accepted);
- then clipped to the image: x, y raised to 1 (the size kept), w, h cut so that x + w - 1 <= W and y + h - 1 <= H.

``round`` is MATLAB's (halves away from zero, not numpy's halves-to-even) and ``0.1 * w`` is the same IEEE product
MATLAB computes, so the boxes match the toolkit's bit for bit. The image size is that of the sequence's first frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as SequenceABC

from evalkit.datasets.base import Sequence, read_image_size
from evalkit.errors import EvalkitError
from evalkit.protocols.base import Box, RunSpec, initial_box

PROTOCOL = "sre"
SRE_SHIFTS = ("left", "right", "up", "down", "topLeft", "topRight", "bottomLeft", "bottomRight",
              "scale_8", "scale_9", "scale_11", "scale_12")
_SCALES = {"scale_7": 0.7, "scale_8": 0.8, "scale_9": 0.9, "scale_11": 1.1, "scale_12": 1.2, "scale_13": 1.3}


def matlab_round(v: float) -> float:
    """MATLAB's ``round``: halves away from zero (``round(8.5) = 9``, ``round(-2.5) = -3``)."""
    a = abs(v)
    f = math.floor(a)
    r = f + 1.0 if a - f >= 0.5 else float(f)  # a - f is exact for doubles; floor(a + 0.5) is not
    return math.copysign(r, v) if r else 0.0


def shift_initial_box(box: SequenceABC[float], shift: str, image_size: tuple[int, int]) -> Box:
    """The box ``shiftInitBB`` makes from ``box`` (x, y, w, h, 1-based) for ``shift`` in an image (width, height)."""
    x, y, w, h = (float(v) for v in box)
    img_w, img_h = image_size
    br_x, br_y = x + w - 1, y + h - 1
    if shift in _SCALES:
        ratio = _SCALES[shift]
        cx, cy = x + w / 2, y + h / 2
        sw, sh = ratio * w, ratio * h
        x, y, w, h = (matlab_round(v) for v in (cx - sw / 2, cy - sh / 2, sw, sh))
    elif shift == "left":
        x = x - math.ceil(0.1 * w)
    elif shift == "right":
        x = x + math.ceil(0.1 * w)
    elif shift == "up":
        y = y - math.ceil(0.1 * h)
    elif shift == "down":
        y = y + math.ceil(0.1 * h)
    elif shift in ("topLeft", "topRight", "bottomLeft", "bottomRight"):
        if shift in ("topLeft", "bottomLeft"):
            x = matlab_round(x - 0.1 * w)
        else:
            br_x = matlab_round(br_x + 0.1 * w)
        if shift in ("topLeft", "topRight"):
            y = matlab_round(y - 0.1 * h)
        else:
            br_y = matlab_round(br_y + 0.1 * h)
        w, h = br_x - x + 1, br_y - y + 1
    else:
        known = ", ".join((*SRE_SHIFTS, "scale_7", "scale_13"))
        raise EvalkitError(f"unknown SRE shift {shift!r}; one of {known}")
    x, y = max(x, 1.0), max(y, 1.0)
    if x + w - 1 > img_w:
        w = img_w - x + 1
    if y + h - 1 > img_h:
        h = img_h - y + 1
    return (float(x), float(y), float(w), float(h))


def first_frame_size(seq: Sequence) -> tuple[int, int]:
    """Width and height of the sequence's first frame (the image the toolkit clips SRE boxes to)."""
    if seq.frames is None:
        raise EvalkitError(f"{seq.name}: SRE needs the image size; no frames are known (pass image_size)")
    return read_image_size(seq.frames[0])


def sre_runs(seq: Sequence, image_size: tuple[int, int] | None = None,
             shifts: SequenceABC[str] = SRE_SHIFTS) -> list[RunSpec]:
    """The SRE runs of ``seq`` (labels ``sre-<shift>``), all from the first usable start frame to the end.

    ``image_size`` is (width, height); when omitted it is read from the sequence's first frame.
    """
    size = image_size if image_size is not None else first_frame_size(seq)
    start = seq.first_start_index()
    box = initial_box(seq, start)
    return [RunSpec(seq.name, start, seq.n_frames, shift_initial_box(box, shift, size), PROTOCOL,
                    f"{PROTOCOL}-{shift}", seq.frame_number(start))
            for shift in shifts]
