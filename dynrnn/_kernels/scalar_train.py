"""One training update of the task model, written once for the CPU and for CUDA.

``make_member_update`` builds, from a cell (``dynrnn/cells/rnn.py``), the
small products (``blocked.py``), a loss head (``scalar_bptt.py``) and a
team barrier ``sync``, the function that advances one training run by one
update: the forward pass over a batch, the losses, the backward pass
(BPTT, eqs. 3-5), the parameter gradients, Omega of eq. (10) and its
gradient, the global norm with the non-finite policy, Algorithm 1 and the
(momentum) SGD step, in place on the member's arrays.  It is what
`dynrnn.bptt` -> `dynrnn.vanishing_regularizer` -> `dynrnn.clip_grad_norm`
-> ``dynrnn.optim.SGD.step`` compute one after another, for the task model
of `dynrnn.train` (standard form, ``h_0 = 0``, a readout, and a leak
``h_t = leak h_{t-1} + (1 - leak) sigma(a_t)`` per unit when ``leaky``).

Plain Python in the Numba subset: no allocation, no BLAS, results written
into arguments.  Work is shared by a team of ``n_workers`` (a CUDA block;
on the CPU ``worker = 0, n_workers = 1`` and ``sync`` does nothing): the
passes through time split the batch's sequences, the reductions split the
rows of their outputs, and the scalar decisions (Omega's weight, the norm,
clipping) are made by worker 0 and read by all after a ``sync``.

Layouts, with T the member's length and T_s its scored steps (T, or 1):
states ``S`` and slopes ``D`` (T + 1, B, n) with ``S[0] = h_0 = 0``; input
drive ``V``, ``Delta`` (dE/da_t, row t - 1) and ``Back`` (``J_t^T
dE/dh_t = Delta_t W_rec + leak dE/dh_t``, kept for Omega) (T, B, n); ``G``
(T + 1, B, n) = dE/dh_t; direct gradients ``E`` (T_s, B, n); outputs ``Y``
and ``Yg = dE/dy`` (T_s, B, q); ``Om`` (3, T, B) Omega's per-term scratch.
The vectors ``b``, ``b_out``, their velocities and gradients are passed as
(1, n) rows, so that every parameter is a 2-D array (device code cannot
reshape); the leak is a row ``leak`` (n,) (zeros, unread, when not
``leaky``).
"""

import math

from ..cells import rnn
from . import blocked, scalar_bptt

# Non-finite policies of an update (codes passed to the kernel).
SKIP, SHRINK, STOP = 0, 1, 2
NONFINITE_CODES = {"skip": SKIP, "shrink": SHRINK, "stop": STOP}

# Slots of the ``stats`` row an update writes (FACTOR and FACTOR_REC are the team's shared decision).
LOSS, NORM, OMEGA, N_VALID, CLIPPED, SKIPPED, SHRUNK, UPDATED, FACTOR, FACTOR_REC = range(10)
N_STATS = 10

SUM_MIN = 1e-250  # below it a sum of squares may have lost digits to underflow: rescale


def _row_sum_squares(x):
    """``sum_i x_i^2`` of a 1-D array in four interleaved partial sums (a fixed order), which vectorises."""
    n = x.shape[0]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    i = 0
    while i + 4 <= n:
        a0 += x[i] * x[i]
        a1 += x[i + 1] * x[i + 1]
        a2 += x[i + 2] * x[i + 2]
        a3 += x[i + 3] * x[i + 3]
        i += 4
    while i < n:
        a0 += x[i] * x[i]
        i += 1
    return (a0 + a1) + (a2 + a3)


def _sum_squares(A):
    total = 0.0
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            total += A[r, c] * A[r, c]
    return total


def _max_abs(A):
    """max |A|, NaN if any entry is NaN."""
    top = 0.0
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            v = A[r, c]
            if math.isnan(v):
                return math.nan
            w = abs(v)
            if w > top:
                top = w
    return top


def _sum_scaled(A, scale):
    total = 0.0
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            w = A[r, c] / scale
            total += w * w
    return total


def make_global_norm(sum_squares, max_abs, sum_scaled):
    """Return ``global_norm(g0, ..., g4)``: the L2 norm of five 2-D gradients together, as `dynrnn.clip_grad_norm`
    computes it (no spurious overflow)."""

    def global_norm(g0, g1, g2, g3, g4):
        total = sum_squares(g0) + sum_squares(g1) + sum_squares(g2) + sum_squares(g3) + sum_squares(g4)
        if SUM_MIN < total < math.inf:
            return math.sqrt(total)
        scale = 0.0
        for top in (max_abs(g0), max_abs(g1), max_abs(g2), max_abs(g3), max_abs(g4)):
            if math.isnan(top):
                return math.nan
            scale = max(scale, top)
        if scale == 0.0 or scale == math.inf:
            return scale
        total = sum_scaled(g0, scale) + sum_scaled(g1, scale) + sum_scaled(g2, scale)
        total += sum_scaled(g3, scale) + sum_scaled(g4, scale)
        return scale * math.sqrt(total)

    return global_norm


def make_clip_decision(shrink_above, shrink_rate):
    """Return ``decide(norm, W_rec, gW_rec, threshold, nonfinite, stats)``: Algorithm 1 after the non-finite policy.

    Made by worker 0 of a team, once the global ``norm`` of the gradient is
    known; it writes ``stats`` (NORM, CLIPPED, SKIPPED, SHRUNK, UPDATED and
    the shared factors FACTOR, for every gradient, and FACTOR_REC, for the
    recurrent weights' one):

    * ``"shrink"`` and a norm that is NaN, inf or above ``shrink_above``:
      the authors' guard, ``gW_rec <- shrink_rate W_rec`` (in place, used
      with FACTOR_REC = 1) and every other gradient dropped;
    * any other non-finite norm: nothing is applied (``"skip"``), or the run
      stops (``"stop"``: UPDATED = 0);
    * ``norm >= threshold``: every gradient is scaled by ``threshold / norm``
      (Algorithm 1, as `dynrnn.clip_grad_norm`).

    ``W_rec`` is the recurrent weight matrix of the cell (the RNN's
    ``W_rec``, a gated cell's ``W_hh``) and ``gW_rec`` its gradient.
    """

    def decide(norm, W_rec, gW_rec, threshold, nonfinite, stats):
        stats[NORM] = norm
        stats[CLIPPED] = 0.0
        stats[SKIPPED] = 0.0
        stats[SHRUNK] = 0.0
        stats[UPDATED] = 1.0
        factor = 1.0  # applied to every gradient but W_rec's under the shrink guard
        factor_rec = 1.0
        if nonfinite == SHRINK and not norm <= shrink_above:  # NaN, inf or > 1e10: the authors' guard
            stats[SHRUNK] = 1.0
            for r in range(W_rec.shape[0]):
                for c in range(W_rec.shape[1]):
                    gW_rec[r, c] = shrink_rate * W_rec[r, c]
            factor = 0.0
        elif not math.isfinite(norm):
            factor = 0.0
            factor_rec = 0.0
            if nonfinite == STOP:
                stats[UPDATED] = 0.0
            else:
                stats[SKIPPED] = 1.0
        elif norm >= threshold:
            stats[CLIPPED] = 1.0
            factor = threshold / norm
            factor_rec = factor
        stats[FACTOR] = factor
        stats[FACTOR_REC] = factor_rec

    return decide


def make_sgd(span):
    """Return ``sgd(theta, v, g, factor, lr, mu, nesterov, worker, n_workers)`` on 2-D arrays (rows shared).

    ``v <- mu v - lr (factor g)``; ``theta <- theta + v`` (classical) or
    ``theta + mu^2 v_old - (1 + mu) lr (factor g)`` (simplified Nesterov), as
    ``dynrnn.optim.SGD``; ``factor = 0`` is a zero gradient (a skipped NaN
    gradient must not leak through ``0 * NaN``).
    """

    def sgd(theta, v, g, factor, lr, mu, nesterov, worker, n_workers):
        lo, hi = span(theta.shape[0], worker, n_workers)
        for r in range(lo, hi):
            for c in range(theta.shape[1]):
                gi = factor * g[r, c] if factor != 0.0 else 0.0
                v_new = mu * v[r, c] - lr * gi
                if nesterov:
                    theta[r, c] += (mu * mu) * v[r, c] - ((1.0 + mu) * lr) * gi
                else:
                    theta[r, c] += v_new
                v[r, c] = v_new

    return sgd


def make_member_update(jit, sigma_dsigma, exp, sync, shrink_above, shrink_rate, products=None, inline=None):
    """Return the update of one member (see the module notes), every piece compiled by ``jit``.

    ``jit`` compiles a device function (``numba.njit`` on the CPU,
    ``numba.cuda.jit(device=True)`` on CUDA); ``sigma_dsigma`` and ``exp``
    are the backend's compiled activation and exponential; ``sync`` is the
    team barrier.  ``products``, compiled ``(gemm_nn, gemm_tn_steps,
    column_sums_steps)``, replace the blocked loops of ``blocked.py`` (the
    default) where a backend has faster ones.  ``inline`` (default ``jit``)
    compiles the cell's one-unit functions (``activate``, ``mix``,
    ``delta``, ``carry_back``), called for every unit of every step: on the
    CPU they must be inlined (``numba.njit(inline="always")``), or the
    update runs about a third slower (benchmarks/RESULTS.md, 2026-12-03).
    """
    span = jit(blocked.span)
    if products is None:
        gemm_nn, gemm_tn, column_sums = (jit(f) for f in blocked.make_products(span))
        products = (gemm_nn, *(jit(f) for f in blocked.make_step_sums(gemm_tn, column_sums)))
    gemm_nn, gemm_tn_steps, column_sums_steps = products
    cell_drive = jit(rnn.make_drive(gemm_nn, span))
    inline = jit if inline is None else inline
    cell_step = jit(rnn.make_step(inline(rnn.make_activate(sigma_dsigma, inline(rnn.mix))), gemm_nn, span))
    cell_vjp = jit(rnn.make_vjp(inline(rnn.delta), inline(rnn.carry_back), gemm_nn, span))
    loss_head = jit(scalar_bptt.make_loss_head(exp))
    global_norm = jit(make_global_norm(jit(_sum_squares), jit(_max_abs), jit(_sum_scaled)))
    decide = jit(make_clip_decision(shrink_above, shrink_rate))
    sgd = jit(make_sgd(span))
    row_sum_squares = jit(_row_sum_squares)

    def update(worker, n_workers, W_rec, W_in, b, W_out, b_out, v_rec, v_in, v_b, v_out, v_bout, leak, leaky,
               U, P, kind, every, scale, lr, mu, nesterov, threshold, alpha, ratio, mean, bound, nonfinite,
               WT, W_inT, V, S, D, E, Y, Yg, G, Delta, Back, Om, loss_seq, gW, gWin, gb, gWout, gbout, gO,
               stats):  # fmt: skip
        T, B, m = U.shape
        n = W_rec.shape[0]
        T_s = P.shape[0]
        # Transposed weights for the forward products (rows shared).
        lo, hi = span(n, worker, n_workers)
        for j in range(lo, hi):
            for i in range(n):
                WT[j, i] = W_rec[i, j]
        lo, hi = span(m, worker, n_workers)
        for c in range(lo, hi):
            for i in range(n):
                W_inT[c, i] = W_in[i, c]
        sync()
        # Forward, losses and backward: each worker owns the sequences [q0, q1) throughout.
        q0, q1 = span(B, worker, n_workers)
        for q in range(q0, q1):
            for i in range(n):
                S[0, q, i] = 0.0
                D[0, q, i] = 0.0
        for t in range(1, T + 1):
            cell_drive(U[t - 1], W_inT, b[0], V[t - 1], worker, n_workers)
            cell_step(WT, S[t - 1], V[t - 1], leak, leaky, S[t], D[t], worker, n_workers)
        for q in range(q0, q1):
            total = 0.0
            for r in range(T_s):
                t = r + 1 if every else T
                total += loss_head(kind, W_out, b_out[0], S[t, q], P[r, q], scale, Y[r, q], Yg[r, q], E[r, q])
            loss_seq[q] = total
            for i in range(n):
                G[T, q, i] = E[T_s - 1, q, i]
        for t in range(T, 0, -1):
            cell_vjp(W_rec, D[t], G[t], leak, leaky, Delta[t - 1], Back[t - 1], worker, n_workers)
            if t >= 2:
                for q in range(q0, q1):
                    for i in range(n):
                        G[t - 1, q, i] = Back[t - 1, q, i] + E[t - 2, q, i] if every else Back[t - 1, q, i]
        # Omega's terms per (k, sequence): kept when ||dE/dh_{k+1}||^2 >= bound (NaN kept, so divergence shows).
        for k in range(T):
            for q in range(q0, q1):
                norm2_g = row_sum_squares(G[k + 1, q])
                norm2_v = row_sum_squares(Back[k, q])
                if not norm2_g < bound:
                    if ratio:  # eq. (9)
                        dev = math.sqrt(norm2_v / norm2_g) - 1.0
                        dr = 1.0 / math.sqrt(norm2_v * norm2_g) if norm2_v > 0.0 else 0.0
                    else:  # eq. (10)
                        dev = norm2_v / norm2_g - 1.0
                        dr = 2.0 / norm2_g
                    Om[0, k, q] = 1.0
                    Om[1, k, q] = dev
                    Om[2, k, q] = dr
                else:
                    Om[0, k, q] = 0.0
                    Om[1, k, q] = 0.0
                    Om[2, k, q] = 0.0
        sync()
        # Gradients of the loss: immediate partials of eq. (4) summed over steps and sequences.
        gemm_tn_steps(Delta, S[:T], gW, worker, n_workers)
        gemm_tn_steps(Delta, U, gWin, worker, n_workers)
        column_sums_steps(Delta, gb[0], worker, n_workers)
        # The scored steps: 1..T (every) or T, in the rows of Yg.
        gemm_tn_steps(Yg, S[T + 1 - T_s : T + 1], gWout, worker, n_workers)
        column_sums_steps(Yg, gbout[0], worker, n_workers)
        if worker == 0:
            loss = 0.0
            for q in range(B):
                loss += loss_seq[q]
            stats[LOSS] = loss * scale
            n_valid = 0
            for k in range(T):
                for q in range(B):
                    n_valid += int(Om[0, k, q])
            weight = 1.0 / max(n_valid if mean else B, 1)
            omega = 0.0
            for k in range(T):
                for q in range(B):
                    if Om[0, k, q] != 0.0:
                        omega += weight * Om[1, k, q] * Om[1, k, q]
            stats[OMEGA] = omega
            stats[N_VALID] = n_valid
            stats[FACTOR] = weight  # read by the team below
        sync()
        # dOmega/dW_rec (eq. 10, x_k and dE/dx_{k+1} held constant): sum_k (c_k Delta_k)^T Back_k, Back_k = J^T g
        # (with a leak, d||leak g + W_rec^T Delta||^2 / dW_rec = 2 Delta Back^T all the same).
        weight = stats[FACTOR]
        for k in range(T):
            for q in range(q0, q1):
                coef = weight * 2.0 * Om[1, k, q] * Om[2, k, q] if Om[0, k, q] != 0.0 else 0.0
                for i in range(n):
                    Delta[k, q, i] *= coef
        sync()
        gemm_tn_steps(Delta, Back, gO, worker, n_workers)
        if alpha > 0.0:  # the rows of gO this worker wrote
            lo, hi = span(n, worker, n_workers)
            for i in range(lo, hi):
                for j in range(n):
                    gW[i, j] += alpha * gO[i, j]
        sync()
        # Algorithm 1 on the total gradient, with the non-finite policy first (worker 0 decides).
        if worker == 0:
            decide(global_norm(gW, gWin, gb, gWout, gbout), W_rec, gW, threshold, nonfinite, stats)
        sync()
        if stats[UPDATED] == 0.0:
            return
        factor = stats[FACTOR]
        sgd(W_rec, v_rec, gW, stats[FACTOR_REC], lr, mu, nesterov, worker, n_workers)
        sgd(W_in, v_in, gWin, factor, lr, mu, nesterov, worker, n_workers)
        sgd(b, v_b, gb, factor, lr, mu, nesterov, worker, n_workers)
        sgd(W_out, v_out, gWout, factor, lr, mu, nesterov, worker, n_workers)
        sgd(b_out, v_bout, gbout, factor, lr, mu, nesterov, worker, n_workers)

    return update
