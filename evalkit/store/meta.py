"""``run.json``: what one stored result set is (tracker, parameters, weights, protocol, device, seed, provenance).

    >>> meta = RunMeta(tracker="kcf", params={"padding": 1.5}, protocol="ope", device="cpu", seed=0)
    >>> RunMeta.from_json(meta.to_json(), Path("run.json")) == meta
    True

Every ``run.json`` key is spelled here and only here: the writer (:mod:`evalkit.store.writer`) stores a
:class:`RunMeta`, the reader (:mod:`evalkit.store.reader`), the report's provenance and the table loader read one.
Keys a run.json may lack are None (or empty): hand-made store folders hold only ``tracker`` and ``start_frames``.
Keys this version does not know (a newer evalkit's, a user's note) are kept in ``extra`` and written back unchanged.
A run.json that is not JSON, not an object, or holds a key of the wrong type is an :class:`InputFileError` naming
the file (and the line, for a JSON syntax error). The record of what determines results follows lm-evaluation-harness'
result files (tracker, parameters, weights, version, commit, device, seed).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import InputFileError
from evalkit.io import atomic_write_json

RUN_META_FILE = "run.json"

# key -> the JSON types a value may have (None is always allowed); bool is checked before int (bool is an int)
_TYPES: dict[str, tuple[type, ...]] = {
    "tracker": (str,), "tracker_ref": (str,), "params": (dict,), "weights_sha256": (str,), "fingerprint": (str,),
    "suite": (str,), "protocol": (str,), "device": (str,), "seed": (int,), "deterministic": (bool,),
    "data_root": (str,), "start_frames": (dict,), "result_format": (int,), "evalkit_version": (str,),
    "git_commit": (str,), "host": (str,), "created": (str,),
}


@dataclass(frozen=True)
class RunMeta:
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
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, written back as read

    def to_json(self) -> dict[str, Any]:
        """The run.json object: every known key (null when unknown), ``start_frames`` only when there are some."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("extra", "start_frames")}
        if self.start_frames:
            out["start_frames"] = dict(self.start_frames)
        return {**self.extra, **out}

    @classmethod
    def from_json(cls, data: object, path: Path) -> RunMeta:
        """A RunMeta from a parsed run.json (``path`` names the file in errors); unknown keys go to ``extra``."""
        if not isinstance(data, dict):
            raise InputFileError(path, None, f"run.json must hold a JSON object, found {type(data).__name__}")
        known: dict[str, Any] = {}
        for key, types in _TYPES.items():
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise InputFileError(path, None, f"{key!r} must be {' or '.join(t.__name__ for t in types)}, "
                                                 f"found {json.dumps(value)[:60]}")
            known[key] = value
        starts = known.get("start_frames", {})
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in starts.values()):
            raise InputFileError(path, None, "'start_frames' must map sequence names to frame numbers")
        return cls(**known, extra={k: v for k, v in data.items() if k not in _TYPES})

    @classmethod
    def read(cls, path: Path) -> RunMeta:
        """Read a run.json file; an unreadable or malformed one is an InputFileError naming it (and the line)."""
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise InputFileError(path, None, f"cannot read: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, exc.lineno, f"invalid json: {exc.msg}") from None
        return cls.from_json(data, Path(path))

    def write(self, folder: Path) -> Path:
        """Write ``<folder>/run.json`` atomically; returns its path."""
        path = Path(folder) / RUN_META_FILE
        atomic_write_json(path, self.to_json())
        return path
