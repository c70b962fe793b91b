"""Where results came from: a result set's ``run.json`` provenance, the PROVENANCE.md beside an archive, and the
stamp of the report itself.

    >>> info = result_provenance(result_set)              # doctest: +SKIP
    >>> info.meta.device, info.meta.weights_sha256          # doctest: +SKIP
    ('cuda', '3f1c...')

run.json is read through :mod:`evalkit.store` (:class:`~evalkit.store.RunMeta`); speeds from stored per-frame times
are :func:`evalkit.results.tracker_speed`.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalkit import __version__
from evalkit.results import ResultSet
from evalkit.store import RunMeta, git_commit, read_run_meta

__all__ = ["ResultProvenance", "machine_description", "provenance_note", "report_stamp", "result_provenance"]


@dataclass(frozen=True)
class ResultProvenance:
    """Where a result set was found, in what kind of files, and what its ``run.json`` says about how it was made
    (``meta``: all fields empty for foreign archives)."""

    tracker: str
    source: str
    kind: str
    meta: RunMeta = field(default_factory=RunMeta)


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
    meta = read_run_meta(Path(rs.source))
    if meta is None:
        kind = "OTB-toolkit .mat" if any(r.source.suffix == ".mat" for runs in rs.runs.values() for r in runs) \
            else ("VOT results" if rs.vot_runs else "text boxes")
        note = provenance_note(Path(rs.source))
        return ResultProvenance(rs.tracker, str(rs.source) + (f" ({note})" if note else ""), kind)
    return ResultProvenance(rs.tracker, str(rs.source), "evalkit store", meta)


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
    return {"evalkit": __version__, "git commit": git_commit() or "not a git checkout", "host": platform.node(),
            "machine": machine_description(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
