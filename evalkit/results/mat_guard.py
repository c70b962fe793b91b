"""Reading untrusted MATLAB files without letting a corrupt one kill the process.

scipy's MAT-5 reader trusts the sizes a file declares: one changed byte in a result file can make it read past its
buffers and die with a segmentation fault, taking every other tracker's scores with it. So a file is first checked
here, in Python: the 128-byte header, every top-level element's declared size against the file's, every compressed
element inflated completely (its checksum verified: scipy stops inflating when it has what it wants, so it never
sees a corrupt stream's bad checksum) and the matrix inside walked element by element, each declared size checked
against its parent's. A file that passes holds nothing scipy has not been tested on and is parsed in this process
(the 600 files of an OTB-100 scoring cost no process start); one that does not is parsed in a child process, so a
crash costs that file only and is reported with its name, and a file scipy does read there is still read.

    >>> results = load_results_variable(Path("Couple_siamfc3s.mat"))   # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import scipy.io

from evalkit.errors import InputFileError

HEADER_BYTES = 128
# MAT-5 data types (MATLAB's "MAT-File Format", table 1-1) and their element sizes
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4}
MI_INT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED = 1, 5, 6, 14, 15
# array classes the OTB toolkit's result files use: cell, struct, char, the numeric classes
MX_CELL, MX_STRUCT, MX_CHAR, MX_FUNCTION = 1, 2, 4, 16
_NUMERIC_CLASSES = {4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
MAX_INFLATED = 1 << 30  # a result file inflates to a few MB; more is a decompression bomb, not results
CHILD_TIMEOUT_S = 120

# the child's program: scipy only (no evalkit import, so it starts fast); the variable, pickled, on stdout
_CHILD = """
import pickle, sys
import scipy.io
try:
    mat = scipy.io.loadmat(sys.argv[1], squeeze_me=True, struct_as_record=False, variable_names=["results"])
    out = ("ok", mat.get("results"), "results" in mat)
except Exception as exc:
    out = ("error", f"{type(exc).__name__}: {exc}", False)
sys.stdout.buffer.write(pickle.dumps(out))
"""


class Suspicious(Exception):
    """The file is not one the in-process check can vouch for (the message says why)."""


def load_results_variable(path: Path) -> object:
    """The ``results`` variable of a MAT-5 file as ``scipy.io.loadmat(squeeze_me=True, struct_as_record=False)``
    gives it; every failure, a crash of the parser included, is an :class:`InputFileError` naming the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        check_mat5(data)
    except Suspicious as why:
        return _load_in_child(Path(path), str(why))
    try:
        mat = _loadmat(io.BytesIO(data))
    except Exception as exc:  # scipy raises several types for files it refuses
        raise InputFileError(path, None, f"not a readable MATLAB file: {exc}") from None
    if "results" not in mat:
        raise InputFileError(path, None, "no variable 'results' (expected the OTB toolkit's result struct)")
    return mat["results"]


def _loadmat(source: object) -> dict[str, object]:
    out: dict[str, object] = scipy.io.loadmat(source, squeeze_me=True, struct_as_record=False,
                                              variable_names=["results"])
    return out


def _load_in_child(path: Path, why: str) -> object:
    """Parse ``path`` in a child process: its crash or hang is this file's problem only."""
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                              timeout=CHILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise InputFileError(path, None, f"corrupt MATLAB file ({why}); the parser did not finish in "
                                         f"{CHILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}"
        raise InputFileError(path, None, f"corrupt MATLAB file ({why}); scipy's parser crashed on it ({how})")
    try:
        status, value, found = pickle.loads(done.stdout)  # our own child's output, not the file's bytes
    except Exception:
        raise InputFileError(path, None, f"corrupt MATLAB file ({why}); the parser gave no result") from None
    if status != "ok":
        raise InputFileError(path, None, f"not a readable MATLAB file: {value}")
    if not found:
        raise InputFileError(path, None, "no variable 'results' (expected the OTB toolkit's result struct)")
    return value


def check_mat5(data: bytes) -> None:
    """Raise :class:`Suspicious` unless ``data`` is a MAT-5 file whose every declared size fits (see module doc)."""
    if len(data) < HEADER_BYTES:
        raise Suspicious(f"{len(data)} bytes, shorter than the 128-byte MAT-5 header")
    endian = data[126:128]
    if endian not in (b"IM", b"MI"):
        raise Suspicious("no MAT-5 endian mark at bytes 126-127")
    order = "<" if endian == b"IM" else ">"
    (version,) = struct.unpack(order + "H", data[124:126])
    if version != 0x0100:
        raise Suspicious(f"MAT-file version 0x{version:04x}, not 5")
    pos = HEADER_BYTES
    while pos < len(data):
        dtype, nbytes, body, small = _tag(data, pos, len(data), order)
        if small:
            raise Suspicious(f"a top-level element at byte {pos} in the small-element form")
        end = body + nbytes
        if dtype == MI_COMPRESSED:
            inflated = _inflate(data[body:end], pos)
            _check_matrix(inflated, 0, len(inflated), order, top=True)
            pos = end  # compressed elements are not padded
        elif dtype == MI_MATRIX:
            _check_matrix(data, pos, len(data), order, top=True)
            pos = _padded(end)
        else:
            raise Suspicious(f"a top-level element of type {dtype} at byte {pos}")


def _inflate(raw: bytes, pos: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_INFLATED)
    except zlib.error as exc:
        raise Suspicious(f"the compressed element at byte {pos} does not inflate: {exc}") from None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise Suspicious(f"the compressed element at byte {pos} is truncated, too large or followed by stray bytes")
    return out


def _padded(offset: int) -> int:
    return (offset + 7) & ~7


_PAIRS = {"<": struct.Struct("<II"), ">": struct.Struct(">II")}  # a tag's two words, unpacked in place (no slices)


def _tag(data: bytes, pos: int, limit: int, order: str) -> tuple[int, int, int, bool]:
    """(type, byte count, offset of the data, small form) of the element tag at ``pos``, its data inside ``limit``."""
    if pos + 8 > limit:
        raise Suspicious(f"an element tag at byte {pos} runs past its end ({limit})")
    word, nbytes = _PAIRS[order].unpack_from(data, pos)
    if word >> 16:  # small data element: type and byte count share the first word, data in the second
        dtype, nbytes = word & 0xFFFF, word >> 16
        if nbytes > 4:
            raise Suspicious(f"a small element at byte {pos} declares {nbytes} bytes")
        return dtype, nbytes, pos + 4, True
    if pos + 8 + nbytes > limit:
        raise Suspicious(f"the element at byte {pos} declares {nbytes} bytes, past its end ({limit})")
    return word, nbytes, pos + 8, False


def _sub(data: bytes, pos: int, limit: int, order: str, want: int | None = None) -> tuple[int, int, int, int]:
    """(type, byte count, data offset, next element's offset) of a sub-element; ``want``: its required type."""
    dtype, nbytes, body, small = _tag(data, pos, limit, order)
    if dtype not in _TYPE_SIZES and dtype != MI_MATRIX:
        raise Suspicious(f"an element of unknown type {dtype} at byte {pos}")
    if want is not None and dtype != want:
        raise Suspicious(f"expected an element of type {want} at byte {pos}, found {dtype}")
    if dtype in _TYPE_SIZES and nbytes % _TYPE_SIZES[dtype]:
        raise Suspicious(f"the element at byte {pos} holds {nbytes} bytes, not a whole number of values")
    nxt = pos + 8 if small else _padded(body + nbytes)
    if nxt > limit and not small:
        nxt = body + nbytes  # the last element of a compressed stream may end unpadded
    return dtype, nbytes, body, nxt


def _check_matrix(data: bytes, pos: int, limit: int, order: str, top: bool = False) -> int:
    """Walk the miMATRIX element at ``pos``; returns the offset after it. Only the classes result files hold."""
    dtype, nbytes, body, nxt = _sub(data, pos, limit, order, MI_MATRIX)
    end = body + nbytes
    if nbytes == 0:  # an empty matrix (an empty cell element)
        return nxt
    _, flag_bytes, flags_at, p = _sub(data, body, end, order, MI_UINT32)
    if flag_bytes != 8:
        raise Suspicious(f"array flags at byte {body} hold {flag_bytes} bytes, not 8")
    flags = _PAIRS[order].unpack_from(data, flags_at)[0]
    cls, complex_ = flags & 0xFF, bool(flags & 0x800)
    _, dim_bytes, dims_at, p = _sub(data, p, end, order, MI_INT32)
    dims = struct.unpack(f"{order}{dim_bytes // 4}i", data[dims_at:dims_at + dim_bytes])
    if len(dims) < 2 or any(d < 0 for d in dims):
        raise Suspicious(f"array dimensions {dims} at byte {dims_at}")
    count = math.prod(dims)
    _, _, _, p = _sub(data, p, end, order, MI_INT8)  # the array's name
    if cls in _NUMERIC_CLASSES:
        for _ in range(2 if complex_ else 1):
            part, part_bytes, part_at, p = _sub(data, p, end, order)
            if part == MI_MATRIX or part_bytes != count * _TYPE_SIZES[part]:
                raise Suspicious(f"a {dims} array's data at byte {part_at} holds {part_bytes} bytes")
    elif cls == MX_CELL:
        for _ in range(count):
            p = _check_matrix(data, p, end, order)
    elif cls == MX_STRUCT:
        _, len_bytes, len_at, p = _sub(data, p, end, order, MI_INT32)
        if len_bytes != 4:
            raise Suspicious(f"a struct's field-name length at byte {len_at} holds {len_bytes} bytes")
        (name_len,) = struct.unpack(order + "i", data[len_at:len_at + 4])
        _, names_bytes, _, p = _sub(data, p, end, order, MI_INT8)
        if name_len <= 0 or names_bytes % name_len:
            raise Suspicious(f"struct field names of {names_bytes} bytes in names of {name_len}")
        for _ in range(count * (names_bytes // name_len)):
            p = _check_matrix(data, p, end, order)
    elif cls == MX_FUNCTION:  # a function handle (DSST's UAV results keep one): the matrices it holds
        while _padded(p) < end:
            p = _check_matrix(data, p, end, order)
    else:
        raise Suspicious(f"an array of class {cls} (not cell, struct, char, numeric or function handle)")
    if p < end and _padded(p) < end:
        raise Suspicious(f"{end - p} stray bytes inside the array at byte {pos}")
    return nxt
