"""Result of backpropagation through time (`dynrnn.bptt`)."""

import types
from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


def _freeze_mapping(mapping):
    """A read-only view of ``mapping`` whose arrays are read-only too (None stays None)."""
    if mapping is None:
        return None
    for value in mapping.values():
        value.flags.writeable = False
    return types.MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False, repr=False)
class GradientResult(_FrozenArrays):
    """Loss, exact gradient and temporal contributions of a batch of sequences.

    See `dynrnn.bptt`.  Parameter names follow the network: `dynrnn.RNN`
    (``W_rec``, ``W_in``, ``b``), or `dynrnn.GRU` and `dynrnn.LSTM` (``W_ih``,
    ``W_hh``, ``b_ih``, ``b_hh``), whose ``x`` and ``dloss_dx`` span the
    full state (``(h, c)`` for the LSTM).

    Attributes
    ----------
    loss : float
        The batch loss: the mean over sequences of ``sum_t E_t`` over the
        scored steps (eq. 3).
    loss_per_sequence : ndarray, shape (B,)
        ``sum_t E_t`` of each sequence.
    grads : mapping of str to ndarray
        ``dloss/dtheta`` for ``"W_rec"``, ``"W_in"``, ``"b"``, then
        ``"W_out"`` and ``"b_out"`` for a readout loss, then ``"x0"`` when
        asked for (shape (n,) for a shared ``x0``, else (B, n)).  Read-only;
        ready for `dynrnn.clip_grad_norm`.
    contributions : mapping of str to ndarray, or None
        The temporal contributions of eq. (4) to the gradients of
        ``"W_rec"``, ``"W_in"`` and ``"b"``, summed by lag: entry ``[l]``
        is ``sum_{t - k = l} dE_t/dx_t dx_t/dx_k d+x_k/dtheta`` (batch mean),
        for l = 0 .. T - 1.  Their sum over l equals ``grads``.
    window_contributions : mapping of str to ndarray, or None
        The same per window: entry ``[t - 1, k - 1]`` is the term of
        E_t through x_k (zero where k > t).  Only with
        ``contributions="window"``.
    x : ndarray, shape (T + 1, B, n), or None
        The states ``x_0 .. x_T`` (``h_t`` in the standard form); None when
        called with ``keep_states=False``.
    dloss_dx : ndarray, shape (T + 1, B, n), or None
        The total derivative ``dloss/dx_t``: what eq. (4) propagates, and
        what the Omega regularizer of eqs. (9)-(10) reads; None when called
        with ``keep_states=False``.
    outputs : ndarray, shape (T_s, B, q)
        What each scored step's loss saw: the readout ``y_t`` (logits for
        the cross-entropy) or the observed state; ``T_s`` is T (losses at
        every step) or 1 (at the last step).
    """

    loss: float
    loss_per_sequence: np.ndarray
    grads: object
    contributions: object
    window_contributions: object
    x: np.ndarray
    dloss_dx: np.ndarray
    outputs: np.ndarray
    n_steps: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "grads", _freeze_mapping(self.grads))
        object.__setattr__(self, "contributions", _freeze_mapping(self.contributions))
        object.__setattr__(self, "window_contributions", _freeze_mapping(self.window_contributions))

    @property
    def diverged(self):
        """True when the loss or a gradient is not finite (a diverged pass)."""
        return not bool(np.isfinite(self.loss) and all(np.all(np.isfinite(g)) for g in self.grads.values()))

    def contribution_norms(self, name="W_rec"):
        """Frobenius norm of the lag-l contribution to ``grads[name]``, for l = 0 .. T - 1."""
        if self.contributions is None:
            raise ValueError("contribution_norms needs contributions; call bptt with contributions='lag' or 'window'")
        if name not in self.contributions:
            raise ValueError(f"name must be one of {', '.join(map(repr, self.contributions))}; got {name!r}")
        c = self.contributions[name]
        return np.sqrt(np.sum(c.reshape(c.shape[0], -1) ** 2, axis=1))

    def __repr__(self):
        grads = ", ".join(f"{k}: {v.shape}" for k, v in self.grads.items())
        by = "none" if self.contributions is None else "lag" + (" and window" if self.window_contributions else "")
        return (
            f"GradientResult(loss={self.loss:.6g}, batch={self.loss_per_sequence.shape[0]}, "
            f"n_steps={self.n_steps}, grads={{{grads}}}, contributions={by})"
        )
