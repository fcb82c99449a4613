"""Backend-neutral loops over a gated cell (``cells/gru.py``, ``cells/lstm.py``), in the Numba subset.

Plain Python that ``numba.njit`` and ``numba.cuda.jit(device=True)`` both
accept; ``gated.py`` compiles it for the CPU.  Each factory closes over a
compiled cell's ``step`` and ``jacobian``, whose signatures are
``step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out)`` and
``jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J)``, with ``x`` the whole
state (``h`` for the GRU, ``(h, c)`` for the LSTM).

Two factories fit a gated cell into the RNN's loops, written once in
``scalar.py``, by filling their argument slots with the gated parameters:

- `make_orbit_step` for ``scalar.make_orbit`` (`dynrnn.iterate`): the
  slots ``(W_rec, W_in, b, alpha)`` carry ``(W_hh, W_ih, b_ih, b_hh)``;
- `make_fixed_point_residual` for ``scalar.make_fixed_point_newton``
  (`dynrnn.fixed_points`): the slots ``(W_rec, b)`` carry ``W_hh`` and the
  biases stacked as ``(b_ih, b_hh)``, and the input is zero.

`make_bptt` and `make_lag_contributions` are backpropagation through time
over a batch (`dynrnn.bptt`), one sequence at a time, with the cell's
``deltas`` (the errors on its gates' pre-activations) as the backward step.
"""

import math


def make_orbit_step(step):
    """Return ``orbit_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out)`` for ``scalar.make_orbit``.

    The RNN's slots carry the gated parameters: ``W_rec = W_hh``, ``W_in =
    W_ih``, ``b = b_ih``, ``alpha = b_hh``; ``paper``, ``leaky`` and the
    scratch ``s`` are not read.
    """

    def orbit_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out):
        step(W_in, W_rec, b, alpha, x, u, driven, out)

    return orbit_step


def make_trajectory(step, jacobian):
    """Return ``trajectory(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians)``.

    Iterates from ``x[0]``, writing ``x_1 ... x_B`` into ``x[1:]`` (B =
    ``jacobians.shape[0]``), and the step Jacobian ``J_i = dx_i/dx_{i-1}``
    (over the full state) into ``jacobians[i - 1]``.  As in `dynrnn.iterate`,
    the first non-finite state is kept as computed and every later one is
    NaN (and so are the Jacobians at them).
    """

    def trajectory(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians):
        N = x.shape[1]
        for i in range(1, jacobians.shape[0] + 1):
            finite = True
            for j in range(N):
                finite = finite and math.isfinite(x[i - 1, j])
            if finite:
                step(W_ih, W_hh, b_ih, b_hh, x[i - 1], inputs[i - 1], driven, x[i])
            else:
                for j in range(N):
                    x[i, j] = math.nan
            jacobian(W_ih, W_hh, b_ih, b_hh, x[i - 1], inputs[i - 1], driven, jacobians[i - 1])

    return trajectory


def make_fixed_point_residual(step, jacobian):
    """Return ``residual(W_rec, b, x, paper, jacobian, s, ds, r, J)`` for ``scalar.make_fixed_point_newton``.

    ``step`` and ``jacobian`` are a map ``G`` with the cell's fixed points and
    its Jacobian (the cell's ``fixed_point_map`` and ``fixed_point_jacobian``,
    with the signatures of its step).  The slots carry ``W_rec = W_hh`` and ``b`` (2, kn), the biases stacked
    as ``(b_ih, b_hh)``; the input is zero (``u_t = 0``, so ``W_ih`` is never
    read), and ``paper``, ``s`` and ``ds`` are not read.  Writes ``r = G(x) -
    x`` and, when ``jacobian``, ``J = J_G(x) - I``; returns ``||r||^2``.
    """

    def fixed_point_residual(W_rec, b, x, paper, with_jacobian, s, ds, r, J):
        N = x.shape[0]
        step(W_rec, W_rec, b[0], b[1], x, b[0], False, r)
        for i in range(N):
            r[i] -= x[i]
        if with_jacobian:
            jacobian(W_rec, W_rec, b[0], b[1], x, b[0], False, J)
            for i in range(N):
                J[i, i] -= 1.0
        sq = 0.0
        for i in range(N):
            sq += r[i] * r[i]
        return sq

    return fixed_point_residual


def make_points(step, jacobian):
    """Return ``points(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J)``: the step and its Jacobian at P states.

    ``X`` (P, N) states, ``U`` (P, m) their inputs (read when ``driven``);
    writes the next states ``F`` (P, N) and the Jacobians ``J`` (P, N, N).
    """

    def points(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J):
        for p in range(X.shape[0]):
            step(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, F[p])
            jacobian(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, J[p])

    return points


# ---------------------------------------------------------------------------
# Backpropagation through time (Pascanu et al. 2013, eqs. 3-5) over a batch of sequences.
# ---------------------------------------------------------------------------
def make_bptt(step, deltas, loss_head):
    """Return ``bptt(...)``: the forward pass, the losses and the backward pass of every sequence.

    The signature is ``bptt(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P,
    kind, every, driven, scale, Z, Y, Yg, E, G, D_ih, D_hh, loss_seq)``.
    ``step`` and ``deltas`` are the cell's; ``loss_head`` is
    ``scalar_bptt.make_loss_head``'s, applied to the observed state ``h_t``
    (the first n entries of the state).  Layouts (T steps, B sequences, N =
    the state size, K = kn gate rows): states ``Z``, total errors ``G =
    dloss/dx_t`` (T + 1, B, N); direct errors ``E`` (T_s, B, N), zero on the
    LSTM's cell state; gate errors ``D_ih``, ``D_hh`` (T, B, K) with row
    ``t - 1`` for step t (`make_deltas` of the cell); readout ``Y`` and its
    error ``Yg`` (T_s, B, q).  ``P`` (T_s, B, q) holds the targets of the
    scored steps (every step, or only T); ``scale`` is 1/B.  Writes
    ``loss_seq`` (B,), unscaled.
    """

    def bptt(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P, kind, every, driven, scale, Z, Y, Yg, E, G,
             D_ih, D_hh, loss_seq):  # fmt: skip
        T = D_ih.shape[0]
        N = Z.shape[2]
        n = W_hh.shape[1]
        last = E.shape[0] - 1
        for q in range(Z.shape[1]):
            for i in range(N):
                Z[0, q, i] = x0[q, i]
            for t in range(1, T + 1):
                step(W_ih, W_hh, b_ih, b_hh, Z[t - 1, q], U[t - 1, q], driven, Z[t, q])
            total = 0.0
            for r in range(P.shape[0]):
                t = r + 1 if every else T
                total += loss_head(kind, W_out, b_out, Z[t, q, :n], P[r, q], scale, Y[r, q], Yg[r, q], E[r, q, :n])
                for i in range(n, N):
                    E[r, q, i] = 0.0
            loss_seq[q] = total
            for i in range(N):
                G[T, q, i] = E[last, q, i]
            for t in range(T, 0, -1):  # g_{t-1} = J_t^T g_t + dE_{t-1}/dx_{t-1}
                deltas(W_ih, W_hh, b_ih, b_hh, Z[t - 1, q], U[t - 1, q], driven, G[t, q], D_ih[t - 1, q],
                       D_hh[t - 1, q], G[t - 1, q])  # fmt: skip
                if every and t >= 2:
                    for i in range(N):
                        G[t - 1, q, i] += E[t - 2, q, i]

    return bptt


def make_lag_contributions(deltas):
    """Return ``lag_contributions(...)``: the temporal contributions of eq. (4) with a loss at every step.

    The signature is ``lag_contributions(W_ih, W_hh, b_ih, b_hh, Z, U, E,
    driven, window, g, g_back, d_ih, d_hh, L_ih, L_hh, Lb_ih, Lb_hh, S_ih,
    S_hh, Sb_ih, Sb_hh)``.
    For each scored step t, the error ``E[t - 1]`` is carried back alone
    (one backward pass per t), and the term of ``E_t`` through ``x_k`` --
    the immediate partials of step k, ``d_ih u_k^T``, ``d_hh h_{k-1}^T``,
    ``d_ih``, ``d_hh`` -- is added to lag ``t - k`` of ``L_ih`` (T, K, m),
    ``L_hh`` (T, K, n), ``Lb_ih``, ``Lb_hh`` (T, K), and when ``window`` to
    window ``[t - 1, k - 1]`` of ``S_*`` (T, T, ...).  ``g``, ``g_back`` (N,)
    and ``d_ih``, ``d_hh`` (K,) are scratch.
    """

    def lag_contributions(W_ih, W_hh, b_ih, b_hh, Z, U, E, driven, window, g, g_back, d_ih, d_hh, L_ih, L_hh,
                          Lb_ih, Lb_hh, S_ih, S_hh, Sb_ih, Sb_hh):  # fmt: skip
        T = E.shape[0]
        n = W_hh.shape[1]
        m = U.shape[2]
        K = d_ih.shape[0]
        for q in range(Z.shape[1]):
            for t in range(1, T + 1):
                for i in range(g.shape[0]):
                    g[i] = E[t - 1, q, i]
                for k in range(t, 0, -1):
                    deltas(W_ih, W_hh, b_ih, b_hh, Z[k - 1, q], U[k - 1, q], driven, g, d_ih, d_hh, g_back)
                    lag = t - k
                    for row in range(K):
                        a = d_ih[row]
                        c = d_hh[row]
                        Lb_ih[lag, row] += a
                        Lb_hh[lag, row] += c
                        for j in range(n):
                            L_hh[lag, row, j] += c * Z[k - 1, q, j]
                        if driven:
                            for j in range(m):
                                L_ih[lag, row, j] += a * U[k - 1, q, j]
                        if window:
                            Sb_ih[t - 1, k - 1, row] += a
                            Sb_hh[t - 1, k - 1, row] += c
                            for j in range(n):
                                S_hh[t - 1, k - 1, row, j] += c * Z[k - 1, q, j]
                            if driven:
                                for j in range(m):
                                    S_ih[t - 1, k - 1, row, j] += a * U[k - 1, q, j]
                    for i in range(g.shape[0]):
                        g[i] = g_back[i]

    return lag_contributions
