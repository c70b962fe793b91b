"""The ``evalkit score`` command: output formats, partial-data refusal, problem reporting, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.datasets import load_suite


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``evalkit`` in-process and return (exit status, stdout, stderr)."""
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_output_is_one_object_with_the_documented_fields(shared_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints exactly one JSON object with suite, protocol, profile and per-tracker fields."""
    rc, out, _ = run_cli(["score", "--suite", "uav20l", "--data-root", str(shared_dir / "data" / "uav123"),
                          "--results", str(shared_dir / "data" / "results" / "uav20l_dcf"), "--format", "json"],
                         capsys)
    assert rc == 0
    obj = json.loads(out)
    assert obj["suite"] == "uav20l" and obj["protocol"] == "ope" and obj["profile"] == "otb-toolkit"
    assert obj["partial"] is False
    assert set(obj["trackers"]) == {"KCF", "DSST", "Staple", "ECO_HC", "SRDCF"}
    fields = {"success_auc", "precision_20", "precision_auc", "norm_precision", "op50", "op75", "mean_iou",
              "n_sequences", "n_frames"}
    for v in obj["trackers"].values():
        assert set(v) == fields | {"ci95", "complete"}
        assert v["complete"] is True and v["n_sequences"] == 20  # every tracker has all 20 UAV20L sequences
        # bootstrap intervals cover the fields statistics.INTERVAL_FIELDS names (not yet OP50 / OP75)
        assert set(v["ci95"]) == fields - {"op50", "op75", "n_sequences", "n_frames"}
        lo, hi = v["ci95"]["success_auc"]
        assert lo <= v["success_auc"] <= hi
        assert isinstance(v["n_sequences"], int) and isinstance(v["n_frames"], int)
    assert round(obj["trackers"]["KCF"]["success_auc"], 3) == 0.196


def test_table_and_csv(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table ranks trackers by success AUC; CSV carries full precision and the profile."""
    args = ["score", "--suite", "otb50", "--data-root", str(shared_dir / "data" / "otb100"),
            "--results", str(shared_dir / "data" / "results" / "otb100_cfnet_release"), "--by-attribute"]
    rc, out, _ = run_cli(args, capsys)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("OTB50 | OPE | profile otb-toolkit")
    assert lines[3].startswith("CFNet-conv5")  # best success AUC on OTB-50 (0.539)
    assert "OCC(" in out and "by attribute" in out
    rc, out, _ = run_cli([*args[:-1], "--format", "csv", "--profile", "pysot"], capsys)
    rows = out.strip().splitlines()
    assert rows[0].startswith("suite,protocol,profile,partial,tracker,success_auc")
    assert len(rows) == 7 and all(",pysot," in r for r in rows[1:])


def test_partial_suite_is_refused_then_labelled(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """6 of 100 OTB sequences: no headline score unless asked, then every output says partial."""
    base = ["score", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"),
            "--results", str(shared_dir / "data" / "results" / "otb100_cfnet_release")]
    rc, out, err = run_cli(base, capsys)
    assert rc == 2 and out == ""
    assert "93 of 100 sequences are not in" in err and "--allow-partial" in err
    rc, out, _ = run_cli([*base, "--allow-partial"], capsys)
    assert rc == 0 and "PARTIAL" in out.splitlines()[0]
    rc, out, _ = run_cli([*base, "--sequences", "Couple,Crossing", "--format", "json"], capsys)
    obj = json.loads(out)
    assert obj["partial"] is True and obj["trackers"]["SiamFC-3s"]["n_sequences"] == 2


def test_bad_result_files_are_reported_and_the_rest_scored(shared_dir: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A non-numeric field is named with file and line on stderr; other sequences still score; --strict exits 3."""
    suite = load_suite("otb100", shared_dir / "data" / "sequences")
    trk = tmp_path / "results" / "MyTracker"
    trk.mkdir(parents=True)
    for seq in suite:
        np.savetxt(trk / f"{seq.name}.txt", seq.ground_truth, fmt="%.4f", delimiter=",")
    lines = (trk / "Couple.txt").read_text().splitlines()
    lines[6] = "12,abc,30,40"
    (trk / "Couple.txt").write_text("\n".join(lines) + "\n")
    base = ["score", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "sequences"), "--results",
            str(tmp_path / "results"), "--allow-partial", "--format", "json"]
    rc, out, err = run_cli(base, capsys)
    assert rc == 0
    assert f"{trk / 'Couple.txt'}:7: non-numeric field" in err
    obj = json.loads(out)
    assert obj["trackers"]["MyTracker"]["n_sequences"] == len(suite) - 1
    rc, _, _ = run_cli([*base, "--strict"], capsys)
    assert rc == 3


def test_unknown_names_get_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in a suite or profile name is an error with a 'did you mean'."""
    rc, _, err = run_cli(["score", "--suite", "otb10", "--data-root", ".", "--results", "."], capsys)
    assert rc == 2 and "did you mean 'otb100'" in err
    rc, out, _ = run_cli(["list", "profiles"], capsys)
    assert rc == 0 and out.split()[0] == "got10k" and "pytracking" in out


def test_console_script_runs() -> None:
    """The installed ``evalkit`` entry point works as a module too."""
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli", "--version"], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.startswith("evalkit ")


def test_cfnet_alias_takes_parameters_by_either_name() -> None:
    """`cfnet` is CFNet-conv2 (the brief's main command uses it); --param works with the alias or the name."""
    from evalkit.cli.run import tracker_specs

    [spec] = tracker_specs(["cfnet"], ["cfnet.random_init=true"])
    assert spec.name == "cfnet-conv2" and dict(spec.params) == {"random_init": "true"}
    [spec] = tracker_specs(["cfnet"], ["cfnet-conv2.init_seed=3"])
    assert dict(spec.params) == {"init_seed": "3"}


def test_a_broken_command_module_leaves_the_others_working(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A command module that cannot be imported shows as unavailable; every other command still works."""
    import evalkit.cli as cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "evalkit.cli.no_such_command"])
    assert cli.main(["list", "profiles"]) == 0
    capsys.readouterr()
    assert cli.main(["no-such-command"]) == 2
    assert "unavailable" in capsys.readouterr().err


def test_compare_frames_reports_agreement_and_first_parting(shared_dir: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`compare --frames`: per sequence the mean IoU between two trackers' boxes and the first frame they part.
    B is A shifted right by half the box width from row 10 on, so IoU there is (w/2 * h) / (1.5 * w * h) = 1/3."""
    seq = load_suite("otb100", shared_dir / "data" / "otb100", ["Couple"])["Couple"]
    a = seq.ground_truth.copy()
    b = a.copy()
    b[10:, 0] += b[10:, 2] / 2
    for name, boxes in (("A", a), ("B", b)):
        (tmp_path / name).mkdir()
        np.savetxt(tmp_path / name / "Couple.txt", boxes, fmt="%.4f", delimiter=",")
    rc = main(["compare", "A", "B", "--frames", "--suite", "otb100", "--data-root", str(shared_dir / "data" / "otb100"),
               "--results", str(tmp_path), "--sequences", "Couple", "--format", "json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)["sequences"]["Couple"]
    n = len(a)
    assert out["n_compared"] == n and out["first_parting"] == 10
    assert out["mean_iou"] == pytest.approx((10 + (n - 10) / 3) / n, abs=1e-6)
    assert main(["compare", "A", "B", "--frames", "--suite", "otb100", "--data-root",
                 str(shared_dir / "data" / "otb100"), "--results", str(tmp_path), "--sequences", "Couple"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Couple"))
    assert row.split()[2] == str(seq.frame_number(10))


def _subcommands() -> list[str]:
    import argparse

    from evalkit.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _subcommands())
def test_every_command_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`evalkit <command> --help` exits 0 and shows at least one example invocation of that command."""
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert re.search(rf"^\s+(\S+=\S+ )*evalkit {re.escape(command)}\b", out, flags=re.M), out[:400]
