"""Tests of dynrnn.training.optim: SGD, momentum, simplified Nesterov momentum, schedules and clipping."""

import math

import naive_optim
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynrnn.training import optim
from dynrnn.training.optim import SGD, Constant, InverseTime

SHAPES = {"W_rec": (5, 5), "W_in": (5, 3), "b": (5,), "W_out": (2, 5), "b_out": (2,)}


def random_params(rng, scale=1.0):
    return {key: scale * rng.standard_normal(shape) for key, shape in SHAPES.items()}


def assert_dicts_close(actual, expected, rtol, atol):
    assert set(actual) == set(expected)
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], rtol=rtol, atol=atol, err_msg=key)


# ----------------------------------------------------------------------------- schedules


def test_constant_schedule():
    s = Constant(0.25)
    assert [s(t) for t in (0, 1, 1000)] == [0.25, 0.25, 0.25]


def test_inverse_time_schedule_matches_naive():
    s = InverseTime(0.3, tau=7.0)
    for t in (0, 1, 5, 7, 100, 10**6):
        assert s(t) == pytest.approx(naive_optim.inverse_time(0.3, 7.0, t), rel=1e-15, abs=0.0)
    assert s(7) == pytest.approx(0.15, rel=1e-15, abs=0.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_schedule_bad_value(bad):
    with pytest.raises(ValueError, match="value"):
        Constant(bad)
    with pytest.raises(ValueError, match="value"):
        InverseTime(bad, tau=1.0)


@pytest.mark.parametrize("bad", [0.0, -2.0, math.nan])
def test_schedule_bad_tau(bad):
    with pytest.raises(ValueError, match="tau"):
        InverseTime(0.1, tau=bad)


def test_schedule_bad_kind():
    with pytest.raises(TypeError, match="value"):
        Constant("0.1")
    with pytest.raises(TypeError, match="tau"):
        InverseTime(0.1, tau=None)
    with pytest.raises(ValueError, match="t"):
        InverseTime(0.1)(-1)
    with pytest.raises(TypeError, match="t"):
        Constant(0.1)(1.0)


# ----------------------------------------------------------------------------- updates against the naive reference

CONFIGS = [
    {"momentum": 0.0, "nesterov": False, "threshold": None, "schedule": None},
    {"momentum": 0.0, "nesterov": False, "threshold": 1.0, "schedule": None},
    {"momentum": 0.9, "nesterov": False, "threshold": None, "schedule": None},
    {"momentum": 0.9, "nesterov": True, "threshold": None, "schedule": None},
    {"momentum": 0.5, "nesterov": False, "threshold": 2.0, "schedule": 3.0},
    {"momentum": 0.7, "nesterov": True, "threshold": 2.0, "schedule": 3.0},
    {"momentum": 0.0, "nesterov": True, "threshold": None, "schedule": 1.0},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_steps_match_naive(rng, config):
    lr0, tau = 0.05, config["schedule"]
    lr = lr0 if tau is None else InverseTime(lr0, tau=tau)
    opt = SGD(lr=lr, momentum=config["momentum"], nesterov=config["nesterov"], threshold=config["threshold"])
    params = random_params(rng)
    state = opt.init(params)
    ref_params = {k: v.copy() for k, v in params.items()}
    ref_velocity = {k: np.zeros(v.shape) for k, v in params.items()}
    n_clipped = 0
    for t in range(6):
        grads = random_params(rng, scale=0.1 if t % 2 else 3.0)  # norms about 0.4 and 12: some clip, some not
        params, state, info = opt.step(params, grads, state, t)
        lr_t = lr0 if tau is None else naive_optim.inverse_time(lr0, tau, t)
        ref_params, ref_velocity, norm, clipped = naive_optim.sgd_step(
            ref_params, grads, ref_velocity, lr_t, config["momentum"], config["nesterov"], config["threshold"]
        )
        assert info.lr == pytest.approx(lr_t, rel=1e-15, abs=0.0)
        assert info.grad_norm == pytest.approx(norm, rel=1e-14, abs=0.0)
        assert info.clipped == clipped
        assert not info.skipped and not info.shrunk and not info.diverged
        n_clipped += clipped
        assert_dicts_close(params, ref_params, rtol=1e-14, atol=1e-15)
        assert_dicts_close(state, ref_velocity, rtol=1e-14, atol=1e-15)
    assert n_clipped == (3 if config["threshold"] is not None else 0)


def test_plain_sgd_update_is_exact(rng):
    params, grads = random_params(rng), random_params(rng)
    new, state, info = SGD(lr=0.125).step(params, grads, SGD(lr=0.125).init(params), 0)
    for key in params:
        np.testing.assert_array_equal(new[key], params[key] - 0.125 * grads[key])
    assert info.grad_norm == pytest.approx(naive_optim.global_norm(grads), rel=1e-14, abs=0.0)


def test_clipped_update_has_norm_lr_times_threshold(rng):
    params, grads = random_params(rng), random_params(rng, scale=100.0)
    opt = SGD(lr=0.1, threshold=0.5)
    new, _, info = opt.step(params, grads, opt.init(params), 0)
    assert info.clipped
    step = {key: new[key] - params[key] for key in params}
    assert naive_optim.global_norm(step) == pytest.approx(0.1 * 0.5, rel=1e-12, abs=0.0)


# ----------------------------------------------------------------------------- Nesterov equivalence and convergence


def _quadratic(rng, n):
    Q = rng.standard_normal((n, n))
    A = Q @ Q.T / n + 0.5 * np.eye(n)
    c = rng.standard_normal(n)
    return A, c


@given(
    mu=st.floats(0.0, 0.95),
    lr=st.floats(1e-3, 0.3),
    tau=st.one_of(st.none(), st.floats(0.5, 50.0)),
    seed=st.integers(0, 2**32 - 1),
)
def test_nesterov_equals_lookahead_nesterov_in_shifted_variable(mu, lr, tau, seed):
    """Theta_t = theta_t + mu v_t, where theta follows classical Nesterov with the look-ahead gradient."""
    rng = np.random.default_rng(seed)
    A, c = _quadratic(rng, 3)
    theta0 = rng.standard_normal(3)
    n_steps = 12
    lrs = [lr if tau is None else naive_optim.inverse_time(lr, tau, t) for t in range(n_steps)]
    thetas, vs = naive_optim.nesterov_lookahead(lambda x: A @ x - c, theta0, lrs, mu)
    opt = SGD(lr=lr if tau is None else InverseTime(lr, tau=tau), momentum=mu, nesterov=True)
    params = {"b": theta0.copy()}
    state = opt.init(params)
    for t in range(n_steps):
        params, state, _ = opt.step(params, {"b": A @ params["b"] - c}, state, t)
        np.testing.assert_allclose(state["b"], vs[t + 1], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(params["b"], thetas[t + 1] + mu * vs[t + 1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_converges_on_a_quadratic(rng, momentum, nesterov):
    A, c = _quadratic(rng, 4)
    x_star = np.linalg.solve(A, c)
    opt = SGD(lr=0.1, momentum=momentum, nesterov=nesterov, threshold=10.0)
    params = {"b": np.zeros(4)}
    state = opt.init(params)
    start = np.linalg.norm(x_star)
    for t in range(500):
        params, state, _ = opt.step(params, {"b": A @ params["b"] - c}, state, t)
    np.testing.assert_allclose(params["b"], x_star, rtol=0.0, atol=1e-8 * start)


# ----------------------------------------------------------------------------- non-finite gradients


def _nan_grads(rng):
    grads = random_params(rng)
    grads["W_in"][1, 2] = np.nan
    return grads


def test_nonfinite_raise(rng):
    params = random_params(rng)
    opt = SGD(lr=0.1, threshold=1.0)
    with pytest.raises(ValueError, match="grads"):
        opt.step(params, _nan_grads(rng), opt.init(params), 0)


@pytest.mark.parametrize("threshold", [None, 1.0])
def test_nonfinite_skip(rng, threshold):
    params = random_params(rng)
    opt = SGD(lr=0.1, threshold=threshold, nonfinite="skip")
    new, state, info = opt.step(params, _nan_grads(rng), opt.init(params), 0)
    assert info.skipped and info.diverged and not info.clipped
    assert_dicts_close(new, params, rtol=0.0, atol=0.0)
    assert_dicts_close(state, opt.init(params), rtol=0.0, atol=0.0)


@pytest.mark.parametrize("threshold", [None, 1.0])
def test_nonfinite_shrink_uses_params_W_rec(rng, threshold):
    params = random_params(rng)
    opt = SGD(lr=0.5, threshold=threshold, nonfinite="shrink")
    new, _, info = opt.step(params, _nan_grads(rng), opt.init(params), 0)
    assert info.shrunk
    np.testing.assert_allclose(new["W_rec"], params["W_rec"] * (1 - 0.5 * 0.02), rtol=1e-15, atol=0.0)
    for key in ("W_in", "b", "W_out", "b_out"):
        np.testing.assert_array_equal(new[key], params[key])


def test_nonfinite_shrink_needs_W_rec(rng):
    opt = SGD(lr=0.1, nonfinite="shrink")
    params = {"b": np.ones(2)}
    with pytest.raises(ValueError, match="params"):
        opt.step(params, {"b": np.ones(2)}, opt.init(params), 0)


def test_no_threshold_never_clips(rng):
    params, grads = random_params(rng), random_params(rng, scale=1e6)
    opt = SGD(lr=1e-3)
    new, _, info = opt.step(params, grads, opt.init(params), 0)
    assert not info.clipped
    assert info.grad_norm == pytest.approx(naive_optim.global_norm(grads), rel=1e-14, abs=0.0)
    np.testing.assert_allclose(new["W_rec"], params["W_rec"] - 1e-3 * grads["W_rec"], rtol=1e-15, atol=0.0)


# ----------------------------------------------------------------------------- dtypes and inputs


def test_float32_params_keep_their_dtype(rng):
    params = {k: v.astype(np.float32) for k, v in random_params(rng).items()}
    grads = random_params(rng)  # float64 gradients are cast to the parameters' dtype
    opt = SGD(lr=0.1, momentum=0.9, threshold=1.0)
    new, state, _ = opt.step(params, grads, opt.init(params), 0)
    assert all(a.dtype == np.float32 for a in [*new.values(), *state.values()])
    ref, _, _, _ = naive_optim.sgd_step(params, grads, opt.init(params), 0.1, 0.9, False, 1.0)
    assert_dicts_close(new, ref, rtol=1e-6, atol=1e-7)  # float32 rounding


def test_inputs_not_mutated_and_outputs_are_new(rng):
    params, grads = random_params(rng), random_params(rng, scale=10.0)
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True, threshold=1.0)
    state = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    copies = [{k: v.copy() for k, v in d.items()} for d in (params, grads, state)]
    new, new_state, _ = opt.step(params, grads, state, 3)
    for original, copy in zip((params, grads, state), copies, strict=True):
        assert_dicts_close(original, copy, rtol=0.0, atol=0.0)
    for key in params:
        for out in (new[key], new_state[key]):
            for given_ in (params[key], grads[key], state[key]):
                assert not np.shares_memory(out, given_)


def test_lists_are_accepted():
    opt = SGD(lr=0.5)
    new, _, _ = opt.step({"b": [1, 2]}, {"b": [2.0, 2.0]}, {"b": [0.0, 0.0]}, 0)
    assert new["b"].dtype == np.float64
    np.testing.assert_array_equal(new["b"], [0.0, 1.0])


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf])
def test_bad_lr(bad):
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=bad)


@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_bad_lr_kind(bad):
    with pytest.raises(TypeError, match="lr"):
        SGD(lr=bad)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, math.nan])
def test_bad_momentum(bad):
    with pytest.raises(ValueError, match="momentum"):
        SGD(lr=0.1, momentum=bad)


def test_bad_kinds():
    with pytest.raises(TypeError, match="momentum"):
        SGD(lr=0.1, momentum="0.9")
    with pytest.raises(TypeError, match="nesterov"):
        SGD(lr=0.1, nesterov=1)
    with pytest.raises(TypeError, match="threshold"):
        SGD(lr=0.1, threshold="1")


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_threshold(bad):
    with pytest.raises(ValueError, match="threshold"):
        SGD(lr=0.1, threshold=bad)


def test_bad_nonfinite():
    with pytest.raises(ValueError, match="nonfinite"):
        SGD(lr=0.1, nonfinite="ignore")


def test_grads_mismatch(rng):
    params = random_params(rng)
    opt = SGD(lr=0.1)
    state = opt.init(params)
    grads = random_params(rng)
    del grads["b_out"]
    with pytest.raises(ValueError, match="grads"):
        opt.step(params, grads, state, 0)
    grads = random_params(rng)
    grads["extra"] = np.zeros(1)
    with pytest.raises(ValueError, match="grads"):
        opt.step(params, grads, state, 0)
    grads = random_params(rng)
    grads["W_in"] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"grads\['W_in'\]"):
        opt.step(params, grads, state, 0)
    grads = random_params(rng)
    grads["b"] = ["a"] * 5
    with pytest.raises(TypeError, match="grads"):
        opt.step(params, grads, state, 0)
    with pytest.raises(TypeError, match="grads"):
        opt.step(params, list(grads.values()), state, 0)


def test_state_and_params_mismatch(rng):
    params = random_params(rng)
    opt = SGD(lr=0.1)
    state = opt.init(params)
    state["b"] = np.zeros(4)
    with pytest.raises(ValueError, match="state"):
        opt.step(params, random_params(rng), state, 0)
    with pytest.raises(TypeError, match="state"):
        opt.step(params, random_params(rng), None, 0)
    with pytest.raises(TypeError, match="params"):
        opt.step([np.zeros(1)], random_params(rng), opt.init(params), 0)
    with pytest.raises(ValueError, match="params"):
        opt.init({})
    with pytest.raises(TypeError, match="params"):
        opt.init({1: np.zeros(2)})


@pytest.mark.parametrize(("bad", "error"), [(-1, ValueError), (1.0, TypeError), (True, TypeError)])
def test_bad_t(rng, bad, error):
    params = random_params(rng)
    opt = SGD(lr=0.1)
    with pytest.raises(error, match="t must"):
        opt.step(params, random_params(rng), opt.init(params), bad)


def test_optimizer_is_frozen_and_normalised():
    opt = SGD(lr=0.1, momentum=0, nesterov=np.bool_(True), threshold=2)
    assert opt.lr == Constant(0.1)
    assert opt.momentum == 0.0 and isinstance(opt.momentum, float)
    assert opt.nesterov is True and opt.threshold == 2.0
    with pytest.raises(AttributeError):
        opt.lr = Constant(1.0)
    assert "StepInfo" in optim.__all__
