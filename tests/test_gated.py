"""The gated cells (``dynrnn/cells/gru.py``, ``lstm.py``), `dynrnn.GRU`, `dynrnn.LSTM` and the analyses of them.

Truths that share no code with dynrnn: the NumPy equations of ``naive_gated.py`` (the
step, the chain-rule Jacobian, central differences, explicit Jacobian products, the batch
loss whose central differences check `dynrnn.bptt`), PyTorch's
``nn.GRU`` / ``nn.LSTM`` forward and autograd when torch is installed, and known answers
(``W_hh = 0``: constant gates, so the Lyapunov exponents and the one fixed point are closed
forms; a one-unit GRU whose fixed points solve ``h = tanh(1.5 h)``).
"""

import subprocess
import sys

import naive_gated as ng
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL, skip_without_cuda
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

import dynrnn
import dynrnn.testing

try:  # a module global, so that the simulator can swap in its fake module inside kernels
    from numba import cuda
except ImportError:  # pragma: no cover - depends on the install; the CUDA test is skipped
    cuda = None

CELLS = {"gru": (dynrnn.GRU, 3), "lstm": (dynrnn.LSTM, 4)}
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # CPU vs a NumPy reference or torch, short horizons (float64)
FD = {"rtol": 1e-6, "atol": 1e-8}  # analytic vs central differences, h = 1e-6


def _params(net):
    return tuple(np.asarray(a) for a in (net.W_ih, net.W_hh, net.b_ih, net.b_hh))


# ----------------------------------------------------------------------------- strategies


def float_arrays(shape, lo, hi):
    """float64 arrays in [lo, hi] without subnormals (whose products lose their relative precision)."""
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)
    return arrays(np.float64, shape, elements=elements)


@st.composite
def gated_nets(draw, cells=tuple(CELLS), n_units=(1, 3), n_inputs=(0, 2), scale=(0.0, 1.5), bias=2.0):
    """A `GRU` or `LSTM` with ``||W_hh||`` entries in [-s/sqrt(n), s/sqrt(n)] for a drawn s in ``scale``."""
    cell = draw(st.sampled_from(cells))
    cls, k = CELLS[cell]
    n = draw(st.integers(*n_units))
    m = draw(st.integers(*n_inputs))
    s = draw(st.floats(*scale)) / np.sqrt(n)
    return cls(
        W_ih=draw(float_arrays((k * n, m), -1.0, 1.0)),
        W_hh=draw(float_arrays((k * n, n), -s, s)) if s > 0 else np.zeros((k * n, n)),
        b_ih=draw(float_arrays(k * n, -bias, bias)),
        b_hh=draw(float_arrays(k * n, -bias, bias)),
    )


@st.composite
def states(draw, net):
    """A state of ``net``: h in [-1.5, 1.5]^n (beyond tanh's range: any state), c in [-3, 3]^n."""
    n = net.n_units
    h = draw(float_arrays(n, -1.5, 1.5))
    return h if net.cell == "gru" else np.concatenate([h, draw(float_arrays(n, -3.0, 3.0))])


@st.composite
def cases(draw, max_steps=6, **options):
    """``(net, x0, inputs)``: ``inputs`` (T, m) or None for an autonomous net."""
    net = draw(gated_nets(**options))
    x0 = draw(states(net))
    T = draw(st.integers(1, max_steps))
    inputs = draw(float_arrays((T, net.n_inputs), -1.0, 1.0)) if net.n_inputs else None
    return net, x0, inputs, T


# ----------------------------------------------------------------------------- the cells


@settings(deadline=None)
@given(cases(max_steps=1), st.data())
def test_cell_step_jacobian_jvp_vjp_match_the_reference(case, data):
    from dynrnn._kernels import cpu

    net, x, inputs, _ = case
    cell = cpu.gated_cell(net.cell)
    params = tuple(np.array(a) for a in _params(net))
    N = net.state_size
    driven = inputs is not None
    u = inputs[0] if driven else np.zeros(1)
    uu = u if driven else None
    out, J = np.empty(N), np.empty((N, N))
    cell.step(*params, x, u, driven, out)
    assert_allclose(out, ng.step(net.cell, params, x, uu), **TIGHT)
    cell.jacobian(*params, x, u, driven, J)
    expected = ng.step_jacobian(net.cell, params, x, uu)
    assert_allclose(J, expected, **TIGHT)
    assert_allclose(J, ng.fd_jacobian(net.cell, params, x, uu), **FD)
    v = data.draw(float_arrays(N, -1.0, 1.0))
    g = data.draw(float_arrays(N, -1.0, 1.0))
    Jv, gJ = np.empty(N), np.empty(N)
    cell.jvp(*params, x, u, driven, v, Jv)
    cell.vjp(*params, x, u, driven, g, np.empty(cell.vjp_work * net.n_units), gJ)
    assert_allclose(Jv, expected @ v, **TIGHT)
    assert_allclose(gJ, g @ expected, **TIGHT)
    assert_allclose(g @ Jv, gJ @ v, rtol=1e-10, atol=1e-12)  # <g, J v> = <J^T g, v>
    if net.cell == "gru":  # the candidate map whose fixed points fixed_points solves for
        cell.candidate(*params, x, u, driven, out)
        assert_allclose(out, ng.gru_candidate(*params, x, uu), **TIGHT)
        cell.candidate_jacobian(*params, x, u, driven, J)
        fd = np.empty((N, N))
        for j in range(N):
            e = np.zeros(N)
            e[j] = 1e-6
            fd[:, j] = (ng.gru_candidate(*params, x + e, uu) - ng.gru_candidate(*params, x - e, uu)) / 2e-6
        assert_allclose(J, fd, **FD)


# ----------------------------------------------------------------------------- the classes


@pytest.mark.parametrize("cell", CELLS)
def test_network_holds_read_only_copies_in_torch_layout(cell):
    cls, k = CELLS[cell]
    n, m = 2, 3
    W_ih, W_hh = np.ones((k * n, m)), np.full((k * n, n), 0.5)
    net = cls(W_ih=W_ih, W_hh=W_hh, W_out=np.ones((1, n)))
    W_hh[0, 0] = 9.0  # the caller's array: the network keeps its copy
    assert net.W_hh[0, 0] == 0.5 and not net.W_hh.flags.writeable and not net.b_ih.flags.writeable
    assert (net.n_units, net.n_inputs, net.n_outputs) == (n, m, 1)
    assert net.state_size == (n if cell == "gru" else 2 * n) and net.cell == cell
    assert_allclose(net.b_ih, np.zeros(k * n), rtol=0, atol=0)
    assert_allclose(net.b_out, np.zeros(1), rtol=0, atol=0)
    auto = cls(W_hh=W_hh, dtype=np.float32)
    assert auto.W_ih.shape == (k * n, 0) and auto.dtype == np.float32 and auto.W_hh.dtype == np.float32
    assert (
        repr(auto) == f"{cls.__name__}(n_units=2, n_inputs=0, n_outputs=0, state_size={auto.state_size}, dtype=float32)"
    )
    with pytest.raises(TypeError):
        cls(W_hh)  # keyword-only: W_ih and W_hh cannot be swapped by position


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    ("change", "error", "match"),
    [  # each change is a function of k, the number of gates (n = 2 units)
        (lambda k: {"W_hh": np.zeros((2, 2))}, ValueError, r"W_hh must have shape \(\dn, n\) with n >= 1"),
        (lambda k: {"W_hh": np.zeros((0, 0))}, ValueError, r"W_hh must have shape .*got \(0, 0\)"),
        (lambda k: {"W_ih": np.zeros((5, 1))}, ValueError, r"W_ih must have shape \(\dn, m\).*got \(5, 1\)"),
        (lambda k: {"b_ih": np.zeros(5)}, ValueError, r"b_ih must have shape \(\dn,\).*got \(5,\)"),
        (lambda k: {"b_hh": np.zeros((1, 1))}, ValueError, r"b_hh must have shape \(\dn,\)"),
        (lambda k: {"W_out": np.zeros((1, 3))}, ValueError, r"W_out must have shape \(q, n\)"),
        (lambda k: {"b_out": np.zeros(1)}, ValueError, "b_out was given without W_out"),
        (lambda k: {"W_out": np.zeros((1, 2)), "b_out": np.zeros(2)}, ValueError, r"b_out must have shape \(q,\)"),
        (lambda k: {"b_hh": np.full(2 * k, np.nan)}, ValueError, "b_hh must be finite"),
        (lambda k: {"W_ih": np.full((2 * k, 1), np.inf)}, ValueError, "W_ih must be finite"),
        (lambda k: {"W_hh": "W"}, TypeError, "W_hh must be a real-valued"),
        (lambda k: {"b_ih": np.full(2 * k, 1j)}, TypeError, "b_ih must be real-valued"),
        (lambda k: {"dtype": np.int64}, ValueError, "dtype must be numpy.float64 or numpy.float32"),
    ],
)
def test_bad_parameters_name_the_argument(cell, change, error, match):
    cls, k = CELLS[cell]
    kwargs = {"W_hh": np.zeros((2 * k, 2)), "W_ih": np.zeros((2 * k, 1)), **change(k)}
    with pytest.raises(error, match=match):
        cls(**kwargs)


def test_import_dynrnn_with_a_gated_net_imports_no_numba():
    code = (
        "import sys, numpy as np, dynrnn; dynrnn.LSTM(W_hh=np.zeros((8, 2))); dynrnn.GRU(W_hh=np.zeros((3, 1)));"
        "print(sorted(m for m in ('numba', 'matplotlib', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ----------------------------------------------------------------------------- iterate


@settings(deadline=None)
@given(cases(max_steps=20))
def test_iterate_matches_the_reference_loop(case):
    net, x0, inputs, T = case
    xs = dynrnn.iterate(net, x0, inputs, n_steps=T)
    assert xs.shape == (T + 1, net.state_size)
    assert_allclose(xs, ng.iterate(net.cell, _params(net), x0, inputs, n_steps=T), **TIGHT)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_follows_float64(cell, rng):
    cls, k = CELLS[cell]
    n, m = 3, 2
    kw = {"W_ih": rng.normal(size=(k * n, m)), "W_hh": rng.normal(size=(k * n, n)), "b_ih": rng.normal(size=k * n)}
    x0 = rng.uniform(-1, 1, size=cls(**kw).state_size)
    inputs = rng.normal(size=(10, m))
    x32 = dynrnn.iterate(cls(**kw, dtype=np.float32), x0, inputs)
    assert x32.dtype == np.float32
    assert_allclose(x32, dynrnn.iterate(cls(**kw), x0, inputs), rtol=1e-4, atol=1e-5)  # single-precision rounding
    targets = rng.normal(size=(10, 1, n))
    g32 = dynrnn.bptt(cls(**kw, dtype=np.float32), x0, inputs[:, None], targets, contributions=None).grads
    g64 = dynrnn.bptt(cls(**kw), x0, inputs[:, None], targets, contributions=None).grads
    for key, grad in g64.items():
        assert g32[key].dtype == np.float32
        assert_allclose(g32[key], grad, rtol=1e-4, atol=1e-5, err_msg=key)  # single-precision rounding


@pytest.mark.parametrize("cell", CELLS)
def test_iterate_bad_input_names_the_state_and_W_ih(cell):
    cls, k = CELLS[cell]
    net = cls(W_hh=np.zeros((k * 2, 2)), W_ih=np.zeros((k * 2, 1)))
    with pytest.raises(ValueError, match=rf"x0 must have shape \(state_size,\) with state_size = {net.state_size}"):
        dynrnn.iterate(net, np.zeros(3), n_steps=2)
    with pytest.raises(ValueError, match=r"m = 1 \(the columns of W_ih\)"):
        dynrnn.iterate(net, np.zeros(net.state_size), np.zeros((4, 2)))


# ----------------------------------------------------------------------------- Jacobian products, Lyapunov


@settings(deadline=None, max_examples=15)
@given(cases(max_steps=5))
def test_jacobian_products_are_the_explicit_products(case):
    net, x0, inputs, T = case
    res = dynrnn.jacobian_products(net, x0, inputs, n_steps=T, n_singular=net.state_size)
    xs, Js, P = ng.jacobian_products(net.cell, _params(net), x0, inputs, n_steps=T)
    assert_allclose(res.x, xs, **TIGHT)
    assert_allclose(res.jacobians, np.array(Js), **TIGHT)
    for t in range(T + 1):
        for k in range(t + 1):
            sv = np.linalg.svd(P[t][k], compute_uv=False)
            # small singular values are accurate only to about eps * sigma_1 (see jacobian_products)
            assert_allclose(res.singular_values[t, k], sv, rtol=1e-9, atol=1e-12 * max(1.0, sv[0]))


def test_lyapunov_exponents_with_constant_gates_are_their_logs(rng):
    """W_hh = 0: the GRU's Jacobian is diag(z), the LSTM's [[0, D_t], [0, diag(f)]] (f: the forget gate)."""
    n = 3
    b_ih = rng.normal(size=3 * n)
    gru = dynrnn.GRU(W_hh=np.zeros((3 * n, n)), b_ih=b_ih)
    res = dynrnn.lyapunov_spectrum(gru, rng.uniform(-1, 1, n), n_steps=40)
    z = ng.sigmoid(b_ih[n : 2 * n])
    assert_allclose(res.exponents, np.sort(np.log(z))[::-1], rtol=1e-12, atol=1e-14)
    b_ih = rng.normal(size=4 * n)
    lstm = dynrnn.LSTM(W_hh=np.zeros((4 * n, n)), b_ih=b_ih)
    res = dynrnn.lyapunov_spectrum(lstm, rng.uniform(-1, 1, 2 * n), n_steps=40)
    f = ng.sigmoid(b_ih[n : 2 * n])
    assert_allclose(res.exponents[:n], np.sort(np.log(f))[::-1], rtol=1e-12, atol=1e-14)
    assert np.all(res.exponents[n:] == -np.inf)  # the h directions are forgotten in one step


@settings(deadline=None, max_examples=15)
@given(cases(max_steps=30, scale=(0.0, 3.0)))
def test_lyapunov_laws(case):
    """Per step the exponents add up to log|det J_t|, and the largest is at most the mean of log||J_t||_2.

    ``log|R_jj|`` is accurate to about ``eps cond(J_t)``: the first law is checked at well-conditioned steps.
    """
    net, x0, inputs, T = case
    res = dynrnn.lyapunov_spectrum(net, x0, inputs, n_steps=T)
    Js = ng.jacobian_products(net.cell, _params(net), x0, inputs, n_steps=T)[1]
    for t, J in enumerate(Js):
        if np.linalg.cond(J) < 1e6:
            assert_allclose(res.local[t].sum(), np.linalg.slogdet(J)[1], rtol=1e-8, atol=1e-8)
    assert res.exponents[0] <= np.mean([np.log(np.linalg.norm(J, 2)) for J in Js]) + 1e-10


@pytest.mark.parametrize("cell", CELLS)
def test_a_contracting_cell_has_negative_exponents(cell, rng):
    cls, k = CELLS[cell]
    n = 4
    net = cls(W_hh=0.1 * rng.normal(size=(k * n, n)), W_ih=rng.normal(size=(k * n, 1)), b_ih=rng.normal(size=k * n))
    inputs = rng.normal(size=(300, 1))
    res = dynrnn.lyapunov_spectrum(net, np.zeros(net.state_size), inputs, n_transient=50)
    assert np.all(res.exponents < -0.05), res.exponents


# ----------------------------------------------------------------------------- fixed points


def _check_fixed_points(net, res, tol=1e-9):
    """Every point: a zero of the reference map, in the state's range, with the reference multipliers."""
    params = _params(net)
    for x, mu, kind in zip(res.x, res.multipliers, res.classes, strict=True):
        assert np.linalg.norm(ng.step(net.cell, params, x) - x) <= tol
        assert np.all(np.abs(x[: net.n_units]) < 1.0)  # h* = n (GRU) or o tanh(c*) (LSTM)
        lam = np.linalg.eigvals(ng.step_jacobian(net.cell, params, x))
        # a double multiplier (a Jordan block) moves by about the square root of J's rounding error (1e-16)
        assert_allclose(np.sort(np.abs(mu)), np.sort(np.abs(lam)), rtol=1e-8, atol=1e-7)
        if kind == "stable":
            assert np.all(np.abs(mu) < 1.0)
        if kind == "unstable":
            assert np.all(np.abs(mu) > 1.0)


def test_fixed_points_with_constant_gates_are_the_closed_forms(rng):
    n = 2
    b_ih, b_hh = rng.normal(size=3 * n), rng.normal(size=3 * n)
    gru = dynrnn.GRU(W_hh=np.zeros((3 * n, n)), b_ih=b_ih, b_hh=b_hh)
    res = dynrnn.fixed_points(gru, n_starts=10, rng=0)
    r, z = ng.sigmoid(b_ih[:n] + b_hh[:n]), ng.sigmoid(b_ih[n : 2 * n] + b_hh[n : 2 * n])
    assert_allclose(res.x, [np.tanh(b_ih[2 * n :] + r * b_hh[2 * n :])], **TIGHT)
    assert_allclose(np.sort(res.multipliers[0].real), np.sort(z), **TIGHT)
    assert res.classes.tolist() == ["stable"] and res.form == "gru"
    b_ih = rng.normal(size=4 * n)
    lstm = dynrnn.LSTM(W_hh=np.zeros((4 * n, n)), b_ih=b_ih)
    res = dynrnn.fixed_points(lstm, n_starts=10, rng=0)
    i, f, g, o = (
        ng.sigmoid(b_ih[:n]),
        ng.sigmoid(b_ih[n : 2 * n]),
        np.tanh(b_ih[2 * n : 3 * n]),
        ng.sigmoid(b_ih[3 * n :]),
    )
    c = i * g / (1 - f)
    assert_allclose(res.x, [np.concatenate([o * np.tanh(c), c])], **TIGHT)
    assert_allclose(
        np.sort(np.abs(res.multipliers[0])), np.sort(np.concatenate([f, np.zeros(n)])), rtol=1e-10, atol=1e-12
    )
    assert res.classes.tolist() == ["stable"] and res.form == "lstm"


def test_bistable_gru_has_the_three_fixed_points_of_h_equals_tanh_of_1_5_h():
    """One unit, W_hn = 3 and every bias 0: r = z = 1/2, so h* = n* = tanh(1.5 h*); J(0) = 1/2 + 3/4 > 1."""
    net = dynrnn.GRU(W_hh=[[0.0], [0.0], [3.0]])
    res = dynrnn.fixed_points(net, n_starts=20, rng=1, slow_points=True)
    h = 0.8585596366401104  # the positive root of h = tanh(1.5 h) (brentq, xtol 1e-15)
    assert_allclose(res.x[:, 0], [-h, 0.0, h], rtol=1e-10, atol=1e-12)
    assert res.classes.tolist() == ["stable", "unstable", "stable"]
    assert_allclose(res.multipliers[1].real, [1.25], **TIGHT)
    _check_fixed_points(net, res)
    assert res.slow_x.shape == (0, 1)
    orbit = dynrnn.iterate(net, [0.3], n_steps=200)  # a start in the right basin ends on h*
    assert_allclose(orbit[-1], [h], rtol=1e-12, atol=0)


def test_a_saturated_update_gate_gives_no_spurious_fixed_point():
    """Far out z rounds towards 1, so F(h) - h = (1 - z)(n - h) is below tol without h = n (found by hypothesis).

    Newton on n(h) - h instead reports only the true fixed points, inside (-1, 1).
    """
    net = dynrnn.GRU(W_hh=[[1.5], [1.5], [1.5]])
    res = dynrnn.fixed_points(net, n_starts=100, rng=0)
    assert res.n_points >= 1
    _check_fixed_points(net, res)


@settings(deadline=None, max_examples=15)
@given(gated_nets(n_units=(1, 2), n_inputs=(0, 0), scale=(0.0, 4.0)))
def test_fixed_points_are_zeros_with_the_reference_multipliers(net):
    res = dynrnn.fixed_points(net, n_starts=12, rng=0, trajectory_steps=20)
    assert res.n_points >= 1  # the box of fixed_points' Notes maps into itself: Brouwer gives a fixed point
    _check_fixed_points(net, res)
    for x, mu in zip(res.x, res.multipliers, strict=True):
        if np.max(np.abs(mu)) < 0.9:  # a stable point attracts a nearby start (geometrically fast)
            orbit = dynrnn.iterate(net, x + 1e-6, n_steps=400)
            assert_allclose(orbit[-1], x, rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------- PyTorch


def _torch_module(cell, n, m, seed):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    module = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(m, n).double()
    state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    cls = CELLS[cell][0]
    net = cls(
        W_ih=state["weight_ih_l0"], W_hh=state["weight_hh_l0"], b_ih=state["bias_ih_l0"], b_hh=state["bias_hh_l0"]
    )
    return torch, module, net


def _torch_step(torch, module, cell, n):
    """The step as a function of the full state (and the input) for autograd."""

    def step(x, u):
        if cell == "gru":
            return module(u[None, None], x[None, None])[1].reshape(n)
        _, (h, c) = module(u[None, None], (x[None, None, :n], x[None, None, n:]))
        return torch.cat([h.reshape(n), c.reshape(n)])

    return step


@pytest.mark.parametrize("cell", CELLS)
def test_iterate_and_jacobians_match_torch(cell, rng):
    n, m, T = 4, 3, 12
    torch, module, net = _torch_module(cell, n, m, seed=3)
    x0 = rng.uniform(-1, 1, net.state_size)
    inputs = rng.normal(size=(T, m))
    step = _torch_step(torch, module, cell, n)
    xs = [torch.tensor(x0)]
    for t in range(T):
        xs.append(step(xs[-1], torch.tensor(inputs[t])))
    expected = torch.stack(xs).detach().numpy()
    res = dynrnn.jacobian_products(net, x0, inputs)
    assert_allclose(dynrnn.iterate(net, x0, inputs), expected, **TIGHT)
    assert_allclose(res.x, expected, **TIGHT)
    for t in range(T):
        u = torch.tensor(inputs[t])
        J = torch.autograd.functional.jacobian(lambda x, u=u: step(x, u), torch.tensor(expected[t]))
        assert_allclose(res.jacobians[t], J.numpy(), **TIGHT)
    if cell == "gru":  # the whole sequence in one call: torch's own time loop
        y, _ = module(torch.tensor(inputs)[:, None], torch.tensor(x0)[None, None])
        assert_allclose(expected[1:], y[:, 0].detach().numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("cell", CELLS)
def test_jvp_and_vjp_match_torch(cell, rng):
    from dynrnn._kernels import cpu

    n, m = 3, 2
    torch, module, net = _torch_module(cell, n, m, seed=5)
    N = net.state_size
    x, u, v, g = rng.uniform(-1, 1, N), rng.normal(size=m), rng.normal(size=N), rng.normal(size=N)
    step = _torch_step(torch, module, cell, n)
    tx, tu = torch.tensor(x), torch.tensor(u)
    _, jv = torch.autograd.functional.jvp(lambda y: step(y, tu), tx, torch.tensor(v))
    _, gj = torch.autograd.functional.vjp(lambda y: step(y, tu), tx, torch.tensor(g))
    compiled = cpu.gated_cell(cell)
    params = tuple(np.array(a) for a in _params(net))
    out = np.empty(N)
    compiled.jvp(*params, x, u, True, v, out)
    assert_allclose(out, jv.numpy(), **TIGHT)
    compiled.vjp(*params, x, u, True, g, np.empty(compiled.vjp_work * n), out)
    assert_allclose(out, gj.numpy(), **TIGHT)


# ----------------------------------------------------------------------------- BPTT


LOSS_KINDS = ("squared_error", "readout_squared_error", "cross_entropy")


@st.composite
def bptt_problems(draw):
    """``(net, x0, inputs, targets, kind, at, n_steps)`` for `dynrnn.bptt`, targets as floats."""
    cell = draw(st.sampled_from(tuple(CELLS)))
    cls, k = CELLS[cell]
    n, m, B, T = draw(st.integers(1, 2)), draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    kind = draw(st.sampled_from(LOSS_KINDS))
    at = draw(st.sampled_from(("every", "last")))
    q = n if kind == "squared_error" else draw(st.integers(1, 3))
    readout = {}
    if kind != "squared_error" or draw(st.booleans()):
        readout = {"W_out": draw(float_arrays((q, n), -1.0, 1.0)), "b_out": draw(float_arrays(q, -1.0, 1.0))}
    net = cls(
        W_ih=draw(float_arrays((k * n, m), -1.0, 1.0)),
        W_hh=draw(float_arrays((k * n, n), -1.5, 1.5)),
        b_ih=draw(float_arrays(k * n, -1.0, 1.0)),
        b_hh=draw(float_arrays(k * n, -1.0, 1.0)),
        **readout,
    )
    N = net.state_size
    x0 = draw(float_arrays((B, N), -1.0, 1.0) if draw(st.booleans()) else float_arrays(N, -1.0, 1.0))
    inputs = draw(float_arrays((T, B, m), -1.0, 1.0)) if m else None
    lead = (T, B) if at == "every" else (B,)
    targets = draw(float_arrays(lead + (q,), 0.0 if kind == "cross_entropy" else -1.0, 1.0))
    return net, x0, inputs, targets, kind, at, T


def _naive_loss(problem, change=None):
    """`naive_gated.loss` of a `bptt_problems` draw, with some parameters (or ``x0``) replaced by ``change``."""
    net, x0, inputs, targets, kind, at, T = problem
    change = change or {}
    p = {
        k: np.asarray(getattr(net, k))
        for k in ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")
        if getattr(net, k) is not None
    }
    p.update({k: v for k, v in change.items() if k != "x0"})
    x0 = change.get("x0", x0)
    B = targets.shape[1] if at == "every" else targets.shape[0]
    x0 = np.broadcast_to(x0, (B, net.state_size))
    params = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    return ng.loss(net.cell, params, x0, inputs, targets, kind, at, p.get("W_out"), p.get("b_out"), n_steps=T)


@settings(deadline=None, max_examples=20)
@given(bptt_problems())
def test_bptt_matches_central_differences_and_its_contributions_add_up(problem):
    net, x0, inputs, targets, kind, at, T = problem
    res = dynrnn.bptt(net, x0, inputs, targets, loss=kind, at=at, n_steps=T, wrt_x0=True, contributions="window")
    assert_allclose(res.loss, _naive_loss(problem), **TIGHT)
    for key, grad in res.grads.items():
        value = x0 if key == "x0" else np.asarray(getattr(net, key))
        fd = ng.fd_gradient(lambda v, key=key: _naive_loss(problem, {key: v}), value)
        assert_allclose(grad, fd, **FD, err_msg=key)
    for key in ("W_ih", "W_hh", "b_ih", "b_hh"):  # eq. (4): the contributions add up to eq. (3)
        assert_allclose(res.contributions[key].sum(axis=0), res.grads[key], **TIGHT, err_msg=key)
        win = res.window_contributions[key]
        by_lag = np.array([sum(win[t, t - lag] for t in range(lag, T)) for lag in range(T)])
        assert_allclose(by_lag, res.contributions[key], **TIGHT, err_msg=key)
    assert res.x.shape == (T + 1, res.loss_per_sequence.size, net.state_size)


@pytest.mark.parametrize("cell", CELLS)
def test_bptt_matches_torch_autograd(cell, rng):
    """A softmax readout at the last step and a squared error at every step, against nn.GRU / nn.LSTM + backward()."""
    n, m, q, B, T = 3, 2, 4, 3, 6
    torch, module, _ = _torch_module(cell, n, m, seed=7)
    readout = torch.nn.Linear(n, q).double()
    state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    net = CELLS[cell][0](
        W_ih=state["weight_ih_l0"],
        W_hh=state["weight_hh_l0"],
        b_ih=state["bias_ih_l0"],
        b_hh=state["bias_hh_l0"],
        W_out=readout.weight.detach().numpy(),
        b_out=readout.bias.detach().numpy(),
    )
    x0 = rng.uniform(-1, 1, size=(B, net.state_size))
    inputs = rng.normal(size=(T, B, m))
    labels = rng.integers(0, q, size=B)
    targets_h = rng.normal(size=(T, B, n))
    tx0 = torch.tensor(x0, requires_grad=True)
    h0 = tx0[None, :, :n].contiguous()
    hidden = (h0, tx0[None, :, n:].contiguous()) if cell == "lstm" else h0
    H = module(torch.tensor(inputs), hidden)[0]  # (T, B, n)
    for kind, at in (("cross_entropy", "last"), ("squared_error", "every")):
        module.zero_grad()
        readout.zero_grad()
        tx0.grad = None
        if kind == "cross_entropy":
            loss = torch.nn.functional.cross_entropy(readout(H[-1]), torch.tensor(labels), reduction="mean")
            targets = labels
        else:
            loss = ((H - torch.tensor(targets_h)) ** 2).sum() / B
            targets = targets_h
        loss.backward(retain_graph=True)
        res = dynrnn.bptt(net, x0, inputs, targets, loss=kind, at=at, wrt_x0=True, contributions=None)
        assert_allclose(res.loss, loss.item(), **TIGHT)
        pairs = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
        for key, name in pairs.items():
            assert_allclose(res.grads[key], getattr(module, name).grad.numpy(), **TIGHT, err_msg=f"{kind} {key}")
        assert_allclose(res.grads["x0"], tx0.grad.numpy(), **TIGHT, err_msg=kind)
        if kind == "cross_entropy":
            assert_allclose(res.grads["W_out"], readout.weight.grad.numpy(), **TIGHT)
            assert_allclose(res.grads["b_out"], readout.bias.grad.numpy(), **TIGHT)


@pytest.mark.parametrize("cell", CELLS)
def test_bptt_bad_input_names_the_state(cell):
    cls, k = CELLS[cell]
    net = cls(W_hh=np.zeros((2 * k, 2)), W_ih=np.zeros((2 * k, 1)))
    N = net.state_size
    with pytest.raises(
        ValueError, match=rf"x0 must have shape \(state_size,\) or \(B, state_size\) with state_size = {N}"
    ):
        dynrnn.bptt(net, np.zeros(3), np.zeros((2, 1, 1)), np.zeros((2, 1, 2)))
    with pytest.raises(
        ValueError, match=r"targets must be one per step, shape \(T, B, ...\) with T = 2 and last axis 2"
    ):
        dynrnn.bptt(net, np.zeros(N), np.zeros((2, 1, 1)), np.zeros((2, 1, N + 1)))
    with pytest.raises(ValueError, match="needs a readout"):
        dynrnn.bptt(net, None, np.zeros((2, 1, 1)), np.zeros((2, 1, 2)), loss="cross_entropy")


# ----------------------------------------------------------------------------- CUDA (simulator or GPU)


@pytest.mark.cuda
@skip_without_cuda
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("driven", [True, False])
def test_cuda_cell_matches_the_cpu_cell(cell, driven, rng):
    """The device build of the cell (``cuda.gated_cell``) against the CPU build, 7 states over 2 blocks of 4."""
    from dynrnn._kernels import cpu
    from dynrnn._kernels import cuda as cuda_kernels

    device = cuda_kernels.gated_cell(cell)
    step, jacobian, jvp, vjp = device.step, device.jacobian, device.jvp, device.vjp

    @cuda.jit
    def kernel(W_ih, W_hh, b_ih, b_hh, X, U, V, G, driven, work, F, J, Jv, gJ):
        for p in range(cuda.grid(1), X.shape[0], cuda.gridsize(1)):
            step(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, F[p])
            jacobian(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, J[p])
            jvp(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, V[p], Jv[p])
            vjp(W_ih, W_hh, b_ih, b_hh, X[p], U[p], driven, G[p], work[p], gJ[p])

    cls, k = CELLS[cell]
    n, m, P = 3, 2, 7
    net = cls(W_ih=rng.normal(size=(k * n, m)), W_hh=rng.normal(size=(k * n, n)), b_ih=rng.normal(size=k * n))
    params = tuple(np.array(a) for a in _params(net))
    N = net.state_size
    X, V, G = (rng.uniform(-1.5, 1.5, size=(P, N)) for _ in range(3))
    U = rng.normal(size=(P, m))
    F, Jv, gJ, J = np.empty((P, N)), np.empty((P, N)), np.empty((P, N)), np.empty((P, N, N))
    kernel[2, 4](*params, X, U, V, G, driven, np.empty((P, 2 * k * n)), F, J, Jv, gJ)
    host = cpu.gated_cell(cell)
    for p in range(P):
        f, j, jv, gj = np.empty(N), np.empty((N, N)), np.empty(N), np.empty(N)
        host.step(*params, X[p], U[p], driven, f)
        host.jacobian(*params, X[p], U[p], driven, j)
        host.jvp(*params, X[p], U[p], driven, V[p], jv)
        host.vjp(*params, X[p], U[p], driven, G[p], np.empty(2 * k * n), gj)
        for got, want in ((F[p], f), (J[p], j), (Jv[p], jv), (gJ[p], gj)):
            assert_allclose(got, want, rtol=CUDA_RTOL, atol=CUDA_ATOL)


# ----------------------------------------------------------------------------- what does not apply


def _unsupported_calls(net):
    x0 = np.zeros(net.state_size)
    return [
        ("iterate_grid", lambda: dynrnn.iterate_grid(net, [0.0], [0.0], n_steps=2)),
        ("basins", lambda: dynrnn.basins(net)),
        ("orbit_diagram", lambda: dynrnn.orbit_diagram(net, ("b", 0), [0.0])),
        ("sensitivity", lambda: dynrnn.sensitivity(net, x0, delta=1e-8, n_steps=2)),
        ("continuation", lambda: dynrnn.continuation(net, ("b", 0), stop=1.0)),
        ("fold_continuation", lambda: dynrnn.fold_continuation(net, (("b", 0), ("b", 0)), x0=[0.0])),
        ("single_unit", lambda: dynrnn.single_unit.fixed_points(net, 0.0)),
        ("single_unit", lambda: dynrnn.single_unit.iterate_tangents(net, 0.0, 0.0, n_steps=1)),
        ("vanishing_regularizer", lambda: dynrnn.vanishing_regularizer(net, None)),
        ("dynrnn.testing", lambda: dynrnn.testing.assert_jacobian_bound(net, x0, n_steps=2)),
    ]


@pytest.mark.parametrize("cell", CELLS)
def test_analyses_that_do_not_apply_refuse_a_gated_cell_by_name(cell):
    cls, k = CELLS[cell]
    net = cls(W_hh=np.zeros((k, 1)), W_ih=np.zeros((k, 1)))
    name = cls.__name__
    for function, call in _unsupported_calls(net):
        expected = {
            "single_unit": rf"must be a real number or array; got a {name}",
        }.get(function, rf"{function} supports RNN only.*got {name}")
        with pytest.raises(TypeError, match=expected):
            call()
    with pytest.raises(ValueError, match=rf"fixed_points runs a {name} on the CPU only; got backend='cuda'"):
        dynrnn.fixed_points(net, backend="cuda")


# ----------------------------------------------------------------------------- the gated task model (training)


@pytest.mark.parametrize("cell", CELLS)
def test_uniform_init_is_torchs_default(cell):
    """init_network("uniform", cell=...): every weight and bias, readout included, ~ U(-1/sqrt(n), 1/sqrt(n)),
    drawn in the documented order (W_ih, W_hh, b_ih, b_hh, W_out, b_out)."""
    cls, k = CELLS[cell]
    n, m, q = 16, 3, 2
    net = dynrnn.init_network("uniform", n, m, q, rng=7, cell=cell)
    assert type(net) is cls and (net.n_units, net.n_inputs, net.n_outputs) == (n, m, q)
    gen = np.random.default_rng(7)
    for key, shape in (("W_ih", (k * n, m)), ("W_hh", (k * n, n)), ("b_ih", (k * n,)), ("b_hh", (k * n,)),
                       ("W_out", (q, n)), ("b_out", (q,))):  # fmt: skip
        want = gen.uniform(-0.25, 0.25, size=shape)
        np.testing.assert_array_equal(getattr(net, key), want, err_msg=key)
    assert max(np.abs(getattr(net, key)).max() for key in ("W_ih", "W_hh", "b_ih", "b_hh")) < 0.25
    assert dynrnn.init_network("uniform", n, m, q, rng=7, cell=cell, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="name must be one of 'uniform'"):
        dynrnn.init_network("smart_tanh", n, m, q, rng=0, cell=cell)
    with pytest.raises(ValueError, match="name must be one of 'sigmoid'"):
        dynrnn.init_network("uniform", n, m, q, rng=0)
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'gru', 'lstm'"):
        dynrnn.init_network("uniform", n, m, q, rng=0, cell="GRU")


@pytest.mark.parametrize("cell", CELLS)
def test_a_gated_task_model_is_scored_and_a_gated_net_without_readout_is_refused(cell):
    """error_rate and task_outputs take a GRU or LSTM with a readout of the task's sizes (the batch forward pass
    equals bptt's outputs); without a readout, or of other sizes, it is refused naming the reason."""
    from dynrnn.training.model import task_outputs

    net = dynrnn.init_network("uniform", 5, 6, 4, rng=1, cell=cell)
    batch = dynrnn.tasks.temporal_order(30, 12, rng=2)
    outputs = task_outputs(net, batch)
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)
    assert_allclose(outputs, res.outputs, **TIGHT)
    rate = dynrnn.error_rate(net, "temporal_order", 12, n_sequences=30, rng=2)
    assert rate == dynrnn.tasks.sequence_errors(batch, outputs).mean()
    cls, k = CELLS[cell]
    bare = cls(W_hh=np.zeros((k, 1)), W_ih=np.zeros((k, 1)))
    with pytest.raises(ValueError, match=f"net must have a readout W_out .*got a {cls.__name__} without one"):
        dynrnn.error_rate(bare, "temporal_order", 10)
    with pytest.raises(ValueError, match="net must have 6 inputs and 4 readout units"):
        dynrnn.error_rate(dynrnn.init_network("uniform", 5, 2, 4, rng=1, cell=cell), "temporal_order", 10)
