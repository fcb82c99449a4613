"""One training update of a gated task model (GRU or LSTM), written once for the CPU and for CUDA.

``make_gated_member_update`` builds, from a gated cell's batch level
(``make_step_rows`` and ``make_vjp_rows`` of ``dynrnn/cells/gru.py`` or
``lstm.py``), the small products (``blocked.py`` or BLAS), the loss head
(``scalar_bptt.py``) and a team barrier ``sync``, the function that
advances one training run by one update: the forward pass over a batch
from ``h_0 = 0`` (and ``c_0 = 0``), the losses of the readout on ``h_t``,
the backward pass (BPTT, eqs. 3-5 of Pascanu et al. 2013, with the cell's
step Jacobian), the gradients of ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``,
``W_out`` and ``b_out``, the global norm with the non-finite policy,
Algorithm 1 and the (momentum) SGD step, in place.  It is what
`dynrnn.bptt` -> `dynrnn.clip_grad_norm` -> ``dynrnn.optim.SGD.step``
compute one after another.  There is no Omega: eqs. (9)-(10) are defined
here for the RNN's Jacobian only, so MSGD-CR is refused for gated cells
(``stats[OMEGA]`` is NaN); the ``"shrink"`` guard shrinks ``W_hh``, the
recurrent weights, as it shrinks the RNN's ``W_rec``.

The team shares the work as in ``scalar_train.py``: the passes through time
split the batch's sequences, the weight gradients split the rows of their
outputs, and worker 0 makes the scalar decisions.

Layouts, with K = kn the gate rows (k = 3 for the GRU, 4 for the LSTM), T
the member's length and T_s its scored steps: states ``H`` and ``C`` (T + 1,
B, n) with ``H[0] = C[0] = 0`` (``C`` is the LSTM's cell state; the GRU
leaves it unread); per step scratch ``V`` (the input drive ``U_t W_ih^T +
b_ih``) and ``A`` (``H_{t-1} W_hh^T``), (B, K); kept for the backward pass,
``Gates`` (T, B, K) and ``Aux`` (T, B, n) (the cell's choice, row t - 1);
errors ``G`` and ``Gc`` (T + 1, B, n) on ``h_t`` and ``c_t``; gate errors
``D_ih`` and ``D_hh`` (T, B, K); direct gradients ``E`` (T_s, B, n);
outputs ``Y`` and ``Yg`` (T_s, B, q).  Vectors (biases, their velocities
and gradients) are (1, K) or (1, q) rows.
"""

import math

from ..cells import rnn
from . import blocked, scalar_bptt
from .scalar_train import (
    FACTOR,
    FACTOR_REC,
    LOSS,
    N_VALID,
    OMEGA,
    SUM_MIN,
    UPDATED,
    _max_abs,
    _sum_scaled,
    _sum_squares,
    make_clip_decision,
    make_sgd,
)


def make_global_norm6(sum_squares, max_abs, sum_scaled):
    """Return ``global_norm(g0, ..., g5)``: the L2 norm of six 2-D gradients together (see
    ``scalar_train.make_global_norm``: the same rule, without spurious overflow)."""

    def global_norm(g0, g1, g2, g3, g4, g5):
        total = sum_squares(g0) + sum_squares(g1) + sum_squares(g2) + sum_squares(g3) + sum_squares(g4)
        total += sum_squares(g5)
        if SUM_MIN < total < math.inf:
            return math.sqrt(total)
        scale = 0.0
        for top in (max_abs(g0), max_abs(g1), max_abs(g2), max_abs(g3), max_abs(g4), max_abs(g5)):
            if math.isnan(top):
                return math.nan
            scale = max(scale, top)
        if scale == 0.0 or scale == math.inf:
            return scale
        total = sum_scaled(g0, scale) + sum_scaled(g1, scale) + sum_scaled(g2, scale)
        total += sum_scaled(g3, scale) + sum_scaled(g4, scale) + sum_scaled(g5, scale)
        return scale * math.sqrt(total)

    return global_norm


def make_gated_member_update(jit, cell, sigmoid, tanh, exp, sync, shrink_above, shrink_rate, products=None):
    """Return the update of one gated member (see the module notes), every piece compiled by ``jit``.

    ``cell`` is the cell's module (``dynrnn.cells.gru`` or ``lstm``);
    ``sigmoid``, ``tanh`` and ``exp`` are the backend's compiled functions;
    ``sync`` is the team barrier; ``products`` as for
    ``scalar_train.make_member_update``.
    """
    span = jit(blocked.span)
    if products is None:
        gemm_nn, gemm_tn, column_sums = (jit(f) for f in blocked.make_products(span))
        products = (gemm_nn, *(jit(f) for f in blocked.make_step_sums(gemm_tn, column_sums)))
    gemm_nn, gemm_tn_steps, column_sums_steps = products
    drive = jit(rnn.make_drive(gemm_nn, span))  # V_t = U_t W_ih^T + b_ih: the same for every cell
    step_rows = jit(cell.make_step_rows(sigmoid, tanh, gemm_nn, span))
    vjp_rows = jit(cell.make_vjp_rows(gemm_nn, span))
    loss_head = jit(scalar_bptt.make_loss_head(exp))
    global_norm = jit(make_global_norm6(jit(_sum_squares), jit(_max_abs), jit(_sum_scaled)))
    decide = jit(make_clip_decision(shrink_above, shrink_rate))
    sgd = jit(make_sgd(span))

    def update(worker, n_workers, W_ih, W_hh, b_ih, b_hh, W_out, b_out, v_ih, v_hh, v_bih, v_bhh, v_out, v_bout,
               U, P, kind, every, scale, lr, mu, nesterov, threshold, nonfinite,
               W_ihT, W_hhT, V, A, H, C, Gates, Aux, E, Y, Yg, G, Gc, D_ih, D_hh, loss_seq,
               gWih, gWhh, gbih, gbhh, gWout, gbout, stats):  # fmt: skip
        T, B, m = U.shape
        K, n = W_hh.shape
        T_s = P.shape[0]
        # Transposed weights for the forward products (rows shared).
        lo, hi = span(n, worker, n_workers)
        for j in range(lo, hi):
            for r in range(K):
                W_hhT[j, r] = W_hh[r, j]
        lo, hi = span(m, worker, n_workers)
        for c in range(lo, hi):
            for r in range(K):
                W_ihT[c, r] = W_ih[r, c]
        sync()
        # Forward, losses and backward: each worker owns the sequences [q0, q1) throughout.
        q0, q1 = span(B, worker, n_workers)
        for q in range(q0, q1):
            for i in range(n):
                H[0, q, i] = 0.0
                C[0, q, i] = 0.0
        for t in range(1, T + 1):
            drive(U[t - 1], W_ihT, b_ih[0], V, worker, n_workers)
            step_rows(W_hhT, b_hh[0], H[t - 1], C[t - 1], V, A, H[t], C[t], Gates[t - 1], Aux[t - 1], worker,
                      n_workers)  # fmt: skip
        for q in range(q0, q1):
            total = 0.0
            for r in range(T_s):
                t = r + 1 if every else T
                total += loss_head(kind, W_out, b_out[0], H[t, q], P[r, q], scale, Y[r, q], Yg[r, q], E[r, q])
            loss_seq[q] = total
            for i in range(n):
                G[T, q, i] = E[T_s - 1, q, i]
                Gc[T, q, i] = 0.0
        for t in range(T, 0, -1):  # g_{t-1} = J_t^T g_t + dE_{t-1}/dh_{t-1}
            vjp_rows(W_hh, H[t - 1], C[t - 1], Gates[t - 1], Aux[t - 1], G[t], Gc[t], D_ih[t - 1], D_hh[t - 1],
                     G[t - 1], Gc[t - 1], worker, n_workers)  # fmt: skip
            if every and t >= 2:
                for q in range(q0, q1):
                    for i in range(n):
                        G[t - 1, q, i] += E[t - 2, q, i]
        sync()
        # Gradients of the loss: immediate partials of eq. (4) summed over steps and sequences.
        gemm_tn_steps(D_ih, U, gWih, worker, n_workers)
        gemm_tn_steps(D_hh, H[:T], gWhh, worker, n_workers)
        column_sums_steps(D_ih, gbih[0], worker, n_workers)
        column_sums_steps(D_hh, gbhh[0], worker, n_workers)
        gemm_tn_steps(Yg, H[T + 1 - T_s : T + 1], gWout, worker, n_workers)
        column_sums_steps(Yg, gbout[0], worker, n_workers)
        sync()
        # Algorithm 1 on the gradient, with the non-finite policy first (worker 0 decides).
        if worker == 0:
            loss = 0.0
            for q in range(B):
                loss += loss_seq[q]
            stats[LOSS] = loss * scale
            stats[OMEGA] = math.nan  # not defined for a gated cell
            stats[N_VALID] = 0.0
            # the shrink guard acts on W_hh, the recurrent weights, as on the RNN's W_rec
            decide(global_norm(gWih, gWhh, gbih, gbhh, gWout, gbout), W_hh, gWhh, threshold, nonfinite, stats)
        sync()
        if stats[UPDATED] == 0.0:
            return
        factor = stats[FACTOR]
        sgd(W_ih, v_ih, gWih, factor, lr, mu, nesterov, worker, n_workers)
        sgd(W_hh, v_hh, gWhh, stats[FACTOR_REC], lr, mu, nesterov, worker, n_workers)
        sgd(b_ih, v_bih, gbih, factor, lr, mu, nesterov, worker, n_workers)
        sgd(b_hh, v_bhh, gbhh, factor, lr, mu, nesterov, worker, n_workers)
        sgd(W_out, v_out, gWout, factor, lr, mu, nesterov, worker, n_workers)
        sgd(b_out, v_bout, gbout, factor, lr, mu, nesterov, worker, n_workers)

    return update
