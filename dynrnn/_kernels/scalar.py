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

ACTIVATIONS = ("logistic", "tanh", "relu", "linear")
FORMS = ("paper", "standard")

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
def make_activation(name, exp):
    """Return ``(sigma, dsigma, sigma_dsigma)`` for the activation ``name``.

    ``exp`` is the compiled exponential to use (the vectorisable one above on
    the CPU, ``math.exp`` on CUDA).  ``sigma_dsigma(z)`` returns
    ``(sigma(z), sigma'(z))`` sharing one exponential.
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
            return math.tanh(z)

        def dsigma(z):
            s = math.tanh(z)
            return 1.0 - s * s

        def sigma_dsigma(z):
            s = math.tanh(z)
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
# One unit: the map x <- w sigma(x) + b (paper form) or sigma(w x + b).
# ---------------------------------------------------------------------------
def make_unit_step(sigma):
    """Return ``unit_step(x, w, b, alpha, paper, leaky)`` for a single unit.

    Paper form (eq. 2): ``F = w sigma(x) + b``; standard form:
    ``F = sigma(w x + b)``.  With ``leaky``: ``alpha x + (1 - alpha) F``.
    """

    def unit_step(x, w, b, alpha, paper, leaky):
        f = w * sigma(x) + b if paper else sigma(w * x + b)
        return alpha * x + (1.0 - alpha) * f if leaky else f

    return unit_step


def make_unit_tangent_step(sigma_dsigma):
    """Return the paper-form unit step carrying d x / d w and d x / d b.

    ``x' = w s + b``, ``(dx/dw)' = s + w s' dx/dw``, ``(dx/db)' = 1 + w s' dx/db``
    with ``s, s' = sigma(x), sigma'(x)`` (forward-mode chain rule).
    """

    def unit_tangent_step(x, dx_dw, dx_db, w, b):
        s, ds = sigma_dsigma(x)
        wds = w * ds
        return w * s + b, s + wds * dx_dw, 1.0 + wds * dx_db

    return unit_tangent_step


# ---------------------------------------------------------------------------
# n units: one orbit of eq. (2), its standard form and leaky versions.
# ---------------------------------------------------------------------------
def make_rnn_step(sigma):
    """Return ``rnn_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out)``.

    Writes the next state into ``out`` (length n); ``s`` is scratch of length n.
    Paper form: ``x' = W_rec sigma(x) + W_in u + b`` (Pascanu et al. 2013,
    eq. 2); standard form: ``x' = sigma(W_rec x + W_in u + b)``; leaky:
    ``alpha x + (1 - alpha) x'``.  ``u`` is read only when ``driven``.
    """

    def rnn_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out):
        n = x.shape[0]
        for j in range(n):
            s[j] = sigma(x[j]) if paper else x[j]
        for i in range(n):
            acc = b[i]
            for j in range(n):
                acc += W_rec[i, j] * s[j]
            if driven:
                for k in range(u.shape[0]):
                    acc += W_in[i, k] * u[k]
            f = acc if paper else sigma(acc)
            out[i] = alpha[i] * x[i] + (1.0 - alpha[i]) * f if leaky else f

    return rnn_step


def make_orbit(rnn_step):
    """Return ``orbit(W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, work, out)``.

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
            rnn_step(W_rec, W_in, b, alpha, src, inputs[t - 1], paper, leaky, driven, work[2], dst)
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
