"""SiamFC (Bertinetto et al., ECCV-W 2016): network, tracker and training task.

    from trackers.siamfc import SiamFC, SiamNet, alexnet_layers
"""

from trackers.siamfc.network import ConvLayer, SiamNet, alexnet8_layers, alexnet_layers, scaled_width
from trackers.siamfc.tracker import SiamFC, SiamFCFamily, SiamFCParams

__all__ = ["ConvLayer", "SiamFC", "SiamFCFamily", "SiamFCParams", "SiamNet", "alexnet8_layers", "alexnet_layers",
           "scaled_width"]
