"""CFNet (Valmadre et al., CVPR 2017): a correlation filter as a differentiable layer in a Siamese network.

    EVALKIT_WEIGHTS=../shared/weights evalkit run --trackers cfnet-conv1,cfnet,baseline-cf-conv3 --suite otb100 ...
    evalkit run --trackers cfnet-conv2-gray ...                      # the authors' grey-input network
    evalkit train --tracker cfnet-conv5 --data demo --out runs/c5 --max-minutes 5      # trainable-only variants
    evalkit run --trackers cfnet-conv5 --param cfnet-conv5.weights=runs/c5/final.pth --suite demo

Modules: ``network`` (branches of depth 1/2/3/5, CF or cross-correlation join), ``matconvnet`` (the authors'
MatConvNet DagNN files read as data into those networks), ``tracker`` (CFNet-conv1/conv2, Baseline+CF-conv3 and
their grey versions with the authors' networks and settings; CFNet-conv5 and Baseline-conv5, trainable only),
``training`` (the logistic-loss training tasks). The release's rounding, resizing and crops are
``trackers.common.matlab_ops`` (shared with SiamFC).
"""
