"""The temporal-order network and its MSGD-CR update, shared by ``bench_train.py`` and ``bench_population.py``.

Not run directly.  The network and update of Pascanu, Mikolov & Bengio
(2013), Sec. 4.1 (Figure 7): a standard-form tanh RNN with 50 units
(``smart_tanh``), one-hot 6-dimensional inputs, a softmax readout over 4
classes at the last step with the cross-entropy loss, and one MSGD-CR update
per batch (BPTT, Omega of eq. (10) with weight alpha, norm clipping of
Algorithm 1, an SGD step).  Here:

* :func:`make_problem`: the network and the batches that ``dynrnn.train``
  starts from and draws for a seed (also for ``cell="gru"`` or ``"lstm"``,
  the initial GRU or LSTM of ``bench_gated.py``);
* :func:`numpy_step`: the NumPy reference update;
* :func:`torch_omega_step` and :func:`torch_parts`: the PyTorch pieces;
* :func:`jax_updates`: the MSGD-C and MSGD-CR updates as pure JAX functions
  (to ``jit``, or ``vmap`` then ``jit``);
* :func:`flops_per_update`: the matrix-product flops of one update.

Importing this module sets no thread counts: the scripts set them before
importing NumPy.
"""

import numpy as np

__all__ = [
    "AGREEMENT",
    "ALPHA",
    "GATED_INIT",
    "GATED_PARAMS",
    "INIT",
    "LR",
    "N_CLASSES",
    "N_INPUTS",
    "N_UNITS",
    "OMEGA_BOUND",
    "PARAMS",
    "SEED",
    "THRESHOLD",
    "flops_per_update",
    "jax_updates",
    "make_problem",
    "numpy_step",
    "torch_omega_step",
    "torch_clipper",
    "torch_parts",
]

N_UNITS, N_INPUTS, N_CLASSES = 50, 6, 4
LR, THRESHOLD, ALPHA = 0.01, 1.0, 4.0  # the paper's Figure 7 settings (alpha: the paper's 4, the code's is 2)
# The agreement updates: (method, alpha, threshold).  The MSGD-C one clips at 0.1 so that the clip acts: the
# gradient norms of the first batch are about 0.84 with Omega and 0.17 without, both below THRESHOLD.
AGREEMENT = (("MSGD-CR", ALPHA, THRESHOLD), ("MSGD-C", 0.0, 0.1))
OMEGA_BOUND = 1e-20  # Omega skips the terms with ||dE/dx_{k+1}||^2 below this (the authors' code)
INIT = "smart_tanh"
SEED = 2013
PARAMS = ("W_rec", "W_in", "b", "W_out", "b_out")
GATED_INIT = "uniform"  # dynrnn.train's only initialization of a GRU or LSTM (PyTorch's default)
GATED_PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")  # PyTorch's names and order, then the readout


def make_problem(n_updates, n_steps, batch, seed=SEED, dtype=np.float64, cell="rnn"):
    """The network and batches that ``dynrnn.train(..., seed=seed, dtype=dtype, cell=cell)`` starts from and draws.

    Parameters
    ----------
    n_updates, n_steps, batch : int
        Batches to draw, their length T and their size B.
    seed : int, optional
        ``dynrnn.train``'s seed (``SeedSequence(seed).spawn(3)``: the first
        stream initializes, the second draws the batches).
    dtype : numpy dtype, optional
        Of the parameters and inputs.
    cell : {"rnn", "gru", "lstm"}, optional
        The task model: the ``smart_tanh`` RNN (the default), or a GRU or
        LSTM with ``dynrnn.train``'s ``"uniform"`` initialization.

    Returns
    -------
    tuple
        ``(W_rec, W_in, b, W_out, b_out, inputs, labels, targets)`` for the
        RNN, ``(W_ih, W_hh, b_ih, b_hh, W_out, b_out, inputs, labels,
        targets)`` (`GATED_PARAMS`, biases 1-D) for a GRU or LSTM: the
        initial parameters, inputs of shape (K, T, B, 6), integer labels
        (K, B) and the same labels one-hot, (K, 1, B, 4).
    """
    import dynrnn

    rng_init, rng_train, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    if cell == "rnn":
        net = dynrnn.init_network(INIT, N_UNITS, N_INPUTS, N_CLASSES, rng=rng_init, dtype=dtype)
        names = PARAMS
    else:
        net = dynrnn.init_network(GATED_INIT, N_UNITS, N_INPUTS, N_CLASSES, rng=rng_init, dtype=dtype, cell=cell)
        names = GATED_PARAMS
    params = tuple(np.array(getattr(net, k)) for k in names)
    inputs = np.empty((n_updates, n_steps, batch, N_INPUTS), dtype=dtype)
    labels = np.empty((n_updates, batch), dtype=np.int64)
    for k in range(n_updates):
        drawn = dynrnn.tasks.temporal_order(batch, n_steps, rng=rng_train, dtype=dtype)
        inputs[k], labels[k] = drawn.inputs, drawn.targets
    targets = np.zeros((n_updates, 1, batch, N_CLASSES), dtype=dtype)
    np.put_along_axis(targets[:, 0], labels[..., None], 1.0, axis=-1)
    return (*params, inputs, labels, targets)


def flops_per_update(steps, batch, omega=True):
    """Matrix-product flops of one update: forward, backward, weight gradients (and Omega's gradient).

    ``T B (8 n^2 + 4 n m)`` for MSGD-CR, ``T B (6 n^2 + 4 n m)`` without Omega.
    """
    n, m = N_UNITS, N_INPUTS
    return steps * batch * ((8 if omega else 6) * n * n + 4 * n * m)


# ------------------------------------------------------------------ NumPy


def numpy_step(params, inputs, labels, targets, alpha, threshold):
    """Reference: one MSGD-CR update (MSGD-C for ``alpha = 0``) in place, batched NumPy matrix products.

    Forward ``h_t = tanh(W_rec h_{t-1} + W_in u_t + b)``, softmax
    cross-entropy at the last step (batch mean), BPTT, Omega of eq. (10)
    (squared-norm ratio, mean over the terms kept) with its gradient
    ``dOmega/dW_rec`` holding ``x_k`` and ``dE/dx_{k+1}`` constant, then
    Algorithm 1 on the whole gradient and ``theta -= lr g``.
    """
    W_rec, W_in, b, W_out, b_out = params
    T, B, m = inputs.shape
    n = W_rec.shape[0]
    h = np.zeros((T + 1, B, n))
    for t in range(1, T + 1):
        h[t] = np.tanh(h[t - 1] @ W_rec.T + inputs[t - 1] @ W_in.T + b)
    y = h[T] @ W_out.T + b_out
    y -= y.max(axis=1, keepdims=True)
    dy = np.exp(y)
    dy /= dy.sum(axis=1, keepdims=True)
    dy[np.arange(B), labels] -= 1.0
    dy /= B
    dW_out = dy.T @ h[T]
    db_out = dy.sum(axis=0)
    G = np.empty((T + 1, B, n))  # G[t] = dE/dh_t
    delta = np.empty((T, B, n))  # delta[k] = tanh'(a_{k+1}) G[k+1] = q_k of Omega
    back = np.empty((T, B, n))  # back[k] = W_rec^T delta[k] = dE/dh_{k+1} dh_{k+1}/dh_k
    G[T] = dy @ W_out
    for t in range(T, 0, -1):
        delta[t - 1] = G[t] * (1.0 - h[t] ** 2)
        back[t - 1] = G[t - 1] = delta[t - 1] @ W_rec
    d = delta.reshape(T * B, n)
    dW_rec = d.T @ h[:T].reshape(T * B, n)
    dW_in = d.T @ inputs.reshape(T * B, m)
    db = d.sum(axis=0)
    if alpha > 0.0:
        g2 = (G[1:] ** 2).sum(axis=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = np.where(keep, g2, 1.0)
        dev = (back**2).sum(axis=2) / g2 - 1.0  # Omega = mean over kept terms of dev^2
        coef = np.where(keep, 4.0 * dev / g2, 0.0) / max(int(keep.sum()), 1)
        dW_rec += alpha * ((coef[:, :, None] * delta).reshape(T * B, n).T @ back.reshape(T * B, n))
    grads = (dW_rec, dW_in, db, dW_out, db_out)
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    factor = threshold / norm if norm >= threshold else 1.0
    for p, g in zip(params, grads, strict=True):
        p -= (LR * factor) * g


# ---------------------------------------------------------------- PyTorch


def torch_omega_step(torch, params, inputs, labels, alpha):
    """PyTorch MSGD-CR gradients: a step loop (dE/dh_t kept by ``retain_grad``) and Omega's gradient by autograd.

    Leaves the total gradient in ``p.grad`` for ``params = (W_rec, W_in, b,
    W_out, b_out)``; Omega of eq. (10) with ``q_k = tanh'(a_{k+1})
    dE/dh_{k+1}`` and ``dE/dh_{k+1}`` detached (held constant).
    """
    W_rec, W_in, b, W_out, b_out = params
    h = inputs.new_zeros(inputs.shape[1], W_rec.shape[0])
    states = []
    for u in inputs:
        h = torch.tanh(h @ W_rec.T + u @ W_in.T + b)
        h.retain_grad()
        states.append(h)
    loss = torch.nn.functional.cross_entropy(h @ W_out.T + b_out, labels)
    loss.backward()
    if alpha > 0.0:
        G = torch.stack([s.grad for s in states])
        H = torch.stack(states).detach()
        q = (1.0 - H * H) * G
        g2 = (G * G).sum(dim=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = torch.where(keep, g2, 1.0)
        W = W_rec.detach().requires_grad_()
        v = q @ W
        dev = (v * v).sum(dim=2) / g2 - 1.0
        omega = torch.where(keep, dev * dev, 0.0).sum() / max(int(keep.sum()), 1)
        (grad_omega,) = torch.autograd.grad(omega, W)
        W_rec.grad += alpha * grad_omega


def torch_clipper(params):
    """Return ``clip(threshold)``: Algorithm 1 on the gradients of ``params`` (torch tensors), in place.

    ``torch.nn.utils.clip_grad_norm_`` divides by ``norm + 1e-6``; given ``norm - 1e-6`` its two halves
    divide by the norm itself, Algorithm 1's factor ``threshold / norm``, at the same cost.
    """
    import torch

    def clip(threshold):
        norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        torch.nn.utils.clip_grads_with_norm_(params, threshold, norm - 1e-6)

    return clip


def torch_parts(threads, dtype=np.float64):
    """The PyTorch model, its five trained parameters, the optimizer and the clip (Algorithm 1).

    Parameters
    ----------
    threads : int
        ``torch.set_num_threads``.
    dtype : numpy dtype, optional
        float64 or float32.

    Returns
    -------
    tuple
        ``(torch, rnn, readout, params, opt, clip, start, read)``:
        ``nn.RNN`` (its second bias ``bias_hh`` held at zero), ``nn.Linear``,
        the parameters ``(W_rec, W_in, b, W_out, b_out)``, ``optim.SGD``,
        ``clip(threshold)`` (Algorithm 1 on the gradients),
        ``start(params0)`` (copy NumPy parameters in) and ``read(state)``
        (NumPy copies of the parameters).
    """
    import torch

    torch.set_num_threads(threads)
    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    rnn = torch.nn.RNN(N_INPUTS, N_UNITS, nonlinearity="tanh", dtype=tdtype)
    readout = torch.nn.Linear(N_UNITS, N_CLASSES, dtype=tdtype)
    rnn.bias_hh_l0.requires_grad_(False)
    params = (rnn.weight_hh_l0, rnn.weight_ih_l0, rnn.bias_ih_l0, readout.weight, readout.bias)
    opt = torch.optim.SGD(params, lr=LR)

    clip = torch_clipper(params)

    def start(params0):
        with torch.no_grad():
            for p, p0 in zip(params, params0, strict=True):
                p.copy_(torch.from_numpy(p0))
            rnn.bias_hh_l0.zero_()

    def read(state):
        return tuple(p.detach().numpy().copy() for p in params)

    return torch, rnn, readout, params, opt, clip, start, read


# -------------------------------------------------------------------- JAX


def jax_updates():
    """The MSGD-C and MSGD-CR updates as pure JAX functions (not jitted), ``jax_enable_x64`` on.

    Returns
    -------
    jax, jnp : module
    msgd_c : callable
        ``msgd_c(params, inputs, labels, threshold) -> params``: ``lax.scan``
        forward, ``grad``, Algorithm 1, SGD.
    msgd_cr : callable
        ``msgd_cr(params, inputs, labels, alpha, threshold) -> params``: the
        same plus Omega of eq. (10), dE/dh_t taken as the gradient with
        respect to a zero added to each state.

    Both compute in the dtype of the parameters.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss_fn(params, inputs, labels, E):
        W_rec, W_in, b, W_out, b_out = params

        def cell(h, ue):
            u, e = ue
            h = jnp.tanh(h @ W_rec.T + u @ W_in.T + b) + e  # e = 0: dLoss/de_t = dE/dh_t
            return h, h

        h0 = jnp.zeros((inputs.shape[1], W_rec.shape[0]), dtype=W_rec.dtype)
        h, H = jax.lax.scan(cell, h0, (inputs, E))
        logp = jax.nn.log_softmax(h @ W_out.T + b_out)
        return -jnp.mean(logp[jnp.arange(labels.shape[0]), labels]), H

    def update(params, grads, threshold):
        norm = jnp.sqrt(sum(jnp.sum(g * g) for g in grads))
        factor = jnp.where(norm >= threshold, threshold / norm, 1.0)
        return tuple(p - (LR * factor) * g for p, g in zip(params, grads, strict=True))

    def zeros_like_states(params, inputs):
        return jnp.zeros((*inputs.shape[:2], params[0].shape[0]), dtype=params[0].dtype)

    def msgd_c(params, inputs, labels, threshold):
        E = zeros_like_states(params, inputs)
        grads, _ = jax.grad(loss_fn, has_aux=True)(params, inputs, labels, E)
        return update(params, grads, threshold)

    def msgd_cr(params, inputs, labels, alpha, threshold):
        E = zeros_like_states(params, inputs)
        (grads, G), H = jax.grad(loss_fn, argnums=(0, 3), has_aux=True)(params, inputs, labels, E)
        q = (1.0 - H * H) * G
        g2 = jnp.sum(G * G, axis=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = jnp.where(keep, g2, 1.0)

        def omega(W):
            v = q @ W
            dev = jnp.sum(v * v, axis=2) / g2 - 1.0
            return jnp.sum(jnp.where(keep, dev * dev, 0.0)) / jnp.maximum(jnp.sum(keep), 1)

        grads = (grads[0] + alpha * jax.grad(omega)(params[0]), *grads[1:])
        return update(params, grads, threshold)

    return jax, jnp, msgd_c, msgd_cr
