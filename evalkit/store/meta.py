"""The store's metadata files: ``run.json`` (:class:`RunMeta`, one per result set) and ``<Sequence>/<label>.json``
(:class:`RunRecord`, one per run).

    >>> meta = RunMeta(tracker="kcf", params={"padding": 1.5}, protocol="ope", device="cpu", seed=0)
    >>> RunMeta.from_json(meta.to_json(), Path("run.json")) == meta
    True
    >>> RunRecord.from_json({"sequence": "David", "label": "ope", "status": "ok"}, Path("ope.json")).finished
    True

Every key of these files is spelled here and only here: the writer (:mod:`evalkit.store.writer`) stores them, the
reader (:mod:`evalkit.store.reader`), the report's provenance and the table loader read them. Keys a file may lack
are None (or empty): hand-made store folders hold only ``tracker`` and ``start_frames``. Keys this version does not
know (a newer evalkit's, a user's note) are kept in ``extra`` and written back unchanged. A file that is not JSON,
not an object, or holds a key of the wrong type is an :class:`InputFileError` naming the file (and the line, for a
JSON syntax error). The record of what determines results follows lm-evaluation-harness' result files (tracker,
parameters, weights, version, commit, device, seed).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from evalkit.errors import InputFileError, read_input_text
from evalkit.io import atomic_write_json

RUN_META_FILE = "run.json"
STATUS_OK = "ok"  # a run record's status once the run finished; anything else is retried
FORMAT_BOXES = "boxes"  # x,y,w,h per line (the default when a record names no format)
FORMAT_VOT = "vot"  # VOT supervised lines: 1 / 2 / 0 codes or regions (evalkit.results.vot)

_M = TypeVar("_M", bound="_JsonRecord")


def _read_object(path: Path) -> object:
    """The parsed JSON of ``path``; an unreadable file or a syntax error is an InputFileError naming it."""
    text = read_input_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None


@cache
def _field_types(cls: type) -> dict[str, tuple[type, ...]]:
    """Field name -> the JSON types its annotation allows (``int | None`` -> int; a float field takes an int too)."""
    out: dict[str, tuple[type, ...]] = {}
    for name, hint in get_type_hints(cls).items():
        if name == "extra":
            continue
        union = get_origin(hint) in (Union, UnionType)
        types = tuple(get_origin(a) or a for a in (get_args(hint) if union else (hint,)) if a is not type(None))
        out[name] = (*types, int) if float in types else types
    return out


@dataclass(frozen=True)
class _JsonRecord:
    """A JSON object with typed known keys (the dataclass fields) and the unknown ones kept in ``extra``."""

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    @classmethod
    def from_json(cls: type[_M], data: object, path: Path) -> _M:
        """A record from a parsed JSON file (``path`` names the file in errors); unknown keys go to ``extra``."""
        if not isinstance(data, dict):
            raise InputFileError(path, None, f"{path.name} must hold a JSON object, found {type(data).__name__}")
        types = _field_types(cls)  # None is always allowed: a key may be absent or null
        known: dict[str, Any] = {}
        for key, allowed in types.items():
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
                raise InputFileError(path, None, f"{key!r} must be {' or '.join(t.__name__ for t in allowed)}, "
                                                 f"found {json.dumps(value)[:60]}")
            known[key] = value
        record = cls(**known, extra={k: v for k, v in data.items() if k not in types})
        record._check(path)
        return record

    def _check(self, path: Path) -> None:
        """Checks across or inside fields, beyond each value's type (none by default)."""

    @classmethod
    def read(cls: type[_M], path: Path) -> _M:
        """Read a record file; an unreadable or malformed one is an InputFileError naming it (and the line)."""
        return cls.from_json(_read_object(path), Path(path))

    def to_json(self) -> dict[str, Any]:
        """The JSON object: unknown keys as read, then every known key (null when unset)."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "extra"}
        return {**self.extra, **out}


@dataclass(frozen=True)
class RunMeta(_JsonRecord):
    """The typed contents of a store folder's ``run.json`` (every field optional when read: see the module doc)."""

    tracker: str | None = None
    tracker_ref: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    weights_sha256: str | None = None
    fingerprint: str | None = None
    suite: str | None = None
    protocol: str | None = None
    device: str | None = None
    seed: int | None = None
    deterministic: bool | None = None
    data_root: str | None = None
    start_frames: dict[str, int] = field(default_factory=dict)  # hand-made folders: first frame of a partial run
    result_format: int | None = None
    evalkit_version: str | None = None
    git_commit: str | None = None
    host: str | None = None
    created: str | None = None

    def _check(self, path: Path) -> None:
        """``start_frames`` maps sequence names to frame numbers."""
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in self.start_frames.values()):
            raise InputFileError(path, None, "'start_frames' must map sequence names to frame numbers")

    def to_json(self) -> dict[str, Any]:
        """The run.json object: every known key (null when unknown), ``start_frames`` only when there are some."""
        out = super().to_json()
        if not self.start_frames:
            del out["start_frames"]
        return out

    def write(self, folder: Path) -> Path:
        """Write ``<folder>/run.json`` atomically; returns its path."""
        path = Path(folder) / RUN_META_FILE
        atomic_write_json(path, self.to_json())
        return path


@dataclass(frozen=True)
class RunRecord(_JsonRecord):
    """One run's ``<Sequence>/<label>.json``: which run, whether it finished, and how (written after its data)."""

    sequence: str | None = None
    label: str | None = None
    status: str | None = None
    format: str | None = None  # FORMAT_BOXES when None
    start_frame: int | None = None
    protocol: str | None = None
    n_frames: int | None = None
    fps: float | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def finished(self) -> bool:
        """True when the run completed (its data files are complete); other runs are retried."""
        return self.status == STATUS_OK

    @property
    def data_format(self) -> str:
        """What the run's ``<label>.txt`` holds: :data:`FORMAT_BOXES` or :data:`FORMAT_VOT`."""
        return self.format or FORMAT_BOXES
