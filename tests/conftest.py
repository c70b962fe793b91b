"""Shared test fixtures: where the reference data lives, and the skip-or-fail rule for missing requirements.

The reference data (``../shared``) is read in place, never copied into the repository. Its location is the
environment variable ``EVALKIT_SHARED`` if set, else ``<repository root>/../shared``.

A test whose requirement (the shared folder, an optional package such as ``got10k``) is missing is skipped on a
developer machine, with the reason, but fails under CI (environment variable ``CI`` set), where everything must be
present: a silent skip there would hide a broken set-up.

    def test_something(shared_dir: Path) -> None:          # the fixture: skips (or fails under CI) if absent
        suite = load_suite("otb100", shared_dir / "data" / "otb100")

    from conftest import require_module
    got10k_experiments = require_module("got10k.experiments")   # same rule for an optional package
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def under_ci() -> bool:
    """True when running under CI, where a missing requirement is a failure rather than a skip."""
    return bool(os.environ.get("CI"))


def missing_requirement(reason: str) -> NoReturn:
    """Skip the current test with ``reason``, or fail it under CI (where every requirement must be present)."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def shared_path() -> Path:
    """The reference-data folder: ``$EVALKIT_SHARED``, else ``<repository root>/../shared`` (may not exist)."""
    env = os.environ.get("EVALKIT_SHARED")
    return Path(env).expanduser().resolve() if env else (REPO_ROOT.parent / "shared").resolve()


def require_module(name: str) -> ModuleType:
    """Import module ``name``, or skip the calling test (fail under CI) saying which module is missing and why."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing_requirement(f"module {name!r} cannot be imported ({exc}); install the test extras: make install-test")


@pytest.fixture(scope="session", autouse=True)
def test_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """evalkit's cache (parsed results, the demo suite, imported weights) in a session folder unless the caller set
    EVALKIT_CACHE: a test run never fills the user's ~/.cache (one run left 256 MB of parsed results there)."""
    given = os.environ.get("EVALKIT_CACHE")
    path = Path(given) if given else tmp_path_factory.mktemp("evalkit-cache")
    os.environ["EVALKIT_CACHE"] = str(path)
    yield path
    if given is None:
        os.environ.pop("EVALKIT_CACHE", None)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The reference-data folder (``$EVALKIT_SHARED`` or ``../shared``); skips when absent, fails under CI."""
    path = shared_path()
    if not path.is_dir():
        missing_requirement(f"reference data folder {path} not found (set EVALKIT_SHARED to its location)")
    return path


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one CPU thread for the test: on a shared 2-core machine two threads oversubscribe, and multi-threaded
    FFTs of tiny arrays stalled (up to 100x slower). Use with ``pytestmark = pytest.mark.usefixtures(...)``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No weights anywhere evalkit looks: an empty cache under ``tmp_path``, no EVALKIT_WEIGHTS(_URL)."""
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EVALKIT_WEIGHTS", raising=False)
    monkeypatch.delenv("EVALKIT_WEIGHTS_URL", raising=False)
    return tmp_path

# -- builders and readers shared by several test modules ------------------------------------------------------------
def sequence_frames(shared: Path, name: str, count: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The first ``count`` frames (RGB) of a shared OTB sequence and its ground truth (0-based x, y, w, h)."""
    import cv2

    from evalkit.datasets.base import read_box_file

    folder = shared / "data" / "sequences" / name
    gt = read_box_file(folder / "groundtruth_rect.txt")
    gt[:, :2] -= 1
    paths = sorted((folder / "img").glob("*.jpg"))[:count]
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in paths], gt


PAPER_INCONSISTENT = {("CFNet-conv5", "otb2013")}


def parse_markdown_table(text: str, heading: str) -> list[list[str]]:
    """Rows (cells as strings) of the first Markdown table after a line starting with ``heading``."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(heading))
    rows: list[list[str]] = []
    for ln in lines[start + 1:]:
        if ln.startswith("|"):
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            if not all(re.fullmatch(r"-+", c) for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # drop the header row


@cache
def cfnet_table1(shared: Path) -> dict[str, list[str]]:
    """T1 of TABLES.md: tracker -> row cells (Method, fps, 2013 OPE IoU, prec., 2013 TRE ..., OTB-100 TRE prec.)."""
    rows = parse_markdown_table((shared / "reference" / "TABLES.md").read_text(), "## T1.")
    return {r[0]: r for r in rows}


RELEASE = ("data", "results", "otb100_cfnet_release")  # the CFNet release under the shared folder


def write_store_folder(folder: Path, tracker: str, seqs: dict[str, np.ndarray], seconds: float, device: str = "cuda",
           shift: float = 0.0, params: dict[str, object] | None = None) -> Path:
    """A minimal evalkit store folder: run.json and <Seq>/ope.{txt,time.txt,json} per sequence."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"tracker": tracker, "device": device, "protocol": "ope",
                                                 "weights_sha256": "ab" * 32,
                                                 "params": params or {"scale_step": 1.0375}}))
    for name, gt in seqs.items():
        d = folder / name
        d.mkdir()
        boxes = gt.copy()
        boxes[1:, 0] += shift
        np.savetxt(d / "ope.txt", boxes, fmt="%.4f", delimiter=",")
        np.savetxt(d / "ope.time.txt", np.full(len(gt), seconds), fmt="%.6f")
        (d / "ope.json").write_text(json.dumps({"sequence": name, "label": "ope", "status": "ok",
                                                "start_frame": 1, "format": "boxes"}))
    return folder


def write_vot_layout(root: Path) -> None:
    """ants1: polygons plus one rectangle line, 3 JPEG frames 64 x 48 in color/, tags; bag: no frames, a
    vot-toolkit 'sequence' file with the size; list.txt."""
    cv2 = require_module("cv2")
    root.mkdir(parents=True, exist_ok=True)
    (root / "list.txt").write_text("ants1\nbag\n")
    ants = root / "ants1"
    (ants / "color").mkdir(parents=True)
    for i in range(1, 4):
        cv2.imwrite(str(ants / "color" / f"{i:08d}.jpg"), np.zeros((48, 64, 3), np.uint8))
    (ants / "groundtruth.txt").write_text("10,10,30,10,30,20,10,20\n11,10,31,10,31,20,11,20\n12,10,20,10\n")
    (ants / "occlusion.tag").write_text("0\n1\n1\n")
    (ants / "camera_motion.label").write_text("1\n")  # shorter than the sequence: padded with 0
    bag = root / "bag"
    bag.mkdir()
    (bag / "groundtruth.txt").write_text("1,2,3,4\n2,3,4,5\n")
    (bag / "sequence").write_text("name=bag\nwidth=320\nheight=240\nfps=30\n")


def write_run(path: Path, lines: list[str]) -> Path:
    """Write a VOT result file, one line per frame."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
