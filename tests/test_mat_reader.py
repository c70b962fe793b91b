"""evalkit's own MAT-5 reader (evalkit/results/mat_guard.py): what scipy's loadmat reads, read alike; results{1}
alone without inflating the rest; anything it cannot vouch for still read by scipy, in a child process."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io

from evalkit.results import discover_results, read_otb_mat
from evalkit.results.mat_guard import Suspicious, load_results_variable, read_variable


def _loadmat(data: bytes) -> Any:
    return scipy.io.loadmat(io.BytesIO(data), squeeze_me=True, struct_as_record=False,
                            variable_names=["results"])["results"]


def _same(ours: Any, theirs: Any, where: str) -> None:
    """Our plain value against loadmat's (mat_struct, object arrays), values and shapes; loadmat keeps the stored
    integer type of numbers MATLAB saved compactly (mat_dtype=False), ours the class MATLAB reads them as; a 1x1
    cell is squeezed to its element by loadmat, a list of one by us."""
    if isinstance(ours, list) and len(ours) == 1 and not (isinstance(theirs, np.ndarray) and theirs.dtype == object):
        ours = ours[0]
    if hasattr(theirs, "_fieldnames"):
        assert isinstance(ours, dict) and list(ours) == list(theirs._fieldnames), where
        for k in theirs._fieldnames:
            _same(ours[k], getattr(theirs, k), f"{where}.{k}")
    elif isinstance(theirs, np.ndarray) and theirs.dtype == object:
        items = ours if isinstance(ours, list) else [ours]
        assert len(items) == theirs.size, where
        for i, (a, b) in enumerate(zip(items, theirs.ravel(order="F"), strict=True)):
            _same(a, b, f"{where}{{{i + 1}}}")
    elif isinstance(theirs, str):
        assert ours == theirs, where
    else:
        a, b = np.asarray(ours), np.asarray(theirs)
        assert a.shape == b.shape, where
        if b.dtype.kind in "biufc":
            np.testing.assert_array_equal(a.astype(np.complex128), b.astype(np.complex128), err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)


def test_shared_result_files_read_as_scipy_reads_them(shared_dir: Path) -> None:
    """Every 5th .mat of the shared results (OTB-100 TRE files of 20 runs, UAV20L files with a function handle)."""
    files = sorted((shared_dir / "data" / "results").rglob("*.mat"))[::5]
    assert len(files) > 100
    for path in files:
        data = path.read_bytes()
        found, ours = read_variable(data, "results")
        assert found
        _same(ours, _loadmat(data), path.name)
        found, first = read_variable(data, "results", first_only=True)
        runs = ours if isinstance(ours, list) else [ours]
        assert found and len(first) == 1
        np.testing.assert_array_equal(first[0]["res"], runs[0]["res"])


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("record", [
    {"res": np.arange(20.0).reshape(5, 4), "type": "rect", "startFrame": 3, "len": 5.0},
    {"res": np.arange(20, dtype=np.int16).reshape(5, 4), "type": "rect", "startFrame": np.uint8(1)},
    {"res": np.ones((1, 4), np.float32), "type": "rect", "flags": np.array([True, False]), "note": ["ab", "cd"]},
    {"res": np.ones((3, 6)), "type": "ivtAff", "tmplsize": [32, 24], "c": 1 + 2j, "e": np.zeros((0, 0))},
])
def test_what_savemat_writes_reads_as_loadmat_reads_it(tmp_path: Path, compress: bool, record: dict) -> None:
    """Numeric classes, logical, complex, char rows and char matrices, empty arrays, compressed or not."""
    path = tmp_path / "Couple_T.mat"
    for results in (np.array([record, record], dtype=object), record):  # a cell of structs, a 1x1 struct
        scipy.io.savemat(path, {"other": np.eye(3), "results": results}, do_compression=compress)
        data = path.read_bytes()
        found, ours = read_variable(data, "results")
        assert found
        _same(ours, _loadmat(data), "results")


def test_big_endian_files_are_read(tmp_path: Path) -> None:
    """A MAT-5 file written big-endian (the 'MI' mark): as scipy reads it."""
    path = tmp_path / "Couple_T.mat"
    rec = {"res": np.arange(8.0).reshape(2, 4), "type": "rect"}
    scipy.io.savemat(path, {"results": np.array([rec], dtype=object)}, do_compression=False)
    little = path.read_bytes()
    big = _byteswapped(little)
    found, ours = read_variable(big, "results")
    assert found
    _same(ours, _loadmat(little), "results")


def _byteswapped(data: bytes) -> bytes:
    """An uncompressed little-endian MAT-5 file of one cell of one struct of doubles and chars, written big-endian:
    every tag word and value swapped to its element's width."""
    out = bytearray(data[:124]) + struct.pack(">H", 0x0100) + b"MI"

    def walk(pos: int, end: int) -> None:
        while pos < end:
            word, nbytes = struct.unpack_from("<II", data, pos)
            if word >> 16:  # small element
                dtype, n = word & 0xFFFF, word >> 16
                out[pos:pos + 4] = struct.pack(">HH", n, dtype)
                swap(dtype, pos + 4, n)
                pos += 8
                continue
            out[pos:pos + 8] = struct.pack(">II", word, nbytes)
            if word == 14:
                walk_matrix(pos + 8, pos + 8 + nbytes)
            else:
                swap(word, pos + 8, nbytes)
            pos = (pos + 8 + nbytes + 7) & ~7

    def walk_matrix(pos: int, end: int) -> None:
        walk(pos, end)

    def swap(dtype: int, at: int, n: int) -> None:
        width = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4}[dtype]
        chunk = data[at:at + n]
        out[at:at + n] = b"".join(chunk[i:i + width][::-1] for i in range(0, n, width))

    out += data[128:]
    walk(128, len(data))
    # array flags are two uint32 words: the class byte sits in the first, swapped above with its word
    return bytes(out)


def _deflated_after(data: bytes, keep: int) -> bytes:
    """The file with its compressed stream cut short: only what inflates to the first ``keep`` bytes survives."""
    (size,) = struct.unpack("<I", data[132:136])
    inner = zlib.decompress(data[136:136 + size])
    packer = zlib.compressobj()
    cut = packer.compress(inner[:keep]) + packer.flush(zlib.Z_SYNC_FLUSH)  # a stream that stops, no checksum
    return data[:128] + struct.pack("<II", 15, len(cut)) + cut


def test_first_only_reads_results_1_without_the_rest(shared_dir: Path, tmp_path: Path) -> None:
    """A TRE file whose stream ends just after results{1}: run 1 is read (OPE needs nothing more), the full read
    refuses the file, and a stream cut inside results{1} is refused either way."""
    src = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100" / \
        "Couple_siamfc3s.mat"
    data = src.read_bytes()
    full = read_otb_mat(src)
    assert len(full) == 20
    (size,) = struct.unpack("<I", data[132:136])
    inner = zlib.decompress(data[136:136 + size])
    first_end = _first_element_end(inner)
    cut = tmp_path / "Couple_siamfc3s.mat"
    cut.write_bytes(_deflated_after(data, first_end + 64))
    (run,) = read_otb_mat(cut, first_only=True)
    np.testing.assert_array_equal(run.boxes, full[0].boxes)
    assert run.start_frame == full[0].start_frame
    with pytest.raises(Suspicious, match="truncated|runs past"):
        read_variable(cut.read_bytes(), "results")
    cut.write_bytes(_deflated_after(data, first_end - 200))
    with pytest.raises(Suspicious):
        read_variable(cut.read_bytes(), "results", first_only=True)


def _first_element_end(inner: bytes) -> int:
    """Where results{1} ends in the inflated matrix: after the top tag, flags, dims and name, one element."""
    pos = 8
    for _ in range(3):  # flags, dims, name
        word, nbytes = struct.unpack_from("<II", inner, pos)
        pos += 8 if word >> 16 else (8 + nbytes + 7) & ~7
    _, nbytes = struct.unpack_from("<II", inner, pos)
    return pos + 8 + nbytes


def test_ope_reads_run_1_and_tre_every_run(shared_dir: Path, tmp_path: Path) -> None:
    """Scoring OPE reads results{1} of each file, TRE all 20, each cached under its own entry."""
    src = shared_dir / "data" / "results" / "otb100_cfnet_release" / "results_SiamFC-3s_OTB-100"
    folder = tmp_path / "mats"
    folder.mkdir()
    for seq in ("Couple", "Crossing"):
        shutil.copy(src / f"{seq}_siamfc3s.mat", folder)
    for _ in range(2):  # parsed, then from the cache
        (ope,) = discover_results(folder, protocol="ope")
        (tre,) = discover_results(folder, protocol="tre")
        assert len(ope.runs_for("Couple") or []) == 1 and len(tre.runs_for("Couple") or []) == 20
        np.testing.assert_array_equal(ope.runs_for("Couple")[0].boxes, tre.runs_for("Couple")[0].boxes)


def test_what_the_reader_refuses_scipy_reads_in_a_child(tmp_path: Path) -> None:
    """A sparse matrix in a result struct is not a class the reader knows: scipy, in a child process, reads it."""
    import scipy.sparse

    path = tmp_path / "Couple_T.mat"
    rec = {"res": np.ones((3, 4)), "type": "rect", "extra": scipy.sparse.csc_matrix(np.eye(2))}
    scipy.io.savemat(path, {"results": np.array([rec], dtype=object)})
    with pytest.raises(Suspicious, match="class 5"):
        read_variable(path.read_bytes(), "results")
    value = load_results_variable(path)
    runs = read_otb_mat(path)
    assert isinstance(value, dict) and len(runs) == 1
    np.testing.assert_array_equal(runs[0].boxes, np.ones((3, 4)))


@pytest.mark.parametrize("blob", [
    b"MATLAB 5.0".ljust(124, b" ") + struct.pack("<H", 0x0100) + b"IM" + struct.pack("<II", 14, 1 << 31),
    b"MATLAB 5.0".ljust(124, b" ") + struct.pack("<H", 0x0100) + b"IM" + struct.pack("<II", 15, 8) + b"\0" * 8,
    b"MATLAB 5.0".ljust(124, b" ") + struct.pack("<H", 0x0200) + b"IM",
    b"short",
])
def test_hostile_headers_are_suspicious(blob: bytes) -> None:
    with pytest.raises(Suspicious):
        read_variable(blob, "results")


def _matrix(cls: int, dims: tuple[int, int], payload: bytes, name: bytes = b"") -> bytes:
    """A miMATRIX element: flags, dimensions, name (padded), then ``payload``."""
    padded_name = name + b"\0" * (-len(name) % 8)
    body = (struct.pack("<IIII", 6, 8, cls, 0) + struct.pack("<IIii", 5, 8, *dims)
            + struct.pack("<II", 1, len(name)) + padded_name + payload)
    return struct.pack("<II", 14, len(body)) + body


HEADER = b"MATLAB 5.0".ljust(124, b" ") + struct.pack("<H", 0x0100) + b"IM"


def test_nesting_and_empty_struct_bombs_are_refused() -> None:
    """A cell nested past the depth limit, and a field-less struct array declaring 2^30 elements in a few bytes."""
    deep = _matrix(6, (0, 0), b"")
    for _ in range(40):
        deep = _matrix(1, (1, 1), deep)
    with pytest.raises(Suspicious, match="nested"):
        read_variable(HEADER + _matrix(1, (1, 1), deep, b"results"), "results")
    no_fields = struct.pack("<HHi", 5, 4, 1) + struct.pack("<II", 1, 0)  # field-name length 1, no names
    with pytest.raises(Suspicious, match="without fields"):
        read_variable(HEADER + _matrix(2, (1, 1 << 30), no_fields, b"results"), "results")


def test_a_hand_built_file_reads_as_scipy_reads_it() -> None:
    """The builder above makes files scipy reads: a cell of one double matrix, uncompressed and compressed."""
    doubles = struct.pack("<II", 9, 32) + np.arange(4.0).tobytes()
    element = _matrix(1, (1, 1), _matrix(6, (2, 2), doubles), b"results")
    for data in (HEADER + element, HEADER + struct.pack("<II", 15, len(z := zlib.compress(element))) + z):
        found, ours = read_variable(data, "results")
        assert found
        _same(ours, _loadmat(data), "results")
