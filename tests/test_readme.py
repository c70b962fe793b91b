"""The README's examples run as printed: every ``evalkit`` command in its shell blocks that names only files under
``../shared`` (the reference data) runs against it and exits 0. Commands with placeholders (``RESULTS``, ``~/data``,
``/data/...``, ``path/to``, ``runs/...``, ``[optional]`` parts, ``a|b`` alternatives, ``...``) are templates: the test
lists them and checks there are few of them. Examples that run trackers take minutes and are marked slow."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from evalkit.cli import main

TEMPLATE = re.compile(r"RESULTS|~/|(^|[ =:])/data|path/to|runs/|results/|\[|\]|\||\.\.\.|\bDIR\b|\bFILE\b|\bNAME\b|"
                      r"\bPATH\b")
NETWORK = re.compile(r"^(\S+=\S+ )*evalkit (weights|data) fetch ")  # downloads: nothing leaves this machine in tests
SLOW_COMMANDS = ("run", "train", "compress", "complexity", "report")  # minutes, or a whole report


def readme_commands() -> list[str]:
    """Every ``evalkit ...`` line of the README's sh blocks (continuations joined, comments dropped)."""
    text = (REPO_ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.split(r"\s+#", line)[0].strip()
            if re.match(r"^(\S+=\S+ )*evalkit ", line):
                out.append(line)
    return out


def runnable() -> list[str]:
    """The README commands that are not templates."""
    return [c for c in readme_commands()
            if not TEMPLATE.search(re.sub(r"\.\./shared/\S*", "SHARED_DATA", c)) and not NETWORK.match(c)]


def _run(command: str, shared: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    words = shlex.split(command.replace("../shared", str(shared)))
    while "=" in words[0]:  # an environment assignment before the command
        key, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(key, value)
    assert words[0] == "evalkit"
    return main(words[1:])


def test_most_examples_are_runnable() -> None:
    """The README shows working commands, not only templates."""
    commands, ok = readme_commands(), runnable()
    assert len(commands) >= 20 and len(ok) >= len(commands) // 2, [c for c in commands if c not in ok]


FAST = [c for c in runnable() if shlex.split(c.split("evalkit ", 1)[1])[0] not in SLOW_COMMANDS or "--check" in c]
SLOW = [c for c in runnable() if c not in FAST]


@pytest.mark.parametrize("command", FAST)
def test_readme_example_runs(command: str, shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """A README example (scoring, tables, reports, listings, checks) runs as printed against ../shared."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    rc = _run(command, shared_dir, tmp_path, monkeypatch)
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("command", SLOW)
def test_readme_tracker_example_runs(command: str, shared_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A README example that runs trackers runs as printed (minutes each: opt-in with -m slow)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EVALKIT_WEIGHTS", os.environ.get("EVALKIT_WEIGHTS", str(shared_dir / "weights")))
    rc = _run(command, shared_dir, tmp_path, monkeypatch)
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]


def test_readme_and_adapters_doc_name_every_listed_tracker(capsys: pytest.CaptureFixture[str]) -> None:
    """README and docs/adapters.md mention every tracker `evalkit list trackers` shows."""
    assert main(["list", "trackers"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    readme = (REPO_ROOT / "README.md").read_text()
    adapters = (REPO_ROOT / "docs" / "adapters.md").read_text()
    missing = [n for n in names if f"`{n}`" not in readme or f"`{n}`" not in adapters]
    assert len(names) >= 20 and not missing, missing
