"""Assertion helpers for the laws of Pascanu, Mikolov & Bengio (2013), Sec. 2.1, eqs. (3)-(7).

Each helper returns None when the law holds and raises AssertionError with the numbers, the step
and the bound when it does not.  Bad arguments raise ValueError or TypeError as everywhere in dynrnn.
"""

import math
from collections.abc import Mapping

import numpy as np

from ..gradients.bptt import bptt
from ..gradients.jacobians import jacobian_products
from ..maps.activations import gamma
from ..maps.gated import require_rnn
from ..maps.model import RNN
from ..results import GradientResult, JacobianResult

__all__ = [
    "assert_contributions_sum_to_gradient",
    "assert_gradient_matches_finite_differences",
    "assert_jacobian_bound",
    "assert_matches_finite_differences",
    "assert_vanishing",
    "step_norm_bound",
]


def step_norm_bound(net):
    r"""The factor eta that bounds every step Jacobian: ``||dx_i/dx_{i-1}||_2 <= eta``.

    Parameters
    ----------
    net : RNN
        Any activation, form and leak.

    Returns
    -------
    float
        ``gamma ||W_rec||_2`` without a leak (eq. 6), gamma = sup |sigma'| (`dynrnn.gamma`);
        ``max(leak) + max(1 - leak) gamma ||W_rec||_2`` with a leak.

    Notes
    -----
    The step Jacobian is ``J = W_rec diag(sigma'(x_{i-1}))`` in the paper form and
    ``diag(sigma'(a_i)) W_rec`` in the standard form, so ``||J||_2 <= gamma ||W_rec||_2`` in
    both (Pascanu et al. 2013, eq. 6).  A leak makes it ``diag(leak) + diag(1 - leak) J``, whose
    norm is at most ``max(leak) + max(1 - leak) ||J||_2``: the convex combination
    ``leak + (1 - leak) gamma ||W_rec||_2`` for a shared rate.  With rates that differ between
    units this is the best bound of that form (``leak = (0, 1)`` can reach
    ``sqrt(1 + ||J||^2)``), and it may exceed 1 although ``gamma ||W_rec||_2 < 1``.

    Examples
    --------
    >>> import dynrnn
    >>> from dynrnn.testing import step_norm_bound
    >>> step_norm_bound(dynrnn.RNN([[2.0]], activation="logistic"))
    0.5
    >>> step_norm_bound(dynrnn.RNN([[2.0]], activation="logistic", leak=0.5))
    0.75
    """
    _check_net(net)
    base = gamma(net.activation) * float(np.linalg.norm(np.asarray(net.W_rec, dtype=np.float64), 2))
    if net.leak is None:
        return base
    leak = np.asarray(net.leak, dtype=np.float64)
    return float(leak.max() + (1.0 - leak).max() * base)


def assert_jacobian_bound(net, x0, inputs=None, *, n_steps=None, result=None, rtol=None):
    r"""Assert ``||dx_t/dx_k||_2 <= eta^(t - k)`` for every window of one trajectory (eqs. 5-7).

    Parameters
    ----------
    net : RNN
        The network; eta is `step_norm_bound` (``gamma ||W_rec||_2`` without a leak).
    x0 : array_like, shape (n,)
        Initial state.
    inputs : array_like, shape (T, m), optional
        Inputs; None for an autonomous run of ``n_steps`` steps (as `dynrnn.jacobian_products`).
    n_steps : int, optional
        T, when ``inputs`` is None.
    result : JacobianResult, optional
        The products to check, e.g. computed by your own code; by default
        ``dynrnn.jacobian_products(net, x0, inputs, n_steps=n_steps)``.
    rtol : float, optional
        Slack for rounding: ``log ||P_{t,k}|| <= (t - k) log eta + rtol (1 + (t - k) + |bound|)``;
        default ``5e4 eps`` of the network's dtype (1.1e-11 in float64).

    Raises
    ------
    AssertionError
        If a window exceeds the bound (the message gives t, k, the norm, the bound, gamma,
        ``||W_rec||_2`` and how many windows exceed it), or a window of a finite trajectory is NaN.

    Notes
    -----
    Pascanu et al. (2013), eqs. (5)-(6): ``dx_t/dx_k = prod_{t >= i > k} J_i`` and
    ``||J_i|| <= ||W_rec|| ||diag(sigma')|| <= gamma ||W_rec||``, so by submultiplicativity the
    product of t - k factors is at most ``(gamma ||W_rec||)^(t - k)`` (eq. 7 with
    ``eta = gamma ||W_rec||``).  It holds for any weights, both forms and every activation; a leak
    changes the factor (`step_norm_bound`).  Windows that use a non-finite state of a diverged
    trajectory are NaN and skipped.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> from dynrnn.testing import assert_jacobian_bound
    >>> net = dynrnn.RNN(W_rec=[[0.0, 1.5], [-1.5, 0.0]], activation="tanh")
    >>> assert_jacobian_bound(net, [0.3, -0.2], n_steps=20)
    """
    res = _products(net, x0, inputs, n_steps, result)
    eta = step_norm_bound(net)
    log_norm, lag, lower = _windows(res)
    bound = _power(lag, eta)
    slack = _slack(res, rtol) * (1.0 + lag + np.abs(np.where(np.isfinite(bound), bound, 0.0)))
    with np.errstate(invalid="ignore"):
        excess = np.where(lower & ~np.isnan(log_norm), log_norm - bound, -np.inf)
    excess[np.isnan(excess)] = -np.inf  # -inf - (-inf): a zero product under a zero bound
    bad = excess > slack
    if bad.any():
        t, k = np.unravel_index(np.argmax(np.where(bad, excess, -np.inf)), excess.shape)
        raise AssertionError(
            f"||dx_t/dx_k||_2 exceeds the bound eta^(t - k) of eqs. (6)-(7) at t = {t}, k = {k} (lag {t - k}): "
            f"norm {_exp(log_norm[t, k])} (log {log_norm[t, k]:.10g}) > bound {_exp(bound[t, k])} "
            f"(log {bound[t, k]:.10g}); {_describe(net, eta)}; {int(bad.sum())} of {int(lower.sum())} windows "
            "exceed it"
        )


def assert_vanishing(net, x0, inputs=None, *, n_steps=None, result=None, rtol=None):
    r"""Assert that the products vanish geometrically when ``gamma ||W_rec||_2 < 1`` (eqs. 6-7).

    Checks that the network is in the vanishing regime, ``eta < 1`` with eta = `step_norm_bound`
    (``||W_rec||_2 < 1 / gamma`` without a leak), that every window obeys
    ``||dx_t/dx_k|| <= eta^(t - k)`` (`assert_jacobian_bound`), and that each extra step shrinks
    a product by eta at least: ``||dx_t/dx_{k-1}|| <= eta ||dx_t/dx_k||`` and
    ``||dx_{t+1}/dx_k|| <= eta ||dx_t/dx_k||``.

    Parameters
    ----------
    net, x0, inputs, n_steps, result, rtol
        As for `assert_jacobian_bound`.

    Raises
    ------
    AssertionError
        If ``eta >= 1`` (the network is outside the law's assumption: draw it with
        ``networks(eta=(lo, hi))``, hi < 1, or ``hypothesis.assume`` it), or a product does not
        shrink as stated; the message gives the window, the norms and eta.

    Notes
    -----
    Pascanu et al. (2013), Sec. 2.1: if the largest singular value of ``W_rec`` is below
    ``1 / gamma``, then ``||dx_{k+1}/dx_k|| <= eta < 1`` for all k (eq. 6), and the long-term
    contributions ``dx_t/dx_k`` go to 0 exponentially fast with t - k (eq. 7).  Since
    ``P_{t,k-1} = P_{t,k} J_k``, each step multiplies a product's norm by at most eta.

    Examples
    --------
    >>> import dynrnn
    >>> from dynrnn.testing import assert_vanishing
    >>> net = dynrnn.RNN(W_rec=[[3.0, 1.0], [0.0, 3.0]], activation="logistic")   # ||W_rec|| ~ 3.6 < 4
    >>> assert_vanishing(net, [0.5, -1.0], n_steps=30)
    """
    eta = step_norm_bound(net)
    if not eta < 1.0:
        raise AssertionError(
            f"the vanishing condition of Sec. 2.1 does not hold: eta = {eta:.10g} >= 1 ({_describe(net, eta)}; "
            f"it needs ||W_rec||_2 < 1/gamma = {1.0 / gamma(net.activation):.10g}"
            + (" and leak rates giving max(leak) + max(1 - leak) gamma ||W_rec||_2 < 1)" if net.leak is not None
               else ")")
        )  # fmt: skip
    res = _products(net, x0, inputs, n_steps, result)
    assert_jacobian_bound(net, x0, inputs, n_steps=n_steps, result=res, rtol=rtol)
    log_norm, lag, lower = _windows(res)
    log_eta, tol = math.log(eta) if eta > 0.0 else -math.inf, _slack(res, rtol)
    # (here, there): the window (t, k) and the one a step longer, back to k - 1 or on to t + 1
    for axis, grown in ((1, "back from x_k to x_{k-1}"), (0, "on from x_t to x_{t+1}")):
        cut = (slice(None), slice(1, None)) if axis == 1 else (slice(None, -1), slice(None))
        nxt = (slice(None), slice(None, -1)) if axis == 1 else (slice(1, None), slice(None))
        here, there = log_norm[cut], log_norm[nxt]
        valid = lower[cut] & ~np.isnan(here) & ~np.isnan(there)
        limit = here + log_eta
        with np.errstate(invalid="ignore"):
            ok = np.where(limit == -np.inf, there == -np.inf, there <= limit + tol * (1.0 + lag[nxt] + np.abs(limit)))
        bad = valid & ~ok
        if bad.any():
            i, j = np.argwhere(bad)[0]
            (t, k), (t2, k2) = (i, j + 1) if axis == 1 else (i, j), (i, j) if axis == 1 else (i + 1, j)
            raise AssertionError(
                f"the product did not shrink by eta when the window (t = {t}, k = {k}) grew {grown}: "
                f"||dx_{t}/dx_{k}||_2 = {_exp(here[i, j])}, ||dx_{t2}/dx_{k2}||_2 = {_exp(there[i, j])}, "
                f"ratio {_exp(there[i, j] - here[i, j])} > eta = {eta:.10g} ({_describe(net, eta)}); "
                f"{int(bad.sum())} windows did not shrink"
            )


def assert_contributions_sum_to_gradient(result, grads=None, *, rtol=None):
    r"""Assert that the temporal contributions of eq. (4) add up to the gradient of eq. (3).

    Parameters
    ----------
    result : GradientResult or mapping of str to ndarray
        A `dynrnn.bptt` result computed with ``contributions="lag"`` or ``"window"``; or your own
        contributions by lag, ``name -> array (L, *shape)``, with ``grads``.
    grads : mapping of str to ndarray, optional
        The gradients to compare with (default ``result.grads``); only the names that have
        contributions are checked.
    rtol : float, optional
        Tolerance: ``|sum_l C_l - g| <= rtol (|g| + L max|C|)`` entrywise, L the number of terms;
        default ``5e3 eps`` of the dtype (1.1e-12 in float64).

    Raises
    ------
    AssertionError
        If a sum differs from its gradient (the message gives the parameter, the entry, both
        values and the tolerance); with window contributions also if a window with k > t is
        nonzero or the windows of one lag do not add up to that lag's contribution.
    ValueError
        If the result holds no contributions, or a shape or name disagrees.

    Notes
    -----
    Pascanu et al. (2013), eqs. (3)-(4): ``dE/dtheta = sum_t sum_{k <= t} (dE_t/dx_t)
    (dx_t/dx_k) (d+x_k/dtheta)``.  Each term is a temporal contribution; `dynrnn.bptt` groups them
    by the lag t - k (``contributions``) and by window (t, k) (``window_contributions``, entry
    ``[t - 1, k - 1]``).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> from dynrnn.testing import assert_contributions_sum_to_gradient
    >>> net = dynrnn.RNN(W_rec=[[0.9, 0.2], [-0.3, 0.5]], W_in=[[1.0], [0.5]])
    >>> res = dynrnn.bptt(net, [0.1, 0.2], np.ones((6, 1, 1)), np.zeros((6, 1, 2)), contributions="window")
    >>> assert_contributions_sum_to_gradient(res)
    """
    window = None
    if isinstance(result, GradientResult):
        if result.contributions is None:
            raise ValueError("result holds no contributions; call dynrnn.bptt with contributions='lag' or 'window'")
        contributions, window = result.contributions, result.window_contributions
        grads = result.grads if grads is None else grads
    elif isinstance(result, Mapping):
        contributions = result
        if grads is None:
            raise ValueError("grads must be given with contributions as a mapping; got None")
    else:
        raise TypeError(f"result must be a dynrnn.GradientResult or a mapping; got {type(result).__name__}")
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a mapping of names to arrays; got {type(grads).__name__}")
    for name, c in contributions.items():
        if name not in grads:
            raise ValueError(f"grads has no {name!r}, which has contributions; it has {', '.join(map(repr, grads))}")
        c, g = np.asarray(c), np.asarray(grads[name])
        if c.shape[1:] != g.shape:
            raise ValueError(f"contributions[{name!r}] must have shape (L, *{g.shape}); got {c.shape}")
        what = f"the temporal contributions to {name} summed over lags (eq. 4)"
        _compare(what, "the gradient", c.sum(axis=0), g, _sum_tolerance(c, g, rtol), c.shape[0])
        if window is None:
            continue
        w = np.asarray(window[name])
        T = w.shape[0]
        if w.shape != (T, T, *g.shape):
            raise ValueError(f"window_contributions[{name!r}] must have shape (T, T, *{g.shape}); got {w.shape}")
        above = np.triu(np.ones((T, T), dtype=bool), 1)
        if np.any(w[above] != 0.0):
            t, k = np.argwhere(above & np.any(w.reshape(T, T, -1) != 0.0, axis=2))[0]
            raise AssertionError(
                f"the window contribution to {name} of E_{t + 1} through x_{k + 1} is nonzero although k > t: "
                f"max |entry| {np.max(np.abs(w[t, k])):.6g}"
            )
        _compare(f"the window contributions to {name} summed over (t, k)", "the gradient", w.sum(axis=(0, 1)), g,
                 _sum_tolerance(w, g, rtol), T * T)  # fmt: skip
        by_lag = np.stack([sum(w[t, t - lag] for t in range(lag, T)) for lag in range(T)])
        _compare(f"the window contributions to {name} of each lag", "the contributions by lag", by_lag, c,
                 _sum_tolerance(w, c, rtol), T)  # fmt: skip


def assert_matches_finite_differences(params, grads, *, fun, h=1e-6, rtol=1e-6, atol=0.0):
    r"""Assert that ``grads`` is the gradient of the scalar function ``fun`` at ``params`` (central differences).

    Parameters
    ----------
    params : mapping of str to array_like
        Where to differentiate.
    grads : mapping of str to array_like
        The claimed gradient ``d fun / d params[name]``, for some or all of the names of ``params``.
    fun : callable
        ``fun(params) -> float``, a function of a mapping of names to float64 arrays.  It must not
        keep or modify the arrays (they are perturbed in place between calls).
    h : float, default 1e-6
        Relative step: entry theta moves by ``+-h max(1, |theta|)``.
    rtol, atol : float
        The stated tolerance: with ``d`` the central difference of an entry and ``s`` the largest
        ``|d|`` of that parameter, every entry must satisfy
        ``|g - d| <= rtol (|d| + s) + atol + 64 eps |fun| / step`` (the last term is the rounding
        error of the difference).

    Raises
    ------
    AssertionError
        If an entry is off (the message gives the parameter, the entry, both values, the
        difference, the tolerance and how many entries are off) or non-finite.
    ValueError
        If ``grads`` names a parameter that ``params`` lacks or has another shape.

    Notes
    -----
    ``d = (fun(theta + step e_i) - fun(theta - step e_i)) / (2 step)`` has a truncation error
    ``O(step^2 fun''')``.  It is meaningless across a kink of ``fun``, such as relu's at 0.

    Examples
    --------
    >>> import numpy as np
    >>> from dynrnn.testing import assert_matches_finite_differences
    >>> w = np.array([0.1, 2.0])
    >>> assert_matches_finite_differences({"w": w}, {"w": np.cos(w)}, fun=lambda p: np.sum(np.sin(p["w"])))
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable; got {type(fun).__name__}")
    params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    eps = np.finfo(np.float64).eps
    for name, claimed in grads.items():
        if name not in params:
            raise ValueError(f"grads names {name!r}, which params lacks; params has {', '.join(map(repr, params))}")
        theta, g = params[name], np.asarray(claimed, dtype=np.float64)
        if g.shape != theta.shape:
            raise ValueError(f"grads[{name!r}] must have the shape of params[{name!r}], {theta.shape}; got {g.shape}")
        d, noise = np.empty_like(theta), np.empty_like(theta)
        for i in np.ndindex(theta.shape):
            old = theta[i]
            theta[i] = old + h * max(1.0, abs(old))
            up, f_up = theta[i], float(fun(params))
            theta[i] = old - h * max(1.0, abs(old))
            down, f_down = theta[i], float(fun(params))
            theta[i] = old
            d[i] = (f_up - f_down) / (up - down)
            noise[i] = 64.0 * eps * max(abs(f_up), abs(f_down)) / (up - down)
        scale = np.max(np.abs(d), initial=0.0)
        tol = rtol * (np.abs(d) + scale) + atol + noise
        with np.errstate(invalid="ignore"):
            off = ~(np.abs(g - d) <= tol)
        if off.any():
            i = np.unravel_index(np.argmax(np.where(off, np.nan_to_num(np.abs(g - d), nan=np.inf), -1.0)), g.shape)
            raise AssertionError(
                f"the gradient of {name} disagrees with central differences at entry {tuple(int(j) for j in i)}: "
                f"gradient {g[i]:.10g}, difference quotient {d[i]:.10g} (h = {h:g}), |difference| "
                f"{abs(g[i] - d[i]):.3g} > tolerance {tol[i]:.3g} (rtol {rtol:g} x (|d| + max |d| = {scale:.3g}) "
                f"+ atol {atol:g} + rounding {noise[i]:.3g}); {int(off.sum())} of {off.size} entries of {name} are off"
            )


def assert_gradient_matches_finite_differences(net, x0, inputs, targets, *, loss="squared_error", at="every",
                                               n_steps=None, wrt_x0=False, grads=None, h=1e-6, rtol=None,
                                               atol=0.0):  # fmt: skip
    r"""Assert that the BPTT gradient of eqs. (3)-(5) matches central differences of the loss.

    Parameters
    ----------
    net, x0, inputs, targets, loss, at, n_steps
        As for `dynrnn.bptt`.
    wrt_x0 : bool, default False
        Also check ``dloss/dx0``.
    grads : mapping of str to array_like, optional
        The gradient to check, e.g. from your own implementation, for some or all of ``W_rec``,
        ``W_in``, ``b``, ``W_out``, ``b_out``, ``x0``; by default that of `dynrnn.bptt`.
    h, rtol, atol
        As for `assert_matches_finite_differences`; ``rtol`` defaults to 1e-6 for a float64
        network and 1e-3 for float32.

    Raises
    ------
    AssertionError
        If an entry is off; see `assert_matches_finite_differences`.

    Notes
    -----
    The loss is evaluated by `dynrnn.bptt` on float64 copies of the network with one parameter
    entry moved by ``+-h max(1, |theta|)``, so a float32 gradient is checked against float64
    differences.  Not meaningful where a relu unit's argument is within the step of 0.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> from dynrnn.testing import assert_gradient_matches_finite_differences
    >>> net = dynrnn.RNN(W_rec=[[0.5, -0.4], [0.3, 0.8]], W_in=[[1.0], [0.2]], activation="logistic")
    >>> assert_gradient_matches_finite_differences(net, [0.1, 0.2], np.ones((5, 2, 1)), np.zeros((5, 2, 2)))
    """
    _check_net(net)
    options = {"at": at, "n_steps": n_steps}
    if grads is None:
        grads = bptt(net, x0, inputs, targets, loss=loss, wrt_x0=wrt_x0, contributions=None, **options).grads
    if rtol is None:
        rtol = 1e-6 if net.dtype == np.float64 else 1e-3
    params = {"W_rec": net.W_rec, "W_in": net.W_in, "b": net.b}
    if net.W_out is not None:
        params.update(W_out=net.W_out, b_out=net.b_out)
    if wrt_x0 or "x0" in grads:
        params["x0"] = np.zeros(net.n_units) if x0 is None else x0

    def loss_of(p):
        copy = RNN(p["W_rec"], p["W_in"], p["b"], activation=net.activation, form=net.form, leak=net.leak,
                   W_out=p.get("W_out"), b_out=p.get("b_out"))  # fmt: skip
        res = bptt(copy, p.get("x0", x0), inputs, targets, loss=loss, contributions=None, keep_states=False, **options)
        return res.loss

    assert_matches_finite_differences(params, grads, fun=loss_of, h=h, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- shared pieces


def _check_net(net):
    require_rnn(net, "dynrnn.testing")


def _products(net, x0, inputs, n_steps, result):
    """``result`` (checked against ``net``) or the products of `dynrnn.jacobian_products`."""
    _check_net(net)
    if result is None:
        return jacobian_products(net, x0, inputs, n_steps=n_steps)
    if not isinstance(result, JacobianResult):
        raise TypeError(f"result must be a dynrnn.JacobianResult or None; got {type(result).__name__}")
    if result.x.shape[1] != net.n_units:
        raise ValueError(f"result is for {result.x.shape[1]} units; net has {net.n_units}")
    return result


def _windows(res):
    """``(log_norm as float64, lag t - k, mask of k <= t)``, asserting that a finite trajectory has no NaN window."""
    log_norm = np.asarray(res.log_norm, dtype=np.float64)
    T = log_norm.shape[0] - 1
    lag = np.subtract.outer(np.arange(T + 1), np.arange(T + 1)).astype(np.float64)
    lower = lag >= 0
    if not res.diverged and np.isnan(log_norm[lower]).any():
        t, k = np.argwhere(lower & np.isnan(log_norm))[0]
        raise AssertionError(f"log ||dx_t/dx_k||_2 is NaN at t = {t}, k = {k} although the trajectory is finite")
    return log_norm, lag, lower


def _power(lag, eta):
    """``lag log(eta)``, with ``0^0 = 1`` (log 0) and ``0^lag = 0`` (log -inf) for lag > 0."""
    if eta > 0.0:
        return lag * math.log(eta)
    return np.where(lag > 0, -np.inf, 0.0)


def _slack(res, rtol):
    return 5e4 * np.finfo(res.log_norm.dtype).eps if rtol is None else float(rtol)


def _sum_tolerance(terms, total, rtol):
    """``rtol (|total| + L max|term|)`` for a sum of L terms along axis 0 (and axis 1 of window arrays)."""
    rtol = 5e3 * np.finfo(np.asarray(total).dtype).eps if rtol is None else float(rtol)
    terms = np.asarray(terms, dtype=np.float64)
    n_terms = terms.shape[0] * (terms.shape[1] if terms.ndim > np.ndim(total) + 1 else 1)
    return rtol * (np.abs(np.asarray(total, dtype=np.float64)) + n_terms * np.max(np.abs(terms), initial=0.0))


def _compare(what, target, actual, expected, tol, n_terms):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        off = ~(np.abs(actual - expected) <= tol)
    if off.any():
        gap = np.nan_to_num(np.abs(actual - expected), nan=np.inf)
        i = np.unravel_index(np.argmax(np.where(off, gap, -1.0)), off.shape)
        raise AssertionError(
            f"{what} differ from {target} at entry {tuple(int(j) for j in i)}: sum {actual[i]:.10g}, "
            f"expected {expected[i]:.10g}, |difference| {abs(actual[i] - expected[i]):.3g} > tolerance "
            f"{np.broadcast_to(tol, off.shape)[i]:.3g} ({n_terms} terms); {int(off.sum())} of {off.size} entries differ"
        )


def _exp(log_value):
    """``exp(log_value)`` as text, in log10 form where it would overflow or underflow."""
    if not np.isfinite(log_value):
        return "0" if log_value == -np.inf else str(np.exp(log_value))
    if abs(log_value) < 700.0:
        return f"{math.exp(log_value):.10g}"
    return f"10^{log_value / math.log(10.0):.6f}"


def _describe(net, eta):
    text = f"gamma = {gamma(net.activation):g} ({net.activation}), ||W_rec||_2 = {np.linalg.norm(net.W_rec, 2):.10g}"
    if net.leak is not None:
        text += f", leak in [{net.leak.min():.6g}, {net.leak.max():.6g}]"
    return text + f", eta = {eta:.10g}"
