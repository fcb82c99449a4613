"""Brute-force reference for the Omega regularizer (eqs. 9-10); imports nothing from dynrnn.

Explicit loops over steps k and sequences b with the full step Jacobian
``J_{k+1} = dx_{k+1}/dx_k``.  The derivatives sigma' are computed once from
the frozen states (``frozen_dsigma``) and then held constant, so that
``naive_omega`` as a function of ``W_rec`` alone is what eq. (10)
differentiates; its gradient is taken by central differences.
"""

import numpy as np


def dsigma(name, z):
    """sigma'(z) for the activations of dynrnn, written out independently."""
    z = np.asarray(z, dtype=np.float64)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "logistic":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "relu":
        return (z > 0.0).astype(np.float64)
    if name == "linear":
        return np.ones_like(z)
    raise ValueError(name)


def frozen_dsigma(name, form, X, W_rec, W_in, b, U):
    """sigma' entering J_{k+1}, shape (T, B, n): at x_k (paper) or at a_{k+1} (standard)."""
    T, B, n = X.shape[0] - 1, X.shape[1], X.shape[2]
    S = np.empty((T, B, n))
    for k in range(T):
        for q in range(B):
            if form == "paper":
                S[k, q] = dsigma(name, X[k, q])
            else:
                a = W_rec @ X[k, q] + b
                if U is not None:
                    a = a + W_in @ U[k, q]
                S[k, q] = dsigma(name, a)
    return S


def step_jacobian(W_rec, s, form, alpha):
    """J = dx_{k+1}/dx_k (column convention) with sigma' = s held fixed."""
    n = W_rec.shape[0]
    J = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            J[i, j] = W_rec[i, j] * (s[j] if form == "paper" else s[i])
    if alpha is not None:
        for i in range(n):
            for j in range(n):
                J[i, j] = (1.0 - alpha[i]) * J[i, j] + (alpha[i] if i == j else 0.0)
    return J


def naive_terms(W_rec, S, G, form, alpha, kind="squared", bound=1e-20):
    """Ratios r (T, B), with NaN where skipped, and the kept mask."""
    T, B = S.shape[0], S.shape[1]
    r = np.full((T, B), np.nan)
    kept = np.zeros((T, B), dtype=bool)
    for k in range(T):
        for q in range(B):
            g = G[k + 1, q]
            den = float(np.sum(g * g))
            if den < bound:
                continue
            J = step_jacobian(W_rec, S[k, q], form, alpha)
            row = np.zeros(len(g))  # g^T J
            for j in range(len(g)):
                for i in range(len(g)):
                    row[j] += g[i] * J[i, j]
            num = float(np.sum(row * row))
            kept[k, q] = True
            r[k, q] = num / den if kind == "squared" else np.sqrt(num) / np.sqrt(den)
    return r, kept


def naive_omega(W_rec, S, G, form, alpha, kind="squared", reduce="mean", bound=1e-20):
    """Omega: sum_k mean_b (r - 1)^2 over kept terms, divided by sum_k mean_b 1[kept] for reduce='mean'."""
    r, kept = naive_terms(W_rec, S, G, form, alpha, kind, bound)
    T, B = kept.shape
    num = 0.0
    den = 0.0
    for k in range(T):
        num_k = 0.0
        den_k = 0.0
        for q in range(B):
            if kept[k, q]:
                num_k += (r[k, q] - 1.0) ** 2
                den_k += 1.0
        num += num_k / B
        den += den_k / B
    if reduce == "sum":
        return num
    return num / den if den > 0 else 0.0


def central_difference_grad(f, W, h=1e-6):
    """Central differences of the scalar f(W) over every entry of W."""
    grad = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += h
            Wm[i, j] -= h
            grad[i, j] = (f(Wp) - f(Wm)) / (2.0 * h)
    return grad
