"""The vanilla RNN cell of Pascanu et al. (2013), eq. (2), in both forms and with leak, in the Numba subset.

This module is the one place where the RNN's step, its step Jacobian and
the Jacobian-vector and vector-Jacobian products are written.  Every kernel
that steps a network compiles these functions: `dynrnn.iterate` and
`dynrnn.iterate_grid` (``_kernels/scalar.py`` orbits), `dynrnn.fixed_points`
(the Newton residual), `dynrnn.jacobian_products` and
`dynrnn.lyapunov_spectrum` (``_kernels/jacobians.py``), `dynrnn.bptt` and
Omega (``_kernels/bptt.py``), the fused training update
(``_kernels/scalar_train.py``), and, through the compiled `step_jacobians`
of ``_kernels/cpu.py``, the basins, the fixed-point classification and the
continuation family.  The CPU (``njit``) and CUDA
(``cuda.jit(device=True)``) builds compile the same code.

**The map.**  For a state ``x`` (length n) driven by ``u`` (length m):

- paper form (eq. 2): ``F(x) = W_rec sigma(x) + W_in u + b``;
- standard form: ``F(x) = sigma(W_rec x + W_in u + b)``;
- with leak ``alpha`` (per unit): ``x' = alpha x + (1 - alpha) F(x)``.

Both forms are one pattern: the *observed state* ``s = observe(x)``
(``sigma(x)`` in the paper form, ``x`` in the standard form) enters the
affine part ``a = W_rec s + W_in u + b``, and ``update(a, x)`` finishes the
step (``a``, or ``sigma(a)``, mixed with ``x`` by the leak).  The step
Jacobian (eq. 5, column convention ``J = dx'/dx``) is

- paper: ``J = diag(alpha) + diag(1 - alpha) W_rec diag(sigma'(x))``;
- standard: ``J = diag(alpha) + diag(1 - alpha) diag(sigma'(a)) W_rec``;

(no leak: ``alpha = 0``).  Its *slopes* ``d`` are ``sigma'(x)`` (paper) or
``sigma'(a)`` (standard); `jacobian`, `jvp` and `vjp` take them.

**Three levels**, from one set of unit formulas (`observe`, `mix`,
`make_update`, `make_activate`, `delta`, `carry_back`):

- one unit with scalar weights, for the single-unit tools
  (`make_unit_step`, `make_unit_tangent_step`);
- one state vector (`make_state_step`, `make_slopes`, `jacobian`, `jvp`,
  `vjp`, `make_step_jacobian`);
- a batch of sequences as rows of a (B, n) block, shared by a team of
  workers (see `dynrnn.cells`), for BPTT and training (`make_drive`,
  `make_step`, `make_vjp`; the task model's standard form, with leak),
  with the products supplied by the backend (``_kernels/blocked.py``, BLAS
  or CUDA).

Functions that need a compiled activation are built by ``make_*``
factories that close over it; everything else is plain.  None allocates,
raises or touches Python objects.  ``out`` arguments must not alias inputs.
"""

FORMS = ("paper", "standard")
PARAMETERS = ("W_rec", "W_in", "b", "W_out", "b_out")


def unpack(net):
    """The task network's arrays in kernel order: ``(W_rec, W_in, b, W_out, b_out)``."""
    return tuple(getattr(net, k) for k in PARAMETERS)


# ---------------------------------------------------------------------------
# One unit: the formulas every level below is written with.
# ---------------------------------------------------------------------------
def mix(z_prev, f, alpha, leaky):
    """The leak: ``alpha z_prev + (1 - alpha) f`` (or ``f`` without leak)."""
    return alpha * z_prev + (1.0 - alpha) * f if leaky else f


def make_observe(sigma):
    """Return ``observe(x, paper)``: the observed state of one unit, ``sigma(x)`` (paper) or ``x`` (standard)."""

    def observe(x, paper):
        return sigma(x) if paper else x

    return observe


def make_update(sigma, mix):
    """Return ``update(a, z_prev, alpha, paper, leaky)``: a unit's new state from its affine part ``a``.

    ``a`` (paper) or ``sigma(a)`` (standard), mixed with ``z_prev`` by the leak.
    """

    def update(a, z_prev, alpha, paper, leaky):
        return mix(z_prev, a if paper else sigma(a), alpha, leaky)

    return update


def make_activate(sigma_dsigma, mix):
    """Return ``activate(a, z_prev, alpha, paper, leaky) -> (z, s, d)``: `make_update` with the slope.

    ``z`` is the new state, ``s = observe(z)`` what the next step multiplies
    by ``W_rec`` (and what losses and the readout see), ``d`` the slope:
    ``sigma'(z)`` in the paper form (the next step's Jacobian needs it),
    ``sigma'(a)`` in the standard form.  One ``sigma_dsigma`` call per unit.
    """

    def activate(a, z_prev, alpha, paper, leaky):
        if paper:
            z = mix(z_prev, a, alpha, leaky)
            s, d = sigma_dsigma(z)
            return z, s, d
        h, d = sigma_dsigma(a)
        z = mix(z_prev, h, alpha, leaky)
        return z, z, d

    return activate


def delta(g, d, alpha, paper, leaky):
    """``dE/da`` of one unit from ``g = dE/dz`` of its new state (``d``: the slope of `make_activate`)."""
    gi = (1.0 - alpha) * g if leaky else g
    return gi if paper else d * gi


def carry_back(g, v, d_prev, alpha, paper, leaky):
    """One unit of ``J^T g`` given ``v``, the unit's entry of ``W_rec^T delta`` (eq. 5 transposed).

    ``d_prev`` is the slope of the previous state, ``sigma'(x)`` (read in
    the paper form only).  Together, `delta` then ``W_rec^T`` then
    `carry_back` are the vector-Jacobian product of one step.
    """
    back = d_prev * v if paper else v
    return alpha * g + back if leaky else back


def make_unit_step(observe, update):
    """Return ``unit_step(x, w, b, alpha, paper, leaky)``: the map of one unit with scalar weights.

    Paper form (eq. 2 with n = 1): ``w sigma(x) + b``; standard form:
    ``sigma(w x + b)``; leaky: ``alpha x + (1 - alpha) F``.  The same
    formulas as `make_state_step`.
    """

    def unit_step(x, w, b, alpha, paper, leaky):
        return update(w * observe(x, paper) + b, x, alpha, paper, leaky)

    return unit_step


def make_unit_tangent_step(sigma_dsigma):
    """Return the paper-form unit step carrying the tangents ``dx/dw`` and ``dx/db`` (forward mode).

    ``x' = w s + b``, ``(dx/dw)' = s + w s' dx/dw``, ``(dx/db)' = 1 + w s'
    dx/db`` with ``s, s' = sigma(x), sigma'(x)``: the unit's Jacobian
    ``w sigma'(x)`` (eq. 5 with n = 1) applied to the tangent, plus the
    step's own derivative in the parameter.
    """

    def unit_tangent_step(x, dx_dw, dx_db, w, b):
        s, ds = sigma_dsigma(x)
        wds = w * ds
        return w * s + b, s + wds * dx_dw, 1.0 + wds * dx_db

    return unit_tangent_step


# ---------------------------------------------------------------------------
# One state vector.
# ---------------------------------------------------------------------------
def affine(W_rec, W_in, b, s, u, driven, i):
    """Unit ``i`` of the affine part ``a = W_rec s + W_in u + b`` (``u`` read only when ``driven``)."""
    acc = b[i]
    for j in range(s.shape[0]):
        acc += W_rec[i, j] * s[j]
    if driven:
        for k in range(u.shape[0]):
            acc += W_in[i, k] * u[k]
    return acc


def make_state_step(observe, update, affine):
    """Return ``state_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out)``.

    Writes the next state ``x'`` (see the module notes) into ``out``
    (length n); ``s`` is scratch of length n and ends holding
    ``observe(x)``.  ``u`` is read only when ``driven``, ``alpha`` only when
    ``leaky``.
    """

    def state_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out):
        n = x.shape[0]
        for j in range(n):
            s[j] = observe(x[j], paper)
        for i in range(n):
            a = affine(W_rec, W_in, b, s, u, driven, i)
            out[i] = update(a, x[i], alpha[i] if leaky else 0.0, paper, leaky)

    return state_step


def make_slopes(dsigma, affine):
    """Return ``slopes(W_rec, W_in, b, x, u, paper, driven, d)``: the step's slopes at ``x`` into ``d``.

    ``d = sigma'(x)`` (paper form) or ``sigma'(W_rec x + W_in u + b)``
    (standard form).
    """

    def slopes(W_rec, W_in, b, x, u, paper, driven, d):
        for i in range(x.shape[0]):
            d[i] = dsigma(x[i] if paper else affine(W_rec, W_in, b, x, u, driven, i))

    return slopes


def jacobian(W_rec, alpha, d, paper, leaky, J):
    """Write the step Jacobian ``J = dx'/dx`` (n, n) from the slopes ``d`` (eq. 5; see the module notes)."""
    n = d.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = W_rec[i, j] * (d[j] if paper else d[i])
        if leaky:
            for j in range(n):
                J[i, j] *= 1.0 - alpha[i]
            J[i, i] += alpha[i]


def make_jvp(mix):
    """Return ``jvp(W_rec, alpha, d, paper, leaky, v, out)``: ``out = J v`` without forming ``J``.

    How a perturbation ``v`` of the state moves in one step (eq. 5).
    """

    def jvp(W_rec, alpha, d, paper, leaky, v, out):
        n = d.shape[0]
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += W_rec[i, j] * (d[j] * v[j] if paper else v[j])
            f = acc if paper else d[i] * acc
            out[i] = mix(v[i], f, alpha[i] if leaky else 0.0, leaky)

    return jvp


def make_vjp_state(delta, carry_back):
    """Return ``vjp(W_rec, alpha, d, paper, leaky, g, work, out)``: ``out = J^T g`` without forming ``J`` (eq. 5).

    An error ``g`` on the new state carried back one step: `delta` per
    unit, then ``W_rec^T``, then `carry_back`, as in BPTT; ``work`` is
    scratch of length n.
    """

    def vjp(W_rec, alpha, d, paper, leaky, g, work, out):
        n = d.shape[0]
        for i in range(n):
            work[i] = delta(g[i], d[i], alpha[i] if leaky else 0.0, paper, leaky)
        for j in range(n):
            acc = 0.0
            for i in range(n):
                acc += W_rec[i, j] * work[i]
            out[j] = carry_back(g[j], acc, d[j], alpha[j] if leaky else 0.0, paper, leaky)

    return vjp


def make_step_jacobian(slopes, jacobian):
    """Return ``step_jacobian(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, d, J)``: slopes, then `jacobian`.

    ``J = dx'/dx`` of the step from ``x`` driven by ``u``; ``d`` is scratch
    of length n and ends holding the slopes.
    """

    def step_jacobian(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, d, J):
        slopes(W_rec, W_in, b, x, u, paper, driven, d)
        jacobian(W_rec, alpha, d, paper, leaky, J)

    return step_jacobian


# ---------------------------------------------------------------------------
# A batch of sequences, rows shared by a team: the task model (standard form, with or without leak).
# ---------------------------------------------------------------------------
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


def make_step(activate, gemm_nn, span):
    """Return ``step(WT, S_prev, V_t, alpha, leaky, S_t, D_t, worker, n_workers)`` for this worker's rows.

    `make_activate` on every row of ``A = S_prev W_rec^T + V_t``:
    ``S_t = sigma(A)``, mixed with ``S_prev`` by the leak ``alpha`` (n,)
    when ``leaky``, and ``D_t = sigma'(A)``; ``WT`` is ``W_rec^T``
    (C-contiguous), so the product runs along contiguous rows.
    """

    def step(WT, S_prev, V_t, alpha, leaky, S_t, D_t, worker, n_workers):
        gemm_nn(S_prev, WT, S_t, worker, n_workers)
        lo, hi = span(S_t.shape[0], worker, n_workers)
        n = S_t.shape[1]
        if leaky:
            for q in range(lo, hi):
                for i in range(n):
                    z, s, d = activate(S_t[q, i] + V_t[q, i], S_prev[q, i], alpha[i], False, True)
                    S_t[q, i] = s
                    D_t[q, i] = d
        else:
            for q in range(lo, hi):
                for i in range(n):
                    z, s, d = activate(S_t[q, i] + V_t[q, i], 0.0, 0.0, False, False)
                    S_t[q, i] = s
                    D_t[q, i] = d

    return step


def make_vjp(delta, carry_back, gemm_nn, span):
    """Return ``vjp(W_rec, D_t, G_t, alpha, leaky, Delta_t, Back_t, worker, n_workers)`` for this worker's rows.

    `delta` per unit, ``Delta_t = (1 - alpha) D_t * G_t`` (dE/da_t; no
    factor without leak), then ``Back_t = Delta_t W_rec`` and, when
    ``leaky``, `carry_back` adds ``alpha * G_t``: with ``G_t`` the rows of
    dE/dh_t, ``Back_t`` holds the rows of ``J_t^T dE/dh_t``, ``J_t =
    diag(alpha) + diag(1 - alpha) diag(sigma'(a_t)) W_rec``.
    """

    def vjp(W_rec, D_t, G_t, alpha, leaky, Delta_t, Back_t, worker, n_workers):
        lo, hi = span(D_t.shape[0], worker, n_workers)
        n = D_t.shape[1]
        for q in range(lo, hi):
            for i in range(n):
                Delta_t[q, i] = delta(G_t[q, i], D_t[q, i], alpha[i], False, leaky)
        gemm_nn(Delta_t, W_rec, Back_t, worker, n_workers)
        if leaky:
            for q in range(lo, hi):
                for i in range(n):
                    Back_t[q, i] = carry_back(G_t[q, i], Back_t[q, i], 0.0, alpha[i], False, True)

    return vjp


# ---------------------------------------------------------------------------
# Compiling the cell for a backend.
# ---------------------------------------------------------------------------
class Compiled:
    """The cell's functions compiled for one backend and activation (see `build`).

    Attributes: ``mix``, ``affine``, ``observe``, ``update``, ``activate``, ``delta``,
    ``carry_back``, ``unit_step``, ``unit_tangent_step``, ``state_step``,
    ``slopes``, ``jacobian``, ``jvp``, ``vjp``, ``step_jacobian``; the
    batched functions need the backend's products and are built by
    `make_drive`, `make_step` and `make_vjp` from these.
    """

    def __init__(self, **functions):
        self.__dict__.update(functions)


def build(jit, sigma, dsigma, sigma_dsigma):
    """Compile every single-unit and single-state function of the cell with ``jit``.

    ``jit`` compiles a device function (``numba.njit(inline="always")`` on
    the CPU, ``numba.cuda.jit(device=True)`` on CUDA); ``sigma``,
    ``dsigma`` and ``sigma_dsigma`` are the backend's compiled activation
    (the table of ``_kernels/scalar.py``).  Returns a `Compiled`.
    """
    mix_ = jit(mix)
    delta_ = jit(delta)
    carry_back_ = jit(carry_back)
    affine_ = jit(affine)
    observe = jit(make_observe(sigma))
    update = jit(make_update(sigma, mix_))
    slopes = jit(make_slopes(dsigma, affine_))
    jacobian_ = jit(jacobian)
    return Compiled(
        mix=mix_,
        affine=affine_,
        observe=observe,
        update=update,
        activate=jit(make_activate(sigma_dsigma, mix_)),
        delta=delta_,
        carry_back=carry_back_,
        unit_step=jit(make_unit_step(observe, update)),
        unit_tangent_step=jit(make_unit_tangent_step(sigma_dsigma)),
        state_step=jit(make_state_step(observe, update, affine_)),
        slopes=slopes,
        jacobian=jacobian_,
        jvp=jit(make_jvp(mix_)),
        vjp=jit(make_vjp_state(delta_, carry_back_)),
        step_jacobian=jit(make_step_jacobian(slopes, jacobian_)),
    )
