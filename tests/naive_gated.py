"""Plain NumPy references for the gated cells: the equations of torch.nn.GRU and torch.nn.LSTM.

Slow and obvious: whole-matrix NumPy formulas, Jacobians by the chain rule
written per block and by central differences, iteration by a Python loop.
Nothing here imports dynrnn (CI greps for it).  Parameters are plain arrays
in PyTorch's stacked layout (gate order r, z, n for the GRU; i, f, g, o for
the LSTM); the LSTM's state is ``x = concat(h, c)``.
"""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _blocks(v, k):
    return np.split(np.asarray(v), k)


def gru_step(W_ih, W_hh, b_ih, b_hh, h, u=None):
    """``h'`` of torch.nn.GRU: n = tanh(W_in u + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    gi = b_ih + (W_ih @ u if u is not None else 0.0)
    gh = W_hh @ h + b_hh
    i_r, i_z, i_n = _blocks(gi, 3)
    h_r, h_z, h_n = _blocks(gh, 3)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1.0 - z) * n + z * h


def gru_jacobian(W_ih, W_hh, b_ih, b_hh, h, u=None):
    """``dh'/dh`` by the chain rule, one term per path."""
    gi = b_ih + (W_ih @ u if u is not None else 0.0)
    gh = W_hh @ h + b_hh
    i_r, i_z, i_n = _blocks(gi, 3)
    h_r, h_z, h_n = _blocks(gh, 3)
    W_hr, W_hz, W_hn = _blocks(W_hh, 3)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    dr = (r * (1 - r))[:, None] * W_hr
    dz = (z * (1 - z))[:, None] * W_hz
    dn = (1 - n**2)[:, None] * (h_n[:, None] * dr + r[:, None] * W_hn)
    return -n[:, None] * dz + (1 - z)[:, None] * dn + np.diag(z) + h[:, None] * dz


def gru_candidate(W_ih, W_hh, b_ih, b_hh, h, u=None):
    """The new gate ``n(h)`` alone (the GRU's fixed points are those of h -> n(h))."""
    gi = b_ih + (W_ih @ u if u is not None else 0.0)
    gh = W_hh @ h + b_hh
    r = sigmoid(_blocks(gi, 3)[0] + _blocks(gh, 3)[0])
    return np.tanh(_blocks(gi, 3)[2] + r * _blocks(gh, 3)[2])


def lstm_step(W_ih, W_hh, b_ih, b_hh, x, u=None):
    """``(h', c')`` of torch.nn.LSTM: c' = f c + i g, h' = o tanh(c'), stacked."""
    n = W_hh.shape[1]
    h, c = x[:n], x[n:]
    a = W_hh @ h + b_hh + b_ih + (W_ih @ u if u is not None else 0.0)
    a_i, a_f, a_g, a_o = _blocks(a, 4)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    return np.concatenate([o * np.tanh(c_new), c_new])


def lstm_jacobian(W_ih, W_hh, b_ih, b_hh, x, u=None):
    """``d(h', c')/d(h, c)`` (2n, 2n) by the chain rule."""
    n = W_hh.shape[1]
    h, c = x[:n], x[n:]
    a = W_hh @ h + b_hh + b_ih + (W_ih @ u if u is not None else 0.0)
    a_i, a_f, a_g, a_o = _blocks(a, 4)
    W_hi, W_hf, W_hg, W_ho = _blocks(W_hh, 4)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    t = np.tanh(c_new)
    di = (i * (1 - i))[:, None] * W_hi
    df = (f * (1 - f))[:, None] * W_hf
    dg = (1 - g**2)[:, None] * W_hg
    do = (o * (1 - o))[:, None] * W_ho
    dc_dh = c[:, None] * df + g[:, None] * di + i[:, None] * dg
    dc_dc = np.diag(f)
    dh_dh = t[:, None] * do + (o * (1 - t**2))[:, None] * dc_dh
    dh_dc = (o * (1 - t**2))[:, None] * dc_dc
    return np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])


STEPS = {"gru": gru_step, "lstm": lstm_step}
JACOBIANS = {"gru": gru_jacobian, "lstm": lstm_jacobian}


def step(cell, params, x, u=None):
    """One step of ``cell`` ("gru" or "lstm"); ``params = (W_ih, W_hh, b_ih, b_hh)``."""
    return STEPS[cell](*params, np.asarray(x, dtype=float), u)


def step_jacobian(cell, params, x, u=None):
    """The step Jacobian over the full state."""
    return JACOBIANS[cell](*params, np.asarray(x, dtype=float), u)


def fd_jacobian(cell, params, x, u=None, h=1e-6):
    """Central differences of `step` in the state."""
    x = np.asarray(x, dtype=float)
    J = np.empty((x.size, x.size))
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        J[:, j] = (step(cell, params, x + e, u) - step(cell, params, x - e, u)) / (2 * h)
    return J


def iterate(cell, params, x0, inputs=None, n_steps=None):
    """The trajectory ``x_0 ... x_T`` by a Python loop (T + 1, N)."""
    T = len(inputs) if inputs is not None else n_steps
    xs = [np.asarray(x0, dtype=float)]
    for t in range(T):
        xs.append(step(cell, params, xs[-1], None if inputs is None else inputs[t]))
    return np.array(xs)


def jacobian_products(cell, params, x0, inputs=None, n_steps=None):
    """``P[t][k] = dx_t/dx_k`` formed explicitly (eq. 5 of Pascanu et al. 2013), as a list of lists."""
    xs = iterate(cell, params, x0, inputs, n_steps)
    T = xs.shape[0] - 1
    Js = [step_jacobian(cell, params, xs[t - 1], None if inputs is None else inputs[t - 1]) for t in range(1, T + 1)]
    N = xs.shape[1]
    P = [[None] * (T + 1) for _ in range(T + 1)]
    for k in range(T + 1):
        M = np.eye(N)
        P[k][k] = M
        for t in range(k + 1, T + 1):
            M = Js[t - 1] @ M
            P[t][k] = M
    return xs, Js, P


def loss(cell, params, x0, inputs, targets, kind, at, W_out=None, b_out=None, n_steps=None):
    """The batch loss of `dynrnn.bptt` by a Python loop: the mean over sequences of sum_t E_t.

    ``x0`` (B, N); ``inputs`` (T, B, m) or None (then ``n_steps``); ``targets`` (T, B, q) for
    ``at="every"``, (B, q) for ``"last"``, floats (class distributions for the cross-entropy).
    ``kind``: "squared_error" (on h, the first n entries of the state), "readout_squared_error"
    or "cross_entropy" (softmax of W_out h + b_out).
    """
    n = params[1].shape[1]
    x0 = np.asarray(x0, dtype=float)
    B = x0.shape[0]
    T = inputs.shape[0] if inputs is not None else n_steps
    total = 0.0
    for q in range(B):
        x = x0[q]
        for t in range(1, T + 1):
            x = step(cell, params, x, None if inputs is None else inputs[t - 1, q])
            if at == "last" and t < T:
                continue
            target = targets[t - 1, q] if at == "every" else targets[q]
            h = x[:n]
            if kind == "squared_error":
                total += np.sum((h - target) ** 2)
                continue
            y = W_out @ h + b_out
            if kind == "readout_squared_error":
                total += np.sum((y - target) ** 2)
            else:
                top = y.max()
                total += np.sum(target * (top + np.log(np.sum(np.exp(y - top))) - y))
    return total / B


def fd_gradient(fun, value, h=1e-6):
    """Central differences of the scalar ``fun(value)`` over every entry of the array ``value``."""
    value = np.array(value, dtype=float)
    grad = np.empty_like(value)
    for idx in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (fun(up) - fun(down)) / (2 * h)
    return grad
