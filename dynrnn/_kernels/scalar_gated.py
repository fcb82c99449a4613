"""Backend-neutral loops over a gated cell (``cells/gru.py``, ``cells/lstm.py``), in the Numba subset.

Plain Python that ``numba.njit`` and ``numba.cuda.jit(device=True)`` both
accept; ``gated.py`` compiles it for the CPU.  Each factory closes over a
compiled cell's ``step`` and ``jacobian``, whose signatures are
``step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out)`` and
``jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J)``, with ``x`` the whole
state (``h`` for the GRU, ``(h, c)`` for the LSTM).

Two factories fit a gated cell into the RNN's loops, written once in
``scalar.py``, by filling their argument slots with the gated parameters:

- `make_orbit_step` for ``scalar.make_orbit`` (`dynrnn.iterate`): the
  slots ``(W_rec, W_in, b, alpha)`` carry ``(W_hh, W_ih, b_ih, b_hh)``;
- `make_fixed_point_residual` for ``scalar.make_fixed_point_newton``
  (`dynrnn.fixed_points`): the slots ``(W_rec, b)`` carry ``W_hh`` and the
  biases stacked as ``(b_ih, b_hh)``, and the input is zero.
"""

import math


def make_orbit_step(step):
    """Return ``orbit_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out)`` for ``scalar.make_orbit``.

    The RNN's slots carry the gated parameters: ``W_rec = W_hh``, ``W_in =
    W_ih``, ``b = b_ih``, ``alpha = b_hh``; ``paper``, ``leaky`` and the
    scratch ``s`` are not read.
    """

    def orbit_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out):
        step(W_in, W_rec, b, alpha, x, u, driven, out)

    return orbit_step


def make_trajectory(step, jacobian):
    """Return ``trajectory(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians)``.

    Iterates from ``x[0]``, writing ``x_1 ... x_B`` into ``x[1:]`` (B =
    ``jacobians.shape[0]``), and the step Jacobian ``J_i = dx_i/dx_{i-1}``
    (over the full state) into ``jacobians[i - 1]``.  As in `dynrnn.iterate`,
    the first non-finite state is kept as computed and every later one is
    NaN (and so are the Jacobians at them).
    """

    def trajectory(W_ih, W_hh, b_ih, b_hh, x, inputs, driven, jacobians):
        N = x.shape[1]
        for i in range(1, jacobians.shape[0] + 1):
            finite = True
            for j in range(N):
                finite = finite and math.isfinite(x[i - 1, j])
            if finite:
                step(W_ih, W_hh, b_ih, b_hh, x[i - 1], inputs[i - 1], driven, x[i])
            else:
                for j in range(N):
                    x[i, j] = math.nan
            jacobian(W_ih, W_hh, b_ih, b_hh, x[i - 1], inputs[i - 1], driven, jacobians[i - 1])

    return trajectory


def make_fixed_point_residual(step, jacobian):
    """Return ``residual(W_rec, b, x, paper, jacobian, s, ds, r, J)`` for ``scalar.make_fixed_point_newton``.

    ``step`` and ``jacobian`` are a map ``G`` with the cell's fixed points and
    its Jacobian (the cell's ``fixed_point_map`` and ``fixed_point_jacobian``,
    with the signatures of its step).  The slots carry ``W_rec = W_hh`` and ``b`` (2, kn), the biases stacked
    as ``(b_ih, b_hh)``; the input is zero (``u_t = 0``, so ``W_ih`` is never
    read), and ``paper``, ``s`` and ``ds`` are not read.  Writes ``r = G(x) -
    x`` and, when ``jacobian``, ``J = J_G(x) - I``; returns ``||r||^2``.
    """

    def fixed_point_residual(W_rec, b, x, paper, with_jacobian, s, ds, r, J):
        N = x.shape[0]
        step(W_rec, W_rec, b[0], b[1], x, b[0], False, r)
        for i in range(N):
            r[i] -= x[i]
        if with_jacobian:
            jacobian(W_rec, W_rec, b[0], b[1], x, b[0], False, J)
            for i in range(N):
                J[i, i] -= 1.0
        sq = 0.0
        for i in range(N):
            sq += r[i] * r[i]
        return sq

    return fixed_point_residual


def make_points(step, jacobian):
    """Return ``points(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J)``: the step and its Jacobian at P states.

    ``X`` (P, N) states, ``U`` (P, m) their inputs (read when ``driven``);
    writes the next states ``F`` (P, N) and the Jacobians ``J`` (P, N, N).
    """

    def points(W_ih, W_hh, b_ih, b_hh, X, U, driven, F, J):
        for p in range(X.shape[0]):
            step(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, F[p])
            jacobian(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, J[p])

    return points
