"""trackers.dcfnet.fused: the compiled per-frame kernels give torch's values to the bit (the LRN's products and
window, the response spectrum, the learnt filter blended into the model), and DCFNet tracks with them exactly as
with torch's ops (boxes, scores and model bit-identical on real frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_module, sequence_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


@pytest.fixture(scope="module")
def fused() -> object:
    require_module("numba")
    from trackers.dcfnet import fused

    return fused


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 16, 17, 32, 33, 64, 70])
@pytest.mark.parametrize("tail", [False, True])
def test_sum_plan_adds_in_torchs_order(fused: object, rows: int, tail: bool) -> None:
    """The plan, run on float32 rows, gives torch's sum over a non-innermost dimension at the positions it is for:
    full blocks of vectors (before ``tail_from``) or the rest."""
    g = torch.Generator().manual_seed(rows)
    x = torch.randn(rows, 75, generator=g) * torch.logspace(-3, 3, rows)[:, None]  # magnitudes that expose order
    expected = x.sum(dim=0)
    tail_from = 75 - 75 % (4 * 8)  # AVX2: blocks of four 8-float registers
    slots = np.zeros((16, 75), dtype=np.float32)
    for what, slot, src in fused.sum_plan(rows, tail=tail):
        if what == fused.ADD_ROW:
            slots[slot] = slots[slot] + x[src].numpy()
        elif what == fused.ADD_SLOT:
            slots[slot] = slots[slot] + slots[src]
        else:
            slots[slot] = 0.0
    if torch.backends.cpu.get_cpu_capability() != "AVX2":
        pytest.skip("the vector width here is not AVX2's")
    positions = slice(tail_from, None) if tail else slice(0, tail_from)
    assert np.array_equal(slots[0][positions], expected.numpy()[positions])


@pytest.mark.parametrize("scales", [1, 3, 5, 7])
def test_kernels_reproduce_torch_for_dcfnet_shapes(fused: object, scales: int) -> None:
    """fused_kernels checks every kernel against torch's ops (rate 1 and 0.01) and returns None on any difference:
    for DCFNet's shapes (32 channels, 125 px, 1-7 scales) they agree here."""
    assert fused.fused_kernels(scales, 32, 125) is not None


def test_lrn_window_equals_band_lrn(fused: object) -> None:
    """The LRN kernel (roots, products and window in one compiled pass per image) gives BandLRN's values times the
    window, to the bit."""
    from trackers.common.windows import cosine_window
    from trackers.dcfnet.network import BandLRN

    kernels = fused.fused_kernels(3, 32, 125)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 32, 125, 125, generator=g).contiguous(memory_format=torch.channels_last) * 30
    window = torch.as_tensor(cosine_window(125, 125), dtype=torch.float32)
    with torch.inference_mode():
        expected = BandLRN(32)(x.clone()).mul_(window)
        got = kernels.band_lrn_window(BandLRN(32), x, window.numpy())
        assert got.is_contiguous() and torch.equal(got, expected)


def test_kernels_are_refused_where_they_differ(fused: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel that differs from torch in one bit is not used (here: a wrong summation order), nor without numba."""
    monkeypatch.setattr(fused, "sum_plan", lambda rows, tail=False: np.array(
        [(fused.ADD_ROW, 0, i) for i in range(rows)], dtype=np.int64))  # plain left-to-right order
    fused.fused_kernels.cache_clear()
    try:
        assert fused.fused_kernels(3, 32, 125) is None
        monkeypatch.undo()
        monkeypatch.setattr(fused, "numba", None)
        fused.fused_kernels.cache_clear()
        assert fused.fused_kernels(3, 32, 125) is None
    finally:
        monkeypatch.undo()
        fused.fused_kernels.cache_clear()


def test_dcfnet_tracks_identically_with_and_without_the_kernels(fused: object, shared_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from trackers.dcfnet.tracker import DCFNet

    monkeypatch.setenv("EVALKIT_WEIGHTS", str(shared_dir / "weights"))
    frames, gt = sequence_frames(shared_dir, "Couple", 15)
    tracker = DCFNet()
    tracker.load("cpu")
    kernels = tracker.fused
    assert kernels is not None
    runs = []
    for use in (kernels, None):
        tracker.fused = use
        tracker.initialize(frames[0], gt[0])
        preds = [tracker.update(f) for f in frames[1:]]
        runs.append((np.array([p.box for p in preds]), np.array([p.score for p in preds]),
                     [t.clone() for t in tracker.model]))
    (boxes_a, scores_a, model_a), (boxes_b, scores_b, model_b) = runs
    assert np.array_equal(boxes_a, boxes_b) and np.array_equal(scores_a, scores_b)
    assert all(torch.equal(a, b) for a, b in zip(model_a, model_b, strict=True))
