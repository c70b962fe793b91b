"""Run evalkit trackers under the official VOT toolkit (``vot-toolkit``, Python) and score its workspaces with evalkit.

    ws = build_workspace(Path("ws"), load_suite("demo", None), ["kcf"], max_frames=60)    # doctest: +SKIP
    evaluate(ws)                      # vot-toolkit runs each tracker through TraX (evalkit.interop.vot_trax)
    analysis = analyse(ws)            # vot-toolkit's own analysis (AR, EAO) as a dict from its JSON
    report = score_workspace(ws)      # evalkit's VOT scoring of the same result files

    evalkit vot-toolkit workspace --suite demo --trackers kcf --out ws [--max-frames 60]
    evalkit vot-toolkit evaluate ws          # evaluate + analysis with the toolkit
    evalkit vot-toolkit score ws             # evalkit's EAO / A / R of the workspace's results

A workspace is what ``vot initialize`` makes, with a custom stack: ``config.yaml`` (stack and registry),
``stack.yaml`` (one supervised "baseline" experiment: re-initialisation 5 frames after a failure, the AR and EAO
analyses), ``trackers.ini`` (one entry per evalkit tracker: ``runtime="trax"`` starts :mod:`evalkit.interop.vot_trax`
through TraX, ``runtime="python"`` uses the toolkit's in-process runtime with :class:`VotRuntimeTracker`),
``sequences/list.txt`` and ``sequences/<seq>/{sequence, groundtruth.txt, color/00000001.jpg ...}`` (frames linked to
the suite's files, ground truth as 0-based x,y,w,h rectangles), and ``evalkit-workspace.json`` (where it came from
and the EAO interval). Sequences with frames where the target is absent are left out: the VOT supervised
experiment needs a region in every frame. The toolkit writes results as text (``VOT_RESULTS_BINARY=false``);
:func:`read_workspace_results` also reads its binary ``.bin`` results through the toolkit's own reader.

Runtimes: vot-toolkit 0.9.0's supervised experiment hands single objects to runtimes that now speak lists, and fails
with every single-object tracker; :mod:`evalkit.interop.vot_runtime` registers two protocols that adapt only that
shape: ``evalkit-trax`` (default: the tracker runs in its own process behind :mod:`evalkit.interop.vot_trax`,
speaking TraX through vot-trax) and ``evalkit-python`` (the toolkit's in-process Python runtime with
:class:`VotRuntimeTracker`). :func:`evaluate` loads them in the toolkit's process.

vot-toolkit 0.9.0 needs ``attributee==0.1.9`` and is installed without its declared dependencies so that its
``opencv-python`` does not replace opencv-contrib (see the Makefile and the ``vot-compat`` extra).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import EvalkitError
from evalkit.geometry import valid_boxes

METADATA = "evalkit-workspace.json"
EXPERIMENT = "baseline"
RUNTIMES = ("trax", "python")


class VotRuntimeTracker:
    """An evalkit tracker as the toolkit's in-process ``python`` runtime wants it: ``init(image_path, (region,
    properties))`` and ``update(image_path)`` returning an x,y,w,h tuple and properties (``confidence``).

    trackers.ini: ``protocol = python``, ``command = evalkit.interop.vot_toolkit:VotRuntimeTracker``,
    ``arg_tracker = kcf`` and optionally ``arg_params = {"detect_thresh": 0.3}``, ``arg_device = cuda``.
    """

    multiobject = False

    def __init__(self, tracker: str, params: str | dict[str, Any] | None = None, device: str | None = None) -> None:
        from evalkit.interop.vot_trax import build_tracker

        values = json.loads(params) if isinstance(params, str) else dict(params or {})
        self.tracker = build_tracker(tracker, values, device)

    def init(self, image: str, new: tuple[Any, dict[str, Any]]) -> tuple[tuple[float, ...], dict[str, Any]]:
        """Start on the region (an x,y,w,h tuple or a polygon's points) in the image file."""
        from evalkit.interop.vot_trax import read_rgb

        region = new[0] if isinstance(new, tuple) and len(new) == 2 and isinstance(new[1], dict) else new
        if isinstance(region, list):  # polygon points: its bounding box
            pts = np.asarray(region, dtype=np.float64)
            box = np.array([*pts.min(axis=0), *(pts.max(axis=0) - pts.min(axis=0))])
        else:
            box = np.asarray(region, dtype=np.float64)
        self.tracker.initialize(read_rgb(image), box)
        return tuple(float(v) for v in box), {}

    def update(self, image: str) -> tuple[tuple[float, ...], dict[str, Any]]:
        """The tracker's box in the next image, with its score as ``confidence`` when it gives one."""
        from evalkit.interop.vot_trax import read_rgb

        prediction = self.tracker.update(read_rgb(image))
        properties = {} if prediction.score is None else {"confidence": float(prediction.score)}
        return tuple(float(v) for v in prediction.box), properties


@dataclass(frozen=True)
class Workspace:
    """A vot-toolkit workspace evalkit built (or any, for reading): its folder, trackers and EAO interval."""

    root: Path
    trackers: tuple[str, ...]
    interval: tuple[int, int]
    suite: str | None = None  # a named VOT stack (vot2018 ...): its sequences are that evalkit suite

    @property
    def results(self) -> Path:
        """The toolkit's results folder (``results/<tracker>/baseline/<seq>/<seq>_001.txt``)."""
        return self.root / "results"


def tracker_identifier(name: str) -> str:
    """The vot-toolkit identifier of an evalkit tracker (letters, digits, ``_``): ``evalkit_<name>``."""
    return "evalkit_" + "".join(c if c.isalnum() else "_" for c in name)


def _write(path: Path, text: str) -> None:
    from evalkit.io import atomic_write_text

    atomic_write_text(path, text)


def _link_frames(frames: tuple[Path, ...], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(frames, start=1):
        dst = folder / f"{i:08d}{src.suffix.lower()}"
        try:
            os.symlink(src.resolve(), dst)
        except OSError:  # no symlinks (some file systems): copy
            shutil.copyfile(src, dst)


def build_workspace(root: Path, suite: Any, trackers: list[str], params: dict[str, dict[str, Any]] | None = None,
                    max_frames: int | None = None, interval: tuple[int, int] | None = None,
                    repetitions: int = 1, device: str | None = None, runtime: str = "trax") -> Workspace:
    """Write a vot-toolkit workspace for ``suite`` (a loaded evalkit suite with frames) and evalkit ``trackers``."""
    from evalkit.registry import tracker_class

    root = Path(root)
    if (root / "config.yaml").exists():
        raise EvalkitError(f"{root} already holds a vot-toolkit workspace (config.yaml); choose another folder")
    if not trackers:
        raise EvalkitError("name at least one evalkit tracker for the workspace")
    for t in trackers:
        tracker_class(t)  # unknown names fail here, with suggestions
    picked = []
    for seq in suite:
        if not seq.has_frames:
            raise EvalkitError(f"{suite.name}/{seq.name}: no frames on disk; the VOT toolkit runs trackers on images")
        n = seq.n_frames if max_frames is None else min(seq.n_frames, max_frames)
        if not valid_boxes(seq.ground_truth[:n]).all():
            continue  # the target leaves the frame: no region to give the toolkit there
        picked.append((seq, n))
    if not picked:
        raise EvalkitError(f"{suite.name}: no sequence has a target region in every frame")
    shortest = min(n for _, n in picked)
    low, high = interval or (max(1, shortest // 4), shortest)
    if not 0 < low < high:
        raise EvalkitError(f"EAO interval {low}-{high} is empty")
    if runtime not in RUNTIMES:  # checked before anything is written: a half-written workspace blocks the retry
        raise EvalkitError(f"runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    import cv2

    seq_root = root / "sequences"
    for seq, n in picked:
        folder = seq_root / seq.name
        _link_frames(seq.frames[:n], folder / "color")
        h, w = cv2.imread(str(seq.frames[0]), cv2.IMREAD_UNCHANGED).shape[:2]
        ext = seq.frames[0].suffix.lower()
        _write(folder / "sequence", f"channels.color=color/%08d{ext}\nformat=default\nfps=30\nname={seq.name}\n"
                                    f"width={w}\nheight={h}\nlength={n}\n")
        boxes = seq.ground_truth[:n].copy()
        boxes[:, :2] -= 1.0  # benchmark files are 1-based; VOT regions and evalkit adapters are 0-based
        _write(folder / "groundtruth.txt", "\n".join(",".join(f"{v:.4f}" for v in row) for row in boxes) + "\n")
    _write(seq_root / "list.txt", "\n".join(seq.name for seq, _ in picked) + "\n")
    _write(root / "config.yaml", "registry:\n- ./trackers.ini\nstack: ./stack.yaml\nsequences: sequences\n")
    _write(root / "stack.yaml", (
        f"title: evalkit {suite.name} supervised\n"
        "experiments:\n"
        f"  {EXPERIMENT}:\n"
        "    type: supervised\n"
        f"    repetitions: {repetitions}\n"
        "    skip_initialize: 5\n"
        "    analyses:\n"
        "      - type: supervised_average_ar\n"
        "        sensitivity: 30\n"
        "      - type: supervised_eao_score\n"
        f"        low: {low}\n"
        f"        high: {high}\n"
        "      - type: supervised_eao_curve\n"))
    entries = []
    for t in trackers:
        lines = [f"[{tracker_identifier(t)}]", f"label = evalkit {t}"]
        if runtime == "python":
            lines += ["protocol = evalkit-python", f"command = {__name__}:VotRuntimeTracker", f"arg_tracker = {t}"]
            if params and params.get(t):
                lines.append(f"arg_params = {json.dumps(params[t])}")
            if device:
                lines.append(f"arg_device = {device}")
        else:
            lines += ["protocol = evalkit-trax", "command = evalkit.interop.vot_trax", f"env_EVALKIT_TRACKER = {t}"]
            if params and params.get(t):
                lines.append(f"env_EVALKIT_PARAMS = {json.dumps(params[t])}")
            if device:
                lines.append(f"env_EVALKIT_DEVICE = {device}")
        entries.append("\n".join(lines))
    _write(root / "trackers.ini", "\n\n".join(entries) + "\n")
    _write(root / METADATA, json.dumps({"suite": suite.name, "source": suite.source, "trackers": trackers,
                                        "params": params or {}, "max_frames": max_frames, "eao_interval": [low, high],
                                        "sequences": {s.name: n for s, n in picked}}, indent=1) + "\n")
    return Workspace(root, tuple(trackers), (low, high))


def open_workspace(root: Path) -> Workspace:
    """A workspace evalkit built (its metadata), or any vot-toolkit workspace: a named VOT stack (``stack: vot2018``,
    scored as that evalkit suite with its EAO interval) or a custom stack (EAO interval from its
    ``supervised_eao_score`` analysis); trackers from ``results/``."""
    root = Path(root)
    if not (root / "config.yaml").is_file():
        raise EvalkitError(f"{root} is not a vot-toolkit workspace (no config.yaml)")
    meta_path = root / METADATA
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        low, high = meta["eao_interval"]
        return Workspace(root, tuple(meta["trackers"]), (int(low), int(high)))
    import yaml

    from evalkit.datasets.vot import SUITES as VOT_SUITES

    config = yaml.safe_load((root / "config.yaml").read_text()) or {}
    stack_name = str(config.get("stack", "stack.yaml"))
    trackers = tuple(p.name for p in sorted((root / "results").glob("*")) if p.is_dir())
    if stack_name.lower() in VOT_SUITES:
        from evalkit.scoring.vot import default_interval

        return Workspace(root, trackers, default_interval(stack_name.lower()), stack_name.lower())
    stack_path = root / stack_name
    interval = None
    if stack_path.is_file():
        stack = yaml.safe_load(stack_path.read_text()) or {}
        for analysis in stack.get("experiments", {}).get(EXPERIMENT, {}).get("analyses", []):
            if analysis.get("type") == "supervised_eao_score":
                interval = (int(analysis["low"]), int(analysis["high"]))
    if interval is None:
        raise EvalkitError(f"{root}: stack {stack_name!r} is neither a VOT2016-2019 stack evalkit knows nor a stack "
                           f"file with a supervised_eao_score analysis to take the EAO interval from")
    return Workspace(root, trackers, interval)


def _toolkit(code: str, workspace: Workspace, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run vot-toolkit's own command handler in a fresh interpreter (text results, one worker, no update check)."""
    env = {**os.environ, "VOT_RESULTS_BINARY": "false", "VOT_WORKER_POOL_SIZE": "1", "VOT_PERSISTENT_CACHE": "false"}
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=workspace.root, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EvalkitError(f"vot-toolkit did not finish within {timeout:.0f} s in {workspace.root}") from None
    if done.returncode != 0:
        raise EvalkitError(f"vot-toolkit failed in {workspace.root} (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    return done


def evaluate(workspace: Workspace, trackers: list[str] | None = None, timeout: float = 3600) -> str:
    """``vot evaluate``: the toolkit runs each evalkit tracker through TraX; returns its log. Fails when any
    sequence was left without results (the toolkit itself only logs tracker errors)."""
    import vot  # noqa: F401 - fail early and clearly when the toolkit is not installed

    ids = [tracker_identifier(t) for t in (trackers or workspace.trackers)]
    code = ("import argparse, logging; import evalkit.interop.vot_runtime; from vot.utilities.cli import do_evaluate; "
            "logging.getLogger('vot').setLevel(logging.INFO); "
            f"do_evaluate(argparse.Namespace(workspace='.', trackers={ids!r}, experiments=None, force=False, "
            "persist=False))")
    log = _toolkit(code, workspace, timeout)
    names = (workspace.root / "sequences" / "list.txt").read_text().split()
    missing = [f"{i}/{s}" for i in ids for s in names
               if not any((workspace.results / i / EXPERIMENT / s).glob(f"{s}_001.*"))]
    if missing:
        raise EvalkitError(f"vot-toolkit left {len(missing)} run(s) without results (first: {missing[0]}); its log:\n"
                           f"{(log.stderr + log.stdout)[-3000:]}")
    return log.stderr + log.stdout


def analyse(workspace: Workspace, trackers: list[str] | None = None, timeout: float = 1800) -> dict[str, Any]:
    """``vot analysis --format json``: the toolkit's own AR and EAO analyses, as the dict it writes."""
    ids = [tracker_identifier(t) for t in (trackers or workspace.trackers)]
    code = ("import argparse; from vot.utilities.cli import do_analysis; "
            f"do_analysis(argparse.Namespace(workspace='.', trackers={ids!r}, format='json', name='evalkit', "
            "sequences=None, experiments=None, debug=False))")
    _toolkit(code, workspace, timeout)
    found = sorted((workspace.root / "analysis").glob("evalkit*.json"))
    if not found:
        raise EvalkitError(f"vot-toolkit's analysis wrote no JSON under {workspace.root / 'analysis'}")
    return json.loads(found[-1].read_text())


def load_workspace_suite(workspace: Workspace) -> Any:
    """The workspace's sequences as an evalkit VOT-family suite (regions, tags, image sizes from the folders)."""
    from evalkit.datasets.base import Suite
    from evalkit.datasets.vot import FAMILY, _load_folders, tag_names

    seq_root = workspace.root / "sequences"
    list_path = seq_root / "list.txt"
    if not list_path.is_file():
        raise EvalkitError(f"{list_path} not found: the workspace has no sequence list")
    names = list_path.read_text().split()
    sequences = _load_folders(names, seq_root)
    return Suite(f"vot-workspace:{workspace.root.name}", sequences, names, family=FAMILY,
                 attribute_names=tag_names(), source=f"{seq_root} (vot-toolkit workspace)")


def _bin_run(path: Path, repetition: int) -> Any:
    """A binary (``.bin``) result of the toolkit, read with the toolkit's own reader and parsed as text lines."""
    from vot.region.io import read_trajectory

    from evalkit.results import VotRun, parse_vot_lines

    lines = [str(region) for region in read_trajectory(str(path))]
    codes, regions = parse_vot_lines(path, lines)
    return VotRun(codes, regions, path, repetition)


def read_workspace_results(workspace: Workspace) -> list[Any]:
    """Every tracker's supervised results in the workspace (text or binary), named as the toolkit names them,
    with ``evalkit_<name>`` mapped back to the evalkit tracker name."""
    import re

    from evalkit.datasets.names import canonical_key
    from evalkit.errors import InputFileError
    from evalkit.results import ResultSet, read_vot_set

    if not workspace.results.is_dir():
        raise EvalkitError(f"{workspace.results} does not exist: run the toolkit's evaluate first")
    back = {tracker_identifier(t): t for t in workspace.trackers}
    sets = []
    for folder in sorted(p for p in workspace.results.iterdir() if (p / EXPERIMENT).is_dir()):
        rs = read_vot_set(folder) if any((folder / EXPERIMENT).glob("*/*.txt")) else ResultSet(folder.name, folder)
        for seq_dir in sorted(d for d in (folder / EXPERIMENT).iterdir() if d.is_dir()):
            key = canonical_key(seq_dir.name)
            if key in rs.vot_runs:
                continue
            runs = []
            for path in sorted(seq_dir.glob(f"{seq_dir.name}_[0-9][0-9][0-9].bin")):
                try:
                    runs.append(_bin_run(path, int(re.search(r"_(\d{3})\.bin$", path.name).group(1))))
                except InputFileError as exc:
                    rs.problems.append(exc.problem)
            if runs:
                rs.vot_runs[key] = runs
                rs.names[key] = seq_dir.name
        rs.tracker = back.get(folder.name, folder.name)
        sets.append(rs)
    if not sets:
        raise EvalkitError(f"no tracker results under {workspace.results}")
    return sets


def score_workspace(workspace: Workspace, convention: str = "matlab") -> Any:
    """evalkit's EAO, accuracy and robustness of the workspace's results, over its sequences and EAO interval."""
    from evalkit.scoring.vot import score_vot

    if workspace.suite is not None:
        from evalkit.datasets import load_suite

        suite = load_suite(workspace.suite, workspace.root / "sequences")
    else:
        suite = load_workspace_suite(workspace)
    return score_vot(suite, read_workspace_results(workspace), interval=workspace.interval,
                     convention=convention)  # type: ignore[arg-type]
