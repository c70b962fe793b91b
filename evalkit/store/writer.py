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
import os
import platform
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
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
LOCK_SUFFIX = ".lock"  # <label>.lock: the evalkit process (pid, host) running that run now
STALE_TMP_SECONDS = 600.0  # a folder-level .tmp this old is a killed write's (writing run.json takes milliseconds)
_BOX_ROW = re.compile(r"^\s*(?:[-+0-9.eE]+|nan|NaN)(?:\s*[,\s]\s*(?:[-+0-9.eE]+|nan|NaN)){3}\s*$")


def _pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host (one we may not signal still exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunLock:
    """A held lock on one run: the file ``<Sequence>/<label>.lock`` holding this process' pid and host."""

    path: Path

    def release(self) -> None:
        """Remove the lock file (only ever called by the process that created it)."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LockHeld:
    """Another live evalkit process holds the run's lock (or one on another host, whose pid cannot be checked)."""

    owner: str


def format_boxes(boxes: NDArray[np.float64]) -> str:
    """Boxes as text, one x,y,w,h per line with 4 decimals (NaN kept as nan)."""
    lines = [",".join("nan" if not np.isfinite(v) else f"{v:.4f}" for v in row) for row in np.asarray(boxes)]
    return "\n".join(lines) + ("\n" if lines else "")


def fingerprint(tracker: str, params: dict[str, Any], weights_sha256: str | None) -> str:
    """Short stable hash of what determines a tracker's results (name, parameters, weights, result format)."""
    # the hashed object is frozen, not run.json's keys: renaming one would change every fingerprint and orphan every
    # stored result (they would all run again)
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

    def clean_stray_tmp(self, folder: Path) -> list[Path]:
        """Remove a result folder's temporary files left by killed writes of ``run.json`` (folder level, older than
        :data:`STALE_TMP_SECONDS`); a run's own ones are removed by whoever takes its lock (:meth:`try_lock`)."""
        removed = []
        for tmp in Path(folder).glob(".*.tmp"):
            try:
                if time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    tmp.unlink()
                    removed.append(tmp)
            except OSError:
                continue
        return removed

    def open_run_set(self, folder: Path, meta: RunMeta | Mapping[str, Any]) -> RunMeta:
        """Create the folder and write ``run.json`` (stamped with version, commit, host, date); an existing one must
        carry the same fingerprint, and is then kept as it is. Returns what run.json now holds.

        ``meta`` may still be a run.json-shaped mapping (checked as a read run.json is) for callers not yet building
        a :class:`RunMeta`.
        """
        path = Path(folder) / RUN_META_FILE
        if not isinstance(meta, RunMeta):
            meta = RunMeta.from_json(dict(meta), path)
        self.clean_stray_tmp(folder)
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
        """True when the run completed successfully before (its record, written last, says so) and its data file is
        complete (see :meth:`damaged`)."""
        _, _, record_path = self.run_paths(folder, sequence, label)
        if not record_path.is_file():
            return False
        try:
            record = RunRecord.read(record_path)
        except InputFileError:  # a record cut short or edited by hand: run it again
            return False
        return record.finished and self.damaged(folder, sequence, label, record) is None

    def damaged(self, folder: Path, sequence: str, label: str, record: RunRecord | None = None) -> str | None:
        """Why a run whose record says ok cannot be reused (its data file missing, cut short or unparseable), or
        None. A truncated boxes file would otherwise be reused on resume and then silently dropped at scoring."""
        box_path, _, record_path = self.run_paths(folder, sequence, label)
        if record is None:
            if not record_path.is_file():
                return None
            try:
                record = RunRecord.read(record_path)
            except InputFileError:  # not a record of a finished run: it is simply run again
                return None
        if not record.finished:
            return None
        try:
            text = box_path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            return f"{box_path}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        rows = text.splitlines()
        if record.n_frames is not None and len(rows) != record.n_frames:
            return f"{box_path}: {len(rows)} rows, its run has {record.n_frames} frames (cut short)"
        if record.data_format == "boxes":
            bad = next((k for k, row in enumerate(rows, 1) if not _BOX_ROW.match(row)), None)
            if bad is not None:
                return f"{box_path}:{bad}: not four numbers"
        return None

    def try_lock(self, folder: Path, sequence: str, label: str) -> RunLock | LockHeld:
        """Take the run's lock (``<label>.lock`` beside its files, created exclusively, holding pid and host).

        A lock whose owner is dead (same host, no such pid) is stale and taken over; a live owner's is left alone
        (:class:`LockHeld`): two evalkit processes on one store then split the work instead of doing it twice.
        Taking the lock also removes the run's stray temporary files (a killed write's), which only its owner may.
        """
        path = self.run_paths(folder, sequence, label)[2].with_suffix(LOCK_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        me = json.dumps({"pid": os.getpid(), "host": platform.node(), "created": time.time()})
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _lock_owner(path)
                if owner is None or _owner_alive(owner):
                    return LockHeld(_describe_owner(owner, path))
                # stale: move it aside under a name of our own (one process wins the rename), then retry
                aside = path.with_name(f"{path.name}.stale.{os.getpid()}")
                try:
                    os.rename(path, aside)
                except FileNotFoundError:
                    continue
                if _lock_owner(aside) != owner:  # another process replaced it meanwhile: give it back, let it run
                    os.replace(aside, path)
                    return LockHeld(_describe_owner(_lock_owner(path), path))
                aside.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(me)
            _remove_stray_tmp(path.parent, label)
            return RunLock(path)
        return LockHeld(_describe_owner(_lock_owner(path), path))

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


def _lock_owner(path: Path) -> dict[str, Any] | None:
    """The pid/host a lock file records; None while it is being written (empty) or unreadable."""
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def _owner_alive(owner: dict[str, Any]) -> bool:
    """A lock's owner counts as alive unless it is on this host and its pid is gone (another host: cannot tell)."""
    return owner.get("host") != platform.node() or _pid_alive(int(owner["pid"]))


def _describe_owner(owner: dict[str, Any] | None, path: Path) -> str:
    return f"pid {owner['pid']} on {owner.get('host')}" if owner else f"the process writing {path}"


def _remove_stray_tmp(seq_dir: Path, label: str) -> None:
    """Remove the temporary files of one run's killed writes (``.<label>.txt.XXXX.tmp`` ...): only the lock's
    holder writes them, so none is in use."""
    for tmp in seq_dir.glob(f".{glob_escape(label)}.*.tmp"):
        tmp.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    import glob

    return glob.escape(text)
