"""Complexity: torch's FLOP convention pinned, sizes and GFLOPs against the FDSiamFC README, the CLI commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from trackers.common.complexity import count_flops, measure_tracker, network_size
from trackers.siamfc import SiamNet, alexnet_layers

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.one_torch_thread


def _published_t3(shared_dir: Path) -> dict[str, dict[str, float]]:
    """T3 of reference/TABLES.md: {row label: {tracker: value}}."""
    text = (shared_dir / "reference" / "TABLES.md").read_text()
    block = text[text.index("## T3."):].split("\n\n")[0].splitlines()
    header = [c.strip() for c in block[1].strip("|").split("|")][1:]
    rows = {}
    for line in block[3:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, map(float, cells[1:]), strict=True))
    return rows


def test_flops_are_two_per_multiply_accumulate() -> None:
    conv = torch.nn.Conv2d(4, 6, 3, groups=2)
    x = torch.zeros(1, 4, 10, 10)
    macs = 6 * 8 * 8 * (4 // 2) * 3 * 3
    assert count_flops(conv, x) == 2 * macs
    assert count_flops(torch.nn.ReLU(), x) == 0  # element-wise ops are not counted (stated convention)


def test_sizes_and_gflops_against_the_published_table(shared_dir: Path) -> None:
    """Per-crop GFLOPs within 3% of T3 (torch omits element-wise ops); FD file sizes within 0.005 MiB."""
    t3 = _published_t3(shared_dir)
    size_row = next(k for k in t3 if k.lower().startswith("model size"))
    flops_row = next(k for k in t3 if "gflops" in k.lower())
    for name, ratio in (("SiamFC", 1.0), ("FDSiamFC_30", 0.3), ("FDSiamFC_15", 0.15)):
        net = SiamNet(alexnet_layers(ratio)).eval()
        gflops = count_flops(net.backbone, torch.zeros(1, 3, 255, 255)) / 1e9
        assert gflops == pytest.approx(t3[flops_row][name], rel=0.03), name
        assert gflops < t3[flops_row][name]  # the residual is what torch does not count
        if name != "SiamFC":  # SiamFC's published 8.609 MB is not reproduced (see README); FD sizes are
            _, _, _, file_mib = network_size(net)
            assert file_mib == pytest.approx(t3[size_row][name], abs=0.005), name


def test_measure_tracker_fields() -> None:
    from trackers.fdsiamfc import FDSiamFC15

    c = measure_tracker(FDSiamFC15(random_init=True), "cpu", frames=2)
    assert c.params == 55_102 and c.buffers == 328
    assert c.size_mib == pytest.approx((55_102 + 328) * 4 / 2**20)
    assert c.gflops_crop == pytest.approx(0.2484, abs=1e-3)
    assert 3 * c.gflops_crop < c.gflops_step < 3 * c.gflops_crop + 0.01  # three scales plus the correlations
    assert c.fps is not None and c.fps > 0 and c.device.startswith("cpu")


def test_complexity_command(capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli import main

    assert main(["complexity", "--trackers", "fdsiamfc15", "--param", "fdsiamfc15.random_init=true",
                 "--frames", "2", "--format", "json", "--gflops", "crop"]) == 0
    rec = json.loads(capsys.readouterr().out)["trackers"]["fdsiamfc15"]
    assert rec["gflops"] == pytest.approx(rec["gflops_crop"]) and rec["gflops_field"] == "per search crop"
    assert rec["model_size_mb"] == pytest.approx(rec["size_mib"]) and "FlopCounterMode" in rec["flop_convention"]
    assert main(["complexity", "--trackers", "fdsiamfc15", "--param", "fdsiamfc15.random_init=true",
                 "--frames", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"GFLOPs per search crop\s+0\.248", out) and "2 x multiply-accumulates" in out
    assert main(["complexity", "--trackers", "kcf"]) == 2
    assert "not a deep tracker" in capsys.readouterr().err


def test_compress_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.cli import main

    out = tmp_path / "fd"
    assert main(["compress", "--tracker", "siamfc", "--ratio", "0.15", "--teacher", "random", "--data", "demo",
                 "--out", str(out), "--max-steps", "2", "--batch-size", "2", "--calibration-pairs", "2"]) == 0
    report = json.loads((out / "compress.json").read_text())
    assert report["widths"] == [14, 38, 56, 56, 38]
    assert report["params_folded"] < report["params_teacher"] < report["params_student_with_fd"]
    assert report["fold_max_abs_diff_response"] <= 1e-5 * report["response_scale"]
    from trackers.fdsiamfc import FDSiamFC15

    FDSiamFC15(weights=str(out / "final.pth")).load("cpu")  # the folded network loads strictly


def test_record_and_replay_the_convolutions_of_a_step() -> None:
    """record_ops sees each conv once (no_grad and inference_mode alike) with copies of its inputs; replay reruns it."""
    from trackers.common.complexity import CONV_OPS, FFT_OPS, record_ops, replay_ops

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1)).eval()
    x = torch.randn(2, 3, 9, 9)

    def step(mode: object) -> torch.Tensor:
        with mode:  # type: ignore[attr-defined]
            return torch.fft.irfft2(torch.fft.rfft2(net(x)), s=(7, 7))

    for mode in (torch.no_grad, torch.inference_mode):
        ops = record_ops(step, mode(), ops=CONV_OPS + FFT_OPS)
        names = [op.func.overloadpacket.__name__ for op in ops]
        assert len(names) == 4 and sum(n in CONV_OPS for n in names) == 2, names
        assert ops[0].signature().endswith("(2x3x9x9, 4x3x3x3)") and ops[1].signature().endswith("(2x4x7x7, 2x4x1x1)")
        with torch.no_grad():
            assert torch.equal(ops[1].run(), net(x))  # the recorded input of the second conv is the first's output
        assert replay_ops(ops[:2], repeats=3) > 0
    assert record_ops(step, torch.no_grad()) and not record_ops(net[1], x)  # default: convolutions only


def test_profile_updates_splits_a_frame_into_the_bounds_layers_and_the_rest() -> None:
    """profile_updates: each function's own time per frame, the convolutions and FFTs marked as the bound's, the
    tracker's own Python code not; calls counted per frame; the profiler itself left out."""
    from trackers.common.complexity import profile_updates

    net = torch.nn.Conv2d(3, 4, 3).eval()

    def busy_python(n: int) -> int:
        return sum(i * i for i in range(n))

    class Fake:
        def update(self, frame: np.ndarray) -> None:
            with torch.no_grad():
                x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
                torch.fft.rfft2(net(x))
                net(x)
            busy_python(20000)

    frames = [np.zeros((16, 16, 3), dtype=np.uint8)] * 4
    rows, frame_ms = profile_updates(Fake(), frames)
    by = {r.function: r for r in rows}
    conv = [r for r in rows if r.function.endswith("conv2d")]
    fft = [r for r in rows if r.function.endswith("fft_rfft2")]
    assert len(conv) == 1 and conv[0].in_bound and conv[0].calls_per_frame == 2
    assert len(fft) == 1 and fft[0].in_bound and fft[0].calls_per_frame == 1
    python = [r for name, r in by.items() if name.endswith("(busy_python)")]
    assert len(python) == 1 and not python[0].in_bound and python[0].calls_per_frame == 1
    assert "test_complexity.py:" in python[0].function
    assert not any("_lsprof" in r.function for r in rows)
    assert [r.ms_per_frame for r in rows] == sorted((r.ms_per_frame for r in rows), reverse=True)
    assert sum(r.ms_per_frame for r in rows) <= frame_ms * 1.05 + 0.05  # own times do not double-count callees
