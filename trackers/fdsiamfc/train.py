"""Feature Distilling through the shared trainer: compress a trained SiamFC into FDSiamFC (``evalkit compress``).

    evalkit compress --tracker siamfc --teacher runs/siamfc/final.pth --ratio 0.3 --data got10k:/data/GOT-10k \
        --out runs/fd30                      # distil, fold, check the fold, write runs/fd30/final.pth
    evalkit run --trackers fdsiamfc30 --param fdsiamfc30.weights=runs/fd30/final.pth --suite otb100

    task = FDSiamFCTask(teacher="runs/siamfc/final.pth", ratio=0.3)
    task.calibrate(sampler)                  # start the hourglasses from the teacher's activations (optional)
    Trainer(task, sampler, TrainConfig(Path("runs/fd30"))).run()

The student is the teacher with an FD hourglass in every layer (trackers.fdsiamfc.distill); all its weights train
end-to-end with SiamFC's balanced logistic loss plus ``distill_weight`` x the mean squared difference between the
student's and the (frozen) teacher's responses relative to the teacher's mean square (scale-free). ``export`` folds
the hourglasses away, so ``final.pth`` is a plain network of widths ``int(int(ratio*C/2)*2)`` in the released FDSiamFC
layout. Schedule: SiamFC's (SGD 0.9, wd 5e-4, batch 8), lr 1e-3 -> 1e-5 over 50 epochs, since training starts from a
trained network.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.errors import EvalkitError
from trackers.siamfc.train import SiamFCTask, chw, pair_crops
from trackers.training.losses import balanced_logistic_loss
from trackers.training.task import TrainDefaults

if TYPE_CHECKING:
    import torch

    from trackers.siamfc.network import SiamNet
    from trackers.training.samplers import PairSampler


TEACHER_RELPATH = "siamfc/siamfc.pth"  # where a trained teacher is looked for when none is given


def load_teacher(path: str | Path, width_ratio: float = 1.0) -> SiamNet:
    """A trained SiamFC network (state dict from ``evalkit train --tracker siamfc``), loaded strictly, in eval mode.

    ``path`` is a file, or a relative path looked up under $EVALKIT_WEIGHTS and the user cache (trackers.weights).
    """
    from trackers.siamfc.network import SiamNet, alexnet_layers
    from trackers.weights import WeightsError, load_into, load_state_dict, resolve_weights

    try:
        path = resolve_weights(TEACHER_RELPATH, None if str(path) == TEACHER_RELPATH else path)
    except WeightsError as exc:
        raise WeightsError(f"Feature Distilling needs a trained SiamFC teacher (`evalkit train --tracker siamfc`; "
                           f"pass `evalkit compress --teacher PATH`): {exc}") from None
    state = load_state_dict(path)
    net = SiamNet(alexnet_layers(width_ratio), learned_bias="head.bias" in state)
    load_into(net, state, path)
    return net.eval()


class FDSiamFCTask(SiamFCTask):
    """Distil a SiamFC teacher into an FD student; exports the folded (plain, narrow) network."""

    name = "fdsiamfc"
    weights_param = "weights"
    defaults = TrainDefaults(batch_size=8, epochs=50, pairs_per_epoch=53_200, lr_start=1e-3, lr_end=1e-5,
                             momentum=0.9, weight_decay=5e-4, max_frame_gap=100)

    def __init__(self, teacher: str | None = None, ratio: float = 0.3, distill_weight: float = 1.0,
                 teacher_width: float = 1.0, random_teacher: bool = False) -> None:
        super().__init__()
        if not 0 < ratio < 1:
            raise EvalkitError(f"the compression ratio must lie in (0, 1), got {ratio}")
        self.ratio, self.distill_weight = ratio, distill_weight
        self.teacher_path, self.teacher_width, self.random_teacher = teacher, teacher_width, random_teacher
        self.name = {0.3: "fdsiamfc30", 0.15: "fdsiamfc15"}.get(ratio, "fdsiamfc")  # the tracker that loads it
        self._teacher: SiamNet | None = None
        self._calibration: torch.Tensor | None = None

    @property
    def teacher(self) -> SiamNet:
        """The frozen SiamFC teacher: ``teacher=PATH``, else siamfc/siamfc.pth under $EVALKIT_WEIGHTS or the cache."""
        if self._teacher is None:
            if self.random_teacher:  # smoke tests only: a seeded random teacher
                import torch

                from trackers.siamfc.network import SiamNet, alexnet_layers

                torch.manual_seed(0)
                net = SiamNet(alexnet_layers(self.teacher_width), learned_bias=True).eval()
                with torch.no_grad():  # scale its responses to unit spread, as a trained SiamFC's roughly are
                    r = net(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255)
                net.head.out_scale /= float(r.std()) + 1e-12
            else:
                net = load_teacher(self.teacher_path or TEACHER_RELPATH, self.teacher_width)
            for p in net.parameters():
                p.requires_grad_(False)
            self._teacher = net
        return self._teacher

    def calibrate(self, sampler: PairSampler, n_pairs: int = 16, seed: int = 0) -> None:
        """Keep exemplar crops of ``n_pairs`` pairs to start the hourglasses from the teacher's activations."""
        import torch

        rng = np.random.default_rng(seed)
        crops = [chw(pair_crops(sampler.sample(rng), rng, max_shift=0.0)[0]) for _ in range(n_pairs)]
        self._calibration = torch.from_numpy(np.stack(crops))

    def build_model(self) -> torch.nn.Module:
        """The FD student: teacher weights plus hourglasses (from the calibration crops when given)."""
        from trackers.fdsiamfc.distill import DistillNet

        student = DistillNet.from_teacher(self.teacher, self.ratio)
        if self._calibration is not None:
            student.init_from_activations(self._calibration)
        return student

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logistic loss plus the response-matching (distillation) term against the frozen teacher."""
        import torch

        z, x = batch["z"], batch["x"]
        labels, weights = self.labels.on(x.device)
        scores = model(z, x)
        loss = balanced_logistic_loss(scores, labels, weights)
        if self.distill_weight > 0:
            self.teacher.to(x.device)
            with torch.no_grad():
                target = self.teacher(z, x)
            target = target.float()
            mismatch = (scores.float() - target).pow(2).mean() / (target.pow(2).mean() + 1e-12)
            loss = loss + self.distill_weight * mismatch
        return loss

    def export(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The folded network's backbone in the released FDSiamFC layout (``backbone.conv{k}.{0,1}.*``)."""
        from trackers.fdsiamfc.distill import fold

        folded = fold(model.cpu().float().eval())  # type: ignore[arg-type]
        return {k: v for k, v in folded.state_dict().items() if k.startswith("backbone.")}


def FDSiamFC30Task(**options: Any) -> FDSiamFCTask:  # noqa: N802 - a task factory named after its tracker
    """Distil to width 0.3 (the FDSiamFC_30 layout)."""
    return FDSiamFCTask(ratio=0.3, **options)


def FDSiamFC15Task(**options: Any) -> FDSiamFCTask:  # noqa: N802 - a task factory named after its tracker
    """Distil to width 0.15 (the FDSiamFC_15 layout)."""
    return FDSiamFCTask(ratio=0.15, **options)
