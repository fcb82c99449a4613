"""Backend-neutral math, written once and compiled for the CPU and for CUDA.

Everything here is plain Python in the subset that both ``numba.njit`` and
``numba.cuda.jit(device=True)`` accept: scalar loops over array elements,
``math`` functions, no allocation, exceptions or Python objects.  Results go
into arguments or come back as scalars.  With ``NUMBA_DISABLE_JIT=1`` (or on
the CUDA simulator) it runs as ordinary Python.

Functions that need another compiled function (an activation, a step) are
built by ``make_*`` factories that close over it; ``cpu.py`` and ``cuda.py``
call the factories with their own compiled pieces.

Status conventions: an orbit returns the step of its first non-finite state,
or ``FINITE`` (-1) when every state stayed finite.
"""

import math

import numpy as np

FINITE = -1

# Status codes of iterative solvers (one per item); the wrappers turn them
# into text with STATUS_NAMES[code].
OK, DIVERGED, MAX_ITER, SINGULAR = 0, 1, 2, 3
STATUS_NAMES = ("OK", "DIVERGED", "MAX_ITER", "SINGULAR")
EPS = 2.220446049250313e-16  # float64 machine epsilon

ACTIVATIONS = ("logistic", "tanh", "relu", "linear")
FORMS = ("paper", "standard")

# The facts of each activation that are not code, in one table: gamma = sup |sigma'| (the
# bound of eq. 7) and the closure of sigma's range (None: unbounded).  sigma and sigma' are
# `make_activation`, sigma'' from (sigma, sigma') is `make_second_derivative`.
GAMMA = {"logistic": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}
RANGE = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": None, "linear": None}


def make_second_derivative(name):
    """Return ``d2(s, ds) -> sigma''`` from ``s = sigma(z)`` and ``ds = sigma'(z)``, for scalars and arrays.

    logistic: ``sigma' (1 - 2 sigma)``; tanh: ``-2 sigma sigma'``; relu and
    linear: 0 (piecewise linear; ``0 * ds``, so NaN stays NaN).  Plain
    arithmetic: kernels compile it, NumPy code calls it on arrays.
    """
    if name == "logistic":

        def d2(s, ds):
            return ds * (1.0 - 2.0 * s)

    elif name == "tanh":

        def d2(s, ds):
            return -2.0 * s * ds

    else:

        def d2(s, ds):
            return 0.0 * ds

    return d2


# ---------------------------------------------------------------------------
# exp that LLVM can vectorise (CPU only; CUDA uses libdevice's exp).
# ---------------------------------------------------------------------------
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: n * _LN2_HI is
_LN2_LO = 1.90821492927058770002e-10  # exact for |n| < 2**11
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: t + _SHIFTER rounds t to an integer
_SHIFTER_BITS = int(np.float64(_SHIFTER).view(np.int64))
_TWO_M54 = 2.0**-54
_TWO_P54 = 2.0**54
_C = tuple(1.0 / math.factorial(k) for k in range(14))  # Taylor coefficients of exp


def exp(z):
    """exp(z) in float64 from operations that vectorise (no libm call).

    Range reduction z = n ln2 + r with |r| <= ln2/2 (Cody-Waite), the degree-13
    Taylor polynomial of exp(r) (truncation < 1e-17), and 2**n built in the
    exponent bits.  Arguments below -708 or above 709 are scaled in two steps,
    so gradual underflow and overflow to inf match libm.  Measured against
    glibc over [-750, 715]: at most 1 ulp apart, identical in 94% of cases.
    NaN gives NaN.
    """
    zc = z if z > -746.0 else -746.0
    zc = zc if zc < 710.0 else 710.0
    t = zc * _LOG2E + _SHIFTER
    nf = t - _SHIFTER
    r = (zc - nf * _LN2_HI) - nf * _LN2_LO
    # exp(r) = sum r^k / k!, k <= 13: the low-order terms by Horner (for
    # accuracy), the high-order tail by Estrin (for a shorter dependency chain).
    r2 = r * r
    r4 = r2 * r2
    a0 = _C[5] + _C[6] * r
    a1 = _C[7] + _C[8] * r
    a2 = _C[9] + _C[10] * r
    a3 = _C[11] + _C[12] * r
    tail = (a0 + a1 * r2) + ((a2 + a3 * r2) + _C[13] * r4) * r4
    p = _C[4] + r * tail
    p = _C[3] + r * p
    p = _C[2] + r * p
    p = _C[1] + r * p
    p = _C[0] + r * p
    small = zc < -708.0
    big = zc > 709.0
    bias = 1023 + 54 if small else (1023 - 54 if big else 1023)
    e = np.float64(t).view(np.int64) - _SHIFTER_BITS + bias
    y = p * np.int64(e << 52).view(np.float64) * (_TWO_M54 if small else (_TWO_P54 if big else 1.0))
    return y if z == z else z


# ---------------------------------------------------------------------------
# Activations: value, derivative, and both at once.
# ---------------------------------------------------------------------------
# Taylor coefficients of tanh(z) / z in powers of z^2 (from the Bernoulli
# numbers: 2^2k (2^2k - 1) B_2k / (2k)!), enough for |z| < 0.35.
_TANH_C = (
    1.0,
    -1.0 / 3.0,
    2.0 / 15.0,
    -17.0 / 315.0,
    62.0 / 2835.0,
    -1382.0 / 155925.0,
    21844.0 / 6081075.0,
    -929569.0 / 638512875.0,
    6404582.0 / 10854718875.0,
    -443861162.0 / 1856156927625.0,
    18888466084.0 / 194896477400625.0,
    -113927491862.0 / 2900518163668125.0,
)


def make_tanh(exp):
    """Return a ``tanh`` built from ``exp``, which LLVM can vectorise (CPU).

    ``|z| < 0.35``: the Taylor polynomial of degree 23 (truncation < 1e-17);
    otherwise ``1 - 2 / (exp(2|z|) + 1)`` with the sign of z, which loses at
    most about one bit to cancellation.  Measured against mpmath: within
    about 2 ulp.  NaN gives NaN, +-inf give +-1 and -0.0 gives -0.0.
    """

    def tanh(z):
        a = abs(z)
        a = a if a < 20.0 else 20.0  # tanh(20) rounds to 1; keeps every branch finite (no FP flags)
        a2 = a * a
        p = _TANH_C[11]
        for k in range(10, -1, -1):
            p = p * a2 + _TANH_C[k]
        small = a * p
        large = 1.0 - 2.0 / (exp(2.0 * a) + 1.0)
        t = math.copysign(small if a < 0.35 else large, z)
        return t if z == z else z

    return tanh


def make_activation(name, exp, tanh=math.tanh):
    """Return ``(sigma, dsigma, sigma_dsigma)`` for the activation ``name``.

    ``exp`` is the compiled exponential to use (the vectorisable one above on
    the CPU, ``math.exp`` on CUDA), and ``tanh`` the compiled tanh (the
    vectorisable `make_tanh` on the CPU, libdevice's on CUDA).
    ``sigma_dsigma(z)`` returns ``(sigma(z), sigma'(z))`` sharing one
    exponential.
    """
    # Each function is self-contained: a Numba closure may call compiled
    # functions (``exp``) but not its sibling closures.
    if name == "logistic":
        # One exp of -|z| <= 0: no overflow, and full relative accuracy of
        # sigma and sigma' in both tails.
        def sigma_dsigma(z):
            e = exp(-abs(z))
            d = 1.0 / (1.0 + e)
            s = d if z >= 0.0 else e * d
            return (s if z == z else z), e * d * d

        def sigma(z):
            e = exp(-abs(z))
            d = 1.0 / (1.0 + e)
            s = d if z >= 0.0 else e * d
            return s if z == z else z

        def dsigma(z):
            e = exp(-abs(z))
            d = 1.0 / (1.0 + e)
            return e * d * d

    elif name == "tanh":

        def sigma(z):
            return tanh(z)

        def dsigma(z):
            s = tanh(z)
            return 1.0 - s * s

        def sigma_dsigma(z):
            s = tanh(z)
            return s, 1.0 - s * s

    elif name == "relu":
        # Written so that NaN propagates: max(z, 0) would turn NaN into 0.
        def sigma(z):
            return 0.0 if z <= 0.0 else z

        def dsigma(z):
            return 1.0 if z > 0.0 else (0.0 if z <= 0.0 else z)

        def sigma_dsigma(z):
            return (0.0 if z <= 0.0 else z), (1.0 if z > 0.0 else (0.0 if z <= 0.0 else z))

    elif name == "linear":

        def sigma(z):
            return z

        def dsigma(z):
            return 1.0 if z == z else z

        def sigma_dsigma(z):
            return z, (1.0 if z == z else z)

    else:  # pragma: no cover - names are validated before this is reached
        raise ValueError(f"unknown activation {name!r}")
    return sigma, dsigma, sigma_dsigma


# ---------------------------------------------------------------------------
# n units: one orbit of the cell's map (``dynrnn/cells/rnn.py``: eq. (2), its
# standard form and leaky versions).
# ---------------------------------------------------------------------------
def make_orbit(state_step):
    """Return ``orbit(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out)``.

    ``state_step`` is the cell's compiled step (``cells/rnn.py``).

    Iterates ``n_steps`` steps from ``x0`` and writes the last ``n_keep =
    out.shape[0]`` states (oldest first) into ``out``; ``work`` is scratch of
    shape (3, n).  Input ``u_t`` is ``inputs[t - 1]`` when ``driven``.  The
    first non-finite state is kept as computed and every later kept state is
    NaN.  Returns the step of the first non-finite state, or ``FINITE``.
    """

    def orbit(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out):
        n = x0.shape[0]
        n_keep = out.shape[0]
        keep_from = n_steps + 1 - n_keep
        diverged_at = FINITE
        for i in range(n):
            work[0, i] = x0[i]
        if keep_from == 0:
            for i in range(n):
                out[0, i] = x0[i]
        for t in range(1, n_steps + 1):
            src = work[(t - 1) % 2]
            dst = work[t % 2]
            state_step(W_rec, W_in, b, alpha, src, inputs[t - 1], paper, leaky, driven, work[2], dst)
            finite = True
            for i in range(n):
                if not math.isfinite(dst[i]):
                    finite = False
            if t >= keep_from:
                for i in range(n):
                    out[t - keep_from, i] = dst[i]
            if not finite:
                diverged_at = t
                for k in range(max(t + 1, keep_from), n_steps + 1):
                    for i in range(n):
                        out[k - keep_from, i] = math.nan
                break
        return diverged_at

    return orbit


# ---------------------------------------------------------------------------
# n units: fixed points of the autonomous map by damped Newton on F(x) - x.
# ---------------------------------------------------------------------------
_ARMIJO = 1e-4  # sufficient decrease of ||F(x) - x||^2 along the Newton step
_MAX_HALVINGS = 40  # backtracking: step lengths 1, 1/2, ..., 2**-39


def make_fixed_point_residual(state_step, step_jacobian):
    """Return ``residual(W_rec, b, x, paper, jacobian, s, ds, r, J)``.

    Writes ``r = F(x) - x`` for the autonomous map ``F`` (paper form
    ``W_rec sigma(x) + b``, eq. 2; standard form ``sigma(W_rec x + b)``) and,
    when ``jacobian``, ``J = J_F(x) - I``, from the cell's compiled
    ``state_step`` and ``step_jacobian`` (``cells/rnn.py``; no input, no
    leak: a leak does not move fixed points).  ``s`` and ``ds`` are scratch
    of length n.  Returns ``||r||^2``.
    """

    def fixed_point_residual(W_rec, b, x, paper, jacobian, s, ds, r, J):
        n = x.shape[0]
        # Undriven and without leak: W_in, alpha and u are never read (b stands in for them).
        state_step(W_rec, W_rec, b, b, x, b, paper, False, False, s, r)
        for i in range(n):
            r[i] -= x[i]
        if jacobian:
            step_jacobian(W_rec, W_rec, b, b, x, b, paper, False, False, ds, J)
            for i in range(n):
                J[i, i] -= 1.0
        sq = 0.0
        for i in range(n):
            sq += r[i] * r[i]
        return sq

    return fixed_point_residual


def lu_solve(A, y):
    """Solve ``A z = y`` in place by Gaussian elimination with partial pivoting.

    ``A`` (n, n) is overwritten by its upper factor and ``y`` (n,) by the
    solution.  Returns False, leaving both partly overwritten, when a pivot
    is below ``n * EPS * max|A_ij|`` (numerically singular) or ``A`` is zero
    or not finite.
    """
    n = y.shape[0]
    scale = 0.0
    for i in range(n):
        for j in range(n):
            a = abs(A[i, j])
            scale = a if a > scale else scale
            if a != a:
                return False
    if not (scale > 0.0 and scale < math.inf):
        return False
    threshold = n * EPS * scale
    for k in range(n):
        p = k
        pmax = abs(A[k, k])
        for i in range(k + 1, n):
            a = abs(A[i, k])
            if a > pmax:
                p = i
                pmax = a
        if not pmax > threshold:
            return False
        if p != k:
            for j in range(k, n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
            tmp = y[k]
            y[k] = y[p]
            y[p] = tmp
        for i in range(k + 1, n):
            f = A[i, k] / A[k, k]
            for j in range(k + 1, n):
                A[i, j] -= f * A[k, j]
            y[i] -= f * y[k]
    for i in range(n - 1, -1, -1):
        acc = y[i]
        for j in range(i + 1, n):
            acc -= A[i, j] * y[j]
        y[i] = acc / A[i, i]
    return True


def make_fixed_point_newton(residual, lu_solve):
    """Return ``newton(W_rec, b, x0, paper, tol, max_iter, work, x)``.

    Damped Newton on ``g(x) = F(x) - x`` from ``x0``: the Newton step ``d``
    solves ``(J_F - I) d = -g``; its length ``t`` is halved from 1 until
    ``||g(x + t d)||^2 <= (1 - 2e-4 t) ||g(x)||^2`` (Armijo), so the
    iteration converges from far.  ``work`` is scratch of shape (n + 6, n);
    the last iterate goes into ``x``.  Returns ``(status, n_iter, ||g(x)||)``:
    ``OK`` when ``||g|| <= tol``; ``MAX_ITER`` after ``max_iter`` steps or
    when no step length decreases ``||g||`` (a local minimum of ``||g||``
    that is not a zero); ``SINGULAR`` when ``J_F - I`` is numerically
    singular; ``DIVERGED`` when ``g(x0)`` or the step is not finite.
    """

    def fixed_point_newton(W_rec, b, x0, paper, tol, max_iter, work, x):
        n = x0.shape[0]
        J = work[:n]
        r = work[n]
        d = work[n + 1]
        xt = work[n + 2]
        rt = work[n + 3]
        s = work[n + 4]
        ds = work[n + 5]
        for i in range(n):
            x[i] = x0[i]
        sq = residual(W_rec, b, x, paper, True, s, ds, r, J)
        for k in range(max_iter + 1):
            norm = math.sqrt(sq)
            if not math.isfinite(sq):
                return DIVERGED, k, norm
            if norm <= tol:
                return OK, k, norm
            if k == max_iter:
                return MAX_ITER, k, norm
            for i in range(n):
                d[i] = -r[i]
            if not lu_solve(J, d):
                return SINGULAR, k, norm
            for i in range(n):
                if not math.isfinite(d[i]):
                    return SINGULAR, k, norm
            t = 1.0
            accepted = False
            for _ in range(_MAX_HALVINGS):
                for i in range(n):
                    xt[i] = x[i] + t * d[i]
                sqt = residual(W_rec, b, xt, paper, False, s, ds, rt, J)
                if sqt <= (1.0 - 2.0 * _ARMIJO * t) * sq:
                    accepted = True
                    break
                t *= 0.5
            if not accepted:
                return MAX_ITER, k, norm
            for i in range(n):
                x[i] = xt[i]
            sq = residual(W_rec, b, x, paper, True, s, ds, r, J)
        return MAX_ITER, max_iter, math.sqrt(sq)

    return fixed_point_newton
