"""Run the orbit kernels over chunks of time steps, so that Ctrl-C interrupts a long call.

A compiled loop does not look at Python's signal flag, so a KeyboardInterrupt sent during a
kernel that runs for minutes is delivered only when it returns.  The launchers here call the
unchanged kernels over consecutive spans of time steps, each about ``_config.CHUNK_WORK``
multiply-adds, restarting every span from the last state of the one before; the interrupt then
arrives within a fraction of a second.  The results are those of one long call: kept states,
divergence steps (the first one counts), and NaN for every kept state after a divergence.
"""

import numpy as np

from .. import _config


def chunk_steps(items, cost_per_item_step):
    """Steps per chunk: about ``_config.CHUNK_WORK`` multiply-adds, at least one step.

    A step of a few items is bound by latency, not arithmetic (measured: 14 ns a step for two
    single-unit maps, 0.9 ns an item-step for 1e5), so fewer than 32 items count as 32.
    """
    return max(1, _config.CHUNK_WORK // (max(items, 32) * max(1, cost_per_item_step)))


def items(n_items, cost_per_item):
    """``(lo, hi)`` spans of ``n_items`` items, each about ``_config.CHUNK_WORK`` multiply-adds (at least one item)."""
    chunk = max(1, _config.CHUNK_WORK // max(1, cost_per_item))
    for lo in range(0, n_items, chunk):
        yield lo, min(n_items, lo + chunk)


def _spans(n_steps, chunk):
    t0 = 0
    while t0 < n_steps:
        t1 = min(n_steps, t0 + chunk)
        yield t0, t1
        t0 = t1


def _kept(t0, t1, keep_from):
    """Index of the first kept state among those a span ``[t0, t1]`` produces, or None."""
    first = max(t0 if t0 == 0 else t0 + 1, keep_from)
    return first if first <= t1 else None


def orbits(kernels, name, W_rec, W_in, b, alpha, x0, inputs, n_steps, paper, leaky, driven, out, diverged_at):
    """`kernels.iterate_grid` with the same arguments, over chunks of steps.

    ``x0`` (1|G, n); ``inputs`` (n_steps, m) when ``driven``, else ignored (a zero column per
    chunk is passed); fills ``out`` (G, n_keep, n) and ``diverged_at`` (G,).
    """
    G, n_keep, n = out.shape
    dtype = out.dtype
    x = np.ascontiguousarray(np.broadcast_to(x0, (G, n)), dtype=dtype).copy()
    keep_from = n_steps + 1 - n_keep
    diverged_at[:] = -1
    chunk = chunk_steps(G, n * n + (W_in.shape[1] * n if driven else 0))
    zeros = None
    for t0, t1 in _spans(n_steps, chunk):
        steps = t1 - t0
        first = _kept(t0, t1, keep_from)
        buf = np.empty((G, 1 if first is None else t1 - first + 1, n), dtype=dtype)
        at = np.empty(G, dtype=np.int64)
        if driven:
            span_inputs = inputs[t0:t1]
        else:
            if zeros is None or zeros.shape[0] != steps:
                zeros = np.zeros((steps, 1), dtype=dtype)
            span_inputs = zeros
        kernels.iterate_grid(name, W_rec, W_in, b, alpha, x, span_inputs, steps, paper, leaky, driven, buf, at)
        _merge(buf, at, t0, t1, first, keep_from, out, diverged_at, x)


def unit_orbits(kernels, name, w, b, alpha, x0, n_steps, paper, leaky, out, diverged_at):
    """`kernels.iterate_grid_unit` with the same arguments, over chunks of steps.

    ``w``, ``b``, ``alpha``, ``x0`` of shape (G,); fills ``out`` (G, n_keep) and ``diverged_at``.
    """
    G, n_keep = out.shape
    x = x0.copy()
    keep_from = n_steps + 1 - n_keep
    diverged_at[:] = -1
    for t0, t1 in _spans(n_steps, chunk_steps(G, 1)):
        first = _kept(t0, t1, keep_from)
        buf = np.empty((G, 1 if first is None else t1 - first + 1), dtype=out.dtype)
        at = np.empty(G, dtype=np.int64)
        kernels.iterate_grid_unit(name, w, b, alpha, x, t1 - t0, paper, leaky, buf, at)
        _merge(buf[:, :, None], at, t0, t1, first, keep_from, out[:, :, None], diverged_at, x[:, None])


def _merge(buf, at, t0, t1, first, keep_from, out, diverged_at, x):
    """Copy a span's kept states into ``out``, record new divergences, carry the last state."""
    before = diverged_at >= 0  # diverged in an earlier span: every later state is NaN
    new = (at >= 0) & ~before
    diverged_at[new] = at[new] + t0
    if first is not None:
        out[:, first - keep_from : t1 - keep_from + 1] = buf
        out[before, first - keep_from : t1 - keep_from + 1] = np.nan
    x[...] = buf[:, -1]
    x[before] = np.nan
