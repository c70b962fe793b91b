"""Training SiamFC through the shared trainer (trackers.training): the task and the training-pair crops.

    evalkit train --tracker siamfc --data got10k:/data/GOT-10k --out runs/siamfc        # 50 epochs, as released
    evalkit train --tracker siamfc --data demo --out /tmp/siamfc --max-steps 50         # CPU smoke run
    evalkit run --trackers siamfc --param siamfc.weights=runs/siamfc/final.pth --suite otb100

As the SiamFC PyTorch release: pairs at most 100 frames apart; the exemplar is a 127 crop of ``sqrt((w+p)(h+p))``
around the first box, the search a 255 crop of that size x 255/127 around the second box, each side stretched by up
to 5% and the search shifted by up to 4 px (half a response cell) so the centre label stays right; balanced logistic
loss with positives within 16 px of the centre (2 cells of stride 8); SGD momentum 0.9, weight decay 5e-4, lr
1e-2 -> 1e-5 geometric, batch 8, 50 epochs of 53,200 pairs (GOT-10k / ILSVRC-VID). CUDA + autocast when present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from trackers.common.crops import box_to_center, context_size, crop_and_resize, mean_colour
from trackers.training.losses import balanced_logistic_loss, logistic_labels
from trackers.training.task import TrainDefaults

if TYPE_CHECKING:
    import torch

    from trackers.training.samplers import Pair


def pair_crops(pair: Pair, rng: np.random.Generator, exemplar: int = 127, instance: int = 255, context: float = 0.5,
               stretch: float = 0.05, max_shift: float = 4.0) -> tuple[NDArray[np.uint8], NDArray[np.uint8],
                                                                        NDArray[np.float64]]:
    """Exemplar and search crops of a pair, and the second box in search-crop pixels (x, y, w, h).

    ``max_shift`` is in search-crop pixels: the crop centre moves by up to that much, so the target is off-centre by
    the same amount in the crop (0 keeps it exactly centred).
    """
    ca, sa = box_to_center(pair.box_a)
    cb, sb = box_to_center(pair.box_b)
    z_sz = context_size(sa, context) * (1 + rng.uniform(-stretch, stretch))
    x_sz = context_size(sb, context) * instance / exemplar * (1 + rng.uniform(-stretch, stretch))
    scale = instance / x_sz
    shift = rng.uniform(-max_shift, max_shift, size=2) / scale  # image pixels
    z = crop_and_resize(pair.image_a, ca, z_sz, exemplar, padding=mean_colour(pair.image_a))
    x = crop_and_resize(pair.image_b, cb + shift, x_sz, instance, padding=mean_colour(pair.image_b))
    centre = (instance - 1) / 2 - shift * scale
    wh = sb * scale
    return z, x, np.array([centre[0] - (wh[0] - 1) / 2, centre[1] - (wh[1] - 1) / 2, wh[0], wh[1]])


def chw(img: NDArray[np.uint8]) -> NDArray[np.float32]:
    """H x W x 3 uint8 -> 3 x H x W float32 (0..255, no normalisation, as the SiamFC networks expect)."""
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)


class LogisticLabels:
    """Balanced SiamFC labels for one response size, cached per device."""

    def __init__(self, size: int, stride: float, radius: float) -> None:
        self.labels, self.weights = logistic_labels(size, stride, radius)
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Labels and weights as 1 x 1 x S x S tensors on ``device``."""
        import torch

        key = str(device)
        if key not in self._cache:
            self._cache[key] = (torch.from_numpy(self.labels)[None, None].to(device),
                                torch.from_numpy(self.weights)[None, None].to(device))
        return self._cache[key]


class SiamFCTask:
    """SiamFC (AlexNet, full width) trained from scratch with the balanced logistic loss."""

    name = "siamfc"
    weights_param = "weights"
    defaults = TrainDefaults(batch_size=8, epochs=50, pairs_per_epoch=53_200, lr_start=1e-2, lr_end=1e-5,
                             momentum=0.9, weight_decay=5e-4, max_frame_gap=100)

    def __init__(self, width_ratio: float = 1.0, radius: float = 16.0) -> None:
        self.width_ratio = width_ratio
        self.labels = LogisticLabels(17, 8, radius)

    def build_model(self) -> torch.nn.Module:
        """A randomly initialised SiamFC network (the tracker's layout: backbone.* and head.bias)."""
        from trackers.siamfc.network import SiamNet, alexnet_layers

        return SiamNet(alexnet_layers(self.width_ratio), learned_bias=True)

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Exemplar and search crops of one pair (target centred within half a cell)."""
        z, x, _ = pair_crops(pair, rng)
        return {"z": chw(z), "x": chw(x)}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Balanced logistic loss of the 17x17 responses."""
        labels, weights = self.labels.on(batch["x"].device)
        return balanced_logistic_loss(model(batch["z"], batch["x"]), labels, weights)

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The state dict the SiamFC tracker loads strictly."""
        return dict(model.state_dict())
