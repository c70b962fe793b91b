"""The Feature Distilling (FD) module: an hourglass of two pointwise convolutions, trained end-to-end, then folded.

    from trackers.fdsiamfc.distill import DistillNet, fold, fold_error

    student = DistillNet.from_teacher(siamfc_net, ratio=0.3)     # FD hourglass after every conv layer
    ...train student end-to-end (FDSiamFCCompressTask, `evalkit compress`)...
    folded = fold(student)                                       # a plain SiamNet at widths int(int(0.3*C/2)*2)
    fold_error(student, folded)                                  # max |folded - unfolded| on random crops

Layout of layer k of the student (eval mode), with C_k the teacher's width and m_k = int(int(r*C_k/2)*2):

    conv_k (C_k) -> BN_k -> squeeze_k (1x1, C_k -> m_k, groups of conv_k) -> ReLU -> [MaxPool]
                 -> expand_k (1x1, m_k -> C_k, groups of conv_k+1) -> conv_k+1 ...

and the output layer ends with squeeze only (the embedding becomes m_K wide; cross-correlation works at any width).
Every operation between ``squeeze_k`` and ``expand_k`` is per-channel (ReLU, max-pool), so in the folded network:

- the **first pointwise conv merges into the preceding conv**: ``W' = S diag(g/s) W``, ``b' = S (g/s (b - mu) + beta)
  + s_b`` (BatchNorm in inference form folded in along the way), an m_k-wide conv with the original kernel and groups;
- the **second pointwise conv merges into the following conv**: ``W''[o, j] = sum_c W[o, c] E[c, j]`` over each
  kernel tap, ``b'' = b + sum_{c, taps} W[o, c] e_c``; exact because SiamFC's convolutions have no zero padding.

The folded network is written in the released FDSiamFC layout (``conv, BN, ReLU, [pool]`` per layer) with each BN set
to the identity (weight 1, bias 0, mean 0, var 1 - eps), so it loads strictly into the FDSiamFC trackers:
``evalkit run --trackers fdsiamfc30 --param fdsiamfc30.weights=<out>/final.pth``. The authors train the hourglasses
one layer at a time and re-train after each cut; here all layers are distilled jointly, and each squeeze/expand pair
starts from the teacher's activations (:meth:`DistillNet.init_from_activations`: channel selection before a ReLU,
least-squares reconstruction after), so the student starts close to the teacher.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from trackers.siamfc.network import BN_EPS, BN_MOMENTUM, ConvLayer, SiamNet, XCorrHead, scaled_width


class FDLayer(nn.Module):
    """One teacher layer with its FD squeeze after BN; ``expand`` (if any) feeds the next layer."""

    def __init__(self, in_channels: int, spec: ConvLayer, width: int, next_groups: int | None) -> None:
        super().__init__()
        self.spec = spec
        self.conv = nn.Conv2d(in_channels, spec.out_channels, spec.kernel, spec.stride, groups=spec.groups)
        self.bn = nn.BatchNorm2d(spec.out_channels, eps=BN_EPS, momentum=BN_MOMENTUM) if spec.norm_relu else None
        self.squeeze = nn.Conv2d(spec.out_channels, width, 1, groups=spec.groups)
        self.relu = nn.ReLU() if spec.norm_relu else None
        self.pool = nn.MaxPool2d(3, 2) if spec.pool else None
        self.expand = nn.Conv2d(width, spec.out_channels, 1, groups=next_groups) if next_groups else None

    def post(self, x: torch.Tensor) -> torch.Tensor:
        """The per-channel part between squeeze and expand: ReLU and max-pool (when the layer has them)."""
        if self.relu is not None:
            x = torch.relu(x)
        if self.pool is not None:
            x = self.pool(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        x = self.post(self.squeeze(x))
        return self.expand(x) if self.expand is not None else x


class DistillBackbone(nn.Module):
    """A backbone with an FD hourglass in every layer (see the module docstring)."""

    def __init__(self, layers: Sequence[ConvLayer], ratio: float | Sequence[float]) -> None:
        super().__init__()
        self.layers = tuple(layers)
        ratios = [float(ratio)] * len(self.layers) if isinstance(ratio, int | float) else [float(r) for r in ratio]
        if len(ratios) != len(self.layers):
            raise ValueError(f"{len(ratios)} ratios for {len(self.layers)} layers")
        self.widths = tuple(scaled_width(s.out_channels, r) for s, r in zip(self.layers, ratios, strict=True))
        channels = 3
        for i, spec in enumerate(self.layers):
            nxt = self.layers[i + 1].groups if i + 1 < len(self.layers) else None
            for g in (spec.groups, nxt or 1):
                if self.widths[i] % g:
                    raise ValueError(f"layer {i + 1}: {self.widths[i]} channels do not split into {g} groups")
            self.add_module(f"fd{i + 1}", FDLayer(channels, spec, self.widths[i], nxt))
            channels = spec.out_channels

    def stages(self) -> list[FDLayer]:
        """The FD layers in order."""
        return [getattr(self, f"fd{i}") for i in range(1, len(self.layers) + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages():
            x = stage(x)
        return x


class DistillNet(SiamNet):
    """A SiamNet whose backbone carries FD hourglasses; ``fold`` turns it into a plain, narrower SiamNet."""

    def __init__(self, layers: Sequence[ConvLayer], ratio: float | Sequence[float], out_scale: float = 0.001,
                 learned_bias: bool = False) -> None:
        nn.Module.__init__(self)
        self.backbone = DistillBackbone(layers, ratio)  # type: ignore[assignment]
        self.head = XCorrHead(out_scale, learned_bias)

    @classmethod
    def from_teacher(cls, teacher: SiamNet, ratio: float | Sequence[float]) -> DistillNet:
        """A student with the teacher's conv and BN weights; squeeze/expand start random (see init_from_activations)."""
        student = cls(teacher.backbone.layers, ratio, teacher.head.out_scale, teacher.head.bias is not None)
        for t_stage, s_stage in zip(teacher.backbone.stages(), student.backbone.stages(), strict=True):
            s_stage.conv.load_state_dict(t_stage[0].state_dict())
            if s_stage.bn is not None:
                s_stage.bn.load_state_dict(t_stage[1].state_dict())
        if teacher.head.bias is not None and student.head.bias is not None:
            student.head.bias.data.copy_(teacher.head.bias.data)
        return student

    @torch.no_grad()
    def init_from_activations(self, crops: torch.Tensor) -> None:
        """Start each hourglass from the teacher's activations on ``crops`` instead of at random.

        Before a ReLU, squeeze selects the m_k channels (per group) that best span the layer's activations (column-
        pivoted QR): a selection commutes with ReLU and max-pooling, so the squeezed path computes exactly the kept
        channels of the teacher. Expand is the least-squares reconstruction of all the teacher's channels from them
        (the coupling of redundant kernels the FD paper describes). The output layer, linear, is squeezed onto its top
        singular directions. Distillation then starts close to the teacher.
        """
        was_training = self.training
        self.eval()
        x = crops
        for stage in self.backbone.stages():
            y = stage.conv(x)
            if stage.bn is not None:
                y = stage.bn(y)
            groups = stage.spec.groups
            c, m = y.shape[1], stage.squeeze.out_channels
            feats = _flat(y)
            weight = torch.zeros_like(stage.squeeze.weight)  # m x c/groups x 1 x 1
            post = _flat(stage.post(y)) if stage.relu is not None else None
            for g in range(groups):
                cs, ms = slice(g * c // groups, (g + 1) * c // groups), slice(g * m // groups, (g + 1) * m // groups)
                if post is None:  # linear output layer: the top singular directions (uncentred, keeps the mean)
                    u, _, _ = torch.linalg.svd(feats[cs].double(), full_matrices=False)
                    weight[ms, :, 0, 0] = u[:, : m // groups].T.to(y.dtype)
                else:  # before a ReLU: select channels (selection commutes with ReLU and pooling)
                    keep = _spanning_channels(post[cs], m // groups)
                    weight[ms, :, 0, 0] = 0
                    weight[torch.arange(ms.start, ms.stop), keep, 0, 0] = 1
            stage.squeeze.weight.copy_(weight)
            stage.squeeze.bias.zero_()
            if stage.expand is not None:
                # expand: least-squares map from the squeezed activations (after ReLU and pooling) back to the
                # teacher's activations at the same point, block-diagonal in the next layer's groups
                zf = _flat(stage.post(stage.squeeze(y)))
                tf = _flat(stage.post(y))
                ng = stage.expand.groups
                ew = torch.zeros_like(stage.expand.weight)
                eb = torch.zeros(c, dtype=y.dtype)
                for g in range(ng):
                    cs, ms = slice(g * c // ng, (g + 1) * c // ng), slice(g * m // ng, (g + 1) * m // ng)
                    a = torch.cat([zf[ms], torch.ones(1, zf.shape[1], dtype=zf.dtype)]).double()
                    sol = torch.linalg.lstsq(a.T, tf[cs].double().T).solution.T.to(y.dtype)  # c/g x (m/g + 1)
                    ew[cs, :, 0, 0] = sol[:, :-1]
                    eb[cs] = sol[:, -1]
                stage.expand.weight.copy_(ew)
                stage.expand.bias.copy_(eb)
            x = stage(x)
        self.train(was_training)


def _spanning_channels(features: torch.Tensor, k: int, max_samples: int = 20_000) -> torch.Tensor:
    """Indices of ``k`` channels (rows of C x N ``features``) that best span the others: column-pivoted QR."""
    import scipy.linalg

    f = features.double()
    if f.shape[1] > max_samples:
        f = f[:, torch.linspace(0, f.shape[1] - 1, max_samples).long()]
    _, _, pivots = scipy.linalg.qr(f.T.numpy(), mode="economic", pivoting=True)
    return torch.from_numpy(pivots[:k].copy()).long()


def _flat(t: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> C x (N H W)."""
    return t.permute(1, 0, 2, 3).reshape(t.shape[1], -1)


def _bn_affine(bn: nn.BatchNorm2d | None, channels: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm in inference form as ``scale * x + shift``."""
    if bn is None:
        return torch.ones(channels, dtype=dtype), torch.zeros(channels, dtype=dtype)
    scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    return scale, bn.bias.detach().double() - scale * bn.running_mean.double()


def _merge_pointwise_after(w: torch.Tensor, b: torch.Tensor, groups: int, pw: nn.Conv2d) -> tuple[torch.Tensor,
                                                                                                   torch.Tensor]:
    """Weights of ``pw(conv(x))`` as one conv: ``pw`` must use the conv's groups (its channel blocks stay blocks)."""
    c_out = w.shape[0]
    m = pw.out_channels
    if pw.groups != groups:
        raise ValueError(f"pointwise conv with {pw.groups} groups cannot merge into a conv with {groups}")
    s = pw.weight.detach().double()[:, :, 0, 0]  # m x c_out/groups
    new_w = torch.empty(m, *w.shape[1:], dtype=torch.float64)
    new_b = pw.bias.detach().double().clone() if pw.bias is not None else torch.zeros(m, dtype=torch.float64)
    cg, mg = c_out // groups, m // groups
    for g in range(groups):
        blk = s[g * mg:(g + 1) * mg]  # mg x cg
        new_w[g * mg:(g + 1) * mg] = torch.einsum("jc,cikl->jikl", blk, w[g * cg:(g + 1) * cg])
        new_b[g * mg:(g + 1) * mg] += blk @ b[g * cg:(g + 1) * cg]
    return new_w, new_b


def _merge_pointwise_before(pw: nn.Conv2d, w: torch.Tensor, b: torch.Tensor, groups: int) -> tuple[torch.Tensor,
                                                                                                    torch.Tensor]:
    """Weights of ``conv(pw(x))`` as one conv (valid convolution: the pointwise bias folds exactly into the bias)."""
    if pw.groups != groups:
        raise ValueError(f"pointwise conv with {pw.groups} groups cannot merge into a conv with {groups}")
    e = pw.weight.detach().double()[:, :, 0, 0]  # c x m/groups
    eb = pw.bias.detach().double() if pw.bias is not None else torch.zeros(e.shape[0], dtype=torch.float64)
    c_out, cg = w.shape[0], w.shape[1]  # w: c_out x c/groups x kh x kw
    og = c_out // groups
    new_w = torch.empty(c_out, e.shape[1], *w.shape[2:], dtype=torch.float64)
    new_b = b.clone()
    for g in range(groups):
        blk_e = e[g * cg:(g + 1) * cg]  # cg x m/groups (rows: this group's input channels)
        wg = w[g * og:(g + 1) * og]  # og x cg x kh x kw
        new_w[g * og:(g + 1) * og] = torch.einsum("ocxy,cj->ojxy", wg, blk_e)
        new_b[g * og:(g + 1) * og] += torch.einsum("ocxy,c->o", wg, eb[g * cg:(g + 1) * cg])
    return new_w, new_b


@torch.no_grad()
def fold(student: DistillNet) -> SiamNet:
    """The plain SiamNet equal to ``student`` in inference mode, with every FD hourglass merged away.

    Computed in float64, stored in float32; BN layers of the result are identities (the released layout).
    """
    layers = student.backbone.layers
    widths = student.backbone.widths
    out_layers = tuple(ConvLayer(w, s.kernel, s.stride, s.groups, s.norm_relu, s.pool)
                       for s, w in zip(layers, widths, strict=True))
    folded = SiamNet(out_layers, student.head.out_scale, student.head.bias is not None)
    pending: nn.Conv2d | None = None  # the previous layer's expand, to merge into this conv
    for stage, target in zip(student.backbone.stages(), folded.backbone.stages(), strict=True):
        w = stage.conv.weight.detach().double()
        b = stage.conv.bias.detach().double() if stage.conv.bias is not None else torch.zeros(w.shape[0]).double()
        if pending is not None:
            w, b = _merge_pointwise_before(pending, w, b, stage.spec.groups)
        scale, shift = _bn_affine(stage.bn, w.shape[0], torch.float64)
        w = w * scale[:, None, None, None]
        b = b * scale + shift
        w, b = _merge_pointwise_after(w, b, stage.spec.groups, stage.squeeze)
        conv = target[0]
        conv.weight.copy_(w.to(conv.weight.dtype))
        conv.bias.copy_(b.to(conv.bias.dtype))
        if stage.spec.norm_relu:
            bn = target[1]
            bn.weight.fill_(1.0)
            bn.bias.zero_()
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        pending = stage.expand
    if student.head.bias is not None and folded.head.bias is not None:
        folded.head.bias.copy_(student.head.bias)
    return folded.eval()


@torch.no_grad()
def fold_error(student: DistillNet, folded: SiamNet, n: int = 2, seed: int = 0) -> dict[str, float]:
    """Max absolute difference of exemplar features and responses, folded vs unfolded, on random 0..255 crops."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.rand(n, 3, 127, 127, generator=gen) * 255
    x = torch.rand(n, 3, 255, 255, generator=gen) * 255
    was = student.training
    student.eval()
    folded.eval()
    fz, gz = student.template(z), folded.template(z)
    fr, gr = student(z, x), folded(z, x)
    student.train(was)
    return {"features": float((fz - gz).abs().max()), "response": float((fr - gr).abs().max()),
            "feature_scale": float(fz.abs().max()), "response_scale": float(fr.abs().max())}


def parameter_count(module: nn.Module) -> int:
    """Number of learnable parameters."""
    return sum(p.numel() for p in module.parameters())
