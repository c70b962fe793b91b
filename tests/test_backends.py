"""Parallel backends of `evalkit run`: a local Dask cluster gives the same results as local processes, or one process.

The same two real OTB sequences (Couple, Crossing) are run with KCF four ways, each into its own result store:
in this process (``--workers 1``), in two loky processes (the default backend), in two threads, and on a local
``distributed`` cluster of two single-threaded worker processes (``--backend dask --workers 2``). Every way must
give identical box files and identical scores. Ray is not a test dependency: without it ``--backend ray`` must say
what to install.

    .venv/bin/pytest tests/test_backends.py -q

The Dask case needs ``dask[distributed]`` (the ``test`` extra): skipped without it on a developer machine, failed
under CI (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

from evalkit.cli import main

SEQUENCES = ("Couple", "Crossing")


@dataclass
class BackendRun:
    """One `evalkit run` invocation: exit status, its JSON output, stderr and the stored box files."""

    rc: int
    output: dict[str, Any]
    stderr: str
    boxes: dict[str, str]


def run_kcf(data: Path, workdir: Path, *extra: str) -> BackendRun:
    """`evalkit run` KCF on Couple and Crossing in-process, into a result store of its own under ``workdir``."""
    results = workdir / "res"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.chdir(workdir)  # the run report goes to ./reports
        mp.delenv("EVALKIT_CONFIG", raising=False)  # defaults, whatever the developer's configuration says
        rc = main(["run", "--trackers", "kcf", "--suite", "otb100", "--data-root", str(data),
                   "--sequences", ",".join(SEQUENCES), "--results-dir", str(results), "--format", "json",
                   "--no-progress", *extra])
    boxes = {p.parent.name: p.read_text() for p in sorted(results.glob("otb100/ope/kcf@*/*/ope.txt"))}
    return BackendRun(rc, json.loads(out.getvalue()) if rc == 0 else {}, err.getvalue(), boxes)


@pytest.fixture(scope="module")
def data(shared_dir: Path) -> Path:
    """The six real OTB sequences with frames."""
    return shared_dir / "data" / "sequences"


@pytest.fixture(scope="module")
def one_process(data: Path, tmp_path_factory: pytest.TempPathFactory) -> BackendRun:
    """The reference: every job in this process, one after another."""
    return run_kcf(data, tmp_path_factory.mktemp("workers1"), "--workers", "1")


@pytest.fixture(scope="module")
def dask_run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[BackendRun, list[dict[str, int]]]:
    """The same run on a local two-worker Dask cluster, with the cluster joblib actually sent the jobs to."""
    require_module("dask.distributed")
    dask_backend = require_module("joblib._dask").DaskDistributedBackend
    clusters: list[dict[str, int]] = []
    start_call = dask_backend.start_call

    def recording_start_call(self: Any) -> Any:
        clusters.append(dict(self.client.nthreads()))  # worker address -> threads, seen by joblib's dask backend
        return start_call(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dask_backend, "start_call", recording_start_call)
        run = run_kcf(data, tmp_path_factory.mktemp("dask"), "--backend", "dask", "--workers", "2")
    return run, clusters


def assert_same_run(run: BackendRun, reference: BackendRun) -> None:
    """Both runs succeeded with byte-identical box files and identical scores (bootstrap intervals included)."""
    assert run.rc == 0, run.stderr
    assert sorted(run.boxes) == sorted(SEQUENCES)
    assert run.boxes == reference.boxes
    assert run.output["runs"] == reference.output["runs"]


def test_reference_run_is_real(one_process: BackendRun) -> None:
    """The one-process run scored both sequences, all 260 frames, and KCF moved (the comparison is not vacuous)."""
    assert one_process.rc == 0, one_process.stderr
    [report] = one_process.output["runs"]
    kcf = report["trackers"]["kcf"]
    assert report["partial"] is True and kcf["n_sequences"] == 2 and kcf["n_frames"] == 140 + 120
    for text in one_process.boxes.values():
        assert len(set(text.splitlines())) > 1


def test_dask_backend_matches_local_processes(dask_run: tuple[BackendRun, list[dict[str, int]]],
                                              one_process: BackendRun, data: Path, tmp_path: Path) -> None:
    """--backend dask --workers 2 ran on a two-process local cluster and equals loky (2 workers) and --workers 1."""
    run, clusters = dask_run
    assert_same_run(run, one_process)
    assert clusters and all(sorted(c.values()) == [1, 1] for c in clusters)  # two single-threaded workers
    with pytest.raises(ValueError, match="No clients found"):  # the cluster evalkit started is closed again
        require_module("distributed").default_client()
    assert_same_run(run_kcf(data, tmp_path, "--workers", "2"), one_process)  # default backend: loky


def test_threading_backend_matches(one_process: BackendRun, data: Path, tmp_path: Path) -> None:
    """Two threads give the same results: each thread builds its own tracker (they never share state)."""
    assert_same_run(run_kcf(data, tmp_path, "--backend", "threading", "--workers", "2"), one_process)


def test_ray_backend_without_ray_says_what_to_install(data: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ray, --backend ray stops with exit status 2 and one line naming the package to install."""
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails here even where ray is installed
    run = run_kcf(data, tmp_path, "--backend", "ray", "--workers", "2")
    assert run.rc == 2
    assert "evalkit: error: --backend ray needs ray: pip install 'ray[default]'" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.boxes == {}  # nothing ran
    assert not list(tmp_path.rglob("run.json"))  # and no result folder was written
