"""evalkit's result store: one folder per (suite, protocol, tracker@fingerprint), atomic writes, resume.

    <results>/<suite>/<protocol>/<tracker>@<fingerprint>/
        run.json                      a RunMeta (evalkit.store.meta): tracker, parameters, weights sha256,
                                      evalkit version, git commit, device, seed
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
    >>> meta = store.open_run_set(folder, RunMeta(tracker="kcf", protocol="ope"))            # doctest: +SKIP

The reading side is :mod:`evalkit.store.reader`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evalkit import __version__
from evalkit.errors import EvalkitError, InputFileError
from evalkit.io import atomic_write_json, atomic_write_text
from evalkit.store.meta import RUN_META_FILE, RunMeta, RunRecord

RESULT_FORMAT_VERSION = 1
TIMES_SUFFIX = ".time.txt"  # <label>.time.txt: a run's seconds per frame, beside its <label>.txt


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


class ResultStore:
    """Results on disk under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def tracker_folder(self, suite: str, protocol: str, tracker: str, fp: str) -> Path:
        """Folder of one tracker@fingerprint for a suite and protocol."""
        return self.root / safe_name(suite) / safe_name(protocol) / f"{safe_name(tracker)}@{fp}"

    def open_run_set(self, folder: Path, meta: RunMeta | Mapping[str, Any]) -> RunMeta:
        """Create the folder and write ``run.json`` (stamped with version, commit, host, date); an existing one must
        carry the same fingerprint, and is then kept as it is. Returns what run.json now holds.

        ``meta`` may still be a run.json-shaped mapping (checked as a read run.json is) for callers not yet building
        a :class:`RunMeta`.
        """
        path = Path(folder) / RUN_META_FILE
        if not isinstance(meta, RunMeta):
            meta = RunMeta.from_json(dict(meta), path)
        if path.is_file():
            old = RunMeta.read(path)
            if old.fingerprint != meta.fingerprint:
                raise EvalkitError(f"{path}: fingerprint {old.fingerprint} does not match {meta.fingerprint}; "
                                   f"refusing to mix results")
            return old
        stamped = dataclasses.replace(meta, result_format=RESULT_FORMAT_VERSION, evalkit_version=__version__,
                                      git_commit=git_commit(), host=platform.node(),
                                      created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        stamped.write(folder)
        return stamped

    @staticmethod
    def run_paths(folder: Path, sequence: str, label: str) -> tuple[Path, Path, Path]:
        """Paths of a run's boxes, times and metadata files."""
        d = folder / safe_name(sequence)
        return d / f"{label}.txt", d / f"{label}{TIMES_SUFFIX}", d / f"{label}.json"

    def finished(self, folder: Path, sequence: str, label: str) -> bool:
        """True when the run completed successfully before (its record, written last, says so)."""
        _, _, record_path = self.run_paths(folder, sequence, label)
        if not record_path.is_file():
            return False
        try:
            return RunRecord.read(record_path).finished
        except InputFileError:  # a record cut short or edited by hand: run it again
            return False

    def write_run(self, folder: Path, sequence: str, label: str, boxes: NDArray[np.float64] | str,
                  times: NDArray[np.float64], record: RunRecord | Mapping[str, Any]) -> None:
        """Write a run's boxes (or VOT-format lines), times, then its record, each atomically."""
        box_path, time_path, record_path = self.run_paths(folder, sequence, label)
        atomic_write_text(box_path, boxes if isinstance(boxes, str) else format_boxes(boxes))
        atomic_write_text(time_path, "\n".join(f"{t:.6f}" for t in np.asarray(times)) + "\n")
        self._write_record(record_path, sequence, label, record)

    def write_failure(self, folder: Path, sequence: str, label: str, record: RunRecord | Mapping[str, Any]) -> None:
        """Record a failed run (no boxes); it is retried on the next invocation."""
        self._write_record(self.run_paths(folder, sequence, label)[2], sequence, label, record)

    @staticmethod
    def _write_record(path: Path, sequence: str, label: str, record: RunRecord | Mapping[str, Any]) -> None:
        """Write a run record naming its sequence and label; a mapping (the runner's) is checked as a read one is."""
        if isinstance(record, RunRecord):
            record = dataclasses.replace(record, sequence=sequence, label=label)
        else:
            record = RunRecord.from_json({"sequence": sequence, "label": label, **record}, path)
        atomic_write_json(path, record.to_json())

    def records(self, folder: Path) -> list[RunRecord]:
        """Every readable run record in a tracker folder (sequence and label from the path where one lacks them)."""
        out = []
        for record_path in sorted(Path(folder).glob("*/*.json")):
            try:
                record = RunRecord.read(record_path)
            except InputFileError:
                continue
            out.append(dataclasses.replace(record, sequence=record.sequence or record_path.parent.name,
                                           label=record.label or record_path.stem))
        return out
