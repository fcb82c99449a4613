"""Gradients of RNNs: BPTT with temporal contributions, Jacobian products, clipping, the eq. (8) surface."""
