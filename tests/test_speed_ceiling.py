"""benchmarks/speed_ceiling.py: its stubs replay the first result of the stage they replace (a fresh copy each call)
and put the real functions back afterwards, so the ceiling it prints is measured on the tracker as it is."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np
import pytest
from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def ceiling() -> ModuleType:
    spec = importlib.util.spec_from_file_location("speed_ceiling", REPO_ROOT / "benchmarks" / "speed_ceiling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["speed_ceiling"] = module
    spec.loader.exec_module(module)
    return module


def test_replaying_computes_once_per_key_and_returns_copies(ceiling: ModuleType) -> None:
    calls = []

    def stage(a: np.ndarray, scale: int) -> np.ndarray:
        calls.append(scale)
        return a * scale

    stub = ceiling._replaying(stage, lambda a, scale: scale)
    first = stub(np.ones(3), 2)
    first[:] = -1  # the caller's copy: the next call still returns the stage's first result
    assert np.array_equal(stub(np.zeros(3), 2), [2, 2, 2])
    assert np.array_equal(stub(np.ones(3), 3), [3, 3, 3])
    assert calls == [2, 3]


def test_stubs_replace_the_stages_and_put_them_back(ceiling: ModuleType) -> None:
    import trackers.cfnet.tracker as ct
    from trackers.dcfnet.fused import FusedKernels

    real = ct.scale_pyramid, ct.imresize_maps_t, FusedKernels.band_lrn_window
    with ceiling.free_resizes():
        assert (ct.scale_pyramid, ct.imresize_maps_t) != real[:2]
    with ceiling.free_lrn():
        assert FusedKernels.band_lrn_window is not real[2]
    assert (ct.scale_pyramid, ct.imresize_maps_t, FusedKernels.band_lrn_window) == real
    assert set(ceiling.STUBS) == {"cfnet-conv1", "cfnet", "dcfnet"}
