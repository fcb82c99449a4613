"""The single-unit map x_t = w sigma(x_{t-1}) + b of Pascanu et al. (2013), Secs. 2.2-2.4."""

import numpy as np

from . import _backend, _validate
from ._kernels.scalar import ACTIVATIONS
from .results import TangentResult

__all__ = ["iterate_tangents"]


def iterate_tangents(w, b, x0, n_steps, *, activation="logistic", backend="cpu", dtype=np.float64):
    r"""Iterate single-unit maps and carry ``d x_t / d w`` and ``d x_t / d b`` along.

    Forward-mode differentiation of ``x_t = w sigma(x_{t-1}) + b`` over a
    grid of ``(w, b, x0)``, all points at once: the quantities the error
    surface of Fig. 6 is made of.

    Parameters
    ----------
    w, b, x0 : array_like
        Recurrent weight, bias and initial state; broadcast together to the
        grid's shape.
    n_steps : int
        Number of steps T >= 1.
    activation : {"logistic", "tanh", "relu", "linear"}, default "logistic"
        The nonlinearity sigma.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to compute.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the computation and of the result.

    Returns
    -------
    TangentResult
        ``x`` (= x_T), ``dx_dw``, ``dx_db`` and ``diverged``, each with the
        broadcast shape of ``w``, ``b`` and ``x0``.  ``diverged`` is True
        where any of the three became non-finite.

    Raises
    ------
    ValueError
        If the arguments do not broadcast, hold NaN or inf, ``n_steps < 1``,
        or ``activation``, ``backend`` or ``dtype`` is unknown.
    TypeError
        If an array is complex or not numeric, or ``n_steps`` not an integer.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    dynrnn.iterate_grid : the states alone, for n units.

    Notes
    -----
    The map is eq. (8) of Pascanu et al. (2013).  With ``s = sigma(x_{t-1})``
    and ``s' = sigma'(x_{t-1})``, the chain rule gives

    .. math::
        \frac{\partial x_t}{\partial w} = s + w s' \frac{\partial x_{t-1}}{\partial w},\qquad
        \frac{\partial x_t}{\partial b} = 1 + w s' \frac{\partial x_{t-1}}{\partial b},

    starting from zero at ``t = 0``.  Near a basin boundary these grow like
    ``(w sigma')^t``: the "walls" of the error surface (Sec. 2.3).

    Examples
    --------
    >>> import dynrnn
    >>> res = dynrnn.single_unit.iterate_tangents(0.5, 0.1, 0.0, 1, activation="linear")
    >>> float(res.x), float(res.dx_dw), float(res.dx_db)
    (0.1, 0.0, 1.0)
    """
    dtype = _validate.float_dtype("dtype", dtype)
    _validate.choice("activation", activation, ACTIVATIONS)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    kernels = _backend.get(backend)
    arrays = [_validate.real_array(name, a, dtype) for name, a in (("w", w), ("b", b), ("x0", x0))]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        names = ("w", "b", "x0")
        shapes = ", ".join(f"{n} {_validate.shape_str(a.shape)}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"w, b and x0 must broadcast to one shape; got {shapes}") from None
    if 0 in shape:
        raise ValueError(f"w, b and x0 must have at least one grid point; got broadcast shape {shape}")
    w, b, x0 = (np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1) for a in arrays)
    x, dx_dw, dx_db = (np.empty(w.shape, dtype=dtype) for _ in range(3))
    kernels.iterate_tangents(activation, w, b, x0, n_steps, x, dx_dw, dx_db)
    diverged = ~(np.isfinite(x) & np.isfinite(dx_dw) & np.isfinite(dx_db))
    return TangentResult(
        x=x.reshape(shape), dx_dw=dx_dw.reshape(shape), dx_db=dx_db.reshape(shape), diverged=diverged.reshape(shape)
    )
