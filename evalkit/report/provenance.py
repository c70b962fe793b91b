"""Where results came from and how fast they ran: run.json provenance and frames per second from stored times.

    >>> info = result_provenance(result_set)              # doctest: +SKIP
    >>> info.device, info.weights_sha256                    # doctest: +SKIP
    ('cuda', '3f1c...')
    >>> speed = tracker_speed(result_set)                   # doctest: +SKIP
    >>> round(speed.fps, 1), speed.device                   # doctest: +SKIP
    (142.3, 'cuda')

Speed is read from the per-frame times evalkit's harness stores beside each run (``<label>.time.txt``) or that
got10k writes (``times/<seq>_time.txt``): a sequence's FPS is its frame count over its total time (initialisation
included), and a tracker's FPS is the mean over sequences, as the OTB toolkit averages per-sequence speeds. Result
archives without times (OTB .mat files) have no speed; it is never guessed.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evalkit import __version__
from evalkit.results import ResultSet


@dataclass(frozen=True)
class Speed:
    """Mean frames per second over sequences, the device it was measured on, and how many sequences had times."""

    fps: float
    device: str
    n_sequences: int


@dataclass(frozen=True)
class ResultProvenance:
    """What a result set's ``run.json`` says about how it was made (empty fields for foreign archives)."""

    tracker: str
    source: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    weights_sha256: str | None = None
    device: str | None = None
    evalkit_version: str | None = None
    git_commit: str | None = None
    created: str | None = None
    fingerprint: str | None = None
    protocol: str | None = None
    data_root: str | None = None


def read_run_json(folder: Path) -> dict[str, Any] | None:
    """The ``run.json`` of an evalkit store folder as a dict; None when there is none or it cannot be read."""
    path = folder / "run.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def provenance_note(folder: Path, levels: int = 2) -> str | None:
    """The title and ``Source:`` line of a PROVENANCE.md in ``folder`` or up to ``levels`` folders above it."""
    folder = Path(folder)
    for candidate in [folder, *list(folder.parents)[:levels]]:
        path = candidate / "PROVENANCE.md"
        if path.is_file():
            try:
                lines = path.read_text().splitlines()
            except OSError:
                return None
            title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), "")
            source = next((ln.strip() for ln in lines if ln.lower().startswith("source:")), "")
            return f"{path}: {title}" + (f"; {source}" if source else "")
    return None


def result_provenance(rs: ResultSet) -> ResultProvenance:
    """Provenance of one result set: its run.json (evalkit store), else where it was found (and the PROVENANCE.md
    beside it, when there is one)."""
    meta = read_run_json(Path(rs.source))
    if meta is None:
        kind = "OTB-toolkit .mat" if any(r.source.suffix == ".mat" for runs in rs.runs.values() for r in runs) \
            else ("VOT results" if rs.vot_runs else "text boxes")
        note = provenance_note(Path(rs.source))
        return ResultProvenance(rs.tracker, str(rs.source) + (f" ({note})" if note else ""), kind)
    return ResultProvenance(
        rs.tracker, str(rs.source), "evalkit store", dict(meta.get("params") or {}), meta.get("weights_sha256"),
        meta.get("device"), meta.get("evalkit_version"), meta.get("git_commit"), meta.get("created"),
        meta.get("fingerprint"), meta.get("protocol"), meta.get("data_root"))


def _time_file(source: Path) -> Path | None:
    """The per-frame time file beside a stored run, in evalkit's or got10k's layout."""
    stem = source.name[: -len(".txt")] if source.name.endswith(".txt") else source.stem
    for candidate in (source.with_name(f"{stem}.time.txt"), source.parent / "times" / f"{stem}_time.txt",
                      source.with_name(f"{stem}_time.txt")):
        if candidate.is_file():
            return candidate
    return None


def _sequence_fps(path: Path) -> float | None:
    try:
        times = np.loadtxt(path, dtype=np.float64, ndmin=1, delimiter=None)
    except (OSError, ValueError):
        return None
    times = times[np.isfinite(times)]
    total = float(times.sum())
    return len(times) / total if total > 0 and len(times) else None


def tracker_speed(rs: ResultSet, sequences: Iterable[str] | None = None) -> Speed | None:
    """Mean FPS over the sequences (all, or those named) whose first run has stored times; None when none has."""
    from evalkit.datasets.names import canonical_key

    wanted = None if sequences is None else {canonical_key(s) for s in sequences}
    sources: list[Path] = []
    for key, runs in rs.runs.items():
        if runs and (wanted is None or key in wanted):
            sources.append(Path(runs[0].source))
    for key, vot_runs in rs.vot_runs.items():
        if vot_runs and key not in rs.runs and (wanted is None or key in wanted):
            sources.append(Path(vot_runs[0].source))
    rates = [fps for src in sources if (tf := _time_file(src)) is not None and (fps := _sequence_fps(tf))]
    if not rates:
        return None
    meta = read_run_json(Path(rs.source)) or {}
    return Speed(float(np.mean(rates)), str(meta.get("device") or "unknown device"), len(rates))


def machine_description() -> str:
    """This machine's processor and, when torch sees one, its GPU (for the report's first page)."""
    cpu = platform.processor() or platform.machine()
    text = f"{platform.system()} {platform.release()}, {cpu}, Python {platform.python_version()}"
    try:
        import sys

        torch = sys.modules.get("torch")  # never import torch just for this line
        if torch is not None and torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except Exception:  # noqa: BLE001 - a broken CUDA install must not stop a report
        pass
    return text


def report_stamp() -> dict[str, str]:
    """evalkit version, git commit, host and date of the report itself."""
    from evalkit.store import git_commit

    return {"evalkit": __version__, "git commit": git_commit() or "not a git checkout", "host": platform.node(),
            "machine": machine_description(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
