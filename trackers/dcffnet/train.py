"""DCFFNet's two-stage training through the shared trainer (trackers.training).

    evalkit train --tracker dcffnet --data vid:/data/ILSVRC2015 --out runs/dcffnet-s1           # stage 1, 150 epochs
    cp runs/dcffnet-s1/final.pth $EVALKIT_WEIGHTS/dcffnet/stage1-cf-double.pth   # where stage 2 looks for it
    evalkit train --tracker dcffnet-stage2 --data lasot:/data/LaSOT --out runs/dcffnet-s2         # stage 2
    evalkit run --trackers dcffnet --param dcffnet.weights=runs/dcffnet-s2/final.pth --suite otb100

    evalkit train --tracker dcffnet-cf-1st ...         # ablation variants (Table III): dcffnet-baseline, -cf-1st,
    evalkit train --tracker dcffnet-cf-1st-stage2 ...  # -cf-2nd (each also -stage2); plain dcffnet is cf-double
    task_for("dcffnet", variant="cf-1st")              # the same from Python
    task_for("dcffnet-stage2", pretrained="runs/dcffnet-s1/final.pth", variant="cf-1st")

Stage 1 (paper, section III-C): the whole network from scratch with SiamFC's logistic loss on the 23x23
cross-correlation response (positives within 16 px of the centre, stride 6), ILSVRC-VID pairs, 150 epochs, lr 0.01,
SGD momentum 0.9, weight decay 5e-4, mini-batch 72 (the paper's two GPUs).
Stage 2: the backbone frozen except its last two conv layers (BatchNorm statistics frozen too); the SiamCAR head
(without centerness) trained with cross-entropy on the class map (positives: cells whose point lies inside the
ground-truth box, positives and negatives weighted 1/2 each) plus the IoU loss ``-log((I+1)/(U+1))`` of the l,t,r,b
distances on positive cells; the search crop is shifted by up to 64 px so targets are not always centred; COCO, UAV and
LaSOT-train in the paper; 300 epochs with lr 0.01 / 0.001 / 0.0001 for 150 / 100 / 50 epochs, approximated here by
the trainer's geometric decay 1e-2 -> 1e-4. The paper does not give pairs per epoch; 53,200 (SiamFC's) is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError
from trackers.siamfc.train import LogisticLabels, chw, pair_crops
from trackers.training.losses import balanced_logistic_loss
from trackers.training.task import TrainDefaults

if TYPE_CHECKING:
    import torch

    from trackers.training.samplers import Pair

RESPONSE = 23
STAGE1_RELPATH = "dcffnet/stage1-{variant}.pth"  # default place of stage-1 weights under $EVALKIT_WEIGHTS / the cache
STRIDE = 6
INSTANCE = 255


class DCFFNetStage1Task:
    """Stage 1: the DCFFNet backbone (with its correlation-fusion modules) and the SiamFC logistic loss."""

    name = "dcffnet"
    weights_param = "weights"
    defaults = TrainDefaults(batch_size=72, epochs=150, pairs_per_epoch=53_200, lr_start=1e-2, lr_end=1e-2,
                             momentum=0.9, weight_decay=5e-4, max_frame_gap=100)

    def __init__(self, variant: str = "cf-double", width: float = 1.0, radius: float = 16.0) -> None:
        from trackers.dcffnet.network import variant as lookup

        try:
            lookup(variant)
        except ValueError as exc:
            raise EvalkitError(str(exc)) from None
        self.variant, self.width = variant, width
        self.labels = LogisticLabels(RESPONSE, STRIDE, radius)

    def build_model(self) -> torch.nn.Module:
        """A randomly initialised DCFFNet of the chosen variant."""
        from trackers.dcffnet.network import DCFFNet

        return DCFFNet(self.variant, self.width)

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """127/255 crops, target centred within half a cell; random horizontal flip of both (the paper's flips)."""
        z, x, _ = pair_crops(pair, rng, max_shift=STRIDE / 2)
        if rng.random() < 0.5:
            z, x = z[:, ::-1], x[:, ::-1]
        return {"z": chw(z), "x": chw(x)}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Balanced logistic loss of the 23x23 stage-1 response."""
        labels, weights = self.labels.on(batch["x"].device)
        scores = model.siamfc_response(model.template(batch["z"]), batch["x"])  # type: ignore[operator]
        return balanced_logistic_loss(scores, labels, weights)

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The full state dict (stage 2 starts from it)."""
        return dict(model.state_dict())


def car_targets(box: NDArray[np.float64], size: int = RESPONSE, stride: int = STRIDE,
                instance: int = INSTANCE) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Class labels (cells whose point lies inside ``box``) and l, t, r, b distances (px) for a box in crop pixels."""
    grid = (np.arange(size) - (size - 1) / 2) * stride + (instance - 1) / 2
    px, py = np.meshgrid(grid, grid)
    x0, y0 = box[0], box[1]
    x1, y1 = box[0] + box[2] - 1, box[1] + box[3] - 1
    ltrb = np.stack([px - x0, py - y0, x1 - px, y1 - py]).astype(np.float32)
    labels = (ltrb.min(axis=0) > 0).astype(np.float32)
    return labels, ltrb


def iou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SiamCAR/UnitBox IoU loss ``-log((I + 1) / (U + 1))`` of l, t, r, b distances (K x 4 each), mean over K."""
    import torch

    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    inter = (torch.minimum(pl, tl) + torch.minimum(pr, tr)) * (torch.minimum(pt, tt) + torch.minimum(pb, tb))
    union = (pl + pr) * (pt + pb) + (tl + tr) * (tt + tb) - inter
    return -torch.log((inter + 1.0) / (union + 1.0)).mean()


class DCFFNetStage2Task:
    """Stage 2: SiamCAR head (no centerness) and the last two conv layers on a frozen stage-1 backbone."""

    name = "dcffnet"  # the tracker that loads the result (registered for training as "dcffnet-stage2")
    stage = 2
    weights_param = "weights"
    defaults = TrainDefaults(batch_size=72, epochs=300, pairs_per_epoch=53_200, lr_start=1e-2, lr_end=1e-4,
                             momentum=0.9, weight_decay=5e-4, max_frame_gap=100)

    def __init__(self, pretrained: str | None = None, variant: str = "cf-double", width: float = 1.0,
                 max_shift: float = 64.0, allow_scratch: bool = False) -> None:
        self.allow_scratch = allow_scratch
        self.stage1 = DCFFNetStage1Task(variant, width)
        self.pretrained, self.max_shift = pretrained, max_shift

    def build_model(self) -> torch.nn.Module:
        """Stage-1 weights loaded strictly; everything but conv5, conv6 and the head frozen (BN statistics too)."""
        from trackers.weights import WeightsError, load_into, load_state_dict, resolve_weights

        net = self.stage1.build_model()
        if self.pretrained or not self.allow_scratch:
            relpath = STAGE1_RELPATH.format(variant=self.stage1.variant)
            try:
                path = resolve_weights(relpath, self.pretrained)
            except WeightsError as exc:
                raise WeightsError(f"DCFFNet stage 2 starts from stage-1 weights (`evalkit train --tracker dcffnet`, "
                                   f"then pretrained=PATH or {relpath} under $EVALKIT_WEIGHTS): {exc}") from None
            load_into(net, load_state_dict(path), path)
        net.freeze_for_stage2()  # type: ignore[operator]
        return net

    def param_groups(self, model: torch.nn.Module) -> list[dict[str, Any]]:
        """Only the trainable parameters go to the optimiser."""
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]

    def transform(self, pair: Pair, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Crops with the search shifted by up to ``max_shift`` px, the class map and the l,t,r,b targets."""
        z, x, box = pair_crops(pair, rng, max_shift=self.max_shift)
        if rng.random() < 0.5:
            z, x = z[:, ::-1], x[:, ::-1]
            box = box.copy()
            box[0] = INSTANCE - box[0] - box[2]
        labels, ltrb = car_targets(box)
        return {"z": chw(z), "x": chw(x), "labels": labels, "ltrb": ltrb}

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Balanced cross-entropy on the class map plus the IoU loss on positive cells."""
        import torch.nn.functional as F

        cls, reg = model(batch["z"], batch["x"])
        logp = F.log_softmax(cls.float(), dim=1)
        labels = batch["labels"]
        pos, neg = labels > 0.5, labels <= 0.5
        ce = -0.5 * logp[:, 1][pos].mean() - 0.5 * logp[:, 0][neg].mean() if pos.any() else -logp[:, 0][neg].mean()
        if not pos.any():
            return ce
        pred = reg.float().permute(0, 2, 3, 1)[pos]  # K x 4 over the positive cells of the batch
        target = batch["ltrb"].float().permute(0, 2, 3, 1)[pos]
        return ce + iou_loss(pred, target)

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The full state dict the dcffnet tracker loads strictly."""
        return dict(model.state_dict())


def _stage1(variant: str) -> Any:
    def factory(**options: Any) -> DCFFNetStage1Task:
        return DCFFNetStage1Task(variant=variant, **options)

    factory.__doc__ = f"Stage 1 of the {variant} variant."
    return factory


def _stage2(variant: str) -> Any:
    def factory(**options: Any) -> DCFFNetStage2Task:
        return DCFFNetStage2Task(variant=variant, **options)

    factory.__doc__ = f"Stage 2 of the {variant} variant."
    return factory


# Training-task factories of the ablation variants, registered as dcffnet-<variant>[-stage2] in evalkit.registry.
baseline_stage1, baseline_stage2 = _stage1("baseline"), _stage2("baseline")
cf1st_stage1, cf1st_stage2 = _stage1("cf-1st"), _stage2("cf-1st")
cf2nd_stage1, cf2nd_stage2 = _stage1("cf-2nd"), _stage2("cf-2nd")
