"""Activations sigma, sigma' and gamma; the vectorisable exp of the CPU kernels."""

import dataclasses
import math

import naive
import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn import _config
from dynrnn._kernels import cpu

ACTS = dynrnn.ACTIVATIONS

# Arguments from the far tails to the kink: extreme values, a dense middle.
Z = np.concatenate(
    [
        [-800.0, -745.0, -709.0, -700.0, -100.0, -40.0, -20.0, -1e-300, -0.0, 0.0, 1e-300],
        np.linspace(-12.0, 12.0, 2401),
        [20.0, 40.0, 100.0, 700.0, 709.0, 745.0, 800.0],
    ]
)


def test_names():
    assert dynrnn.ACTIVATIONS == ("logistic", "tanh", "relu", "linear")
    assert naive.ACTIVATIONS == dynrnn.ACTIVATIONS


@pytest.mark.parametrize("name", ACTS)
def test_sigma_matches_naive(name):
    act = dynrnn.activation(name)
    # atol covers the subnormal tail of the logistic, where naive 1/(1+exp(-z)) flushes to 0
    assert_allclose(act.sigma(Z), naive.sigma(name, Z), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", ACTS)
def test_dsigma_matches_naive(name):
    act = dynrnn.activation(name)
    # atol: 1 - tanh(z)**2 cancels for large |z| (absolute error ~1e-16 in both)
    assert_allclose(act.dsigma(Z), naive.dsigma(name, Z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ACTS)
def test_dsigma_matches_central_differences(name):
    act = dynrnn.activation(name)
    z = np.linspace(-8.0, 8.0, 1601)
    z = z[np.abs(z) > 1e-3]  # away from the relu kink
    h = 1e-6
    fd = (act.sigma(z + h) - act.sigma(z - h)) / (2 * h)
    assert_allclose(act.dsigma(z), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTS)
def test_scalar_and_array_calls(name):
    act = dynrnn.activation(name)
    for z in (0.7, -1.3):
        assert_allclose(act.sigma(z), naive.sigma(name, z), rtol=1e-14, atol=0)
        assert_allclose(act.dsigma(z), naive.dsigma(name, z), rtol=1e-14, atol=0)
    z = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    assert act.sigma(z).shape == (3, 4)
    assert act.dsigma(z).shape == (3, 4)


def test_known_values():
    assert_allclose(dynrnn.activation("logistic").sigma(0.0), 0.5, rtol=0, atol=0)
    assert_allclose(dynrnn.activation("logistic").dsigma(0.0), 0.25, rtol=0, atol=0)
    assert_allclose(dynrnn.activation("tanh").dsigma(0.0), 1.0, rtol=0, atol=0)
    relu = dynrnn.activation("relu")
    assert_array_equal(relu.sigma([-2.0, 0.0, 3.0]), [0.0, 0.0, 3.0])
    assert_array_equal(relu.dsigma([-2.0, 0.0, 3.0]), [0.0, 0.0, 1.0])  # sigma'(0) = 0 by convention
    lin = dynrnn.activation("linear")
    assert_array_equal(lin.sigma([-2.0, 0.0, 3.0]), [-2.0, 0.0, 3.0])
    assert_array_equal(lin.dsigma([-2.0, 0.0, 3.0]), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ACTS)
def test_gamma_values(name):
    expected = {"logistic": 0.25, "tanh": 1.0, "relu": 1.0, "linear": 1.0}[name]
    assert dynrnn.gamma(name) == expected
    assert dynrnn.gamma(name) == naive.gamma(name)
    act = dynrnn.activation(name)
    assert act.gamma == expected
    assert act.name == name


@pytest.mark.parametrize("name", ACTS)
def test_gamma_bounds_dsigma(name):
    z = np.linspace(-50.0, 50.0, 200_001)  # contains z = 0, where the sup is attained
    d = np.abs(dynrnn.activation(name).dsigma(z))
    assert np.all(d <= dynrnn.gamma(name))
    assert_allclose(d.max(), dynrnn.gamma(name), rtol=1e-12, atol=0)


def test_activation_is_frozen():
    act = dynrnn.activation("tanh")
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.gamma = 2.0


@pytest.mark.parametrize("name", ACTS)
def test_nan_propagates(name):
    act = dynrnn.activation(name)
    z = np.array([np.nan, 1.0, np.nan])
    # errstate: the logistic and relu ufuncs raise the FE_INVALID flag on NaN
    # input (ordered comparisons), which NumPy reports as a RuntimeWarning;
    # reported to the lead, not what this test checks.
    with np.errstate(invalid="ignore"):
        s, d = act.sigma(z), act.dsigma(z)
    assert_array_equal(np.isnan(s), [True, False, True])
    assert_array_equal(np.isnan(d), [True, False, True])


@pytest.mark.parametrize(
    ("name", "sigma_inf", "sigma_minus_inf", "dsigma_inf"),
    [
        ("logistic", 1.0, 0.0, 0.0),
        ("tanh", 1.0, -1.0, 0.0),
        ("relu", np.inf, 0.0, None),
        ("linear", np.inf, -np.inf, 1.0),
    ],
)
def test_infinite_arguments(name, sigma_inf, sigma_minus_inf, dsigma_inf):
    act = dynrnn.activation(name)
    assert_array_equal(act.sigma([np.inf, -np.inf]), [sigma_inf, sigma_minus_inf])
    if name == "relu":
        assert_array_equal(act.dsigma([np.inf, -np.inf]), [1.0, 0.0])
    else:
        assert_array_equal(act.dsigma([np.inf, -np.inf]), [dsigma_inf, dsigma_inf])


def test_logistic_extreme_arguments():
    act = dynrnn.activation("logistic")
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is expected
        s = act.sigma(np.array([-800.0, 800.0]))
        d = act.dsigma(np.array([-800.0, 800.0]))
    assert_array_equal(s, [0.0, 1.0])
    assert_array_equal(d, [0.0, 0.0])
    # The lower tail keeps full relative accuracy (one exp of -|z|).
    z = np.array([-40.0, -100.0, -700.0])
    assert_allclose(act.sigma(z), np.exp(z) / (1.0 + np.exp(z)), rtol=1e-14, atol=0)
    assert_allclose(act.dsigma(z), np.exp(z) / (1.0 + np.exp(z)) ** 2, rtol=1e-14, atol=0)


@pytest.mark.parametrize("func", [dynrnn.activation, dynrnn.gamma])
@pytest.mark.parametrize("bad", ["sigmoid", "Tanh", "", None, 3])
def test_unknown_name(func, bad):
    with pytest.raises(ValueError, match="activation") as info:
        func(bad)
    for name in ACTS:
        assert repr(name) in str(info.value)


# ---------------------------------------------------------------------------
# The vectorisable exp used by the CPU kernels (scalar.exp).
# ---------------------------------------------------------------------------
TINY = np.finfo(np.float64).tiny  # smallest normal
SUBNORMAL_ULP = 5e-324


def _libm_exp(z):
    out = np.empty_like(z)
    for i, zi in enumerate(z):
        try:
            out[i] = math.exp(zi)
        except OverflowError:
            out[i] = math.inf
    return out


def _exp_arguments():
    edges = [
        -750.0,
        -746.0,
        -745.1332191019412,
        -745.1332191019411,
        -744.4400719213812,
        -740.0,
        -709.0,
        -708.3964185322641,
        -708.0000000000001,
        -708.0,
        -707.9999999999999,
        -1.0,
        -1e-300,
        -5e-324,
        -0.0,
        0.0,
        5e-324,
        1e-300,
        1.0,
        0.34657359027997264,  # ln2 / 2
        -0.34657359027997264,
        700.0,
        708.9999999999999,
        709.0,
        709.0000000000001,
        709.782712893384,
        709.7827128933841,
        709.79,
        710.0,
        715.0,
    ]
    edges += list(np.nextafter(np.array(edges[:-1]), np.inf))
    dense = np.linspace(-750.0, 715.0, 200_003)
    rng = np.random.default_rng(7)
    scattered = rng.uniform(-750.0, 715.0, 50_000)
    small = rng.uniform(-1.0, 1.0, 10_000)
    return np.concatenate([edges, dense, scattered, small])


_vector_exp_cache = {}


def _vector_exp():
    """A small njit loop around ``cpu._exp``, compiled like the kernels (so LLVM may vectorise it)."""
    if "f" not in _vector_exp_cache:
        exp = cpu._exp

        @njit(**_config.JIT_OPTIONS)
        def vexp(z, out):
            for i in range(z.shape[0]):
                out[i] = exp(z[i])

        _vector_exp_cache["f"] = vexp
    return _vector_exp_cache["f"]


def _check_exp(y, z):
    ref = _libm_exp(z)
    normal = np.isfinite(ref) & (ref >= TINY)
    # normal range: within 1 ulp (relative 2**-52 = 2.22e-16)
    assert_allclose(y[normal], ref[normal], rtol=2.3e-16, atol=0)
    # gradual underflow: within one subnormal ulp
    sub = (ref < TINY) & (ref > 0)
    assert_allclose(y[sub], ref[sub], rtol=0, atol=SUBNORMAL_ULP)
    # exact 0 and inf where libm gives them
    assert_array_equal(y[ref == 0.0], 0.0)
    assert_array_equal(y[ref == np.inf], np.inf)


def test_exp_scalar_matches_libm():
    z = _exp_arguments()[::7]  # the compiled scalar called from Python: fewer points
    y = np.array([cpu._exp(float(zi)) for zi in z])
    _check_exp(y, z)


def test_exp_vectorised_loop_matches_libm():
    z = _exp_arguments()
    y = np.empty_like(z)
    _vector_exp()(z, y)
    _check_exp(y, z)


def test_exp_special_values():
    z = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
    y = np.empty_like(z)
    _vector_exp()(z, y)
    assert_array_equal(y, [np.nan, np.inf, 0.0, 1.0, 1.0])
    assert math.isnan(cpu._exp(math.nan))
    assert cpu._exp(math.inf) == math.inf
    assert cpu._exp(-math.inf) == 0.0


@pytest.mark.parametrize("name", dynrnn.ACTIVATIONS)
def test_activation_table_second_derivative_and_range(name):
    """The one table of activation facts: sigma'' from (sigma, sigma') matches central differences of sigma'
    (issue 10), and sigma stays in the tabulated range."""
    from dynrnn._kernels.scalar import GAMMA, RANGE, make_second_derivative

    act = dynrnn.activation(name)
    z = np.array([-3.0, -0.7, -0.2, 0.3, 0.9, 2.5])  # away from relu's kink at 0
    h = 1e-6
    fd = (act.dsigma(z + h) - act.dsigma(z - h)) / (2 * h)
    np.testing.assert_allclose(make_second_derivative(name)(act.sigma(z), act.dsigma(z)), fd, rtol=1e-6, atol=1e-8)
    assert GAMMA[name] == dynrnn.gamma(name)
    if RANGE[name] is not None:
        low, high = RANGE[name]
        s = act.sigma(np.linspace(-30, 30, 101))
        assert low <= s.min() and s.max() <= high
