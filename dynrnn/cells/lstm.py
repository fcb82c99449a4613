"""The LSTM cell of PyTorch's ``torch.nn.LSTM``, in the Numba subset: step, step Jacobian, JVP and VJP.

The one place where the LSTM's map and its derivatives are written; the CPU
(``numba.njit``) and CUDA (``numba.cuda.jit(device=True)``) builds compile the
same code (see `dynrnn.cells`).

**The map** (the PyTorch documentation of ``torch.nn.LSTM``; Hochreiter &
Schmidhuber 1997, with the forget gate of Gers et al. 2000).  The state is
``x = (h, c)`` (length 2n: the hidden state, then the cell state), driven by
``u`` (length m).  The parameters are in PyTorch's stacked layout, gate order
i, f, g, o (input, forget, cell, output) -- ``W_ih`` (4n, m), ``W_hh`` (4n, n),
``b_ih`` and ``b_hh`` (4n,), block k holding rows ``k n ... (k + 1) n - 1``:

- ``i = sigmoid(a_i)``, ``f = sigmoid(a_f)``, ``g = tanh(a_g)``,
  ``o = sigmoid(a_o)``, with ``a_k = W_ik u + b_ik + W_hk h + b_hk``;
- ``c' = f * c + i * g``;
- ``h' = o * tanh(c')``.

**The step Jacobian** ``J = d(h', c')/d(h, c)`` (2n, 2n), the factor of
Pascanu et al. (2013), eq. (5), over the full state: with
``K = diag(c f (1 - f)) W_hf + diag(g i (1 - i)) W_hi + diag(i (1 - g^2)) W_hg``
(``dc'/dh``) and ``t = tanh(c')``,

- ``dc'/dh = K``, ``dc'/dc = diag(f)``;
- ``dh'/dh = diag(t o (1 - o)) W_ho + diag(o (1 - t^2)) K``,
  ``dh'/dc = diag(o (1 - t^2) f)``.

Every unit ``i`` needs only its own gates and row ``i`` of each block, so the
step, the Jacobian and the JVP use no scratch; the VJP keeps the gates'
errors (`make_deltas`) in ``work`` (length >= 8n).

**A batch of sequences** (training and the population engine): `make_step_rows`
and `make_vjp_rows` advance and backpropagate B sequences as rows of (B, n)
and (B, 4n) blocks, shared by a team of workers (see `dynrnn.cells`), with
the backend's matrix products (BLAS on the CPU, ``_kernels/blocked.py`` on
CUDA); ``_kernels/scalar_train_gated.py`` builds the training update from them.

Functions that need the compiled sigmoid and tanh are built by ``make_*``
factories; `build` compiles them all for a backend.  None allocates, raises
or touches Python objects; ``out`` arguments must not alias inputs.  ``u`` is
read only when ``driven`` (``W_ih`` then has m >= 1 columns).
"""

N_GATES = 4
PARAMETERS = ("W_ih", "W_hh", "b_ih", "b_hh")
VJP_WORK = 2 * N_GATES  # the VJP's scratch holds VJP_WORK * n numbers (d_ih and d_hh of `make_deltas`)


def unpack(net):
    """The cell's arrays in kernel order: ``(W_ih, W_hh, b_ih, b_hh)``."""
    return tuple(getattr(net, k) for k in PARAMETERS)


def state_size(n_units):
    """Length of the LSTM's state ``(h, c)``: 2n."""
    return 2 * n_units


def make_gates(sigmoid, tanh):
    """Return ``gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i) -> (i, f, g, o)`` of unit ``i``.

    ``x = (h, c)``; only ``h = x[:n]`` enters the gates.
    """

    def gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i):
        n_units = W_hh.shape[1]
        ii = i
        jf = n_units + i
        jg = 2 * n_units + i
        jo = 3 * n_units + i
        ai = b_ih[ii] + b_hh[ii]
        af = b_ih[jf] + b_hh[jf]
        ag = b_ih[jg] + b_hh[jg]
        ao = b_ih[jo] + b_hh[jo]
        for j in range(n_units):
            hj = x[j]
            ai += W_hh[ii, j] * hj
            af += W_hh[jf, j] * hj
            ag += W_hh[jg, j] * hj
            ao += W_hh[jo, j] * hj
        if driven:
            for k in range(W_ih.shape[1]):
                uk = u[k]
                ai += W_ih[ii, k] * uk
                af += W_ih[jf, k] * uk
                ag += W_ih[jg, k] * uk
                ao += W_ih[jo, k] * uk
        return sigmoid(ai), sigmoid(af), tanh(ag), sigmoid(ao)

    return gates


def make_step(gates, tanh):
    """Return ``step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out)``: ``out = (h', c')`` from ``x = (h, c)``."""

    def step(W_ih, W_hh, b_ih, b_hh, x, u, driven, out):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            ig, fg, gg, og = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            c = fg * x[n_units + i] + ig * gg
            out[n_units + i] = c
            out[i] = og * tanh(c)

    return step


def make_unit_slopes(gates, tanh):
    """Return ``unit_slopes(W_ih, W_hh, b_ih, b_hh, x, u, driven, i) -> (ci, cf, cg, co, dh_dc, f)`` of unit ``i``.

    The coefficients of the Jacobian's rows (see the module notes): ``dc'/dh
    = ci W_hi + cf W_hf + cg W_hg`` (row i), ``dh'/dh = co W_ho + dh_dc dc'/dh``,
    ``dc'/dc = f`` and ``dh'/dc = dh_dc f`` (diagonal).
    """

    def unit_slopes(W_ih, W_hh, b_ih, b_hh, x, u, driven, i):
        n_units = W_hh.shape[1]
        ig, fg, gg, og = gates(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
        c = fg * x[n_units + i] + ig * gg
        t = tanh(c)
        ci = gg * ig * (1.0 - ig)
        cf = x[n_units + i] * fg * (1.0 - fg)
        cg = ig * (1.0 - gg * gg)
        co = t * og * (1.0 - og)
        return ci, cf, cg, co, og * (1.0 - t * t), fg

    return unit_slopes


def make_jacobian(unit_slopes):
    """Return ``jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J)``: ``d(h', c')/d(h, c)`` into ``J`` (2n, 2n)."""

    def jacobian(W_ih, W_hh, b_ih, b_hh, x, u, driven, J):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            ci, cf, cg, co, dh_dc, fg = unit_slopes(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            for j in range(n_units):
                k = ci * W_hh[i, j] + cf * W_hh[n_units + i, j] + cg * W_hh[2 * n_units + i, j]
                J[n_units + i, j] = k
                J[i, j] = co * W_hh[3 * n_units + i, j] + dh_dc * k
                J[i, n_units + j] = 0.0
                J[n_units + i, n_units + j] = 0.0
            J[n_units + i, n_units + i] = fg
            J[i, n_units + i] = dh_dc * fg

    return jacobian


def make_jvp(unit_slopes):
    """Return ``jvp(W_ih, W_hh, b_ih, b_hh, x, u, driven, v, out)``: ``out = J v`` without forming ``J``."""

    def jvp(W_ih, W_hh, b_ih, b_hh, x, u, driven, v, out):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            ci, cf, cg, co, dh_dc, fg = unit_slopes(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            vi = 0.0
            vf = 0.0
            vg = 0.0
            vo = 0.0
            for j in range(n_units):
                vj = v[j]
                vi += W_hh[i, j] * vj
                vf += W_hh[n_units + i, j] * vj
                vg += W_hh[2 * n_units + i, j] * vj
                vo += W_hh[3 * n_units + i, j] * vj
            dc = ci * vi + cf * vf + cg * vg + fg * v[n_units + i]
            out[n_units + i] = dc
            out[i] = co * vo + dh_dc * dc

    return jvp


def make_deltas(unit_slopes):
    """Return ``deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, d_ih, d_hh, out)``: one step of BPTT.

    From an error ``g = (g_h, g_c)`` on ``(h', c')`` (the error on ``c'`` is
    then ``g_c + o (1 - tanh(c')^2) g_h``), writes ``d_ih`` and ``d_hh`` (4n
    each, equal for the LSTM): the error on the gates' pre-activations, so
    that the step's immediate partials (eq. 4) are ``d_ih u^T`` (W_ih),
    ``d_hh h^T`` (W_hh), ``d_ih`` (b_ih) and ``d_hh`` (b_hh); and ``out = J^T
    g``, the error carried back to ``(h, c)`` (eq. 5 transposed).
    """

    def deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, d_ih, d_hh, out):
        n_units = W_hh.shape[1]
        for i in range(n_units):
            ci, cf, cg, co, dh_dc, fg = unit_slopes(W_ih, W_hh, b_ih, b_hh, x, u, driven, i)
            gc = g[n_units + i] + dh_dc * g[i]
            d_ih[i] = gc * ci
            d_ih[n_units + i] = gc * cf
            d_ih[2 * n_units + i] = gc * cg
            d_ih[3 * n_units + i] = g[i] * co
            out[n_units + i] = gc * fg
            out[i] = 0.0
        for row in range(N_GATES * n_units):
            c = d_ih[row]
            d_hh[row] = c
            for j in range(n_units):
                out[j] += c * W_hh[row, j]

    return deltas


def make_vjp(deltas):
    """Return ``vjp(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work, out)``: ``out = J^T g`` without forming ``J``.

    An error ``g = (g_h, g_c)`` on ``(h', c')`` carried back one step (eq. 5
    transposed, as in BPTT): `make_deltas` with ``work`` (length >= 8n)
    holding its ``d_ih`` and ``d_hh``.
    """

    def vjp(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work, out):
        k = N_GATES * W_hh.shape[1]
        deltas(W_ih, W_hh, b_ih, b_hh, x, u, driven, g, work[:k], work[k : 2 * k], out)

    return vjp


# ---------------------------------------------------------------------------
# A batch of sequences, rows shared by a team: the task model's training step and its VJP.
# ---------------------------------------------------------------------------
def make_step_rows(sigmoid, tanh, gemm_nn, span):
    """Return ``step_rows(W_hhT, b_hh, H_prev, C_prev, V_t, A_t, H_t, C_t, Gates_t, Aux_t, worker, n_workers)``.

    One step of B sequences, this worker's rows (``span`` of B): ``A_t =
    H_prev W_hh^T`` (B, 4n) by the backend's ``gemm_nn`` (``W_hhT`` is
    ``W_hh^T``, C-contiguous), then per unit the gates from the input drive
    ``V_t = U_t W_ih^T + b_ih`` (B, 4n) and ``A_t + b_hh``: writes ``H_t``
    and ``C_t`` (B, n), the gates ``i, f, g, o`` into ``Gates_t`` (B, 4n)
    and ``tanh(c_t)`` into ``Aux_t`` (B, n), which the backward step reads.
    """

    def step_rows(W_hhT, b_hh, H_prev, C_prev, V_t, A_t, H_t, C_t, Gates_t, Aux_t, worker, n_workers):
        gemm_nn(H_prev, W_hhT, A_t, worker, n_workers)
        lo, hi = span(H_t.shape[0], worker, n_workers)
        n = H_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                ig = sigmoid(V_t[q, i] + (A_t[q, i] + b_hh[i]))
                fg = sigmoid(V_t[q, n + i] + (A_t[q, n + i] + b_hh[n + i]))
                gg = tanh(V_t[q, 2 * n + i] + (A_t[q, 2 * n + i] + b_hh[2 * n + i]))
                og = sigmoid(V_t[q, 3 * n + i] + (A_t[q, 3 * n + i] + b_hh[3 * n + i]))
                c = fg * C_prev[q, i] + ig * gg
                tc = tanh(c)
                C_t[q, i] = c
                H_t[q, i] = og * tc
                Gates_t[q, i] = ig
                Gates_t[q, n + i] = fg
                Gates_t[q, 2 * n + i] = gg
                Gates_t[q, 3 * n + i] = og
                Aux_t[q, i] = tc

    return step_rows


def make_vjp_rows(gemm_nn, span):
    """Return ``vjp_rows(W_hh, H_prev, C_prev, Gates_t, Aux_t, G_h, G_c, D_ih, D_hh, Back_h, Back_c, worker,
    n_workers)``: one step of BPTT for this worker's rows (`make_deltas` over a batch).

    From the errors ``G_h`` and ``G_c`` (B, n) on ``(h_t, c_t)`` and what
    `make_step_rows` kept, writes the errors on the gates' pre-activations
    ``D_ih`` and ``D_hh`` (B, 4n, equal for the LSTM) and the error carried
    back to ``(h_{t-1}, c_{t-1})``: ``Back_h = D_hh W_hh`` and ``Back_c =
    f (G_c + o (1 - tanh(c_t)^2) G_h)`` (B, n each).
    """

    def vjp_rows(W_hh, H_prev, C_prev, Gates_t, Aux_t, G_h, G_c, D_ih, D_hh, Back_h, Back_c, worker, n_workers):
        lo, hi = span(H_prev.shape[0], worker, n_workers)
        n = H_prev.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                ig = Gates_t[q, i]
                fg = Gates_t[q, n + i]
                gg = Gates_t[q, 2 * n + i]
                og = Gates_t[q, 3 * n + i]
                tc = Aux_t[q, i]
                gh = G_h[q, i]
                gc = G_c[q, i] + gh * og * (1.0 - tc * tc)
                di = gc * gg * ig * (1.0 - ig)
                df = gc * C_prev[q, i] * fg * (1.0 - fg)
                dg = gc * ig * (1.0 - gg * gg)
                do = gh * tc * og * (1.0 - og)
                D_ih[q, i] = di
                D_hh[q, i] = di
                D_ih[q, n + i] = df
                D_hh[q, n + i] = df
                D_ih[q, 2 * n + i] = dg
                D_hh[q, 2 * n + i] = dg
                D_ih[q, 3 * n + i] = do
                D_hh[q, 3 * n + i] = do
                Back_c[q, i] = gc * fg
        gemm_nn(D_hh, W_hh, Back_h, worker, n_workers)

    return vjp_rows


class Compiled:
    """The cell compiled for one backend: ``gates``, ``unit_slopes``, ``step``, ``jacobian``, ``jvp``, ``vjp``.

    Also ``deltas`` (one step of BPTT); ``fixed_point_map`` and ``fixed_point_jacobian`` (the map whose
    fixed points are the cell's, and its Jacobian) are ``step`` and ``jacobian``.
    """

    def __init__(self, **functions):
        self.__dict__.update(functions)


def build(jit, sigmoid, tanh):
    """Compile the cell with ``jit`` (``njit(inline="always")`` on the CPU, ``cuda.jit(device=True)`` on CUDA).

    ``sigmoid`` and ``tanh`` are the backend's compiled logistic and tanh
    (the table of ``_kernels/scalar.py``).  Returns a `Compiled`.
    """
    gates = jit(make_gates(sigmoid, tanh))
    unit_slopes = jit(make_unit_slopes(gates, tanh))
    step = jit(make_step(gates, tanh))
    jacobian = jit(make_jacobian(unit_slopes))
    deltas = jit(make_deltas(unit_slopes))
    return Compiled(
        gates=gates,
        unit_slopes=unit_slopes,
        step=step,
        jacobian=jacobian,
        fixed_point_map=step,
        fixed_point_jacobian=jacobian,
        jvp=jit(make_jvp(unit_slopes)),
        deltas=deltas,
        vjp=jit(make_vjp(deltas)),
        n_gates=N_GATES,
        vjp_work=VJP_WORK,
    )
