"""Independent methods of the Dynamics issue checked against each other.

Continuation (pseudo-arclength, Newton on F(x) - x) and the brute-force orbit
diagram (iterate many starts, keep where they settle) share no code beyond the
model; Newton's multi-start fixed points and the exact single-unit solver share
none at all.  Each must see the same attractors.
"""

import numpy as np
import pytest

import dynrnn


@pytest.fixture(scope="module", params=["logistic", "tanh"])
def s_curve(request):
    """The S-shaped fixed-point branch of x <- 5 sigma(x) + b, continued in b across both folds."""
    activation = request.param
    b_hi, b_lo = (-1.0, -4.0) if activation == "logistic" else (4.0, -4.0)
    net = dynrnn.RNN([[5.0]], b=[b_hi], activation=activation)
    branch = dynrnn.continuation(net, ("b", 0), stop=b_lo)
    assert branch.converged, branch.message
    assert [e.kind for e in branch.events].count("fold") == 2
    return net, branch


def test_stable_branch_points_appear_in_the_orbit_diagram(s_curve):
    net, branch = s_curve
    # Right at a fold the multiplier tends to 1 and iteration converges arbitrarily
    # slowly; 400 steps reach 1e-6 wherever |multiplier| <= 0.95 (0.95**400 ~ 1e-9).
    contracting = branch.stable & (np.max(np.abs(branch.multipliers), axis=1) <= 0.95)
    stable = np.flatnonzero(contracting)[::3]
    diagram = dynrnn.orbit_diagram(
        net, ("b", 0), branch.values[stable], n_starts=16, x0_range=(-10.0, 10.0), n_transient=400, n_keep=2, rng=3
    )
    for row, k in enumerate(stable):
        settled = diagram.x[row, :, -1, 0]
        distance = np.min(np.abs(settled - branch.x[k, 0]))
        assert distance < 1e-6, (branch.values[k], branch.x[k, 0], np.unique(settled.round(8)))


def test_every_orbit_diagram_cluster_lies_on_a_stable_branch(s_curve):
    net, branch = s_curve
    values = np.linspace(branch.values.min() + 0.05, branch.values.max() - 0.05, 23)
    diagram = dynrnn.orbit_diagram(
        net, ("b", 0), values, n_starts=16, x0_range=(-10.0, 10.0), n_transient=400, n_keep=2, rng=4
    )
    # Every start settles on a fixed point (x_T == x_{T-1}) ...
    np.testing.assert_allclose(diagram.x[:, :, -1], diagram.x[:, :, -2], rtol=0, atol=1e-9)
    # ... that lies on the stable part of the continued branch: its distance, in the
    # (b, x) plane, to the polyline through consecutive stable branch points is far below
    # the continuation's step.
    both = branch.stable[:-1] & branch.stable[1:]
    p0 = np.column_stack([branch.values[:-1], branch.x[:-1, 0]])[both]
    p1 = np.column_stack([branch.values[1:], branch.x[1:, 0]])[both]
    for row, value in enumerate(values):
        for settled in np.unique(diagram.x[row, :, -1, 0].round(9)):
            assert _distance_to_segments(np.array([value, settled]), p0, p1) < 1e-3, (value, settled)


def _distance_to_segments(q, p0, p1):
    """Smallest Euclidean distance from point q to the segments p0[i] -- p1[i]."""
    d = p1 - p0
    t = np.clip(np.einsum("ij,ij->i", q - p0, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    return float(np.min(np.linalg.norm(p0 + t[:, None] * d - q, axis=1)))


def test_newton_fixed_points_of_one_unit_equal_the_exact_solver():
    for activation, b in (("logistic", -2.5), ("logistic", -2.4), ("tanh", 1.0), ("tanh", 3.5)):
        net = dynrnn.RNN([[5.0]], b=[b], activation=activation)
        newton = dynrnn.fixed_points(net, n_starts=40, rng=0)
        exact = dynrnn.single_unit.fixed_points(5.0, b, activation=activation)
        expected = exact.x[np.isfinite(exact.x)]
        np.testing.assert_allclose(np.sort(newton.x[:, 0]), np.sort(expected), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(np.sort(newton.stable), np.sort(exact.stable[np.isfinite(exact.x)]))


def test_continuation_folds_equal_the_exact_folds(s_curve):
    net, branch = s_curve
    folds = sorted(e.value for e in branch.events if e.kind == "fold")
    exact = dynrnn.single_unit.fold_points(5.0, activation=net.activation)
    np.testing.assert_allclose(folds, np.sort(exact.b), rtol=0, atol=1e-8)
