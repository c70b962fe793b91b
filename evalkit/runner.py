"""Plan and execute tracker runs: one independent job per (tracker, sequence, run spec), resumable, in parallel.

    plan = plan_jobs(trackers, suites, protocol, store)       # skips runs already finished under the same fingerprint
    summary = execute(plan, workers=2, backend="loky")        # joblib processes; "dask" / "ray" for clusters

Jobs carry only picklable descriptions (tracker name or file spec, parameter mapping, suite name and data root,
sequence name, run spec), so the same plan runs in local processes or on a Dask or Ray cluster through joblib's
backends. Each worker keeps one tracker instance per (name, parameters) and one loaded suite per data root.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import threading
from collections.abc import Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.datasets import load_suite
from evalkit.datasets.base import Suite
from evalkit.errors import EvalkitError
from evalkit.harness import RunOutcome, pick_device, run_spec
from evalkit.registry import tracker_class
from evalkit.store import ResultStore, fingerprint
from evalkit.tracker import Tracker, params_as_dict

PIXEL_ORIGIN = {"otb": 1.0, "uav": 1.0, "lasot": 1.0, "got10k": 0.0, "vot": 0.0}


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker to run: registry name or ``file.py:Class``, display name, and parameter overrides."""

    ref: str
    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def build(self) -> Tracker:
        """A new tracker instance with the overrides applied (typed, checked)."""
        return tracker_class(self.ref)(**dict(self.params))

    def needs_device(self) -> bool:
        """True when the tracker runs on a torch device."""
        return bool(getattr(tracker_class(self.ref), "needs_device", False))


@dataclass(frozen=True)
class Job:
    """One run: which tracker, where its results go, which sequence and run spec."""

    tracker: TrackerSpec
    folder: Path
    suite: str
    data_root: str | None
    sequence: str
    spec: Any
    device: str | None
    threads: int = 0  # torch CPU threads per worker (0: torch's default); set by execute() from the worker count


@dataclass
class Plan:
    """Jobs to execute, and how many were skipped because they had already finished."""

    jobs: list[Job] = field(default_factory=list)
    skipped: int = 0
    folders: dict[tuple[str, str, str], Path] = field(default_factory=dict)

    def merged(self, other: Plan) -> Plan:
        """Both plans' jobs (longest first overall), skipped counts and folders."""
        return Plan(_longest_first([*self.jobs, *other.jobs]), self.skipped + other.skipped,
                    {**self.folders, **other.folders})


def _longest_first(jobs: list[Job]) -> list[Job]:
    """Jobs by frames to track, most first (stable): with several workers the last job to start is a short one."""
    return sorted(jobs, key=lambda j: -len(j.spec.rows))


def tracker_identity(spec: TrackerSpec) -> tuple[dict[str, Any], str | None, bool]:
    """Resolved parameters, weights sha256 and determinism of a tracker spec (constructs it, loads nothing)."""
    tracker = spec.build()
    return params_as_dict(tracker.params), tracker.weights_sha256(), type(tracker).deterministic


def plan_jobs(trackers: SequenceABC[TrackerSpec], suites: SequenceABC[Suite], protocol: str,
              specs_for: Any, store: ResultStore, data_roots: dict[str, str | None], device: str | None,
              seed: int = 0) -> Plan:
    """Every (tracker, sequence, run spec) job not already finished under the tracker's current fingerprint."""
    plan = Plan()
    for t in trackers:
        params, weights, deterministic = tracker_identity(t)
        fp = fingerprint(t.name, params, weights)
        for suite in suites:
            folder = store.tracker_folder(suite.name, protocol, t.name, fp)
            store.open_run_set(folder, {
                "tracker": t.name, "tracker_ref": t.ref, "params": params, "weights_sha256": weights,
                "fingerprint": fp, "suite": suite.name, "protocol": protocol,
                "device": pick_device(device) if t.needs_device() else "cpu",
                "seed": seed, "deterministic": deterministic, "data_root": data_roots.get(suite.name),
            })
            plan.folders[(t.name, suite.name, protocol)] = folder
            for seq in suite:
                for spec in specs_for(seq, deterministic):
                    if store.finished(folder, seq.name, spec.label):
                        plan.skipped += 1
                        continue
                    plan.jobs.append(Job(t, folder, suite.name, data_roots.get(suite.name), seq.name, spec,
                                         device))
    # longest runs first: with several workers the last job to start is a short one, so none idles long
    plan.jobs = _longest_first(plan.jobs)
    return plan


@functools.cache
def _suite(name: str, root: str | None) -> Suite:
    return load_suite(name, root)  # type: ignore[arg-type]


@functools.cache
def _set_torch_threads(threads: int) -> None:
    """Give torch ``threads`` CPU threads in this worker (once): N workers x all cores each oversubscribes the CPU,
    which made deep trackers 2-19x slower on a 2-core machine."""
    import torch

    torch.set_num_threads(threads)


@functools.cache
def _tracker(spec: TrackerSpec, device: str | None, thread: int, threads: int = 0) -> Tracker:
    """One tracker instance per worker *thread*: the threading backend must never share a tracker's state."""
    if threads and spec.needs_device():
        _set_torch_threads(threads)
    tracker = spec.build()
    tracker.load(pick_device(device) if type(tracker).needs_device else device)  # torch imported only when needed
    return tracker


def run_job(job: Job) -> RunOutcome:
    """Execute one job in the current process and store its outcome (boxes, times, metadata; atomically)."""
    suite = _suite(job.suite, job.data_root)
    seq = suite[job.sequence]
    store = ResultStore(job.folder.parent.parent.parent)
    try:
        tracker = _tracker(job.tracker, job.device, threading.get_ident(), job.threads)
    except Exception as exc:  # weights missing, bad parameters: the run fails with the reason
        outcome = RunOutcome(seq.name, job.spec.label, "failed", error=f"cannot build {job.tracker.name}: {exc}")
    else:
        outcome = run_spec(tracker, seq, job.spec, origin=PIXEL_ORIGIN.get(suite.family, 1.0))
    meta = {"status": outcome.status, "start_frame": outcome.start_frame, "error": outcome.error,
            "traceback": outcome.trace, "protocol": getattr(job.spec, "protocol", "ope"),
            "format": "vot" if outcome.vot_lines is not None else "boxes",
            "n_frames": int(len(outcome.times)), "fps": outcome.fps if outcome.status == "ok" else None}
    if outcome.status == "ok":
        body = "\n".join(outcome.vot_lines) + "\n" if outcome.vot_lines is not None else outcome.boxes
        store.write_run(job.folder, seq.name, job.spec.label, body, outcome.times, meta)  # type: ignore[arg-type]
    else:
        store.write_failure(job.folder, seq.name, job.spec.label, meta)
    outcome.boxes = None  # results live on disk; keep what travels back between processes small
    outcome.vot_lines = None
    return outcome


@contextlib.contextmanager
def _backend(backend: str, workers: int, address: str | None) -> Iterator[dict[str, Any]]:
    """joblib settings for the chosen backend: local processes, or a Dask / Ray cluster."""
    if backend in ("loky", "threading", "sequential"):
        yield {"backend": backend, "n_jobs": workers}
        return
    if backend == "dask":
        try:
            from dask.distributed import Client
        except ImportError:
            raise EvalkitError("--backend dask needs dask[distributed]: pip install 'dask[distributed]'") from None
        client = Client(address) if address else Client(processes=True, n_workers=workers, threads_per_worker=1)
        try:
            yield {"backend": "dask", "n_jobs": -1}
        finally:
            client.close()
        return
    if backend == "ray":
        try:
            import ray
            from ray.util.joblib import register_ray
        except ImportError:
            raise EvalkitError("--backend ray needs ray: pip install 'ray[default]'") from None
        register_ray()
        ray.init(address=address or None, ignore_reinit_error=True)
        yield {"backend": "ray", "n_jobs": -1}
        return
    raise EvalkitError(f"unknown backend {backend!r}; one of loky, threading, sequential, dask, ray")


@dataclass
class Summary:
    """What an execution did: outcomes per job, and the failures with their errors."""

    outcomes: list[tuple[Job, RunOutcome]]

    @property
    def failures(self) -> list[tuple[Job, RunOutcome]]:
        """The jobs whose run failed."""
        return [(j, o) for j, o in self.outcomes if o.status != "ok"]


def execute(plan: Plan, workers: int = 1, backend: str = "loky", address: str | None = None,
            keep_going: bool = False, progress: bool = True) -> Summary:
    """Run every job of the plan; with ``keep_going`` False the first failure stops the remaining jobs."""
    from joblib import Parallel, delayed, parallel_config
    from tqdm import tqdm

    outcomes: list[tuple[Job, RunOutcome]] = []
    if not plan.jobs:
        return Summary(outcomes)
    if workers > 1 and backend in ("loky", "threading"):  # share the local cores between the workers
        threads = max(1, (os.cpu_count() or 1) // workers)
        plan = Plan([dataclasses.replace(j, threads=threads) for j in plan.jobs], plan.skipped, plan.folders)
    # one bar per (tracker, suite), each with the tracker's own frames per second on that suite
    totals: dict[tuple[str, str], int] = {}
    for job in plan.jobs:
        totals[(job.tracker.name, job.suite)] = totals.get((job.tracker.name, job.suite), 0) + 1
    bars = {key: tqdm(total=n, desc=f"{key[0]} | {key[1]}", unit="run", disable=not progress, file=sys.stderr,
                      dynamic_ncols=True, position=k, leave=True)
            for k, (key, n) in enumerate(totals.items())}
    speed = {key: [0, 0.0] for key in totals}  # frames, seconds of the tracker's own time
    with contextlib.ExitStack() as ctx:
        if workers <= 1 and backend == "loky":
            results: Any = ((job, run_job(job)) for job in plan.jobs)
        else:
            settings = ctx.enter_context(_backend(backend, workers, address))
            # parallel_config, not Parallel(backend=...): only it registers joblib's external "dask" backend
            ctx.enter_context(parallel_config(backend=settings["backend"], n_jobs=settings["n_jobs"]))
            parallel = Parallel(return_as="generator")
            results = zip(plan.jobs, parallel(delayed(run_job)(job) for job in plan.jobs), strict=True)
        try:
            for job, outcome in results:
                outcomes.append((job, outcome))
                key = (job.tracker.name, job.suite)
                speed[key][0] += len(outcome.times)
                speed[key][1] += float(outcome.times.sum())
                frames, seconds = speed[key]
                bars[key].set_postfix_str(f"{job.sequence} {frames / seconds if seconds else 0:.0f} fps")
                bars[key].update(1)
                if outcome.status != "ok" and not keep_going:
                    raise EvalkitError(
                        f"{job.tracker.name} on {job.suite}/{job.sequence} ({job.spec.label}) failed: {outcome.error}"
                        f"\n(--keep-going continues past failing runs; finished runs are kept and the next "
                        f"invocation resumes)")
        finally:
            for bar in bars.values():
                bar.close()
    return Summary(outcomes)
