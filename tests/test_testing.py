"""Tests of `dynrnn.testing`: its strategies draw what they say, and each assertion helper passes on the
paper's laws and FAILS (AssertionError with the numbers) on a wrong gradient, a tampered product or a
network outside the law's assumption.  Also: the README's example runs, and ``import dynrnn`` stays light.
"""

import dataclasses
import doctest
import math
import re
import subprocess
import sys
from pathlib import Path

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dynrnn
import dynrnn.testing as dt
from dynrnn.testing import _laws

README = Path(__file__).resolve().parent.parent / "README.md"


# ----------------------------------------------------------------------------- strategies


@given(net=dt.networks(leak=True, n_outputs=(0, 2), spectral_norm=(0.5, 2.0)))
def test_networks_have_the_drawn_norm_and_valid_parts(net):
    assert isinstance(net, dynrnn.RNN)
    assert 1 <= net.n_units <= 4 and 0 <= net.n_inputs <= 3 and 0 <= net.n_outputs <= 2
    assert 0.5 * (1 - 1e-12) <= np.linalg.norm(net.W_rec, 2) <= 2.0 * (1 + 1e-12)
    assert net.leak is None or ((net.leak >= 0) & (net.leak <= 1)).all()


@given(net=dt.networks(gamma_norm=(0.05, 0.95), activations=("logistic", "tanh"), forms="standard"))
def test_networks_eta_range_is_gamma_times_the_norm(net):
    eta = naive.gamma(net.activation) * np.linalg.norm(net.W_rec, 2)
    assert 0.05 * (1 - 1e-12) <= eta <= 0.95 * (1 + 1e-12)
    assert net.form == "standard" and net.leak is None
    assert dt.step_norm_bound(net) == pytest.approx(eta, rel=1e-15)


@given(net=dt.networks(leak="shared", n_units=3))
def test_shared_leak_is_one_rate(net):
    assert net.n_units == 3 and np.all(net.leak == net.leak[0])


@given(traj=dt.trajectories(n_steps=(2, 6), leak=True))
def test_trajectories_unpack_into_dynrnn_calls(traj):
    net, x0, inputs = traj
    assert inputs.shape == (traj.n_steps, net.n_inputs) and x0.shape == (net.n_units,)
    x = dynrnn.iterate(net, x0, inputs=inputs)
    assert x.shape[0] == traj.n_steps + 1
    # an autonomous network's (T, 0) inputs mean the same as inputs=None, n_steps=T
    res = dynrnn.jacobian_products(*traj)
    if net.n_inputs == 0:
        none = dynrnn.jacobian_products(net, x0, None, n_steps=traj.n_steps)
        np.testing.assert_array_equal(res.log_norm, none.log_norm)


@given(p=dt.gradient_problems())
def test_gradient_problems_are_accepted_by_bptt(p):
    res = p.bptt(contributions="lag")
    assert res.n_steps == p.inputs.shape[0] and res.loss_per_sequence.shape == (p.x0.shape[0],)
    assert (p.net.n_outputs > 0) == (p.loss != "squared_error")


def test_strategy_arguments_are_checked():
    with pytest.raises(ValueError, match="activations"):
        dt.networks(activations="softplus").example()
    with pytest.raises(ValueError, match="spectral_norm"):
        dt.networks(spectral_norm=(2.0, 1.0)).example()
    with pytest.raises(ValueError, match="not both"):
        dt.networks(spectral_norm=(0.0, 1.0), gamma_norm=(0.0, 1.0)).example()
    with pytest.raises(ValueError, match="leak"):
        dt.networks(leak=0.5).example()
    with pytest.raises(ValueError, match="n_units"):
        dt.networks(n_units=0).example()
    with pytest.raises(TypeError, match="net"):
        dt.trajectories("net").example()
    with pytest.raises(ValueError, match="readout"):
        dt.gradient_problems(dynrnn.RNN(np.eye(2)), loss="cross_entropy").example()


# ----------------------------------------------------------------------------- the Jacobian bound (eqs. 5-7)


def fixed_point_net(activation, form, c, n=3, leak=None):
    """W_rec = c I at the fixed point where sigma' = gamma (sigma's argument 0): every window attains the bound."""
    W_rec = c * np.eye(n)
    s0 = float(naive.sigma(activation, 0.0))
    b = -W_rec @ np.full(n, s0)
    x0 = np.zeros(n) if form == "paper" else np.full(n, s0)
    return dynrnn.RNN(W_rec=W_rec, b=b, activation=activation, form=form, leak=leak), x0


@given(traj=dt.trajectories(leak=True, spectral_norm=(0.0, 3.0)))
def test_jacobian_bound_holds_for_any_network(traj):
    dt.assert_jacobian_bound(*traj)


@pytest.mark.parametrize("leak", [None, 0.3, [0.2, 0.6, 0.6]])
@pytest.mark.parametrize("activation,form", [("logistic", "paper"), ("tanh", "standard")])
def test_step_norm_bound_is_attained(activation, form, leak):
    """At the steepest fixed point with W_rec = c I and one leak rate every step is eta I: the bound is attained."""
    c = 1.7 / naive.gamma(activation)
    net, x0 = fixed_point_net(activation, form, c, leak=leak)
    res = dynrnn.jacobian_products(net, x0, n_steps=12)
    dt.assert_jacobian_bound(net, x0, n_steps=12, result=res)
    eta = dt.step_norm_bound(net)
    rates = np.zeros(3) if leak is None else np.broadcast_to(leak, 3)
    assert eta == pytest.approx(rates.max() + (1 - rates).max() * 1.7, rel=1e-15)
    if np.ptp(rates) > 0:  # rates that differ: each unit's factor leak_i + (1 - leak_i) 1.7 is below eta
        return
    lag = np.subtract.outer(np.arange(13), np.arange(13))
    lower = lag >= 0
    np.testing.assert_allclose(res.log_norm[lower], lag[lower] * math.log(eta), rtol=1e-12, atol=1e-12)
    # ... so a network with a slightly smaller W_rec has a bound the products exceed
    smaller = dynrnn.RNN(W_rec=net.W_rec * 0.999, b=net.b, activation=activation, form=form, leak=leak)
    with pytest.raises(AssertionError, match=r"exceeds the bound eta\^\(t - k\).* at t = 12, k = 0 \(lag 12\)"):
        dt.assert_jacobian_bound(smaller, x0, n_steps=12, result=res)


def test_jacobian_bound_needs_the_leak_in_eta():
    """A leak keeps part of the state: with W_rec = 0 the products are leak^lag, not (gamma ||W_rec||)^lag = 0."""
    net = dynrnn.RNN(W_rec=np.zeros((2, 2)), leak=0.5)
    res = dynrnn.jacobian_products(net, [0.1, 0.2], n_steps=5)
    np.testing.assert_allclose(res.norm[5, 0], 0.5**5, rtol=1e-14)
    assert dt.step_norm_bound(net) == 0.5
    dt.assert_jacobian_bound(net, [0.1, 0.2], n_steps=5, result=res)
    no_leak = dynrnn.RNN(W_rec=np.zeros((2, 2)))
    with pytest.raises(AssertionError, match=r"norm 0.5 .* > bound 0 .*eta = 0"):
        dt.assert_jacobian_bound(no_leak, [0.1, 0.2], n_steps=5, result=res)


def test_jacobian_bound_fails_on_a_tampered_window(rng):
    net = dynrnn.RNN(W_rec=rng.normal(size=(3, 3)) * 0.4, activation="tanh")
    res = dynrnn.jacobian_products(net, rng.normal(size=3), n_steps=8)
    eta = dt.step_norm_bound(net)
    log_norm = res.log_norm.copy()
    log_norm[6, 2] = 4 * math.log(eta) + 1e-6  # just above eta^4
    bad = dataclasses.replace(res, log_norm=log_norm)
    with pytest.raises(AssertionError, match=r"at t = 6, k = 2 \(lag 4\).*1 of 45 windows exceed it"):
        dt.assert_jacobian_bound(net, None, result=bad)
    log_norm = log_norm.copy()
    log_norm[6, 2] = np.nan
    with pytest.raises(AssertionError, match=r"NaN at t = 6, k = 2 although the trajectory is finite"):
        dt.assert_jacobian_bound(net, None, result=dataclasses.replace(res, log_norm=log_norm))


def test_jacobian_bound_skips_the_windows_of_a_diverged_trajectory():
    net = dynrnn.RNN(W_rec=np.eye(2) * 1e200, activation="linear")
    res = dynrnn.jacobian_products(net, [1.0, 1.0], n_steps=4)
    assert res.diverged
    dt.assert_jacobian_bound(net, [1.0, 1.0], n_steps=4)


# ----------------------------------------------------------------------------- geometric vanishing (eqs. 6-7)


@given(traj=dt.trajectories(gamma_norm=(0.05, 0.95), leak="shared", n_units=(1, 6), n_steps=(1, 20)))
def test_vanishing_holds_below_one_over_gamma(traj):
    assert dt.step_norm_bound(traj.net) < 1.0 or traj.net.leak[0] == 1.0
    if traj.net.leak[0] < 1.0:
        dt.assert_vanishing(*traj)


def test_vanishing_fails_outside_its_assumption():
    net = dynrnn.RNN(W_rec=[[4.2]], activation="logistic")  # gamma ||W_rec|| = 1.05
    with pytest.raises(AssertionError, match=r"vanishing condition .* eta = 1.05 >= 1 .*1/gamma = 4"):
        dt.assert_vanishing(net, [0.0], n_steps=5)
    leaky = dynrnn.RNN(W_rec=[[0.5, 0.0], [0.0, 0.5]], activation="tanh", leak=[0.0, 0.9])  # 0.9 + 1 * 0.5
    with pytest.raises(AssertionError, match=r"eta = 1.4 >= 1 .*leak in \[0, 0.9\].*max\(leak\)"):
        dt.assert_vanishing(leaky, [0.0, 0.0], n_steps=5)


def test_vanishing_fails_when_a_longer_window_is_not_smaller(rng):
    net = dynrnn.RNN(W_rec=rng.normal(size=(3, 3)) * 0.2, activation="tanh")
    res = dynrnn.jacobian_products(net, rng.normal(size=3), n_steps=6)
    dt.assert_vanishing(net, None, result=res)
    log_norm = res.log_norm.copy()
    log_norm[5, 1] = log_norm[5, 2]  # ||dx_5/dx_1|| = ||dx_5/dx_2||: no shrinking (still below eta^4)
    assert log_norm[5, 1] <= 4 * math.log(dt.step_norm_bound(net))
    with pytest.raises(AssertionError, match=r"did not shrink by eta .*\(t = 5, k = 2\) grew back .* ratio 1 > eta"):
        dt.assert_vanishing(net, None, result=dataclasses.replace(res, log_norm=log_norm))


# ----------------------------------------------------------------------------- temporal contributions (eq. 4)


@given(p=dt.gradient_problems(leak=True, spectral_norm=(0.0, 1.0)), by=st.sampled_from(["lag", "window"]))
def test_contributions_sum_to_the_gradient_of_drawn_problems(p, by):
    dt.assert_contributions_sum_to_gradient(p.bptt(contributions=by))


def small_problem(rng, at="every"):
    net = dynrnn.RNN(rng.normal(size=(3, 3)) * 0.5, W_in=rng.normal(size=(3, 2)), activation="logistic", leak=0.2)
    T = 6
    targets = rng.normal(size=(T, 2, 3)) if at == "every" else rng.normal(size=(2, 3))
    return net, rng.normal(size=(2, 3)), rng.normal(size=(T, 2, 2)), targets


@pytest.mark.parametrize("at", ["every", "last"])
def test_contributions_fail_on_a_wrong_gradient(rng, at):
    net, x0, inputs, targets = small_problem(rng, at)
    res = dynrnn.bptt(net, x0, inputs, targets, at=at, contributions="window")
    dt.assert_contributions_sum_to_gradient(res)
    wrong = {**res.grads, "W_in": res.grads["W_in"] + np.array([[0, 0], [0, 1e-9], [0, 0]])}
    with pytest.raises(AssertionError, match=r"contributions to W_in summed over lags .* at entry \(1, 1\)"):
        dt.assert_contributions_sum_to_gradient(res, wrong)
    # your own contributions, as a mapping, with one lag dropped
    dropped = {"b": res.contributions["b"][:-1]}
    dt.assert_contributions_sum_to_gradient({"b": res.contributions["b"]}, res.grads)
    if np.any(res.contributions["b"][-1] != 0.0):
        with pytest.raises(AssertionError, match="contributions to b"):
            dt.assert_contributions_sum_to_gradient(dropped, res.grads)


def test_contributions_fail_on_a_tampered_window(rng):
    net, x0, inputs, targets = small_problem(rng)
    res = dynrnn.bptt(net, x0, inputs, targets, contributions="window")
    window = {k: v.copy() for k, v in res.window_contributions.items()}
    window["W_rec"][1, 3] = 1e-3  # E_2 through x_4: k > t
    with pytest.raises(AssertionError, match=r"E_2 through x_4 is nonzero although k > t"):
        dt.assert_contributions_sum_to_gradient(dataclasses.replace(res, window_contributions=window))
    window = {k: v.copy() for k, v in res.window_contributions.items()}
    window["b"][4, 1] += 1e-3
    window["b"][4, 2] -= 1e-3  # the total is unchanged, the lags 3 and 2 are not
    with pytest.raises(AssertionError, match=r"window contributions to b of each lag differ from the contributions"):
        dt.assert_contributions_sum_to_gradient(dataclasses.replace(res, window_contributions=window))


def test_contributions_bad_arguments(rng):
    net, x0, inputs, targets = small_problem(rng)
    with pytest.raises(ValueError, match="contributions='lag'"):
        dt.assert_contributions_sum_to_gradient(dynrnn.bptt(net, x0, inputs, targets, contributions=None))
    with pytest.raises(ValueError, match="grads"):
        dt.assert_contributions_sum_to_gradient({"b": np.zeros((3, 3))})
    with pytest.raises(TypeError, match="result"):
        dt.assert_contributions_sum_to_gradient([1.0])


# ----------------------------------------------------------------------------- finite differences


# (tests/test_bptt.py checks dynrnn.bptt with assert_gradient_matches_finite_differences on drawn problems)


def test_finite_differences_fail_on_a_wrong_gradient(rng):
    net, x0, inputs, targets = small_problem(rng)
    res = dynrnn.bptt(net, x0, inputs, targets)
    dt.assert_gradient_matches_finite_differences(net, x0, inputs, targets, grads=res.grads)
    wrong = {"W_rec": res.grads["W_rec"] * (1 + 1e-4)}  # 100 times the tolerance
    with pytest.raises(AssertionError, match=r"gradient of W_rec disagrees .*9 of 9 entries of W_rec are off"):
        dt.assert_gradient_matches_finite_differences(net, x0, inputs, targets, grads=wrong)
    transposed = {"W_rec": res.grads["W_rec"].T}  # a classic BPTT bug
    with pytest.raises(AssertionError, match="W_rec"):
        dt.assert_gradient_matches_finite_differences(net, x0, inputs, targets, grads=transposed)
    with pytest.raises(ValueError, match="W_out"):
        dt.assert_gradient_matches_finite_differences(net, x0, inputs, targets, grads={"W_out": np.zeros((1, 3))})


def test_finite_differences_of_any_function():
    w = np.array([[0.1, -2.0], [3.0, 0.0]])
    f = lambda p: float(np.sum(np.tanh(p["w"]) ** 2) + p["c"][0] ** 3)  # noqa: E731
    grads = {"w": 2 * np.tanh(w) / np.cosh(w) ** 2, "c": np.array([3 * 1.5**2])}
    dt.assert_matches_finite_differences({"w": w, "c": [1.5]}, grads, fun=f)
    with pytest.raises(AssertionError, match=r"gradient of c disagrees .*gradient 6.76, difference quotient 6.75"):
        dt.assert_matches_finite_differences({"w": w, "c": [1.5]}, {**grads, "c": np.array([6.76])}, fun=f)
    with pytest.raises(AssertionError, match=r"entry \(0, 1\)"):
        dt.assert_matches_finite_differences({"w": w, "c": [1.5]}, {"w": grads["w"] + [[0, np.nan], [0, 0]]}, fun=f)
    with pytest.raises(ValueError, match="shape"):
        dt.assert_matches_finite_differences({"w": w, "c": [1.5]}, {"w": np.zeros(4)}, fun=f)


@pytest.mark.slow  # float32 kernels compile again
def test_float32_gradient_against_float64_differences(rng):
    net, x0, inputs, targets = small_problem(rng)
    net32 = dynrnn.RNN(net.W_rec, net.W_in, net.b, activation=net.activation, leak=net.leak, dtype=np.float32)
    dt.assert_gradient_matches_finite_differences(net32, x0, inputs, targets)


# ----------------------------------------------------------------------------- docs and imports


def readout_snippet():
    """The Python block of the README's "Property-test your own network" section."""
    text = README.read_text()
    section = text.split("## Property-test your own network", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs():
    namespace = {}
    exec(compile(readout_snippet(), "<README.md: Property-test your own network>", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert tests
    for test in tests:
        test()


def test_readme_example_fails_for_a_network_that_breaks_the_law(monkeypatch):
    """The same property test, with dynrnn's products made 1% too large, fails."""
    real = _laws.jacobian_products

    def inflated(*args, **kwargs):
        res = real(*args, **kwargs)
        lag = np.subtract.outer(np.arange(res.n_steps + 1), np.arange(res.n_steps + 1))
        return dataclasses.replace(res, log_norm=res.log_norm + np.maximum(lag, 0) * 0.01 + 1.0)

    monkeypatch.setattr(_laws, "jacobian_products", inflated)
    namespace = {}
    exec(compile(readout_snippet(), "<README.md: Property-test your own network>", "exec"), namespace)
    with pytest.raises(AssertionError, match="exceeds the bound"):
        namespace["test_my_network_obeys_the_bound"]()


@pytest.mark.parametrize("module", [dt, _laws])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_import_dynrnn_does_not_import_hypothesis():
    heavy = "('hypothesis', 'numba', 'matplotlib')"
    code = f"import sys, dynrnn; print([m for m in sys.modules if m.startswith({heavy})])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
