"""Naive NumPy reference for `dynrnn.bptt`: explicit unrolling, full Jacobian matrices, finite differences.

Imports nothing from the package under test (CI greps for that).  Slow and
obvious: the temporal contributions of eq. (4) are built term by term from
full step Jacobians (eq. 5), and the total gradient is checked by central
finite differences of the loss.
"""

import numpy as np
from naive import dsigma, sigma


def forward(W_rec, W_in, b, activation, form, leak, x0, inputs):
    """States z (T + 1, B, n), observed states h, slopes d and affine parts a (index t, t >= 1).

    paper form (eq. 2):  x_t = W_rec sigma(x_{t-1}) + W_in u_t + b, observed h_t = sigma(x_t)
    standard form:       h_t = sigma(W_rec h_{t-1} + W_in u_t + b), observed h_t
    leak alpha:          z_t = alpha z_{t-1} + (1 - alpha) F(z_{t-1}, u_t)
    """
    T, B, _ = inputs.shape
    n = W_rec.shape[0]
    alpha = np.zeros(n) if leak is None else np.asarray(leak, dtype=float)
    z = np.zeros((T + 1, B, n))
    a = np.zeros((T + 1, B, n))
    z[0] = x0
    with np.errstate(all="ignore"):
        for t in range(1, T + 1):
            for q in range(B):
                prev = z[t - 1, q]
                if form == "paper":
                    a[t, q] = W_rec @ sigma(activation, prev) + W_in @ inputs[t - 1, q] + b
                    f = a[t, q]
                else:
                    a[t, q] = W_rec @ prev + W_in @ inputs[t - 1, q] + b
                    f = sigma(activation, a[t, q])
                z[t, q] = alpha * prev + (1.0 - alpha) * f
    h = sigma(activation, z) if form == "paper" else z.copy()
    return z, h, a


def step_loss(kind, h, target, W_out, b_out):
    """E_t of one sequence at one step, from the observed state h."""
    if kind == "squared_error":
        return float(np.sum((h - target) ** 2))
    y = W_out @ h + b_out
    if kind == "readout_squared_error":
        return float(np.sum((y - target) ** 2))
    logp = y - (np.max(y) + np.log(np.sum(np.exp(y - np.max(y)))))
    return float(-np.sum(target * logp))


def loss(params, activation, form, leak, inputs, targets, kind, at):
    """Batch loss: mean over sequences of sum_t E_t (targets (T, B, q) or (B, q), distributions for CE)."""
    z, h, _ = forward(params["W_rec"], params["W_in"], params["b"], activation, form, leak, params["x0"], inputs)
    T, B = inputs.shape[:2]
    total = 0.0
    for q in range(B):
        steps = range(1, T + 1) if at == "every" else [T]
        for t in steps:
            target = targets[t - 1, q] if at == "every" else targets[q]
            total += step_loss(kind, h[t, q], target, params.get("W_out"), params.get("b_out"))
    return total / B


def finite_difference_grads(params, names, h=1e-6, **problem):
    """Central differences of `loss` with respect to each array in ``names``."""
    grads = {}
    for name in names:
        value = params[name]
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up = {**params, name: value.copy()}
            down = {**params, name: value.copy()}
            up[name][idx] += h
            down[name][idx] -= h
            g[idx] = (loss(up, **problem) - loss(down, **problem)) / (2 * h)
        grads[name] = g
    return grads


def _direct_gradient(kind, activation, form, z_t, h_t, target, W_out, b_out):
    """dE_t/dz_t (row vector) of one sequence, by the chain rule written out."""
    if kind == "squared_error":
        dh = 2.0 * (h_t - target)
    else:
        y = W_out @ h_t + b_out
        if kind == "readout_squared_error":
            dy = 2.0 * (y - target)
        else:
            p = np.exp(y - np.max(y))
            p /= p.sum()
            dy = p * target.sum() - target
        dh = W_out.T @ dy
    return dh * dsigma(activation, z_t) if form == "paper" else dh


def step_jacobian(W_rec, activation, form, leak, z_prev, a_t):
    """J_t = dz_t/dz_{t-1} as a full matrix (eq. 5, and its standard and leaky forms)."""
    n = W_rec.shape[0]
    alpha = np.zeros(n) if leak is None else np.asarray(leak, dtype=float)
    if form == "paper":
        J_F = W_rec @ np.diag(dsigma(activation, z_prev))
    else:
        J_F = np.diag(dsigma(activation, a_t)) @ W_rec
    return np.diag(alpha) + np.diag(1.0 - alpha) @ J_F


def window_contributions(params, activation, form, leak, inputs, targets, kind, at):
    """Every term of eq. (4): C[name][t - 1, k - 1] = dE_t/dz_t (dz_t/dz_k) d+z_k/dtheta, batch mean."""
    W_rec, W_in = params["W_rec"], params["W_in"]
    z, h, a = forward(W_rec, W_in, params["b"], activation, form, leak, params["x0"], inputs)
    T, B, m = inputs.shape
    n = W_rec.shape[0]
    alpha = np.zeros(n) if leak is None else np.asarray(leak, dtype=float)
    out = {"W_rec": np.zeros((T, T, n, n)), "W_in": np.zeros((T, T, n, m)), "b": np.zeros((T, T, n))}
    for q in range(B):
        J = [None] + [step_jacobian(W_rec, activation, form, leak, z[i - 1, q], a[i, q]) for i in range(1, T + 1)]
        for t in range(1, T + 1) if at == "every" else [T]:
            target = targets[t - 1, q] if at == "every" else targets[q]
            g_t = _direct_gradient(kind, activation, form, z[t, q], h[t, q], target, params.get("W_out"),
                                   params.get("b_out"))  # fmt: skip
            P = np.eye(n)  # dz_t/dz_k, built up as k decreases
            for k in range(t, 0, -1):
                if k < t:
                    P = P @ J[k + 1]
                g_k = g_t @ P  # row vector dE_t/dz_k
                # immediate partial of z_k: d z_k,i / d(affine_i) = (1 - alpha_i) [sigma'(a_k,i) in the standard form]
                slope = (1.0 - alpha) * (dsigma(activation, a[k, q]) if form == "standard" else 1.0)
                delta = g_k * slope
                s_prev = h[k - 1, q]  # what W_rec multiplies: sigma(x_{k-1}) or h_{k-1}
                out["W_rec"][t - 1, k - 1] += np.outer(delta, s_prev) / B
                out["W_in"][t - 1, k - 1] += np.outer(delta, inputs[k - 1, q]) / B
                out["b"][t - 1, k - 1] += delta / B
    return out
