"""`dynrnn.path_bifurcations`: orbits and bifurcations along a straight path between two networks.

Known answers in closed form (Pascanu et al. 2013, Sec. 2.2): the unit ``x -> w tanh(x)`` (and
``h -> tanh(w h)``) has the fixed point 0 with multiplier ``w``: a pitchfork at ``w = 1`` (two stable
fixed points ``x = w tanh(x)`` are born) and a flip at ``w = -1`` (a period-2 orbit ``{a, -a}`` is
born); the 2-unit map with ``W_rec = r R(theta)`` has the multipliers ``r e^{+-i theta}`` at 0, a
Neimark-Sacker point at ``r = 1``; the logistic unit ``x -> 5 sigma(x) + b`` folds at the b of the
paper's Fig. 3.  Continued points are checked against a plain NumPy evaluation of the map.
"""

import numpy as np
import pytest

import dynrnn


def rotation(r, theta):
    return r * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def numpy_map(net, x, u=None):
    """One step of the network's map with a constant input, in plain NumPy (tanh or logistic)."""
    sigma = np.tanh if net.activation == "tanh" else (lambda z: 1.0 / (1.0 + np.exp(-z)))
    c = np.asarray(net.b) + (np.asarray(net.W_in) @ u if u is not None else 0.0)
    W = np.asarray(net.W_rec)
    return W @ sigma(x) + c if net.form == "paper" else sigma(W @ x + c)


def path_net(net, end, s):
    """The network at ``theta(s) = (1 - s) theta_net + s theta_end``."""
    mix = {k: (1 - s) * np.asarray(getattr(net, k)) + s * np.asarray(getattr(end, k)) for k in ("W_rec", "W_in", "b")}
    return dynrnn.RNN(**mix, activation=net.activation, form=net.form)


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_pitchfork_of_one_unit_at_w_one(form):
    net, end = dynrnn.RNN(W_rec=[[0.5]], form=form), dynrnn.RNN(W_rec=[[1.5]], form=form)
    res = dynrnn.path_bifurcations(net, end=end, rng=0)
    assert res.status == "complete"
    assert res.kind.tolist() == ["branch_point"] and res.period.tolist() == [1]
    np.testing.assert_allclose(res.values, [0.5], rtol=0, atol=1e-6)  # w = 0.5 + s = 1
    np.testing.assert_allclose(res.critical, [1.0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.x, [[0.0]], rtol=0, atol=1e-8)
    assert res.attractor.tolist() == [True]  # the stable 0 loses its stability
    # one attractor (0) at w = 0.5; two (+-x*) and the unstable 0 at w = 1.5; no period-2 orbit
    np.testing.assert_array_equal(res.periods, [1, 2])
    np.testing.assert_array_equal(res.n_orbits, [[1, 0], [3, 0]])
    np.testing.assert_array_equal(res.n_attractors, [[1, 0], [2, 0]])
    assert res.event_values("branch_point").tolist() == res.values.tolist()
    assert res.event_values("fold").size == 0 and res.event_values(period=2).size == 0


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_flip_of_one_unit_at_w_minus_one_gives_a_period_two_orbit(form):
    net, end = dynrnn.RNN(W_rec=[[-0.5]], form=form), dynrnn.RNN(W_rec=[[-1.5]], form=form)
    res = dynrnn.path_bifurcations(net, end=end, rng=1)
    assert res.status == "complete"
    assert res.kind.tolist() == ["flip"] and res.period.tolist() == [1]
    np.testing.assert_allclose(res.values, [0.5], rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.critical, [-1.0], rtol=0, atol=1e-6)
    assert res.attractor.tolist() == [True]
    # the period-2 orbit {a, -a} exists (and attracts) only past the flip
    np.testing.assert_array_equal(res.n_orbits, [[1, 0], [1, 1]])
    np.testing.assert_array_equal(res.n_attractors, [[1, 0], [0, 1]])
    two = [b for b in res.branches if b.period == 2]
    assert len(two) == 1 and two[0].values[0] == 1.0 and two[0].converged
    # its amplitude: a = tanh(1.5 a) (standard) or a = 1.5 tanh(a) (paper), at s = 1
    a = abs(two[0].x[0, 0])
    np.testing.assert_allclose(a, np.tanh(1.5 * a) if form == "standard" else 1.5 * np.tanh(a), rtol=0, atol=1e-9)
    # followed towards the flip, its amplitude shrinks to 0 near s = 0.5
    assert two[0].values.min() < 0.55 and np.abs(two[0].x).min() < 0.2


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_complex_pair_through_the_unit_circle(form):
    theta = 0.7
    net = dynrnn.RNN(W_rec=rotation(0.8, theta), form=form)
    end = dynrnn.RNN(W_rec=rotation(1.2, theta), form=form)
    res = dynrnn.path_bifurcations(net, end=end, rng=2)
    assert res.kind.tolist() == ["neimark_sacker"] and res.period.tolist() == [1]
    np.testing.assert_allclose(res.values, [0.5], rtol=0, atol=1e-6)  # r = 0.8 + 0.4 s = 1
    np.testing.assert_allclose(res.critical, [np.exp(1j * theta)], rtol=0, atol=1e-6)
    assert res.attractor.tolist() == [True]
    np.testing.assert_array_equal(res.n_attractors[:, 0], [1, 0])


def test_folds_of_the_papers_figure_three():
    """x -> 5 sigma(x) + b, b from -1 to -4 (logistic): folds at b = -2.65561 and -2.34439 (paper.md Sec. 2.2)."""
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic")
    end = dynrnn.RNN(W_rec=[[5.0]], b=[-4.0], activation="logistic")
    res = dynrnn.path_bifurcations(net, end=end, periods=1, rng=3)
    assert res.kind.tolist() == ["fold", "fold"] and res.attractor.all()
    np.testing.assert_allclose(-1.0 - 3.0 * res.values, [-2.34439, -2.65561], rtol=0, atol=1e-5)
    np.testing.assert_allclose(res.critical, [1.0, 1.0], rtol=0, atol=1e-6)
    # one branch: the high attractor, back along the saddle, out on the low attractor
    assert len(res.branches) == 1 and res.branches[0].status == "end"
    assert res.branches[0].stable[0] and res.branches[0].stable[-1] and not res.branches[0].stable.all()


def test_a_fold_inside_the_path_is_found_from_the_far_end():
    """b from -4 to -2.5: the high attractor and the saddle are born inside; only s = 1 has them."""
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-4.0], activation="logistic")
    end = dynrnn.RNN(W_rec=[[5.0]], b=[-2.5], activation="logistic")
    res = dynrnn.path_bifurcations(net, end=end, periods=(1,), rng=4)
    assert res.kind.tolist() == ["fold"] and res.attractor.tolist() == [True]
    np.testing.assert_allclose(-4.0 + 1.5 * res.values, [-2.65561], rtol=0, atol=1e-5)
    np.testing.assert_array_equal(res.n_orbits, [[1], [3]])
    assert sorted(b.status for b in res.branches) == ["end", "returned"]


def test_no_bifurcation_no_event():
    net = dynrnn.RNN(W_rec=[[0.2, 0.1], [-0.3, 0.4]], W_in=[[1.0], [0.5]], b=[0.3, -0.1])
    end = dynrnn.RNN(W_rec=[[0.5, -0.2], [0.1, 0.3]], W_in=[[0.2], [-1.0]], b=[-0.2, 0.4])
    res = dynrnn.path_bifurcations(net, end=end, u=[0.7], rng=5)
    assert res.n_events == 0 and res.status == "complete"
    assert res.values.shape == (0,) and res.x.shape == (0, 2) and res.multipliers.shape == (0, 2)
    np.testing.assert_array_equal(res.n_orbits, [[1, 0], [1, 0]])
    assert [b.status for b in res.branches] == ["end"]
    assert "0 events" in res.message


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_continued_points_are_orbits_of_the_numpy_map(form):
    """Every branch point is a fixed point (or period-2 point) of the map at its s, by a plain NumPy step."""
    rng = np.random.default_rng(7)
    n, m = 4, 3
    net, end = (
        dynrnn.RNN(W_rec=rng.normal(0, g, (n, n)), W_in=rng.normal(0, 1, (n, m)), b=rng.normal(0, 0.3, n), form=form)
        for g in (0.6, 1.2)
    )
    u = np.array([0.2, -0.4, 0.1])
    res = dynrnn.path_bifurcations(net, end=end, u=u, rng=8)
    assert len(res.branches) >= 1
    for branch in res.branches:
        assert branch.values.shape == (branch.n_points,) and branch.x.shape == (branch.n_points, n)
        assert np.all((branch.values >= -1e-12) & (branch.values <= 1 + 1e-12))
        for s, x, mu in zip(branch.values, branch.x, branch.multipliers, strict=True):
            point_net = path_net(net, end, s)
            y = x
            for _ in range(branch.period):
                y = numpy_map(point_net, y, u)
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-9)
            # the multipliers: eigenvalues of the finite-difference Jacobian of the period map
            h, J = 1e-6, np.empty((n, n))
            for j in range(n):
                e = np.zeros(n)
                e[j] = h
                up, down = x + e, x - e
                for _ in range(branch.period):
                    up, down = numpy_map(point_net, up, u), numpy_map(point_net, down, u)
                J[:, j] = (up - down) / (2 * h)
            fd = np.sort(np.abs(np.linalg.eigvals(J)))
            np.testing.assert_allclose(fd, np.sort(np.abs(mu)), rtol=1e-6, atol=1e-7)  # central differences, h = 1e-6
    for s, x, period, kind in zip(res.values, res.x, res.period, res.kind, strict=True):
        assert 0 < s < 1 and kind in res.KINDS
        y = x
        for _ in range(period):
            y = numpy_map(path_net(net, end, s), y, u)
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-8)


def test_x0_seeds_the_search_and_the_input_shifts_the_bias():
    """A constant input u is the bias b + W_in u; a known orbit passed as x0 is found with a single random start."""
    net = dynrnn.RNN(W_rec=[[5.0]], W_in=[[1.0]], b=[-3.0], activation="logistic")
    end = dynrnn.RNN(W_rec=[[5.0]], W_in=[[1.0]], b=[-6.0], activation="logistic")
    res = dynrnn.path_bifurcations(net, end=end, u=[0.5], periods=1, rng=0)  # b + u from -2.5 to -5.5
    np.testing.assert_allclose(-2.5 - 3.0 * res.values, [-2.65561], rtol=0, atol=1e-5)
    lonely = dynrnn.path_bifurcations(net, end=end, u=[0.5], periods=1, n_starts=1, x0=[[-1.77603], [1.77603]], rng=0)
    np.testing.assert_array_equal(lonely.n_orbits[0], [3])  # both attractors and the saddle between them


def test_same_rng_same_result_and_inputs_untouched():
    W_a, W_b = rotation(0.9, 0.3) + 0.05, rotation(1.1, 0.3) - 0.05
    u, x0 = np.array([0.1]), np.zeros((1, 2))
    copies = (W_a.copy(), W_b.copy(), u.copy(), x0.copy())
    net = dynrnn.RNN(W_rec=W_a, W_in=[[1.0], [0.0]])
    end = dynrnn.RNN(W_rec=W_b, W_in=[[0.0], [1.0]])
    one = dynrnn.path_bifurcations(net, end=end, u=u, x0=x0, rng=11)
    two = dynrnn.path_bifurcations(net, end=end, u=u, x0=x0, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(one.values, two.values)
    assert one.kind.tolist() == two.kind.tolist()
    for a, b in zip((W_a, W_b, u, x0), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not one.values.flags.writeable and not one.branches[0].x.flags.writeable
    assert "PathBifurcationResult(" in repr(one) and "<float64 array" in repr(one)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"end": "not a net"}, TypeError, "end must be a dynrnn.RNN"),
        ({"end": dynrnn.RNN(W_rec=np.eye(2))}, ValueError, "same n_units"),
        ({"end": dynrnn.RNN(W_rec=[[1.0]], W_in=[[1.0, 2.0]])}, ValueError, "same n_inputs"),
        ({"end": dynrnn.RNN(W_rec=[[1.0]], W_in=[[1.0]], activation="logistic")}, ValueError, "same activation"),
        ({"end": dynrnn.RNN(W_rec=[[1.0]], W_in=[[1.0]], form="standard")}, ValueError, "same form"),
        ({"end": dynrnn.RNN(W_rec=[[1.0]], W_in=[[1.0]], leak=0.5)}, ValueError, "same leak"),
        ({"u": [np.nan]}, ValueError, "u must be finite"),
        ({"u": [1.0, 2.0]}, ValueError, r"u must have shape \(1,\)"),
        ({"u": [1j]}, TypeError, "u must be real"),
        ({"x0": [[np.inf]]}, ValueError, "x0 must be finite"),
        ({"x0": np.zeros((2, 3))}, ValueError, r"x0 must have shape \(k, n\)"),
        ({"periods": (3,)}, ValueError, "periods may hold only"),
        ({"periods": ()}, ValueError, "periods must be a non-empty"),
        ({"periods": (1.0,)}, TypeError, "periods must be an integer"),
        ({"n_starts": 0}, ValueError, "n_starts must be >= 1"),
        ({"n_starts": 2.5}, TypeError, "n_starts must be an integer"),
        ({"tol": -1.0}, ValueError, "tol must be finite and > 0"),
        ({"event_tol": np.nan}, ValueError, "event_tol must be finite"),
        ({"step": 1.0}, ValueError, "step must lie in"),
        ({"rng": -1}, ValueError, "rng"),
        ({"rng": "seed"}, TypeError, "rng"),
    ],
)
def test_bad_input(kwargs, error, match):
    net = dynrnn.RNN(W_rec=[[0.5]], W_in=[[1.0]])
    options = {"end": dynrnn.RNN(W_rec=[[1.5]], W_in=[[1.0]]), **kwargs}
    with pytest.raises(error, match=match):
        dynrnn.path_bifurcations(net, **options)


def test_bad_net_and_nan_weights():
    with pytest.raises(TypeError, match="net must be a dynrnn.RNN"):
        dynrnn.path_bifurcations([[0.5]], end=dynrnn.RNN(W_rec=[[1.5]]))
    with pytest.raises(ValueError, match="W_rec must be finite"):  # a network cannot hold NaN weights
        dynrnn.path_bifurcations(dynrnn.RNN(W_rec=[[0.5]]), end=dynrnn.RNN(W_rec=[[np.nan]]))
