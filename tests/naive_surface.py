"""Plain-NumPy references for the eq. (8) error surface: slow, obvious, independent of dynrnn.

The model ``x_t = w sigma(x_{t-1}) + b`` is iterated with explicit loops and
scored by ``E = (sigma(x_T) - target)^2``.  The gradient comes from reverse
mode (backpropagation through the stored orbit, a different algorithm from
dynrnn's forward mode) and from central differences of ``E``; the Hessian
from central differences of a gradient; the wall from a dense scan refined by
golden-section search.  Nothing here imports dynrnn.
"""

import numpy as np

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def sigma(name, z):
    """The activation, written differently from dynrnn (logistic through tanh)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "logistic":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0.0, z, 0.0)
    if name == "linear":
        return z
    raise ValueError(name)


def dsigma(name, z):
    """sigma'(z); relu takes sigma'(0) = 0."""
    z = np.asarray(z, dtype=np.float64)
    if name == "logistic":
        s = sigma(name, z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return np.where(z > 0.0, 1.0, 0.0)
    if name == "linear":
        return np.ones_like(z)
    raise ValueError(name)


def orbit(w, b, x0, n_steps, name="logistic"):
    """States x_0 .. x_T of eq. (8), element-wise over broadcast arrays, as a list of arrays."""
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    xs = [np.broadcast_to(np.asarray(x0, dtype=np.float64), np.broadcast_shapes(w.shape, b.shape)).copy()]
    for _ in range(n_steps):
        xs.append(w * sigma(name, xs[-1]) + b)
    return xs


def error(w, b, x0=0.5, n_steps=50, target=0.7, name="logistic"):
    """E = (sigma(x_T) - target)^2."""
    return (sigma(name, orbit(w, b, x0, n_steps, name)[-1]) - target) ** 2


def error_surface(w, b, x0=0.5, n_steps=50, target=0.7, name="logistic"):
    """``(E, dE/dw, dE/db, x_T)``, the gradient by reverse mode, element-wise over broadcast arrays.

    Backpropagation through time: ``g_T = dE/dx_T``, then for t = T .. 1,
    ``dE/dw += g_t sigma(x_{t-1})``, ``dE/db += g_t``,
    ``g_{t-1} = g_t w sigma'(x_{t-1})``.
    """
    xs = orbit(w, b, x0, n_steps, name)
    y = sigma(name, xs[-1])
    g = 2.0 * (y - target) * dsigma(name, xs[-1])
    dE_dw = np.zeros_like(g)
    dE_db = np.zeros_like(g)
    for t in range(n_steps, 0, -1):
        dE_dw = dE_dw + g * sigma(name, xs[t - 1])
        dE_db = dE_db + g
        g = g * w * dsigma(name, xs[t - 1])
    return (y - target) ** 2, dE_dw, dE_db, xs[-1]


def gradient_fd(f, w, b, h=1e-6):
    """Central differences ``((f(w+h, b) - f(w-h, b)) / 2h, (f(w, b+h) - f(w, b-h)) / 2h)``."""
    return (f(w + h, b) - f(w - h, b)) / (2.0 * h), (f(w, b + h) - f(w, b - h)) / (2.0 * h)


def hessian_fd(grad, w, b, h=1e-5):
    """The 2x2 Hessian by central differences of ``grad(w, b) -> (dE/dw, dE/db)``, symmetrised."""
    gw_p, gw_m = np.array(grad(w + h, b)), np.array(grad(w - h, b))
    gb_p, gb_m = np.array(grad(w, b + h)), np.array(grad(w, b - h))
    H = np.column_stack([(gw_p - gw_m) / (2.0 * h), (gb_p - gb_m) / (2.0 * h)])
    return 0.5 * (H + H.T)


def hessian_max_eig(H):
    """Largest eigenvalue of a symmetric 2x2 matrix (LAPACK)."""
    return float(np.linalg.eigvalsh(H)[-1])


def error_surface_wall(w, lo, hi, x0=0.5, n_steps=50, target=0.7, name="logistic", n_scan=20001, tol=1e-12):
    """``(b, |dE/db|)`` at the largest |dE/db| over [lo, hi]: dense scan, then golden-section search.

    Only for walls wider than the scan spacing (``w <= 4.9`` for the defaults).
    """

    def g(bb):
        return np.abs(error_surface(w, bb, x0, n_steps, target, name)[2])

    bs = np.linspace(lo, hi, n_scan)
    vals = g(bs)
    i = int(np.argmax(vals))
    a, c = bs[max(i - 1, 0)], bs[min(i + 1, n_scan - 1)]
    p, q = c - GOLDEN * (c - a), a + GOLDEN * (c - a)
    gp, gq = g(p), g(q)
    while c - a > tol:
        if gp >= gq:
            c, q, gq = q, p, gp
            p = c - GOLDEN * (c - a)
            gp = g(p)
        else:
            a, p, gp = p, q, gq
            q = a + GOLDEN * (c - a)
            gq = g(q)
    best = max((float(vals[i]), bs[i]), (float(gp), p), (float(gq), q))
    return best[1], best[0]
