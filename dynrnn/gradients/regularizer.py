"""The vanishing-gradient regularizer Omega of eqs. (9)-(10) and its gradient with respect to W_rec."""

import numbers

import numpy as np

from .. import _validate
from ..maps.gated import require_rnn
from ..results.gradients import GradientResult
from ..results.regularizer import RegularizerResult

__all__ = ["vanishing_regularizer"]

FORMS = ("squared", "ratio")
REDUCES = ("mean", "sum")


def vanishing_regularizer(net, result, inputs=None, *, form="squared", reduce="mean", bound=1e-20):
    r"""The regularizer Omega of eqs. (9)-(10) and its gradient with respect to ``W_rec`` only.

    Parameters
    ----------
    net : RNN
        The network that produced ``result``, in either form, any
        activation, with or without leak.
    result : GradientResult
        The output of `dynrnn.bptt` for ``net`` with ``keep_states=True``:
        its states ``x`` and total derivatives ``dloss_dx``, of shape
        (T + 1, B, n), are read.
    inputs : array_like, shape (T, B, m), optional
        The inputs given to `dynrnn.bptt`.  Required for a standard-form
        network with inputs (m > 0), which needs them to recompute the
        pre-activations ``a_{k+1}``; unused (but checked if given) otherwise.
    form : {"squared", "ratio"}, default "squared"
        ``r_k`` as the ratio of squared norms (eq. 10, the authors' code) or
        of norms (eq. 9).
    reduce : {"mean", "sum"}, default "mean"
        Average over the kept terms (the authors' code) or sum over steps of
        the batch mean (the paper); see Notes.
    bound : float, default 1e-20
        Terms with ``||dloss/dx_{k+1}||^2 < bound`` are skipped.

    Returns
    -------
    RegularizerResult
        ``omega``, ``grad_W_rec`` (n, n), the per-term ``ratios`` and
        ``valid`` flags (T, B), ``n_valid``; ``all_skipped`` flags the case
        where no term was kept (Omega and its gradient are then 0), and
        ``finite`` a diverged input (NaN or inf propagate; nothing raises).

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, ``result`` not a `GradientResult`,
        ``inputs`` not a real array, or ``bound`` not a real number.
    ValueError
        If ``form`` or ``reduce`` is unknown; ``bound`` is negative or not
        finite; ``result`` holds no states (``keep_states=False``) or
        states of a shape that does not fit ``net``; ``inputs`` is missing
        where it is needed, has the wrong shape or holds NaN or inf.

    See Also
    --------
    bptt : the states and ``dloss/dx`` that Omega reads.
    clip_grad_norm : MSGD-CR clips the gradient after ``alpha * grad_W_rec``
        has been added to ``grads["W_rec"]``.

    Notes
    -----
    Pascanu et al. (2013), Sec. 3.3.  With ``g_{k+1} = dloss/dx_{k+1}`` and
    the step Jacobian ``J_{k+1} = dx_{k+1}/dx_k``, eq. (9) reads

    .. math::
        \Omega = \sum_k \left( \frac{\| g_{k+1}^T J_{k+1} \|}
        {\| g_{k+1} \|} - 1 \right)^2

    and eq. (10), which the authors' code implements, uses the ratio of
    squared norms ``r_k = ||g^T J||^2 / ||g||^2``.  Per form,
    ``J = W_rec diag(sigma'(x_k))`` (paper) or
    ``diag(sigma'(a_{k+1})) W_rec`` with
    ``a_{k+1} = W_rec h_k + W_in u_{k+1} + b`` (standard); a leak alpha
    makes it ``diag(alpha) + diag(1 - alpha) J``.  Terms run over
    k = 0 .. T - 1 and every sequence of the batch; a term is kept when
    ``||g_{k+1}||^2 >= bound`` (a NaN term is kept, so that divergence
    shows).  ``g`` is the derivative of the batch-mean loss, as in the
    authors' code, so ``bound`` compares the same numbers.

    - ``reduce="mean"`` (the authors' code):
      ``Omega = sum_k mean_batch[(r_k - 1)^2 1_kept] / sum_k mean_batch[1_kept]``,
      the mean over the kept terms; 0 if none is kept (the code's 0/0).
    - ``reduce="sum"`` (the paper, per sequence):
      ``Omega = sum_k mean_batch[(r_k - 1)^2 1_kept]``.

    The gradient is eq. (10): only the explicit ``W_rec`` in ``J`` is
    differentiated; ``x_k``, ``a_{k+1}`` (hence ``sigma'``) and ``g_{k+1}``
    are constants, as the authors' code does by substituting them as
    placeholders.  Writing ``v = J^T g = alpha g + p (W_rec^T q)`` with
    ``p = sigma'(x_k)``, ``q = (1 - alpha) g`` (paper form) or ``p = 1``,
    ``q = (1 - alpha) sigma'(a_{k+1}) g`` (standard form),
    ``d||v||^2/dW_rec = 2 q (p v)^T``.  For ``form="ratio"`` the gradient
    of a term with ``v = 0`` (where the norm is not differentiable) is
    taken as 0.

    Examples
    --------
    A rotation with a linear activation preserves every norm, so Omega is 0:

    >>> import numpy as np, dynrnn
    >>> from dynrnn.gradients.regularizer import vanishing_regularizer
    >>> net = dynrnn.RNN([[0.0, -1.0], [1.0, 0.0]], activation="linear")
    >>> res = dynrnn.bptt(net, [1.0, 0.5], None, np.ones((3, 1, 2)), n_steps=3)
    >>> reg = vanishing_regularizer(net, res)
    >>> float(reg.omega), reg.n_valid, float(np.abs(reg.grad_W_rec).max())
    (0.0, 3, 0.0)
    """
    require_rnn(net, "vanishing_regularizer")
    if not isinstance(result, GradientResult):
        raise TypeError(f"result must be a dynrnn GradientResult (the output of bptt); got {type(result).__name__}")
    _validate.choice("form", form, FORMS)
    _validate.choice("reduce", reduce, REDUCES)
    bound = _bound(bound)
    dtype, n, m = net.dtype, net.n_units, net.n_inputs
    X, G = _states(result, n, dtype)
    T, B = X.shape[0] - 1, X.shape[1]
    standard = net.form == "standard"
    U = _inputs(inputs, T, B, m, dtype, needed=standard and m > 0)

    from .._kernels import cpu

    c = np.ones(n, dtype=dtype) if net.leak is None else (1.0 - net.leak).astype(dtype)
    g = G[1:]
    # The slopes d and v = J_{k+1}^T g for every (k, sequence): the cell's compiled VJP (eq. 5 transposed).
    U_rows = None if U is None else U.reshape(T * B, m)
    d, v = (
        a.reshape(T, B, n)
        for a in cpu.step_vjps(
            net.activation,
            net.W_rec,
            net.W_in,
            net.b,
            net.leak,
            X[:-1].reshape(T * B, n),
            U_rows,
            g.reshape(T * B, n),
            not standard,
        )  # fmt: skip
    )
    with np.errstate(all="ignore"):  # overflow and NaN are reported through `finite`
        p, q = (None, c * d * g) if standard else (d, c * g)
        norm2_g = np.einsum("tbi,tbi->tb", g, g)
        norm2_v = np.einsum("tbi,tbi->tb", v, v)
        valid = ~(norm2_g < bound)
        safe_g = np.where(valid, norm2_g, 1.0)
        if form == "squared":
            r = norm2_v / safe_g
            dr = 2.0 / safe_g  # dr/dW_rec = dr * q (p v)^T
        else:
            r = np.sqrt(norm2_v / safe_g)
            dr = np.where(norm2_v > 0.0, 1.0 / np.sqrt(np.where(norm2_v > 0.0, norm2_v, 1.0) * safe_g), 0.0)
        n_valid = int(np.count_nonzero(valid))
        denom = n_valid if reduce == "mean" else B
        weight = np.where(valid, 1.0 / max(denom, 1), 0.0).astype(dtype)
        dev = np.where(valid, r - 1.0, 0.0)
        omega = float(np.sum(weight * dev * dev))
        coef = (weight * 2.0 * dev * dr).astype(dtype)
        pv = v if p is None else p * v
        lhs = (coef[..., None] * q).reshape(T * B, n)
        grad = np.ascontiguousarray(lhs.T @ pv.reshape(T * B, n), dtype=dtype)
    ratios = np.where(valid, r, np.nan).astype(dtype)
    return RegularizerResult(
        omega=omega, grad_W_rec=grad, ratios=ratios, valid=valid, n_valid=n_valid, form=form, reduce=reduce
    )


def _bound(bound):
    if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, numbers.Real):
        raise TypeError(f"bound must be a real number; got {type(bound).__name__} {bound!r}")
    bound = float(bound)
    if not (np.isfinite(bound) and bound >= 0.0):
        raise ValueError(f"bound must be finite and >= 0; got {bound}")
    return bound


def _states(result, n, dtype):
    """The states and dloss/dx of ``result`` as (T + 1, B, n) arrays of ``dtype``."""
    if result.x is None or result.dloss_dx is None:
        raise ValueError("result must hold the states; call bptt with keep_states=True")
    X, G = np.asarray(result.x, dtype=dtype), np.asarray(result.dloss_dx, dtype=dtype)
    if X.ndim != 3 or X.shape[0] < 2 or X.shape[1] == 0 or X.shape[2] != n or G.shape != X.shape:
        raise ValueError(
            f"result must hold states x and dloss_dx of shape (T + 1, B, n) with T, B >= 1 and n = {n}; "
            f"got {_validate.shape_str(X.shape)} and {_validate.shape_str(G.shape)}"
        )
    return X, G


def _inputs(inputs, T, B, m, dtype, needed):
    """Inputs as (T, B, m), checked against the states; None where not given and not needed."""
    if inputs is None:
        if needed:
            raise ValueError(
                f"inputs is required for a standard-form network with W_in (m = {m}): "
                "pass the inputs given to bptt, shape (T, B, m)"
            )
        return None
    U = _validate.real_array("inputs", inputs, dtype)
    if U.shape != (T, B, m):
        raise ValueError(
            f"inputs must have shape (T, B, m) = {_validate.shape_str((T, B, m))} to match result and net; "
            f"got {_validate.shape_str(U.shape)}"
        )
    return U
