"""Tests of `continuation` and `fold_continuation` (dynrnn/dynamics/continuation.py).

References that share no code with the continuation: the exact single-unit
folds, flips, fixed points, fold curve and cusp of `dynrnn.single_unit`
(closed forms and bracketed roots), one step of `naive.iterate` (plain NumPy)
for residuals, and eigenvalues of its central-difference Jacobian.
"""

import dataclasses
import itertools

import naive
import numpy as np
import pytest

import dynrnn
from dynrnn import single_unit
from dynrnn.dynamics.continuation import continuation, fold_continuation

EVENT_ATOL = 1e-8  # the brief: events located to 1e-8 in the parameter
FD_H = 1e-6


# ---------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------
def _with_value(net, spec, value, u):
    """W_rec, b and u of ``net`` with the parameter ``spec`` set to ``value``."""
    W, b, u = np.array(net.W_rec, dtype=float), np.array(net.b, dtype=float), np.array(u, dtype=float)
    kind, *index = spec
    if kind == "gain":
        W = value * W
    else:
        {"b": b, "W_rec": W, "u": u}[kind][tuple(index)] = value
    return W, b, u


def _step(net, spec, value, x, u=None):
    """One step of the map at parameter ``value`` (naive NumPy)."""
    u = np.zeros(net.n_inputs) if u is None else u
    W, b, u = _with_value(net, spec, value, u)
    inputs = u[None, :] if net.n_inputs else None
    leak = None if net.leak is None else np.array(net.leak)
    return naive.iterate(W, net.W_in, b, net.activation, net.form, leak, x, 1, inputs)[1]


def _fd_jacobian(net, spec, value, x, u=None):
    n = x.size
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = FD_H
        J[:, j] = (_step(net, spec, value, x + e, u) - _step(net, spec, value, x - e, u)) / (2 * FD_H)
    return J


def _assert_same_spectrum(mu, reference, atol):
    """Equal multisets of eigenvalues (best matching over permutations; n <= 3 here)."""
    errors = [np.max(np.abs(mu - reference[list(p)])) for p in itertools.permutations(range(mu.size))]
    assert min(errors) <= atol, (mu, reference)


def _check_branch(net, res, spec, u=None, n_checks=8):
    """Every point is a fixed point; multipliers match the central-difference Jacobian at a sample."""
    for value, x in zip(res.values, res.x, strict=True):
        np.testing.assert_allclose(_step(net, spec, value, x, u), x, rtol=0, atol=1e-9)
    for k in np.linspace(0, res.n_points - 1, n_checks).astype(int):
        J = _fd_jacobian(net, spec, res.values[k], res.x[k], u)
        # eigenvalues of a non-normal J amplify the O(h^2) + O(eps/h) error of the differences
        _assert_same_spectrum(res.multipliers[k], np.linalg.eigvals(J), atol=1e-6)
    np.testing.assert_array_equal(res.stable, np.all(np.abs(res.multipliers) < 1, axis=1))


def _check_event(net, event, spec, u=None):
    np.testing.assert_allclose(_step(net, spec, event.value, event.x, u), event.x, rtol=0, atol=1e-9)
    mu = np.linalg.eigvals(_fd_jacobian(net, spec, event.value, event.x, u))
    if event.kind in ("fold", "branch_point"):
        assert np.min(np.abs(mu - 1.0)) <= 1e-6
    elif event.kind == "flip":
        assert np.min(np.abs(mu + 1.0)) <= 1e-6
    else:
        assert event.kind == "neimark_sacker"
        pair = mu[np.abs(mu.imag) > 1e-6]
        assert pair.size and np.min(np.abs(np.abs(pair) - 1.0)) <= 1e-6
    assert event.converged


# ---------------------------------------------------------------------------
# One unit: the S-curve of Fig. 3, flips, branch points
# ---------------------------------------------------------------------------
def test_logistic_s_curve_goes_around_both_folds():
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic")
    res = continuation(net, ("b", 0), stop=-4.0)
    assert res.converged and res.status == "stop" and res.parameter == ("b", 0)
    assert res.values[0] == -1.0 and res.values[-1] == -4.0
    assert res.x[0, 0] > 3 and res.x[-1, 0] < -3  # from the high branch to the low one
    turns = np.count_nonzero(np.diff(np.sign(np.diff(res.values))))
    assert turns == 2  # down to the lower fold, up the middle branch, down again

    folds = single_unit.fold_points(5.0, activation="logistic")
    assert [e.kind for e in res.events] == ["fold", "fold"]
    # branch order: the high attractor disappears at the lower fold b_2 first, then b_1
    np.testing.assert_allclose(res.event_values("fold"), folds.b, rtol=0, atol=EVENT_ATOL)
    np.testing.assert_allclose([e.x[0] for e in res.events], folds.x, rtol=0, atol=1e-7)
    np.testing.assert_allclose([e.value for e in res.events], [-2.65561, -2.34439], rtol=0, atol=1e-5)
    for e in res.events:
        assert abs(e.multipliers[0] - 1.0) <= 1e-7
        assert res.values[e.index] != res.values[e.index + 1]

    exact = single_unit.fixed_points(5.0, res.values, activation="logistic")
    distance = np.nanmin(np.abs(exact.x - res.x), axis=1)
    np.testing.assert_array_less(distance, 1e-9)
    nearest = np.nanargmin(np.abs(exact.x - res.x), axis=1)
    rows = np.arange(res.n_points)
    away = np.abs(res.multipliers[:, 0].real - 1.0) > 1e-6  # stability is ill-posed at the folds
    np.testing.assert_array_equal(res.stable[away], exact.stable[rows, nearest][away])
    np.testing.assert_allclose(res.multipliers[:, 0].real, exact.multipliers[rows, nearest], rtol=0, atol=1e-9)
    _check_branch(net, res, ("b", 0))


@pytest.mark.parametrize(("form", "leak"), [("standard", None), ("paper", 0.4), ("standard", 0.7)])
def test_forms_and_leak_share_the_folds(form, leak):
    # the standard form's state is h = sigma(x) (footnote 1) and a leak keeps fixed points and lambda = 1
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic", form=form, leak=leak)
    res = continuation(net, ("b", 0), stop=-4.0)
    folds = single_unit.fold_points(5.0, activation="logistic")
    assert res.converged and [e.kind for e in res.events] == ["fold", "fold"]
    np.testing.assert_allclose(res.event_values("fold"), folds.b, rtol=0, atol=EVENT_ATOL)
    expected_x = folds.x if form == "paper" else naive.sigma("logistic", folds.x)
    np.testing.assert_allclose([e.x[0] for e in res.events], expected_x, rtol=0, atol=1e-7)
    _check_branch(net, res, ("b", 0))


def test_logistic_negative_weight_flips():
    net = dynrnn.RNN(W_rec=[[-8.0]], b=[-3.0], activation="logistic")
    res = continuation(net, ("b", 0), stop=12.0)
    flips = single_unit.flip_points(-8.0, activation="logistic")
    assert res.converged and [e.kind for e in res.events] == ["flip", "flip"]
    np.testing.assert_allclose(res.event_values("flip"), flips.b, rtol=0, atol=EVENT_ATOL)
    np.testing.assert_allclose([e.x[0] for e in res.events], flips.x, rtol=0, atol=1e-7)
    for e in res.events:
        assert abs(e.multipliers[0] + 1.0) <= 1e-7
    assert np.all(np.diff(res.values) > 0)  # one fixed point for every b: no turns
    between = (res.values > flips.b[0]) & (res.values < flips.b[1])
    np.testing.assert_array_equal(res.stable, ~between)
    exact = single_unit.fixed_points(-8.0, res.values, activation="logistic")
    np.testing.assert_allclose(res.x[:, 0], exact.x[:, 0], rtol=0, atol=1e-9)


def test_symmetric_pitchfork_is_a_branch_point():
    # tanh, b = 0: x = 0 is fixed for every w and loses stability at w = 1 without turning back
    net = dynrnn.RNN(W_rec=[[0.5]], activation="tanh")
    res = continuation(net, ("W_rec", 0, 0), stop=2.0, x0=[0.0])
    assert res.converged and [e.kind for e in res.events] == ["branch_point"]
    np.testing.assert_allclose(res.events[0].value, 1.0, rtol=0, atol=EVENT_ATOL)
    np.testing.assert_allclose(res.x, 0.0, rtol=0, atol=1e-12)


def test_weight_parameter_folds():
    # b = -2.5 fixed, w decreasing from 7 on the high branch: an S-curve in w as well
    net = dynrnn.RNN(W_rec=[[7.0]], b=[-2.5], activation="logistic")
    res = continuation(net, ("W_rec", 0, 0), stop=3.0, x0=[4.0])
    assert res.converged and [e.kind for e in res.events] == ["fold", "fold"]
    for w_fold in res.event_values("fold"):  # (w, -2.5) lies on the exact fold curve
        assert np.min(np.abs(single_unit.fold_points(w_fold, activation="logistic").b + 2.5)) <= EVENT_ATOL
    _check_branch(net, res, ("W_rec", 0, 0))


def test_step_budget_is_a_flag():
    net = dynrnn.RNN(W_rec=[[7.0]], b=[-2.5], activation="logistic")
    res = continuation(net, ("W_rec", 0, 0), stop=3.0, x0=[4.0], max_steps=20)
    assert not res.converged and res.status == "max_steps" and "max_steps" in res.message
    assert res.n_steps == 20 and res.n_points == 21 and res.values[-1] > 3.0


def test_constant_input_parameter():
    # u adds W_in u = 2 u to the drive: b_eff = -1 + 2 u, so folds sit at u = (b_fold + 1) / 2
    net = dynrnn.RNN(W_rec=[[5.0]], W_in=[[2.0]], b=[-1.0], activation="logistic")
    res = continuation(net, ("u", 0), start=0.5, stop=-1.5)
    folds = single_unit.fold_points(5.0, activation="logistic")
    assert res.converged and res.values[0] == 0.5
    np.testing.assert_allclose(res.event_values("fold"), (folds.b + 1.0) / 2.0, rtol=0, atol=EVENT_ATOL)
    _check_branch(net, res, ("u", 0), u=np.zeros(1))


# ---------------------------------------------------------------------------
# n units
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("theta", [0.9, 2.3])
def test_rotation_gain_neimark_sacker(theta):
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    net = dynrnn.RNN(W_rec=R, activation="tanh")
    res = continuation(net, "gain", start=0.5, stop=1.5, x0=[0.0, 0.0])
    assert res.converged and res.parameter == ("gain",)
    assert [e.kind for e in res.events] == ["neimark_sacker"]
    event = res.events[0]
    np.testing.assert_allclose(event.value, 1.0, rtol=0, atol=EVENT_ATOL)
    np.testing.assert_allclose(np.abs(event.multipliers), 1.0, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.abs(np.angle(event.multipliers)), theta, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.x, 0.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.stable, res.values < 1.0)
    _check_branch(net, res, ("gain",))
    _check_event(net, event, ("gain",))


CASES = [  # seed, n, activation, form, leak, parameter, start, stop
    (3, 2, "tanh", "paper", None, ("b", 0), -4.0, 4.0),
    (5, 2, "tanh", "paper", 0.3, ("b", 1), -4.0, 4.0),
    (7, 3, "tanh", "standard", None, ("b", 0), -4.0, 4.0),
    (11, 2, "tanh", "standard", 0.3, ("W_rec", 0, 1), -3.0, 3.0),
    (13, 3, "logistic", "paper", None, ("gain",), 0.2, 3.0),
    (17, 2, "logistic", "standard", [0.2, 0.6], ("b", 1), -6.0, 6.0),
]


@pytest.mark.parametrize(("seed", "n", "activation", "form", "leak", "spec", "start", "stop"), CASES)
def test_random_networks_against_finite_differences(seed, n, activation, form, leak, spec, start, stop):
    rng = np.random.default_rng(seed)
    scale = 3.0 if activation == "tanh" else 10.0
    net = dynrnn.RNN(
        W_rec=rng.normal(scale=scale / np.sqrt(n), size=(n, n)),
        b=rng.normal(scale=0.5, size=n),
        activation=activation,
        form=form,
        leak=leak,
    )
    res = continuation(net, spec, start=start, stop=stop, max_steps=1000)
    assert res.converged, res.message
    _check_branch(net, res, spec)
    for event in res.events:
        _check_event(net, event, spec)


def test_random_networks_have_events():
    # the table above is not vacuous: together its branches cross every kind of bifurcation
    kinds = set()
    for seed, n, activation, form, leak, spec, start, stop in CASES[:4]:
        rng = np.random.default_rng(seed)
        net = dynrnn.RNN(
            W_rec=rng.normal(scale=3.0 / np.sqrt(n), size=(n, n)),
            b=rng.normal(scale=0.5, size=n),
            activation=activation,
            form=form,
            leak=leak,
        )
        kinds |= {e.kind for e in continuation(net, spec, start=start, stop=stop).events}
    assert {"fold", "flip", "neimark_sacker"} <= kinds, kinds


# ---------------------------------------------------------------------------
# Fold curves
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("activation", "w_fold", "b_fold", "x_fold"), [("logistic", 5.0, -2.34, -0.96), ("tanh", 3.0, 2.3, -1.1)]
)
def test_single_unit_fold_curve(activation, w_fold, b_fold, x_fold):
    net = dynrnn.RNN(W_rec=[[w_fold]], b=[b_fold], activation=activation)
    curve = fold_continuation(net, (("W_rec", 0, 0), ("b", 0)), x0=[x_fold], bounds=[[0.5, 8.0], [-10.0, 10.0]])
    assert curve.converged and curve.status.tolist() == ["bounds", "bounds"]
    w, b = curve.values[:, 0], curve.values[:, 1]
    np.testing.assert_allclose(w[[0, -1]], 8.0, rtol=0, atol=1e-12)  # both ends leave through w = 8
    exact = single_unit.fold_curve(activation=activation, w=w)
    branch = np.argmin(np.abs(exact.b - b[:, None]), axis=1)
    rows = np.arange(curve.n_points)
    np.testing.assert_allclose(b, exact.b[rows, branch], rtol=0, atol=1e-9)
    np.testing.assert_allclose(curve.x[:, 0], exact.x[rows, branch], rtol=0, atol=1e-7)
    assert set(branch[w > 1.5 * w.min()]) == {0, 1}  # both branches of the wedge
    np.testing.assert_allclose(np.abs(curve.null_vectors), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.multipliers[:, 0], 1.0, rtol=0, atol=1e-9)

    cusp = single_unit.cusp(activation=activation)
    assert [e.kind for e in curve.events] == ["cusp"]
    np.testing.assert_allclose(curve.events[0].value, [cusp.w, cusp.b], rtol=0, atol=EVENT_ATOL)
    np.testing.assert_allclose(curve.events[0].x, [cusp.x], rtol=0, atol=1e-6)  # x ~ sqrt of the error in w
    assert np.min(np.hypot(w - cusp.w, b - cusp.b)) < 1e-3  # the curve itself passes the cusp


@pytest.mark.parametrize(
    ("form", "leak", "parameters"), [("paper", None, (("b", 0), ("b", 1))), ("standard", 0.5, (("b", 0), ("gain",)))]
)
def test_two_unit_fold_curve(form, leak, parameters):
    net = dynrnn.RNN(W_rec=[[2.0, 0.6], [-0.4, 1.8]], b=[0.1, -0.2], activation="tanh", form=form, leak=leak)
    branch = continuation(net, parameters[0], start=-3.0, stop=3.0, max_steps=300)
    folds = [e for e in branch.events if e.kind == "fold"]
    assert len(folds) == 3  # the branch turns three times and leaves towards -inf (max_steps)
    start = (folds[0].value, 1.0 if parameters[1] == ("gain",) else -0.2)
    curve = fold_continuation(
        net, parameters, x0=folds[0].x, start=start, bounds=[[-5.0, 5.0], [-5.0, 5.0]], max_steps=400
    )
    assert curve.n_points > 20 and curve.parameters == parameters
    assert curve.converged, curve.message
    for k in np.linspace(0, curve.n_points - 1, 12).astype(int):
        (p1, p2), x, v = curve.values[k], curve.x[k], curve.null_vectors[k]
        net_k = _set(net, parameters[1], p2)
        np.testing.assert_allclose(_step(net_k, parameters[0], p1, x), x, rtol=0, atol=1e-9)
        J = _fd_jacobian(net_k, parameters[0], p1, x)
        np.testing.assert_allclose(J @ v, v, rtol=0, atol=1e-6)
        assert np.min(np.abs(np.linalg.eigvals(J) - 1.0)) <= 1e-6
    # the curve goes through the fold the one-parameter branch found
    assert np.min(np.abs(curve.values[:, 0] - folds[0].value) + np.abs(curve.values[:, 1] - start[1])) < 1e-9


def test_closed_fold_curve_with_two_cusps():
    # mutual excitation without self-excitation: saturating either unit kills the bistability,
    # so the fold curve in (b0, b1) is bounded and closes; the map is odd, so the curve and
    # its two cusps are point-symmetric about the origin
    net = dynrnn.RNN(W_rec=[[0.0, 3.0], [2.0, 0.3]], activation="tanh")
    branch = continuation(net, ("b", 0), start=-6.0, stop=6.0)
    fold = next(e for e in branch.events if e.kind == "fold")
    curve = fold_continuation(net, (("b", 0), ("b", 1)), x0=fold.x, start=(fold.value, 0.0))
    assert curve.converged and curve.status.tolist() == ["closed", "closed"]
    np.testing.assert_array_equal(curve.values[0], curve.values[-1])
    assert [e.kind for e in curve.events] == ["cusp", "cusp"]
    np.testing.assert_allclose(curve.events[0].value, -curve.events[1].value, rtol=0, atol=1e-8)
    np.testing.assert_allclose(curve.events[0].x, -curve.events[1].x, rtol=0, atol=1e-6)
    for k in np.linspace(0, curve.n_points - 1, 10).astype(int):
        net_k = _set(net, ("b", 1), curve.values[k, 1])
        J = _fd_jacobian(net_k, ("b", 0), curve.values[k, 0], curve.x[k])
        assert np.min(np.abs(np.linalg.eigvals(J) - 1.0)) <= 1e-6


def _set(net, spec, value):
    W, b, _ = _with_value(net, spec, value, np.zeros(net.n_inputs))
    return dynrnn.RNN(W_rec=W, W_in=net.W_in, b=b, activation=net.activation, form=net.form, leak=net.leak)


# ---------------------------------------------------------------------------
# Results, flags and bad input
# ---------------------------------------------------------------------------
def test_no_fixed_point_is_a_flag():
    net = dynrnn.RNN(W_rec=[[1.0]], b=[1.0], activation="linear")  # x -> x + 1
    res = continuation(net, ("b", 0), stop=2.0)
    assert not res.converged and res.status == "start" and res.n_points == 0 and res.x.shape == (0, 1)


def test_results_are_read_only():
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic")
    res = continuation(net, ("b", 0), stop=-4.0, max_step=0.5)
    for array in (res.values, res.x, res.multipliers, res.stable, res.arclength, res.events[0].x):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.status = "x"
    assert "ContinuationResult(" in repr(res) and "fold" in repr(res.events[0])
    assert np.all(np.diff(res.arclength) > 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"parameter": ("c", 0)}, ValueError, "parameter"),
        ({"parameter": ("b", 1)}, ValueError, "parameter index 1 is out of range"),
        ({"parameter": ("b", -1)}, ValueError, "out of range"),
        ({"parameter": ("W_rec", 0)}, ValueError, "parameter"),
        ({"parameter": ("u", 0)}, ValueError, "no inputs"),
        ({"parameter": ("b", 0.0)}, TypeError, "parameter indices must be integers"),
        ({"parameter": 3}, ValueError, "parameter"),
        ({"step": 0.0}, ValueError, "step must be > 0"),
        ({"step": -0.1}, ValueError, "step must be > 0"),
        ({"step": np.nan}, ValueError, "step must be finite"),
        ({"stop": np.inf}, ValueError, "stop must be finite"),
        ({"stop": -1.0}, ValueError, "stop must differ"),
        ({"x0": [0.0, 1.0]}, ValueError, "x0 must have shape"),
        ({"x0": [np.nan]}, ValueError, "x0 must be finite"),
        ({"start": 1j}, TypeError, "start"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"max_steps": 0}, ValueError, "max_steps"),
        ({"max_steps": 2.0}, TypeError, "max_steps"),
        ({"min_step": 1.0}, ValueError, "min_step"),
        ({"max_step": 1e-3}, ValueError, "max_step"),
        ({"u": [1.0]}, ValueError, "u must have shape"),
    ],
)
def test_continuation_bad_input(kwargs, error, match):
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic")
    arguments = {"parameter": ("b", 0), "stop": -4.0} | kwargs
    with pytest.raises(error, match=match):
        continuation(net, **arguments)


def test_continuation_rejects_a_non_network():
    with pytest.raises(TypeError, match="net must be a dynrnn.RNN"):
        continuation([[5.0]], ("b", 0), stop=1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"parameters": (("b", 0),)}, ValueError, "parameters must be a pair"),
        ({"parameters": (("b", 0), ("b", 0))}, ValueError, "two different parameters"),
        ({"parameters": (("b", 0), ("W_rec", 1, 0))}, ValueError, r"parameters\[1\] index 1 is out of range"),
        ({"bounds": [[6.0, 3.0], [-5.0, 0.0]]}, ValueError, "bounds"),
        ({"bounds": [[5.5, 6.0], [-5.0, 0.0]]}, ValueError, "start must lie inside bounds"),
        ({"start": [5.0]}, ValueError, "start must have shape"),
        ({"x0": [np.inf]}, ValueError, "x0 must be finite"),
        ({"step": 0}, ValueError, "step must be > 0"),
        ({"both_directions": 1}, TypeError, "both_directions"),
    ],
)
def test_fold_continuation_bad_input(kwargs, error, match):
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.34], activation="logistic")
    arguments = {"parameters": (("W_rec", 0, 0), ("b", 0)), "x0": [-0.96], "bounds": [[3.0, 6.0], [-5.0, 0.0]]}
    with pytest.raises(error, match=match):
        fold_continuation(net, **(arguments | kwargs))


def test_fold_continuation_one_direction_and_no_fold():
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.34], activation="logistic")
    parameters = (("W_rec", 0, 0), ("b", 0))
    curve = fold_continuation(net, parameters, x0=[-0.96], bounds=[[3.0, 6.0], [-5.0, 0.0]], both_directions=False)
    assert (
        curve.converged and curve.status.tolist() == ["initial", "bounds"] and np.all(np.diff(curve.values[:, 0]) > 0)
    )
    # a linear unit with w = 0.5 has no fold at gain 1, whatever b: a flag, not an exception
    linear = dynrnn.RNN(W_rec=[[0.5]], activation="linear")
    res = fold_continuation(linear, (("b", 0), "gain"), x0=[0.0])
    assert not res.converged and res.status.tolist() == ["start", "start"] and res.n_points == 0
