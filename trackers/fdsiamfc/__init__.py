"""FDSiamFC (Feature Distilling compression of SiamFC): released trackers, the FD module and its folding.

    from trackers.fdsiamfc import FDSiamFC30, FDSiamFC15, FDSiamd        # trackers with the released weights
    from trackers.fdsiamfc.distill import DistillNet, fold               # the FD module, trained then folded
"""

from trackers.fdsiamfc.tracker import FDSiamd, FDSiamFC15, FDSiamFC30

__all__ = ["FDSiamFC15", "FDSiamFC30", "FDSiamd"]
