"""The vanilla RNN cell (Pascanu et al. 2013, eq. 11 / the authors' task model), in the Numba subset.

Standard form without leak: ``h_t = sigma(a_t)``, ``a_t = W_rec h_{t-1} +
W_in u_t + b``.  Batched over B sequences (rows), with the rows shared
among the workers of a team (see `dynrnn.cells`):

- `make_step`: one forward step, ``S_t = sigma(S_{t-1} W_rec^T + V_t)``
  with the input drive ``V_t = U_t W_in^T + b``, and the slopes
  ``D_t = sigma'(a_t)``;
- `make_vjp`: the vector-Jacobian product of one step (eq. 5 transposed),
  ``Delta_t = D_t * G_t`` (dE/da_t) and ``Back_t = Delta_t W_rec``, which
  is ``J_t^T g_t = W_rec^T diag(sigma'(a_t)) g_t`` per sequence;
- `unpack`: the network's arrays in kernel order.

Rows are ``(sequence, unit)``: ``S_t`` is (B, n); weights are passed as
``W_rec^T`` (``WT``) for the forward product and ``W_rec`` for the
backward one, so both products run along contiguous rows.
"""

PARAMETERS = ("W_rec", "W_in", "b", "W_out", "b_out")


def unpack(net):
    """The network's arrays in kernel order: ``(W_rec, W_in, b, W_out, b_out)``."""
    return tuple(getattr(net, k) for k in PARAMETERS)


def make_drive(gemm_nn, span):
    """Return ``drive(U_t, W_inT, b, V_t, worker, n_workers)``: ``V_t = U_t W_in^T + b`` for this worker's rows."""

    def drive(U_t, W_inT, b, V_t, worker, n_workers):
        gemm_nn(U_t, W_inT, V_t, worker, n_workers)
        lo, hi = span(V_t.shape[0], worker, n_workers)
        n = V_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                V_t[q, i] += b[i]

    return drive


def make_step(sigma_dsigma, gemm_nn, span):
    """Return ``step(WT, S_prev, V_t, S_t, D_t, worker, n_workers)`` for this worker's rows.

    ``S_t = sigma(S_prev W_rec^T + V_t)`` and ``D_t = sigma'(.)`` of the same
    argument; ``WT`` is ``W_rec^T`` (C-contiguous).
    """

    def step(WT, S_prev, V_t, S_t, D_t, worker, n_workers):
        gemm_nn(S_prev, WT, S_t, worker, n_workers)
        lo, hi = span(S_t.shape[0], worker, n_workers)
        n = S_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                h, d = sigma_dsigma(S_t[q, i] + V_t[q, i])
                S_t[q, i] = h
                D_t[q, i] = d

    return step


def make_vjp(gemm_nn, span):
    """Return ``vjp(W_rec, D_t, G_t, Delta_t, Back_t, worker, n_workers)`` for this worker's rows.

    ``Delta_t = D_t * G_t`` and ``Back_t = Delta_t W_rec``: with ``G_t`` the
    rows of dE/dh_t, ``Back_t`` holds the rows of ``J_t^T dE/dh_t``.
    """

    def vjp(W_rec, D_t, G_t, Delta_t, Back_t, worker, n_workers):
        lo, hi = span(D_t.shape[0], worker, n_workers)
        n = D_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                Delta_t[q, i] = D_t[q, i] * G_t[q, i]
        gemm_nn(Delta_t, W_rec, Back_t, worker, n_workers)

    return vjp
