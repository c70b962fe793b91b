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
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn

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
