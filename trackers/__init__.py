"""Tracker implementations of evalkit's tracker contract (:mod:`evalkit.tracker`): SiamFC, FDSiamFC, CFNet, DCFNet,
DCFFNet and the classic OpenCV trackers. They need the ``trackers`` extra (``pip install 'evalkit[trackers]'``: torch,
OpenCV); evalkit reaches them only through its registry, so scoring needs none of them."""
