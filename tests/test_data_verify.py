"""``evalkit data verify``: the real OTB sequences in ../shared/data/sequences, and broken copies of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evalkit.cli import main
from evalkit.verify import verify_suite

SIX = ["Couple", "Crossing", "Football1", "Dog1", "Jogging-1", "Jogging-2", "David"]  # Jogging holds two targets


@pytest.fixture
def sequences_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "sequences"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    rc = main(["data", "verify", *argv])
    return rc, capsys.readouterr().out.splitlines()


def test_the_six_real_sequences_are_sound(sequences_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "otb100", "--root", str(sequences_dir), "--sequences", ",".join(SIX))
    assert rc == 0
    # David holds frames 300..770 only, the evaluated range: every annotated frame has its image
    assert out == [f"otb100: 7 sequences checked (2769 frames) in {sequences_dir} (dataset layout): OK"]


def test_without_sequences_every_missing_one_is_named(sequences_dir: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "otb100", "--root", str(sequences_dir), "--no-images")
    assert rc == 2
    missing = [line.split()[1].rstrip(":") for line in out if line.startswith("missing")]
    assert len(missing) == 93 and "otb100/Basketball" in missing and "otb100/Human4-2" in missing
    assert not {f"otb100/{n}" for n in SIX} & set(missing)
    assert out[-1].endswith("93 of 100 sequences missing")
    assert len(out) == 94  # one line each, then the summary


def test_deleted_frame_and_truncated_annotation_are_named(sequences_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "otb"
    for name in ("Couple", "Crossing", "Dog1"):
        shutil.copytree(sequences_dir / name, root / name)
    (root / "Couple" / "img" / "0070.jpg").unlink()
    gt = root / "Crossing" / "groundtruth_rect.txt"
    text = gt.read_text()
    gt.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])  # the last line cut in the middle
    rc, out = _run(capsys, "otb100", "--root", str(root), "--sequences", "Couple,Crossing,Dog1")
    assert rc == 2
    lines = len(text.splitlines())
    assert out[0].startswith(f"annotation otb100/Crossing: {gt}:{lines}: expected 4 values (x,y,w,h), found ")
    assert out[1] == (f"frames     otb100/Couple: 1 of 140 frame images missing (first: "
                      f"{root / 'Couple' / 'img' / '0070.jpg'})")
    # Crossing's frames are not opened: its annotation says nothing about how many there should be
    assert out[2] == (f"otb100: 3 sequences checked ({140 - 1 + 1350} frames) in {root} (dataset layout): "
                      f"2 with problems (2 lines above)")
    assert len(out) == 3


def test_unreadable_and_odd_sized_images(tmp_path: Path) -> None:
    """A tiny generated OTB sequence (Deer, 71 frames): one frame garbage, one of another size."""
    folder = tmp_path / "Deer"
    (folder / "img").mkdir(parents=True)
    (folder / "groundtruth_rect.txt").write_text("".join(f"{i},2,5,6\n" for i in range(71)))
    for i in range(1, 72):
        size = (20, 10) if i == 50 else (16, 12)
        Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(folder / "img" / f"{i:04d}.jpg")
    (folder / "img" / "0007.jpg").write_bytes(b"not a jpeg")
    result = verify_suite("otb100", tmp_path, ["Deer"])
    assert not result.ok and result.frames == 71
    assert [str(f) for f in result.findings] == [
        f"image      otb100/Deer: {folder / 'img' / '0007.jpg'}: cannot read the image to find the frame size "
        f"({result.findings[0].message.split('(', 1)[1]}",
        f"image      otb100/Deer: 1 of 70 frames are not 16x12 like the others (first: "
        f"{folder / 'img' / '0050.jpg'} is 20x10)",
    ]


def test_bad_root_and_unknown_sequence(tmp_path: Path, sequences_dir: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _run(capsys, "otb100", "--root", str(tmp_path / "nowhere"))
    assert rc == 2 and out[0].startswith(f"data       otb100: data root {tmp_path / 'nowhere'} does not exist")
    rc, out = _run(capsys, "otb100", "--root", str(sequences_dir), "--sequences", "Coupel")
    assert rc == 2 and out[0].startswith("sequence   otb100/Coupel: no sequence 'Coupel' in otb100 (fix: "
                                         "--sequences Couple")
