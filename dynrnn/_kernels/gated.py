"""CPU builds for the gated cells (``cells/gru.py``, ``cells/lstm.py``): kernels and host launchers.

The cell comes from `cpu.gated_cell`; the loops are those of ``scalar.py``
(orbits, damped Newton) and ``scalar_gated.py`` (a trajectory with its step
Jacobians, the step at given points, BPTT and its temporal contributions;
the loss head is the RNN's, ``scalar_bptt.py``).  The QR passes of `jacobian_products`
and `lyapunov_spectrum` are those of ``jacobians.py``, which do not depend on
the cell.  `forward`, the task model's readout over a batch (evaluation of
`dynrnn.train`'s GRUs and LSTMs), runs the cells' batch level
(``make_step_rows``) with BLAS products, as training does.  Launchers take
validated, C-contiguous host arrays and fill the ``out`` arrays they are
given; kernels are cached per cell name ("gru", "lstm").
"""

import functools

import numpy as np
from numba import njit, prange

from .. import _config
from . import blocked, cache, cpu, jacobians, scalar, scalar_gated

cache.configure()  # before the first dispatcher: where its compiled code is kept

# Called, not inlined, like the solvers of cpu.py and jacobians.py.
_solver = njit(**_config.JIT_OPTIONS)


# ---------------------------------------------------------------------------
# Orbits (dynrnn.iterate), through scalar.make_orbit and _chunks.orbits.
# ---------------------------------------------------------------------------
@functools.cache
def _orbit_kernel(name):
    cell = cpu.gated_cell(name)
    orbit = cpu._device(scalar.make_orbit(cpu._called(scalar_gated.make_orbit_step(cell.step))))

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(W_hh, W_ih, b_ih, b_hh, x0, inputs, n_steps, driven, work, out, diverged_at):
        for g in prange(out.shape[0]):
            diverged_at[g] = orbit(
                W_hh[g * (W_hh.shape[0] > 1)],
                W_ih,
                b_ih[g * (b_ih.shape[0] > 1)],
                b_hh[g * (b_hh.shape[0] > 1)],
                x0[g * (x0.shape[0] > 1)],
                inputs,
                n_steps,
                False,
                False,
                driven,
                work[g],
                out[g],
            )

    return kernel


def iterate_grid(name, W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, out, diverged_at):
    """Iterate G orbits of a gated cell; the signature of `cpu.iterate_grid`, so `_chunks.orbits` can call it.

    The slots carry the gated parameters: ``W_rec`` = W_hh (1|G, kn, n),
    ``W_in`` = W_ih (kn, m), ``b`` = b_ih and ``alpha`` = b_hh (1|G, kn);
    ``x0`` (1|G, N), inputs (n_steps, m); ``paper`` and ``leaky`` are
    ignored.  Writes into ``out`` (G, n_keep, N) and ``diverged_at`` (G,).
    """
    G, _, N = out.shape
    work = np.empty((G, 3, N), dtype=out.dtype)
    _orbit_kernel(name)(W_rec, W_in, b, alpha, x0, inputs, n_steps, driven, work, out, diverged_at)


# ---------------------------------------------------------------------------
# Trajectories with their step Jacobians (jacobian_products, lyapunov_spectrum).
# ---------------------------------------------------------------------------
@functools.cache
def _trajectory_kernel(name):
    cell = cpu.gated_cell(name)
    trajectory = _solver(scalar_gated.make_trajectory(cell.step, cell.jacobian))

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians):
        trajectory(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians)

    return kernel


def trajectory(name, W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians):
    """Iterate from ``x[0]`` and form the step Jacobians over the full state.

    ``x`` (B + 1, N) holds the start in ``x[0]``; inputs (B, m); writes
    ``x_1 ... x_B`` into ``x[1:]`` and ``J_i = dx_i/dx_{i-1}`` into
    ``jacobians[i - 1]`` (B, N, N), with `dynrnn.iterate`'s rule for
    non-finite states.
    """
    _trajectory_kernel(name)(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians)


def lyapunov_spectrum(name, W_ih, W_hh, b_ih, b_hh, x, inputs, driven, n_transient, local, block=256):
    """Per-step ``log|R_i[j, j]|`` of the Benettin QR iteration, a block of steps at a time.

    As ``jacobians.lyapunov_spectrum`` for the RNN: fills the trajectory
    ``x`` (T + 1, N) and writes the factors of steps ``n_transient + 1 ...
    T`` into ``local`` (T - n_transient, N); memory stays O(block N^2).
    """
    T, N = x.shape[0] - 1, x.shape[1]
    dtype = local.dtype
    Q = np.eye(N, dtype=dtype)
    J = np.empty((min(block, T), N, N), dtype=dtype)
    R = np.empty_like(J)
    log_diag = np.empty((J.shape[0], N), dtype=dtype)
    for lo in range(0, T, block):
        hi = min(lo + block, T)
        B = hi - lo
        trajectory(name, W_ih, W_hh, b_ih, b_hh, x[lo : hi + 1], inputs[lo:hi], driven, J[:B])
        jacobians.qr_pass(J[:B], Q, R[:B], log_diag[:B])
        keep = max(lo, n_transient)
        if hi > keep:
            local[keep - n_transient : hi - n_transient] = log_diag[keep - lo : B]


# ---------------------------------------------------------------------------
# The step and its Jacobian at given states (fixed-point classification, slow points).
# ---------------------------------------------------------------------------
@functools.cache
def _points_kernel(name):
    cell = cpu.gated_cell(name)
    points = _solver(scalar_gated.make_points(cell.step, cell.jacobian))

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J):
        points(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J)

    return kernel


def step_jacobians(name, W_ih, W_hh, b_ih, b_hh, X, U=None):
    """The cell's step ``F`` (P, N) and step Jacobian ``J`` (P, N, N) at each of P states ``X``, in float64.

    ``U`` (P, m) are the inputs driving the steps (None: zero input).
    """

    def f64(a):
        return np.array(a, dtype=np.float64)  # a writable copy: Numba types read-only arrays apart

    X = np.array(X, dtype=np.float64, ndmin=2)
    P, N = X.shape
    driven = U is not None and np.shape(U)[-1] > 0
    U = np.ascontiguousarray(np.broadcast_to(np.asarray(U, dtype=np.float64), (P, np.shape(U)[-1]))) if driven else X
    F, J = np.empty((P, N)), np.empty((P, N, N))
    _points_kernel(name)(f64(W_ih), f64(W_hh), f64(b_ih), f64(b_hh), X, U, driven, F, J)
    return F, J


# ---------------------------------------------------------------------------
# Fixed points of the autonomous cell (u = 0): damped Newton from many starts.
# ---------------------------------------------------------------------------
@functools.cache
def _fixed_point_kernel(name):
    cell = cpu.gated_cell(name)
    residual = _solver(scalar_gated.make_fixed_point_residual(cell.fixed_point_map, cell.fixed_point_jacobian))
    newton = _solver(scalar.make_fixed_point_newton(residual, _solver(scalar.lu_solve)))

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(W_hh, biases, x0, tol, max_iter, work, x, status, n_iter, residual_norm):
        for g in prange(x0.shape[0]):
            status[g], n_iter[g], residual_norm[g] = newton(W_hh, biases, x0[g], False, tol, max_iter, work[g], x[g])

    return kernel


def fixed_points(name, W_hh, biases, x0, tol, max_iter, x, status, n_iter, residual_norm):
    """Damped Newton on ``G(x) - x`` (zero input) from each of S starts, ``G`` the cell's ``fixed_point_map``.

    ``G`` has the fixed points of the step ``F``: ``F`` itself for the LSTM, the
    candidate ``n(h)`` for the GRU (``cells/gru.py``, `make_candidate`), so
    ``residual_norm`` is ``||G(x) - x||``, at least ``||F(x) - x||``.

    Assumes validated, C-contiguous float64 input: W_hh (kn, n), biases (2,
    kn) = ``(b_ih, b_hh)``, x0 (S, N); writes into ``x`` (S, N), ``status``
    and ``n_iter`` (S,; int64) and ``residual_norm`` (S,).
    """
    S, N = x0.shape
    work = np.empty((S, N + 6, N), dtype=x.dtype)
    _fixed_point_kernel(name)(W_hh, biases, x0, tol, max_iter, work, x, status, n_iter, residual_norm)


# ---------------------------------------------------------------------------
# Backpropagation through time (dynrnn.bptt).
# ---------------------------------------------------------------------------
@functools.cache
def _bptt_kernel(name):
    from .bptt import _loss_head  # the RNN's compiled loss head: the same losses on the observed state h

    cell = cpu.gated_cell(name)
    run = _solver(scalar_gated.make_bptt(cell.step, cell.deltas, _loss_head))

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P, kind, every, driven, scale, Z, Y, Yg, E, G, D_ih,
               D_hh, loss_seq):  # fmt: skip
        run(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P, kind, every, driven, scale, Z, Y, Yg, E, G, D_ih, D_hh,
            loss_seq)  # fmt: skip

    return kernel


def bptt(name, W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P, kind, every, driven, scale, Z, Y, Yg, E, G, D_ih,
         D_hh, loss_seq):  # fmt: skip
    """Forward pass, losses and backward pass of B sequences (see ``scalar_gated.make_bptt`` for the layouts).

    Assumes validated, C-contiguous writable arrays of the net's dtype: x0 (B, N), U (T, B, m) (a zero
    column when not ``driven``), P (T_s, B, q); fills ``Z``, ``Y``, ``Yg``, ``E``, ``G``, ``D_ih``,
    ``D_hh`` and ``loss_seq``.
    """
    _bptt_kernel(name)(W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U, P, kind, every, driven, scale, Z, Y, Yg, E, G,
                       D_ih, D_hh, loss_seq)  # fmt: skip


@functools.cache
def _lag_kernel(name):
    cell = cpu.gated_cell(name)
    run = _solver(scalar_gated.make_lag_contributions(cell.deltas))

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_ih, W_hh, b_ih, b_hh, Z, U, E, driven, window, g, g_back, d_ih, d_hh, L_ih, L_hh, Lb_ih, Lb_hh,
               S_ih, S_hh, Sb_ih, Sb_hh):  # fmt: skip
        run(W_ih, W_hh, b_ih, b_hh, Z, U, E, driven, window, g, g_back, d_ih, d_hh, L_ih, L_hh, Lb_ih, Lb_hh,
            S_ih, S_hh, Sb_ih, Sb_hh)  # fmt: skip

    return kernel


def lag_contributions(name, W_ih, W_hh, b_ih, b_hh, Z, U, E, driven, window, lag, win):
    """The temporal contributions of every scored step (losses at every step), by lag and by window.

    ``lag`` and ``win`` map "W_ih", "W_hh", "b_ih", "b_hh" to zeroed arrays of shapes (T, ...) and (T, T, ...)
    (``win``'s may be (1, 1, ...) when not ``window``), which are filled; see
    ``scalar_gated.make_lag_contributions``.
    """
    N, K = Z.shape[2], W_hh.shape[0]
    dtype = Z.dtype
    g, g_back, d_ih, d_hh = np.empty(N, dtype), np.empty(N, dtype), np.empty(K, dtype), np.empty(K, dtype)
    keys = ("W_ih", "W_hh", "b_ih", "b_hh")
    out = [lag[k] for k in keys] + [win[k] for k in keys]
    _lag_kernel(name)(W_ih, W_hh, b_ih, b_hh, Z, U, E, driven, window, g, g_back, d_ih, d_hh, *out)


# ---------------------------------------------------------------------------
# The task model's readout over a batch (dynrnn.error_rate, task_outputs): forward only.
# ---------------------------------------------------------------------------
@functools.cache
def _forward_kernel(name):
    from ..cells import rnn
    from .population import BLAS_PRODUCTS, GATED_CELLS

    module = GATED_CELLS[name]
    span = _solver(blocked.span)
    gemm_nn = BLAS_PRODUCTS[0]
    drive = _solver(rnn.make_drive(gemm_nn, span))
    step_rows = _solver(module.make_step_rows(cpu.activation("logistic")[0], cpu.activation("tanh")[0], gemm_nn, span))

    @njit(**_config.JIT_OPTIONS)
    def forward(W_ihT, W_hhT, b_ih, b_hh, W_outT, b_out, U, every, H, C, V, A, Gates, Aux, Y):
        T = U.shape[0]
        H[0] = 0.0
        C[0] = 0.0
        for t in range(T):
            src, dst = t % 2, (t + 1) % 2
            drive(U[t], W_ihT, b_ih, V, 0, 1)
            step_rows(W_hhT, b_hh, H[src], C[src], V, A, H[dst], C[dst], Gates, Aux, 0, 1)
            if every or t == T - 1:
                row = t if every else 0
                np.dot(H[dst], W_outT, Y[row])
                for q in range(Y.shape[1]):
                    for c in range(b_out.shape[0]):
                        Y[row, q, c] += b_out[c]

    return forward


def forward(name, W_ih, W_hh, b_ih, b_hh, W_out, b_out, U, every):
    """Readout outputs of a GRU or LSTM task model from ``h_0 = c_0 = 0``: (T, B, q) if ``every`` else (1, B, q).

    The cell's batch level (``make_step_rows``, BLAS products) run forward
    only.  Assumes validated, C-contiguous arrays of one dtype, U (T, B, m).
    """
    T, B, _ = U.shape
    K, n = W_hh.shape
    dtype = W_hh.dtype
    Y = np.empty((T if every else 1, B, W_out.shape[0]), dtype=dtype)
    H, C = np.empty((2, B, n), dtype), np.empty((2, B, n), dtype)
    V, A, Gates = (np.empty((B, K), dtype) for _ in range(3))
    Aux = np.empty((B, n), dtype)
    T_ = np.ascontiguousarray
    _forward_kernel(name)(T_(W_ih.T), T_(W_hh.T), b_ih, b_hh, T_(W_out.T), b_out, U, every, H, C, V, A, Gates, Aux, Y)
    return Y
