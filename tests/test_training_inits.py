"""Tests of dynrnn.training.inits: the sigmoid, basic_tanh and smart_tanh initializations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dynrnn
from dynrnn.training import inits
from dynrnn.training.inits import init_network

STDS = {"sigmoid": 0.01, "basic_tanh": 0.1, "smart_tanh": 0.01}
ACTIVATIONS = {"sigmoid": "logistic", "basic_tanh": "tanh", "smart_tanh": "tanh"}


def spectral_radius(W):
    return np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64))))


def assert_normal_sample(x, std, name):
    """Mean and standard deviation of a N(0, std^2) sample within 5 standard errors."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    assert abs(x.mean()) < 5 * std / np.sqrt(n), name
    assert abs(x.std() - std) < 5 * std / np.sqrt(2 * n), name


@pytest.mark.parametrize("name", sorted(inits.INITS))
def test_statistics_form_and_biases(name, rng):
    net = init_network(name, 60, 40, 30, rng=rng)
    assert isinstance(net, dynrnn.RNN)
    assert net.form == "standard" and net.activation == ACTIVATIONS[name] and net.leak is None
    assert net.W_rec.shape == (60, 60) and net.W_in.shape == (60, 40) and net.W_out.shape == (30, 60)
    assert net.dtype == np.float64
    np.testing.assert_array_equal(net.b, np.zeros(60))
    np.testing.assert_array_equal(net.b_out, np.zeros(30))
    assert_normal_sample(net.W_in, STDS[name], "W_in")
    assert_normal_sample(net.W_out, STDS[name], "W_out")
    if name != "smart_tanh":
        assert_normal_sample(net.W_rec, STDS[name], "W_rec")
        assert np.all(net.W_rec != 0)


@pytest.mark.parametrize(("connections", "axis"), [("incoming", 1), ("outgoing", 0)])
def test_smart_tanh_sparsity_and_spectral_radius(rng, connections, axis):
    net = init_network("smart_tanh", 40, 6, 4, rng=rng, connections=connections)
    counts = np.count_nonzero(net.W_rec, axis=axis)
    np.testing.assert_array_equal(counts, np.full(40, 15))
    assert np.count_nonzero(net.W_rec) == 40 * 15
    assert len(set(np.count_nonzero(net.W_rec, axis=1 - axis))) > 1  # the other direction is not fixed
    assert abs(spectral_radius(net.W_rec) - 0.95) < 1e-12


def test_smart_tanh_kept_weights_are_normal_before_rescaling():
    """The kept weights, divided by the common factor 0.95 / rho, are a N(0, 0.01^2) sample."""
    net = init_network("smart_tanh", 80, 2, 2, rng=11)
    kept = net.W_rec[net.W_rec != 0]
    # Recover the factor from the documented draw order: W_in, W_rec, W_out, mask.
    gen = np.random.default_rng(11)
    gen.normal(size=(80, 2))
    raw = gen.normal(0.0, 0.01, size=(80, 80))
    factor = kept / raw[net.W_rec != 0]
    np.testing.assert_allclose(factor, factor[0], rtol=1e-12, atol=0.0)
    assert_normal_sample(kept / factor[0], 0.01, "kept W_rec")


@pytest.mark.parametrize("connections", ["incoming", "outgoing"])
@pytest.mark.parametrize("n_units", [1, 2, 15])
def test_smart_tanh_small_networks_keep_every_weight(rng, n_units, connections):
    net = init_network("smart_tanh", n_units, 3, 2, rng=rng, connections=connections)
    assert np.all(net.W_rec != 0)
    assert abs(spectral_radius(net.W_rec) - 0.95) < 1e-12


@given(
    n_units=st.integers(1, 30), seed=st.integers(0, 2**32 - 1), connections=st.sampled_from(["incoming", "outgoing"])
)
def test_smart_tanh_property(n_units, seed, connections):
    net = init_network("smart_tanh", n_units, 1, 1, rng=seed, connections=connections)
    axis = 1 if connections == "incoming" else 0
    np.testing.assert_array_equal(np.count_nonzero(net.W_rec, axis=axis), np.full(n_units, min(n_units, 15)))
    assert abs(spectral_radius(net.W_rec) - 0.95) < 1e-12


@pytest.mark.parametrize("name", ["sigmoid", "basic_tanh"])
def test_draw_order(name):
    """W_in, then W_rec, then W_out, each one rng.normal call."""
    net = init_network(name, 4, 3, 2, rng=7)
    gen = np.random.default_rng(7)
    std = STDS[name]
    np.testing.assert_array_equal(net.W_in, gen.normal(0.0, std, size=(4, 3)))
    np.testing.assert_array_equal(net.W_rec, gen.normal(0.0, std, size=(4, 4)))
    np.testing.assert_array_equal(net.W_out, gen.normal(0.0, std, size=(2, 4)))


@pytest.mark.parametrize("name", sorted(inits.INITS))
def test_seeded_reproducibility(name):
    a = init_network(name, 20, 3, 2, rng=5)
    b = init_network(name, 20, 3, 2, rng=np.random.default_rng(5))
    c = init_network(name, 20, 3, 2, rng=6)
    for key in ("W_rec", "W_in", "W_out"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        assert not np.array_equal(getattr(a, key), getattr(c, key))


def test_generator_is_advanced(rng):
    first = init_network("basic_tanh", 3, 1, 1, rng=rng)
    second = init_network("basic_tanh", 3, 1, 1, rng=rng)
    assert not np.array_equal(first.W_rec, second.W_rec)


def test_float32(rng):
    net = init_network("smart_tanh", 20, 3, 2, rng=rng, dtype=np.float32)
    assert net.dtype == np.float32
    assert all(a.dtype == np.float32 for a in (net.W_rec, net.W_in, net.W_out, net.b, net.b_out))
    assert abs(spectral_radius(net.W_rec) - 0.95) < 1e-6  # float32 rounding of the entries
    np.testing.assert_array_equal(np.count_nonzero(net.W_rec, axis=1), np.full(20, 15))


# ----------------------------------------------------------------------------- bad input


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="name.*'sigmoid', 'basic_tanh', 'smart_tanh'.*'orthogonal'"):
        init_network("orthogonal", 3, 1, 1)
    with pytest.raises(ValueError, match="name"):
        init_network(None, 3, 1, 1)


@pytest.mark.parametrize("argument", ["n_units", "n_inputs", "n_outputs"])
def test_bad_sizes(argument):
    sizes = {"n_units": 3, "n_inputs": 2, "n_outputs": 1}
    with pytest.raises(ValueError, match=argument):
        init_network("sigmoid", **{**sizes, argument: 0})
    with pytest.raises(TypeError, match=argument):
        init_network("sigmoid", **{**sizes, argument: 2.0})
    with pytest.raises(TypeError, match=argument):
        init_network("sigmoid", **{**sizes, argument: True})


def test_bad_connections():
    with pytest.raises(ValueError, match="connections"):
        init_network("smart_tanh", 20, 1, 1, connections="rows")


def test_bad_rng_and_dtype():
    with pytest.raises(TypeError, match="rng"):
        init_network("sigmoid", 3, 1, 1, rng="seed")
    with pytest.raises(TypeError, match="rng"):
        init_network("sigmoid", 3, 1, 1, rng=1.5)
    with pytest.raises(ValueError, match="rng"):
        init_network("sigmoid", 3, 1, 1, rng=-1)
    with pytest.raises(ValueError, match="dtype"):
        init_network("sigmoid", 3, 1, 1, dtype=np.int64)
