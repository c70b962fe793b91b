"""Frame decoding for the harness: OpenCV decodes JPEGs in a background thread while the tracker works.

    with PrefetchingReader(seq.frames, order=range(10, 100)) as frames:
        for index, image in frames:          # image: RGB uint8 H x W x 3
            ...

A frame that is missing or cannot be decoded raises ``FrameError`` naming the file, at the frame where the
tracker would have needed it (earlier frames were processed normally).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from evalkit.errors import EvalkitError, MissingExtraError

try:
    import cv2
except ImportError:  # the core install scores without OpenCV; running trackers needs it
    raise MissingExtraError("running trackers needs OpenCV and torch, which the core install leaves out: "
                            "pip install 'evalkit[trackers]'") from None

cv2.setNumThreads(1)  # one decoding thread per reader; parallelism comes from the harness' worker processes


class FrameError(EvalkitError):
    """A frame file is missing or not a decodable image."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {problem}")


def read_frame(path: Path) -> NDArray[np.uint8]:
    """Decode one frame as RGB uint8 (grayscale files are expanded to three channels)."""
    path = Path(path)
    if not path.is_file():
        raise FrameError(path, "frame file is missing")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameError(path, f"cannot read: {exc.strerror}") from None
    problem = truncation(data)
    if problem:
        raise FrameError(path, f"truncated image ({problem})")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FrameError(path, "not a decodable image (corrupt or truncated)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def truncation(data: bytes) -> str | None:
    """Why an image file's bytes are cut short, or None. libjpeg decodes a truncated JPEG with only a "Premature end
    of JPEG file" warning on stderr (the missing rows grey), so the run would count as ok: a JPEG whose scan began
    (an SOS marker) must end with its EOI marker (trailing padding allowed), a PNG with its IEND chunk."""
    if data[:2] == b"\xff\xd8":
        if b"\xff\xda" in data and b"\xff\xd9" not in data[-4096:]:
            return "no JPEG end marker: the file is cut short"
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        return "no PNG IEND chunk: the file is cut short"
    return None


_END = object()


class PrefetchingReader:
    """Iterate (index, RGB frame) over ``order`` while a background thread decodes up to ``depth`` frames ahead."""

    def __init__(self, paths: Sequence[Path], order: Iterable[int] | None = None, depth: int = 8) -> None:
        self.paths = paths
        self.order = list(range(len(paths)) if order is None else order)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True)

    def _work(self) -> None:
        for i in self.order:
            if self._stop.is_set():
                return
            try:
                item: object = (i, read_frame(self.paths[i]))
            except FrameError as exc:
                item = exc
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, FrameError):
                return
        self._queue.put(_END)

    def __enter__(self) -> PrefetchingReader:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[tuple[int, NDArray[np.uint8]]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, FrameError):
                raise item
            yield item  # type: ignore[misc]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)
