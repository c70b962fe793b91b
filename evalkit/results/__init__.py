"""Tracking results in the layouts researchers already have, read into one model that scoring reads.

    >>> sets = discover_results(Path("../shared/data/results/uav20l_dcf"))   # doctest: +SKIP
    >>> [s.tracker for s in sets]                                           # doctest: +SKIP
    ['DSST', 'ECO_HC', 'KCF', 'SRDCF', 'Staple']

- :mod:`evalkit.results.model`: :class:`Run`, :class:`VotRun`, :class:`VotCode`, :class:`ResultSet`.
- :mod:`evalkit.results.otb_mat`: OTB MATLAB toolkit ``<seq>_<tracker>.mat`` files (OPE and TRE runs).
- :mod:`evalkit.results.text`: ``<tracker>/<seq>.txt`` box files (got10k, pysot).
- :mod:`evalkit.results.vot`: the VOT supervised ``<tracker>/baseline/<seq>/<seq>_NNN.txt`` layout.
- :mod:`evalkit.results.got10k`: got10k's GOT-10k ``<tracker>/<seq>/<seq>_NNN.txt`` repetitions and their times.
- evalkit's own store folders are read by :func:`evalkit.store.read_store_set` (re-exported here).
- :mod:`evalkit.results.discovery`: which reader for which folder (:func:`discover_results`).
- :mod:`evalkit.results.loading`: the sets a command works on, variants named (:func:`load_result_sets`).
- :mod:`evalkit.results.speed`: frames per second from stored per-frame times (:func:`tracker_speed`).
"""

from evalkit.geometry.region import VotCode
from evalkit.results.discovery import DuplicateTrackerError, default_renames, discover_results, store_folders
from evalkit.results.got10k import read_got10k_set
from evalkit.results.loading import load_result_sets, variant_label
from evalkit.results.model import ResultSet, Run, VotRun
from evalkit.results.otb_mat import (
    ivt_affine_to_xywh,
    known_sequence_names,
    read_mat_folder,
    read_otb_mat,
    split_mat_name,
)
from evalkit.results.speed import Speed, tracker_speed
from evalkit.results.text import read_text_set
from evalkit.results.vot import VOT_EXPERIMENT, parse_vot_lines, read_vot_run, read_vot_set
from evalkit.store.reader import read_store_set, store_protocol

__all__ = [
    "VOT_EXPERIMENT", "DuplicateTrackerError", "ResultSet", "Run", "Speed", "VotCode", "VotRun", "default_renames",
    "discover_results", "ivt_affine_to_xywh", "known_sequence_names", "load_result_sets", "parse_vot_lines",
    "read_got10k_set", "read_mat_folder", "read_otb_mat", "read_store_set", "read_text_set", "read_vot_run",
    "read_vot_set", "split_mat_name", "store_folders", "store_protocol", "tracker_speed", "variant_label",
]
