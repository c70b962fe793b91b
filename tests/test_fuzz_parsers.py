"""Fuzzing every parser evalkit exposes: whatever the bytes, only evalkit's own error type escapes (issue 15).

Box files (results and ground truth), VOT result runs, region and tag files, OTB ``.mat`` results (a real file's
bytes mutated, parsed in a forked child so that a crash is observed, not suffered), store files (run.json, a run's
.json) and evalkit.toml. The default suite runs a few examples per parser (seconds on a loaded 2-core machine); the
``slow`` variants run many more.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")  # the `test` extra installs it
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from evalkit.config import load_config  # noqa: E402
from evalkit.datasets.base import read_box_file  # noqa: E402
from evalkit.datasets.vot import read_region_file, read_tag_file  # noqa: E402
from evalkit.errors import EvalkitError, InputFileError  # noqa: E402
from evalkit.results import mat_guard, read_otb_mat, read_vot_run  # noqa: E402
from evalkit.store.meta import RunMeta, RunRecord  # noqa: E402

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
MAT_FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
MAT_SLOW = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))

# text close to what the parsers read, so the examples reach past the first check: numbers, separators, specials
TOKENS = st.sampled_from(["1", "0", "2", "-3.5", "12.25", "1e3", "nan", "NaN", "inf", "-inf", ",", ",", " ", "\t",
                          ";", "\n", "\n", "\r\n", "#", "x", "=", "[", "]", "\"", "'", "{", "}", ":", "\x00", "é",
                          "[run]", "[paths]", "workers", "backend", "results", "true", "1_0", "0x1"])
TEXTISH = st.lists(TOKENS, max_size=60).map("".join).map(lambda s: s.encode("utf-8"))
BYTES = st.one_of(TEXTISH, st.binary(max_size=200))


def _only_evalkit_errors(parse: Callable[[Path], object], path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        parse(path)
    except EvalkitError:
        pass  # the one error type the CLI prints as one line


PARSERS: dict[str, Callable[[Path], object]] = {
    "box file": read_box_file,
    "ground truth, no NaN": lambda p: read_box_file(p, expected_rows=3, allow_nan=False),
    "VOT result run": read_vot_run,
    "VOT region file": read_region_file,
    "VOT tag file": lambda p: read_tag_file(p, 5),
    "run.json": RunMeta.read,
    "run record": RunRecord.read,
    "evalkit.toml": load_config,
}


def _fuzz_text_parsers(tmp_path: Path, data: bytes) -> None:
    for name, parse in PARSERS.items():
        _only_evalkit_errors(parse, tmp_path / f"{name.replace(' ', '_').replace(',', '')}.txt", data)


@FAST
@given(data=BYTES)
def test_text_parsers_raise_only_evalkit_errors(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    _fuzz_text_parsers(tmp_path_factory.mktemp("fuzz"), data)


@pytest.mark.slow
@SLOW
@given(data=BYTES)
def test_text_parsers_raise_only_evalkit_errors_long(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    _fuzz_text_parsers(tmp_path_factory.mktemp("fuzz"), data)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["tracker", "protocol", "params", "start_frames", "device", "sequence",
                                         "label", "status", "format", "start_frame", "x"]), inner, max_size=5),
                    max_leaves=12)


BOX_TEXT = st.lists(st.sampled_from(["1", "2.5", "-3", "nan", ",", ";", " ", "\t", "\n", "\r\n", "\r", "#", ", ,"]),
                    max_size=40).map("".join)


@FAST
@given(text=BOX_TEXT)
def test_whole_file_box_parse_agrees_with_the_line_parser(tmp_path_factory: pytest.TempPathFactory,
                                                          text: str) -> None:
    """The fast whole-file parse of a box file gives an array only where the line-by-line parser gives the same one
    (a comment or an empty field must send the text to the line parser, which names the line)."""
    from evalkit.datasets.base import _parse_boxes_checked, _parse_boxes_fast

    fast = _parse_boxes_fast(text)
    if fast is None:
        return
    path = tmp_path_factory.mktemp("box") / "b.txt"
    np = pytest.importorskip("numpy")
    np.testing.assert_array_equal(fast, _parse_boxes_checked(path, text))


@FAST
@given(value=JSON)
def test_store_json_raises_only_evalkit_errors(tmp_path_factory: pytest.TempPathFactory, value: object) -> None:
    folder = tmp_path_factory.mktemp("store")
    for parse in (RunMeta.read, RunRecord.read):
        _only_evalkit_errors(parse, folder / "run.json", json.dumps(value).encode())


# -- .mat files: a crash must cost one file, so each parse runs in a forked child whose death is observed ---------
def _mat_source(shared_dir: Path) -> bytes:
    return (shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100" /
            "Couple_siamfc3s.mat").read_bytes()


def _recompressed(src: bytes, edits: list[tuple[int, int]]) -> bytes:
    """The file with bytes of its inflated matrix changed and deflated again: a valid zlib stream around corrupt
    content, the case scipy would be handed in this process (the check inflates; it cannot rely on the checksum)."""
    (size,) = struct.unpack("<I", src[132:136])
    inner = bytearray(zlib.decompress(src[136:136 + size]))
    for offset, value in edits:
        inner[offset % len(inner)] = value
    packed = zlib.compress(bytes(inner))
    return src[:128] + struct.pack("<II", 15, len(packed)) + packed


def _raw(src: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(src)
    for offset, value in edits:
        data[offset % 600] = value  # the header, the element tag and the start of the compressed stream
    return bytes(data)


def _refuse(path: Path, why: str) -> object:
    raise InputFileError(path, None, f"suspicious: {why}")


def _parse_in_child(path: Path, in_process_only: bool = False) -> int:
    """Exit status of a forked child that parses ``path``: 0 parsed or an EvalkitError, 1 another exception;
    negative: the signal that killed it (a crash that would have ended a scoring run). ``in_process_only``: a file
    the check does not vouch for is refused at once instead of parsed by a fresh Python (seconds each here); what is
    fuzzed then is the claim that a file the check passes never crashes scipy in the scoring process."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery, just the parse and an exit status
        if in_process_only:
            mat_guard._load_in_child = _refuse  # type: ignore[assignment]  # only in this forked child
        code = 0
        try:
            read_otb_mat(path)
        except EvalkitError:
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=3)


def _fuzz_mat(shared_dir: Path, folder: Path, edits: list[tuple[int, int]], inner: bool,
              in_process_only: bool = False) -> None:
    data = (_recompressed if inner else _raw)(_mat_source(shared_dir), edits)
    path = folder / "Couple_T.mat"
    path.write_bytes(data)
    assert _parse_in_child(path, in_process_only) == 0, f"edits {edits} ({'inflated' if inner else 'raw'} bytes)"


@MAT_FAST
@given(edits=EDITS)
def test_mat_parser_raises_only_evalkit_errors(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                                               edits: list[tuple[int, int]]) -> None:
    """Corrupt content in a valid zlib stream: what the check passes scipy parses in the scoring process, so this
    is the case that must never crash; the slow variant also runs raw byte changes and the real child process."""
    _fuzz_mat(shared_dir, tmp_path_factory.mktemp("mat"), edits, inner=True, in_process_only=True)


@pytest.mark.slow
@MAT_SLOW
@given(edits=EDITS, inner=st.booleans())
def test_mat_parser_raises_only_evalkit_errors_long(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                                                    edits: list[tuple[int, int]], inner: bool) -> None:
    _fuzz_mat(shared_dir, tmp_path_factory.mktemp("mat"), edits, inner)
