"""CFNet (Valmadre et al., CVPR 2017): a correlation filter as a differentiable layer in a Siamese network.

    evalkit train --tracker cfnet-conv2 --data demo --out runs/c2 --max-minutes 5
    evalkit run --trackers cfnet-conv2 --param cfnet-conv2.weights=runs/c2/final.pth --suite demo

Modules: ``network`` (branches of depth 1/2/3/5, CF or cross-correlation join), ``tracker`` (CFNet-conv1/conv2/conv5,
Baseline-conv5, Baseline+CF-conv3 with their release parameters), ``training`` (the logistic-loss training tasks).
"""
