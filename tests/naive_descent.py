"""Plain-NumPy reference for gradient descent on the eq. (8) error surface: slow, obvious, independent of dynrnn.

One start at a time, one step at a time: the model ``x_t = w sigma(x_{t-1}) + b``
is run with its tangents ``dx_t/dw`` and ``dx_t/db`` carried along in an
explicit loop (forward mode), the gradient of ``E = (sigma(x_T) - target)^2``
follows by the chain rule, and clipping is ``g * min(1, threshold / ||g||)``.
Nothing here imports dynrnn.
"""

import math

import numpy as np


def sigma(name, z):
    """The activation, written differently from dynrnn (logistic through tanh)."""
    if name == "logistic":
        return 0.5 * (1.0 + math.tanh(0.5 * z))
    if name == "tanh":
        return math.tanh(z)
    if name == "linear":
        return z
    raise ValueError(name)


def dsigma(name, z):
    """sigma'(z)."""
    if name == "logistic":
        s = sigma(name, z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - math.tanh(z) ** 2
    if name == "linear":
        return 1.0
    raise ValueError(name)


def error_and_grad(w, b, x0=0.5, n_steps=50, target=0.7, name="logistic"):
    """``(E, dE/dw, dE/db)`` at one point, by forward-mode tangents in a plain loop."""
    x, x_w, x_b = x0, 0.0, 0.0
    for _ in range(n_steps):
        s, ds = sigma(name, x), dsigma(name, x)
        x, x_w, x_b = w * s + b, s + w * ds * x_w, 1.0 + w * ds * x_b
    y = sigma(name, x)
    dE_dx = 2.0 * (y - target) * dsigma(name, x)
    return (y - target) ** 2, dE_dx * x_w, dE_dx * x_b


def descend(w0, b0, lr, n_iter, threshold=None, x0=0.5, n_steps=50, target=0.7, name="logistic"):
    """Gradient descent from one start: ``(w, b, E, dE_dw, dE_db, grad_norm, clipped)`` as 1-D arrays.

    ``w``, ``b``, ``E`` and the gradient have ``n_iter + 1`` entries (the start
    first), ``grad_norm`` and ``clipped`` have ``n_iter``.
    """
    w, b = float(w0), float(b0)
    rows = {key: [] for key in ("w", "b", "E", "dE_dw", "dE_db", "grad_norm", "clipped")}
    for k in range(n_iter + 1):
        E, gw, gb = error_and_grad(w, b, x0, n_steps, target, name)
        for key, value in (("w", w), ("b", b), ("E", E), ("dE_dw", gw), ("dE_db", gb)):
            rows[key].append(value)
        if k == n_iter:
            break
        norm = math.sqrt(gw * gw + gb * gb)
        scale = 1.0 if threshold is None else min(1.0, threshold / norm)
        rows["grad_norm"].append(norm)
        rows["clipped"].append(threshold is not None and norm >= threshold)
        w, b = w - lr * scale * gw, b - lr * scale * gb
    return tuple(np.array(rows[key]) for key in rows)
