"""DCFNet (Wang et al. 2017): learnt features for a discriminative correlation filter, with the released weights.

    evalkit run --trackers dcfnet --suite otb100 --data-root DATA       # weights: EVALKIT_WEIGHTS or the cache
    evalkit train --tracker dcfnet --data got10k:/data/GOT-10k --out runs/dcfnet

Modules: ``network`` (feature networks of the paper's Table 1, loaders for param.pth and the MatConvNet .mat files),
``tracker`` (DCFNet, its Table 2 variants, and ``dcf-pixels``, the same layer on grey pixels), ``training`` (the
response-regression training task).
"""
