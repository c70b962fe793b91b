"""Mean centre location error (CLE) of one run, the pixel figure some papers print beside OP and DP (DCFNet's Table 2).

    >>> sequence_centre_error([[0.0, 0, 10, 10]], [[3.0, 4, 10, 10]])
    5.0

Arrays in, a number out: the mean Euclidean distance between predicted and ground-truth centres (x + (w - 1) / 2, as
the OTB toolkit computes centres) over the frames whose ground truth is valid (finite, positive size), frames with a
non-finite prediction left out. The suite mean over result sets is :mod:`evalkit.scoring.centre_error`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from evalkit import geometry


def sequence_centre_error(pred: ArrayLike, gt: ArrayLike, first_frame_from_gt: bool = False) -> float:
    """Mean centre error (pixels) of ``pred`` against ``gt`` (N x 4, x y w h); NaN when no frame can be measured.

    ``first_frame_from_gt`` replaces the first prediction by the ground truth, as profiles that score the
    initialisation frame as given do (the OTB toolkit); the inputs are never modified.
    """
    boxes = geometry.as_boxes(pred)  # a copy: the first row may be replaced
    truth = geometry.view_boxes(gt)
    if first_frame_from_gt and len(boxes):
        boxes[0] = truth[0]
    valid = geometry.valid_boxes(truth)
    errors = geometry.center_error(boxes[valid], truth[valid])
    errors = errors[np.isfinite(errors)]
    return float(errors.mean()) if errors.size else float("nan")
