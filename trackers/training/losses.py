"""Training losses of the Siamese / correlation-filter trackers, with their label maps.

    labels, weights = logistic_labels(33, stride=4, radius=8.0)          # CFNet: positives within 8 px of centre
    loss = balanced_logistic_loss(scores, labels, weights)               # scores: (B, 1, 33, 33) raw logits
    loss = response_regression_loss(response, target)                    # DCFNet: || g - g~ ||^2 per pair

``logistic_labels`` follows SiamFC/CFNet: a cell is positive when its distance to the response centre, in input pixels
(cells x total stride), is at most ``radius``; positives and negatives each carry half the total weight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch


def logistic_labels(size: int | tuple[int, int], stride: float, radius: float) -> tuple[NDArray[np.float32],
                                                                                        NDArray[np.float32]]:
    """Labels in {0, 1} and balanced weights (summing to 1) for a response map of ``size`` cells."""
    h, w = (size, size) if isinstance(size, int) else size
    ys = np.arange(h) - (h - 1) / 2.0
    xs = np.arange(w) - (w - 1) / 2.0
    dist = np.hypot(ys[:, None], xs[None, :]) * stride
    labels = (dist <= radius).astype(np.float32)
    n_pos = float(labels.sum())
    n_neg = float(labels.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        kind = "positives" if n_pos == 0 else "negatives"
        raise ValueError(f"radius {radius} px with stride {stride} gives no {kind} on a {h}x{w} response")
    weights = np.where(labels > 0, 0.5 / n_pos, 0.5 / n_neg).astype(np.float32)
    return labels, weights


def balanced_logistic_loss(scores: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the weighted element-wise logistic loss (labels 0/1, per-map weights summing to 1)."""
    import torch.nn.functional as F

    scores = scores.float()
    per_cell = F.binary_cross_entropy_with_logits(scores, labels.expand_as(scores).float(), reduction="none")
    return (per_cell * weights.expand_as(scores)).flatten(1).sum(1).mean()


def response_regression_loss(response: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """DCFNet's loss: squared error between the CF response and the desired Gaussian, summed per pair, batch mean."""
    diff = response.float() - target.expand_as(response).float()
    return diff.pow(2).flatten(1).sum(1).mean()
