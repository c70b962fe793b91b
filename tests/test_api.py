"""docs/api.md's examples, run in order in one namespace against the reference data: the documented API works as
printed. Also the lazy public names of ``import evalkit``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "api.md"


def test_api_doc_examples_run(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of docs/api.md runs (its asserts included), with EVALKIT_SHARED pointing at the data."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.setenv("EVALKIT_SHARED", str(shared_dir))
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_doc"}
    for i, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"docs/api.md block {i}", "exec"), namespace)  # noqa: S102 - the doc's own code
        except Exception as exc:  # name the block that broke
            raise AssertionError(f"docs/api.md block {i} failed: {exc!r}\n{block}") from exc


def test_import_evalkit_is_lazy() -> None:
    """`import evalkit` imports neither pandas, matplotlib, torch nor cv2; the public names resolve on use."""
    code = ("import sys, evalkit; heavy = [m for m in ('pandas', 'matplotlib', 'torch', 'cv2') if m in sys.modules]; "
            "assert not heavy, heavy; assert callable(evalkit.score) and 'score' in dir(evalkit); "
            "assert issubclass(evalkit.EvalkitError, Exception)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_public_name_is_an_attribute_error() -> None:
    """A name evalkit does not define fails like any module attribute."""
    import evalkit

    with pytest.raises(AttributeError, match="no attribute 'scroe'"):
        evalkit.scroe  # noqa: B018


def test_score_renames_without_touching_the_callers_result_sets(shared_dir: Path) -> None:
    """evalkit.score(..., renames=) names the scored copy; the ResultSet objects passed in keep their names (the
    same objects scored again, without renames, report the old name)."""
    import numpy as np

    import evalkit
    from evalkit.datasets.base import read_box_file

    root = shared_dir / "data" / "sequences"
    gt = read_box_file(root / "Couple" / "groundtruth_rect.txt")
    sets = evalkit.in_memory_results({"mine": {"Couple": gt + np.array([2.0, 0.0, 0.0, 0.0])}})
    renamed = evalkit.score("otb100", sets, data_root=root, sequences=["Couple"], renames={"mine": "Ours"})
    assert list(renamed.to_pandas().index) == ["Ours"]
    assert [rs.tracker for rs in sets] == ["mine"]
    assert list(evalkit.score("otb100", sets, data_root=root, sequences=["Couple"]).to_pandas().index) == ["mine"]
