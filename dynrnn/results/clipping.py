"""Result of gradient clipping (`dynrnn.clip_grad_norm`, `dynrnn.clip_grad_value`)."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from ._base import _FrozenArrays


def _arrays(grads):
    """The arrays of a gradient container (a mapping or a tuple), in order."""
    return grads.values() if isinstance(grads, Mapping) else grads


@dataclass(frozen=True, eq=False, repr=False)
class ClipResult(_FrozenArrays):
    """Clipped gradients and the norm they had before clipping.

    See `dynrnn.clip_grad_norm` (Algorithm 1 of Pascanu et al. 2013) and
    `dynrnn.clip_grad_value`.  The result unpacks as a pair:
    ``grads, grad_norm = clip_grad_norm(grads, threshold)``.

    Attributes
    ----------
    grads : mapping of str to ndarray, or tuple of ndarray
        The gradients to use for the update, keyed or ordered as they were
        given (a read-only ``types.MappingProxyType`` for a mapping, a tuple
        for a tuple or list).  Every array is new and read-only, with the
        shape of its input and its float dtype (integer input becomes
        float64).
    grad_norm : float
        Global L2 norm of the gradients *before* clipping (the quantity the
        authors log); NaN or inf when a gradient holds NaN or inf.
    threshold : float
        The clipping threshold.
    clipped : bool
        True when the gradients were clipped (rescaled by
        ``threshold / grad_norm``, or, for `dynrnn.clip_grad_value`, when some
        element changed).
    skipped : bool
        True when the norm was not finite and ``nonfinite="skip"`` replaced
        every gradient by zeros.
    shrunk : bool
        True when ``nonfinite="shrink"`` applied the authors' guard: the
        ``W_rec`` gradient became ``0.02 * W_rec`` and every other gradient 0.
    """

    grads: object
    grad_norm: float
    threshold: float
    clipped: bool
    skipped: bool
    shrunk: bool

    def __post_init__(self):
        super().__post_init__()
        for arr in _arrays(self.grads):
            arr.flags.writeable = False

    def __iter__(self):
        """Yield ``grads`` then ``grad_norm``, so that the result unpacks as a pair."""
        yield self.grads
        yield self.grad_norm

    @property
    def diverged(self):
        """True when the pre-clip norm is not finite (NaN or inf in the gradients)."""
        return not math.isfinite(self.grad_norm)

    def __repr__(self):
        def show(arr):
            return f"<{arr.dtype} array {tuple(arr.shape)}>"

        if isinstance(self.grads, Mapping):
            grads = "{" + ", ".join(f"{key!r}: {show(arr)}" for key, arr in self.grads.items()) + "}"
        else:
            shown = ", ".join(show(arr) for arr in self.grads)
            grads = f"({shown}{',' if len(self.grads) == 1 else ''})"
        parts = [f"grads={grads}"]
        parts += [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "grads"]
        return f"{type(self).__name__}({', '.join(parts)})"
