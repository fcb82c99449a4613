"""Naive reference for gradient clipping: plain NumPy, obvious code, nothing from dynrnn.

Gradients are lists of arrays.  The norm is that of the concatenated
gradient, computed by ``np.linalg.norm`` after dividing by the largest
``|g|`` (so that 1e200 does not overflow).
"""

import numpy as np


def global_norm(arrays):
    """L2 norm of all arrays concatenated, in float64; NaN if any NaN, inf if any inf."""
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    if np.any(np.isnan(flat)):
        return float("nan")
    if np.any(np.isinf(flat)):
        return float("inf")
    if flat.size == 0 or np.max(np.abs(flat)) == 0.0:
        return 0.0
    scale = np.max(np.abs(flat))
    return float(scale * np.linalg.norm(flat / scale))


def clip_grad_norm(arrays, threshold):
    """Algorithm 1 of Pascanu et al. (2013): ``g * min(1, threshold / ||g||)``, as float64 arrays."""
    norm = global_norm(arrays)
    factor = 1.0 if norm == 0.0 else min(1.0, threshold / norm)
    return [np.asarray(a, dtype=np.float64) * factor for a in arrays]


def clip_grad_value(arrays, threshold):
    """Element-wise clipping to ``[-threshold, threshold]``."""
    return [np.clip(np.asarray(a, dtype=np.float64), -threshold, threshold) for a in arrays]
