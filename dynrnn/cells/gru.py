"""The GRU cell of PyTorch's ``torch.nn.GRU``, in the Numba subset: step, step Jacobian, JVP and VJP.

The one place where the GRU's map and its derivatives are written; the CPU
(``numba.njit``) and CUDA (``numba.cuda.jit(device=True)``) builds compile the
same code (see `dynrnn.cells`).

**The map** (the PyTorch documentation of ``torch.nn.GRU``; Cho et al. 2014).
For the hidden state ``h`` (length n, the whole state) driven by ``u``
(length m), with the parameters in PyTorch's stacked layout, gate order
r, z, n (reset, update, new) -- ``W_ih`` (3n, m), ``W_hh`` (3n, n), ``b_ih``
and ``b_hh`` (3n,), block k holding rows ``k n ... (k + 1) n - 1``:

- ``r = sigmoid(W_ir u + b_ir + W_hr h + b_hr)``;
- ``z = sigmoid(W_iz u + b_iz + W_hz h + b_hz)``;
- ``n = tanh(W_in u + b_in + r * (W_hn h + b_hn))``;
- ``h' = (1 - z) * n + z * h``.

**The step Jacobian** ``J = dh'/dh`` (n, n), the factor of Pascanu et al.
(2013), eq. (5), for this map: with ``q = W_hn h + b_hn``,

- ``J = diag(z) + diag((h - n) z (1 - z)) W_hz
  + diag((1 - z)(1 - n^2)) [diag(q r (1 - r)) W_hr + diag(r) W_hn]``.

**Fixed points** are those of the candidate map ``h -> n(h)`` (`make_candidate`).

Every unit ``i`` needs only its own gates (``r_i, z_i, n_i, q_i``) and row
``i`` of each block, so the step, the Jacobian and the JVP use no scratch;
the VJP keeps the gates' errors (`make_deltas`) in ``work`` (length >= 6n).

**A batch of sequences** (training and the population engine): `make_step_rows`
and `make_vjp_rows` advance and backpropagate B sequences as rows of (B, n)
and (B, 3n) blocks, shared by a team of workers (see `dynrnn.cells`), with
the backend's matrix products (BLAS on the CPU, ``_kernels/blocked.py`` on
CUDA); ``_kernels/scalar_train_gated.py`` builds the training update from them.

Functions that need the compiled sigmoid and tanh are built by ``make_*``
factories; `build` compiles them all for a backend.  None allocates, raises
or touches Python objects; ``out`` arguments must not alias inputs.  ``u`` is
read only when ``driven`` (``W_ih`` then has m >= 1 columns).
"""

N_GATES = 3
PARAMETERS = ("W_ih", "W_hh", "b_ih", "b_hh")
VJP_WORK = 2 * N_GATES  # the VJP's scratch holds VJP_WORK * n numbers (d_ih and d_hh of `make_deltas`)


def unpack(net):
    """The cell's arrays in kernel order: ``(W_ih, W_hh, b_ih, b_hh)``."""
    return tuple(getattr(net, k) for k in PARAMETERS)


def state_size(n_units):
    """Length of the GRU's state: its hidden state, n."""
    return n_units


def make_gates(sigmoid, tanh):
    """Return ``gates(W_ih, W_hh, b_ih, b_hh, h, u, driven, i) -> (r, z, n, q)`` of unit ``i``.

    ``q = (W_hn h + b_hn)_i`` is the hidden part of the new gate, which the
    reset gate scales (and the Jacobian needs).
    """

    def gates(W_ih, W_hh, b_ih, b_hh, h, u, driven, i):
        n_units = W_hh.shape[1]
        ir = i
        iz = n_units + i
        inn = 2 * n_units + i
        ar = b_ih[ir] + b_hh[ir]
        az = b_ih[iz] + b_hh[iz]
        an = b_ih[inn]
        q = b_hh[inn]
        for j in range(n_units):
            hj = h[j]
            ar += W_hh[ir, j] * hj
            az += W_hh[iz, j] * hj
            q += W_hh[inn, j] * hj
        if driven:
            for k in range(W_ih.shape[1]):
                uk = u[k]
                ar += W_ih[ir, k] * uk
                az += W_ih[iz, k] * uk
                an += W_ih[inn, k] * uk
        r = sigmoid(ar)
        z = sigmoid(az)
        return r, z, tanh(an + r * q), q

    return gates


def make_step(gates):
    """Return ``step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out)``: ``out = h'`` from ``x = h``."""

    def step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out):
        for i in range(W_hh.shape[1]):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            out[i] = (1.0 - z) * nn + z * x[i]

    return step


def make_jacobian(gates):
    """Return ``jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J)``: the step Jacobian ``dh'/dh`` into ``J`` (n, n)."""

    def jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            cz = (x[i] - nn) * z * (1.0 - z)
            cn = (1.0 - z) * (1.0 - nn * nn)
            cr = cn * q * r * (1.0 - r)
            cw = cn * r
            for j in range(n_units):
                J[i, j] = cz * W_hh[n_units + i, j] + cr * W_hh[i, j] + cw * W_hh[2 * n_units + i, j]
            J[i, i] += z

    return jacobian


def make_jvp(gates):
    """Return ``jvp(W_ih, W_hh, b_ih, b_hh, x, u, driven, v, out)``: ``out = J v`` without forming ``J``."""

    def jvp(W_ih, W_hh, b_ih, b_hh, x, u, driven, v, out):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            vr = 0.0
            vz = 0.0
            vn = 0.0
            for j in range(n_units):
                vr += W_hh[i, j] * v[j]
                vz += W_hh[n_units + i, j] * v[j]
                vn += W_hh[2 * n_units + i, j] * v[j]
            cn = (1.0 - z) * (1.0 - nn * nn)
            out[i] = z * v[i] + (x[i] - nn) * z * (1.0 - z) * vz + cn * (q * r * (1.0 - r) * vr + r * vn)

    return jvp


def make_deltas(gates):
    """Return ``deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, d_ih, d_hh, out)``: one step of BPTT.

    From an error ``g`` on ``h'``, writes ``d_ih`` and ``d_hh`` (3n each):
    the error on the gates' input-side pre-activations ``W_ih u + b_ih``
    and hidden-side ``W_hh h + b_hh`` (equal but for the new gate, whose
    hidden side the reset gate scales: ``d_hh = r d_ih`` there), so that the
    step's immediate partials (eq. 4) are ``d_ih u^T`` (W_ih), ``d_hh h^T``
    (W_hh), ``d_ih`` (b_ih) and ``d_hh`` (b_hh); and ``out = J^T g =
    W_hh^T d_hh + z g``, the error carried back to ``h`` (eq. 5 transposed).
    """

    def deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, d_ih, d_hh, out):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            dn = g[i] * (1.0 - z) * (1.0 - nn * nn)  # dE/d(W_in u + b_in + r (W_hn h + b_hn))
            dr = dn * q * r * (1.0 - r)
            dz = g[i] * (x[i] - nn) * z * (1.0 - z)
            d_ih[i] = dr
            d_hh[i] = dr
            d_ih[n_units + i] = dz
            d_hh[n_units + i] = dz
            d_ih[2 * n_units + i] = dn
            d_hh[2 * n_units + i] = dn * r
            out[i] = g[i] * z
        for row in range(N_GATES * n_units):
            c = d_hh[row]
            for j in range(n_units):
                out[j] += c * W_hh[row, j]

    return deltas


def make_vjp(deltas):
    """Return ``vjp(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work, out)``: ``out = J^T g`` without forming ``J``.

    An error ``g`` on ``h'`` carried back one step (eq. 5 transposed, as in
    BPTT): `make_deltas` with ``work`` (length >= 6n) holding its ``d_ih``
    and ``d_hh``.
    """

    def vjp(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work, out):
        k = N_GATES * W_hh.shape[1]
        deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work[:k], work[k : 2 * k], out)

    return vjp


def make_candidate(gates):
    """Return ``candidate(W_ih, W_hh, b_ih, b_hh, x, u, driven, out)``: the new gate ``n(h)`` into ``out``.

    The GRU's fixed points are those of this map: ``h* = (1 - z) n + z h*``
    with ``z < 1`` forces ``h* = n``.  Newton on ``n(h) - h`` finds the same
    zeros as on ``F(h) - h = (1 - z)(n - h)`` without the factor ``1 - z``,
    which vanishes where the update gate saturates and would make the
    identity-like far field look converged.
    """

    def candidate(W_ih, W_hh, b_ih, b_hh, x, u, driven, out):
        for i in range(W_hh.shape[1]):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            out[i] = nn

    return candidate


def make_candidate_jacobian(gates):
    """Return ``candidate_jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J)``: ``dn/dh`` into ``J`` (n, n).

    ``dn/dh = diag(1 - n^2) [diag(q r (1 - r)) W_hr + diag(r) W_hn]``.
    """

    def candidate_jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            r, z, nn, q = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            dn = 1.0 - nn * nn
            cr = dn * q * r * (1.0 - r)
            cw = dn * r
            for j in range(n_units):
                J[i, j] = cr * W_hh[i, j] + cw * W_hh[2 * n_units + i, j]

    return candidate_jacobian


# ---------------------------------------------------------------------------
# A batch of sequences, rows shared by a team: the task model's training step and its VJP.
# ---------------------------------------------------------------------------
def make_step_rows(sigmoid, tanh, gemm_nn, span):
    """Return ``step_rows(W_hhT, b_hh, H_prev, C_prev, V_t, A_t, H_t, C_t, Gates_t, Aux_t, worker, n_workers)``.

    One step of B sequences, this worker's rows (``span`` of B): ``A_t =
    H_prev W_hh^T`` (B, 3n) by the backend's ``gemm_nn`` (``W_hhT`` is
    ``W_hh^T``, C-contiguous), then per unit the gates from the input drive
    ``V_t = U_t W_ih^T + b_ih`` (B, 3n) and ``A_t + b_hh``: writes ``H_t``,
    the gates ``r, z, n`` into ``Gates_t`` (B, 3n) and the reset gate's
    operand ``W_hn h + b_hn`` into ``Aux_t`` (B, n), which the backward
    step reads.  ``C_prev`` and ``C_t`` (the LSTM's cell state) are not
    read: the signature is the LSTM's.
    """

    def step_rows(W_hhT, b_hh, H_prev, C_prev, V_t, A_t, H_t, C_t, Gates_t, Aux_t, worker, n_workers):
        gemm_nn(H_prev, W_hhT, A_t, worker, n_workers)
        lo, hi = span(H_t.shape[0], worker, n_workers)
        n = H_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                r = sigmoid(V_t[q, i] + (A_t[q, i] + b_hh[i]))
                z = sigmoid(V_t[q, n + i] + (A_t[q, n + i] + b_hh[n + i]))
                hn = A_t[q, 2 * n + i] + b_hh[2 * n + i]
                nn = tanh(V_t[q, 2 * n + i] + r * hn)
                H_t[q, i] = (1.0 - z) * nn + z * H_prev[q, i]
                Gates_t[q, i] = r
                Gates_t[q, n + i] = z
                Gates_t[q, 2 * n + i] = nn
                Aux_t[q, i] = hn

    return step_rows


def make_vjp_rows(gemm_nn, span):
    """Return ``vjp_rows(W_hh, H_prev, C_prev, Gates_t, Aux_t, G_h, G_c, D_ih, D_hh, Back_h, Back_c, worker,
    n_workers)``: one step of BPTT for this worker's rows (`make_deltas` over a batch).

    From the error ``G_h`` (B, n) on ``h_t`` and what `make_step_rows`
    kept, writes the errors on the gates' input-side and hidden-side
    pre-activations ``D_ih`` and ``D_hh`` (B, 3n) and ``Back_h = J_t^T G_h =
    D_hh W_hh + z G_h`` (B, n), the error carried back to ``h_{t-1}``.
    ``C_prev``, ``G_c`` and ``Back_c`` are not read (the LSTM's signature).
    """

    def vjp_rows(W_hh, H_prev, C_prev, Gates_t, Aux_t, G_h, G_c, D_ih, D_hh, Back_h, Back_c, worker, n_workers):
        lo, hi = span(H_prev.shape[0], worker, n_workers)
        n = H_prev.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                r = Gates_t[q, i]
                z = Gates_t[q, n + i]
                nn = Gates_t[q, 2 * n + i]
                g = G_h[q, i]
                dn = g * (1.0 - z) * (1.0 - nn * nn)
                dr = dn * Aux_t[q, i] * r * (1.0 - r)
                dz = g * (H_prev[q, i] - nn) * z * (1.0 - z)
                D_ih[q, i] = dr
                D_hh[q, i] = dr
                D_ih[q, n + i] = dz
                D_hh[q, n + i] = dz
                D_ih[q, 2 * n + i] = dn
                D_hh[q, 2 * n + i] = dn * r
        gemm_nn(D_hh, W_hh, Back_h, worker, n_workers)
        for q in range(lo, hi):
            for i in range(n):
                Back_h[q, i] += Gates_t[q, n + i] * G_h[q, i]

    return vjp_rows


class Compiled:
    """The cell compiled for one backend: ``gates``, ``step``, ``jacobian``, ``jvp``, ``deltas``, ``vjp``.

    Also ``candidate`` and ``candidate_jacobian``; ``fixed_point_map`` and ``fixed_point_jacobian`` are the
    map whose fixed points are the cell's and its Jacobian (here the candidate ``n(h)``; see `make_candidate`).
    """

    def __init__(self, **functions):
        self.__dict__.update(functions)


def build(jit, sigmoid, tanh):
    """Compile the cell with ``jit`` (``njit(inline="always")`` on the CPU, ``cuda.jit(device=True)`` on CUDA).

    ``sigmoid`` and ``tanh`` are the backend's compiled logistic and tanh
    (the table of ``_kernels/scalar.py``).  Returns a `Compiled`.
    """
    gates = jit(make_gates(sigmoid, tanh))
    deltas = jit(make_deltas(gates))
    candidate = jit(make_candidate(gates))
    candidate_jacobian = jit(make_candidate_jacobian(gates))
    return Compiled(
        gates=gates,
        step=jit(make_step(gates)),
        jacobian=jit(make_jacobian(gates)),
        jvp=jit(make_jvp(gates)),
        deltas=deltas,
        vjp=jit(make_vjp(deltas)),
        candidate=candidate,
        candidate_jacobian=candidate_jacobian,
        fixed_point_map=candidate,
        fixed_point_jacobian=candidate_jacobian,
        n_gates=N_GATES,
        vjp_work=VJP_WORK,
    )
