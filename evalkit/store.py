"""evalkit's result store: one folder per (suite, protocol, tracker@fingerprint), atomic writes, resume.

    <results>/<suite>/<protocol>/<tracker>@<fingerprint>/
        run.json                      tracker, parameters, weights sha256, evalkit version, git commit, device, seed
        <Sequence>/<label>.txt        boxes x,y,w,h in the benchmark's (1-based) coordinates, 4 decimals
        <Sequence>/<label>.time.txt   seconds per frame (line 1: initialize, then each update)
        <Sequence>/<label>.json       the run: start frame, initial box, status, error with traceback

``label`` is the run's name within its protocol (``ope``, ``tre-07``, ``sre-scale_12``, ``rep-003`` ...). The
fingerprint covers the tracker name, its parameters, its weights' sha256 and the result-format version, so a changed
parameter lands in a new folder and stale results are never reused. Every file is written to a temporary name and
renamed, and a run counts as finished only when its ``.json`` (written last) says so: an interrupted run resumes
exactly where it stopped.

    >>> store = ResultStore(Path("results"))
    >>> folder = store.tracker_folder("otb100", "ope", "kcf", fingerprint("kcf", {}, None))   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit import __version__
from evalkit.errors import EvalkitError

RESULT_FORMAT_VERSION = 1


def _default_mode() -> int:
    """0o666 minus the process umask: what ``open(path, "w")`` would give (mkstemp's files are 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_target(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends normally, removed otherwise.

    Everything evalkit writes (results, checkpoints, reports, fetched weights) goes through here, so a crash or a
    kill never leaves a half-written file under the final name, and files get the usual permissions.

        with atomic_target(out) as tmp:
            torch.save(state, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, payload: Any) -> None:
    """Atomically write ``payload`` as indented JSON."""
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")


def format_boxes(boxes: NDArray[np.float64]) -> str:
    """Boxes as text, one x,y,w,h per line with 4 decimals (NaN kept as nan)."""
    lines = [",".join("nan" if not np.isfinite(v) else f"{v:.4f}" for v in row) for row in np.asarray(boxes)]
    return "\n".join(lines) + ("\n" if lines else "")


def fingerprint(tracker: str, params: dict[str, Any], weights_sha256: str | None) -> str:
    """Short stable hash of what determines a tracker's results (name, parameters, weights, result format)."""
    payload = json.dumps({"tracker": tracker, "params": params, "weights_sha256": weights_sha256,
                          "result_format": RESULT_FORMAT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def git_commit() -> str | None:
    """The evalkit checkout's git commit, if it is one (recorded for provenance)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                             text=True, timeout=5, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def safe_name(name: str) -> str:
    """A tracker or sequence name usable as a folder name."""
    return "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name)


@dataclass(frozen=True)
class RunRecord:
    """What the store knows of one finished or failed run."""

    sequence: str
    label: str
    status: str
    meta: dict[str, Any]


class ResultStore:
    """Results on disk under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def tracker_folder(self, suite: str, protocol: str, tracker: str, fp: str) -> Path:
        """Folder of one tracker@fingerprint for a suite and protocol."""
        return self.root / safe_name(suite) / safe_name(protocol) / f"{safe_name(tracker)}@{fp}"

    def open_run_set(self, folder: Path, meta: dict[str, Any]) -> None:
        """Create the folder and write ``run.json``; an existing one must carry the same fingerprint."""
        path = folder / "run.json"
        if path.is_file():
            old = json.loads(path.read_text())
            if old.get("fingerprint") != meta.get("fingerprint"):
                raise EvalkitError(f"{path}: fingerprint {old.get('fingerprint')} does not match "
                                   f"{meta.get('fingerprint')}; refusing to mix results")
            return
        atomic_write_json(path, {
            **meta,
            "result_format": RESULT_FORMAT_VERSION,
            "evalkit_version": __version__,
            "git_commit": git_commit(),
            "host": platform.node(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })

    @staticmethod
    def run_paths(folder: Path, sequence: str, label: str) -> tuple[Path, Path, Path]:
        """Paths of a run's boxes, times and metadata files."""
        d = folder / safe_name(sequence)
        return d / f"{label}.txt", d / f"{label}.time.txt", d / f"{label}.json"

    def finished(self, folder: Path, sequence: str, label: str) -> bool:
        """True when the run completed successfully before (its metadata, written last, says so)."""
        _, _, meta = self.run_paths(folder, sequence, label)
        if not meta.is_file():
            return False
        try:
            return json.loads(meta.read_text()).get("status") == "ok"
        except json.JSONDecodeError:
            return False

    def write_run(self, folder: Path, sequence: str, label: str, boxes: NDArray[np.float64] | str,
                  times: NDArray[np.float64], meta: dict[str, Any]) -> None:
        """Write a run's boxes (or VOT-format lines), times, then its metadata, each atomically."""
        box_path, time_path, meta_path = self.run_paths(folder, sequence, label)
        atomic_write_text(box_path, boxes if isinstance(boxes, str) else format_boxes(boxes))
        atomic_write_text(time_path, "\n".join(f"{t:.6f}" for t in np.asarray(times)) + "\n")
        atomic_write_json(meta_path, {"sequence": sequence, "label": label, **meta})

    def write_failure(self, folder: Path, sequence: str, label: str, meta: dict[str, Any]) -> None:
        """Record a failed run (no boxes); it is retried on the next invocation."""
        _, _, meta_path = self.run_paths(folder, sequence, label)
        atomic_write_json(meta_path, {"sequence": sequence, "label": label, **meta})

    def records(self, folder: Path) -> list[RunRecord]:
        """Every run recorded in a tracker folder."""
        out = []
        for meta_path in sorted(folder.glob("*/*.json")):
            try:
                meta = json.loads(meta_path.read_text())
            except json.JSONDecodeError:
                continue
            out.append(RunRecord(meta.get("sequence", meta_path.parent.name), meta.get("label", meta_path.stem),
                                 meta.get("status", "unknown"), meta))
        return out
