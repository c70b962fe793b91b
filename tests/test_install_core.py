"""``pip install evalkit`` without the ``trackers`` extra scores, in a fresh virtual environment, with no torch and no
OpenCV, and gives the same numbers as the development install.

    EVALKIT_SHARED=../shared python -m pytest tests/test_install_core.py

The package sources are copied (pyproject, README, evalkit/, trackers/) and installed non-editable, so the test
sees what a user's ``pip install`` gets: the declared dependencies and the packaged data files, nothing imported
from the working tree. pip uses its usual index and cache (a local index on machines without network). About 90 s
on a busy 2-core machine, most of it pip unpacking numpy, scipy, pandas and matplotlib.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT

# What the wheel is built from (pyproject's packages.find and readme); the rest of the tree (tests, caches, runs,
# checkpoints) is left out so its size never matters
SOURCES = ("pyproject.toml", "README.md", "evalkit", "trackers")
PIP_TIMEOUT_S = 600


def _copy_source(dest: Path) -> Path:
    """The files ``pip install`` builds evalkit from, copied under ``dest`` (no caches or egg-info)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _run(cmd: list[str | Path], cwd: Path, timeout: float, pythonpath: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in ``cwd`` with only ``pythonpath`` (default: nothing) on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _same_numbers(a: Any, b: Any, where: str = "") -> list[str]:
    """Paths at which two JSON documents differ (floats compared to 1e-9 relative: numpy builds may sum in another
    order; NaN equals NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{where}: keys {sorted(set(a) ^ set(b))} in one only"]
        return [d for k in a for d in _same_numbers(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _same_numbers(x, y, f"{where}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, int | float) and isinstance(b, int | float):
            if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
                return []
    elif a == b:
        return []
    return [f"{where}: {a!r} vs {b!r}"]


@dataclass(frozen=True)
class CoreInstall:
    """A fresh venv's Python holding the core install, and the copied sources it was built from."""

    python: Path
    source: Path


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> CoreInstall:
    """A fresh venv holding ``pip install <copy of the sources>`` without extras (built once per module)."""
    tmp = tmp_path_factory.mktemp("core-install")
    source = _copy_source(tmp / "src")
    env_dir = tmp / "venv"
    # no pip inside (ensurepip alone took 25 s): this interpreter's pip installs into it with --python; no bytecode
    # compilation of numpy, scipy, pandas and matplotlib (the slowest part of the install, and not what is tested)
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check",
                "--no-compile", source], tmp, PIP_TIMEOUT_S)
    assert pip.returncode == 0, f"pip install of the core package failed:\n{pip.stderr[-4000:]}"
    where = _run([python, "-c", "import evalkit; print(evalkit.__file__)"], tmp, 60)
    assert where.returncode == 0 and str(env_dir) in where.stdout, f"evalkit not from the fresh venv: {where}"
    return CoreInstall(python, source)


def _results(shared_dir: Path) -> list[str | Path]:
    """The OTB-100 data root and the CFNet release's result archive (six trackers), as CLI arguments."""
    return ["--data-root", shared_dir / "data" / "otb100",
            "--results", shared_dir / "data" / "results" / "otb100_cfnet_release"]


def test_core_install_scores_without_torch_or_opencv(core: CoreInstall, shared_dir: Path, tmp_path: Path) -> None:
    """The core install cannot import torch or cv2, ``evalkit score`` gives the six OTB-100 trackers of the CFNet
    release the numbers the development environment gives on the same sources, and ``evalkit run`` says which extra
    it needs."""
    for module in ("torch", "cv2"):
        probe = _run([core.python, "-c", f"import {module}"], tmp_path, 60)
        assert probe.returncode != 0, f"the core install pulled in {module}: {probe.stdout}"

    args = ["score", "--suite", "otb100", *_results(shared_dir), "--format", "json"]
    fresh = _run([core.python.parent / "evalkit", *args], tmp_path, 300)
    assert fresh.returncode == 0, f"evalkit score failed in the core install:\n{fresh.stderr[-4000:]}"
    # the copied sources, not the working tree: the comparison is between environments, not between code versions
    dev = _run([sys.executable, "-c", "from evalkit.cli import main; main()", *args], tmp_path, 300, core.source)
    assert dev.returncode == 0, dev.stderr[-4000:]
    got, want = json.loads(fresh.stdout), json.loads(dev.stdout)
    assert len(got["trackers"]) == 6, sorted(got["trackers"])
    differences = _same_numbers(got, want)
    assert not differences, "core install and development install disagree:\n" + "\n".join(differences[:20])

    run = _run([core.python.parent / "evalkit", "run", "--trackers", "kcf", "--suite", "demo"], tmp_path, 120)
    assert run.returncode != 0 and "pip install 'evalkit[trackers]'" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]


@pytest.mark.slow  # about 70 s more on a busy 2-core machine; the score test above covers the install itself
def test_core_install_tables_and_reports(core: CoreInstall, shared_dir: Path, tmp_path: Path) -> None:
    """The core install fills a published table and writes the PDF and HTML reports (no torch, no OpenCV)."""
    evalkit = core.python.parent / "evalkit"
    table = _run([evalkit, "table", "--layout", "cfnet-table1", *_results(shared_dir), "--format", "markdown"],
                 tmp_path, 300)
    assert table.returncode == 0, table.stderr[-4000:]
    assert "CFNet-conv2" in table.stdout and "SiamFC-3s" in table.stdout, table.stdout[-2000:]
    for out in (tmp_path / "report.pdf", tmp_path / "report.html"):
        report = _run([evalkit, "report", "--suite", "otb100", *_results(shared_dir), "--out", out, "--no-progress"],
                      tmp_path, 300)
        assert report.returncode == 0, report.stderr[-4000:]
        assert out.stat().st_size > 10_000, f"{out} is {out.stat().st_size} bytes"


@pytest.mark.parametrize(("a", "b", "same"), [
    ({"x": 0.5, "n": 3}, {"x": 0.5 + 1e-15, "n": 3}, True),
    ({"x": 0.5}, {"x": 0.6}, False),
    ({"x": [1.0, float("nan")]}, {"x": [1.0, float("nan")]}, True),
    ({"x": 1}, {"y": 1}, False),
    ({"x": "a"}, {"x": "b"}, False),
    ({"x": [1, 2]}, {"x": [1]}, False),
])
def test_number_comparison(a: dict[str, Any], b: dict[str, Any], same: bool) -> None:
    """The JSON comparison tolerates float rounding only, and names what differs."""
    assert (not _same_numbers(a, b)) == same
