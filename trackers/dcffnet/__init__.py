"""DCFFNet (Ma et al.): staged depthwise correlation and feature fusion; network, tracker, two-stage training.

    from trackers.dcffnet import DCFFNet, DCFFNetTracker, VARIANTS
"""

from trackers.dcffnet.network import VARIANTS, DCFFNet, variant

__all__ = ["VARIANTS", "DCFFNet", "variant"]
