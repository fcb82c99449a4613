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

The per-unit step and its vector-Jacobian product (``activate``, ``delta``,
``carry_back``) are the cell's (``cells/rnn.py``); the matrix products of a
step (``S_{t-1} W_rec^T`` forward, ``Delta_t W_rec`` backward, over the
whole batch) are left to the kernels, which call BLAS.  What is here is the
loss head.
"""

import math

# Loss kinds (validated names are turned into these codes by the wrapper).
SQUARED_ERROR, READOUT_SQUARED_ERROR, CROSS_ENTROPY = 0, 1, 2
LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "readout_squared_error": READOUT_SQUARED_ERROR,
    "cross_entropy": CROSS_ENTROPY,
}


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
