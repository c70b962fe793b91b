"""Tracker implementations behind evalkit's adapter interface (SiamFC, FDSiamFC, CFNet, DCFNet, DCFFNet, classic
OpenCV trackers). The adapter interface and the trackers arrive with their own issues; scoring needs none of them."""
