"""CPU kernels for Jacobian products (eq. 5) and Lyapunov exponents; CPU only (no ``backend`` argument).

The step and its Jacobian come from the cell (``cells/rnn.py``).  The first
part is plain Python in the Numba subset (scalar loops, ``math``, no
allocation, no exceptions): Householder reflections, the QR step shared by
`jacobian_products` and `lyapunov_spectrum`, and the largest singular values
of a matrix.  The second part compiles it with ``njit`` and holds the kernels
and launchers.

One Benettin pass factors every step, ``J_i Q_{i-1} = Q_i R_i`` with
``Q_0 = I``, so that ``P_{t,k} = J_t ... J_{k+1} = Q_t (R_t ... R_{k+1}) Q_k^T``
has the singular values of the triangular ``S = R_t ... R_{k+1}``.  For each
start k, S is accumulated a factor at a time and rescaled by an exact power
of two after every step (the exponent kept as an integer), so its entries
stay O(1) however fast the product grows or shrinks.  Inner loops run over
views that start at index 0, so that LLVM can vectorise them.
"""

import functools
import math

import numba
import numpy as np
from numba import njit, prange

from .. import _config
from ..cells import rnn
from . import cache, cpu

cache.configure()  # before the first dispatcher: where its compiled code is kept

NONFINITE = -(1 << 20)  # rescale's flag for a matrix holding inf or NaN
FLUSH = 2.0**-500  # rescale sets entries below this (relative to the largest) to zero

# ---------------------------------------------------------------------------
# Scalar math (Numba subset).
# ---------------------------------------------------------------------------


def linear_dsigma(z):
    """sigma' of the linear activation: 1 for every z, inf and NaN included.

    The Jacobians of a linear network do not depend on the state, so they
    stay exact even where the trajectory itself overflows.
    """
    return 1.0


def vector_norm(x):
    """2-norm of a 1-D array without overflow or underflow; NaN if an entry is NaN.

    The entries are scaled by a power of two (exactly, with ``ldexp``), never
    divided: the ``arcp`` fast-math flag turns ``x / s`` into ``x * (1 / s)``,
    which overflows when ``s`` is subnormal.
    """
    scale = 0.0
    for i in range(x.shape[0]):
        a = abs(x[i])
        scale = a if not a <= scale else scale  # NaN wins
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    e = math.frexp(scale)[1]
    ssq = 0.0
    for i in range(x.shape[0]):
        a = math.ldexp(x[i], -e)
        ssq += a * a
    return math.ldexp(math.sqrt(ssq), e)


def dot(x, y):
    """``sum(x * y)`` over 1-D arrays with four partial sums (a fixed order, so deterministic)."""
    n = x.shape[0]
    m = n - n % 4
    s0 = s1 = s2 = s3 = 0.0
    for j in range(0, m, 4):
        s0 += x[j] * y[j]
        s1 += x[j + 1] * y[j + 1]
        s2 += x[j + 2] * y[j + 2]
        s3 += x[j + 3] * y[j + 3]
    for j in range(m, n):
        s0 += x[j] * y[j]
    return (s0 + s1) + (s2 + s3)


def make_reflector(vector_norm):
    """Return ``reflector(alpha, x)``: the Householder reflector mapping ``(alpha, x)`` to ``(beta, 0)``.

    ``H = I - tau v v^T``, ``v = (1, x / (alpha - beta))``; ``x`` (a 1-D view)
    is overwritten by the tail of ``v``.  Returns ``(beta, tau)``; ``tau = 0``
    (H = I) when ``x`` is zero, as in LAPACK's ``dlarfg``, so exact zeros stay
    exact.  Scaled by a power of two first, so that no divisor is subnormal
    (``arcp`` turns ``x / s`` into ``x * (1 / s)``, which would overflow);
    ``tau = 2 / v^T v`` from the stored ``v`` keeps ``H`` orthogonal even when
    ``x`` holds subnormal residues.
    """

    def reflector(alpha, x):
        xnorm = vector_norm(x)
        if xnorm == 0.0:
            return alpha, 0.0 * alpha
        e = math.frexp(max(abs(alpha), xnorm))[1]
        a = math.ldexp(alpha, -e)
        beta = -math.copysign(math.hypot(a, math.ldexp(xnorm, -e)), a)
        scale = a - beta  # |scale| = |a| + |beta| >= 1/2
        vv = 1.0
        for i in range(x.shape[0]):
            v = math.ldexp(x[i], -e) / scale
            x[i] = v
            vv += v * v
        return math.ldexp(beta, e), 2.0 / vv

    return reflector


def reflect_rows(V, k, tau, A, lo, w):
    """``A[k:, lo:] <- H A[k:, lo:]`` for ``H = I - tau v v^T``, ``v = (1, V[k + 1:, k])``.

    Row by row, so the inner loops run over contiguous memory; ``w`` is
    scratch of length ``A.shape[1]``.
    """
    m = A.shape[0]
    wv = w[lo : A.shape[1]]
    top = A[k, lo:]
    for j in range(wv.shape[0]):
        wv[j] = top[j]
    for i in range(k + 1, m):
        v = V[i, k]
        row = A[i, lo:]
        for j in range(wv.shape[0]):
            wv[j] += v * row[j]
    for j in range(wv.shape[0]):
        wv[j] *= tau
        top[j] -= wv[j]
    for i in range(k + 1, m):
        v = V[i, k]
        row = A[i, lo:]
        for j in range(wv.shape[0]):
            row[j] -= v * wv[j]


def make_qr_step(reflector, reflect_rows):
    """Return ``qr_step(J, Q, R, tau, w)``: one Benettin step, ``J Q = Q' R'``.

    ``Q`` becomes ``Q'`` and ``R`` (n, n) holds ``R'``, zero below the
    diagonal; ``tau`` and ``w`` are scratch of length n.  Householder QR with
    ``Q'`` formed explicitly; a column of ``J Q`` that is already zero below
    the diagonal gets no reflection, so a triangular ``J Q`` is factored
    exactly.  Non-finite input gives NaN in ``R`` and ``Q``.
    """

    def qr_step(J, Q, R, tau, w):
        n = J.shape[0]
        for i in range(n):  # R = J Q
            Ri = R[i]
            for j in range(n):
                Ri[j] = 0.0
            for l in range(n):
                a = J[i, l]
                Ql = Q[l]
                for j in range(n):
                    Ri[j] += a * Ql[j]
        for k in range(n):
            R[k, k], tau[k] = reflector(R[k, k], R[k + 1 :, k])
            if tau[k] != 0.0:
                reflect_rows(R, k, tau[k], R, k + 1, w)
        for i in range(n):
            for j in range(n):
                Q[i, j] = 1.0 if i == j else 0.0
        for k in range(n - 1, -1, -1):  # Q' = H_0 H_1 ... H_{n-1}, accumulated backwards
            if tau[k] != 0.0:
                reflect_rows(R, k, tau[k], Q, k, w)
        for j in range(n):
            for i in range(j + 1, n):
                R[i, j] = 0.0

    return qr_step


def triangular_product(R, S, row):
    """``S <- R S`` in place for upper-triangular ``R`` and ``S``; ``row`` is scratch of length n."""
    n = S.shape[0]
    for i in range(n):  # row i of the product needs rows i.. of the old S only
        out = row[i:]
        for j in range(out.shape[0]):
            out[j] = 0.0
        for l in range(i, n):
            a = R[i, l]
            src = S[l, l:]
            dst = row[l:]
            for j in range(src.shape[0]):
                dst[j] += a * src[j]
        Si = S[i, i:]
        for j in range(Si.shape[0]):
            Si[j] = out[j]


def rescale(S):
    """Scale upper-triangular ``S`` by a power of two so that ``max|S_ij|`` lies in [1/2, 1).

    Entries then below ``FLUSH`` become zero: they move no singular value by
    more than ``n * FLUSH`` relative to the largest, and would decay into
    (slow) subnormals.  Returns e with ``S_old = 2**e S_new`` (exact), 0 when
    S is zero, or ``NONFINITE`` when S holds inf or NaN (S is left as it is).
    """
    n = S.shape[0]
    big = 0.0
    for i in range(n):
        for j in range(i, n):
            a = abs(S[i, j])
            big = a if not a <= big else big
    if not math.isfinite(big):
        return NONFINITE
    if big == 0.0:
        return 0
    e = math.frexp(big)[1]
    for i in range(n):
        for j in range(i, n):
            a = math.ldexp(S[i, j], -e)
            S[i, j] = a if abs(a) >= FLUSH else 0.0
    return e


def count_below(sq, p, x, pivmin):
    """Number of singular values below ``x > 0`` of the p x p bidiagonal with squared entries ``sq``.

    Sturm count of the Golub-Kahan tridiagonal (zero diagonal, off-diagonal
    ``d_0, e_0, d_1, ..., d_{p-1}``), whose eigenvalues are the +- singular
    values; LAPACK's ``pivmin`` guard keeps every pivot away from zero.
    """
    count = 0
    q = -x
    if abs(q) < pivmin:
        q = -pivmin
    if q < 0.0:
        count += 1
    for i in range(2 * p - 1):
        q = -x - sq[i] / q
        if abs(q) < pivmin:
            q = -pivmin
        if q < 0.0:
            count += 1
    return count - p


def make_top_singular_values(reflector, reflect_rows, dot, count_below):
    """Return ``top_singular_values(A, n_top, eps, tiny, d, e, sq, w, out)``.

    Writes the ``n_top`` largest singular values of ``A`` (m, p), ``n_top <=
    p <= m``, descending, into ``out``; ``A`` is overwritten and ``d``,
    ``e``, ``sq`` and ``w`` are scratch of length 2p or more.  Golub-Kahan
    bidiagonalisation by Householder reflections from the left and the right
    (not accumulated: only the values are wanted) puts the diagonal into
    ``d`` and the superdiagonal into ``e``; then each value is found by
    bisection on the Sturm count to a relative width of ``2 eps``.  Values
    below ``tiny / eps`` times the largest bidiagonal entry come out as 0.
    """

    def top_singular_values(A, n_top, eps, tiny, d, e, sq, w, out):
        m, p = A.shape
        for k in range(p):
            d[k], tau = reflector(A[k, k], A[k + 1 :, k])
            if tau != 0.0:
                reflect_rows(A, k, tau, A, k + 1, w)
            if k + 1 < p:
                v = A[k, k + 2 :]
                e[k], tau = reflector(A[k, k + 1], v)
                if tau != 0.0:
                    for i in range(k + 1, m):  # each row: a dot product and an update
                        row = A[i, k + 2 :]
                        s = tau * (A[i, k + 1] + dot(row, v))
                        A[i, k + 1] -= s
                        for j in range(row.shape[0]):
                            row[j] -= s * v[j]
        big = 0.0
        for i in range(2 * p - 1):
            a = abs(d[i // 2]) if i % 2 == 0 else abs(e[i // 2])
            big = a if a > big else big
        for i in range(2 * p - 1):  # squares that would be subnormal are flushed: far below rounding
            a = abs(d[i // 2]) if i % 2 == 0 else abs(e[i // 2])
            sq[i] = a * a if a >= FLUSH * big else 0.0
        hi = 0.0  # Gershgorin bound on the Golub-Kahan tridiagonal
        for i in range(2 * p - 1):
            a = math.sqrt(sq[i]) + (math.sqrt(sq[i + 1]) if i + 2 < 2 * p else 0.0)
            hi = a if a > hi else hi
        pivmin = tiny * (big * big if big > 1.0 else 1.0)
        floor = tiny / eps * big
        for r in range(n_top):
            hi = hi * (1.0 + 4.0 * eps)  # sigma_r <= sigma_{r-1} <= the previous upper end
            lo = 0.0
            if r == 0 and count_below(sq, p, big, pivmin) < p:
                lo = big  # sigma_1 >= every entry
            for _ in range(4000):
                if lo > 0.0:
                    if hi - lo <= 2.0 * eps * hi:
                        break
                    mid = 0.5 * (lo + hi) if hi < 4.0 * lo else math.sqrt(lo) * math.sqrt(hi)
                else:
                    if hi <= floor:
                        break
                    mid = 0.0625 * hi
                if count_below(sq, p, mid, pivmin) >= p - r:
                    hi = mid
                else:
                    lo = mid
            value = 0.5 * (lo + hi) if lo > 0.0 else 0.0
            # equal values are found to rounding apart: keep the documented order exactly
            out[r] = value if r == 0 or value <= out[r - 1] else out[r - 1]

    return top_singular_values


# ---------------------------------------------------------------------------
# Compiled kernels and host launchers.
# ---------------------------------------------------------------------------
# Called, not inlined: a call per step or window costs nothing next to the
# O(n^3) work, and inlining made compilation several times slower.
_solver = njit(**_config.JIT_OPTIONS)
_reflector = _solver(make_reflector(_solver(vector_norm)))
_reflect_rows = _solver(reflect_rows)
_qr_step = _solver(make_qr_step(_reflector, _reflect_rows))
_triangular_product = _solver(triangular_product)
_rescale = _solver(rescale)
_top_singular_values = _solver(make_top_singular_values(_reflector, _reflect_rows, _solver(dot), _solver(count_below)))


@functools.cache
def _trajectory_kernel(name):
    cell = cpu.cell(name)
    rnn_step = cell.state_step
    slopes = cell.slopes
    if name == "linear":  # slopes of 1 even where the state is not finite (see linear_dsigma)
        slopes = cpu._device(rnn.make_slopes(cpu._device(linear_dsigma), cell.affine))
    step_jacobian = _solver(rnn.make_step_jacobian(slopes, cell.jacobian))

    @njit(**_config.JIT_OPTIONS)
    def kernel(W_rec, W_in, b, alpha, x, inputs, paper, leaky, driven, s, jacobians):
        n = x.shape[1]
        for i in range(1, jacobians.shape[0] + 1):
            finite = True
            for j in range(n):
                finite = finite and math.isfinite(x[i - 1, j])
            if finite:
                rnn_step(W_rec, W_in, b, alpha, x[i - 1], inputs[i - 1], paper, leaky, driven, s, x[i])
            else:  # as in iterate: the first non-finite state is kept, later ones are NaN
                for j in range(n):
                    x[i, j] = math.nan
            step_jacobian(W_rec, W_in, b, alpha, x[i - 1], inputs[i - 1], paper, leaky, driven, s, jacobians[i - 1])

    return kernel


def trajectory(name, W_rec, W_in, b, alpha, x, inputs, paper, leaky, driven, jacobians):
    """Iterate the map from ``x[0]`` and form the step Jacobians along the way.

    Assumes validated, C-contiguous input: W_rec (n, n), W_in (n, m), b and
    alpha (n,), x (B + 1, n) holding the start state in ``x[0]``, inputs
    (B, m), jacobians (B, n, n).  Writes ``x_1 ... x_B`` into ``x[1:]`` (with
    `iterate`'s step and its rule for non-finite states) and the Jacobian
    ``J_i = dx_i / dx_{i-1}`` into ``jacobians[i - 1]``.
    """
    s = np.empty(x.shape[1], dtype=x.dtype)
    _trajectory_kernel(name)(W_rec, W_in, b, alpha, x, inputs, paper, leaky, driven, s, jacobians)


@njit(**_config.JIT_OPTIONS)
def _qr_pass_kernel(jacobians, Q, work, R, log_diag):
    n = Q.shape[0]
    for i in range(jacobians.shape[0]):
        _qr_step(jacobians[i], Q, R[i], work[0], work[1])
        for j in range(n):
            log_diag[i, j] = math.log(abs(R[i, j, j]))


def qr_pass(jacobians, Q, R, log_diag):
    """Benettin factors ``J_i Q_{i-1} = Q_i R_i`` of consecutive steps.

    Assumes validated, C-contiguous input: jacobians (B, n, n) and Q (n, n),
    the orthogonal factor before the first of them (the identity at step 0),
    which becomes the factor after the last one.  Writes ``R_i`` into ``R``
    (B, n, n) and ``log|diag(R_i)|`` into ``log_diag`` (B, n).
    """
    work = np.empty((2, Q.shape[0]), dtype=Q.dtype)
    _qr_pass_kernel(jacobians, Q, work, R, log_diag)


@njit(**_config.JIT_OPTIONS)
def _products_chunk(R, c, n_chunks, n_top, eps, tiny, S, A, work, sv, log_sv):
    """The windows of the starts handled by chunk ``c`` of ``n_chunks``."""
    T, n, _ = R.shape
    ln2 = math.log(2.0)
    row, d, sup, sq, w = work[0], work[1], work[2], work[3], work[4]
    # Starts k = 0, T, 1, T - 1, ... are dealt to the chunks in turn, so that
    # each gets about as many windows as the others.
    for j in range(c, T + 1, n_chunks):
        k = j // 2 if j % 2 == 0 else T - j // 2
        for r in range(n_top):
            log_sv[k, k, r] = 0.0  # P_{k,k} = I
        for a in range(n):
            for b in range(n):
                S[a, b] = 1.0 if a == b else 0.0
        exponent = 0
        finite = True
        for t in range(k + 1, T + 1):
            if finite:
                _triangular_product(R[t - 1], S, row)
                e = _rescale(S)
                finite = e != NONFINITE
            if not finite:
                for r in range(n_top):
                    log_sv[t, k, r] = math.nan
                continue
            exponent += e
            p = 0  # the columns of S that are not exactly zero (each zero one is a zero singular value)
            for b in range(n):
                w[b] = 0.0
                for a in range(b + 1):
                    w[b] = 1.0 if S[a, b] != 0.0 else w[b]
                p += int(w[b])
            Ap = A[: n * p].reshape((n, p))  # those columns, packed
            q = 0
            for b in range(n):
                if w[b] != 0.0:
                    for a in range(n):
                        Ap[a, q] = S[a, b] if a <= b else 0.0
                    q += 1
            m = min(n_top, p)
            if m > 0:
                _top_singular_values(Ap, m, eps, tiny, d, sup, sq, w, sv)
            for r in range(n_top):
                s = sv[r] if r < m else 0.0
                log_sv[t, k, r] = math.log(s) + exponent * ln2 if s > 0.0 else -math.inf


@njit(parallel=True, **_config.JIT_OPTIONS)
def _products_kernel(R, n_top, eps, tiny, S, A, work, sv, log_sv):
    n_chunks = S.shape[0]
    for c in prange(n_chunks):
        # np.int64: prange's index is unsigned, and a second type would compile the chunk twice.
        _products_chunk(R, np.int64(c), n_chunks, n_top, eps, tiny, S[c], A[c], work[c], sv[c], log_sv)


def jacobian_products(R, n_top, log_sv):
    """Log singular values of every window product ``P_{t,k}``, from the Benettin factors.

    Assumes validated, C-contiguous input: R (T, n, n) from `qr_pass`
    started at ``Q_0 = I``; writes the ``n_top`` largest log singular values
    of ``P_{t,k}`` into ``log_sv[t, k]`` for 0 <= k <= t <= T (the entries
    with k > t are left as they are).
    """
    T, n, _ = R.shape
    dtype = R.dtype
    n_chunks = max(1, min(numba.get_num_threads(), T + 1))
    S = np.empty((n_chunks, n, n), dtype=dtype)
    A = np.empty((n_chunks, n * n), dtype=dtype)
    work = np.empty((n_chunks, 5, 2 * n), dtype=dtype)
    sv = np.empty((n_chunks, n_top), dtype=dtype)
    info = np.finfo(dtype)
    _products_kernel(R, n_top, dtype.type(info.eps), dtype.type(info.tiny), S, A, work, sv, log_sv)


def lyapunov_spectrum(name, W_rec, W_in, b, alpha, x, inputs, paper, leaky, driven, n_transient, local, block=256):
    """Per-step log stretching factors ``log|R_i[j, j]|`` of the Benettin QR iteration.

    Assumes validated, C-contiguous input as for `trajectory`, with x
    (T + 1, n) and inputs (T, m): fills the trajectory ``x`` and writes the
    factors of steps ``n_transient + 1 ... T`` into ``local``
    (T - n_transient, n), in the QR method's column order.  The step
    Jacobians are formed ``block`` steps at a time, so memory stays
    O(block n^2) however long the trajectory.
    """
    T, n = x.shape[0] - 1, x.shape[1]
    dtype = local.dtype
    Q = np.eye(n, dtype=dtype)
    J = np.empty((min(block, T), n, n), dtype=dtype)
    R = np.empty_like(J)
    log_diag = np.empty((J.shape[0], n), dtype=dtype)
    for lo in range(0, T, block):
        hi = min(lo + block, T)
        B = hi - lo
        trajectory(name, W_rec, W_in, b, alpha, x[lo : hi + 1], inputs[lo:hi], paper, leaky, driven, J[:B])
        qr_pass(J[:B], Q, R[:B], log_diag[:B])
        keep = max(lo, n_transient)  # steps lo + 1 .. hi; local row i - 1 - n_transient is step i
        if hi > keep:
            local[keep - n_transient : hi - n_transient] = log_diag[keep - lo : B]
