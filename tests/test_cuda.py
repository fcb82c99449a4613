"""CUDA kernels against the CPU kernels and the naive reference.

Runs on a GPU or on Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1`` set in
the shell before Python starts); skipped otherwise.  ``THREADS_PER_BLOCK`` is
patched to 4 and grid sizes are not multiples of 4, so that several blocks
and the bounds checks run.  The simulator is slow: sizes stay tiny.
"""

import naive
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL, CUDA_USABLE, SKIP_REASON
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn import _config
from dynrnn.single_unit import iterate_tangents

if not CUDA_USABLE:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = pytest.mark.cuda

ACTS = dynrnn.ACTIVATIONS
FORMS = dynrnn.FORMS
RTOL, ATOL = CUDA_RTOL, CUDA_ATOL
# CPU vs naive, <= 50 steps, non-chaotic
RTOL_NAIVE, ATOL_NAIVE = 1e-10, 1e-12
# float32 on both sides, rounded in different orders (and the simulator
# evaluates math functions in double): the float32 tolerance
RTOL32, ATOL32 = 1e-4, 1e-5


# On the simulator each CUDA thread runs as Python with NumPy scalars, which
# warn on overflow (turned into errors by pytest's filterwarnings = error);
# a GPU does not.  Divergence tests ignore exactly these warnings.
ignore_overflow_warnings = pytest.mark.filterwarnings("ignore:.*encountered in scalar:RuntimeWarning")


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)


def assert_same_orbits(a, b, rtol, atol):
    assert a.x.shape == b.x.shape
    assert a.x.dtype == b.x.dtype
    assert_allclose(a.x, b.x, rtol=rtol, atol=atol, equal_nan=True)
    assert_array_equal(a.diverged, b.diverged)
    assert_array_equal(a.diverged_at, b.diverged_at)


def both(*args, **kw):
    """iterate_grid on the GPU and on the CPU."""
    return dynrnn.iterate_grid(*args, backend="cuda", **kw), dynrnn.iterate_grid(*args, backend="cpu", **kw)


def test_threads_per_block_is_patched():
    from dynrnn._kernels import cuda as kernels

    assert kernels._launch_config(11) == (3, 4)
    assert kernels._launch_config(4) == (1, 4)


def _problem(rng, G, n, weight=1.2):
    W_rec = rng.uniform(-weight / n, weight / n, (G, n, n))
    return W_rec, rng.uniform(-2.0, 2.0, (G, n)), rng.uniform(-3.0, 3.0, (G, n))


# ---------------------------------------------------------------------------
# n-unit grids
# ---------------------------------------------------------------------------
# every activation, both forms, both leak settings, in 8 cases
CASES = [(a, f, leaky) for i, a in enumerate(ACTS) for f, leaky in ((FORMS[i % 2], False), (FORMS[(i + 1) % 2], True))]


@pytest.mark.parametrize(("activation", "form", "leaky"), CASES)
def test_grid_matches_cpu_and_naive(activation, form, leaky, rng):
    G, n, T = (11, 3, 20) if leaky else (7, 2, 15)
    W_rec, b, x0 = _problem(rng, G, n)
    leak = rng.uniform(0.0, 1.0, (G, n)) if leaky else None
    gpu, cpu = both(W_rec, b, x0, n_steps=T, activation=activation, form=form, leak=leak, n_keep=5)
    assert_same_orbits(gpu, cpu, RTOL, ATOL)
    x, diverged, diverged_at = naive.iterate_grid(W_rec, b, x0, T, activation, form, leak, 5)
    assert_allclose(gpu.x, x, rtol=RTOL_NAIVE, atol=ATOL_NAIVE)
    assert_array_equal(gpu.diverged_at, diverged_at)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_shared_parameters_broadcast(activation, rng):
    W_rec, b, x0 = _problem(rng, 7, 3)
    shared = dynrnn.iterate_grid(
        W_rec[0], b, x0[0], n_steps=12, activation=activation, leak=0.25, n_keep=3, backend="cuda"
    )
    explicit = dynrnn.iterate_grid(
        np.repeat(W_rec[:1], 7, axis=0),
        b,
        np.repeat(x0[:1], 7, axis=0),
        n_steps=12,
        activation=activation,
        leak=np.full((7, 3), 0.25),
        n_keep=3,
        backend="cuda",
    )
    assert_same_orbits(shared, explicit, 0.0, 0.0)
    _, cpu = both(W_rec[0], b, x0[0], n_steps=12, activation=activation, leak=0.25, n_keep=3)
    assert_same_orbits(shared, cpu, RTOL, ATOL)


@pytest.mark.parametrize("n_keep", [1, 2, 9])
def test_n_keep(n_keep, rng):
    W_rec, b, x0 = _problem(rng, 11, 2)
    gpu, cpu = both(W_rec, b, x0, n_steps=8, activation="logistic", form="standard", n_keep=n_keep)
    assert gpu.x.shape == (11, n_keep, 2)
    assert_same_orbits(gpu, cpu, RTOL, ATOL)
    if n_keep == 9:
        assert_allclose(gpu.x[:, 0], x0, rtol=0, atol=0)


def test_rows_equal_iterate(rng):
    W_rec, b, x0 = _problem(rng, 7, 3)
    res = dynrnn.iterate_grid(W_rec, b, x0, n_steps=10, activation="tanh", n_keep=11, backend="cuda")
    for g in range(7):
        traj = dynrnn.iterate(dynrnn.RNN(W_rec[g], b=b[g], activation="tanh"), x0[g], n_steps=10)
        assert_allclose(res.x[g], traj, rtol=RTOL, atol=ATOL)


@ignore_overflow_warnings
@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("form", FORMS)
def test_divergence(activation, form, rng):
    G, n, T = 7, 2, 12
    gain = 10.0 ** rng.integers(40, 200, G)
    W_rec = gain[:, None, None] * rng.uniform(0.5, 1.0, (G, n, n))
    W_rec[::3] = 0.5 * np.eye(n)  # some orbits stay finite
    x0 = rng.uniform(0.5, 3.0, (G, n))
    b = rng.uniform(-1.0, 1.0, (G, n))
    gpu, cpu = both(W_rec, b, x0, n_steps=T, activation=activation, form=form, n_keep=T + 1)
    assert gpu.diverged.any() and not gpu.diverged.all()
    assert_same_orbits(gpu, cpu, RTOL, ATOL)
    x, diverged, diverged_at = naive.iterate_grid(W_rec, b, x0, T, activation, form, None, T + 1)
    assert_allclose(gpu.x, x, rtol=RTOL_NAIVE, atol=ATOL_NAIVE, equal_nan=True)
    assert_array_equal(gpu.diverged_at, diverged_at)
    for g in np.flatnonzero(gpu.diverged):
        assert np.all(np.isnan(gpu.x[g, gpu.diverged_at[g] + 1 :]))


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_float32(activation, rng):
    W_rec, b, x0 = _problem(rng, 11, 3, weight=0.9)
    gpu, cpu = both(W_rec, b, x0, n_steps=8, activation=activation, n_keep=3, dtype=np.float32)
    assert gpu.x.dtype == np.float32
    assert_same_orbits(gpu, cpu, RTOL32, ATOL32)
    x, _, _ = naive.iterate_grid(W_rec, b, x0, 8, activation, "paper", None, 3)
    assert_allclose(gpu.x, x, rtol=RTOL32, atol=ATOL32)


@ignore_overflow_warnings
def test_float32_divergence():
    # float32 overflows above 3.4e38: 1e20**t is inf at t = 2
    gpu, cpu = both(
        np.array([1e20, 0.5, 1e20]), np.zeros(3), np.ones(3), n_steps=6, activation="linear", n_keep=7, dtype=np.float32
    )
    assert_same_orbits(gpu, cpu, RTOL32, ATOL32)
    assert_array_equal(gpu.diverged_at, [2, -1, 2])


# ---------------------------------------------------------------------------
# Single-unit grids
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("activation", "form", "leaky"), CASES)
def test_single_unit_matches_cpu(activation, form, leaky, rng):
    G, T = (11, 20) if leaky else (7, 15)
    w, b, x0 = rng.uniform(-3.0, 3.0, G), rng.uniform(-2.0, 2.0, G), rng.uniform(-3.0, 3.0, G)
    leak = None
    if leaky:
        leak = rng.uniform(0.0, 1.0, G)
        leak[:3] = [0.0, 1.0, 0.5]
    gpu, cpu = both(w, b, x0, n_steps=T, activation=activation, form=form, leak=leak, n_keep=4)
    assert gpu.x.shape == (G, 4, 1)
    assert_same_orbits(gpu, cpu, RTOL, ATOL)


@ignore_overflow_warnings
@pytest.mark.parametrize("activation", ["linear", "relu"])
def test_single_unit_divergence(activation):
    w = np.array([1e100, 0.5, -1e100, 1e100, 2.0, 1e150, 0.9])
    gpu, cpu = both(w, np.zeros(7), np.ones(7), n_steps=10, activation=activation, n_keep=11)
    assert_same_orbits(gpu, cpu, RTOL, ATOL)
    assert gpu.diverged_at[0] == 4
    assert not gpu.diverged[1]


def test_single_unit_float32(rng):
    w, b, x0 = rng.uniform(-0.9, 0.9, 7), rng.uniform(-2.0, 2.0, 7), rng.uniform(-3.0, 3.0, 7)
    gpu, cpu = both(w, b, x0, n_steps=8, activation="tanh", n_keep=2, dtype=np.float32)
    assert gpu.x.dtype == np.float32
    assert_same_orbits(gpu, cpu, RTOL32, ATOL32)


def test_bistable_unit():
    x0 = np.array([-3.0, -1e-6, 0.0, 1e-6, 3.0])
    res = dynrnn.iterate_grid(np.full(5, 5.0), np.full(5, -2.5), x0, n_steps=200, activation="logistic", backend="cuda")
    assert_allclose(res.x[:, 0, 0], [-1.77603, -1.77603, 0.0, 1.77603, 1.77603], rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------
# Tangents
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTS)
def test_tangents_match_cpu(activation, rng):
    lim = 0.95 / naive.gamma(activation)
    w, b, x0 = rng.uniform(-lim, lim, 11), rng.uniform(-2.0, 2.0, 11), rng.uniform(-3.0, 3.0, 11)
    gpu = iterate_tangents(w, b, x0, n_steps=20, activation=activation, backend="cuda")
    cpu = iterate_tangents(w, b, x0, n_steps=20, activation=activation, backend="cpu")
    for field in ("x", "dx_dw", "dx_db", "diverged"):
        assert_allclose(getattr(gpu, field), getattr(cpu, field), rtol=RTOL, atol=ATOL, err_msg=field)
    x, dx_dw, dx_db = naive.iterate_tangents(w, b, x0, 20, activation)
    assert_allclose(gpu.dx_dw, dx_dw, rtol=RTOL_NAIVE, atol=ATOL_NAIVE)
    assert_allclose(gpu.dx_db, dx_db, rtol=RTOL_NAIVE, atol=ATOL_NAIVE)


def test_tangents_broadcast(rng):
    w = rng.uniform(-6.0, 6.0, (5, 1))
    b = rng.uniform(-3.0, -2.0, 3)  # 15 grid points
    gpu = iterate_tangents(w, b, 0.5, n_steps=12, activation="logistic", backend="cuda")
    cpu = iterate_tangents(w, b, 0.5, n_steps=12, activation="logistic", backend="cpu")
    assert gpu.x.shape == (5, 3)
    for field in ("x", "dx_dw", "dx_db", "diverged"):
        assert_allclose(getattr(gpu, field), getattr(cpu, field), rtol=RTOL, atol=ATOL, err_msg=field)


@ignore_overflow_warnings
def test_tangents_divergence():
    w = np.array([1e100, 0.5, 1e100, -0.3, 2.0])
    gpu = iterate_tangents(w, np.zeros(5), np.ones(5), n_steps=10, activation="linear", backend="cuda")
    cpu = iterate_tangents(w, np.zeros(5), np.ones(5), n_steps=10, activation="linear", backend="cpu")
    assert_array_equal(gpu.diverged, [True, False, True, False, False])
    assert_array_equal(gpu.diverged, cpu.diverged)
    ok = ~gpu.diverged
    for field in ("x", "dx_dw", "dx_db"):
        assert_allclose(getattr(gpu, field)[ok], getattr(cpu, field)[ok], rtol=RTOL, atol=ATOL, err_msg=field)


def test_tangents_float32(rng):
    w, b = rng.uniform(-3.0, 3.0, 7), rng.uniform(-2.0, 2.0, 7)
    gpu = iterate_tangents(w, b, 0.5, n_steps=6, backend="cuda", dtype=np.float32, activation="logistic")
    ref = naive.iterate_tangents(w, b, 0.5, 6)
    assert gpu.x.dtype == np.float32
    for got, want in zip((gpu.x, gpu.dx_dw, gpu.dx_db), ref, strict=True):
        assert_allclose(got, want, rtol=RTOL32, atol=ATOL32)


# ---------------------------------------------------------------------------
# Inputs are never modified
# ---------------------------------------------------------------------------
def test_inputs_are_never_modified(rng):
    W_rec, b, x0 = _problem(rng, 5, 2)
    leak = rng.uniform(size=(5, 2))
    w, b1, x01 = rng.normal(size=5), rng.normal(size=5), rng.normal(size=5)
    arrays = (W_rec, b, x0, leak, w, b1, x01)
    copies = [a.copy() for a in arrays]
    dynrnn.iterate_grid(W_rec, b, x0, n_steps=4, activation="tanh", leak=leak, backend="cuda")
    dynrnn.iterate_grid(w, b1, x01, n_steps=4, activation="tanh", leak=leak[:, 0].copy(), backend="cuda")
    iterate_tangents(w, b1, x01, n_steps=4, backend="cuda", activation="logistic")
    for a, c in zip(arrays, copies, strict=True):
        assert_array_equal(a, c)
