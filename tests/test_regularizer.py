"""Tests of the Omega regularizer (eqs. 9-10): naive loops, frozen finite differences, skipping, known answers."""

import dataclasses

import naive_regularizer as nr
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dynrnn
from dynrnn.gradients.regularizer import vanishing_regularizer
from dynrnn.results.regularizer import RegularizerResult

KINDS = ("squared", "ratio")
REDUCES = ("mean", "sum")


def make_case(rng, *, n=3, m=2, T=4, B=3, form="paper", activation="tanh", leak=False, scale=0.8, dtype=np.float64):
    params = {
        "W_rec": rng.normal(0.0, scale, (n, n)),
        "W_in": rng.normal(0.0, 1.0, (n, m)),
        "b": rng.normal(0.0, 0.5, n),
        "leak": rng.uniform(0.1, 0.9, n) if leak else None,
    }
    net = dynrnn.RNN(params["W_rec"], params["W_in"], params["b"], activation=activation, form=form,
                     leak=params["leak"], dtype=dtype)  # fmt: skip
    x0 = rng.normal(0.0, 1.0, (B, n))
    inputs = rng.normal(0.0, 1.0, (T, B, m))
    targets = rng.normal(0.0, 1.0, (T, B, n))
    res = dynrnn.bptt(net, x0, inputs, targets, contributions=None)
    return net, params, inputs, res


def frozen(params, net, inputs, res):
    """sigma' held constant at the states of ``res`` (what eq. 10 freezes)."""
    U = inputs if inputs is not None and inputs.shape[2] else None
    return nr.frozen_dsigma(net.activation, net.form, np.asarray(res.x, dtype=np.float64), params["W_rec"],
                            params["W_in"], params["b"], U)  # fmt: skip


def with_dloss_dx(res, G):
    """A copy of ``res`` with other total derivatives dloss/dx (the states unchanged)."""
    return dataclasses.replace(res, dloss_dx=np.array(G))


def assert_close_to_fd(analytic, fd):
    # central differences with h = 1e-6: O(h^2) truncation plus ~1e-10 round-off
    scale = np.max(np.abs(fd))
    np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-6 * scale + 1e-10)


# ----------------------------------------------------------------------------- against the naive reference


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu", "linear"])
@pytest.mark.parametrize("form", ["paper", "standard"])
@pytest.mark.parametrize("leak", [False, True])
def test_matches_naive_and_frozen_finite_differences(rng, activation, form, leak):
    net, params, inputs, res = make_case(rng, form=form, activation=activation, leak=leak)
    S = frozen(params, net, inputs, res)
    G = np.asarray(res.dloss_dx)
    assert np.mean(np.sum(G[1:] ** 2, axis=-1) > 1e-12) > 0.5  # most terms kept: the comparison is not vacuous
    for kind in KINDS:
        for reduce in REDUCES:
            reg = vanishing_regularizer(net, res, inputs, form=kind, reduce=reduce)
            ratios, kept = nr.naive_terms(params["W_rec"], S, G, form, params["leak"], kind)
            np.testing.assert_array_equal(reg.valid, kept)
            np.testing.assert_allclose(reg.ratios, ratios, rtol=1e-12, atol=0)
            expected = nr.naive_omega(params["W_rec"], S, G, form, params["leak"], kind, reduce)
            assert expected > 1e-3
            np.testing.assert_allclose(reg.omega, expected, rtol=1e-12, atol=0)

            def omega_of(W, kind=kind, reduce=reduce):
                return nr.naive_omega(W, S, G, form, params["leak"], kind, reduce)

            fd = nr.central_difference_grad(omega_of, params["W_rec"])
            assert np.max(np.abs(fd)) > 1e-4
            assert_close_to_fd(reg.grad_W_rec, fd)


def test_mean_is_sum_divided_by_kept_fraction(rng):
    net, params, inputs, res = make_case(rng, T=5, B=4, activation="logistic", form="standard")
    mean = vanishing_regularizer(net, res, inputs, reduce="mean")
    total = vanishing_regularizer(net, res, inputs, reduce="sum")
    # all kept: mean = sum / T
    np.testing.assert_allclose(mean.omega, total.omega / 5, rtol=1e-13)
    np.testing.assert_allclose(mean.grad_W_rec, total.grad_W_rec / 5, rtol=1e-12, atol=1e-300)


# ----------------------------------------------------------------------------- skipping


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_skipped_terms_and_denominator(rng, form):
    T, B = 5, 3
    net, params, inputs, res = make_case(rng, T=T, B=B, form=form, leak=True)
    G = np.array(res.dloss_dx)
    G[2, 1] = 0.0  # term k = 1 of sequence 1
    G[4, :] = 0.0  # term k = 3 of every sequence
    G[5, 0] = 1e-11  # ||g||^2 = 3e-22 < 1e-20
    res2 = with_dloss_dx(res, G)
    skipped = np.zeros((T, B), dtype=bool)
    skipped[1, 1] = skipped[3, :] = skipped[4, 0] = True
    S = frozen(params, net, inputs, res)
    for kind in KINDS:
        mean = vanishing_regularizer(net, res2, inputs, form=kind)
        total = vanishing_regularizer(net, res2, inputs, form=kind, reduce="sum")
        np.testing.assert_array_equal(mean.valid, ~skipped)
        assert mean.n_valid == T * B - 5 and not mean.all_skipped
        assert np.all(np.isnan(mean.ratios[skipped])) and np.all(np.isfinite(mean.ratios[~skipped]))
        dev2 = (mean.ratios[~skipped] - 1.0) ** 2
        np.testing.assert_allclose(mean.omega, dev2.sum() / (T * B - 5), rtol=1e-13)  # kept terms only
        np.testing.assert_allclose(total.omega, dev2.sum() / B, rtol=1e-13)  # sum_k of the batch mean
        for reg in (mean, total):
            expected = nr.naive_omega(params["W_rec"], S, G, form, params["leak"], kind, reg.reduce)
            np.testing.assert_allclose(reg.omega, expected, rtol=1e-12)
            fd = nr.central_difference_grad(
                lambda W, r=reg: nr.naive_omega(W, S, G, form, params["leak"], r.form, r.reduce), params["W_rec"]
            )
            assert_close_to_fd(reg.grad_W_rec, fd)


def test_bound_moves_the_threshold(rng):
    net, params, inputs, res = make_case(rng, T=6, B=2)
    norm2 = np.sum(np.asarray(res.dloss_dx)[1:] ** 2, axis=-1)
    bound = float(np.median(norm2))
    reg = vanishing_regularizer(net, res, inputs, bound=bound)
    np.testing.assert_array_equal(reg.valid, norm2 >= bound)
    assert 0 < reg.n_valid < norm2.size
    zero = vanishing_regularizer(net, res, inputs, bound=0.0)
    assert zero.n_valid == norm2.size


@pytest.mark.parametrize("reduce", REDUCES)
def test_all_skipped_gives_zero_and_flag(rng, reduce):
    net, params, inputs, res = make_case(rng, form="standard")
    for res2, bound in ((with_dloss_dx(res, np.zeros(res.dloss_dx.shape)), 1e-20), (res, 1e300)):
        reg = vanishing_regularizer(net, res2, inputs, reduce=reduce, bound=bound)
        assert reg.all_skipped and reg.n_valid == 0 and not reg.valid.any()
        assert reg.omega == 0.0 and not reg.diverged
        np.testing.assert_array_equal(reg.grad_W_rec, np.zeros((3, 3)))
        assert np.all(np.isnan(reg.ratios))


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("form", ["paper", "standard"])
@pytest.mark.parametrize("kind", KINDS)
def test_orthogonal_linear_network_has_zero_omega(rng, form, kind):
    n, m, T, B = 5, 2, 7, 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    net = dynrnn.RNN(Q, rng.normal(size=(n, m)), rng.normal(size=n), activation="linear", form=form)
    inputs = rng.normal(size=(T, B, m))
    res = dynrnn.bptt(net, rng.normal(size=(B, n)), inputs, rng.normal(size=(T, B, n)), contributions=None)
    reg = vanishing_regularizer(net, res, inputs, form=kind)
    assert reg.n_valid == T * B
    np.testing.assert_allclose(reg.ratios, 1.0, rtol=0, atol=1e-14)
    assert reg.omega < 1e-28
    np.testing.assert_allclose(reg.grad_W_rec, 0.0, atol=1e-13)
    # while a scaled copy of the same matrix gives r = 0.81 or 0.9 everywhere
    scaled = dynrnn.RNN(0.9 * Q, net.W_in, net.b, activation="linear", form=form)
    reg = vanishing_regularizer(scaled, res, inputs, form=kind)
    np.testing.assert_allclose(reg.ratios, 0.81 if kind == "squared" else 0.9, rtol=1e-13)


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_one_linear_unit_by_hand(form):
    # J = alpha + (1 - alpha) w: r = J^2 (squared), Omega_k = (J^2 - 1)^2, dOmega/dw = 2 (J^2 - 1) 2 J (1 - alpha)
    w, alpha, T = 0.7, 0.25, 3
    net = dynrnn.RNN([[w]], [[0.0]], activation="linear", form=form, leak=alpha)
    inputs = np.zeros((T, 2, 1))
    res = dynrnn.bptt(net, [0.3], inputs, np.ones((T, 2, 1)), contributions=None)
    J = alpha + (1 - alpha) * w
    for kind, r, dr in (("squared", J * J, 2 * J), ("ratio", abs(J), np.sign(J))):
        reg = vanishing_regularizer(net, res, inputs, form=kind)
        np.testing.assert_allclose(reg.ratios, r, rtol=1e-14)
        np.testing.assert_allclose(reg.omega, (r - 1) ** 2, rtol=1e-13)
        np.testing.assert_allclose(reg.grad_W_rec, [[2 * (r - 1) * dr * (1 - alpha)]], rtol=1e-13)
        total = vanishing_regularizer(net, res, inputs, form=kind, reduce="sum")
        np.testing.assert_allclose(total.omega, T * (r - 1) ** 2, rtol=1e-13)


# ----------------------------------------------------------------------------- properties


@given(seed=st.integers(0, 2**32 - 1), factor=st.floats(1e-3, 1e3), form=st.sampled_from(["paper", "standard"]))
def test_ratio_form_and_scale_invariance(seed, factor, form):
    rng = np.random.default_rng(seed)
    net, params, inputs, res = make_case(rng, n=int(rng.integers(1, 5)), T=int(rng.integers(1, 5)), form=form,
                                         leak=bool(rng.integers(2)), activation="tanh")  # fmt: skip
    sq = vanishing_regularizer(net, res, inputs)
    ratio = vanishing_regularizer(net, res, inputs, form="ratio")
    np.testing.assert_allclose(ratio.ratios**2, sq.ratios, rtol=1e-12)
    assert sq.omega >= 0.0 and ratio.omega >= 0.0
    scaled = vanishing_regularizer(net, with_dloss_dx(res, factor * np.asarray(res.dloss_dx)), inputs)
    np.testing.assert_allclose(scaled.ratios, sq.ratios, rtol=1e-12)
    np.testing.assert_allclose(scaled.omega, sq.omega, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(scaled.grad_W_rec, sq.grad_W_rec, rtol=1e-10, atol=1e-12 * np.abs(sq.grad_W_rec).max())


def test_paper_form_ignores_inputs(rng):
    net, params, inputs, res = make_case(rng, form="paper")
    a = vanishing_regularizer(net, res, inputs)
    b = vanishing_regularizer(net, res)
    assert a.omega == b.omega
    np.testing.assert_array_equal(a.grad_W_rec, b.grad_W_rec)


def test_float32_agrees_with_float64(rng):
    net64, params, inputs, res64 = make_case(rng, form="standard", leak=True)
    net32 = dynrnn.RNN(params["W_rec"], params["W_in"], params["b"], form="standard", leak=params["leak"],
                       dtype=np.float32)  # fmt: skip
    # the states and dloss/dx in float32 (a float32 bptt would cost a second compile here)
    res32 = dataclasses.replace(res64, x=np.float32(res64.x), dloss_dx=np.float32(res64.dloss_dx))
    reg32 = vanishing_regularizer(net32, res32, inputs)
    reg64 = vanishing_regularizer(net64, res64, inputs)
    assert reg32.grad_W_rec.dtype == np.float32 and reg32.ratios.dtype == np.float32
    np.testing.assert_allclose(reg32.omega, reg64.omega, rtol=1e-4)
    np.testing.assert_allclose(
        reg32.grad_W_rec, reg64.grad_W_rec, rtol=1e-3, atol=1e-4 * np.abs(reg64.grad_W_rec).max()
    )


def test_diverged_input_is_flagged_not_raised(rng):
    net, params, inputs, res = make_case(rng)
    G = np.array(res.dloss_dx)
    G[2, 0, 1] = np.nan
    reg = vanishing_regularizer(net, with_dloss_dx(res, G), inputs)
    assert reg.diverged and np.isnan(reg.omega) and reg.valid[1, 0]
    assert not vanishing_regularizer(net, res, inputs).diverged


# ----------------------------------------------------------------------------- contract


def test_inputs_not_mutated_and_result_read_only(rng):
    net, params, inputs, res = make_case(rng, form="standard", leak=True)
    before = {"inputs": inputs.copy(), "x": np.array(res.x), "dloss_dx": np.array(res.dloss_dx),
              "W_rec": np.array(net.W_rec)}  # fmt: skip
    reg = vanishing_regularizer(net, res, inputs)
    np.testing.assert_array_equal(inputs, before["inputs"])
    np.testing.assert_array_equal(res.x, before["x"])
    np.testing.assert_array_equal(res.dloss_dx, before["dloss_dx"])
    np.testing.assert_array_equal(net.W_rec, before["W_rec"])
    assert isinstance(reg, RegularizerResult)
    for name in ("grad_W_rec", "ratios", "valid"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(reg, name)[...] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        reg.omega = 1.0
    assert isinstance(reg.omega, float) and isinstance(reg.n_valid, int)
    assert "RegularizerResult(omega=" in repr(reg) and "n_valid=12 of 12" in repr(reg)


def test_bad_input(rng):
    net, params, inputs, res = make_case(rng, form="standard")
    with pytest.raises(TypeError, match="net"):
        vanishing_regularizer("net", res, inputs)
    with pytest.raises(TypeError, match="result"):
        vanishing_regularizer(net, {"x": res.x}, inputs)
    with pytest.raises(ValueError, match="form"):
        vanishing_regularizer(net, res, inputs, form="norm")
    with pytest.raises(ValueError, match="reduce"):
        vanishing_regularizer(net, res, inputs, reduce="max")
    for bad in (-1e-20, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="bound"):
            vanishing_regularizer(net, res, inputs, bound=bad)
    for bad in ("1e-20", True, None):
        with pytest.raises(TypeError, match="bound"):
            vanishing_regularizer(net, res, inputs, bound=bad)
    no_states = dataclasses.replace(res, x=None, dloss_dx=None)  # what bptt(..., keep_states=False) returns
    with pytest.raises(ValueError, match="result.*keep_states=True"):
        vanishing_regularizer(net, no_states, inputs)
    bigger = dynrnn.RNN(np.eye(4), np.ones((4, 2)), form="standard")
    with pytest.raises(ValueError, match="result.*n = 4"):
        vanishing_regularizer(bigger, res, inputs)
    with pytest.raises(ValueError, match="inputs is required"):
        vanishing_regularizer(net, res)
    with pytest.raises(ValueError, match="inputs must have shape"):
        vanishing_regularizer(net, res, inputs[:-1])
    with pytest.raises(ValueError, match="inputs must be finite"):
        vanishing_regularizer(net, res, np.full(inputs.shape, np.nan))
    with pytest.raises(TypeError, match="inputs"):
        vanishing_regularizer(net, res, inputs + 0j)
