"""evalkit's result store: run metadata (``run.json`` as :class:`RunMeta`), the writer and the reader.

    >>> store = ResultStore(Path("results"))                                        # doctest: +SKIP
    >>> folder = store.tracker_folder("otb100", "ope", "kcf", fingerprint("kcf", {}, None))  # doctest: +SKIP
    >>> rs = read_store_set(folder)                                                 # doctest: +SKIP

- :mod:`evalkit.store.meta`: :class:`RunMeta` (``run.json``) and :class:`RunRecord` (``<label>.json``), the one
  place their keys are spelled.
- :mod:`evalkit.store.writer`: :class:`ResultStore` (layout, atomic writes, resume), :func:`fingerprint`.
- :mod:`evalkit.store.reader`: :func:`read_store_set`, :func:`store_protocol`, :func:`read_run_meta`.
"""

from evalkit.store.meta import RUN_META_FILE, RunMeta, RunRecord
from evalkit.store.reader import (
    is_store_folder,
    read_run_meta,
    read_store_set,
    store_params,
    store_protocol,
    stored_run_meta,
)
from evalkit.store.writer import (
    RESULT_FORMAT_VERSION,
    ResultStore,
    fingerprint,
    format_boxes,
    git_commit,
    safe_name,
)

__all__ = [
    "RESULT_FORMAT_VERSION", "RUN_META_FILE", "ResultStore", "RunMeta", "RunRecord", "fingerprint", "format_boxes",
    "git_commit", "is_store_folder", "read_run_meta", "read_store_set", "safe_name", "store_params",
    "store_protocol", "stored_run_meta",
]
