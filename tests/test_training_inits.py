"""Tests of dynrnn.training.inits: the paper's sigmoid, basic_tanh and smart_tanh, and irnn and orthogonal."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import dynrnn
from dynrnn.training import inits
from dynrnn.training.inits import init_network

STDS = {"sigmoid": 0.01, "basic_tanh": 0.1, "smart_tanh": 0.01, "irnn": 0.001, "orthogonal": 0.1}
ACTIVATIONS = {"sigmoid": "logistic", "basic_tanh": "tanh", "smart_tanh": "tanh", "irnn": "relu", "orthogonal": "tanh"}


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
    if name in ("sigmoid", "basic_tanh"):
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


# ----------------------------------------------------------------------------- irnn and orthogonal


def assert_ks_normal(x, std, name):
    """A Kolmogorov-Smirnov test of a N(0, std^2) sample at the 0.1 % level (fixed seeds: deterministic)."""
    result = stats.kstest(np.asarray(x, dtype=np.float64).ravel() / std, "norm")
    assert result.pvalue > 1e-3, (name, result)


@pytest.mark.parametrize("n_units", [1, 2, 7, 50])
def test_irnn_is_the_identity_with_small_gaussian_weights(n_units):
    net = init_network("irnn", n_units, 30, 20, rng=3)
    assert net.activation == "relu" and net.form == "standard" and net.leak is None
    np.testing.assert_array_equal(net.W_rec, np.eye(n_units))  # exactly I
    np.testing.assert_array_equal(net.b, np.zeros(n_units))
    np.testing.assert_array_equal(net.b_out, np.zeros(20))
    assert_ks_normal(net.W_in, inits.IRNN_STD, "W_in")
    assert_ks_normal(net.W_out, inits.IRNN_STD, "W_out")


def test_irnn_draw_order():
    """W_in, then W_out (nothing is drawn for W_rec = I)."""
    net = init_network("irnn", 4, 3, 2, rng=7)
    gen = np.random.default_rng(7)
    np.testing.assert_array_equal(net.W_in, gen.normal(0.0, 0.001, size=(4, 3)))
    np.testing.assert_array_equal(net.W_out, gen.normal(0.0, 0.001, size=(2, 4)))


@pytest.mark.parametrize("n_units", [1, 2, 3, 10, 64])
def test_orthogonal_is_orthogonal_with_unit_eigenvalues(n_units):
    net = init_network("orthogonal", n_units, 40, 30, rng=n_units)
    W = np.asarray(net.W_rec)
    assert net.activation == "tanh" and net.form == "standard" and net.leak is None
    np.testing.assert_allclose(W.T @ W, np.eye(n_units), rtol=0, atol=1e-12)
    np.testing.assert_allclose(W @ W.T, np.eye(n_units), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), 1.0, rtol=0, atol=1e-12)  # on the unit circle
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.0, rtol=0, atol=1e-12)
    assert_ks_normal(net.W_in, 0.1, "W_in")  # as basic_tanh
    assert_ks_normal(net.W_out, 0.1, "W_out")


def test_orthogonal_draw_order_and_sign_correction():
    """W_in, then a standard normal (n, n) draw whose QR factor, sign-corrected, is W_rec, then W_out."""
    net = init_network("orthogonal", 6, 3, 2, rng=11)
    gen = np.random.default_rng(11)
    np.testing.assert_array_equal(net.W_in, gen.normal(0.0, 0.1, size=(6, 3)))
    A = gen.normal(0.0, 1.0, size=(6, 6))
    np.testing.assert_array_equal(net.W_out, gen.normal(0.0, 0.1, size=(2, 6)))
    R = np.asarray(net.W_rec).T @ A  # W_rec^T A is upper triangular with a positive diagonal
    np.testing.assert_allclose(np.tril(R, -1), 0.0, rtol=0, atol=1e-12)
    assert np.all(np.diag(R) > 0)


def test_orthogonal_is_haar_distributed():
    """Haar measure: each entry of a random n x n orthogonal matrix is distributed as the first coordinate of a
    uniform point on the sphere S^{n-1}, so sqrt(n) W_ij -> N(0, 1) with E W_ij = 0, E W_ij^2 = 1/n; and the
    trace has mean 0 and variance 1 (Diaconis & Shahshahani 1994).  Without the sign correction the diagonal
    of NumPy's QR factor is biased (its sign follows LAPACK's convention)."""
    n, draws = 8, 4000
    gen = np.random.default_rng(2024)
    Ws = np.stack([init_network("orthogonal", n, 1, 1, rng=gen).W_rec for _ in range(draws)])
    diag = Ws[:, np.arange(n), np.arange(n)].ravel()
    off = Ws[:, 0, 1]
    for x in (diag, off):
        assert abs(x.mean()) < 4 * np.sqrt(1 / n / x.size)
        assert abs((x**2).mean() - 1 / n) < 4 * np.std(x**2) / np.sqrt(x.size)
    traces = np.trace(Ws, axis1=1, axis2=2)
    assert abs(traces.mean()) < 4 / np.sqrt(draws)
    assert abs(traces.var() - 1.0) < 0.15
    # The law of W_11 (x = first coordinate of a uniform point on S^7): (x + 1) / 2 ~ Beta(7/2, 7/2).
    assert stats.kstest((Ws[:, 0, 0] + 1) / 2, stats.beta((n - 1) / 2, (n - 1) / 2).cdf).pvalue > 1e-3


@pytest.mark.parametrize("name", ["irnn", "orthogonal"])
def test_new_inits_float32(name):
    a = init_network(name, 12, 3, 2, rng=4)
    b = init_network(name, 12, 3, 2, rng=4, dtype=np.float32)
    assert b.dtype == np.float32 and b.activation == a.activation
    assert all(x.dtype == np.float32 for x in (b.W_rec, b.W_in, b.W_out, b.b, b.b_out))
    for key in ("W_rec", "W_in", "W_out"):
        np.testing.assert_array_equal(getattr(b, key), np.asarray(getattr(a, key)).astype(np.float32))
    W = np.asarray(b.W_rec, dtype=np.float64)
    np.testing.assert_allclose(W.T @ W, np.eye(12), rtol=0, atol=1e-6)  # float32 rounding of the entries


def test_new_inits_reach_train():
    """dynrnn.train(init=...) draws the same network as init_network with the run's init stream."""
    from dynrnn.training.run import Run, train_config

    for name in ("irnn", "orthogonal"):
        args = dict(task="addition", init=name, method="MSGD-C", length=10, seed=5, n_units=6, batch_size=2, lr=0.01,
                    threshold=1.0, alpha=None, momentum=0.0, nesterov=False, omega_form="squared",
                    omega_reduce="mean", nonfinite=None, max_updates=1, eval_every=1, n_check=10, n_eval=10,
                    success_error=0.01, stop_on_success=True, task_options=None, connections="incoming",
                    dtype=np.float64)  # fmt: skip
        run = Run.new(train_config(args))
        rng_init = np.random.default_rng(np.random.SeedSequence(5).spawn(3)[0])
        net = init_network(name, 6, 2, 1, rng=rng_init)
        assert run.c["activation"] == net.activation
        np.testing.assert_array_equal(run.params[0], net.W_rec)
        np.testing.assert_array_equal(run.params[1], net.W_in)


@pytest.mark.parametrize("name", sorted(inits.INITS))
def test_seeded_reproducibility(name):
    a = init_network(name, 20, 3, 2, rng=5)
    b = init_network(name, 20, 3, 2, rng=np.random.default_rng(5))
    c = init_network(name, 20, 3, 2, rng=6)
    for key in ("W_rec", "W_in", "W_out"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        if not (name == "irnn" and key == "W_rec"):  # W_rec = I whatever the seed
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
    valid = "'sigmoid', 'basic_tanh', 'smart_tanh', 'irnn', 'orthogonal'"
    with pytest.raises(ValueError, match=f"name must be one of {valid}; got 'unitary'"):
        init_network("unitary", 3, 1, 1)
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
