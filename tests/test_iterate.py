"""iterate, iterate_grid and single_unit.iterate_tangents: properties and known answers."""

from types import SimpleNamespace

import naive
import numpy as np
import pytest
import strategies as sts
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn.single_unit import iterate_tangents

ACTS = dynrnn.ACTIVATIONS
FORMS = dynrnn.FORMS
BOUNDED = ("logistic", "tanh")

# Compile budget: every kernel variant (activation x dtype x path) costs seconds
# to compile, and iterate() runs its own variants (read-only parameters; with
# or without inputs and leak).  Tests of iterate() therefore use one variant per
# activation (inputs, no leak) and put the other combinations on "tanh" only.

# float32 runs on two activations: logistic (the vectorisable exp) and tanh
# (libm); relu and linear share the same float32 code paths.
F32_ACTS = ("logistic", "tanh")

# CPU vs naive, <= 50 steps, non-chaotic (house style section 6)
RTOL, ATOL = 1e-10, 1e-12
# float32 vs float64 on short horizons
RTOL32, ATOL32 = 1e-4, 1e-5


def grid(p, activation, **kw):
    """iterate_grid on a strategies.GridProblem."""
    kw = {"form": p.form, "leak": p.leak, "n_keep": p.n_keep, **kw}
    return dynrnn.iterate_grid(p.W_rec, p.b, p.x0, n_steps=p.n_steps, activation=activation, **kw)


def naive_grid(p, activation, **kw):
    kw = {"form": p.form, "leak": p.leak, "n_keep": p.n_keep, **kw}
    return naive.iterate_grid(p.W_rec, p.b, p.x0, p.n_steps, activation, **kw)


def assert_orbits(res, ref, rtol, atol):
    """Compare an OrbitResult with ``(x, diverged, diverged_at)``."""
    x, diverged, diverged_at = ref
    assert res.x.shape == x.shape
    assert_allclose(res.x, x, rtol=rtol, atol=atol, equal_nan=True)
    assert_array_equal(res.diverged, diverged)
    assert_array_equal(res.diverged_at, diverged_at)


def assert_same_orbits(a, b, rtol=0.0, atol=0.0):
    """Two OrbitResults agree (bit for bit by default)."""
    assert a.x.shape == b.x.shape
    assert_allclose(a.x, b.x, rtol=rtol, atol=atol, equal_nan=True)
    assert_array_equal(a.diverged, b.diverged)
    assert_array_equal(a.diverged_at, b.diverged_at)


def net_at(p, g, activation, form=None):
    """The RNN of grid point g of a GridProblem."""
    leak = None if p.leak is None else p.leak[g]
    return dynrnn.RNN(p.W_rec[g], b=p.b[g], activation=activation, form=form or p.form, leak=leak)


# ---------------------------------------------------------------------------
# Against the naive reference
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.grid_problems())
def test_iterate_grid_matches_naive(activation, p):
    assert_orbits(grid(p, activation), naive_grid(p, activation), RTOL, ATOL)


@pytest.mark.parametrize(
    ("activation", "leak"), [(a, False) for a in ACTS] + [("tanh", True)], ids=[*ACTS, "tanh-leak"]
)
@given(data=st.data())
def test_iterate_with_inputs_matches_naive(activation, leak, data):
    p = data.draw(sts.driven_problems(leak=leak))
    net = dynrnn.RNN(p.W_rec, W_in=p.W_in, b=p.b, activation=activation, form=p.form, leak=p.leak)
    traj = dynrnn.iterate(net, p.x0, inputs=p.inputs)
    ref = naive.iterate(p.W_rec, p.W_in, p.b, activation, p.form, p.leak, p.x0, len(p.inputs), p.inputs)
    assert traj.shape == (len(p.inputs) + 1, len(p.x0))
    assert_allclose(traj, ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("activation", F32_ACTS)
@given(p=sts.grid_problems(max_steps=10, weight=0.9))
def test_float32_close_to_float64(activation, p):
    res = grid(p, activation, dtype=np.float32)
    assert res.x.dtype == np.float32
    x, diverged, diverged_at = naive_grid(p, activation)
    assert_allclose(res.x, x, rtol=RTOL32, atol=ATOL32)
    assert not res.diverged.any()


@pytest.mark.parametrize("activation", F32_ACTS)
@given(p=sts.unit_grids(max_steps=10, weight=0.9, min_grid=2))
def test_float32_single_unit_close_to_float64(activation, p):
    # leak=None and G >= 2 only: the kernel is specialised on which of its
    # arrays are read-only views, and each variant costs seconds to compile
    res = dynrnn.iterate_grid(
        p["w"],
        p["b"],
        p["x0"],
        n_steps=p["n_steps"],
        activation=activation,
        form=p["form"],
        n_keep=p["n_keep"],
        dtype=np.float32,
    )
    assert res.x.dtype == np.float32
    x, _, _ = naive.iterate_grid(
        p["w"][:, None, None], p["b"][:, None], p["x0"][:, None], p["n_steps"], activation, p["form"], None, p["n_keep"]
    )
    assert_allclose(res.x, x, rtol=RTOL32, atol=ATOL32)


def test_iterate_float32_network():
    net = dynrnn.RNN([[0.5, -0.3], [0.2, 0.8]], W_in=[[1.0], [0.5]], b=[0.1, -0.2], dtype=np.float32)
    inputs = np.linspace(-1.0, 1.0, 8).reshape(8, 1)
    traj = dynrnn.iterate(net, [0.3, -0.7], inputs=inputs)
    assert traj.dtype == np.float32
    ref = naive.iterate(net.W_rec, net.W_in, net.b, "tanh", "paper", None, [0.3, -0.7], 8, inputs)
    assert_allclose(traj, ref, rtol=RTOL32, atol=ATOL32)


# ---------------------------------------------------------------------------
# Invariants between the public functions
# ---------------------------------------------------------------------------
# One activation: iterate() runs its own kernel specialisation (read-only
# parameters), and each costs seconds to compile; sigma is checked elsewhere.
@pytest.mark.parametrize("activation", ["tanh"])
@given(p=sts.grid_problems(leak=False))
def test_row_g_of_iterate_grid_equals_iterate(activation, p):
    res = grid(p, activation)
    for g in range(p.G):
        traj = dynrnn.iterate(net_at(p, g, activation), p.x0[g], n_steps=p.n_steps)
        assert_allclose(res.x[g], traj[p.n_steps + 1 - p.n_keep :], rtol=RTOL, atol=ATOL, equal_nan=True)


@given(p=sts.grid_problems(), activation=st.sampled_from(ACTS), data=st.data())
def test_broadcasting_equals_explicit_copies(p, activation, data):
    n = p.n
    # one grid point's parameters, shared by all (or not) as hypothesis decides
    share = data.draw(st.fixed_dictionaries({k: st.booleans() for k in ("W_rec", "b", "x0", "leak")}))
    if p.leak is None:
        share["leak"] = True  # nothing to share or not
    W_rec = p.W_rec[0] if share["W_rec"] else p.W_rec
    b = p.b[0] if share["b"] else p.b
    x0 = p.x0[0] if share["x0"] else p.x0
    leak = None if p.leak is None else (p.leak[0] if share["leak"] else p.leak)
    G = 1 if all(share.values()) else p.G
    kw = {"activation": activation, "form": p.form, "n_keep": p.n_keep}
    res = dynrnn.iterate_grid(W_rec, b, x0, n_steps=p.n_steps, leak=leak, **kw)

    def explicit(a, shape):
        return np.repeat(a[None], G, axis=0) if a.shape == shape[1:] else a

    ref = dynrnn.iterate_grid(
        explicit(W_rec, (G, n, n)),
        explicit(b, (G, n)),
        explicit(x0, (G, n)),
        n_steps=p.n_steps,
        leak=None if leak is None else explicit(leak, (G, n)),
        **kw,
    )
    assert res.x.shape == (G, p.n_keep, n)
    assert_same_orbits(res, ref)


def test_grid_size_from_leak_alone():
    leak = np.array([[0.0], [0.5], [1.0]])
    res = dynrnn.iterate_grid([[0.5]], [0.1], [1.0], n_steps=3, activation="linear", leak=leak)
    ref = dynrnn.iterate_grid(
        np.full((3, 1, 1), 0.5), np.full((3, 1), 0.1), np.ones((3, 1)), n_steps=3, activation="linear", leak=leak
    )
    assert_same_orbits(res, ref)


def test_scalar_leak_broadcasts(rng):
    W_rec, b, x0 = rng.normal(size=(5, 3, 3)) / 3, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    res = dynrnn.iterate_grid(W_rec, b, x0, n_steps=12, activation="tanh", leak=0.3, n_keep=4)
    ref = dynrnn.iterate_grid(W_rec, b, x0, n_steps=12, activation="tanh", leak=np.full((5, 3), 0.3), n_keep=4)
    assert_same_orbits(res, ref)


@given(p=sts.unit_grids(), data=st.data())
def test_single_unit_broadcasting_equals_explicit_copies(p, data):
    # Broadcasting is independent of sigma: one activation keeps the compile count down.
    args = {}
    for k in ("w", "b", "x0", "leak"):
        if p[k] is None:
            args[k] = None
        else:
            # shared as a Python float, a 0-d array, a length-1 array, or per point
            args[k] = data.draw(st.sampled_from([float(p[k][0]), np.asarray(p[k][0]), p[k][:1].copy(), p[k]]), label=k)
    G = max(np.size(a) for a in args.values() if a is not None)
    kw = {"activation": "tanh", "form": p["form"], "n_keep": p["n_keep"]}
    res = dynrnn.iterate_grid(args["w"], args["b"], args["x0"], n_steps=p["n_steps"], leak=args["leak"], **kw)

    def explicit(a):
        return None if a is None else np.repeat(np.reshape(a, -1), G // np.size(a))

    ref = dynrnn.iterate_grid(
        explicit(args["w"]),
        explicit(args["b"]),
        explicit(args["x0"]),
        n_steps=p["n_steps"],
        leak=explicit(args["leak"]),
        **kw,
    )
    assert res.x.shape == (G, p["n_keep"], 1)
    assert_same_orbits(res, ref)


def orbits_one_by_one(w, b, x0, n_steps, n_keep, activation, form, leak):
    """The n-unit kernel (through `iterate`), one single-unit grid point at a time.

    `iterate_grid` sends every one-unit grid to the vectorised single-unit kernel;
    `iterate` always runs the general n-unit orbit kernel, so this compares the two.
    """
    rows, first_bad = [], []
    for g in range(len(w)):
        a = None if leak is None else leak[g]
        net = dynrnn.RNN([[w[g]]], b=[b[g]], activation=activation, form=form, leak=a)
        traj = dynrnn.iterate(net, [x0[g]], n_steps=n_steps)
        bad = np.flatnonzero(~np.isfinite(traj[:, 0]))
        first_bad.append(bad[0] if bad.size else -1)
        rows.append(traj[n_steps + 1 - n_keep :])
    diverged_at = np.array(first_bad, dtype=np.int64)
    return SimpleNamespace(x=np.array(rows), diverged=diverged_at >= 0, diverged_at=diverged_at)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.unit_grids())
def test_single_unit_kernel_equals_n_unit_kernel(activation, p):
    kw = {"activation": activation, "form": p["form"], "n_keep": p["n_keep"]}
    fast = dynrnn.iterate_grid(p["w"], p["b"], p["x0"], n_steps=p["n_steps"], leak=p["leak"], **kw)
    G = len(p["w"])
    full = orbits_one_by_one(
        p["w"],
        *(np.broadcast_to(p[k], (G,)) for k in ("b", "x0")),
        p["n_steps"],
        p["n_keep"],
        activation,
        p["form"],
        None if p["leak"] is None else np.broadcast_to(p["leak"], (G,)),
    )
    assert fast.x.shape == full.x.shape == (G, p["n_keep"], 1)
    assert_same_orbits(fast, full, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.grid_problems(leak=False))
def test_leak_zero_is_the_plain_map(activation, p):
    plain = grid(p, activation)
    assert_same_orbits(grid(p, activation, leak=0.0), plain)
    assert_same_orbits(grid(p, activation, leak=np.zeros((p.G, p.n))), plain)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.grid_problems(leak=False))
def test_leak_one_freezes_the_state(activation, p):
    res = grid(p, activation, leak=1.0)
    assert_allclose(res.x, np.broadcast_to(p.x0[:, None, :], res.x.shape), rtol=0, atol=0)
    assert not res.diverged.any()


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.unit_grids())
def test_single_unit_leak_zero_and_one(activation, p):
    kw = {"activation": activation, "form": p["form"], "n_keep": p["n_keep"]}
    plain = dynrnn.iterate_grid(p["w"], p["b"], p["x0"], n_steps=p["n_steps"], **kw)
    assert_same_orbits(dynrnn.iterate_grid(p["w"], p["b"], p["x0"], n_steps=p["n_steps"], leak=0.0, **kw), plain)
    frozen = dynrnn.iterate_grid(p["w"], p["b"], p["x0"], n_steps=p["n_steps"], leak=1.0, **kw)
    assert_allclose(frozen.x[:, :, 0], np.broadcast_to(p["x0"][:, None], frozen.x.shape[:2]), rtol=0, atol=0)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.driven_problems(leak=False))
def test_paper_and_standard_forms_are_the_same_system(activation, p):
    """Footnote 1: with h_0 = sigma(x_0), h_t = sigma(x_t) for every t, inputs included."""
    sigma = dynrnn.activation(activation).sigma
    paper = dynrnn.RNN(p.W_rec, W_in=p.W_in, b=p.b, activation=activation, form="paper")
    standard = dynrnn.RNN(p.W_rec, W_in=p.W_in, b=p.b, activation=activation, form="standard")
    x = dynrnn.iterate(paper, p.x0, inputs=p.inputs)
    h = dynrnn.iterate(standard, sigma(p.x0), inputs=p.inputs)
    assert_allclose(h, sigma(x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.grid_problems(leak=False))
def test_forms_same_system_on_a_grid(activation, p):
    sigma = dynrnn.activation(activation).sigma
    T = p.n_steps
    x = dynrnn.iterate_grid(p.W_rec, p.b, p.x0, n_steps=T, activation=activation, form="paper", n_keep=T + 1)
    h = dynrnn.iterate_grid(p.W_rec, p.b, sigma(p.x0), n_steps=T, activation=activation, form="standard", n_keep=T + 1)
    assert_allclose(h.x, sigma(x.x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("activation", ACTS)
@given(p=sts.grid_problems())
def test_n_keep_is_the_tail_of_the_trajectory(activation, p):
    T = p.n_steps
    full = grid(p, activation, n_keep=T + 1)
    assert full.x.shape == (p.G, T + 1, p.n)
    assert_allclose(full.x[:, 0], p.x0, rtol=0, atol=0)  # n_keep = T + 1 includes x0
    tail = grid(p, activation)
    assert_allclose(tail.x, full.x[:, T + 1 - p.n_keep :], rtol=0, atol=0, equal_nan=True)
    assert_array_equal(tail.diverged_at, full.diverged_at)


def test_iterate_without_inputs(rng):
    net = dynrnn.RNN(rng.normal(size=(3, 3)) / 3, W_in=np.ones((3, 2)), b=rng.normal(size=3), activation="tanh")
    x0 = rng.normal(size=3)
    traj = dynrnn.iterate(net, x0, n_steps=7)  # W_in is not used without inputs
    ref = naive.iterate(net.W_rec, None, net.b, "tanh", "paper", None, x0, 7, None)
    assert_allclose(traj, ref, rtol=RTOL, atol=ATOL)
    same = dynrnn.iterate(net, x0, n_steps=7, inputs=np.zeros((7, 2)))
    assert_allclose(same, traj, rtol=0, atol=0)


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------
@st.composite
def exploding_problems(draw):
    """Linear maps with a huge positive gain from positive states: they overflow to inf."""
    n = draw(sts.units)
    G = draw(sts.grid_sizes)
    gain = 10.0 ** draw(st.integers(20, 250))
    return sts.GridProblem(
        W_rec=gain * draw(sts.float_arrays((G, n, n), 0.5, 1.0)),
        b=draw(sts.float_arrays((G, n), -1.0, 1.0)),
        x0=draw(sts.float_arrays((G, n), 0.5, 3.0)),
        n_steps=draw(st.integers(1, 30)),
        form=draw(sts.forms),
        leak=None,
        n_keep=1,
    )


@pytest.mark.parametrize("activation", ["linear", "relu"])
@given(p=exploding_problems())
def test_divergence_matches_naive(activation, p):
    T = p.n_steps
    res = grid(p, activation, n_keep=T + 1)
    assert_orbits(res, naive_grid(p, activation, n_keep=T + 1), RTOL, ATOL)
    for g in np.flatnonzero(res.diverged):
        t = res.diverged_at[g]
        assert np.all(np.isfinite(res.x[g, :t]))
        assert not np.all(np.isfinite(res.x[g, t]))
        assert np.all(np.isnan(res.x[g, t + 1 :]))
    # the last state alone carries the same flags
    assert_orbits(grid(p, activation), naive_grid(p, activation), RTOL, ATOL)


@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("form", FORMS)
# On the CUDA simulator, NumPy scalars warn on overflow (a GPU does not).
@pytest.mark.filterwarnings("ignore:.*encountered in scalar:RuntimeWarning")
def test_huge_gain_diverges_at_known_step(activation, form, backend):
    # x_t = 1e100**t overflows at t = 4 (1e400 > 1.8e308)
    res = dynrnn.iterate_grid(
        np.array([1e100, 0.5]),
        np.zeros(2),
        1.0,
        n_steps=10,
        activation=activation,
        form=form,
        n_keep=11,
        backend=backend,
    )
    assert_array_equal(res.diverged, [True, False])
    assert_array_equal(res.diverged_at, [4, -1])
    assert_allclose(res.x[0, :4, 0], [1.0, 1e100, 1e200, 1e300], rtol=1e-15, atol=0)
    assert res.x[0, 4, 0] == np.inf
    assert np.all(np.isnan(res.x[0, 5:]))
    assert_allclose(res.x[1, :, 0], 0.5 ** np.arange(11), rtol=1e-15, atol=0)
    assert res.n_diverged == 1


@pytest.mark.parametrize("activation", ["linear", "relu"])
@given(
    w=st.integers(20, 250).map(lambda k: 10.0**k),
    T=st.integers(1, 30),
    form=sts.forms,
    leak=st.sampled_from([None, 0.5]),
)
def test_single_unit_divergence_equals_n_unit_path(activation, w, T, form, leak):
    w = np.array([w, -w, 0.5, w])
    x0 = np.array([1.0, 1.0, 2.0, -1.0])
    kw = {"activation": activation, "form": form, "leak": leak, "n_keep": T + 1}
    fast = dynrnn.iterate_grid(w, np.full(4, 0.25), x0, n_steps=T, **kw)
    full = orbits_one_by_one(w, np.full(4, 0.25), x0, T, T + 1, activation, form, None if leak is None else [leak] * 4)
    assert_same_orbits(fast, full, rtol=RTOL, atol=ATOL)
    leak_arr = None if leak is None else np.full((4, 1), leak)
    ref = naive.iterate_grid(w[:, None, None], np.full((4, 1), 0.25), x0[:, None], T, activation, form, leak_arr, T + 1)
    assert_orbits(fast, ref, RTOL, ATOL)


@pytest.mark.parametrize("activation", BOUNDED)
@given(
    data=st.data(),
    n=sts.units,
    G=sts.grid_sizes,
    T=sts.steps,
    form=sts.forms,
    leak=st.sampled_from([None, 0.0, 0.5, 1.0]),
)
def test_bounded_sigma_never_diverges(activation, data, n, G, T, form, leak):
    # |W_rec sigma(x)| <= n * 1e300 / n and |b| <= 1e300: every state stays finite
    big = 1e300 / n
    W_rec = data.draw(sts.float_arrays((G, n, n), -big, big))
    b = data.draw(sts.float_arrays((G, n), -1e300 / 2, 1e300 / 2))
    x0 = data.draw(sts.float_arrays((G, n), -1e300, 1e300))
    res = dynrnn.iterate_grid(W_rec, b, x0, n_steps=T, activation=activation, form=form, leak=leak, n_keep=T + 1)
    assert not res.diverged.any()
    assert_array_equal(res.diverged_at, -1)
    assert np.all(np.isfinite(res.x))


def test_relu_with_gain_diverges():
    res = dynrnn.iterate_grid(
        np.array([[[1e80, 0.0], [0.0, 1e80]], [[-1e80, 0.0], [0.0, -1e80]]]),
        [0.0, 0.0],
        [1.0, 2.0],
        n_steps=10,
        activation="relu",
    )
    # positive gain: 2 * 1e80**t overflows at t = 4; negative gain: relu(-x) = 0 stops the orbit
    assert_array_equal(res.diverged, [True, False])
    assert_array_equal(res.diverged_at, [4, -1])
    assert np.all(np.isnan(res.x[0]))
    assert_allclose(res.x[1], 0.0, rtol=0, atol=0)


def test_iterate_trajectory_after_divergence_is_nan():
    net = dynrnn.RNN([[1e160]], W_in=[[1.0]], activation="linear")
    traj = dynrnn.iterate(net, [1.0], inputs=np.zeros((5, 1)))
    assert_allclose(traj[:2, 0], [1.0, 1e160], rtol=1e-15, atol=0)
    assert traj[2, 0] == np.inf
    assert np.all(np.isnan(traj[3:]))


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------
def test_bistable_logistic_unit(backend):
    # x = 5 sigma(x) - 2.5 is odd about 0: attractors +-1.776029, unstable fixed point 0
    x0 = np.array([-3.0, -1e-6, 0.0, 1e-6, 3.0])
    res = dynrnn.iterate_grid(
        np.full(5, 5.0), np.full(5, -2.5), x0, n_steps=300, activation="logistic", backend=backend
    )
    assert_allclose(res.x[:, 0, 0], [-1.77603, -1.77603, 0.0, 1.77603, 1.77603], rtol=0, atol=1e-5)
    assert res.x[2, 0, 0] == 0.0  # 5 * 0.5 - 2.5 is exact: x0 = 0 stays 0
    nres = dynrnn.iterate_grid([[[5.0]]], [-2.5], x0[:, None], n_steps=300, activation="logistic", backend=backend)
    assert_same_orbits(nres, res, rtol=RTOL, atol=ATOL)


def test_linear_map_is_a_matrix_power(rng):
    W = rng.normal(size=(4, 3, 3)) / 3
    x0 = rng.normal(size=(4, 3))
    res = dynrnn.iterate_grid(W, np.zeros(3), x0, n_steps=6, activation="linear", n_keep=7)
    for g in range(4):
        ref = np.stack([np.linalg.matrix_power(W[g], t) @ x0[g] for t in range(7)])
        assert_allclose(res.x[g], ref, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# Forward-mode tangents of the single unit
# ---------------------------------------------------------------------------
def _contracting(activation, fraction=0.95):
    """|w| bound that makes w sigma' a contraction."""
    return fraction / naive.gamma(activation)


@pytest.mark.parametrize("activation", ACTS)
@given(data=st.data())
def test_tangents_match_naive_forward_mode(activation, data):
    p = data.draw(sts.tangent_points(_contracting(activation)))
    res = iterate_tangents(p["w"], p["b"], p["x0"], n_steps=p["n_steps"], activation=activation)
    x, dx_dw, dx_db = naive.iterate_tangents(p["w"], p["b"], p["x0"], p["n_steps"], activation)
    assert_allclose(res.x, x, rtol=RTOL, atol=ATOL)
    assert_allclose(res.dx_dw, dx_dw, rtol=RTOL, atol=ATOL)
    assert_allclose(res.dx_db, dx_db, rtol=RTOL, atol=ATOL)
    assert not res.diverged.any()
    assert res.n_diverged == 0


@pytest.mark.parametrize("activation", ["logistic", "tanh", "linear"])
@pytest.mark.parametrize("n_steps", [1, 7, 30])
def test_tangents_match_central_differences(activation, n_steps, rng):
    lim = _contracting(activation, 0.8)
    w = rng.uniform(-lim, lim, 64)
    b = rng.uniform(-2.0, 2.0, 64)
    x0 = rng.uniform(-3.0, 3.0, 64)
    h = 1e-6
    res = iterate_tangents(w, b, x0, n_steps=n_steps, activation=activation)

    def xT(w_, b_):
        return iterate_tangents(w_, b_, x0, n_steps=n_steps, activation=activation).x

    fd_w = (xT(w + h, b) - xT(w - h, b)) / (2 * h)
    fd_b = (xT(w, b + h) - xT(w, b - h)) / (2 * h)
    assert_allclose(res.dx_dw, fd_w, rtol=1e-6, atol=1e-8)
    assert_allclose(res.dx_db, fd_b, rtol=1e-6, atol=1e-8)
    # and the reference's own forward mode agrees with its finite differences
    fd_b_naive = (
        naive.final_state_unit(w, b + h, x0, n_steps, activation)
        - naive.final_state_unit(w, b - h, x0, n_steps, activation)
    ) / (2 * h)
    assert_allclose(naive.iterate_tangents(w, b, x0, n_steps, activation)[2], fd_b_naive, rtol=1e-6, atol=1e-8)


def test_tangents_first_step():
    # x_1 = w s + b with s = sigma(x0): dx/dw = s, dx/db = 1
    res = iterate_tangents([0.5, 2.0], [0.1, -0.3], [0.0, 1.0], n_steps=1, activation="tanh")
    assert_allclose(res.x, [0.1, 2.0 * np.tanh(1.0) - 0.3], rtol=1e-15, atol=1e-15)
    assert_allclose(res.dx_dw, [0.0, np.tanh(1.0)], rtol=1e-15, atol=1e-15)
    assert_allclose(res.dx_db, [1.0, 1.0], rtol=0, atol=0)


def test_tangents_broadcast_shapes(rng):
    w = rng.uniform(-3.0, 3.0, (3, 1))
    b = rng.uniform(-2.0, 2.0, 4)
    res = iterate_tangents(w, b, 0.5, n_steps=12, activation="logistic")
    for field in (res.x, res.dx_dw, res.dx_db, res.diverged):
        assert field.shape == (3, 4)
    x, dx_dw, dx_db = naive.iterate_tangents(w, b, 0.5, 12, "logistic")
    assert_allclose(res.x, x, rtol=RTOL, atol=ATOL)
    assert_allclose(res.dx_dw, dx_dw, rtol=RTOL, atol=ATOL)
    assert_allclose(res.dx_db, dx_db, rtol=RTOL, atol=ATOL)
    scalar = iterate_tangents(5.0, -2.5, 0.5, n_steps=3, activation="logistic")
    assert scalar.x.shape == ()


def test_tangents_final_state_equals_iterate_grid(rng):
    w, b, x0 = rng.uniform(-6.0, 6.0, 20), rng.uniform(-3.0, 3.0, 20), rng.uniform(-3.0, 3.0, 20)
    res = iterate_tangents(w, b, x0, n_steps=25, activation="logistic")
    orbit = dynrnn.iterate_grid(w, b, x0, n_steps=25, activation="logistic")
    assert_allclose(res.x, orbit.x[:, 0, 0], rtol=RTOL, atol=ATOL)


def test_tangents_divergence_flag():
    res = iterate_tangents([1e100, 0.5], [0.0, 0.0], 1.0, n_steps=10, activation="linear")
    assert_array_equal(res.diverged, [True, False])
    assert res.n_diverged == 1


def test_fig6_wall_location():
    # Fig. 6 model: w = 5, logistic, x0 = 0.5, T = 50.  |dx_T/db| peaks at the
    # wall b = 0.5 - 0.622459 w, where the start x0 = 0.5 sits on the unstable
    # fixed point (0.5 = 5 sigma(0.5) + b).
    b = np.arange(-3.5, -1.5, 0.001)
    res = iterate_tangents(np.full_like(b, 5.0), b, 0.5, n_steps=50, activation="logistic")
    assert not res.diverged.any()
    peak = b[np.argmax(np.abs(res.dx_db))]
    assert_allclose(peak, 0.5 - 0.622459 * 5.0, rtol=0, atol=0.01)


# ---------------------------------------------------------------------------
# Inputs are never modified; results are read-only
# ---------------------------------------------------------------------------
def _call_grid(a):
    return dynrnn.iterate_grid(a["W_rec"], a["b"], a["x0"], n_steps=5, activation="tanh", leak=a["leak"], n_keep=3)


def _call_grid_unit(a):
    return dynrnn.iterate_grid(a["w"], a["b1"], a["x01"], n_steps=5, activation="tanh", leak=a["leak1"], n_keep=3)


def _call_iterate(a):
    net = dynrnn.RNN(a["W_rec"][0], W_in=a["W_in"], b=a["b"][0], leak=a["leak"][0])
    return dynrnn.iterate(net, a["x0"][0], inputs=a["inputs"])


def _call_tangents(a):
    return iterate_tangents(a["w"], a["b1"], a["x01"], n_steps=5, activation="logistic")


def _call_activation(a):
    act = dynrnn.activation("logistic")
    return act.sigma(a["x01"]), act.dsigma(a["x01"])


@pytest.mark.parametrize("call", [_call_grid, _call_grid_unit, _call_iterate, _call_tangents, _call_activation])
def test_inputs_are_never_modified(call, rng):
    G, n = 3, 2
    args = {
        "W_rec": rng.normal(size=(G, n, n)),
        "b": rng.normal(size=(G, n)),
        "x0": rng.normal(size=(G, n)),
        "leak": rng.uniform(size=(G, n)),
        "W_in": rng.normal(size=(n, 2)),
        "inputs": rng.normal(size=(4, 2)),
        "w": rng.normal(size=G),
        "b1": rng.normal(size=G),
        "x01": rng.normal(size=G),
        "leak1": rng.uniform(size=G),
    }
    copies = {k: v.copy() for k, v in args.items()}
    call(args)
    for k in args:
        assert_array_equal(args[k], copies[k], err_msg=k)


def test_results_are_read_only(rng):
    res = dynrnn.iterate_grid(
        rng.normal(size=(2, 2)), [0.0, 0.0], rng.normal(size=(3, 2)), n_steps=4, activation="tanh"
    )
    for field in (res.x, res.diverged, res.diverged_at):
        assert not field.flags.writeable
    tan = iterate_tangents([1.0, 2.0], [0.0, 0.0], 0.5, n_steps=3, activation="logistic")
    for field in (tan.x, tan.dx_dw, tan.dx_db, tan.diverged):
        assert not field.flags.writeable
    assert "x=<float64 array (3, 1, 2)>" in repr(res)
