"""Fixed points, 2-cycles, folds, flips and the cusp of the single-unit map x <- w sigma(x) + b.

References here are independent of the code under test: sigma, sigma' and the map are written
again in plain NumPy below, roots come from a dense scan plus scipy's brentq, derivatives from
central differences, attractors from iterating the map.  Known answers are those of the paper
notes (Pascanu et al. 2013, Sec. 2.2, Fig. 3; landmarks derived from eq. 8).
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import brentq

import dynrnn
from dynrnn import single_unit as su

EPS = np.finfo(np.float64).eps


# ---------------------------------------------------------------------------
# Independent reference: the map in plain NumPy, dense scan + brentq
# ---------------------------------------------------------------------------
def ref_sigma(name, x):
    x = np.asarray(x, dtype=np.float64)
    if name == "logistic":
        return 0.5 * (1.0 + np.tanh(0.5 * x))  # a different formula from the package's
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    return x


def ref_map(name, w, b, x):
    return w * ref_sigma(name, x) + b


def ref_fixed_points(name, w, b, n_scan=200_001):
    """Sign changes of g(x) = f(x) - x on a dense grid over a box holding every fixed point, then brentq."""
    if name in ("logistic", "tanh"):
        lo, hi = b - abs(w) - 1.0, b + abs(w) + 1.0
    else:  # piecewise linear: |x*| <= |b| / |1 - w| or |b|
        r = 2.0 * (abs(b) + abs(b) / abs(1.0 - w)) + 1.0
        lo, hi = -r, r
    xs = np.linspace(lo, hi, n_scan)
    g = ref_map(name, w, b, xs) - xs
    roots = [xs[i] for i in np.flatnonzero(g == 0.0)]
    change = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    for i in change:
        roots.append(brentq(lambda z: ref_map(name, w, b, z) - z, xs[i], xs[i + 1], xtol=1e-15, rtol=4 * EPS))
    return np.sort(np.array(roots))


def ref_folds(name, w):
    """Fold biases from w sigma'(x) = 1 solved by brentq on sigma' (not the closed form)."""
    dsig = (
        (lambda z: ref_sigma(name, z) * (1 - ref_sigma(name, z)))
        if name == "logistic"
        else (lambda z: 1 - np.tanh(z) ** 2)
    )
    x = brentq(lambda z: w * dsig(z) - 1.0, 0.0, 50.0, xtol=1e-15, rtol=4 * EPS)
    return sorted((s * x - w * ref_sigma(name, s * x), s * x) for s in (-1.0, 1.0))


def scale(w, b, x):
    return np.abs(w) + np.abs(b) + np.abs(x)


# ---------------------------------------------------------------------------
# Known answers (paper notes, Sec. 2.2 table)
# ---------------------------------------------------------------------------
def test_fig3_folds_logistic_w5():
    folds = su.fold_points(5.0, activation="logistic")
    np.testing.assert_allclose(folds.b, [-2.65561, -2.34439], rtol=0, atol=5e-6)
    np.testing.assert_allclose(folds.x, [0.96242, -0.96242], rtol=0, atol=5e-6)
    assert folds.kind == "fold" and bool(folds.exists)
    np.testing.assert_allclose(folds.b, [b for b, _ in ref_folds("logistic", 5.0)], rtol=1e-13, atol=1e-14)


def test_fig3_folds_tanh_w5():
    folds = su.fold_points(5.0, activation="tanh")
    np.testing.assert_allclose(folds.b, [-3.0285, 3.0285], rtol=0, atol=5e-5)
    np.testing.assert_allclose(folds.x, [1.44364, -1.44364], rtol=0, atol=5e-6)
    np.testing.assert_allclose(folds.b, [b for b, _ in ref_folds("tanh", 5.0)], rtol=1e-13, atol=1e-14)


def test_fig3_bistable_at_b_minus_2_5():
    fp = su.fixed_points(5.0, -2.5, activation="logistic")
    np.testing.assert_allclose(fp.x, [-1.77603, 0.0, 1.77603], rtol=0, atol=5e-6)
    assert fp.stable.tolist() == [True, False, True] and int(fp.count) == 3 and bool(fp.bistable)
    assert not fp.degenerate and fp.converged


def test_fig3_bistable_range_and_surviving_attractors():
    b_lo, b_hi = su.fold_points(5.0, activation="logistic").b
    b = np.array([b_lo - 1e-6, b_lo + 1e-6, -2.5, b_hi - 1e-6, b_hi + 1e-6])
    fp = su.fixed_points(5.0, b, activation="logistic")
    assert fp.count.tolist() == [1, 3, 3, 3, 1]
    assert fp.n_stable.tolist() == [1, 2, 2, 2, 1]
    # just past the folds only the far attractor survives, at -+2.1196
    np.testing.assert_allclose(fp.x[[0, 4], 0], [-2.1196, 2.1196], rtol=0, atol=1e-4)


@pytest.mark.parametrize(("name", "expected"), [("logistic", (4.0, -2.0, 0.0)), ("tanh", (1.0, 0.0, 0.0))])
def test_cusp(name, expected):
    c = su.cusp(activation=name)
    assert (c.w, c.b, c.x) == expected and c.activation == name
    curve = su.fold_curve(activation=name, n=50)
    assert curve.w[0] == c.w and curve.b[0, 0] == curve.b[0, 1] == c.b
    assert np.all(np.diff(curve.b[1:], axis=-1) > 0)  # the two branches open up past the cusp


def test_fold_curve_branches_and_fold_absent_below_cusp():
    curve = su.fold_curve(activation="logistic", w_max=8.0, n=21)
    assert curve.w.shape == (21,) and curve.b.shape == (21, 2) and curve.w[-1] == 8.0
    for w, (b0, b1) in zip(curve.w[1:], curve.b[1:], strict=True):
        np.testing.assert_allclose([b0, b1], [b for b, _ in ref_folds("logistic", w)], rtol=1e-12, atol=1e-12)
    none = su.fold_points([3.9, 0.0, -5.0], activation="logistic")
    assert np.isnan(none.b).all() and not none.exists.any()
    np.testing.assert_array_equal(su.fold_curve(activation="tanh", w=[0.5, 2.0]).exists, [False, True])


# ---------------------------------------------------------------------------
# Fixed points against independent references
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_fixed_points_grid_against_dense_scan(name, rng):
    w = rng.uniform(-12, 12, 60)
    b = rng.uniform(-12, 12, 60)
    fp = su.fixed_points(w, b, activation=name)
    assert fp.x.shape == (60, 3) and fp.converged.all()
    for i in range(60):
        ref = ref_fixed_points(name, w[i], b[i])
        got = fp.x[i, : fp.count[i]]
        assert fp.count[i] == ref.size, (w[i], b[i], got, ref)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", dynrnn.ACTIVATIONS)
def test_residuals_and_multipliers(name, rng):
    w = rng.uniform(-10, 10, 400)
    b = rng.uniform(-10, 10, 400)
    fp = su.fixed_points(w[:, None], b[:, None], activation=name)  # shape (400, 1, 3)
    x, lam = fp.x[:, 0], fp.multipliers[:, 0]
    found = ~np.isnan(x)
    W, B = np.broadcast_to(w[:, None], x.shape)[found], np.broadcast_to(b[:, None], x.shape)[found]
    X = x[found]
    res = np.abs(ref_map(name, W, B, X) - X)
    assert np.all(res <= 8 * EPS * scale(W, B, X)), res.max()
    assert np.all(fp.residual[:, 0][found] <= 8 * EPS * scale(W, B, X))
    h = 1e-6
    fd = (ref_map(name, W, B, X + h) - ref_map(name, W, B, X - h)) / (2 * h)
    smooth = np.abs(X) > 1e-4 if name == "relu" else np.ones(X.shape, dtype=bool)  # relu kinks at 0
    np.testing.assert_allclose(lam[found][smooth], fd[smooth], rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(fp.stable[:, 0][found], np.abs(lam[found]) < 1)
    assert np.all(np.diff(x, axis=-1)[~np.isnan(np.diff(x, axis=-1))] > 0)  # ascending, distinct


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_stable_fixed_points_are_attractors_of_iterate_grid(name, rng):
    w = rng.uniform(-3.5, 12, 300)
    b = rng.uniform(-8, 8, 300)
    fp = su.fixed_points(w, b, activation=name)
    rows, cols = np.nonzero(fp.stable & (np.abs(fp.multipliers) < 0.9))  # fast contraction
    x_star = fp.x[rows, cols]
    res = dynrnn.iterate_grid(w[rows], b[rows], x_star + 1e-3, n_steps=400, activation=name)
    np.testing.assert_allclose(res.x[:, -1, 0], x_star, rtol=1e-12, atol=1e-12)


def test_count_matches_sign_changes_on_a_grid(rng):
    """1000 grid points at once; count equals the reference's sign changes (folds excluded by a margin)."""
    w = rng.uniform(3, 9, 1000)
    b = rng.uniform(-8, 1, 1000)
    fp = su.fixed_points(w, b, activation="logistic")
    xs = np.linspace(-10, 10, 40_001)
    g = ref_map("logistic", w[:, None], b[:, None], xs) - xs
    changes = np.count_nonzero(np.sign(g[:, :-1]) != np.sign(g[:, 1:]), axis=1)
    near_fold = np.zeros(1000, dtype=bool)
    for i in np.flatnonzero(w > 4):
        near_fold[i] = min(abs(b[i] - fb) for fb, _ in ref_folds("logistic", w[i])) < 1e-3
    assert near_fold.sum() < 10
    np.testing.assert_array_equal(fp.count[~near_fold], changes[~near_fold])


@given(
    w=st.floats(-30, 30, allow_nan=False),
    b=st.floats(-30, 30, allow_nan=False),
    name=st.sampled_from(dynrnn.ACTIVATIONS),
)
def test_property_every_root_found_and_solves_the_equation(w, b, name):
    assume(w != 1.0)  # degenerate for relu and linear: tested below
    fp = su.fixed_points(w, b, activation=name)
    got = fp.x[: int(fp.count)]
    assert fp.converged and not fp.degenerate
    assert np.all(np.abs(ref_map(name, w, b, got) - got) <= 8 * EPS * scale(w, b, got))
    ref = ref_fixed_points(name, w, b, n_scan=20_001)
    for r in ref:  # nothing missed
        assert np.min(np.abs(got - r)) <= 1e-9 * (1 + abs(r)), (got, ref)
    # extra roots are allowed only as the close pair near a fold that a scan cannot split
    for x, lam in zip(got, fp.multipliers[: int(fp.count)], strict=True):
        assert ref.size and (np.min(np.abs(ref - x)) <= 1e-9 * (1 + abs(x)) or abs(lam - 1) < 0.05)


def test_at_a_fold_the_double_root_is_tangent():
    for name, w in [("logistic", 5.0), ("logistic", 12.0), ("tanh", 5.0), ("tanh", 1.5)]:
        folds = su.fold_points(w, activation=name)
        fp = su.fixed_points(w, folds.b, activation=name)
        assert fp.count.tolist() == [2, 2]
        assert fp.tangent.sum(axis=-1).tolist() == [1, 1]
        np.testing.assert_allclose(np.sort(fp.x[fp.tangent]), np.sort(folds.x), rtol=0, atol=0)
        np.testing.assert_array_equal(fp.multipliers[fp.tangent], [1.0, 1.0])
        assert not fp.stable[fp.tangent].any()
        for x in folds.x:  # w sigma'(x*) = 1 with the reference sigma
            s = ref_sigma(name, x)
            np.testing.assert_allclose(w * (s * (1 - s) if name == "logistic" else 1 - s * s), 1.0, rtol=1e-13)


def test_cusp_point_itself_has_one_triple_root():
    fp = su.fixed_points([4.0, 4.0], [-2.0, -2.1], activation="logistic")
    assert fp.count.tolist() == [1, 1]
    assert fp.x[0, 0] == 0.0 and fp.multipliers[0, 0] == 1.0 and not fp.stable[0, 0]


def test_monotone_side_has_exactly_one_fixed_point(rng):
    for name, w_c in (("logistic", 4.0), ("tanh", 1.0)):
        w = rng.uniform(-50, w_c, 2000)
        b = rng.uniform(-50, 50, 2000)
        assert (su.fixed_points(w, b, activation=name).count == 1).all()


@pytest.mark.parametrize(
    ("name", "w", "b", "x", "lam"),
    [
        ("linear", 0.5, 1.0, [2.0], [0.5]),
        ("linear", 3.0, 1.0, [-0.5], [3.0]),
        ("linear", 1.0, 1.0, [], []),
        ("relu", 2.0, -1.0, [-1.0, 1.0], [0.0, 2.0]),
        ("relu", 0.5, 1.0, [2.0], [0.5]),
        ("relu", 2.0, 1.0, [], []),
        ("relu", 1.0, -3.0, [-3.0], [0.0]),
        ("relu", -1.0, 1.0, [0.5], [-1.0]),
        ("relu", 3.0, 0.0, [0.0], [0.0]),
    ],
)
def test_piecewise_linear_closed_form(name, w, b, x, lam):
    fp = su.fixed_points(w, b, activation=name)
    assert int(fp.count) == len(x) and not fp.degenerate
    np.testing.assert_allclose(fp.x[: len(x)], x, rtol=1e-15, atol=0)
    np.testing.assert_allclose(fp.multipliers[: len(x)], lam, rtol=1e-15, atol=0)
    assert np.isnan(fp.x[len(x) :]).all()


@pytest.mark.parametrize("name", ["linear", "relu"])
def test_degenerate_continuum_is_flagged(name):
    fp = su.fixed_points(1.0, [0.0, 0.5], activation=name)
    assert fp.degenerate.tolist() == [True, False]
    assert fp.count[0] == 0 and np.isnan(fp.x[0]).all()


def test_broadcasting_and_grid_equals_pointwise(rng):
    w = rng.uniform(3, 8, (4, 1))
    b = rng.uniform(-6, 0, (1, 5))
    fp = su.fixed_points(w, b, activation="logistic")
    assert fp.x.shape == (4, 5, 3) and fp.count.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            one = su.fixed_points(float(w[i, 0]), float(b[0, j]), activation="logistic")
            np.testing.assert_array_equal(one.x, fp.x[i, j])
    assert su.fixed_points(5, -2, activation="logistic").x.shape == (3,)  # integers are cast


def test_large_grid_is_fast():
    import time

    W, B = np.meshgrid(np.linspace(-10, 10, 400), np.linspace(-10, 5, 400))
    t0 = time.perf_counter()
    fp = su.fixed_points(W, B, activation="logistic")
    assert time.perf_counter() - t0 < 5.0
    assert fp.converged.all() and set(np.unique(fp.count)) <= {1, 2, 3}


# ---------------------------------------------------------------------------
# Flips and 2-cycles
# ---------------------------------------------------------------------------
def test_flip_points_logistic_w_minus5():
    flips = su.flip_points(-5.0, activation="logistic")
    x = np.array([-0.96242365, 0.96242365])
    np.testing.assert_allclose(flips.x, x, rtol=0, atol=1e-8)
    np.testing.assert_allclose(flips.b, flips.x + 5 * ref_sigma("logistic", flips.x), rtol=1e-14)  # x - w sigma(x)
    np.testing.assert_allclose(flips.b, [0.41954, 4.58046], rtol=0, atol=5e-6)
    s = ref_sigma("logistic", flips.x)
    np.testing.assert_allclose(-5 * s * (1 - s), [-1.0, -1.0], rtol=1e-13)
    assert (
        not su.flip_points([-3.9, 2.0], activation="logistic").exists.any()
        and su.flip_points(-1.5, activation="tanh").exists
    )


def test_period2_symmetric_orbit():
    # for w = -5, b = 2.5 the orbit is {-q, q} with q = 2.5 tanh(q/2): the Fig. 3 attractor +-1.77603
    cyc = su.period2_orbits(-5.0, 2.5, activation="logistic")
    np.testing.assert_allclose(cyc.x, [-1.77603, 1.77603], rtol=0, atol=5e-6)
    assert cyc.exists and cyc.stable and cyc.converged


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_period2_born_at_the_flip(name):
    w = -5.0
    b0, b1 = su.flip_points(w, activation=name).b
    for b_flip, inside in ((b0, 1e-4), (b1, -1e-4)):
        cyc = su.period2_orbits(w, [b_flip - inside, b_flip + inside], activation=name)
        assert cyc.exists.tolist() == [False, True]
        amp = np.diff(cyc.x[1])[0]
        assert 0 < amp < 0.1  # grows from zero amplitude (supercritical)
        assert cyc.stable[1] and 0.9 < cyc.multipliers[1] < 1
    fp = su.fixed_points(w, 0.5 * (b0 + b1), activation=name)
    assert fp.multipliers[0] < -1  # between the flips the fixed point is unstable


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_period2_against_iteration_and_scan(name, rng):
    w = rng.uniform(-12, -0.5, 200)
    b = rng.uniform(-8, 10, 200)
    cyc = su.period2_orbits(w, b, activation=name)
    fp = su.fixed_points(w, b, activation=name)
    p, q = cyc.x[:, 0], cyc.x[:, 1]
    e = cyc.exists
    assert e.any() and (~e).any()
    np.testing.assert_array_equal(e, fp.multipliers[:, 0] < -1)  # away from flips
    tol = 8 * EPS * scale(w[e], b[e], q[e])
    assert np.all(np.abs(ref_map(name, w[e], b[e], p[e]) - q[e]) <= tol)
    assert np.all(np.abs(ref_map(name, w[e], b[e], q[e]) - p[e]) <= tol)
    fast = e & (np.abs(cyc.multipliers) < 0.9)
    res = dynrnn.iterate_grid(w[fast], b[fast], p[fast] + 1e-3, n_steps=600, activation=name, n_keep=2)
    np.testing.assert_allclose(np.sort(res.x[:, :, 0], axis=1), cyc.x[fast], rtol=1e-11, atol=1e-11)
    for i in np.flatnonzero(e)[:20]:  # the second iterate's fixed points: x_f, p and q only
        roots = ref_fixed_points(name, w[i], b[i])  # of f
        xs = np.linspace(b[i] - abs(w[i]) - 1, b[i] + abs(w[i]) + 1, 100_001)
        h = ref_map(name, w[i], b[i], ref_map(name, w[i], b[i], xs)) - xs
        assert np.count_nonzero(np.sign(h[:-1]) != np.sign(h[1:])) == 3 and roots.size == 1
        assert p[i] < roots[0] < q[i]


def test_no_period2_for_increasing_maps():
    assert not su.period2_orbits([0.5, 5.0, 20.0], -2.5, activation="logistic").exists.any()


# ---------------------------------------------------------------------------
# Results and validation
# ---------------------------------------------------------------------------
def test_results_are_read_only_and_inputs_untouched():
    w, b = np.array([5.0, 3.0]), np.array([-2.5, 0.0])
    w0, b0 = w.copy(), b.copy()
    for res in (
        su.fixed_points(w, b, activation="logistic"),
        su.period2_orbits(-w, b, activation="logistic"),
        su.fold_points(w, activation="logistic"),
        su.flip_points(-w, activation="logistic"),
    ):
        for name in ("x", "b", "multiplier"):
            arr = getattr(res, name, None)
            if isinstance(arr, np.ndarray):
                with pytest.raises(ValueError, match="read-only"):
                    arr[...] = 0
        assert "array" in repr(res)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: su.fixed_points([1.0, 2.0], [1.0, 2.0, 3.0], activation="logistic"),
            ValueError,
            r"w and b must broadcast.*\(2,\).*\(3,\)",
        ),
        (lambda: su.fixed_points(np.nan, 0.0, activation="logistic"), ValueError, "w must be finite"),
        (lambda: su.fixed_points(1.0, [0.0, np.inf], activation="logistic"), ValueError, "b must be finite"),
        (lambda: su.fixed_points(1.0, 0.0, activation="sigmoid"), ValueError, "activation must be one of"),
        (lambda: su.fixed_points(1j, 0.0, activation="logistic"), TypeError, "w must be real"),
        (lambda: su.fixed_points("a", 0.0, activation="logistic"), TypeError, "w must be a real-valued numeric array"),
        (lambda: su.fixed_points([], 0.0, activation="logistic"), ValueError, "at least one grid point"),
        (
            lambda: su.period2_orbits(-5.0, 1.0, activation="relu"),
            ValueError,
            "activation must be one of 'logistic', 'tanh'",
        ),
        (
            lambda: su.period2_orbits([1.0, 2.0], [1.0, 2.0, 3.0], activation="logistic"),
            ValueError,
            "w and b must broadcast",
        ),
        (lambda: su.fold_points(5.0, activation="linear"), ValueError, "activation must be one of 'logistic', 'tanh'"),
        (lambda: su.flip_points([np.inf], activation="logistic"), ValueError, "w must be finite"),
        (lambda: su.fold_points([], activation="logistic"), ValueError, "w must have at least one value"),
        (lambda: su.cusp(activation="relu"), ValueError, "activation"),
        (lambda: su.fold_curve(activation="logistic", w_max=3.0), ValueError, "w_max must exceed the cusp weight 4.0"),
        (lambda: su.fold_curve(activation="tanh", n=1), ValueError, "n must be >= 2"),
        (lambda: su.fold_curve(activation="tanh", n=2.0), TypeError, "n must be an integer"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
