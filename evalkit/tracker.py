"""The tracker contract: what a tracker implements for evalkit to run it, with typed, frozen parameters.

    from dataclasses import dataclass
    from evalkit.tracker import Prediction, Tracker

    @dataclass(frozen=True)
    class MyParams:
        search_scale: float = 2.0
        use_hog: bool = True

    class MyTracker(Tracker):
        name = "mytracker"
        deterministic = True
        Params = MyParams

        def initialize(self, frame, box):            # frame: RGB uint8 HxWx3; box: x, y, w, h (0-based, float)
            self.box = box
        def update(self, frame):
            return Prediction(self.box, score=None)

    t = MyTracker(search_scale=2.5)                  # or MyTracker.from_mapping({"use_hog": "false"})
    t.load(device)                                   # weights, if any: separate from construction

Conventions (as got10k's ``Tracker`` and pytracking's ``BaseTracker``): trackers never read files and never time
themselves; the harness decodes frames, converts boxes (benchmarks publish 1-based boxes; trackers see 0-based ones)
and measures ``initialize`` and ``update`` separately. The contract lives in evalkit and imports neither torch nor
OpenCV, so implementations (``trackers/``, plugins) depend on evalkit and never the reverse.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError


class ParameterError(EvalkitError, ValueError):
    """A tracker parameter is unknown or cannot be converted to its declared type (the CLI prints it plainly)."""


@dataclass(frozen=True)
class Prediction:
    """A tracker's output for one frame: x, y, w, h (0-based, float) and an optional confidence."""

    box: NDArray[np.float64]
    score: float | None = None

    def __post_init__(self) -> None:
        box = np.asarray(self.box, dtype=np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(f"a prediction box has 4 values (x, y, w, h), got {box.shape[0]}")
        object.__setattr__(self, "box", box)

    @classmethod
    def coerce(cls, value: Any) -> Prediction:
        """A Prediction from what trackers of other toolkits return from ``update``: a Prediction, 4 numbers (a
        list, tuple or array: got10k returns an array), or a ``(box, score)`` pair. Anything else (None, another
        shape, text) is a ValueError saying what came back, so the harness records it as that run's failure."""
        if isinstance(value, cls):
            return value
        if value is None:
            raise ValueError("returned None instead of a box")
        if isinstance(value, tuple | list) and len(value) == 2 and _is_four(value[0]):
            box, score = value
            if score is not None and not isinstance(score, int | float | np.number):
                raise ValueError(f"returned a (box, score) pair whose score is {type(score).__name__}")
            return cls(np.asarray(box, dtype=np.float64), None if score is None else float(score))
        if _is_four(value):
            return cls(np.asarray(value, dtype=np.float64))
        shape = np.shape(value) if isinstance(value, list | tuple | np.ndarray) else None
        raise ValueError(f"returned {type(value).__name__}{f' of shape {shape}' if shape is not None else ''}, "
                         f"not a box (x, y, w, h), a (box, score) pair or a Prediction")


def _is_four(value: Any) -> bool:
    """True when ``value`` is 4 real numbers (a sequence or an array of 4, or 1 x 4)."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | np.ndarray):
        return False
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return array.size == 4 and array.ndim <= 2 and array.shape[-1] == 4


@dataclass(frozen=True)
class NoParams:
    """Parameters of a tracker that has none."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(value: Any, annotation: Any, where: str) -> Any:
    """Convert ``value`` (often a string from a command line or TOML) to a field's declared type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in typing.get_args(annotation):
                return None
        for a in args:
            try:
                return _convert(value, a, where)
            except ParameterError:
                continue
        raise ParameterError(f"{where}: cannot read {value!r} as {annotation}")
    if origin in (tuple, list):
        items = value.split(",") if isinstance(value, str) else list(value)
        inner = typing.get_args(annotation)
        if origin is tuple and inner and inner[-1] is not Ellipsis:
            if len(inner) != len(items):
                raise ParameterError(f"{where}: expected {len(inner)} values, got {len(items)}")
            return tuple(_convert(v, t, where) for v, t in zip(items, inner, strict=True))
        t = inner[0] if inner else str
        converted = [_convert(v, t, where) for v in items]
        return tuple(converted) if origin is tuple else converted
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ParameterError(f"{where}: {value!r} is not a boolean (use true/false, yes/no, 1/0)")
    if annotation in (int, float, str):
        if annotation is int and isinstance(value, float) and not value.is_integer():
            raise ParameterError(f"{where}: {value!r} is not an integer")
        if isinstance(value, bool) and annotation is not str:
            raise ParameterError(f"{where}: {value!r} is a boolean, expected {annotation.__name__}")
        try:
            return annotation(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}: cannot read {value!r} as {annotation.__name__}") from None
    return value


def build_params(params_type: type, values: Mapping[str, Any] | None = None) -> Any:
    """An instance of the frozen parameter dataclass with ``values`` converted to the declared types.

    Unknown keys are errors (never silently ignored), and booleans are parsed, so ``"false"`` is False.
    """
    values = dict(values or {})
    hints = typing.get_type_hints(params_type)
    fields = {f.name for f in dataclasses.fields(params_type)}
    unknown = sorted(set(values) - fields)
    if unknown:
        import difflib

        hint = "; ".join(f"{u!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, fields, 1))
                                     else "") for u in unknown)
        raise ParameterError(f"{params_type.__name__}: unknown parameter(s) {hint}; known: {', '.join(sorted(fields))}")
    converted = {k: _convert(v, hints[k], f"{params_type.__name__}.{k}") for k, v in values.items()}
    return params_type(**converted)


def params_as_dict(params: Any) -> dict[str, Any]:
    """A JSON-friendly dict of a parameter dataclass (tuples become lists)."""
    out = dataclasses.asdict(params)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


class Tracker(ABC):
    """Base class of evalkit tracker adapters (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    deterministic: ClassVar[bool] = True
    Params: ClassVar[type] = NoParams
    needs_device: ClassVar[bool] = False  # True for torch trackers: the harness then picks CUDA or CPU for load()

    def __init__(self, params: Any | None = None, **overrides: Any) -> None:
        if params is not None and not isinstance(params, self.Params):
            raise ParameterError(f"{type(self).__name__} expects {self.Params.__name__}, got {type(params).__name__}")
        base = params_as_dict(params) if params is not None else {}
        self.params = build_params(self.Params, {**base, **overrides})

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None = None) -> Tracker:
        """Construct from untyped values (a TOML table, ``--param`` flags): converted and checked."""
        return cls(**dict(values or {}))

    def load(self, device: str | None = None) -> None:  # noqa: B027 - optional hook, a no-op for weightless trackers
        """Load weights and move to ``device``; trackers without weights need not override it."""

    def weights_sha256(self) -> str | None:
        """sha256 of the loaded weights (part of the result fingerprint); None for trackers without weights."""
        return None

    @abstractmethod
    def initialize(self, frame: NDArray[np.uint8], box: NDArray[np.float64]) -> None:
        """Start tracking the target at ``box`` (x, y, w, h, 0-based) in ``frame`` (RGB uint8, H x W x 3)."""

    @abstractmethod
    def update(self, frame: NDArray[np.uint8]) -> Prediction:
        """Locate the target in the next frame."""
