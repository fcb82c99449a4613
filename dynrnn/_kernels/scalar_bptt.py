"""Backend-neutral math of backpropagation through time (Pascanu et al. 2013, eqs. 2-5).

Plain Python in the Numba subset, like ``scalar.py``: loops over vector
elements, no allocation, results written into arguments.  ``bptt.py``
compiles it for the CPU.

Conventions, for a batch element at step t (paper form / standard form):

- ``z_t``: the state (x_t / h_t);
- ``s_t``: what the next step multiplies by ``W_rec``, and what losses and the
  readout see (the *observed state*): sigma(x_t) / h_t;
- ``d_t``: the activation slope: sigma'(x_t) / sigma'(a_t), with
  ``a_t = W_rec h_{t-1} + W_in u_t + b``;
- ``delta_t``: dE/d(affine part of step t), so that the immediate partials
  of eq. (4) are ``delta_t s_{t-1}^T`` (W_rec), ``delta_t u_t^T`` (W_in) and
  ``delta_t`` (b).

The matrix products of a step (``S_{t-1} W_rec^T`` forward, ``Delta_t
W_rec`` backward, over the whole batch) are left to the kernels, which call
BLAS; what is here is the per-unit math around them.
"""

import math

# Loss kinds (validated names are turned into these codes by the wrapper).
SQUARED_ERROR, READOUT_SQUARED_ERROR, CROSS_ENTROPY = 0, 1, 2
LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "readout_squared_error": READOUT_SQUARED_ERROR,
    "cross_entropy": CROSS_ENTROPY,
}


def make_activate(sigma_dsigma):
    """Return ``activate(a, z_prev, alpha, paper, leaky) -> (z, s, d)`` for one unit.

    ``a`` is the affine part of the step, ``W_rec s_{t-1} + W_in u_t + b``.
    Paper form (eq. 2): ``z = a`` (leaky: ``alpha z_prev + (1 - alpha) a``),
    ``s, d = sigma(z), sigma'(z)``; standard form: ``z = sigma(a)`` (leaky:
    ``alpha z_prev + (1 - alpha) sigma(a)``), ``s = z``, ``d = sigma'(a)``.
    """

    def activate(a, z_prev, alpha, paper, leaky):
        if paper:
            z = alpha * z_prev + (1.0 - alpha) * a if leaky else a
            s, d = sigma_dsigma(z)
            return z, s, d
        h, d = sigma_dsigma(a)
        z = alpha * z_prev + (1.0 - alpha) * h if leaky else h
        return z, z, d

    return activate


def delta(g, d, alpha, paper, leaky):
    """``delta_t = dE/da_t`` of one unit from ``g = dE/dz_t`` (see `make_activate`)."""
    gi = (1.0 - alpha) * g if leaky else g
    return gi if paper else d * gi


def carry_back(g, v, d_prev, alpha, paper, leaky):
    """One unit of ``J_t^T g`` given ``v = (W_rec^T delta_t)``.

    ``J_t = dz_t/dz_{t-1}`` is ``diag(alpha) + diag(1 - alpha) W_rec
    diag(sigma'(x_{t-1}))`` in the paper form (eq. 5) and ``diag(alpha) +
    diag(1 - alpha) diag(sigma'(a_t)) W_rec`` in the standard form (no leak:
    alpha = 0); ``d_prev`` is ``sigma'(x_{t-1})`` (read in the paper form).
    """
    back = d_prev * v if paper else v
    return alpha * g + back if leaky else back


def make_loss_head(exp):
    """Return ``loss_head(kind, W_out, b_out, s, target, scale, y, dy, ds)``.

    The loss of one scored step from the observed state ``s`` (length n):

    - ``SQUARED_ERROR``: ``||s - target||^2`` (``y`` receives ``s``);
    - ``READOUT_SQUARED_ERROR``: ``||y - target||^2`` with the readout
      ``y = W_out s + b_out``;
    - ``CROSS_ENTROPY``: ``-sum_c target_c log softmax(y)_c`` (``target`` a
      distribution over the q classes, one-hot for a label).

    Writes ``y``, ``dy = scale * dL/dy`` (readout losses) and
    ``ds = scale * dL/ds``; returns L (unscaled).
    """

    def loss_head(kind, W_out, b_out, s, target, scale, y, dy, ds):
        n = s.shape[0]
        loss = 0.0
        if kind == SQUARED_ERROR:
            for i in range(n):
                r = s[i] - target[i]
                y[i] = s[i]
                loss += r * r
                ds[i] = 2.0 * scale * r
            return loss
        q = W_out.shape[0]
        for c in range(q):
            acc = b_out[c]
            for j in range(n):
                acc += W_out[c, j] * s[j]
            y[c] = acc
        if kind == READOUT_SQUARED_ERROR:
            for c in range(q):
                r = y[c] - target[c]
                loss += r * r
                dy[c] = 2.0 * scale * r
        else:
            top = y[0]
            for c in range(1, q):
                top = y[c] if y[c] > top else top
            total = 0.0
            for c in range(q):
                total += exp(y[c] - top)
            lse = top + math.log(total)
            mass = 0.0
            for c in range(q):
                mass += target[c]
            for c in range(q):
                loss += target[c] * (lse - y[c])
                dy[c] = scale * (exp(y[c] - lse) * mass - target[c])
        for j in range(n):
            ds[j] = 0.0
        for c in range(q):
            dc = dy[c]
            for j in range(n):
                ds[j] += W_out[c, j] * dc
        return loss

    return loss_head
