"""Exact solvers for the single-unit map f(x) = w sigma(x) + b: the strict layer under `dynrnn.single_unit`.

Vectorised NumPy over flat float64 arrays of grid points; no validation (the public wrappers in
``single_unit.py`` validate and build the results).  sigma and sigma' are the package's own compiled
ufuncs (`dynrnn.activation`), so the fixed points are those of the map `dynrnn.iterate_grid` iterates.

Every root is bracketed on an interval where its function is provably monotone and refined by
Newton steps safeguarded by bisection (`newton_bisect`), so none is missed and none is found twice.
"""

import numpy as np

from ._kernels.scalar import make_second_derivative
from .maps.activations import activation
from .maps.activations import gamma as _gamma

SMOOTH = ("logistic", "tanh")  # bounded sigmoids: isolated folds, flips and a cusp
EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny
MAX_ITER = 100  # safeguarded Newton steps per root (5-10 suffice away from folds)


def critical(name, k):
    """The x >= 0 with sigma'(x) = k (sigma' is even, so -x too), for k in (0, gamma]; NaN elsewhere.

    logistic: sigma (1 - sigma) = k gives x = logit((1 + r)/2) = log1p(r) - log1p(-r), r = sqrt(1 - 4k);
    tanh: 1 - tanh^2 = k gives x = artanh(t) = (log1p(t) - log1p(-t)) / 2, t = sqrt(1 - k).  For r (or
    t) >= 1/2 the second log uses 1 - r = 4k / (1 + r) (1 - t = k / (1 + t)) to avoid cancellation.
    """
    k = np.asarray(k, dtype=np.float64)
    scale = 4.0 if name == "logistic" else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sqrt(1.0 - scale * k)
        x = np.where(r < 0.5, np.log1p(r) - np.log1p(-r), 2.0 * np.log1p(r) - np.log(scale * k))
    x = x if name == "logistic" else 0.5 * x
    return np.where((k > 0) & (k <= _gamma(name)), x, np.nan)


def value_range(name, w, b):
    """[lo, hi] = b + w * closure(range(sigma)): it holds every fixed point and every f(x) (bounded sigma)."""
    if name == "logistic":
        return b + np.minimum(w, 0.0), b + np.maximum(w, 0.0)
    return b - np.abs(w), b + np.abs(w)


def newton_bisect(fun, a, b, increasing, args):
    """Root of monotone ``fun`` in [a, b], one per element, to machine precision.

    ``fun(x, *args) -> (f, f')`` on arrays; ``f(a) <= 0 <= f(b)`` if ``increasing`` else the reverse.
    Newton steps that leave the bracket or do not halve it are replaced by bisection (``rtsafe``,
    Press et al., Numerical Recipes, Sec. 9.4), vectorised over an active set.  An element stops
    when ``f`` is 0, the step is below 2 ulp or the bracket has collapsed.  Returns ``(x, converged)``.
    """
    xl = np.where(increasing, a, b)  # f(xl) <= 0
    xh = np.where(increasing, b, a)  # f(xh) >= 0
    x = a + 0.5 * (b - a)
    dx = dxold = np.abs(b - a)
    out = x.copy()
    converged = np.zeros(x.shape, dtype=bool)
    idx = np.arange(x.size)
    for _ in range(MAX_ITER):
        f, df = fun(x, *args)
        xl = np.where(f < 0, x, xl)
        xh = np.where(f > 0, x, xh)
        with np.errstate(all="ignore"):
            step = f / df
            xn = x - step
            inside = (xn > np.minimum(xl, xh)) & (xn < np.maximum(xl, xh))
            newton = inside & (np.abs(2.0 * f) <= np.abs(dxold * df))
        tiny_step = np.abs(step) <= 2.0 * EPS * np.abs(x) + _TINY  # the last Newton step moves <= 2 ulp
        xm = xl + 0.5 * (xh - xl)
        xnew = np.where(newton, xn, xm)
        dxold, dx = dx, xnew - x
        done = (f == 0) | tiny_step | (np.abs(dx) <= 2.0 * EPS * np.abs(x) + _TINY) | (xm == xl) | (xm == xh)
        polished = np.clip(xn, np.minimum(xl, xh), np.maximum(xl, xh))
        out[idx[done]] = np.where(f == 0, x, np.where(tiny_step, polished, xnew))[done]
        converged[idx[done]] = True
        keep = ~done
        if not keep.any():
            break
        idx = idx[keep]
        x, xl, xh, dx, dxold = xnew[keep], xl[keep], xh[keep], dx[keep], dxold[keep]
        args = tuple(p[keep] for p in args)
    else:
        out[idx] = x  # not converged after MAX_ITER steps: the last iterate, flagged
    return out, converged


def bisect_sign(pred, a, b, args, n_iter=64):
    """Where ``pred`` switches between ``a`` (False) and ``b`` (True), by ``n_iter`` vectorised bisections."""
    a, b = a.copy(), b.copy()
    for _ in range(n_iter):
        m = a + 0.5 * (b - a)
        p = pred(m, *args)
        a, b = np.where(p, a, m), np.where(p, m, b)
    return a + 0.5 * (b - a)


def _g(sigma, dsigma):
    """``g(x) = w sigma(x) + b - x`` and ``g'(x) = w sigma'(x) - 1``, whose zeros are the fixed points."""

    def g(x, w, b):
        return w * sigma(x) + b - x, w * dsigma(x) - 1.0

    return g


def fixed_points_smooth(name, w, b):
    """logistic, tanh: g has at most two critical points +-c, in closed form; one root per monotone piece.

    Returns ``(x, multiplier, tangent, residual, degenerate, converged)``, the first four (G, 3).
    """
    act = activation(name)
    g = _g(act.sigma, act.dsigma)
    n = w.size
    lo, hi = value_range(name, w, b)
    folded = w > 1.0 / _gamma(name)  # else g' = w sigma' - 1 < 0 except at one point: g decreasing
    c = np.where(folded, critical(name, 1.0 / np.where(folded, w, 1.0)), 0.0)
    gc1, gc2 = g(-c, w, b)[0], g(c, w, b)[0]
    # |g(+-c)| within rounding of 0 (error of w sigma + b - x; g is flat there): a double root.
    z1 = folded & (np.abs(gc1) <= 8.0 * EPS * (np.abs(w * act.sigma(-c)) + np.abs(b) + c))
    z2 = folded & (np.abs(gc2) <= 8.0 * EPS * (np.abs(w * act.sigma(c)) + np.abs(b) + c))
    both = z1 & z2  # within rounding of the cusp: one triple root in [-c, c]
    # Five slots, ascending by construction: piece A = [lo, -c], tangency -c, piece B = [-c, c],
    # tangency c, piece C = [c, hi].  g decreases on A and C and increases on B (g(lo) >= 0 >= g(hi)).
    cand = np.full((n, 5), np.nan)
    tangent = np.zeros((n, 5), dtype=bool)
    converged = np.ones(n, dtype=bool)
    pieces = [
        (~folded, lo, hi, False, 2),
        (folded & (gc1 < 0) & ~z1, lo, -c, False, 0),
        (folded & (gc1 < 0) & ~z1 & (gc2 > 0) & ~z2, -c, c, True, 2),
        (folded & (gc2 > 0) & ~z2, c, hi, False, 4),
        (both, -c, c, True, 2),
    ]
    for mask, a, bb, increasing, slot in pieces:
        if mask.any():
            root, ok = newton_bisect(g, a[mask], bb[mask], increasing, (w[mask], b[mask]))
            cand[mask, slot] = root
            converged[mask] &= ok
    for mask, x_t, slot in ((z1 & ~both, -c, 1), (z2 & ~both, c, 3)):
        cand[mask, slot] = x_t[mask]
    tangent[:, 1], tangent[:, 3], tangent[:, 2] = z1 & ~both, z2 & ~both, both
    order = np.argsort(cand, axis=1, kind="stable")[:, :3]  # NaN sorts last
    x = np.take_along_axis(cand, order, axis=1)
    tangent = np.take_along_axis(tangent, order, axis=1)
    found = ~np.isnan(x)
    xs = np.where(found, x, 0.0)  # keep NaN out of the compiled ufuncs
    multiplier = np.where(found, np.where(tangent, 1.0, w[:, None] * act.dsigma(xs)), np.nan)
    residual = np.where(found, np.abs(g(xs, w[:, None], b[:, None])[0]), np.nan)
    return x, multiplier, tangent, residual, np.zeros(n, dtype=bool), converged


def fixed_points_pieces(name, w, b):
    """relu and linear: closed form on each linear piece of g; same returns as `fixed_points_smooth`."""
    n = w.size
    x = np.full((n, 3), np.nan)
    multiplier = np.full((n, 3), np.nan)
    one = w == 1.0
    degenerate = one & (b == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_pos = b / (1.0 - w)  # zero of (w - 1) x + b, on the piece where sigma(x) = x
    if name == "linear":
        x[~one, 0], multiplier[~one, 0] = x_pos[~one], w[~one]
        s = x
    else:  # relu: sigma = 0 on x <= 0 (zero x = b if b <= 0, lambda = 0) and sigma = x on x > 0
        neg = b <= 0.0
        pos = ~one & (x_pos > 0.0)
        x[neg, 0], multiplier[neg, 0] = b[neg], 0.0
        col = neg.astype(np.intp)
        x[pos, col[pos]], multiplier[pos, col[pos]] = x_pos[pos], w[pos]
        x[degenerate], multiplier[degenerate] = np.nan, np.nan
        s = np.maximum(x, 0.0)
    residual = np.abs(w[:, None] * s + b[:, None] - x)
    return x, multiplier, np.zeros((n, 3), dtype=bool), residual, degenerate, np.ones(n, dtype=bool)


def period2(name, w, b, x_fixed, lam):
    """Lower point p of the 2-cycle where a decreasing map's fixed point ``x_fixed`` has ``lam < -1``.

    h(x) = f(f(x)) - x has h(lo) >= 0, one zero p < m1 and h < 0 on (p, x_fixed), where m1 < x_fixed
    is the only solution of (f o f)'(m) = 1 left of x_fixed (negative Schwarzian: see
    `single_unit.period2_orbits`).  m1 is found by bisection, p by `newton_bisect` on [lo, m1].
    Returns ``(p, q, converged)``, NaN where there is no orbit (also within rounding of a flip).
    """
    act = activation(name)
    sigma, dsigma = act.sigma, act.dsigma
    p = np.full(w.shape, np.nan)
    converged = np.ones(w.shape, dtype=bool)
    cand = (w < 0) & (lam < -1.0)
    if cand.any():
        wc, bc = w[cand], b[cand]
        lo, _ = value_range(name, wc, bc)

        def h(z, w_, b_):
            fz = w_ * sigma(z) + b_
            return w_ * sigma(fz) + b_ - z, w_ * w_ * dsigma(fz) * dsigma(z) - 1.0

        def steep(z, w_, b_):
            return h(z, w_, b_)[1] > 0.0  # (f o f)'(z) > 1: true on (m1, m2), which holds x_fixed

        m1 = bisect_sign(steep, lo, x_fixed[cand], (wc, bc))
        ok = h(m1, wc, bc)[0] < 0.0
        rows = np.flatnonzero(cand)[ok]
        p[rows], converged[rows] = newton_bisect(h, lo[ok], m1[ok], False, (wc[ok], bc[ok]))
    exists = ~np.isnan(p)
    q = np.where(exists, w * sigma(np.where(exists, p, 0.0)) + b, np.nan)
    return p, q, converged


def bifurcations(name, w, kind):
    """Fixed points x (..., 2) and biases b (..., 2), ascending in b, where w sigma'(x) = +1 or -1."""
    with np.errstate(divide="ignore"):
        c = critical(name, (1.0 if kind == "fold" else -1.0) / w)  # NaN where there is no solution
    # b = x - w sigma(x) decreases from x = -c to c for folds (w > 0) and increases for flips (w < 0).
    x = np.stack([c, -c], axis=-1) if kind == "fold" else np.stack([-c, c], axis=-1)
    b = x - w[..., None] * activation(name).sigma(np.where(np.isnan(x), 0.0, x))
    return x, np.where(np.isnan(x), np.nan, b)


def inflection(name):
    """The inflection point of sigma (where sigma'' = 0), by scalar bisection on [-1, 1]."""
    act = activation(name)
    second = make_second_derivative(name)

    def d2sigma(z):  # changes sign once, from + to -
        return second(float(act.sigma(z)), float(act.dsigma(z)))

    lo, hi = -1.0, 1.0
    while True:
        x = lo + 0.5 * (hi - lo)
        v = d2sigma(x)
        if v == 0.0 or x in (lo, hi):
            return x
        lo, hi = (x, hi) if v > 0.0 else (lo, x)
