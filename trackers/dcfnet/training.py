"""Training task for DCFNet (``evalkit train --tracker dcfnet|dcfnet-conv1|dcfnet-conv2|dcfnet-conv1-dilation``).

Pairs: template and search patches are crops of ``target size x (1 + padding)`` around the target in two frames at
most 10 apart (the paper: "each pair of frames within the nearest 10 frames"), resized to 125 px, mean-subtracted
RGB. Both features are multiplied by the cosine window (as the release's training net does), the CF layer learns a
filter on the template and responds on the search features; the loss is the squared error to the Gaussian target
(``|| g - y ||^2`` per pair, DCFNet eq. 4; the release's ``MSELoss(size_average=False)``), back-propagated through
the closed-form CF gradients. Schedule of the PyTorch release (``train_DCFNet.py``): batch 32, SGD momentum 0.9,
weight decay 1e-4, learning rate log-spaced from 1e-2 to 1e-5 over 50 epochs (here per step). An epoch is 100,000
pairs: the release's epoch was its curated crop set, whose size it does not record (evalkit's choice, a flag away).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from trackers.common.cf_layer import dcf_response, dcfnet_lambda
from trackers.common.crops import box_to_center, crop_and_resize
from trackers.common.windows import cosine_window, gaussian_label
from trackers.training.losses import response_regression_loss
from trackers.training.samplers import Pair
from trackers.training.task import TrainDefaults

RELEASE_SCHEDULE = TrainDefaults(batch_size=32, epochs=50, pairs_per_epoch=100_000, lr_start=1e-2, lr_end=1e-5,
                                 momentum=0.9, weight_decay=1e-4, max_frame_gap=10)


class DCFNetTask:
    """Response-regression training of a DCFNet feature network (a ``trackers.training.TrainTask``)."""

    weights_param = "weights"
    defaults = RELEASE_SCHEDULE

    def __init__(self, name: str = "dcfnet", arch: str = "released", crop_size: int = 125, padding: float = 2.0,
                 lambda0: float = 1e-4, output_sigma_factor: float = 0.1) -> None:
        self.name, self.arch, self.crop_size, self.padding, self.lambda0 = name, arch, crop_size, padding, lambda0
        self.window = torch.as_tensor(cosine_window(crop_size), dtype=torch.float32)
        sigma = crop_size / (1 + padding) * output_sigma_factor
        self.target = torch.as_tensor(gaussian_label(crop_size, sigma), dtype=torch.float32)

    def build_model(self) -> torch.nn.Module:
        """A fresh feature network (PyTorch's default initialisation, as the release)."""
        from trackers.dcfnet.network import DCFNetFeatures

        return DCFNetFeatures(self.arch)

    def _crop(self, image: NDArray[np.uint8], box: NDArray[np.float64]) -> NDArray[np.float32]:
        from trackers.dcfnet.network import RGB_MEAN

        centre, size = box_to_center(box)
        patch = crop_and_resize(image, centre, size * (1 + self.padding), self.crop_size, padding=0.0)
        patch = patch.astype(np.float32) - np.asarray(RGB_MEAN, dtype=np.float32)
        return np.ascontiguousarray(patch.transpose(2, 0, 1))

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Template and search patches, each centred on its frame's target."""
        return {"template": self._crop(pair.image_a, pair.box_a), "search": self._crop(pair.image_b, pair.box_b)}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Squared error between the CF response and the Gaussian target."""
        window = self.window.to(batch["template"].device)
        target = self.target.to(batch["template"].device)
        x = model(batch["template"]) * window
        z = model(batch["search"]) * window
        response = dcf_response(x, z, target, dcfnet_lambda(self.lambda0, *x.shape[1:]))
        return response_regression_loss(response[:, 0], target)

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The feature network's state dict (loads with ``--param dcfnet.weights=final.pth``)."""
        return dict(model.state_dict())


def dcfnet_task() -> DCFNetTask:
    """The released architecture."""
    return DCFNetTask("dcfnet", "released")


def dcfnet_conv1_task() -> DCFNetTask:
    """DCFNet-conv1."""
    return DCFNetTask("dcfnet-conv1", "conv1")


def dcfnet_conv2_task() -> DCFNetTask:
    """DCFNet-conv2."""
    return DCFNetTask("dcfnet-conv2", "conv2")


def dcfnet_conv1_dilation_task() -> DCFNetTask:
    """DCFNet-conv1-dilation."""
    return DCFNetTask("dcfnet-conv1-dilation", "conv1-dilation")
