"""Plan and execute tracker runs: one independent job per (tracker, sequence, run spec), resumable, in parallel.

    plan = plan_jobs(trackers, suites, protocol, store)       # skips runs already finished under the same fingerprint
    summary = execute(plan, workers=2, backend="loky", limits=Limits(frame=30))   # local worker processes
    summary = execute(plan, workers=2, backend="dask")        # joblib's "dask" / "ray" backends for clusters

Jobs carry only picklable descriptions (tracker name or file spec, parameter mapping, suite name and data root,
sequence name, run spec), so the same plan runs in local processes or on a Dask or Ray cluster through joblib's
backends. Each worker keeps one tracker instance per (name, parameters) and one loaded suite per data root.

No tracker can hang or kill a run: the local backend ("loky") runs jobs in supervised worker processes of its own
(:class:`_Pool`), which knows which job each worker holds, so a worker that dies (``os._exit``, a segfault) or
overruns a time limit (:class:`Limits`: per frame, per run) is that job's recorded failure, the worker is replaced
and the other jobs go on. Several evalkit processes on one store split the work: each job is claimed by its run's
lock file first (:meth:`ResultStore.try_lock`); a job another live process holds is put back and, at the end, either
found finished by it or run here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.datasets import load_suite
from evalkit.datasets.base import Suite
from evalkit.errors import EvalkitError
from evalkit.harness import FrameHook, RunOutcome, keep_freed_memory, pick_device, run_spec
from evalkit.registry import tracker_class
from evalkit.store import ResultStore, fingerprint
from evalkit.store.writer import LockHeld, RunLock
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
    notices: list[str] = field(default_factory=list)  # stored runs found damaged (redone), one line each

    def merged(self, other: Plan) -> Plan:
        """Both plans' jobs (longest first overall), skipped counts, folders and notices."""
        return Plan(_longest_first([*self.jobs, *other.jobs]), self.skipped + other.skipped,
                    {**self.folders, **other.folders}, [*self.notices, *other.notices])


def _longest_first(jobs: list[Job]) -> list[Job]:
    """Jobs by frames to track, most first (stable): with several workers the last job to start is a short one."""
    return sorted(jobs, key=lambda j: -len(j.spec.rows))


def tracker_identity(spec: TrackerSpec) -> tuple[dict[str, Any], str | None, bool, str]:
    """Resolved parameters, weights sha256, determinism and label suffix of a tracker spec (constructs it, loads
    nothing)."""
    tracker = spec.build()
    weights = tracker.weights_sha256()
    return params_as_dict(tracker.params), weights, type(tracker).deterministic, label_suffix(tracker, weights)


def label_suffix(tracker: Tracker, weights: str | None) -> str:
    """What the stored run's name carries beyond the tracker's name, so results of other weights are never shown as
    the published tracker's: the tracker's own ``label_suffix()`` where it has one (the catalog trackers can tell
    published files apart), else `` [untrained]`` for ``random_init=true`` and `` [weights <sha256[:12]>]`` for a
    weights file named explicitly (``--param NAME.weights=PATH``)."""
    own = getattr(tracker, "label_suffix", None)
    if callable(own):
        return str(own())
    if getattr(tracker.params, "random_init", False) is True:
        return " [untrained]"
    if getattr(tracker.params, "weights", None) and weights:
        return f" [weights {weights[:12]}]"
    return ""


def plan_jobs(trackers: SequenceABC[TrackerSpec], suites: SequenceABC[Suite], protocol: str,
              specs_for: Any, store: ResultStore, data_roots: dict[str, str | None], device: str | None,
              seed: int = 0) -> Plan:
    """Every (tracker, sequence, run spec) job not already finished under the tracker's current fingerprint."""
    plan = Plan()
    for t in trackers:
        params, weights, deterministic, suffix = tracker_identity(t)
        fp = fingerprint(t.name, params, weights)
        for suite in suites:
            folder = store.tracker_folder(suite.name, protocol, t.name, fp)
            store.open_run_set(folder, {
                **({"label_suffix": suffix} if suffix else {}),  # read back onto the name (store.reader)
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
                    damage = store.damaged(folder, seq.name, spec.label)
                    if damage is not None:  # a record says ok but the data is cut short: never reuse it
                        plan.notices.append(f"{damage}; running it again")
                    plan.jobs.append(Job(t, folder, suite.name, data_roots.get(suite.name), seq.name, spec,
                                         device))
    # longest runs first: with several workers the last job to start is a short one, so none idles long
    plan.jobs = _longest_first(plan.jobs)
    return plan


@functools.cache
def _suite(name: str, root: str | None) -> Suite:
    # collect: a sequence with a malformed file is left out (the planner already warned), the others still load
    return load_suite(name, root, collect=True)  # type: ignore[arg-type]


@functools.cache
def _set_torch_threads(threads: int) -> None:
    """Give torch ``threads`` CPU threads in this worker (once): N workers x all cores each oversubscribes the CPU,
    which made deep trackers 2-19x slower on a 2-core machine."""
    import torch

    torch.set_num_threads(threads)


@functools.cache
def _tracker(spec: TrackerSpec, device: str | None, thread: int, threads: int = 0) -> Tracker:
    """One tracker instance per worker *thread*: the threading backend must never share a tracker's state."""
    if spec.needs_device():
        keep_freed_memory()  # deep trackers reallocate MBs every frame: no page faults for them (harness docstring)
    if threads and spec.needs_device():
        _set_torch_threads(threads)
    tracker = spec.build()
    tracker.load(pick_device(device) if type(tracker).needs_device else device)  # torch imported only when needed
    return tracker


def run_job(job: Job, hook: FrameHook | None = None) -> RunOutcome:
    """Execute one job in the current process and store its outcome (boxes, times, metadata; atomically).

    ``hook`` is called with the frame index before each tracker call (the pool's time limits watch it).
    Whatever goes wrong is this run's recorded failure: it never ends the worker or the other runs."""
    try:
        suite = _suite(job.suite, job.data_root)
        seq = suite[job.sequence]
    except Exception as exc:  # the sequence's own files are broken: its problem, named, is the run's failure
        outcome = RunOutcome(job.sequence, job.spec.label, "failed", error=_load_problem(job, exc))
    else:
        try:
            tracker = _tracker(job.tracker, job.device, threading.get_ident(), job.threads)
        except (Exception, SystemExit) as exc:  # weights missing, bad parameters, sys.exit: the run fails with why
            outcome = RunOutcome(seq.name, job.spec.label, "failed", error=f"cannot build {job.tracker.name}: {exc}")
        else:
            try:
                outcome = run_spec(tracker, seq, job.spec, origin=PIXEL_ORIGIN.get(suite.family, 1.0), hook=hook)
            except Exception as exc:  # evalkit's own fault, not the tracker's: still only this run's failure
                outcome = RunOutcome(seq.name, job.spec.label, "failed", error=f"{type(exc).__name__}: {exc}",
                                     trace=traceback.format_exc())
    _store_outcome(job, outcome)
    outcome.boxes = None  # results live on disk; keep what travels back between processes small
    outcome.vot_lines = None
    return outcome


def _load_problem(job: Job, exc: Exception) -> str:
    """Why a job's sequence cannot be loaded: the named problem of its file where the loader left it out."""
    with contextlib.suppress(Exception):
        for problem in _suite(job.suite, job.data_root).problems:
            if job.sequence in str(problem):
                return str(problem)
    return f"{job.suite}/{job.sequence}: cannot load: {exc}"


def _store_outcome(job: Job, outcome: RunOutcome) -> None:
    """Write a run's data and record (ok), or its failure record."""
    store = ResultStore(job.folder.parent.parent.parent)
    meta = {"status": outcome.status, "start_frame": outcome.start_frame, "error": outcome.error,
            "traceback": outcome.trace, "protocol": getattr(job.spec, "protocol", "ope"),
            "format": "vot" if outcome.vot_lines is not None else "boxes",
            "n_frames": int(len(outcome.times)), "fps": outcome.fps if outcome.status == "ok" else None}
    if outcome.status == "ok":
        body = "\n".join(outcome.vot_lines) + "\n" if outcome.vot_lines is not None else outcome.boxes
        store.write_run(job.folder, job.sequence, job.spec.label, body, outcome.times, meta)  # type: ignore[arg-type]
    else:
        store.write_failure(job.folder, job.sequence, job.spec.label, meta)


def _failed(job: Job, error: str) -> RunOutcome:
    """A job's failure decided outside its worker (it died or overran a limit), recorded in the store."""
    outcome = RunOutcome(job.sequence, job.spec.label, "failed", error=error)
    _store_outcome(job, outcome)
    return outcome


@dataclass(frozen=True)
class Limits:
    """Time limits of one run, in seconds (None: no limit): each tracker call (initialize or update, with the
    frame's decoding), and the whole run. Building and loading the tracker before its first frame may take
    ``load`` seconds (default: the run limit, else the larger of 60 s and ten frame limits)."""

    frame: float | None = None
    run: float | None = None
    load: float | None = None

    @property
    def any(self) -> bool:
        """True when some limit is set."""
        return self.frame is not None or self.run is not None

    @property
    def load_limit(self) -> float | None:
        """Seconds a worker may spend before the run's first frame."""
        if self.load is not None:
            return self.load
        if self.run is not None:
            return self.run
        return None if self.frame is None else max(60.0, 10 * self.frame)


# ---- supervised local worker processes ----------------------------------------------------------------------------

_FRAME, _CALLS = 0, 1  # slots of a worker's shared progress array: frame index now, tracker calls begun (ever)


def _worker_main(conn: multiprocessing.connection.Connection, progress: Any) -> None:
    """A pool worker: run the jobs sent over ``conn`` until None, reporting each tracker call in ``progress``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    _quiet_warnings()

    def hook(frame: int) -> None:
        progress[_FRAME] = frame
        progress[_CALLS] += 1

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if job is None:
            return
        conn.send(run_job(job, hook))


def _quiet_warnings() -> None:
    """numpy's and matplotlib's warnings (empty means, degenerate boxes) would interleave with the progress bars and
    the table; what matters of them reaches the report as failures or NaN scores."""
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)


class _Worker:
    """One worker process of the pool, the job it holds, and when that job last made progress."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.progress = ctx.RawArray("d", 2)
        self.process = ctx.Process(target=_worker_main, args=(child, self.progress), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.started = self.moved = 0.0
        self.calls = 0.0

    def assign(self, job: Job) -> bool:
        """Send a job; False when the worker is already gone."""
        self.job = job
        self.started = self.moved = time.monotonic()
        self.calls = self.progress[_CALLS]
        self.progress[_FRAME] = -1
        try:
            self.conn.send(job)
        except (OSError, ValueError):
            return False
        return True

    def overrun(self, limits: Limits, now: float) -> str | None:
        """Why the current job has overrun a limit, or None."""
        calls = self.progress[_CALLS]
        if calls != self.calls:
            self.calls, self.moved = calls, now
        frame = int(self.progress[_FRAME])
        if limits.run is not None and now - self.started > limits.run:
            where = f"at frame {frame}" if frame >= 0 else "before its first frame"
            return f"timed out {where} after {now - self.started:.1f} s (run limit {limits.run:g} s)"
        if frame < 0:
            load = limits.load_limit
            if load is not None and now - self.started > load:
                return f"timed out building and loading the tracker after {now - self.started:.1f} s (limit {load:g} s)"
            return None
        if limits.frame is not None and now - self.moved > limits.frame:
            return f"timed out at frame {frame} after {now - self.moved:.1f} s (frame limit {limits.frame:g} s)"
        return None

    def death(self) -> str:
        """How the worker process ended, for the job's failure."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        frame = int(self.progress[_FRAME])
        where = f"at frame {frame}" if frame >= 0 else "before its first frame"
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        return f"worker process {how} {where} (os._exit, a crash in native code, or out of memory)"

    def stop(self, kill: bool = False) -> None:
        """End the worker: ask it to leave (idle), or kill it (a hung or overrunning job)."""
        if kill or self.job is not None:
            self.process.kill()
        else:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class _Pool:
    """Supervised local worker processes (spawned: no inherited threads or locks), one job per worker at a time.

    It knows which job each worker holds, so a worker's death or a job over its time limit is exactly that job's
    failure: the worker is killed and replaced, the others never notice."""

    POLL = 0.1  # seconds between checks of the time limits (the wait returns at once when a job ends)

    def __init__(self, workers: int, limits: Limits) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.size = max(1, workers)
        self.limits = limits
        self.workers: list[_Worker] = []

    def run(self, jobs: Iterable[object]) -> Iterator[tuple[Job, RunOutcome]]:
        """Run ``jobs`` (pulled lazily, as :meth:`_Claims.stream` gives them: a (job, outcome) pair is passed through,
        ``_WAIT`` means none is free now) and yield each job with its outcome as it ends."""
        source = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and sum(w.job is not None for w in self.workers) < self.size:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    if item is _WAIT:  # only jobs other processes hold are left for now: tend to ours meanwhile
                        if not any(w.job is not None for w in self.workers):
                            time.sleep(_Claims.WAIT)
                        break
                    if isinstance(item, tuple):  # decided without running (finished by another process)
                        yield item
                        continue
                    assert isinstance(item, Job)
                    worker = next((w for w in self.workers if w.job is None), None) or self._spawn()
                    if not worker.assign(item):
                        yield item, self._replace(worker, worker.death())
                busy = [w for w in self.workers if w.job is not None]
                if not busy:
                    if exhausted:
                        return
                    continue
                multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                timeout=self.POLL)
                now = time.monotonic()
                for worker in busy:
                    yield from self._check(worker, now)
        finally:
            for worker in self.workers:
                worker.stop()
            self.workers.clear()

    def _check(self, worker: _Worker, now: float) -> Iterator[tuple[Job, RunOutcome]]:
        job = worker.job
        assert job is not None
        outcome = None
        try:
            if worker.conn.poll():
                outcome = worker.conn.recv()
        except (EOFError, OSError):
            outcome = None
        if isinstance(outcome, RunOutcome):
            worker.job = None
            yield job, outcome
        elif not worker.process.is_alive():
            yield job, self._replace(worker, worker.death())
        elif (why := worker.overrun(self.limits, now)) is not None:
            worker.process.kill()  # a thread cannot be stopped; a process can
            yield job, self._replace(worker, why)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.ctx)
        self.workers.append(worker)
        return worker

    def _replace(self, worker: _Worker, error: str) -> RunOutcome:
        """Record the held job's failure and drop the worker (the next job gets a fresh one)."""
        job = worker.job
        assert job is not None
        worker.stop(kill=True)
        self.workers.remove(worker)
        return _failed(job, error)


# ---- claiming jobs through the store's run locks ------------------------------------------------------------------


_WAIT = object()  # in a job stream: nothing to start now (every job left is held by another process)


class _Claims:
    """Which jobs this process runs: each job's run lock is taken just before it starts, so two evalkit processes
    on one store take turns through the plan instead of both running every job. A job whose lock a live process
    holds is put back; once the rest is done it is taken (its owner gave it up unfinished), found finished by its
    owner (reused, not run), or waited for."""

    WAIT = 0.5  # seconds between looks at jobs other processes hold

    def __init__(self) -> None:
        self.locks: dict[int, RunLock] = {}
        self.elsewhere = 0  # jobs found finished by another process
        self.told: set[str] = set()

    def stream(self, jobs: list[Job]) -> Iterator[object]:
        """Jobs to run (their lock held), (job, outcome) pairs for jobs another process finished, and ``_WAIT``
        when every job left is held by another process. It never blocks: a process waiting here for another's job
        must still collect (and unlock) its own finished ones, or two processes could wait on each other."""
        pending = deque(jobs)
        while pending:
            held: deque[Job] = deque()
            for job in pending:
                claim = self.claim(job)
                if isinstance(claim, RunOutcome):
                    yield job, claim
                elif claim is None:
                    held.append(job)
                else:
                    yield job
            if held and len(held) == len(pending):
                yield _WAIT  # only jobs other processes hold are left: the caller waits a little, then asks again
            pending = held

    def claim(self, job: Job) -> Job | RunOutcome | None:
        """The job (its lock now held), an ok outcome when another process finished it, None while one holds it."""
        store = ResultStore(job.folder.parent.parent.parent)
        lock = store.try_lock(job.folder, job.sequence, job.spec.label)
        if isinstance(lock, LockHeld):
            if lock.owner not in self.told:
                self.told.add(lock.owner)
                print(f"evalkit: {job.tracker.name} {job.suite}/{job.sequence} ({job.spec.label}) is being run by "
                      f"another evalkit ({lock.owner}); running the others first", file=sys.stderr)
            return None
        if store.finished(job.folder, job.sequence, job.spec.label):  # finished by another process meanwhile
            lock.release()
            self.elsewhere += 1
            return RunOutcome(job.sequence, job.spec.label, "ok", done_elsewhere=True)
        self.locks[id(job)] = lock
        return job

    def release(self, job: Job) -> None:
        """Give up a job's lock once its outcome is on disk."""
        lock = self.locks.pop(id(job), None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        """Give up every held lock (stopping early)."""
        for lock in self.locks.values():
            lock.release()
        self.locks.clear()


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
    elsewhere: int = 0  # jobs another evalkit process on the same store finished while this one ran

    @property
    def failures(self) -> list[tuple[Job, RunOutcome]]:
        """The jobs whose run failed."""
        return [(j, o) for j, o in self.outcomes if o.status != "ok"]


def execute(plan: Plan, workers: int = 1, backend: str = "loky", address: str | None = None,
            keep_going: bool = False, progress: bool = True, limits: Limits | None = None) -> Summary:
    """Run every job of the plan; with ``keep_going`` False the first failure stops the remaining jobs.

    "loky" (the default) runs jobs in supervised local worker processes (:class:`_Pool`, also for one worker), which
    enforce ``limits`` and survive a worker's death; "threading" runs them in threads of this process (with
    ``limits`` set they go to worker processes instead: a thread cannot be stopped); "dask" / "ray" through joblib.
    """
    from joblib import Parallel, delayed, parallel_config
    from tqdm import tqdm

    limits = limits or Limits()
    outcomes: list[tuple[Job, RunOutcome]] = []
    if not plan.jobs:
        return Summary(outcomes)
    if limits.any and backend in ("dask", "ray"):
        raise EvalkitError(f"--timeout needs local worker processes (--backend loky): a {backend} worker cannot be "
                           f"stopped per job")
    if limits.any and backend in ("threading", "sequential"):
        print("evalkit: --timeout runs jobs in worker processes, not threads (a thread cannot be stopped)",
              file=sys.stderr)
        backend = "loky"
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
    claims = _Claims()
    with contextlib.ExitStack() as ctx:
        ctx.callback(claims.release_all)
        ctx.enter_context(warnings.catch_warnings())
        _quiet_warnings()
        stream = claims.stream(plan.jobs)
        if backend == "loky":
            results: Iterator[tuple[Job, RunOutcome]] = ctx.enter_context(
                contextlib.closing(_Pool(workers, limits).run(stream)))
        else:
            settings = ctx.enter_context(_backend(backend, workers, address))
            # parallel_config, not Parallel(backend=...): only it registers joblib's external "dask" backend
            ctx.enter_context(parallel_config(backend=settings["backend"], n_jobs=settings["n_jobs"]))
            parallel = Parallel(return_as="generator")
            results = parallel(_joblib_tasks(stream, claims, delayed))
        try:
            for job, outcome in results:
                claims.release(job)
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
    return Summary(outcomes, claims.elsewhere)


def _joblib_tasks(stream: Iterator[object], claims: _Claims, delayed: Any) -> Iterator[Any]:
    """joblib tasks of a claimed job stream; each task gives up its run's lock itself once its outcome is stored,
    so the lock never waits on this process collecting results (joblib pulls tasks while results are pending)."""
    for item in stream:
        if item is _WAIT:
            time.sleep(_Claims.WAIT)
        elif isinstance(item, tuple):
            yield delayed(_done)(item)
        else:
            assert isinstance(item, Job)
            yield delayed(_run_pair)(item, claims.locks.get(id(item)))


def _run_pair(job: Job, lock: RunLock | None = None) -> tuple[Job, RunOutcome]:
    """A joblib task: the job with its outcome (results arrive in any order with claims interleaved)."""
    try:
        return job, run_job(job)
    finally:
        if lock is not None:
            lock.release()


def _done(pair: tuple[Job, RunOutcome]) -> tuple[Job, RunOutcome]:
    """A joblib task passing through a job another process finished."""
    return pair

