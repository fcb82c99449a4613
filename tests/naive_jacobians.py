"""Naive references for the Jacobian analysis: step Jacobians, their products, Lyapunov exponents.

Plain NumPy and explicit loops, slow and obvious.  Imports nothing from the
package under test (CI greps for that); the trajectory and sigma' come from
``naive.py``, which imports nothing from it either.  Conventions
(Pascanu, Mikolov & Bengio 2013, eq. 5, column form):

    J_i = dx_i / dx_{i-1},    P_{t,k} = dx_t / dx_k = J_t J_{t-1} ... J_{k+1},    P_{k,k} = I.
"""

import naive
import numpy as np


def step(W_rec, W_in, b, activation, form, leak, x_prev, u):
    """One step of the map, ``x_i`` from ``x_{i-1}`` and ``u_i`` (``W_in``/``u`` None: no input)."""
    drive = np.zeros(len(x_prev)) if u is None else W_in @ u
    if form == "paper":
        f = W_rec @ naive.sigma(activation, x_prev) + drive + b
    else:
        f = naive.sigma(activation, W_rec @ x_prev + drive + b)
    return f if leak is None else leak * x_prev + (1.0 - leak) * f


def step_jacobian(W_rec, W_in, b, activation, form, leak, x_prev, u):
    """``J_i`` from the formulas (checks the ``jacobians`` field).

    paper:     W_rec diag(sigma'(x_{i-1}))
    standard:  diag(sigma'(W_rec x_{i-1} + W_in u_i + b)) W_rec
    leak:      diag(alpha) + diag(1 - alpha) J_F
    """
    if form == "paper":
        J = W_rec @ np.diag(naive.dsigma(activation, x_prev))
    else:
        drive = np.zeros(len(x_prev)) if u is None else W_in @ u
        J = np.diag(naive.dsigma(activation, W_rec @ x_prev + drive + b)) @ W_rec
    if leak is not None:
        J = np.diag(leak) + np.diag(1.0 - leak) @ J
    return J


def step_jacobian_fd(W_rec, W_in, b, activation, form, leak, x_prev, u, h=1e-6):
    """``J_i`` by central differences of `step` in each component of ``x_{i-1}``."""
    n = len(x_prev)
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        plus = step(W_rec, W_in, b, activation, form, leak, x_prev + e, u)
        minus = step(W_rec, W_in, b, activation, form, leak, x_prev - e, u)
        J[:, j] = (plus - minus) / (2.0 * h)
    return J


def trajectory_jacobian_fd(W_rec, W_in, b, activation, form, leak, x_k, inputs, h=1e-6):
    """``dx_t / dx_k`` by central differences of the map ``x_k -> x_t`` over ``len(inputs)`` steps.

    ``inputs`` holds ``u_{k+1} ... u_t`` (rows may be None for no input).
    """
    n = len(x_k)

    def run(x):
        for u in inputs:
            x = step(W_rec, W_in, b, activation, form, leak, x, u)
        return x

    P = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        P[:, j] = (run(x_k + e) - run(x_k - e)) / (2.0 * h)
    return P


def step_jacobians(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs):
    """The trajectory (T + 1, n) from ``naive.iterate`` and ``J_1 ... J_T`` (T, n, n) along it."""
    W_rec = np.asarray(W_rec, dtype=np.float64)
    n = W_rec.shape[0]
    b = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    x = naive.iterate(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs)
    jacobians = np.empty((n_steps, n, n))
    for i in range(1, n_steps + 1):
        u = None if inputs is None else np.asarray(inputs[i - 1], dtype=np.float64)
        jacobians[i - 1] = step_jacobian(W_rec, W_in, b, activation, form, leak, x[i - 1], u)
    return x, jacobians


def jacobian_products(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs, n_singular=1):
    """Every window product by explicit matrix multiplication (checks ``jacobian_products``).

    Returns ``(x, jacobians, singular_values)``: the trajectory (T + 1, n),
    ``J_1 ... J_T`` (T, n, n), and the ``n_singular`` largest singular values
    of ``P_{t,k}`` from ``np.linalg.svd`` (T + 1, T + 1, n_singular), NaN
    where k > t.
    """
    x, jacobians = step_jacobians(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs)
    n = x.shape[1]
    singular_values = np.full((n_steps + 1, n_steps + 1, n_singular), np.nan)
    for k in range(n_steps + 1):
        P = np.eye(n)
        for t in range(k, n_steps + 1):
            if t > k:
                P = jacobians[t - 1] @ P
            singular_values[t, k] = np.linalg.svd(P, compute_uv=False)[:n_singular]
    return x, jacobians, singular_values


def lyapunov_spectrum(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs, n_transient=0):
    """Benettin's QR iteration with ``np.linalg.qr`` (checks ``lyapunov_spectrum``).

    ``J_i Q_{i-1} = Q_i R_i``, ``Q_0 = I``; ``local[i - 1 - n_transient] =
    log|diag(R_i)|`` for i > n_transient.  Returns ``(exponents, local)``
    with the columns sorted by their mean, descending.
    """
    x, jacobians = step_jacobians(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs)
    n = x.shape[1]
    Q = np.eye(n)
    local = []
    with np.errstate(divide="ignore"):
        for i in range(1, n_steps + 1):
            Q, R = np.linalg.qr(jacobians[i - 1] @ Q)
            if i > n_transient:
                local.append(np.log(np.abs(np.diag(R))))
    local = np.array(local)
    exponents = local.mean(axis=0)
    order = np.argsort(-exponents, kind="stable")
    return exponents[order], local[:, order]


def lyapunov_unit(w, b, activation, form, leak, x0, n_steps, n_transient=0):
    """Single unit: the mean of ``log|dx_i / dx_{i-1}|`` over steps i = n_transient + 1 ... T.

    paper form ``log|w sigma'(x_{i-1})|``; standard form
    ``log|w sigma'(w x_{i-1} + b)|``; with a leak ``log|alpha + (1 - alpha) (...)|``.
    """
    x = naive.iterate([[w]], None, [b], activation, form, leak, [x0], n_steps, None)[:, 0]
    total = 0.0
    with np.errstate(divide="ignore"):
        for i in range(n_transient + 1, n_steps + 1):
            z = x[i - 1] if form == "paper" else w * x[i - 1] + b
            d = w * float(naive.dsigma(activation, z))
            if leak is not None:
                d = leak + (1.0 - leak) * d
            total += np.log(abs(d))
    return total / (n_steps - n_transient)
