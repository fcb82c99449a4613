"""CPU builds of the scalar math: ``njit`` device functions, ``prange`` kernels
and host launchers.

Launchers take validated, C-contiguous host arrays, allocate scratch, and
fill the ``out`` arrays they are given.  They mirror ``cuda.py`` name for
name.  Kernels come from factories cached per activation name, so each is
compiled once per activation and process.
"""

import functools

import numpy as np
from numba import njit, prange

from .. import _config
from ..cells import gru, lstm, rnn
from . import cache, scalar, scalar_surface

cache.configure()  # before the first dispatcher: where its compiled code is kept

_device = njit(inline="always", **_config.JIT_OPTIONS)
_exp = _device(scalar.exp)
_tanh = _device(scalar.make_tanh(_exp))


@functools.cache
def activation(name):
    """Compiled ``(sigma, dsigma, sigma_dsigma)`` for ``name``, from the vectorisable exp and tanh."""
    return tuple(_device(f) for f in scalar.make_activation(name, _exp, _tanh))


@functools.cache
def cell(name):
    """The RNN cell (``cells/rnn.py``) compiled for ``name``: a ``rnn.Compiled`` of inlined device functions."""
    return rnn.build(_device, *activation(name))


# The gated cells are compiled as called functions, not inlined by Numba: its IR inlining of their
# nested closures made the LSTM's fixed-point kernel compile in 98 s instead of 20 s (and the
# orbit and Jacobian kernels 3-5x slower); LLVM still inlines what is small.
_called = njit(**_config.JIT_OPTIONS)


@functools.cache
def gated_cell(name):
    """The gated cell ``name`` ("gru": ``cells/gru.py``, "lstm": ``cells/lstm.py``), with the logistic and tanh."""
    module = {"gru": gru, "lstm": lstm}[name]
    return module.build(_called, activation("logistic")[0], activation("tanh")[0])


@functools.cache
def ufuncs(name):
    """NumPy ufuncs (lazily compiled ``numba.vectorize``) for sigma and sigma'."""
    from numba import vectorize

    sigma, dsigma, _ = activation(name)

    def sigma_ufunc(z):
        return sigma(z)

    def dsigma_ufunc(z):
        return dsigma(z)

    build = vectorize(fastmath=_config.FASTMATH, cache=_config.JIT_OPTIONS["cache"])  # disk-cached like the kernels
    return build(sigma_ufunc), build(dsigma_ufunc)


# ---------------------------------------------------------------------------
# n-unit orbits, one per grid point (also used for iterate()).
# ---------------------------------------------------------------------------
@functools.cache
def _orbit_kernel(name):
    orbit = _device(scalar.make_orbit(cell(name).state_step))

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out, diverged_at):
        for g in prange(out.shape[0]):
            diverged_at[g] = orbit(
                W_rec[g * (W_rec.shape[0] > 1)],
                W_in,
                b[g * (b.shape[0] > 1)],
                alpha[g * (alpha.shape[0] > 1)],
                x0[g * (x0.shape[0] > 1)],
                inputs,
                n_steps,
                paper,
                leaky,
                driven,
                work[g],
                out[g],
            )

    return kernel


def iterate_grid(name, W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, out, diverged_at):
    """Iterate G orbits of an n-unit map.

    Assumes validated, C-contiguous input: W_rec (1|G, n, n), W_in (n, m),
    b, alpha, x0 (1|G, n), inputs (n_steps, m); writes into ``out``
    (G, n_keep, n) and ``diverged_at`` (G,).
    """
    G, _, n = out.shape
    work = np.empty((G, 3, n), dtype=out.dtype)
    _orbit_kernel(name)(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out, diverged_at)


# ---------------------------------------------------------------------------
# Single-unit grids: blocks of grid points iterated together, so that the
# inner loop over grid points vectorises.
# ---------------------------------------------------------------------------
@functools.cache
def _unit_block(name):
    unit_step = cell(name).unit_step

    @njit(**_config.JIT_OPTIONS)
    def block(w, b, alpha, x, n_steps, paper, leaky, keep_from, out, diverged_at):
        # Loops run over range(len) of block views, so LLVM knows every
        # index is in bounds and non-negative, and vectorises the body.
        m = x.shape[0]
        for g in range(m):
            diverged_at[g] = scalar.FINITE
        if keep_from == 0:
            for g in range(m):
                out[g, 0] = x[g]
        for t in range(1, n_steps + 1):
            for g in range(m):
                xn = unit_step(x[g], w[g], b[g], alpha[g], paper, leaky)
                alive = diverged_at[g] == scalar.FINITE
                diverged_at[g] = t if (alive and not np.isfinite(xn)) else diverged_at[g]
                x[g] = xn if alive else np.nan
            if t >= keep_from:
                for g in range(m):
                    out[g, t - keep_from] = x[g]

    return block


@functools.cache
def _unit_kernel(name):
    block = _unit_block(name)

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(w, b, alpha, x, n_steps, paper, leaky, keep_from, out, diverged_at, block_size):
        G = x.shape[0]
        for k in prange((G + block_size - 1) // block_size):
            lo = k * block_size
            hi = min(lo + block_size, G)
            block(
                w[lo:hi],
                b[lo:hi],
                alpha[lo:hi],
                x[lo:hi],
                n_steps,
                paper,
                leaky,
                keep_from,
                out[lo:hi],
                diverged_at[lo:hi],
            )

    return kernel


def iterate_grid_unit(name, w, b, alpha, x0, n_steps, paper, leaky, out, diverged_at):
    """Iterate G single-unit maps.

    Assumes validated, C-contiguous input of shape (G,) each; writes into
    ``out`` (G, n_keep) and ``diverged_at`` (G,).
    """
    x = x0.copy()
    keep_from = n_steps + 1 - out.shape[1]
    _unit_kernel(name)(w, b, alpha, x, n_steps, paper, leaky, keep_from, out, diverged_at, _config.CPU_BLOCK)


@functools.cache
def _tangent_kernel(name):
    step = cell(name).unit_tangent_step

    @njit(**_config.JIT_OPTIONS)
    def block(w, b, x, dx_dw, dx_db, n_steps):
        m = x.shape[0]
        for g in range(m):
            dx_dw[g] = 0.0
            dx_db[g] = 0.0
        for _ in range(n_steps):
            for g in range(m):
                x[g], dx_dw[g], dx_db[g] = step(x[g], dx_dw[g], dx_db[g], w[g], b[g])

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(w, b, x, dx_dw, dx_db, n_steps, block_size):
        G = x.shape[0]
        for k in prange((G + block_size - 1) // block_size):
            lo = k * block_size
            hi = min(lo + block_size, G)
            block(w[lo:hi], b[lo:hi], x[lo:hi], dx_dw[lo:hi], dx_db[lo:hi], n_steps)

    return kernel


def iterate_tangents(name, w, b, x0, n_steps, x, dx_dw, dx_db):
    """Iterate G single-unit paper-form maps with forward-mode tangents.

    Assumes validated, C-contiguous input of shape (G,); writes the final
    state and its derivatives into ``x``, ``dx_dw`` and ``dx_db``.
    """
    x[:] = x0
    _tangent_kernel(name)(w, b, x, dx_dw, dx_db, n_steps, _config.CPU_BLOCK)


# ---------------------------------------------------------------------------
# Fixed points: damped Newton from many starts, one start per iteration.
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# The step and its Jacobian at given points (for NumPy-side analysis).
# ---------------------------------------------------------------------------
@functools.cache
def _step_jacobian_kernel(name):
    state_step = cell(name).state_step
    step_jacobian = cell(name).step_jacobian

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_rec, W_in, b, alpha, X, U, paper, leaky, driven, F, S, D, J):
        for p in range(X.shape[0]):
            state_step(W_rec, W_in, b, alpha, X[p], U[p], paper, leaky, driven, S[p], F[p])
            step_jacobian(W_rec, W_in, b, alpha, X[p], U[p], paper, leaky, driven, D[p], J[p])

    return kernel


def step_jacobians(name, W_rec, W_in, b, alpha, X, U, paper):
    """The cell's step and step Jacobian at each of P points, in float64.

    ``X`` (P, n) are the states and ``U`` (P, m) the inputs driving their
    steps (None: undriven); ``alpha`` (n,) is the leak (None: no leak).
    Returns ``(F, S, D, J)``: the next states ``F`` (P, n), the observed
    states ``S = observe(X)`` and the slopes ``D`` (P, n) (see
    ``cells/rnn.py``), and the Jacobians ``J = dF/dX`` (P, n, n), with the
    leak.  What the NumPy-side analysis (basins, fixed-point
    classification, continuation) uses instead of writing the map again.
    """

    def f64(a, shape):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=np.float64), shape))

    X = np.array(X, dtype=np.float64, ndmin=2)
    P, n = X.shape
    driven = U is not None and np.shape(U)[-1] > 0
    m = np.shape(U)[-1] if driven else 0
    W_in = f64(W_in, (n, m)) if driven else np.zeros((n, 0))
    U = f64(U, (P, m)) if driven else np.zeros((P, 0))
    leaky = alpha is not None
    alpha = f64(alpha, (n,)) if leaky else np.zeros(n)
    F, S, D = np.empty((P, n)), np.empty((P, n)), np.empty((P, n))
    J = np.empty((P, n, n))
    _step_jacobian_kernel(name)(f64(W_rec, (n, n)), W_in, f64(b, (n,)), alpha, X, U, paper, leaky, driven, F, S, D, J)
    return F, S, D, J


@functools.cache
def _step_vjp_kernel(name):
    slopes = cell(name).slopes
    vjp = cell(name).vjp

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_rec, W_in, b, alpha, X, U, G, paper, leaky, driven, work, D, V):
        for p in range(X.shape[0]):
            slopes(W_rec, W_in, b, X[p], U[p], paper, driven, D[p])
            vjp(W_rec, alpha, D[p], paper, leaky, G[p], work, V[p])

    return kernel


def step_vjps(name, W_rec, W_in, b, alpha, X, U, G, paper):
    """The cell's slopes and vector-Jacobian products at each of P points, in the dtype of ``X``.

    ``X`` (P, n) are the states, ``U`` (P, m) the inputs driving their steps
    (None: undriven), ``G`` (P, n) errors on the next states and ``alpha``
    the leak (None: no leak).  Returns ``(D, V)``: the slopes ``D`` and
    ``V = J^T G`` row by row (eq. 5 transposed), each (P, n).
    """
    X = np.ascontiguousarray(X)
    dtype = X.dtype
    P, n = X.shape

    def cast(a, shape):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=dtype), shape))

    driven = U is not None and np.shape(U)[-1] > 0
    m = np.shape(U)[-1] if driven else 0
    W_in = cast(W_in, (n, m)) if driven else np.zeros((n, 0), dtype)
    U = cast(U, (P, m)) if driven else np.zeros((P, 0), dtype)
    leaky = alpha is not None
    alpha = cast(alpha, (n,)) if leaky else np.zeros(n, dtype)
    D, V = np.empty((P, n), dtype), np.empty((P, n), dtype)
    _step_vjp_kernel(name)(cast(W_rec, (n, n)), W_in, cast(b, (n,)), alpha, X, U, cast(G, (P, n)), paper, leaky,
                           driven, np.empty(n, dtype), D, V)  # fmt: skip
    return D, V


# Called, not inlined: Numba's inlining of the solver's three residual calls
# made it compile several times slower, and a call per Newton step is cheap.
_solver = njit(**_config.JIT_OPTIONS)


@functools.cache
def _fixed_point_kernel(name):
    residual = _solver(scalar.make_fixed_point_residual(cell(name).state_step, cell(name).step_jacobian))
    newton = _solver(scalar.make_fixed_point_newton(residual, _solver(scalar.lu_solve)))

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(W_rec, b, x0, paper, tol, max_iter, work, x, status, n_iter, residual_norm):
        for g in prange(x0.shape[0]):
            status[g], n_iter[g], residual_norm[g] = newton(W_rec, b, x0[g], paper, tol, max_iter, work[g], x[g])

    return kernel


def fixed_points(name, W_rec, b, x0, paper, tol, max_iter, x, status, n_iter, residual_norm):
    """Damped Newton on ``F(x) - x`` from each of S starts.

    Assumes validated, C-contiguous float64 input: W_rec (n, n), b (n,), x0
    (S, n); writes into ``x`` (S, n), ``status`` and ``n_iter`` (S,; int64)
    and ``residual_norm`` (S,).
    """
    S, n = x0.shape
    work = np.empty((S, n + 6, n), dtype=x.dtype)
    _fixed_point_kernel(name)(W_rec, b, x0, paper, tol, max_iter, work, x, status, n_iter, residual_norm)


# ---------------------------------------------------------------------------
# --- error surface (eq. 8) ---
# One unit with first and second derivatives in (w, b), blocked like
# _tangent_kernel so that the loop over grid points vectorises.
# ---------------------------------------------------------------------------
@functools.cache
def _surface_kernel(name):
    second = _device(scalar.make_second_derivative(name))
    sigma_d2 = _device(scalar_surface.make_sigma_derivatives(activation(name)[2], second))
    step = _device(scalar_surface.make_unit_surface_step(sigma_d2))
    loss = _device(scalar_surface.make_unit_surface_loss(sigma_d2))

    @njit(**_config.JIT_OPTIONS)
    def block(w, b, target, n_steps, x, x_w, x_b, x_ww, x_wb, x_bb, E, dE_dw, dE_db, lam):
        m = x.shape[0]
        for g in range(m):
            x_w[g] = 0.0
            x_b[g] = 0.0
            x_ww[g] = 0.0
            x_wb[g] = 0.0
            x_bb[g] = 0.0
        for _ in range(n_steps):
            for g in range(m):
                x[g], x_w[g], x_b[g], x_ww[g], x_wb[g], x_bb[g] = step(
                    x[g], x_w[g], x_b[g], x_ww[g], x_wb[g], x_bb[g], w[g], b[g]
                )
        for g in range(m):
            E[g], dE_dw[g], dE_db[g], lam[g] = loss(x[g], x_w[g], x_b[g], x_ww[g], x_wb[g], x_bb[g], target)

    @njit(parallel=True, **_config.JIT_OPTIONS)
    def kernel(w, b, target, n_steps, x, work, E, dE_dw, dE_db, lam, block_size):
        G = x.shape[0]
        for k in prange((G + block_size - 1) // block_size):
            lo = k * block_size
            hi = min(lo + block_size, G)
            block(
                w[lo:hi],
                b[lo:hi],
                target,
                n_steps,
                x[lo:hi],
                work[0, lo:hi],
                work[1, lo:hi],
                work[2, lo:hi],
                work[3, lo:hi],
                work[4, lo:hi],
                E[lo:hi],
                dE_dw[lo:hi],
                dE_db[lo:hi],
                lam[lo:hi],
            )

    return kernel


def error_surface(name, w, b, x0, target, n_steps, E, dE_dw, dE_db, hessian_max_eig, x):
    """Error surface of eq. (8) with its gradient and the top Hessian eigenvalue, at G points.

    Assumes validated, C-contiguous input of shape (G,) (``target`` a scalar
    of the arrays' dtype); writes into ``E``, ``dE_dw``, ``dE_db``,
    ``hessian_max_eig`` and ``x`` (the final state x_T).
    """
    x[:] = x0
    work = np.empty((5, x.shape[0]), dtype=x.dtype)  # x_w, x_b, x_ww, x_wb, x_bb
    _surface_kernel(name)(w, b, target, n_steps, x, work, E, dE_dw, dE_db, hessian_max_eig, _config.CPU_BLOCK)
