"""Plain-loop reference for one training update of the task model; imports nothing from dynrnn.

The task model is a standard-form RNN ``h_t = sigma(W_rec h_{t-1} + W_in u_t
+ b)`` from ``h_0 = 0`` with a readout ``y = W_out h + b_out``.  One update:
backpropagation through time written out step by step, Omega of eq. (10)
from ``naive_regularizer`` with its gradient by central differences (sigma'
and dE/dh frozen), Algorithm 1 and the SGD step from ``naive_optim``.
"""

import numpy as np
from naive_optim import sgd_step
from naive_regularizer import central_difference_grad, dsigma, frozen_dsigma, naive_omega


def sigma(name, z):
    return np.tanh(z) if name == "tanh" else 1.0 / (1.0 + np.exp(-z))


def forward(params, activation, inputs):
    """States h_0..h_T, shape (T + 1, B, n)."""
    T, B, _ = inputs.shape
    n = params["W_rec"].shape[0]
    H = np.zeros((T + 1, B, n))
    for t in range(1, T + 1):
        for q in range(B):
            a = params["W_rec"] @ H[t - 1, q] + params["W_in"] @ inputs[t - 1, q] + params["b"]
            H[t, q] = sigma(activation, a)
    return H


def head(kind, y, target):
    """Loss of one scored step and its derivative with respect to y."""
    if kind == "cross_entropy":
        p = np.exp(y - y.max())
        p /= p.sum()
        return -float(np.sum(target * np.log(p))), p * target.sum() - target
    r = y - target
    return float(r @ r), 2.0 * r


def gradients(params, activation, inputs, targets, kind, every, scale):
    """Loss (scaled sum), parameter gradients and G[t] = dLoss/dh_t (scaled), by explicit BPTT."""
    W_rec, W_in, b, W_out, b_out = (params[k] for k in ("W_rec", "W_in", "b", "W_out", "b_out"))
    T, B, _ = inputs.shape
    n = W_rec.shape[0]
    H = forward(params, activation, inputs)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    G = np.zeros((T + 1, B, n))
    loss = 0.0
    for q in range(B):
        for t in range(1, T + 1):
            if every or t == T:
                y = W_out @ H[t, q] + b_out
                value, dy = head(kind, y, targets[t - 1 if every else 0, q])
                loss += scale * value
                grads["W_out"] += scale * np.outer(dy, H[t, q])
                grads["b_out"] += scale * dy
                G[t, q] += scale * (W_out.T @ dy)
        for t in range(T, 0, -1):
            a = W_rec @ H[t - 1, q] + W_in @ inputs[t - 1, q] + b
            delta = dsigma(activation, a) * G[t, q]
            grads["W_rec"] += np.outer(delta, H[t - 1, q])
            grads["W_in"] += np.outer(delta, inputs[t - 1, q])
            grads["b"] += delta
            G[t - 1, q] += W_rec.T @ delta
    return loss, grads, G, H


def train_step(params, velocity, activation, inputs, targets, kind, every, scale, *, lr, momentum=0.0,
               nesterov=False, threshold=None, alpha=0.0, omega_kind="squared", reduce="mean"):  # fmt: skip
    """One update; returns (params, velocity, loss, pre-clip norm, omega)."""
    loss, grads, G, H = gradients(params, activation, inputs, targets, kind, every, scale)
    frozen = frozen_dsigma(activation, "standard", H, params["W_rec"], params["W_in"], params["b"], inputs)

    def omega(W):
        return naive_omega(W, frozen, G, "standard", None, omega_kind, reduce)

    value = omega(params["W_rec"])
    if alpha > 0.0:
        grads["W_rec"] = grads["W_rec"] + alpha * central_difference_grad(omega, params["W_rec"])
    new_params, new_velocity, norm, _ = sgd_step(params, grads, velocity, lr, momentum, nesterov, threshold)
    return new_params, new_velocity, loss, norm, value
