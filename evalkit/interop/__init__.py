"""Interoperability with other toolkits' runners: evalkit trackers under the official VOT toolkit (``vot_toolkit``,
``vot_trax``). (Wrapping got10k, pysot and pytracking trackers for evalkit lives in :mod:`trackers.interop`.)"""
