"""Reading the CFNet authors' MatConvNet DagNN networks (``cfnet-conv2_e80.mat``, ...) into evalkit's CFNet.

    dag = read_dagnn("weights/cfnet/cfnet-conv2_e80.mat")     # layers (name, type, inputs, outputs, params, block)
    net = cfnet_from_dagnn(dag, "cfnet-conv2")                  # CFNetModel with the file's weights, window, target

Safety: the file is read with ``scipy.io.loadmat`` only, which parses MATLAB arrays and structs (DagNN saves itself
as a plain struct via ``saveobj``); nothing in it is executed and no pickle is involved. MATLAB v7.3 (HDF5) files,
class objects and anything that does not look like a DagNN struct are errors naming the file.

Mapping (MatConvNet -> PyTorch): conv filters H x W x Cin/groups x Cout -> Cout x Cin/groups x H x W (both are
cross-correlations, MATLAB's rows are image rows); batch norm in test mode uses the stored moments [mean, sigma] with
``sigma = sqrt(var + eps)`` already (``vl_nnbnorm`` given moments adds no epsilon), so PyTorch gets
``running_var = sigma^2 - eps``; the CF block's window (``join_window``), Gaussian target (``join_cf_target``),
lambda and template margin come from the file; ``fin_adjust`` (a 1x1 conv) gives the score scale and bias. The
exemplar branch (``br1_*``) and instance branch (``br2_*``) must share their parameters, as the release's do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from trackers.weights import WeightsError

# Layers that only training uses (losses and error displays): present in the files, ignored when tracking.
TRAINING_ONLY = {"LogisticLoss", "centerThrErr", "IOUErrorScore"}


@dataclass(frozen=True)
class DagLayer:
    """One DagNN layer: its name, type (``dagnn.Conv``, ``CorrFilter``, ...), variables, parameter names, options."""

    name: str
    type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: tuple[str, ...]
    block: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DagNN:
    """A DagNN network as stored: layers in their order, parameters by name (MATLAB layout)."""

    path: Path
    layers: tuple[DagLayer, ...]
    params: dict[str, NDArray[Any]]

    def layer(self, name: str) -> DagLayer:
        """The layer called ``name`` (an error naming the file if absent)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise WeightsError(f"{self.path}: no layer {name!r} (layers: {', '.join(x.name for x in self.layers)})")

    def param(self, name: str) -> NDArray[Any]:
        """The parameter called ``name`` (an error naming the file if absent)."""
        if name not in self.params:
            raise WeightsError(f"{self.path}: no parameter {name!r}")
        return self.params[name]


def _names(value: Any) -> tuple[str, ...]:
    """A MATLAB cell of strings (or one string, or an empty array) as a tuple of str."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in np.atleast_1d(np.asarray(value, dtype=object)).ravel() if isinstance(v, str))


def _block(block: Any) -> dict[str, Any]:
    """A layer's block options as a dict of numbers, arrays and strings."""
    if not hasattr(block, "_fieldnames"):
        return {}
    return {k: getattr(block, k) for k in block._fieldnames}


def read_dagnn(path: str | os.PathLike[str]) -> DagNN:
    """Read a MatConvNet DagNN ``.mat`` (``net`` with ``layers`` and ``params``) as data; errors name the file."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file does not exist")
    try:
        mat = loadmat(path, squeeze_me=True, struct_as_record=False, variable_names=["net"])
    except NotImplementedError:
        raise WeightsError(f"{path}: a MATLAB v7.3 (HDF5) file; the CFNet networks are v5 .mat files") from None
    except Exception as exc:  # noqa: BLE001 - scipy raises many types for bad files; all mean "unreadable"
        raise WeightsError(f"{path}: cannot be read as a MATLAB .mat file ({type(exc).__name__}: {exc})") from None
    net = mat.get("net")
    if net is None or not all(hasattr(net, k) for k in ("layers", "params")):
        raise WeightsError(f"{path}: no DagNN struct 'net' with 'layers' and 'params' (a MatConvNet DagNN file?)")
    try:
        layers = tuple(DagLayer(str(L.name), str(L.type), _names(L.inputs), _names(L.outputs), _names(L.params),
                                _block(L.block)) for L in np.atleast_1d(net.layers))
        params: dict[str, NDArray[Any]] = {}
        for p in np.atleast_1d(net.params):
            value = np.asarray(p.value)
            if value.dtype == object or not np.issubdtype(value.dtype, np.number):
                raise WeightsError(f"{path}: parameter {p.name!r} is not a numeric array")
            params[str(p.name)] = value
    except AttributeError as exc:
        raise WeightsError(f"{path}: malformed DagNN struct ({exc})") from None
    return DagNN(path, layers, params)


def _ints(value: Any, n: int) -> tuple[int, ...]:
    """A MATLAB size/stride/pad option as ``n`` ints (a scalar is repeated)."""
    arr = np.atleast_1d(np.asarray(value)).astype(np.int64).ravel()
    if arr.size == 1:
        arr = np.repeat(arr, n)
    return tuple(int(v) for v in arr[:n])


def branch_layers(dag: DagNN, prefix: str = "br1_") -> list[DagLayer]:
    """The layers of one branch, in file order (``br1_``: exemplar, ``br2_``: instance)."""
    return [layer for layer in dag.layers if layer.name.startswith(prefix)]


def describe_branch(dag: DagNN) -> tuple[int, int]:
    """(number of conv layers, conv1 stride) of the exemplar branch: which CFNet the file holds."""
    convs = [layer for layer in branch_layers(dag) if layer.type == "dagnn.Conv"]
    if not convs:
        raise WeightsError(f"{dag.path}: the exemplar branch (br1_*) has no conv layer")
    return len(convs), _ints(convs[0].block.get("stride", 1), 2)[0]


VARIANT_OF_BRANCH = {(1, 4): "cfnet-conv1", (2, 2): "cfnet-conv2", (3, 2): "baseline-conv3", (5, 2): "cfnet-conv5"}


def _check_shared(dag: DagNN) -> None:
    """The instance branch must be the exemplar branch with the same parameters (a Siamese network)."""
    one, two = branch_layers(dag, "br1_"), branch_layers(dag, "br2_")
    sig1 = [(x.name[4:], x.type, x.params) for x in one]
    sig2 = [(x.name[4:], x.type, x.params) for x in two]
    if sig1 != sig2:
        raise WeightsError(f"{dag.path}: the two branches differ (layers or parameters are not shared); "
                           "CFNet's branches are one Siamese network")


def _load_conv(dag: DagNN, layer: DagLayer, conv: torch.nn.Conv2d) -> None:
    f = dag.param(layer.params[0]).astype(np.float32)
    if f.ndim == 3:
        f = f[..., None]
    kh, kw, cin_g, cout = f.shape
    stride = _ints(layer.block.get("stride", 1), 2)
    pad = _ints(layer.block.get("pad", 0), 4)  # top, bottom, left, right
    dilate = _ints(layer.block.get("dilate", 1), 2)
    want = (conv.out_channels, conv.in_channels // conv.groups, *conv.kernel_size)
    if (cout, cin_g, kh, kw) != want or stride != conv.stride or dilate != conv.dilation \
            or pad != (conv.padding[0], conv.padding[0], conv.padding[1], conv.padding[1]):
        raise WeightsError(f"{dag.path}: layer {layer.name} is {kh}x{kw}x{cin_g}x{cout} stride {stride} pad {pad} "
                           f"dilate {dilate}; evalkit's network expects {want[2]}x{want[3]}x{want[1]}x{want[0]} "
                           f"stride {conv.stride} pad {conv.padding} dilate {conv.dilation}")
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(f.transpose(3, 2, 0, 1))))
        if conv.bias is not None:
            has_bias = len(layer.params) > 1 and int(np.asarray(layer.block.get("hasBias", 1))) != 0
            conv.bias.copy_(torch.from_numpy(dag.param(layer.params[1]).astype(np.float32).reshape(-1))
                            if has_bias else torch.zeros_like(conv.bias))


def _load_bn(dag: DagNN, layer: DagLayer, bn: torch.nn.BatchNorm2d) -> None:
    gain, bias, moments = (dag.param(p).astype(np.float64) for p in layer.params)
    moments = moments.reshape(-1, 2)
    if gain.size != bn.num_features or moments.shape[0] != bn.num_features:
        raise WeightsError(f"{dag.path}: layer {layer.name} has {gain.size} channels, evalkit expects "
                           f"{bn.num_features}")
    sigma = moments[:, 1]
    if np.any(sigma <= 0):
        raise WeightsError(f"{dag.path}: layer {layer.name} has a non-positive stored sigma")
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gain.reshape(-1)))
        bn.bias.copy_(torch.from_numpy(bias.reshape(-1)))
        bn.running_mean.copy_(torch.from_numpy(moments[:, 0]))
        bn.running_var.copy_(torch.from_numpy(np.maximum(sigma**2 - bn.eps, 0.0)))


def _load_branch(dag: DagNN, backbone: torch.nn.Module) -> None:
    """Walk the exemplar branch's layers in order against evalkit's backbone modules, copying parameters."""
    modules = list(backbone.children())
    layers = branch_layers(dag)
    kinds = {"dagnn.Conv": torch.nn.Conv2d, "dagnn.BatchNorm": torch.nn.BatchNorm2d, "dagnn.ReLU": torch.nn.ReLU,
             "dagnn.Pooling": torch.nn.MaxPool2d}
    file_kinds = [x.type for x in layers]
    ours = [type(m).__name__ for m in modules]
    mismatch = len(layers) != len(modules) or any(
        not isinstance(m, kinds.get(x.type, ())) for x, m in zip(layers, modules, strict=True))
    if mismatch:
        raise WeightsError(f"{dag.path}: branch layers {file_kinds} do not match evalkit's network {ours}")
    for layer, module in zip(layers, modules, strict=True):
        if isinstance(module, torch.nn.Conv2d):
            _load_conv(dag, layer, module)
        elif isinstance(module, torch.nn.BatchNorm2d):
            _load_bn(dag, layer, module)
        elif isinstance(module, torch.nn.ReLU):
            if float(np.asarray(layer.block.get("leak", 0))) != 0:
                raise WeightsError(f"{dag.path}: layer {layer.name} is a leaky ReLU; CFNet uses plain ReLUs")
        else:
            size = _ints(layer.block.get("poolSize", 1), 2)
            stride = _ints(layer.block.get("stride", 1), 2)
            pad = _ints(layer.block.get("pad", 0), 4)
            method = str(layer.block.get("method", "max"))
            want = (_ints(module.kernel_size, 2), _ints(module.stride, 2))
            if method != "max" or any(pad) or (size, stride) != want:
                raise WeightsError(f"{dag.path}: layer {layer.name} is {method} pooling {size} stride {stride} pad "
                                   f"{pad}; evalkit expects max pooling {want[0]} stride {want[1]} without padding")


def cf_settings(dag: DagNN) -> dict[str, Any]:
    """The correlation-filter block as stored: window, target, lambda, margin, and the final scale and bias."""
    known = {"dagnn.Conv", "dagnn.BatchNorm", "dagnn.ReLU", "dagnn.Pooling", "MulConst", "CorrFilter",
             "CropMargin", "XCorr"} | TRAINING_ONLY
    unknown = sorted({x.type for x in dag.layers} - known)
    if unknown:
        raise WeightsError(f"{dag.path}: layer types {unknown} are not part of a CFNet network")
    window_layer, cf, crop = dag.layer("join_cf_window"), dag.layer("join_cf"), dag.layer("join_crop_z")
    if bool(np.asarray(cf.block.get("bias", 0))):
        raise WeightsError(f"{dag.path}: a CorrFilter with a bias output; the released CFNets have none")
    adjust = dag.layer("fin_adjust")
    scale, bias = (float(np.asarray(dag.param(p)).reshape(-1)[0]) for p in adjust.params[:2])
    return {"window": dag.param(window_layer.params[0]).astype(np.float32),
            "target": dag.param(cf.params[0]).astype(np.float32),
            "lambda": float(np.asarray(cf.block["lambda"])), "margin": int(np.asarray(crop.block["margin"])),
            "scale": scale, "bias": bias}


def cfnet_from_dagnn(dag: DagNN, variant: str) -> torch.nn.Module:
    """Evalkit's CFNetModel for ``variant`` with every value taken from the DagNN file (checked against it)."""
    from trackers.cfnet.network import CFNetModel

    depth, stride = describe_branch(dag)
    held = VARIANT_OF_BRANCH.get((depth, stride), f"a {depth}-conv network with conv1 stride {stride}")
    if held != variant:
        raise WeightsError(f"{dag.path}: holds {held}, not {variant}")
    if not any(x.type == "CorrFilter" for x in dag.layers):
        raise WeightsError(f"{dag.path}: a cross-correlation (baseline) network; only the CF networks are released")
    _check_shared(dag)
    cf = cf_settings(dag)
    net = CFNetModel(variant, join="cf", lam=cf["lambda"], margin=cf["margin"])
    _load_branch(dag, net.backbone)
    if tuple(cf["window"].shape) != net.cf.size or tuple(cf["target"].shape) != net.cf.size:
        raise WeightsError(f"{dag.path}: CF window {cf['window'].shape} / target {cf['target'].shape} do not fit "
                           f"the {net.cf.size} exemplar features")
    with torch.no_grad():
        net.cf.window.copy_(torch.from_numpy(cf["window"]))
        net.cf.target.copy_(torch.from_numpy(cf["target"]))
        net.cf.scale.fill_(cf["scale"])
        net.cf.bias.fill_(cf["bias"])
    return net
