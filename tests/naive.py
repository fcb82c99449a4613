"""Naive NumPy reference implementations, slow and obvious.

Each function is named after the public function it checks and shares no
code with the package: this module imports nothing from the package under
test (CI greps for that).  Loops are explicit, one step and one grid point at
a time, so that the reference is easy to read against the paper's equations
(Pascanu, Mikolov & Bengio 2013).
"""

import numpy as np

ACTIVATIONS = ("logistic", "tanh", "relu", "linear")

# gamma = sup_z |sigma'(z)|:
#   logistic: sigma' = sigma (1 - sigma) <= 1/4, equality at z = 0;
#   tanh:     sigma' = 1 - tanh^2 <= 1, equality at z = 0;
#   relu:     sigma' in {0, 1};  linear: sigma' = 1.
GAMMA = {"logistic": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}


def _logistic(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def sigma(name, z):
    """sigma(z) for the activation ``name`` (checks ``activation(name).sigma``)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "logistic":
        return _logistic(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)  # np.maximum propagates NaN
    if name == "linear":
        return z.copy()
    raise ValueError(f"unknown activation {name!r}")


def dsigma(name, z):
    """sigma'(z) (checks ``activation(name).dsigma``); NaN gives NaN."""
    z = np.asarray(z, dtype=np.float64)
    if name == "logistic":
        # sigma'(z) = sigma(z) (1 - sigma(z)) = sigma(z) sigma(-z): the second
        # form keeps full relative accuracy in both tails.
        return _logistic(z) * _logistic(-z)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        # derivative taken as 0 at z = 0 (and below)
        return np.where(np.isnan(z), np.nan, np.where(z > 0.0, 1.0, 0.0))
    if name == "linear":
        return np.where(np.isnan(z), np.nan, 1.0)
    raise ValueError(f"unknown activation {name!r}")


def gamma(name):
    """sup |sigma'| (checks ``gamma``)."""
    return GAMMA[name]


def iterate(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs):
    """Whole trajectory x_0 .. x_T of one network (checks ``iterate``).

    paper form (eq. 2):  x_t = W_rec sigma(x_{t-1}) + W_in u_t + b
    standard form:       h_t = sigma(W_rec h_{t-1} + W_in u_t + b)
    leak alpha:          x_t = alpha x_{t-1} + (1 - alpha) F(x_{t-1}, u_t)

    ``W_in`` and ``inputs`` may be None (autonomous map); ``inputs[t - 1]``
    drives step t.  ``b`` None means zeros, ``leak`` None means no leak.  The
    first non-finite state is kept and every later state is NaN.  Returns an
    array of shape (T + 1, n).
    """
    W_rec = np.asarray(W_rec, dtype=np.float64)
    n = W_rec.shape[0]
    b = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    x = np.array(x0, dtype=np.float64).reshape(n)
    traj = np.full((n_steps + 1, n), np.nan)
    traj[0] = x
    with np.errstate(all="ignore"):
        for t in range(1, n_steps + 1):
            drive = np.zeros(n)
            if inputs is not None:
                drive = np.asarray(W_in, dtype=np.float64) @ np.asarray(inputs[t - 1], dtype=np.float64)
            if form == "paper":
                f = W_rec @ sigma(activation, x) + drive + b
            elif form == "standard":
                f = sigma(activation, W_rec @ x + drive + b)
            else:
                raise ValueError(f"unknown form {form!r}")
            x = f if leak is None else leak * x + (1.0 - leak) * f
            traj[t] = x
            if not np.all(np.isfinite(x)):
                break  # later rows stay NaN
    return traj


def iterate_grid(W_rec, b, x0, n_steps, activation, form="paper", leak=None, n_keep=1):
    """Python loop over grid points calling `iterate` (checks ``iterate_grid``).

    ``W_rec`` (G, n, n), ``b`` and ``x0`` (G, n), ``leak`` None, scalar or
    (G, n): explicit per-point arrays, no broadcasting.  Returns
    ``(x, diverged, diverged_at)`` with ``x`` of shape (G, n_keep, n): the
    last ``n_keep`` states; ``diverged_at`` the first step with a non-finite
    state, or -1.
    """
    W_rec = np.asarray(W_rec, dtype=np.float64)
    G, n, _ = W_rec.shape
    x = np.empty((G, n_keep, n))
    diverged_at = np.full(G, -1, dtype=np.int64)
    for g in range(G):
        if leak is None:
            alpha = None
        else:
            alpha = np.asarray(leak, dtype=np.float64)
            alpha = alpha if alpha.ndim == 0 else alpha[g]
        traj = iterate(W_rec[g], None, b[g], activation, form, alpha, x0[g], n_steps, None)
        x[g] = traj[n_steps + 1 - n_keep :]
        for t in range(n_steps + 1):
            if not np.all(np.isfinite(traj[t])):
                diverged_at[g] = t
                break
    return x, diverged_at >= 0, diverged_at


def iterate_tangents(w, b, x0, n_steps, activation="logistic"):
    """Forward-mode derivatives of the single-unit paper-form map (checks ``single_unit.iterate_tangents``).

    x_t = w sigma(x_{t-1}) + b,
    dx_t/dw = sigma(x_{t-1}) + w sigma'(x_{t-1}) dx_{t-1}/dw,
    dx_t/db = 1 + w sigma'(x_{t-1}) dx_{t-1}/db,   dx_0/dw = dx_0/db = 0.

    ``w``, ``b``, ``x0`` broadcast together; returns ``(x_T, dx_T/dw, dx_T/db)``.
    """
    w, b, x0 = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (w, b, x0)))
    x_out, dw_out, db_out = (np.empty(w.shape) for _ in range(3))
    with np.errstate(all="ignore"):
        for idx in np.ndindex(w.shape):
            wi, bi, x = float(w[idx]), float(b[idx]), float(x0[idx])
            dx_dw = dx_db = 0.0
            for _ in range(n_steps):
                s = float(sigma(activation, x))
                ds = float(dsigma(activation, x))
                x, dx_dw, dx_db = wi * s + bi, s + wi * ds * dx_dw, 1.0 + wi * ds * dx_db
            x_out[idx], dw_out[idx], db_out[idx] = x, dx_dw, dx_db
    return x_out, dw_out, db_out


def final_state_unit(w, b, x0, n_steps, activation="logistic"):
    """x_T of the single-unit paper-form map, for finite differences of `iterate_tangents`."""
    w, b, x0 = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (w, b, x0)))
    x = x0.copy()
    with np.errstate(all="ignore"):
        for _ in range(n_steps):
            x = w * sigma(activation, x) + b
    return x
