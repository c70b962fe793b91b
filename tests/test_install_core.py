"""``pip install evalkit`` without the ``trackers`` extra scores, in a fresh virtual environment, with no torch and no
OpenCV, and gives the same numbers as the development install.

    EVALKIT_SHARED=../shared python -m pytest tests/test_install_core.py

The repository is copied (without .git, virtual environments and build output) and installed non-editable, so the
test sees what a user's ``pip install`` gets: the declared dependencies and the packaged data files, nothing from the
working tree. pip uses its usual index and cache (a local index on machines without network). About 75 s on a busy
2-core machine, most of it pip unpacking numpy, scipy, pandas and matplotlib.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT

SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "reports", "__pycache__", ".pytest_cache", ".ruff_cache"}
PIP_TIMEOUT_S = 600


def _copy_source(dest: Path) -> Path:
    """The repository's source tree under ``dest`` (what an sdist holds: no VCS, environments or build output)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}

    return Path(shutil.copytree(REPO_ROOT, dest, ignore=ignore))


def _run(cmd: list[str | Path], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` outside the repository with no PYTHONPATH, so only the fresh environment is importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
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


def test_core_install_scores_without_torch_or_opencv(tmp_path: Path, shared_dir: Path) -> None:
    """A fresh venv with ``pip install <repo>`` (core only) cannot import torch or cv2, ``evalkit score`` gives the six
    OTB-100 trackers of the CFNet release the numbers the development install gives, and ``evalkit run`` says which
    extra it needs (no traceback)."""
    source = _copy_source(tmp_path / "src")
    env_dir = tmp_path / "venv"
    # no pip inside (ensurepip alone took 25 s): this interpreter's pip installs into it with --python; no bytecode
    # compilation of numpy, scipy, pandas and matplotlib (the slowest part of the install, and not what is tested)
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check",
                "--no-compile", source], tmp_path, PIP_TIMEOUT_S)
    assert pip.returncode == 0, f"pip install of the core package failed:\n{pip.stderr[-4000:]}"

    for module in ("torch", "cv2"):
        probe = _run([python, "-c", f"import {module}"], tmp_path, 60)
        assert probe.returncode != 0, f"the core install pulled in {module}: {probe.stdout}"
    where = _run([python, "-c", "import evalkit; print(evalkit.__file__)"], tmp_path, 60)
    assert where.returncode == 0 and str(env_dir) in where.stdout, f"evalkit not from the fresh venv: {where}"

    args = ["score", "--suite", "otb100", "--data-root", shared_dir / "data" / "otb100",
            "--results", shared_dir / "data" / "results" / "otb100_cfnet_release", "--format", "json"]
    fresh = _run([python.parent / "evalkit", *args], tmp_path, 300)
    assert fresh.returncode == 0, f"evalkit score failed in the core install:\n{fresh.stderr[-4000:]}"
    dev = _run([sys.executable, "-c", "from evalkit.cli import main; main()", *args], REPO_ROOT, 300)
    assert dev.returncode == 0, dev.stderr[-4000:]

    run = _run([python.parent / "evalkit", "run", "--trackers", "kcf", "--suite", "demo"], tmp_path, 120)
    assert run.returncode != 0 and "pip install 'evalkit[trackers]'" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]

    got, want = json.loads(fresh.stdout), json.loads(dev.stdout)
    assert len(got["trackers"]) == 6, sorted(got["trackers"])
    differences = _same_numbers(got, want)
    assert not differences, "core install and development install disagree:\n" + "\n".join(differences[:20])


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
