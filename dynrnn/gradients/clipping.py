"""Gradient clipping: Algorithm 1 of Pascanu et al. (2013) and Mikolov's element-wise clipping.

Both functions take the gradients as a dict of name -> array or as a tuple or
list of arrays, compute the global L2 norm of the concatenated gradient
without overflow or underflow, and return new read-only arrays in the same
structure.  Gradients holding NaN or inf are never passed on silently: the
``nonfinite`` policy says whether to raise, to skip the update, or (norm
clipping only) to apply the guard of the authors' code.
"""

import math
import types
from collections.abc import Mapping

import numpy as np

from .. import _validate
from ..results.clipping import ClipResult

__all__ = ["SHRINK_ABOVE", "SHRINK_RATE", "clip_grad_norm", "clip_grad_value"]

SHRINK_ABOVE = 1e10
"""Norm above which ``nonfinite="shrink"`` applies the guard, as in the authors' code (RNN.py, clipstyle='rescale')."""

SHRINK_RATE = 0.02
"""Under the guard the ``W_rec`` gradient becomes ``SHRINK_RATE * W_rec``: a step shrinks W_rec by ``1 - lr * 0.02``."""

# A sum of squares above this is exact to rounding even if some squares
# underflowed (each loses at most ~5e-324); below it, the scaled sum is used.
_SUM_MIN = 1e-250


def _entry(name, value):
    """``(array, owned)``: ``value`` as a C-contiguous float array and whether it is a private copy."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real-valued array; got {type(value).__name__}") from exc
    dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    arr = _validate.real_array(name, arr, dtype, finite=False)
    # A fresh array (cast, made contiguous, built from a list) has no base;
    # the caller's array, or a view of its memory, must not be handed back.
    return arr, arr is not value and arr.base is None


def _gradients(grads):
    """``(keys, arrays, owned)`` of a dict or tuple/list of gradients; ``keys`` is None for a sequence."""
    if isinstance(grads, Mapping):
        keys = list(grads.keys())
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"grads must have str keys (parameter names); got key {key!r}")
        names = [f"grads[{key!r}]" for key in keys]
        values = [grads[key] for key in keys]
    elif isinstance(grads, (list, tuple)):
        keys = None
        names = [f"grads[{i}]" for i in range(len(grads))]
        values = list(grads)
    else:
        raise TypeError(
            f"grads must be a dict of name -> array or a tuple or list of arrays; got {type(grads).__name__}"
        )
    if not values:
        raise ValueError(f"grads must hold at least one gradient array; got an empty {type(grads).__name__}")
    arrays, owned = [], []
    for name, value in zip(names, values, strict=True):
        arr, own = _entry(name, value)
        arrays.append(arr)
        owned.append(own)
    return keys, arrays, owned


def _rebuild(grads, keys, outs):
    """The output arrays in the structure of ``grads``, read-only: a mapping proxy or a tuple."""
    if keys is not None:
        return types.MappingProxyType(dict(zip(keys, outs, strict=True)))
    return tuple(outs)


def _global_norm(arrays):
    """L2 norm of the concatenation of ``arrays``, in float64, without spurious overflow or underflow.

    NaN if an entry is NaN, else inf if an entry is inf (or the norm exceeds
    the float64 range).
    """
    flats = [a.reshape(-1) for a in arrays]
    flats = [f if f.dtype == np.float64 else f.astype(np.float64) for f in flats]
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is handled below
        for f in flats:
            total += float(np.dot(f, f))
    if _SUM_MIN < total < math.inf:  # the common case: one pass, no temporaries
        return math.sqrt(total)
    scale = 0.0  # max |g|: NaN and inf end here, and finite values are rescaled to [-1, 1]
    for f in flats:
        if f.size:
            biggest = float(np.max(np.abs(f)))
            if math.isnan(biggest):
                return math.nan
            scale = max(scale, biggest)
    if scale == 0.0 or scale == math.inf:
        return scale
    total = 0.0
    for f in flats:
        scaled = f / scale
        total += float(np.dot(scaled, scaled))
    return scale * math.sqrt(total)


def _rescaled(arr, norm, threshold):
    """``(threshold / norm) * arr`` in the dtype of ``arr``, also where that factor underflows."""
    factor = threshold / norm
    if factor >= np.finfo(arr.dtype).tiny:
        # out= keeps 0-d arrays arrays; a Python float keeps the dtype of arr
        return np.multiply(arr, factor, out=np.empty_like(arr))
    return np.asarray((arr.astype(np.float64) / norm) * threshold).astype(arr.dtype)


def _nonfinite_error(norm, alternatives):
    return ValueError(
        f"grads contain NaN or inf (norm={norm}); nonfinite='raise' refuses such gradients (use {alternatives} instead)"
    )


def _unchanged(arrays, owned):
    """New arrays equal to ``arrays``: the private ones as they are, copies of the caller's."""
    return [a if own else a.copy() for a, own in zip(arrays, owned, strict=True)]


def clip_grad_norm(grads, threshold, *, nonfinite="raise", W_rec=None):
    r"""Rescale gradients whose global L2 norm reaches ``threshold`` (Algorithm 1).

    The norm is that of all gradients concatenated into one vector.  When it
    is >= ``threshold``, every gradient is multiplied by ``threshold / norm``,
    so the update keeps its direction and has norm ``threshold``.

    Parameters
    ----------
    grads : dict of str to array_like, or tuple or list of array_like
        The gradients, one array per parameter (any shapes).  Float arrays
        keep their dtype; integer and boolean arrays become float64.
    threshold : float
        The clipping threshold, finite and > 0.
    nonfinite : {"raise", "skip", "shrink"}, default "raise"
        What to do when the norm is not finite (a NaN or inf in ``grads``):
        ``"raise"`` raises ValueError; ``"skip"`` returns zeros (a zero
        update) with ``skipped=True``; ``"shrink"`` applies the guard of the
        authors' code: when the norm is NaN, inf or > `SHRINK_ABOVE` (1e10),
        the ``W_rec`` gradient becomes ``SHRINK_RATE * W_rec`` (0.02 W_rec),
        every other gradient becomes 0, and ``shrunk=True``.
    W_rec : array_like, optional
        The current recurrent weights, required by ``nonfinite="shrink"``.
        The ``W_rec`` gradient is ``grads["W_rec"]`` for a dict and
        ``grads[0]`` for a tuple or list; whenever ``W_rec`` is given, that
        gradient must exist and have its shape.

    Returns
    -------
    ClipResult
        ``grads`` (new read-only arrays, keyed or ordered as given: a
        read-only mapping or a tuple), ``grad_norm``
        (the pre-clip norm), ``threshold`` and the flags ``clipped``,
        ``skipped``, ``shrunk``.  It unpacks as a pair:
        ``grads, grad_norm = clip_grad_norm(...)``.

    Raises
    ------
    TypeError
        If ``grads`` is not a dict, tuple or list, has a key that is not a
        str, or holds an entry that is not a real numeric array; if
        ``threshold`` is not a real number; if ``W_rec`` is not a real
        numeric array.
    ValueError
        If ``grads`` is empty; ``threshold`` is <= 0, NaN or inf;
        ``nonfinite`` is unknown; ``nonfinite="raise"`` and the norm is not
        finite; ``nonfinite="shrink"`` without ``W_rec``; ``W_rec`` is given
        but ``grads`` has no ``"W_rec"`` entry, or its shape differs from
        that of the ``W_rec`` gradient, or it holds NaN or inf.

    See Also
    --------
    clip_grad_value : element-wise clipping (Mikolov 2012).
    ClipResult : the result.

    Notes
    -----
    Pascanu et al. (2013), Sec. 3.2, Algorithm 1, with :math:`g` the whole
    gradient :math:`\partial E / \partial \theta`:

    .. math:: \text{if } \|g\|_2 \ge \text{threshold}: \quad
              g \leftarrow \frac{\text{threshold}}{\|g\|_2}\, g

    This implements the paper's ``>=``; the authors' code tests ``>``.  The
    two differ only at equality, where the factor is 1.  The norm is
    computed in float64 (float32 gradients included) and rescaled by the
    largest ``|g|`` when the plain sum of squares would overflow or
    underflow, so gradients of 1e200 have a finite norm and tiny ones an
    accurate one.  A zero gradient has norm 0 and is returned unchanged.  A
    norm that is NaN or inf (also a norm beyond the float64 range, about
    1.8e308) counts as non-finite.  The ``"shrink"`` guard follows the
    authors' code (``gW_hh = 0.02 W_hh``, other gradients 0, when the norm
    is NaN, inf or > 1e10); the paper does not mention it.  Under
    ``"raise"`` and ``"skip"`` a finite norm above 1e10 is merely clipped.

    Examples
    --------
    >>> import numpy as np
    >>> import dynrnn
    >>> grads, norm = dynrnn.clip_grad_norm({"W_rec": [[3.0]], "b": [4.0]}, threshold=1.0)
    >>> float(norm), grads["W_rec"].tolist(), grads["b"].tolist()
    (5.0, [[0.6000000000000001]], [0.8])
    >>> r = dynrnn.clip_grad_norm((np.array([np.nan]),), 1.0, nonfinite="skip")
    >>> r.skipped, r.grads[0].tolist()
    (True, [0.0])
    """
    threshold = _validate.positive_float("threshold", threshold)
    nonfinite = _validate.choice("nonfinite", nonfinite, ("raise", "skip", "shrink"))
    keys, arrays, owned = _gradients(grads)
    if W_rec is not None:
        W_rec, at = _check_W_rec(W_rec, keys, arrays)
    elif nonfinite == "shrink":
        raise ValueError("W_rec must be given (the current recurrent weights) when nonfinite='shrink'; got None")
    norm = _global_norm(arrays)
    clipped = skipped = shrunk = False
    if nonfinite == "shrink" and not norm <= SHRINK_ABOVE:  # NaN, inf or > 1e10
        outs = [np.zeros_like(a) for a in arrays]
        outs[at] = np.multiply(W_rec, SHRINK_RATE, out=np.empty_like(W_rec))
        shrunk = True
    elif not math.isfinite(norm):
        if nonfinite == "raise":
            raise _nonfinite_error(norm, "nonfinite='skip' for a zero update, or 'shrink' for the authors' guard")
        outs = [np.zeros_like(a) for a in arrays]
        skipped = True
    elif norm >= threshold:
        outs = [_rescaled(a, norm, threshold) for a in arrays]
        clipped = True
    else:
        outs = _unchanged(arrays, owned)
    return ClipResult(
        grads=_rebuild(grads, keys, outs),
        grad_norm=norm,
        threshold=threshold,
        clipped=clipped,
        skipped=skipped,
        shrunk=shrunk,
    )


def _check_W_rec(W_rec, keys, arrays):
    """``(W_rec, index)``: the weights in the dtype of their gradient, and that gradient's index."""
    if keys is None:
        at = 0
    elif "W_rec" in keys:
        at = keys.index("W_rec")
    else:
        raise ValueError(f"grads must have a 'W_rec' entry when W_rec is given; got keys {keys}")
    W_rec = _validate.real_array("W_rec", W_rec, arrays[at].dtype)
    if W_rec.shape != arrays[at].shape:
        where = "grads[0]" if keys is None else "grads['W_rec']"
        raise ValueError(
            f"W_rec must have the shape of its gradient {where}, {_validate.shape_str(arrays[at].shape)}; "
            f"got {_validate.shape_str(W_rec.shape)}"
        )
    return W_rec, at


def _bound(threshold, dtype):
    """The largest value of ``dtype`` that is <= ``threshold``."""
    info = np.finfo(dtype)
    if threshold >= float(info.max):
        return info.max
    bound = dtype.type(threshold)
    if float(bound) > threshold:
        bound = np.nextafter(bound, dtype.type(0))
    return bound


def clip_grad_value(grads, threshold, *, nonfinite="raise"):
    r"""Clip every gradient element to ``[-threshold, threshold]`` (Mikolov's element-wise clipping).

    Parameters
    ----------
    grads : dict of str to array_like, or tuple or list of array_like
        The gradients, one array per parameter (any shapes).  Float arrays
        keep their dtype; integer and boolean arrays become float64.
    threshold : float
        The clipping threshold, finite and > 0.  For float32 (or float16)
        gradients the bound is the largest value of that dtype <= threshold.
    nonfinite : {"raise", "skip"}, default "raise"
        What to do when a gradient holds NaN or inf (which clipping alone
        would pass on, or turn into +-threshold): ``"raise"`` raises
        ValueError; ``"skip"`` returns zeros with ``skipped=True``.

    Returns
    -------
    ClipResult
        ``grads`` (new read-only arrays, keyed or ordered as given: a
        read-only mapping or a tuple), ``grad_norm``
        (the global L2 norm before clipping), ``threshold``, ``clipped``
        (True if some element changed), ``skipped``, and ``shrunk`` (always
        False).  It unpacks as ``grads, grad_norm = clip_grad_value(...)``.

    Raises
    ------
    TypeError
        If ``grads`` is not a dict, tuple or list, has a key that is not a
        str, or holds an entry that is not a real numeric array; if
        ``threshold`` is not a real number.
    ValueError
        If ``grads`` is empty; ``threshold`` is <= 0, NaN or inf;
        ``nonfinite`` is not "raise" or "skip" ("shrink" belongs to
        `clip_grad_norm`); or ``nonfinite="raise"`` and a gradient holds NaN
        or inf.

    See Also
    --------
    clip_grad_norm : Algorithm 1, which rescales and keeps the direction.
    ClipResult : the result.

    Notes
    -----
    Element-wise clipping (Mikolov 2012), which Pascanu et al. (2013,
    Sec. 3.2) contrast with Algorithm 1; it changes the direction of the
    update.  Each element becomes

    .. math:: g_i \leftarrow \max(-\text{threshold}, \min(\text{threshold}, g_i))

    Mikolov clips the temporal components of the gradient; here whole
    gradients are clipped, which is what a training step needs.

    Examples
    --------
    >>> import dynrnn
    >>> r = dynrnn.clip_grad_value({"W_rec": [[3.0, -0.5]], "b": [-4.0]}, threshold=1.0)
    >>> r.grads["W_rec"].tolist(), r.grads["b"].tolist(), r.clipped, float(r.grad_norm)
    ([[1.0, -0.5]], [-1.0], True, 5.024937810560445)
    """
    threshold = _validate.positive_float("threshold", threshold)
    if isinstance(nonfinite, str) and nonfinite == "shrink":
        raise ValueError(
            "nonfinite must be 'raise' or 'skip' for clip_grad_value; got 'shrink' (the guard is clip_grad_norm's)"
        )
    nonfinite = _validate.choice("nonfinite", nonfinite, ("raise", "skip"))
    keys, arrays, owned = _gradients(grads)
    norm = _global_norm(arrays)
    clipped = skipped = False
    if not math.isfinite(norm):
        if nonfinite == "raise":
            raise _nonfinite_error(norm, "nonfinite='skip' for a zero update")
        outs = [np.zeros_like(a) for a in arrays]
        skipped = True
    else:
        outs = []
        for a, own in zip(arrays, owned, strict=True):
            bound = _bound(threshold, a.dtype)
            # |g_i| <= norm, so below the bound no element can change.
            if norm > bound and a.size and (a.max() > bound or a.min() < -bound):
                outs.append(np.clip(a, -bound, bound, out=np.empty_like(a)))
                clipped = True
            else:
                outs.append(a if own else a.copy())
    return ClipResult(
        grads=_rebuild(grads, keys, outs),
        grad_norm=norm,
        threshold=threshold,
        clipped=clipped,
        skipped=skipped,
        shrunk=False,
    )
