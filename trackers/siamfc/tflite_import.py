"""The authors' SiamFC-3s network from its full-integer TFLite export, as a float state dict for :class:`SiamNet`.

    from trackers.siamfc.tflite_import import imported_state_dict, read_siamfc_tflite

    state = imported_state_dict(Path("whole_model_full_quant_scale3.tflite"))   # cached float state dict
    net = SiamNet(alexnet_layers(1.0), out_scale=state.out_scale, learned_bias=True)
    net.load_state_dict(state.tensors)

No float copy of the authors' network (2016-08-17.net.mat) could be had; the TFLite export of its TensorFlow
conversion (tongtybj/SiamFC-TensorFlow) is read here with the ``tflite`` flatbuffer package, without TensorFlow.
The export is a graph of int8 tensors: each convolution has int8 weights with one scale per output channel (and an
int32 bias with scale ``input_scale * weight_scale``), followed by batch norm as a MUL and an ADD by int8 constants
with one scale per tensor; the head is a cross-correlation, a MUL by the response scale and an ADD of the bias.
Every constant is dequantized as ``(q - zero_point) * scale`` along its quantized dimension.

The network is found by walking the graph, not by tensor names (the exporter shares and renames constants): the
convolutions with constant filters, in graph order, one per group; each one's consumers give its batch norm.
Grouped layers are recognised by their SPLIT input (output 0 is group 0, as PyTorch's ``groups``).

The import runs once per source file: the float tensors are saved under evalkit's cache (``<cache>/weights/
imported/``) with the sha256 of the source; a changed source or importer version re-imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from evalkit.io import atomic_target
from trackers.siamfc.network import BN_EPS, ConvLayer, alexnet_layers
from trackers.weights import WeightsError, cache_dir, load_state_dict, sha256_of

IMPORTER_VERSION = 1  # bump when the mapping changes: cached imports of an older version are redone


@dataclass(frozen=True)
class QuantTensor:
    """One TFLite tensor: name, shape, integer data (None for activations) and its quantization."""

    index: int
    name: str
    shape: tuple[int, ...]
    data: NDArray[np.integer] | None
    scale: NDArray[np.float32]
    zero_point: NDArray[np.int64]
    axis: int  # the quantized dimension (meaningful when there are several scales)


def dequantize(t: QuantTensor) -> NDArray[np.float32]:
    """``(q - zero_point) * scale``, per tensor or per channel along ``t.axis``; float32."""
    if t.data is None:
        raise ValueError(f"tensor {t.name!r} is an activation: it has no constant data to dequantize")
    q = t.data.astype(np.float64)
    scale = t.scale.astype(np.float64)
    zp = t.zero_point.astype(np.float64)
    if scale.size > 1:
        if q.ndim == 0 or q.shape[t.axis] != scale.size:
            raise ValueError(f"tensor {t.name!r}: {scale.size} scales for shape {q.shape} along axis {t.axis}")
        shape = [1] * q.ndim
        shape[t.axis] = scale.size
        scale, zp = scale.reshape(shape), (zp.reshape(shape) if zp.size > 1 else zp)
    return ((q - zp) * scale).astype(np.float32)


@dataclass(frozen=True)
class Op:
    """One operator: its builtin name, input and output tensor indices, and options used here (conv stride, padding)."""

    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    stride: tuple[int, int] | None = None
    padding_valid: bool | None = None


class TFLiteGraph:
    """The first subgraph of a TFLite flatbuffer: tensors with their quantization, operators in execution order."""

    def __init__(self, path: Path) -> None:
        try:
            import tflite
        except ImportError:
            raise WeightsError(f"{path}: reading a .tflite file needs the 'tflite' package "
                               "(pip install tflite)") from None
        self.path = path
        buf = path.read_bytes()
        try:
            model = tflite.Model.GetRootAsModel(buf, 0)
            if model.SubgraphsLength() < 1:
                raise ValueError("no subgraph")
            graph = model.Subgraphs(0)
            self.tensors = [self._tensor(model, graph, i) for i in range(graph.TensorsLength())]
            names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
            self.ops = [self._op(model, graph.Operators(i), names, tflite) for i in range(graph.OperatorsLength())]
        except WeightsError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt flatbuffer raises anything from struct errors to IndexError
            raise WeightsError(f"{path}: not a readable TFLite model ({type(exc).__name__}: {exc})") from None

    @staticmethod
    def _tensor(model: Any, graph: Any, i: int) -> QuantTensor:
        import tflite

        t = graph.Tensors(i)
        shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        dtypes = {tflite.TensorType.INT8: np.int8, tflite.TensorType.UINT8: np.uint8,
                  tflite.TensorType.INT32: np.int32, tflite.TensorType.FLOAT32: np.float32}
        raw = model.Buffers(t.Buffer()).DataAsNumpy() if t.Buffer() < model.BuffersLength() else 0
        data = None
        if not isinstance(raw, int) and raw.size:
            if t.Type() not in dtypes:
                raise ValueError(f"tensor {i} has unsupported type {t.Type()}")
            data = np.frombuffer(raw.tobytes(), dtype=dtypes[t.Type()]).reshape(shape)
        q = t.Quantization()
        has_q = q is not None and q.ScaleLength() > 0
        scale = q.ScaleAsNumpy().astype(np.float32) if has_q else np.ones(1, np.float32)
        zp = q.ZeroPointAsNumpy().astype(np.int64) if has_q and q.ZeroPointLength() else np.zeros(1, np.int64)
        return QuantTensor(i, t.Name().decode(), shape, data, scale, zp, int(q.QuantizedDimension()) if has_q else 0)

    @staticmethod
    def _op(model: Any, op: Any, names: dict[int, str], tflite: Any) -> Op:
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        ins = tuple(int(i) for i in op.InputsAsNumpy())
        outs = tuple(int(i) for i in op.OutputsAsNumpy())
        if kind != "CONV_2D":
            return Op(kind, ins, outs)
        opts = tflite.Conv2DOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        return Op(kind, ins, outs, (opts.StrideH(), opts.StrideW()), opts.Padding() == tflite.Padding.VALID)

    def constant(self, i: int) -> bool:
        """Whether tensor ``i`` holds constant data (a weight), not an activation."""
        return i >= 0 and self.tensors[i].data is not None

    def consumers(self, tensor: int) -> list[Op]:
        """The operators that read ``tensor``."""
        return [op for op in self.ops if tensor in op.inputs]

    def producer(self, tensor: int) -> Op | None:
        """The operator that writes ``tensor`` (None for graph inputs and constants)."""
        return next((op for op in self.ops if tensor in op.outputs), None)


@dataclass(frozen=True)
class ImportedSiamFC:
    """The float network: SiamNet state-dict tensors, the response scale and the sha256 of the source file."""

    tensors: dict[str, torch.Tensor]
    out_scale: float
    source_sha256: str


def _elementwise_constant(graph: TFLiteGraph, tensor: int, kind: str) -> tuple[Op, NDArray[np.float32]] | None:
    """The single MUL/ADD that reads ``tensor`` together with a constant, and that constant dequantized."""
    users = graph.consumers(tensor)
    if len(users) != 1 or users[0].kind != kind:
        return None
    const = [i for i in users[0].inputs if graph.constant(i)]
    if len(const) != 1:
        return None
    return users[0], dequantize(graph.tensors[const[0]])


def _conv(graph: TFLiteGraph, op: Op) -> dict[str, NDArray[np.float32]]:
    """One convolution group: float OIHW weight, bias, and (when followed by MUL and ADD constants) its batch norm."""
    w = dequantize(graph.tensors[op.inputs[1]]).transpose(0, 3, 1, 2)  # TFLite OHWI -> torch OIHW
    bias = dequantize(graph.tensors[op.inputs[2]]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else np.zeros(len(w))
    out: dict[str, NDArray[np.float32]] = {"weight": w, "bias": bias.astype(np.float32)}
    mul = _elementwise_constant(graph, op.outputs[0], "MUL")
    if mul is not None:
        add = _elementwise_constant(graph, mul[0].outputs[0], "ADD")
        if add is None:
            raise WeightsError(f"{graph.path}: the MUL after convolution {graph.tensors[op.inputs[1]].name!r} "
                               "is not followed by an ADD of a constant (no batch-norm shift)")
        out["bn_scale"] = np.broadcast_to(mul[1], (len(w),)).astype(np.float32)
        out["bn_shift"] = np.broadcast_to(add[1], (len(w),)).astype(np.float32)
    return out


def _group_index(graph: TFLiteGraph, op: Op) -> int:
    """Which output of the SPLIT feeding ``op`` it reads (0 when its input is not split)."""
    src = graph.producer(op.inputs[0])
    return src.outputs.index(op.inputs[0]) if src is not None and src.kind == "SPLIT" else 0


def read_siamfc_tflite(path: Path, layers: tuple[ConvLayer, ...] | None = None) -> ImportedSiamFC:
    """Dequantize the TFLite SiamFC export into float SiamNet tensors (``backbone.convN.*``, ``head.bias``)."""
    layers = layers or alexnet_layers(1.0)
    graph = TFLiteGraph(path)
    seen: set[int] = set()
    convs: list[Op] = []
    for op in graph.ops:
        if op.kind == "CONV_2D" and graph.constant(op.inputs[1]) and op.inputs[1] not in seen:
            seen.add(op.inputs[1])
            convs.append(op)
    wanted = sum(spec.groups for spec in layers)
    if len(convs) != wanted:
        raise WeightsError(f"{path}: found {len(convs)} convolutions with constant weights, the SiamFC AlexNet has "
                           f"{wanted} (groups counted separately)")
    tensors: dict[str, torch.Tensor] = {}
    k = 0
    for n, spec in enumerate(layers, start=1):
        group = sorted(convs[k:k + spec.groups], key=lambda op: _group_index(graph, op))
        k += spec.groups
        parts = [_conv(graph, op) for op in group]
        for op in group:
            if op.stride != (spec.stride, spec.stride) or not op.padding_valid:
                raise WeightsError(f"{path}: conv{n} has stride {op.stride} and "
                                   f"{'VALID' if op.padding_valid else 'SAME'} padding; SiamFC's is "
                                   f"{spec.stride}, VALID")
        prefix = f"backbone.conv{n}."
        tensors[prefix + "0.weight"] = torch.from_numpy(np.concatenate([p["weight"] for p in parts]))
        tensors[prefix + "0.bias"] = torch.from_numpy(np.concatenate([p["bias"] for p in parts]))
        has_bn = ["bn_scale" in p for p in parts]
        if any(has_bn) != spec.norm_relu or not all(has_bn) == any(has_bn):
            raise WeightsError(f"{path}: conv{n} {'lacks' if spec.norm_relu else 'has'} a batch norm "
                               f"(MUL/ADD constants) in the export")
        if spec.norm_relu:
            c = spec.out_channels
            # y = x * s + b exactly: BN computes (x - mean) / sqrt(var + eps) * w + b, so mean 0, var 1 and
            # w = s * sqrt(1 + eps)
            scale = np.concatenate([p["bn_scale"] for p in parts]) * np.float32(np.sqrt(1.0 + BN_EPS))
            tensors[prefix + "1.weight"] = torch.from_numpy(scale.astype(np.float32))
            tensors[prefix + "1.bias"] = torch.from_numpy(np.concatenate([p["bn_shift"] for p in parts]))
            tensors[prefix + "1.running_mean"] = torch.zeros(c)
            tensors[prefix + "1.running_var"] = torch.ones(c)
            tensors[prefix + "1.num_batches_tracked"] = torch.tensor(0)
        if tensors[prefix + "0.weight"].shape[0] != spec.out_channels:
            raise WeightsError(f"{path}: conv{n} has {tensors[prefix + '0.weight'].shape[0]} output channels, "
                               f"SiamFC's has {spec.out_channels}")
    out_scale, bias = _head(graph, path)
    tensors["head.bias"] = torch.tensor([bias], dtype=torch.float32)
    return ImportedSiamFC(tensors, out_scale, sha256_of(path))


def _head(graph: TFLiteGraph, path: Path) -> tuple[float, float]:
    """The response scale and bias: the MUL and ADD constants after the cross-correlation (a conv by activations)."""
    xcorr = [op for op in graph.ops if op.kind == "CONV_2D" and not graph.constant(op.inputs[1])]
    if len(xcorr) != 1:
        raise WeightsError(f"{path}: expected one cross-correlation (a convolution by features), found {len(xcorr)}")
    mul = _elementwise_constant(graph, xcorr[0].outputs[0], "MUL")
    add = _elementwise_constant(graph, mul[0].outputs[0], "ADD") if mul is not None else None
    if mul is None or add is None or mul[1].size != 1 or add[1].size != 1:
        raise WeightsError(f"{path}: the cross-correlation is not followed by a scalar MUL (scale) and ADD (bias)")
    return float(mul[1].reshape(())), float(add[1].reshape(()))


def import_cache_path(source: Path) -> Path:
    """Where the float import of ``source`` is cached: ``<cache>/weights/imported/<stem>.pth``."""
    return cache_dir() / "imported" / f"{source.stem}.pth"


def imported_state_dict(source: Path) -> ImportedSiamFC:
    """The float import of ``source``, read from the cache when it was made from the same file (sha256), else made."""
    sha = sha256_of(source)
    cached = import_cache_path(source)
    if cached.is_file():
        saved = load_state_dict(cached)
        if saved.get("source_sha256") == sha and saved.get("importer_version") == IMPORTER_VERSION:
            return ImportedSiamFC(dict(saved["state_dict"]), float(saved["out_scale"]), sha)
    imported = read_siamfc_tflite(source)
    payload = {"source": os.fspath(source.name), "source_sha256": sha, "importer_version": IMPORTER_VERSION,
               "out_scale": imported.out_scale, "state_dict": imported.tensors}
    with atomic_target(cached, suffix=".part") as tmp:
        torch.save(payload, tmp)
    return imported
