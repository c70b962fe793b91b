"""Reading untrusted MATLAB result files: evalkit's own MAT-5 reader, safe on any bytes and able to stop early.

scipy's MAT-5 reader trusts the sizes a file declares: one changed byte in a result file can make it read past its
buffers and die with a segmentation fault, taking every other tracker's scores with it. So evalkit reads the files
itself, in Python and numpy: the 128-byte header, every element's declared size checked against its parent's, every
value read by ``numpy.frombuffer`` from bytes that are there, nesting bounded. What it reads is the classes the OTB
toolkit's result files hold (cell, struct, char, every numeric class, logical; a function handle, as DSST's UAV
results keep, is walked and skipped). A file it cannot vouch for (another class, a size that does not fit, a stream
that does not inflate) is handed to scipy in a child process, so a crash costs that file only and is reported with
its name, and a file scipy does read there is still read.

It is also what makes a cold ``evalkit score`` fast: no scipy import, and ``first_only`` reads only the first
element of the variable (``results{1}``, the OPE run of a TRE file's 20), inflating only the bytes before that
element's end. Such a partial read cannot verify the zlib checksum of the bytes it never inflates; every byte it does
read is still bounds-checked. A full read inflates the whole stream and requires it to end exactly, checksum and all.

The values come as ``scipy.io.loadmat(squeeze_me=True, struct_as_record=False)`` would give them, in plain types:
numeric arrays squeezed (a 1x1 is a 0-d array), a char row a ``str``, a struct a ``dict`` (a struct array a list of
them), a cell a ``list`` in MATLAB's element order, a function handle ``None``.

    >>> results = load_results_variable(Path("Couple_siamfc3s.mat"), first_only=True)   # doctest: +SKIP
    >>> results[0]["res"].shape                                                          # doctest: +SKIP
    (140, 4)
"""

from __future__ import annotations

import math
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import InputFileError

HEADER_BYTES = 128
VARIABLE = "results"  # the OTB toolkit's main_running.m saves its runs under this name
# MAT-5 data types (MATLAB's "MAT-File Format", table 1-1): numpy codes of the numeric ones, the text encodings
_DATA_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_TEXT_TYPES = {16: "utf-8", 17: "utf-16", 18: "utf-32"}
_TYPE_SIZES = {**{k: int(v[1]) for k, v in _DATA_TYPES.items()}, 16: 1, 17: 2, 18: 4}
MI_INT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED = 1, 5, 6, 14, 15
# array classes: cell, struct, char, function handle; the numeric classes and their numpy types
MX_CELL, MX_STRUCT, MX_CHAR, MX_FUNCTION = 1, 2, 4, 16
_CLASS_TYPES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
FLAG_COMPLEX, FLAG_LOGICAL = 0x800, 0x200
MAX_INFLATED = 1 << 30  # a result file inflates to a few MB; more is a decompression bomb, not results
MAX_DEPTH = 32  # cells in structs in cells ...: the toolkit's files nest 3 deep
MAX_EMPTY_ELEMENTS = 1 << 20  # elements of a field-less struct array (they take no bytes, but memory)
FIRST_READ = 512  # bytes inflated first for a partial read: the headers before results{1}; more on demand
CHILD_TIMEOUT_S = 120

# the child's program: scipy only (no evalkit import, so it starts fast); the variable in the plain types described
# in the module doc, pickled, on stdout
_CHILD = """
import pickle, sys
import numpy as np
import scipy.io
from scipy.io.matlab import mat_struct

def plain(v):
    if isinstance(v, mat_struct):
        return {k: plain(getattr(v, k)) for k in v._fieldnames}
    if isinstance(v, np.ndarray) and v.dtype == object:
        items = [plain(x) for x in v.ravel(order="F")]
        return items if not all(isinstance(x, dict) for x in items) or len(items) != 1 else items[0]
    if isinstance(v, np.ndarray) and v.dtype.kind == "U" and v.ndim == 0:
        return str(v)
    return v if isinstance(v, (str, np.ndarray)) else np.asarray(v)

try:
    mat = scipy.io.loadmat(sys.argv[1], squeeze_me=True, struct_as_record=False, variable_names=["results"])
    out = ("ok", plain(mat["results"]), True) if "results" in mat else ("ok", None, False)
except Exception as exc:
    out = ("error", f"{type(exc).__name__}: {exc}", False)
sys.stdout.buffer.write(pickle.dumps(out))
"""


class Suspicious(Exception):
    """The file is not one the in-process reader can vouch for (the message says why)."""


def load_results_variable(path: Path, first_only: bool = False) -> Any:
    """The ``results`` variable of a MAT-5 file (``first_only``: a list of its first element only); every failure, a
    crash of a parser included, is an :class:`InputFileError` naming the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        found, value = read_variable(data, VARIABLE, first_only)
    except Suspicious as why:
        value = _load_in_child(Path(path), str(why))
        return value[:1] if first_only and isinstance(value, list) else value
    if not found:
        raise InputFileError(path, None, "no variable 'results' (expected the OTB toolkit's result struct)")
    return value


def _load_in_child(path: Path, why: str) -> Any:
    """Parse ``path`` with scipy in a child process: its crash or hang is this file's problem only."""
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
    """Raise :class:`Suspicious` unless the in-process reader reads all of ``data`` (every variable's name, the
    ``results`` variable whole)."""
    read_variable(data, VARIABLE)


def read_variable(data: bytes, name: str, first_only: bool = False) -> tuple[bool, Any]:
    """(found, value) of variable ``name`` in a MAT-5 file's bytes; :class:`Suspicious` for anything it cannot vouch
    for. ``first_only``: a list holding the variable's first element only (of a cell or struct array)."""
    if len(data) < HEADER_BYTES:
        raise Suspicious(f"{len(data)} bytes, shorter than the 128-byte MAT-5 header")
    endian = data[126:128]
    if endian not in (b"IM", b"MI"):
        raise Suspicious("no MAT-5 endian mark at bytes 126-127")
    order = "<" if endian == b"IM" else ">"
    (version,) = struct.unpack(order + "H", data[124:126])
    if version != 0x0100:
        raise Suspicious(f"MAT-file version 0x{version:04x}, not 5")
    want = name.encode("ascii")
    pos = HEADER_BYTES
    try:
        while pos < len(data):
            if pos + 8 > len(data):
                raise Suspicious(f"an element tag at byte {pos} runs past the file's end ({len(data)})")
            dtype, nbytes = struct.unpack_from(order + "II", data, pos)
            if dtype >> 16:
                raise Suspicious(f"a top-level element at byte {pos} in the small-element form")
            body, end = pos + 8, pos + 8 + nbytes
            if end > len(data):
                raise Suspicious(f"the element at byte {pos} declares {nbytes} bytes, past its end ({len(data)})")
            if dtype == MI_COMPRESSED:
                stream = _Inflated(data[body:end], pos)
                value = _Reader(stream, order, want, first_only).variable()
                pos = end  # compressed elements are not padded
            elif dtype == MI_MATRIX:
                value = _Reader(_Plain(data[pos:end]), order, want, first_only).variable()
                pos = _padded(end)
            else:
                raise Suspicious(f"a top-level element of type {dtype} at byte {pos}")
            if value is not _OTHER:
                return True, value
    except (struct.error, ValueError, IndexError, OverflowError, UnicodeError, MemoryError, RecursionError) as exc:
        raise Suspicious(f"an element the reader cannot decode ({type(exc).__name__}: {exc})") from None
    return False, None


_OTHER = object()  # a variable of another name


def _padded(offset: int) -> int:
    return (offset + 7) & ~7


class _NeedMore(Exception):  # noqa: N818 - control flow, not an error: inflate up to ``end`` and read again
    def __init__(self, end: int) -> None:
        self.end = end


class _Plain:
    """An uncompressed element's bytes, all there."""

    def __init__(self, data: bytes) -> None:
        self.buf = data

    def want(self, end: int, pos: int) -> None:
        if end > len(self.buf):
            raise Suspicious(f"the element at byte {pos} runs past its end ({len(self.buf)})")


class _Inflated:
    """A compressed element's bytes, inflated as far as they are asked for."""

    def __init__(self, raw: bytes, at: int) -> None:
        self.inflater = zlib.decompressobj()
        self.raw, self.at = raw, at
        self.buf = b""
        self.done = False

    def want(self, end: int, pos: int) -> None:
        if end > len(self.buf):
            if self.done:
                raise Suspicious(f"an element at byte {pos} of the compressed element at byte {self.at} runs past "
                                 f"its inflated end ({len(self.buf)})")
            raise _NeedMore(end)

    def inflate(self, size: int | None = None) -> None:
        """Inflate up to ``size`` bytes in all (None: the whole stream, which must end exactly, checksum verified).
        A stream that runs out of input before its end gives what it has; asking for more then is an error."""
        limit = MAX_INFLATED if size is None else min(size, MAX_INFLATED)
        try:
            more = self.inflater.decompress(self.raw, limit - len(self.buf)) if limit > len(self.buf) else b""
        except zlib.error as exc:
            raise Suspicious(f"the compressed element at byte {self.at} does not inflate: {exc}") from None
        self.raw = self.inflater.unconsumed_tail
        self.buf += more
        if self.inflater.eof:
            self.done = True
            if self.raw or self.inflater.unused_data:
                raise Suspicious(f"the compressed element at byte {self.at} is followed by stray bytes")
        elif not self.raw:  # all input used, no end of stream: what is here is all there is
            self.done = True
            if size is None:
                raise Suspicious(f"the compressed element at byte {self.at} is truncated")
        elif len(self.buf) >= MAX_INFLATED:
            raise Suspicious(f"the compressed element at byte {self.at} inflates to more than 1 GiB")


class _Reader:
    """One top-level matrix: its name, and its value when the name is the one wanted."""

    def __init__(self, stream: _Plain | _Inflated, order: str, want: bytes, first_only: bool) -> None:
        self.stream, self.order, self.want, self.first_only = stream, order, want, first_only
        self.pair = struct.Struct(order + "II")
        self.head = struct.Struct(order + "6I2i")

    def variable(self) -> Any:
        stream = self.stream
        if isinstance(stream, _Plain):
            return self._read_top()
        stream.inflate(FIRST_READ if self.first_only else None)
        while True:
            try:
                return self._read_top()
            except _NeedMore as more:  # a partial read: inflate to what the element declares, read again
                stream.inflate(max(more.end, 2 * len(stream.buf)))

    def _read_top(self) -> Any:
        buf = self.stream.buf
        dtype, nbytes, body, _ = self._tag(0, len(buf) if isinstance(self.stream, _Plain) else 1 << 62)
        if dtype != MI_MATRIX:
            raise Suspicious(f"a compressed element holding type {dtype}, not a matrix")
        header = self._header(body, body + nbytes)
        if header["name"] != self.want:
            return _OTHER
        if isinstance(self.stream, _Inflated) and not self.first_only:
            self.stream.want(body + nbytes, 0)  # all of it inflated, as declared
        value, _ = self._body(header, body + nbytes, 0, first=self.first_only)
        return value

    # -- tags ---------------------------------------------------------------------------------------------------
    def _tag(self, pos: int, limit: int) -> tuple[int, int, int, int]:
        """(type, byte count, offset of the data, offset of the next element) of the tag at ``pos``."""
        if pos + 8 > limit:
            raise Suspicious(f"an element tag at byte {pos} runs past its end ({limit})")
        self.stream.want(pos + 8, pos)
        word, nbytes = self.pair.unpack_from(self.stream.buf, pos)
        if word >> 16:  # small data element: type and byte count share the first word, data in the second
            dtype, nbytes = word & 0xFFFF, word >> 16
            if nbytes > 4:
                raise Suspicious(f"a small element at byte {pos} declares {nbytes} bytes")
            return dtype, nbytes, pos + 4, pos + 8
        if pos + 8 + nbytes > limit:
            raise Suspicious(f"the element at byte {pos} declares {nbytes} bytes, past its end ({limit})")
        nxt = _padded(pos + 8 + nbytes)
        return word, nbytes, pos + 8, (nxt if nxt <= limit else pos + 8 + nbytes)  # a last element may end unpadded

    def _data(self, pos: int, limit: int, want: int | None = None) -> tuple[int, bytes | Any, int]:
        """(type, raw bytes, next offset) of a data sub-element; ``want``: its required type."""
        dtype, nbytes, body, nxt = self._tag(pos, limit)
        if want is not None and dtype != want:
            raise Suspicious(f"expected an element of type {want} at byte {pos}, found {dtype}")
        if dtype not in _TYPE_SIZES:
            raise Suspicious(f"an element of type {dtype} at byte {pos} where data belongs")
        if nbytes % _TYPE_SIZES[dtype]:
            raise Suspicious(f"the element at byte {pos} holds {nbytes} bytes, not a whole number of values")
        self.stream.want(body + nbytes, pos)
        return dtype, self.stream.buf[body:body + nbytes], nxt

    def _ints(self, pos: int, limit: int, want: int) -> tuple[tuple[int, ...], int]:
        _, raw, nxt = self._data(pos, limit, want)
        code = "i" if want == MI_INT32 else "I"
        return struct.unpack(f"{self.order}{len(raw) // 4}{code}", raw), nxt

    # -- matrices -----------------------------------------------------------------------------------------------
    def _header(self, body: int, end: int) -> dict[str, Any]:
        """Flags, dimensions and name of the matrix whose data starts at ``body``."""
        if body + 32 <= end:  # the usual 2-D header: flags and dimension tags in their long form, read at once
            self.stream.want(body + 32, body)
            t1, n1, flag_word, _, t2, n2, d0, d1 = self.head.unpack_from(self.stream.buf, body)
            if (t1, n1, t2, n2) == (MI_UINT32, 8, MI_INT32, 8) and d0 >= 0 and d1 >= 0:
                _, name, p = self._data(body + 32, end, MI_INT8)
                return {"cls": flag_word & 0xFF, "flags": flag_word, "dims": (d0, d1), "name": bytes(name), "at": p}
        flags, p = self._ints(body, end, MI_UINT32)
        if len(flags) != 2:
            raise Suspicious(f"array flags at byte {body} hold {4 * len(flags)} bytes, not 8")
        dims, p = self._ints(p, end, MI_INT32)
        if len(dims) < 2 or any(d < 0 for d in dims):
            raise Suspicious(f"array dimensions {dims} at byte {body}")
        _, name, p = self._data(p, end, MI_INT8)
        return {"cls": flags[0] & 0xFF, "flags": flags[0], "dims": dims, "name": bytes(name), "at": p}

    def _matrix(self, pos: int, limit: int, depth: int) -> tuple[Any, int]:
        """The value of the miMATRIX element at ``pos`` and the offset after it."""
        if depth > MAX_DEPTH:
            raise Suspicious(f"arrays nested more than {MAX_DEPTH} deep at byte {pos}")
        dtype, nbytes, body, nxt = self._tag(pos, limit)
        if dtype != MI_MATRIX:
            raise Suspicious(f"expected a matrix at byte {pos}, found an element of type {dtype}")
        if nbytes == 0:  # an empty matrix (an empty cell element)
            return np.array([]), nxt
        value, _ = self._body(self._header(body, body + nbytes), body + nbytes, depth)
        return value, nxt

    def _body(self, h: dict[str, Any], end: int, depth: int, first: bool = False) -> tuple[Any, int]:
        """The value of a matrix from its header on; ``first``: a list of its first element only (read no further)."""
        cls, dims, p = h["cls"], h["dims"], h["at"]
        count = math.prod(dims)
        n = min(count, 1) if first else count
        value: Any
        if cls in _CLASS_TYPES or cls == MX_CHAR:
            value, p = self._array(h, count, p, end)
            value = [value] if first else value
        elif cls == MX_CELL:
            value = []
            for _ in range(n):
                item, p = self._matrix(p, end, depth + 1)
                value.append(item)
        elif cls == MX_STRUCT:
            (name_len,), p = self._ints(p, end, MI_INT32)
            _, names, p = self._data(p, end, MI_INT8)
            if name_len <= 0 or len(names) % name_len:
                raise Suspicious(f"struct field names of {len(names)} bytes in names of {name_len}")
            fields = [bytes(names[i:i + name_len]).split(b"\0", 1)[0].decode("ascii", "replace")
                      for i in range(0, len(names), name_len)]
            if not fields and count > MAX_EMPTY_ELEMENTS:
                raise Suspicious(f"a struct array of {count} elements without fields")
            value = []
            for _ in range(n):
                record = {}
                for field in fields:
                    record[field], p = self._matrix(p, end, depth + 1)
                value.append(record)
            if count == 1 and not first:
                value = value[0]
        elif cls == MX_FUNCTION:  # a function handle (DSST's UAV results keep one): walked, not kept
            while _padded(p) < end:
                _, p = self._matrix(p, end, depth + 1)
            value = [None] if first else None
        else:
            raise Suspicious(f"an array of class {cls} (not cell, struct, char, numeric or function handle)")
        if not first and p < end and _padded(p) < end:
            raise Suspicious(f"{end - p} stray bytes inside an array before byte {end}")
        return value, p

    def _array(self, h: dict[str, Any], count: int, p: int, end: int) -> tuple[Any, int]:
        """A numeric, logical or char array, shaped and squeezed as scipy's loadmat(squeeze_me=True) gives it."""
        parts = []
        for _ in range(2 if h["flags"] & FLAG_COMPLEX else 1):
            dtype, raw, p = self._data(p, end)
            if len(raw) != count * _TYPE_SIZES[dtype]:
                raise Suspicious(f"a {h['dims']} array's data holds {len(raw)} bytes, not {count} values")
            parts.append((dtype, raw))
        dims = h["dims"]
        if h["cls"] == MX_CHAR:
            return _text(parts[0], dims, self.order), p
        values = [np.frombuffer(raw, self.order + _DATA_TYPES[dt]) if dt in _DATA_TYPES else None
                  for dt, raw in parts]
        if any(v is None for v in values):
            raise Suspicious("numbers stored as text")
        if count == 0:  # any empty array, as loadmat squeezes it
            return np.array([]), p
        arr = values[0].astype("?" if h["flags"] & FLAG_LOGICAL else _CLASS_TYPES[h["cls"]])
        if len(values) == 2:
            arr = arr + 1j * values[1]
        return np.squeeze(arr.reshape(dims, order="F")), p


def _text(part: tuple[int, Any], dims: tuple[int, ...], order: str) -> Any:
    """A char array: a row (or empty) as ``str``, more rows as an array of row strings."""
    dtype, raw = part
    if dtype in _TEXT_TYPES:
        encoding = _TEXT_TYPES[dtype] if dtype == 16 else _TEXT_TYPES[dtype] + ("-le" if order == "<" else "-be")
        chars = bytes(raw).decode(encoding, "replace")
    elif dtype in _DATA_TYPES and _DATA_TYPES[dtype][0] == "u":
        chars = "".join(map(chr, np.frombuffer(raw, order + _DATA_TYPES[dtype]).tolist()))
    else:
        raise Suspicious(f"text stored as data type {dtype}")
    rows = dims[0] if len(dims) == 2 else -1
    if rows <= 1 or len(chars) == 0:
        return chars
    if len(chars) % rows:
        raise Suspicious(f"a char array of {dims} holding {len(chars)} characters")
    return np.array(["".join(chars[r::rows]) for r in range(rows)])
