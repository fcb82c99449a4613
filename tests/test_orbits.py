"""Orbit diagrams, basins of attraction and sensitivity to the initial state (Pascanu et al. 2013, Sec. 2.2).

References are independent of the code under test: the exact single-unit fixed points and
2-cycles of `dynrnn.single_unit` (bracketed root finding, no iteration), the plain-NumPy maps of
``tests/naive.py``, symmetry (W = 5 I splits into two independent bistable units, so the basins
are the quadrants), and central-difference Jacobians.
"""

import naive
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL, skip_without_cuda
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn import _config
from dynrnn.dynamics.basins import basins
from dynrnn.dynamics.orbits import orbit_diagram, sensitivity
from dynrnn.single_unit import fixed_points, period2_orbits


def unit(w, b, activation="logistic", **kw):
    return dynrnn.RNN([[w]], b=[b], activation=activation, **kw)


# ---------------------------------------------------------------------------
# Basins
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("b", [-2.62, -2.5, -2.4])
def test_single_unit_basin_boundary_is_the_unstable_fixed_point(b):
    fp = fixed_points(5.0, b, activation="logistic")
    assert fp.count == 3
    grid = np.linspace(-4.0, 4.0, 400)  # 0 (the unstable point at b = -2.5) is not on it
    res = basins(unit(5.0, b), grid=grid)
    assert res.labels.shape == grid.shape
    assert res.n_attractors == 2
    assert_array_equal(res.period, [1, 1])
    # the attractors are the stable fixed points, ascending
    assert_allclose([a[0, 0] for a in res.attractors], fp.x[fp.stable], rtol=0, atol=1e-9)
    assert np.all(res.spectral_radius < 1)
    assert_allclose(res.spectral_radius, np.abs(fp.multipliers[fp.stable]), rtol=1e-6, atol=0)
    # one boundary, within one grid cell of the unstable fixed point
    assert np.all(res.labels >= 0)
    change = np.flatnonzero(np.diff(res.labels) != 0)
    assert change.size == 1
    unstable = fp.x[~fp.stable][0]
    assert grid[change[0]] <= unstable <= grid[change[0] + 1]
    assert np.all(res.labels[grid < unstable] == 0) and np.all(res.labels[grid > unstable] == 1)


def test_start_on_the_unstable_fixed_point_is_not_an_attractor():
    res = basins(unit(5.0, -2.5), grid=[-1.0, 0.0, 1.0])  # x = 0 is the unstable fixed point
    assert_array_equal(res.labels, [0, -1, 1])
    assert res.n_not_converged == 1


def test_monostable_unit_has_one_basin():
    fp = fixed_points(5.0, -3.0, activation="logistic")
    res = basins(unit(5.0, -3.0), grid=np.linspace(-5.0, 5.0, 51))
    assert res.n_attractors == 1
    assert_array_equal(res.labels, 0)
    assert_allclose(res.attractors[0][0, 0], fp.x[0], rtol=0, atol=1e-9)
    assert_allclose(res.basin_fraction, [1.0])


def test_negative_weight_gives_the_exact_period2_orbit():
    cycle = period2_orbits(-8.0, 4.0, activation="logistic")
    assert cycle.exists and cycle.stable
    res = basins(unit(-8.0, 4.0), grid=np.linspace(-6.0, 6.0, 40))
    assert res.n_attractors == 1
    assert_array_equal(res.period, [2])
    assert_array_equal(res.labels, 0)  # the unstable fixed point 0 is not on this grid
    assert_allclose(res.attractors[0][:, 0], cycle.x, rtol=0, atol=1e-9)  # (p, q), p < q first


def test_two_bistable_units_have_four_quadrant_basins():
    net = dynrnn.RNN(5.0 * np.eye(2), b=[-2.5, -2.5], activation="logistic")
    axis = np.linspace(-3.0, 3.0, 12)  # no zero on the grid
    res = basins(net, grid=(axis, axis[::-1][:9]))
    assert res.labels.shape == (12, 9)
    assert res.n_attractors == 4
    s = 1.7760294576
    expected = np.array([[-s, -s], [-s, s], [s, -s], [s, s]])  # sorted lexicographically
    assert_allclose(np.concatenate(res.attractors), expected, rtol=0, atol=1e-8)
    X0, X1 = np.meshgrid(axis, axis[::-1][:9], indexing="ij")
    assert_array_equal(res.labels, 2 * (X0 > 0) + (X1 > 0))
    assert_allclose(res.basin_fraction.sum(), 1.0)


def test_starts_on_the_stable_manifolds_of_saddles_are_unlabelled():
    net = dynrnn.RNN(5.0 * np.eye(2), b=[-2.5, -2.5], activation="logistic")
    axis = np.linspace(-2.0, 2.0, 5)  # holds 0: those starts converge to saddles or the source
    res = basins(net, grid=(axis, axis))
    X0, X1 = np.meshgrid(axis, axis, indexing="ij")
    assert_array_equal(res.labels == -1, (X0 == 0) | (X1 == 0))
    assert res.n_attractors == 4


def test_slice_and_base_state_and_default_grid():
    # a 3-unit net of independent bistable units; slice (0, 2) at x_1 = +1: unit 1 ends high
    net = dynrnn.RNN(5.0 * np.eye(3), b=[-2.5] * 3, activation="logistic")
    res = basins(net, dims=(2, 0), base_state=[0.0, 1.0, 0.0], n_steps=300)
    assert [g.size for g in res.grid] == [101, 101]
    assert_allclose([res.grid[0][0], res.grid[0][-1]], [-3.0, 3.0])  # b + 5 [0, 1], widened 10%
    assert res.n_attractors == 4
    for a in res.attractors:
        assert a[0, 1] > 1.7
    one_d = basins(net, dims=1, grid=[-1.0, 1.0], base_state=[3.0, 0.0, -3.0], n_steps=300)
    assert one_d.labels.shape == (2,)
    assert_allclose(np.concatenate(one_d.attractors)[:, 1], [-1.77602946, 1.77602946], atol=1e-7)


@pytest.mark.parametrize(
    "kw",
    [
        {"form": "standard", "b": [-1.0, 1.5]},
        {"leak": [0.3, 0.6], "b": [-1.7, -1.9]},
        {"form": "standard", "leak": 0.5, "b": [2.0, -2.5]},
        {"b": [2.0, -1.0], "W": [[-6.0, 1.0], [0.5, -5.0]]},  # period-2 orbits
    ],
)
def test_spectral_radius_matches_central_differences(kw):
    W = np.array(kw.get("W", [[5.0, -1.5], [-1.5, 5.0]]))
    b, form = np.array(kw["b"]), kw.get("form", "paper")
    leak = None if "leak" not in kw else np.asarray(kw["leak"])
    net = dynrnn.RNN(W, b=b, activation="logistic", form=form, leak=leak)
    res = basins(net, grid=(np.linspace(-1.1, 1.2, 7), np.linspace(-1.0, 1.3, 6)) if form == "standard" else None)
    assert res.n_attractors >= 1
    if "W" in kw:
        assert 2 in res.period

    def iterate_p(x, p):  # the p-th iterate of the naive map
        return naive.iterate(W, None, b, "logistic", form, leak, x, p, None)[p]

    for a, p, rho in zip(res.attractors, res.period, res.spectral_radius, strict=True):
        x, h = a[0], 1e-6
        J = np.column_stack([(iterate_p(x + h * e, p) - iterate_p(x - h * e, p)) / (2 * h) for e in np.eye(2)])
        assert_allclose(iterate_p(x, p), x, rtol=0, atol=1e-8)  # a periodic point of the naive map
        assert_allclose(rho, np.max(np.abs(np.linalg.eigvals(J))), rtol=1e-6, atol=1e-8)


def test_diverging_orbits_are_labelled():
    res = basins(unit(10.0, 0.0, activation="linear"), grid=[-1.0, 0.0, 1.0])
    assert_array_equal(res.labels, [-2, -1, -2])  # 0 is an unstable fixed point
    assert res.n_diverged == 2 and res.n_attractors == 0


def test_max_period_bounds_detection():
    res = basins(unit(-8.0, 4.0), grid=[-1.0, 1.0], max_period=1)
    assert_array_equal(res.labels, [-1, -1])
    assert res.n_attractors == 0


# ---------------------------------------------------------------------------
# Orbit diagram
# ---------------------------------------------------------------------------
def test_orbit_diagram_finds_every_stable_fixed_point_of_the_bias_sweep():
    values = np.linspace(-4.0, -1.0, 61)
    res = orbit_diagram(unit(5.0, 0.0), ("b", 0), values, n_starts=16, n_transient=600, n_keep=4, rng=3)
    assert res.x.shape == (61, 16, 4, 1)
    assert not res.diverged.any()
    fp = fixed_points(5.0, values, activation="logistic")
    n_bistable = 0
    for k in range(values.size):
        stable = fp.x[k][fp.stable[k]]
        late = res.x[k, :, :, 0]
        dist = np.min(np.abs(late[..., None] - stable), axis=-1)
        assert np.all(dist < 1e-7), values[k]  # every state sits on a stable fixed point
        reached = {int(np.argmin(np.abs(x - stable))) for x in late[:, -1]}
        if fp.bistable[k]:
            n_bistable += 1
            assert reached == {0, 1}, values[k]  # both attractors found
    assert n_bistable == 7  # b in {-2.65, ..., -2.35} lie in (-2.65561, -2.34439)


def test_orbit_diagram_period2():
    cycle = period2_orbits(-8.0, 4.0, activation="logistic")
    res = orbit_diagram(unit(1.0, 4.0), ("W_rec", 0, 0), [-8.0], n_starts=5, n_keep=6, rng=1)
    late = res.x[0, :, :, 0]
    assert_allclose(np.sort(late[:, -2:], axis=1), np.broadcast_to(cycle.x, (5, 2)), rtol=0, atol=1e-9)
    assert_allclose(late[:, 2:], late[:, :-2], rtol=0, atol=1e-12)  # period 2


@pytest.mark.parametrize("parameter", [("b", 1), ("W_rec", 0, 1), ("u", 1), "gain"])
def test_orbit_diagram_parameters_match_naive(parameter, rng):
    W = rng.uniform(-1.5, 1.5, (3, 3))
    W_in = rng.uniform(-1.0, 1.0, (3, 2))
    b = rng.uniform(-0.5, 0.5, 3)
    net = dynrnn.RNN(W, W_in=W_in, b=b, activation="logistic", leak=0.2)
    values = np.array([-0.7, 0.3, 1.4])
    x0 = rng.uniform(-2.0, 2.0, (2, 3))
    res = orbit_diagram(net, parameter, values, x0=x0, n_starts=3, n_transient=20, n_keep=5, rng=7)
    assert res.x.shape == (3, 5, 5, 3)
    assert_array_equal(res.x0[:2], x0)
    name = parameter if isinstance(parameter, str) else parameter[0]
    for k, v in enumerate(values):
        Wk, bk = W.copy(), b.copy()
        if name == "b":
            bk[1] = v
        elif name == "W_rec":
            Wk[0, 1] = v
        elif name == "u":
            bk = b + W_in[:, 1] * v
        else:
            Wk = v * W
        S = res.x0.shape[0]
        x, _, _ = naive.iterate_grid(
            np.repeat(Wk[None], S, 0), np.repeat(bk[None], S, 0), res.x0, 25, "logistic", "paper", 0.2, 5
        )
        assert_allclose(res.x[k], x, rtol=1e-10, atol=1e-12)


def test_orbit_diagram_parameter_label_and_points():
    res = orbit_diagram(unit(5.0, 0.0), "b", [-2.5, -1.0], n_starts=3, n_keep=2, rng=0)
    assert res.parameter == ("b", 0) and res.label == "b[0]"
    v, x = res.points()
    assert v.shape == x.shape == (12,)
    assert_array_equal(np.unique(v), [-2.5, -1.0])
    assert orbit_diagram(unit(5.0, 0.0), "gain", [1.0], n_starts=2).label == "gain"


def test_orbit_diagram_flags_divergence():
    res = orbit_diagram(unit(1.0, 0.0, activation="linear"), "gain", [0.5, 100.0], x0=[1.0], n_starts=0)
    assert_array_equal(res.diverged, [[False], [True]])
    assert res.n_diverged == 1


def test_same_seed_same_result():
    net = dynrnn.RNN([[1.0, -2.0], [2.5, 0.5]], b=[0.1, -0.3], activation="logistic")
    a = orbit_diagram(net, "gain", [0.5, 1.0, 2.0], n_starts=4, rng=11, n_transient=50)
    b = orbit_diagram(net, "gain", [0.5, 1.0, 2.0], n_starts=4, rng=11, n_transient=50)
    c = orbit_diagram(net, "gain", [0.5, 1.0, 2.0], n_starts=4, rng=np.random.default_rng(11), n_transient=50)
    d = orbit_diagram(net, "gain", [0.5, 1.0, 2.0], n_starts=4, rng=12, n_transient=50)
    for other in (b, c):
        assert_array_equal(a.x, other.x)
        assert_array_equal(a.x0, other.x0)
    assert not np.array_equal(a.x0, d.x0)
    assert_array_equal(a.x0, np.random.default_rng(11).uniform(-10.0, 10.0, (4, 2)))  # the documented draw


@pytest.mark.slow  # compiles the float32 kernels (~10 s)
def test_float32():
    res = orbit_diagram(unit(5.0, 0.0), ("b", 0), [-2.5], x0=[-3.0, 3.0], n_starts=0, dtype=np.float32)
    assert res.x.dtype == np.float32
    assert_allclose(res.x[0, :, -1, 0], [-1.77603, 1.77603], rtol=0, atol=1e-5)
    bas = basins(unit(5.0, -2.5, dtype=np.float32), grid=[-1.0, 1.0], tol=1e-5)
    assert bas.attractors[0].dtype == np.float32
    assert_array_equal(bas.labels, [0, 1])


# ---------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------
def test_sensitivity_is_large_across_the_boundary_and_tiny_away_from_it():
    delta = 1e-8
    net = unit(5.0, -2.5)
    straddle = np.array([-0.5e-8, -0.9e-8, -1e-12])  # x0 < 0 < x0 + delta: the boundary lies between
    away = np.array([-2.0, -1.0, -0.3, 0.3, 1.0, 2.0])
    res = sensitivity(net, np.concatenate([straddle, away]), delta=delta, n_steps=200)
    assert res.distance.shape == (9, 201)
    assert_allclose(res.distance[:, 0], delta, rtol=1e-6)
    assert np.all(res.distance[:3, -1] > 1.0)
    assert_allclose(res.distance[:3, -1], 2 * 1.7760294576, rtol=1e-8)  # one orbit on each attractor
    assert np.all(res.distance[3:, -1] < 1e-6 * delta)
    assert not res.diverged.any()
    assert_allclose(res.amplification, res.distance / delta)


def test_sensitivity_grows_by_the_unstable_multiplier():
    fp = fixed_points(5.0, -2.5, activation="logistic")
    lam = fp.multipliers[~fp.stable][0]  # 5 sigma'(0) = 1.25
    res = sensitivity(unit(5.0, -2.5), [0.0], delta=1e-9, n_steps=40)
    t = np.arange(41)
    assert_allclose(res.distance[0], 1e-9 * lam**t, rtol=1e-5)  # linear regime: Delta x_t << 1


def test_sensitivity_orbits_match_naive(rng):
    W = np.array([[5.0, -1.5], [-1.5, 5.0]])
    b = np.array([-1.7, -1.9])
    net = dynrnn.RNN(W, b=b, activation="logistic")
    x0 = rng.uniform(-3.0, 3.0, (4, 2))
    direction = np.array([3.0, 4.0])
    res = sensitivity(net, x0, delta=1e-3, n_steps=25, direction=direction)
    assert_allclose(res.direction, np.broadcast_to([0.6, 0.8], (4, 2)))
    for k in range(4):
        ref = naive.iterate(W, None, b, "logistic", "paper", None, x0[k], 25, None)
        ref_p = naive.iterate(W, None, b, "logistic", "paper", None, x0[k] + 1e-3 * np.array([0.6, 0.8]), 25, None)
        assert_allclose(res.x[k], ref, rtol=1e-10, atol=1e-12)
        assert_allclose(res.x_perturbed[k], ref_p, rtol=1e-10, atol=1e-12)
        assert_allclose(res.distance[k], np.linalg.norm(ref_p - ref, axis=1), rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------
def test_inputs_not_modified():
    net = dynrnn.RNN(5.0 * np.eye(2), b=[-2.5, -2.5], activation="logistic")
    values, x0, x0_range = np.array([-2.5, -2.4]), np.array([[0.5, -0.5]]), np.array([-3.0, 3.0])
    axis0, axis1, base = np.linspace(-1, 1, 3), np.linspace(-1, 1, 4), np.array([0.2, 0.3])
    direction = np.array([1.0, 2.0])
    arrays = (values, x0, x0_range, axis0, axis1, base, direction)
    copies = [a.copy() for a in arrays]
    res = (
        orbit_diagram(net, ("b", 0), values, x0=x0, x0_range=x0_range, n_starts=1, n_transient=5, rng=0),
        basins(net, grid=(axis0, axis1), base_state=base, n_steps=50),
        sensitivity(net, x0, delta=1e-3, n_steps=5, direction=direction),
    )
    for a, c in zip(arrays, copies, strict=True):
        assert_array_equal(a, c)
        assert a.flags.writeable  # the results' read-only arrays are copies
    for r in res:
        for value in vars(r).values():
            if isinstance(value, np.ndarray):
                assert not value.flags.writeable
    assert not res[1].grid[0].flags.writeable and not res[1].attractors[0].flags.writeable


NET = unit(5.0, -2.5)
NET2 = dynrnn.RNN(np.eye(2), b=[0.0, 0.0], activation="logistic")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: orbit_diagram(NET, ("c", 0), [1.0]), ValueError, "parameter must name"),
        (lambda: orbit_diagram(NET, ("b", 1), [1.0]), ValueError, "out of range"),
        (lambda: orbit_diagram(NET, ("b", -1), [1.0]), ValueError, "out of range"),
        (lambda: orbit_diagram(NET, ("W_rec", 0), [1.0]), ValueError, r"\('W_rec', i, j\)"),
        (lambda: orbit_diagram(NET2, "b", [1.0]), ValueError, r"\('b', i\)"),
        (lambda: orbit_diagram(NET, ("b", 0.0), [1.0]), TypeError, "integers"),
        (lambda: orbit_diagram(NET, ("u", 0), [1.0]), ValueError, "inputs"),
        (lambda: orbit_diagram(NET, 3, [1.0]), TypeError, "parameter"),
        (lambda: orbit_diagram(NET, "b", []), ValueError, "values"),
        (lambda: orbit_diagram(NET, "b", [[1.0]]), ValueError, "values must be 1-D"),
        (lambda: orbit_diagram(NET, "b", [np.nan]), ValueError, "values must be finite"),
        (lambda: orbit_diagram(NET, "b", [1.0], n_starts=0), ValueError, "n_starts"),
        (lambda: orbit_diagram(NET, "b", [1.0], n_starts=2.0), TypeError, "n_starts"),
        (lambda: orbit_diagram(NET, "b", [1.0], n_keep=0), ValueError, "n_keep"),
        (lambda: orbit_diagram(NET, "b", [1.0], n_transient=-1), ValueError, "n_transient"),
        (lambda: orbit_diagram(NET, "b", [1.0], x0_range=(1.0, -1.0)), ValueError, "low <= high"),
        (lambda: orbit_diagram(NET, "b", [1.0], x0_range=(1.0, 2.0, 3.0)), ValueError, "x0_range"),
        (lambda: orbit_diagram(NET2, "gain", [1.0], x0=[1.0, 2.0, 3.0]), ValueError, "x0 must have shape"),
        (lambda: orbit_diagram(NET, "b", [1.0], rng=1.5), TypeError, "rng"),
        (lambda: orbit_diagram(NET, "b", [1.0], backend="tpu"), ValueError, "backend"),
        (lambda: orbit_diagram(NET, "b", [1.0], dtype=np.int32), ValueError, "dtype"),
        (lambda: orbit_diagram("net", "b", [1.0]), TypeError, "net must be"),
        (lambda: basins(NET, grid=[]), ValueError, "at least one point"),
        (lambda: basins(NET, grid=[0.0, np.inf]), ValueError, "grid must be finite"),
        (lambda: basins(NET, grid=[[0.0, 1.0]]), ValueError, "grid must be 1-D"),
        (lambda: basins(NET, max_period=0), ValueError, "max_period"),
        (lambda: basins(NET, max_period=5, n_steps=4), ValueError, "n_steps"),
        (lambda: basins(NET, tol=0.0), ValueError, "tol"),
        (lambda: basins(NET, tol=np.nan), ValueError, "tol"),
        (lambda: basins(NET, merge_tol=-1.0), ValueError, "merge_tol"),
        (lambda: basins(NET, dims=1), ValueError, "dims"),
        (lambda: basins(NET2, dims=(0, 0)), ValueError, "distinct"),
        (lambda: basins(NET2, dims=(0, 1, 1)), ValueError, "dims"),
        (lambda: basins(NET2, dims=0.5), TypeError, "dims"),
        (lambda: basins(NET2, grid=[0.0, 1.0, 2.0]), ValueError, "pair"),
        (lambda: basins(NET2, grid=([0.0], [])), ValueError, r"grid\[1\]"),
        (lambda: basins(NET2, base_state=[0.0]), ValueError, "base_state"),
        (lambda: basins(unit(1.0, 0.0, activation="relu")), ValueError, "grid must be given"),
        (lambda: sensitivity(NET, [0.0], delta=0.0, n_steps=5), ValueError, "delta"),
        (lambda: sensitivity(NET, [0.0], delta=[1e-3, 1e-3], n_steps=5), ValueError, "delta"),
        (lambda: sensitivity(NET, [0.0], delta=1e-3, n_steps=0), ValueError, "n_steps"),
        (lambda: sensitivity(NET, [np.nan], delta=1e-3, n_steps=5), ValueError, "x0 must be finite"),
        (lambda: sensitivity(NET, np.empty((0, 1)), delta=1e-3, n_steps=5), ValueError, "at least one"),
        (lambda: sensitivity(NET2, [0.0, 0.0], delta=1e-3, n_steps=5, direction=[0.0, 0.0]), ValueError, "non-zero"),
        (
            lambda: sensitivity(NET2, [0.0, 0.0], delta=1e-3, n_steps=5, direction=[1.0]),
            ValueError,
            "direction must have",
        ),
        (lambda: sensitivity(NET, [1j], delta=1e-3, n_steps=5), TypeError, "x0"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------------------
# CUDA (simulator or GPU): tiny sizes, several blocks
# ---------------------------------------------------------------------------

RTOL, ATOL = CUDA_RTOL, CUDA_ATOL


@pytest.mark.cuda
@skip_without_cuda
def test_cuda_matches_cpu(monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)
    net = dynrnn.RNN([[5.0, -1.5], [-1.5, 5.0]], b=[-1.7, -1.9], activation="logistic")
    both = [
        basins(net, grid=(np.linspace(-1, 4, 5), np.linspace(-1, 4, 3)), n_steps=80, backend=bk)
        for bk in ("cpu", "cuda")
    ]
    assert_array_equal(both[0].labels, both[1].labels)
    for a, c in zip(both[0].attractors, both[1].attractors, strict=True):
        assert_allclose(a, c, rtol=0, atol=1e-7)
    kw = dict(n_starts=3, n_transient=20, n_keep=3, rng=5)
    for nt in (net, unit(5.0, 0.0)):
        od = [orbit_diagram(nt, ("b", 0), [-2.6, -2.5, -2.3], backend=bk, **kw) for bk in ("cpu", "cuda")]
        assert_allclose(od[0].x, od[1].x, rtol=RTOL, atol=ATOL)
        assert_array_equal(od[0].x0, od[1].x0)
    sens = [
        sensitivity(unit(5.0, -2.5), [-3e-9, 1.0, 0.0], delta=1e-8, n_steps=30, backend=bk) for bk in ("cpu", "cuda")
    ]
    assert_allclose(sens[0].distance, sens[1].distance, rtol=1e-8, atol=1e-12)
