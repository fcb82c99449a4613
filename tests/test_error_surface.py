"""The eq. (8) error surface (Fig. 6 of Pascanu et al. 2013): values, derivatives, curvature and the wall.

References: `naive_surface` (plain NumPy: reverse-mode gradient, central differences, a dense
scan with golden-section search) and the known answers of the paper notes (Sec. 2.4 table:
where |dE_50/db| peaks, and how high, for x0 = 0.5, target 0.7, logistic sigma).
"""

import naive_surface as naive
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dynrnn
from dynrnn import _config

SIGMA_HALF = 0.6224593312018546  # logistic(0.5)
DSIGMA_HALF = SIGMA_HALF * (1.0 - SIGMA_HALF)  # 0.2350037122015945
W_UNSTABLE = 1.0 / DSIGMA_HALF  # 4.2553: x0 = 0.5 is an unstable fixed point on the wall line beyond this


def finite(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def wall_sum(w, n_steps=50):
    """S = sum_{k<T} (w sigma'(0.5))^k: how far x_T moves per unit of b off the line, linearised at x0 = 0.5."""
    g = np.asarray(w) * DSIGMA_HALF
    return (g**n_steps - 1.0) / (g - 1.0)


# ---------------------------------------------------------------------------
# Derivatives against independent references
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_gradient_matches_reverse_mode_and_central_differences(name, rng):
    # moderate weights: no wall, so central differences are accurate (h = 1e-6)
    w = rng.uniform(-3.0, 3.5 if name == "logistic" else 0.9, 40)
    b = rng.uniform(-3.0, 2.0, 40)
    res = dynrnn.error_surface(w, b, x0=0.3, n_steps=30, target=0.4, activation=name)
    E, dE_dw, dE_db, x_T = naive.error_surface(w, b, 0.3, 30, 0.4, name)
    np.testing.assert_allclose(res.x, x_T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.E, E, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.dE_dw, dE_dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.dE_db, dE_db, rtol=1e-10, atol=1e-12)
    fd_w, fd_b = naive.gradient_fd(lambda ww, bb: naive.error(ww, bb, 0.3, 30, 0.4, name), w, b)
    np.testing.assert_allclose(res.dE_dw, fd_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.dE_db, fd_b, rtol=1e-6, atol=1e-8)
    assert not res.diverged.any()


def test_gradient_matches_reverse_mode_across_the_wall():
    # Fig. 6 window on a grid: the gradient spans 1e-20 .. 1e12; both methods are exact along
    # the same orbit, so they agree to rounding (amplified like the derivatives themselves).
    w, b = np.meshgrid(np.linspace(3.0, 8.0, 21), np.linspace(-5.0, 0.0, 23), indexing="ij")
    res = dynrnn.error_surface(w, b, activation="logistic")
    E, dE_dw, dE_db, x_T = naive.error_surface(w, b)
    assert res.E.shape == (21, 23) and not res.diverged.any()
    np.testing.assert_allclose(res.E, E, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(res.dE_dw, dE_dw, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(res.dE_db, dE_db, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_hessian_max_eig_matches_finite_differences_of_gradients(name, rng):
    w = rng.uniform(-3.0, 3.5 if name == "logistic" else 0.9, 12)
    b = rng.uniform(-2.0, 2.0, 12)
    kw = {"x0": -0.2, "n_steps": 20, "target": 0.6, "activation": name}
    res = dynrnn.error_surface(w, b, **kw)

    def naive_grad(ww, bb):
        return naive.error_surface(ww, bb, -0.2, 20, 0.6, name)[1:3]

    def dynrnn_grad(ww, bb):
        r = dynrnn.error_surface(ww, bb, **kw)
        return float(r.dE_dw), float(r.dE_db)

    for i in range(w.size):
        for grad in (naive_grad, dynrnn_grad):
            H = naive.hessian_fd(grad, w[i], b[i])
            scale = np.abs(H).max()
            # O(h^2) truncation plus round-off / h with h = 1e-5, relative to the Hessian's size
            np.testing.assert_allclose(res.hessian_max_eig[i], naive.hessian_max_eig(H), rtol=1e-6, atol=1e-7 * scale)


def test_hessian_of_one_linear_step_in_closed_form():
    # x_1 = w x0 + b, E = (x_1 - t)^2: H = 2 [[x0^2, x0], [x0, 1]], lambda_max = 2 (1 + x0^2)
    x0 = np.array([-2.0, 0.0, 0.5, 3.0])
    res = dynrnn.error_surface(1.5, -0.25, x0=x0, n_steps=1, target=0.1, activation="linear")
    x1 = 1.5 * x0 - 0.25
    np.testing.assert_allclose(res.E, (x1 - 0.1) ** 2, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.dE_dw, 2 * (x1 - 0.1) * x0, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.dE_db, 2 * (x1 - 0.1), rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.hessian_max_eig, 2 * (1 + x0**2), rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------
# Known answers: the wall of Fig. 6 (paper notes, Sec. 2.4)
# ---------------------------------------------------------------------------
TABLE = [  # w, peak b, wall line b, peak |dE/db|
    (4.5, -2.30297, -2.30107, 1.3e2),
    (5.0, -2.61234, -2.61230, 5.7e3),
    (6.0, -3.23476, -3.23476, 1.7e7),
    (8.0, -4.47967, -4.47967, 1.2e13),
]


def test_wall_known_answers():
    w = np.array([row[0] for row in TABLE])
    wall = dynrnn.error_surface_wall(w, (-5.0, 0.0), activation="logistic")
    assert wall.b.shape == (4,) and wall.converged.all() and wall.unstable.all()
    np.testing.assert_allclose(wall.b, [row[1] for row in TABLE], rtol=0, atol=1e-5)  # table has 5 decimals
    np.testing.assert_allclose(wall.line_b, [row[2] for row in TABLE], rtol=0, atol=1e-5)
    np.testing.assert_allclose(wall.peak, [row[3] for row in TABLE], rtol=0.1, atol=0)  # table has 2 digits
    np.testing.assert_array_less(np.abs(wall.offset[1:]), 1e-4)  # on the line for w >= 5
    assert abs(wall.offset[0] + 1.9e-3) < 1e-4  # but not at w = 4.5, closer to the threshold
    # the peak is a maximum of |dE/db| along b: probing about 1/S (the wall's width) to either side
    half = 0.1 / wall_sum(w)
    for sign in (-1.0, 1.0):
        side = dynrnn.error_surface(w, wall.b + sign * half, activation="logistic")
        np.testing.assert_array_less(np.abs(side.dE_db), wall.peak)
    at = dynrnn.error_surface(w, wall.b, activation="logistic")
    np.testing.assert_allclose(np.abs(at.dE_db), wall.peak, rtol=1e-15, atol=0)
    np.testing.assert_allclose(at.E, wall.E, rtol=1e-15, atol=0)
    np.testing.assert_allclose(at.x, wall.x, rtol=1e-15, atol=0)


def test_wall_lies_on_the_line_for_every_unstable_w():
    # Linearised at the unstable fixed point x0 = 0.5, a bias delta off the line moves x_T by
    # delta * S(w); |dE/db| peaks where the orbit has left x0 by O(1) within the last steps, on
    # the side where sigma' grows (x_T < x0): -C / S <= offset <= 0 with C of order 1 (measured:
    # 0.39 at w = 4.2554 rising to 1.3 at w = 8, where the float64 spacing of b is 1/16 of 1/S).
    w = np.linspace(W_UNSTABLE + 1e-4, 8.0, 60)
    wall = dynrnn.error_surface_wall(w, (-6.0, 0.0), activation="logistic")
    assert wall.converged.all() and wall.unstable.all()
    S = wall_sum(w)
    spacing = np.spacing(np.abs(wall.b))
    np.testing.assert_array_less(wall.offset, 4 * spacing)
    np.testing.assert_array_less(-2.0 / S - 4 * spacing, wall.offset)
    # the same with the paper's rounded slope: b = 0.5 - 0.622459 w (5e-7 w from rounding)
    np.testing.assert_array_less(np.abs(wall.b - (0.5 - 0.622459 * w)), 2.0 / S + 1e-6 * w)
    assert round(float(dynrnn.error_surface_wall(5.0, (-5.0, 0.0), activation="logistic").b), 4) == -2.6123


def test_wall_against_dense_scan_where_grids_resolve_it():
    # below w ~ 4.9 the peak is wider than a 20001-point scan spacing: the naive scan sees it
    w = np.array([3.0, 4.0, 4.3, 4.6])
    wall = dynrnn.error_surface_wall(w, (-5.0, 0.0), tol=1e-12, activation="logistic")
    for i, wi in enumerate(w):
        b_ref, peak_ref = naive.error_surface_wall(wi, -5.0, 0.0)
        # a smooth maximum pins b only to ~sqrt(eps) of its curvature scale
        assert abs(wall.b[i] - b_ref) < 1e-6, (wi, wall.b[i], b_ref)
        np.testing.assert_allclose(wall.peak[i], peak_ref, rtol=1e-9, atol=0)
    assert not wall.unstable[:2].any() and wall.unstable[2:].all()


def test_grid_argmax_misses_the_wall_that_the_search_finds():
    # the reason for the zooming search: at w = 8 no plotting grid comes near the peak
    grid = dynrnn.error_surface(8.0, np.linspace(-5.0, 0.0, 100_001), activation="logistic")
    wall = dynrnn.error_surface_wall(8.0, (-5.0, 0.0), n_grid=11, activation="logistic")
    assert np.abs(grid.dE_db).max() < 1e-6 * wall.peak
    assert abs(float(wall.b) + 4.47967) < 1e-5


@pytest.mark.parametrize("w", [5.0, 6.0, 7.0])
def test_curvature_explodes_with_the_gradient(w):
    # Sec. 2.3: on the wall the second derivative explodes with the first; the largest
    # curvature across the wall reaches about peak * S (measured factor 1.2 .. 2.3 here)
    wall = dynrnn.error_surface_wall(w, (-5.0, 0.0), activation="logistic")
    S = wall_sum(w)
    across = dynrnn.error_surface(w, wall.b + np.linspace(-3.0, 3.0, 601) / S, activation="logistic")
    far = dynrnn.error_surface(w, wall.line_b + np.array([-0.5, 0.5]), activation="logistic")
    assert across.hessian_max_eig.max() > float(wall.peak) * S
    assert np.abs(far.hessian_max_eig).max() < 0.1 and np.abs(far.dE_db).max() < 1.0


def test_wall_outside_b_range_and_stable_weights():
    # w = 9: the line b = -5.10 is outside [-5, 0]; w = -2: no wall at all; the search still
    # returns the largest |dE/db| in range, which the naive scan confirms
    wall = dynrnn.error_surface_wall([9.0, -2.0], (-5.0, 0.0), activation="logistic")
    assert wall.unstable.tolist() == [True, False]
    for i, wi in enumerate((9.0, -2.0)):
        b_ref, peak_ref = naive.error_surface_wall(wi, -5.0, 0.0, n_scan=2001)
        np.testing.assert_allclose(wall.peak[i], peak_ref, rtol=1e-9, atol=0)
        assert abs(wall.b[i] - b_ref) < 1e-6


def test_unresolvable_wall_is_flagged():
    # at w = 9.5 the wall is ~1e-17 wide: no float64 b can sample it
    wall = dynrnn.error_surface_wall([5.0, 9.5], (-7.0, 0.0), activation="logistic")
    assert wall.converged.tolist() == [True, False]
    assert abs(wall.offset[1]) < 1e-13 and np.isfinite(wall.peak).all()


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@given(
    w=arrays(np.float64, st.integers(1, 8), elements=finite(-8.0, 8.0)),
    b=finite(-5.0, 5.0),
    x0=finite(-3.0, 3.0),
    n_steps=st.integers(1, 30),
    target=finite(0.0, 1.0),
)
def test_logistic_error_bounded_and_finite(w, b, x0, n_steps, target):
    res = dynrnn.error_surface(w, b, x0=x0, n_steps=n_steps, target=target, activation="logistic")
    assert res.E.shape == res.dE_db.shape == res.hessian_max_eig.shape == w.shape
    assert not res.diverged.any() and np.isfinite(res.dE_db).all()
    assert np.all(res.E >= 0.0) and np.all(res.E <= max(target, 1.0 - target) ** 2)
    np.testing.assert_allclose(res.E, (naive.sigma("logistic", res.x) - target) ** 2, rtol=1e-12, atol=1e-15)
    # w > 0: x_T increases with b (x_b >= 1), so dE/db has the sign of sigma(x_T) - target
    pos = (w > 0) & (np.abs(res.dE_db) > 1e-300) & (np.abs(naive.sigma("logistic", res.x) - target) > 1e-12)
    np.testing.assert_array_equal(np.sign(res.dE_db[pos]), np.sign(naive.sigma("logistic", res.x[pos]) - target))


@given(
    w=arrays(np.float64, (3, 1), elements=finite(-6.0, 6.0)),
    b=arrays(np.float64, (1, 5), elements=finite(-4.0, 2.0)),
    name=st.sampled_from(["logistic", "tanh"]),
)
def test_grid_rows_equal_pointwise_calls(w, b, name):
    grid = dynrnn.error_surface(w, b, n_steps=12, activation=name)
    assert grid.E.shape == (3, 5)
    for i in range(3):
        for j in range(5):
            point = dynrnn.error_surface(w[i, 0], b[0, j], n_steps=12, activation=name)
            # the grid runs the SIMD loop body, a single point its scalar remainder: fused
            # multiply-adds may round differently (amplified at most (6/4)^12 ~ 130-fold)
            for field in ("E", "dE_dw", "dE_db", "x"):
                np.testing.assert_allclose(getattr(point, field), getattr(grid, field)[i, j], rtol=1e-11, atol=1e-14)
            scale = 1e-11 * np.abs(grid.hessian_max_eig).max()  # an eigenvalue is accurate to eps ||H||
            np.testing.assert_allclose(point.hessian_max_eig, grid.hessian_max_eig[i, j], rtol=1e-11, atol=scale)


def test_float32_matches_float64_at_benign_points(rng):
    w = rng.uniform(-3.0, 3.0, 50)
    b = rng.uniform(-2.0, 2.0, 50)
    for x0 in (0.5, -1.5):  # logistic only: each dtype and activation is one more compile
        r64 = dynrnn.error_surface(w, b, x0=x0, n_steps=20, activation="logistic")
        r32 = dynrnn.error_surface(
            w.astype(np.float32), b.astype(np.float32), x0=x0, n_steps=20, dtype=np.float32, activation="logistic"
        )
        assert r32.E.dtype == r32.hessian_max_eig.dtype == np.float32 and not r32.diverged.any()
        scale = np.abs(r64.hessian_max_eig).max()
        np.testing.assert_allclose(r32.x, r64.x, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r32.E, r64.E, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r32.dE_dw, r64.dE_dw, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r32.dE_db, r64.dE_db, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(r32.hessian_max_eig, r64.hessian_max_eig, rtol=1e-4, atol=1e-5 * scale)


def test_overflow_is_flagged_not_raised():
    # linear sigma with gain 3: x_t grows like 3^t and its derivatives faster; 3^700 overflows float64
    res = dynrnn.error_surface([0.5, 3.0], 0.1, n_steps=700, activation="linear")
    assert res.diverged.tolist() == [False, True] and res.n_diverged == 1
    assert np.isfinite(res.E[0]) and not np.isfinite(res.hessian_max_eig[1])
    wall = dynrnn.error_surface_wall([0.5, 3.0], (-1.0, 1.0), n_steps=700, activation="linear", n_grid=5)
    assert wall.peak[1] == np.inf and np.isfinite(wall.peak[0])


def test_relu_surface_matches_reverse_mode(rng):
    w = rng.uniform(-1.5, 1.5, 30)
    b = rng.uniform(-1.0, 1.0, 30)
    res = dynrnn.error_surface(w, b, x0=0.7, n_steps=15, activation="relu")
    E, dE_dw, dE_db, _ = naive.error_surface(w, b, 0.7, 15, 0.7, "relu")
    np.testing.assert_allclose(res.E, E, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.dE_dw, dE_dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.dE_db, dE_db, rtol=1e-10, atol=1e-12)
    # piecewise linear: x_T is linear in b on each piece, so H_bb = 0 and lambda_max >= 0
    assert np.all(res.hessian_max_eig >= -1e-12)


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_backends_agree(backend, name, monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)
    w, b = np.meshgrid(np.linspace(-2.0, 4.0, 3), np.linspace(-3.0, 1.0, 5), indexing="ij")  # 15 points
    ref = dynrnn.error_surface(w, b, x0=0.3, n_steps=9, activation=name)
    res = dynrnn.error_surface(w, b, x0=0.3, n_steps=9, activation=name, backend=backend)
    for field in ("E", "dE_dw", "dE_db", "hessian_max_eig", "x"):
        np.testing.assert_allclose(getattr(res, field), getattr(ref, field), rtol=CUDA_RTOL, atol=CUDA_ATOL)


def test_wall_backends_agree(backend, monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)
    kw = {"n_steps": 12, "n_grid": 7, "tol": 1e-6, "activation": "logistic"}
    ref = dynrnn.error_surface_wall([4.8], (-4.0, 0.0), **kw)
    res = dynrnn.error_surface_wall([4.8], (-4.0, 0.0), backend=backend, **kw)
    np.testing.assert_allclose(res.b, ref.b, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.peak, ref.peak, rtol=1e-9, atol=0)


# ---------------------------------------------------------------------------
# Results, inputs, errors
# ---------------------------------------------------------------------------
def test_results_are_read_only_and_inputs_untouched():
    w = np.array([[4.0, 5.0]])
    b = np.array([[-2.5], [-2.6], [-2.7]])
    x0 = np.array([0.5, 0.4])
    copies = [a.copy() for a in (w, b, x0)]
    res = dynrnn.error_surface(w, b, x0=x0, activation="logistic")
    wall = dynrnn.error_surface_wall(w[0], np.array([-5.0, 0.0]), activation="logistic")
    for a, c in zip((w, b, x0), copies, strict=True):
        np.testing.assert_array_equal(a, c)
        assert a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        res.E[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        wall.b[0] = 1.0
    assert res.E.shape == (3, 2) and res.x0.shape == (2,) and res.grad.shape == (3, 2, 2)
    np.testing.assert_allclose(res.grad_norm, np.hypot(res.dE_dw, res.dE_db), rtol=0, atol=0)
    assert (res.n_steps, res.target, res.activation) == (50, 0.7, "logistic")
    assert "E=<float64 array (3, 2)>" in repr(res) and "b=<float64 array (2,)>" in repr(wall)
    np.testing.assert_allclose(wall.line_b, 0.5 - SIGMA_HALF * w[0], rtol=1e-15, atol=0)
    assert wall.sigma_x0 == pytest.approx(SIGMA_HALF, rel=1e-15)
    assert wall.dsigma_x0 == pytest.approx(DSIGMA_HALF, rel=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"w": np.nan}, ValueError, "w must be finite"),
        ({"b": [0.0, np.inf]}, ValueError, "b must be finite"),
        ({"x0": np.nan}, ValueError, "x0 must be finite"),
        ({"w": 1j}, TypeError, "w must be real"),
        ({"b": "a"}, TypeError, "b must be a real-valued"),
        ({"w": np.ones(3), "b": np.ones(2)}, ValueError, "w, b and x0 must broadcast"),
        ({"w": np.ones(0)}, ValueError, "at least one grid point"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_steps": 2.0}, TypeError, "n_steps"),
        ({"target": np.nan}, ValueError, "target must be finite"),
        ({"target": [0.1, 0.2]}, ValueError, "target must be a scalar"),
        ({"target": "x"}, TypeError, "target"),
        ({"activation": "sigmoid"}, ValueError, "activation"),
        ({"backend": "gpu"}, ValueError, "backend"),
        ({"dtype": np.int64}, ValueError, "dtype"),
        ({"dtype": "nonsense"}, TypeError, "dtype"),
    ],
)
def test_error_surface_rejects_bad_input(kwargs, error, match):
    args = {"w": 5.0, "b": -2.5, **kwargs}
    with pytest.raises(error, match=match):
        dynrnn.error_surface(args.pop("w"), args.pop("b"), **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"w": [5.0, np.nan]}, ValueError, "w must be finite"),
        ({"w": []}, ValueError, "w must have at least one value"),
        ({"b_range": (0.0, -5.0)}, ValueError, "b_range must have low < high"),
        ({"b_range": (1.0, 1.0)}, ValueError, "b_range must have low < high"),
        ({"b_range": (-5.0, 0.0, 1.0)}, ValueError, r"b_range must have shape \(2,\)"),
        ({"b_range": (-np.inf, 0.0)}, ValueError, "b_range must be finite"),
        ({"b_range": ("a", "b")}, TypeError, "b_range"),
        ({"x0": [0.5, 0.6]}, ValueError, "x0 must be a scalar"),
        ({"target": np.nan}, ValueError, "target must be finite"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_grid": 2}, ValueError, "n_grid"),
        ({"n_grid": 10.0}, TypeError, "n_grid"),
        ({"tol": 0.0}, ValueError, "tol must be positive"),
        ({"tol": np.inf}, ValueError, "tol must be finite"),
        ({"activation": "softplus"}, ValueError, "activation"),
        ({"backend": "tpu"}, ValueError, "backend"),
    ],
)
def test_error_surface_wall_rejects_bad_input(kwargs, error, match):
    args = {"w": [5.0], "b_range": (-5.0, 0.0), **kwargs}
    with pytest.raises(error, match=match):
        dynrnn.error_surface_wall(args.pop("w"), args.pop("b_range"), **args)
