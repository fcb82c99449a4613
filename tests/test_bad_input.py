"""Bad input on the dynamics and analysis side is refused with a ValueError or TypeError naming the argument.

Issue 13, item 3 (the outside probe, ../shared/reviews/bad-input-probe.md).  `CASES` is the table of
``(name, callable, kwargs, exception, match)``, in the format of ``tests/test_bad_input_training.py``:
each call must raise ``exception`` with a message matching ``match`` (a regular expression naming the
argument).  Huge sizes are refused from an estimate, before anything is allocated or computed, so every
case is instant.  Below the table: the caller's arrays are never frozen, and the union of both tables
covers every public callable.  The Ctrl-C class is tested in ``tests/test_chunks.py``.
"""

import importlib.util
import inspect
import pathlib

import numpy as np
import pytest

import dynrnn
from dynrnn import single_unit as su

HUGE = 10**12  # far beyond any memory, or the work cap
TOO_BIG = 2**64  # does not fit in int64

NETA = dynrnn.RNN([[0.5, 0.1], [0.2, 0.3]], b=[0.1, -0.1], activation="tanh")
NET2 = dynrnn.RNN([[0.5, 0.1], [0.2, 0.3]], W_in=[[1.0], [0.5]], b=[0.1, -0.1], activation="tanh")
NETS = dynrnn.RNN([[0.5, 0.1], [0.2, 0.3]], W_in=[[1.0], [0.5]], b=[0.1, -0.1], activation="tanh", form="standard")
NET1 = dynrnn.RNN([[5.0]], b=[-2.5], activation="logistic")
NETB = dynrnn.RNN([[2.0, 0.1], [0.1, 2.0]], activation="tanh")
U = np.zeros((5, 3, 1))
P = np.zeros((5, 3, 2))
GRADIENT = dynrnn.bptt(NETS, None, U, P)
AXIS = np.linspace(-1.0, 1.0, 5)
WIDE = np.linspace(-1.0, 1.0, 10**5)  # a 1e5 x 1e5 grid from two small axes
COLUMN, ROW = np.zeros((10**5, 1)), np.zeros((1, 10**5))
LOGISTIC = {"activation": "logistic"}

ITERATE = dict(net=NETA, x0=[0.1, 0.2], n_steps=5)
GRID = dict(W_rec=np.stack([np.eye(2)] * 3), b=[0.1, 0.2], x0=np.zeros((3, 2)), n_steps=10, activation="tanh", n_keep=2)
UNIT_GRID = dict(W_rec=5.0, b=[-2.5, -2.5], x0=[-3.0, 3.0], n_steps=50, activation="logistic")
SENSITIVITY = dict(net=NET1, x0=[0.1], delta=1e-8, n_steps=50)
ORBITS = dict(net=NET1, parameter="b", values=np.linspace(-3, -2, 5), n_starts=4, n_transient=50, n_keep=4, rng=0)
BASINS = dict(net=NETB, grid=(AXIS, AXIS), n_steps=100)
FIXED = dict(net=NET2, n_starts=10, rng=0)
CONTINUATION = dict(net=NET1, parameter=("b", 0), stop=-2.0, start=-3.0, max_steps=300)
FOLDS = dict(net=NET1, parameters=(("b", 0), ("W_rec", 0, 0)), x0=[0.96242], start=[-2.65561, 5.0], max_steps=50)
BPTT = dict(net=NET2, x0=[0.1, 0.2], inputs=U, targets=P)
AUTONOMOUS_BPTT = dict(net=NETA, x0=None, inputs=None, targets=np.zeros((1, 2)), at="last")
TANGENTS = dict(w=[4.0, 5.0], b=[-2.0, -2.5], x0=0.5, n_steps=20)
SURFACE = dict(w=np.linspace(3, 8, 4)[:, None], b=np.linspace(-5, 0, 3)[None, :], **LOGISTIC)
WALL = dict(w=[5.0, 6.0], b_range=(-5.0, 0.0), n_grid=11, **LOGISTIC)
DESCEND = dict(w0=5.0, b0=-2.0, lr=0.1, n_iter=5, threshold=1.0, **LOGISTIC)
GRADS = {"W_rec": np.full((2, 2), 2.0), "b": np.ones(2)}


def _with(base, **changes):
    return {**base, **changes}


CASES = [
    # --- A. sizes and counts: estimated before allocating; refused if they cannot fit or finish
    ("iterate(n_steps=1e12)", dynrnn.iterate, _with(ITERATE, n_steps=HUGE), ValueError, "n_steps"),
    ("iterate(n_steps=2**64)", dynrnn.iterate, _with(ITERATE, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("iterate(n_steps=2.5)", dynrnn.iterate, _with(ITERATE, n_steps=2.5), TypeError, "n_steps"),
    ("iterate(n_steps=True)", dynrnn.iterate, _with(ITERATE, n_steps=True), TypeError, "n_steps"),
    ("iterate_grid(n_steps=1e12)", dynrnn.iterate_grid, _with(GRID, n_steps=HUGE), ValueError, "n_steps"),
    ("iterate_grid(n_steps=2**64)", dynrnn.iterate_grid, _with(GRID, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("iterate_grid(n_keep=1e12)", dynrnn.iterate_grid, _with(GRID, n_steps=HUGE, n_keep=HUGE), ValueError, "n_keep"),
    (
        "iterate_grid(the probe's two maps, n_steps=1e12)",
        dynrnn.iterate_grid,
        _with(UNIT_GRID, n_steps=HUGE),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "iterate_grid(one unit, n_steps=1e14)",
        dynrnn.iterate_grid,
        _with(UNIT_GRID, n_steps=10**14),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "iterate_grid(one unit, n_keep=1e12)",
        dynrnn.iterate_grid,
        _with(UNIT_GRID, n_steps=HUGE, n_keep=HUGE),
        ValueError,
        "n_keep",
    ),  # fmt: skip
    ("sensitivity(n_steps=1e12)", dynrnn.sensitivity, _with(SENSITIVITY, n_steps=HUGE), ValueError, "n_steps"),
    ("sensitivity(n_steps=2**64)", dynrnn.sensitivity, _with(SENSITIVITY, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("orbit_diagram(n_starts=1e12)", dynrnn.orbit_diagram, _with(ORBITS, n_starts=HUGE), ValueError, "n_starts"),
    ("orbit_diagram(n_starts=2**64)", dynrnn.orbit_diagram, _with(ORBITS, n_starts=TOO_BIG), ValueError, "n_starts"),
    ("orbit_diagram(n_keep=1e12)", dynrnn.orbit_diagram, _with(ORBITS, n_keep=HUGE), ValueError, "n_keep"),
    (
        "orbit_diagram(n_transient=1e12)",
        dynrnn.orbit_diagram,
        _with(ORBITS, n_transient=HUGE),
        ValueError,
        "n_transient",
    ),  # fmt: skip
    (
        "orbit_diagram(n_transient=2**64)",
        dynrnn.orbit_diagram,
        _with(ORBITS, n_transient=TOO_BIG),
        ValueError,
        "n_transient",
    ),  # fmt: skip
    ("basins(grid 1e5 x 1e5)", dynrnn.basins, _with(BASINS, grid=(WIDE, WIDE)), ValueError, "grid"),
    ("basins(n_steps=1e12)", dynrnn.basins, _with(BASINS, n_steps=HUGE), ValueError, "n_steps"),
    ("basins(n_steps=2**64)", dynrnn.basins, _with(BASINS, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("fixed_points(n_starts=1e12)", dynrnn.fixed_points, _with(FIXED, n_starts=HUGE), ValueError, "n_starts"),
    ("fixed_points(n_starts=1e9)", dynrnn.fixed_points, _with(FIXED, n_starts=10**9), ValueError, "n_starts"),
    ("fixed_points(max_iter=2**64)", dynrnn.fixed_points, _with(FIXED, max_iter=TOO_BIG), ValueError, "max_iter"),
    ("fixed_points(max_iter=1e12)", dynrnn.fixed_points, _with(FIXED, max_iter=HUGE), ValueError, "max_iter"),
    (
        "fixed_points(trajectory_steps=1e12)",
        dynrnn.fixed_points,
        _with(FIXED, trajectory_steps=HUGE),
        ValueError,
        "trajectory_steps",
    ),  # fmt: skip
    (
        "fixed_points(trajectory_steps=2**64)",
        dynrnn.fixed_points,
        _with(FIXED, trajectory_steps=TOO_BIG),
        ValueError,
        "trajectory_steps",
    ),  # fmt: skip
    (
        "continuation(max_steps=2**64)",
        dynrnn.continuation,
        _with(CONTINUATION, max_steps=TOO_BIG),
        ValueError,
        "max_steps",
    ),  # fmt: skip
    (
        "jacobian_products(n_steps=1e12)",
        dynrnn.jacobian_products,
        _with(ITERATE, n_steps=HUGE),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "jacobian_products(n_steps=2**64)",
        dynrnn.jacobian_products,
        _with(ITERATE, n_steps=TOO_BIG),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "lyapunov_spectrum(n_steps=1e12)",
        dynrnn.lyapunov_spectrum,
        _with(ITERATE, n_steps=HUGE),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "lyapunov_spectrum(n_steps=2**64)",
        dynrnn.lyapunov_spectrum,
        _with(ITERATE, n_steps=TOO_BIG),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    ("bptt(n_steps=1e12)", dynrnn.bptt, _with(AUTONOMOUS_BPTT, n_steps=HUGE), ValueError, "n_steps"),
    ("bptt(n_steps=2**64)", dynrnn.bptt, _with(AUTONOMOUS_BPTT, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("su.iterate_tangents(n_steps=1e12)", su.iterate_tangents, _with(TANGENTS, n_steps=HUGE), ValueError, "n_steps"),
    (
        "su.iterate_tangents(n_steps=2**64)",
        su.iterate_tangents,
        _with(TANGENTS, n_steps=TOO_BIG),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "su.iterate_tangents(grid 1e5 x 1e5)",
        su.iterate_tangents,
        _with(TANGENTS, w=COLUMN, b=ROW),
        ValueError,
        "w, b and x0",
    ),  # fmt: skip
    ("su.fixed_points(grid 1e5 x 1e5)", su.fixed_points, dict(w=COLUMN, b=ROW), ValueError, "w and b"),
    ("su.period2_orbits(grid 1e5 x 1e5)", su.period2_orbits, dict(w=COLUMN, b=ROW), ValueError, "w and b"),
    ("su.fold_curve(n=1e10)", su.fold_curve, dict(n=10**10, **LOGISTIC), ValueError, r"\bn\b"),
    ("su.fold_curve(n=2**64)", su.fold_curve, dict(n=TOO_BIG, **LOGISTIC), ValueError, r"\bn\b"),
    ("error_surface(n_steps=1e12)", dynrnn.error_surface, _with(SURFACE, n_steps=HUGE), ValueError, "n_steps"),
    ("error_surface(n_steps=2**64)", dynrnn.error_surface, _with(SURFACE, n_steps=TOO_BIG), ValueError, "n_steps"),
    (
        "error_surface(grid 1e5 x 1e5)",
        dynrnn.error_surface,
        _with(SURFACE, w=COLUMN, b=ROW),
        ValueError,
        "w, b and x0",
    ),  # fmt: skip
    ("error_surface_wall(n_grid=1e12)", dynrnn.error_surface_wall, _with(WALL, n_grid=HUGE), ValueError, "n_grid"),
    (
        "error_surface_wall(n_grid=2**64)",
        dynrnn.error_surface_wall,
        _with(WALL, n_grid=TOO_BIG),
        ValueError,
        "n_grid",
    ),  # fmt: skip
    (
        "error_surface_wall(n_steps=2**64)",
        dynrnn.error_surface_wall,
        _with(WALL, n_steps=TOO_BIG),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    (
        "error_surface_wall(n_steps=1e9)",
        dynrnn.error_surface_wall,
        _with(WALL, n_steps=10**9),
        ValueError,
        "n_steps",
    ),  # fmt: skip
    ("descend(n_iter=1e12)", dynrnn.descend, _with(DESCEND, n_iter=HUGE), ValueError, "n_iter"),
    ("descend(n_iter=2**64)", dynrnn.descend, _with(DESCEND, n_iter=TOO_BIG), ValueError, "n_iter"),
    ("descend(n_steps=2**64)", dynrnn.descend, _with(DESCEND, n_steps=TOO_BIG), ValueError, "n_steps"),
    ("descend(n_steps=1e12)", dynrnn.descend, _with(DESCEND, n_steps=HUGE), ValueError, "n_steps"),
    # --- B. True is not 1.0
    *[
        (f"continuation({k}=True)", dynrnn.continuation, _with(CONTINUATION, **{k: True}), TypeError, k)
        for k in ("stop", "start", "step", "max_step", "tol", "event_tol")
    ],
    ("fold_continuation(step=True)", dynrnn.fold_continuation, _with(FOLDS, step=True), TypeError, "step"),
    ("sensitivity(delta=True)", dynrnn.sensitivity, _with(SENSITIVITY, delta=True), TypeError, "delta"),
    ("basins(tol=True)", dynrnn.basins, _with(BASINS, tol=True), TypeError, "tol"),
    ("basins(merge_tol=True)", dynrnn.basins, _with(BASINS, merge_tol=True), TypeError, "merge_tol"),
    ("error_surface(target=True)", dynrnn.error_surface, _with(SURFACE, target=True), TypeError, "target"),
    ("error_surface_wall(tol=True)", dynrnn.error_surface_wall, _with(WALL, tol=True), TypeError, "tol"),
    ("descend(lr=True)", dynrnn.descend, _with(DESCEND, lr=True), TypeError, "lr"),
    (
        "clip_grad_norm(threshold=True)",
        dynrnn.clip_grad_norm,
        dict(grads=GRADS, threshold=True),
        TypeError,
        "threshold",
    ),  # fmt: skip
    # --- C. silent NaN: overflowing ranges are refused, not computed
    (
        "error_surface_wall(b_range=(-1e308, 1e308))",
        dynrnn.error_surface_wall,
        _with(WALL, b_range=(-1e308, 1e308)),
        ValueError,
        "b_range",
    ),  # fmt: skip
    (
        "orbit_diagram(x0_range=(-1e308, 1e308))",
        dynrnn.orbit_diagram,
        _with(ORBITS, x0_range=(-1e308, 1e308)),
        ValueError,
        "x0_range",
    ),  # fmt: skip
    # --- D. errors that named the wrong thing, or were vague
    ("bptt(targets=<ragged>)", dynrnn.bptt, _with(BPTT, targets=[[[1.0, 2.0]], [[1.0]]]), TypeError, "targets"),
    (
        "orbit_diagram('gain', values=[1e308])",
        dynrnn.orbit_diagram,
        _with(ORBITS, parameter="gain", values=[1e308]),
        ValueError,
        "values",
    ),  # fmt: skip
    (
        "sensitivity(x0=[1e308], delta=1e308)",
        dynrnn.sensitivity,
        _with(SENSITIVITY, x0=[1e308], delta=1e308),
        ValueError,
        "delta",
    ),  # fmt: skip
    (
        "RNN(W_rec=1e39, float32)",
        dynrnn.RNN,
        dict(W_rec=[[1e39, 0.0], [0.0, 1.0]], dtype=np.float32),
        ValueError,
        "W_rec must fit in float32",
    ),  # fmt: skip
    ("su.fold_curve(w_max=[10, 10])", su.fold_curve, dict(w_max=[10.0, 10.0], **LOGISTIC), ValueError, "w_max"),
    # --- the remaining public callables: one bad option each
    ("activation('nope')", dynrnn.activation, dict(name="nope"), ValueError, "activation|name"),
    ("gamma('nope')", dynrnn.gamma, dict(name="nope"), ValueError, "activation|name"),
    (
        "vanishing_regularizer(form='bogus')",
        dynrnn.vanishing_regularizer,
        dict(net=NETS, result=GRADIENT, inputs=U, form="bogus"),
        ValueError,
        "form",
    ),  # fmt: skip
    (
        "vanishing_regularizer(result=None)",
        dynrnn.vanishing_regularizer,
        dict(net=NETS, result=None, inputs=U),
        TypeError,
        "result",
    ),  # fmt: skip
    (
        "clip_grad_value(threshold=-1)",
        dynrnn.clip_grad_value,
        dict(grads=GRADS, threshold=-1.0),
        ValueError,
        "threshold",
    ),  # fmt: skip
    ("su.fold_points(w=[nan])", su.fold_points, dict(w=[np.nan], **LOGISTIC), ValueError, r"\bw\b"),
    ("su.flip_points(w=[])", su.flip_points, dict(w=[], **LOGISTIC), ValueError, r"\bw\b"),
    ("su.cusp(activation='relu')", su.cusp, dict(activation="relu"), ValueError, "activation"),
    (
        "from_torch(<state_dict without weight_hh_l0>)",
        dynrnn.from_torch,
        dict(module={"weight_ih_l0": np.ones((3, 1))}),
        ValueError,
        "weight_hh_l0",
    ),  # fmt: skip
    ("to_torch(net='gru')", dynrnn.to_torch, dict(net="gru"), TypeError, r"\bnet\b"),
    ("path_bifurcations(end='net')", dynrnn.path_bifurcations, dict(net=NET1, end="net"), TypeError, r"\bend\b"),
    (
        "path_bifurcations(n_starts=0)",
        dynrnn.path_bifurcations,
        dict(net=NET1, end=NET1, n_starts=0),
        ValueError,
        "n_starts",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("name", "func", "kwargs", "exc", "match"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(name, func, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(**kwargs)


def test_the_table_covers_every_class():
    names = " ".join(c[0] for c in CASES)
    for needle in ("1e12", "2**64", "=True", "1e308", "ragged", "float32", "2.5"):
        assert needle in names


@pytest.mark.parametrize("func", [su.fold_points, su.flip_points, lambda w, **kw: su.fold_curve(w=w, **kw)])
def test_the_callers_w_is_neither_frozen_nor_shared(func):
    """Issue 13, item 3: the result is read-only, so it must hold a copy of ``w``, not the caller's array."""
    w = np.array([5.0, 6.0]) if func is not su.flip_points else np.array([-5.0, -6.0])
    res = func(w, **LOGISTIC)
    assert w.flags.writeable and not np.shares_memory(res.w, w)
    w[0] = 7.0  # the caller may still write
    assert res.w[0] != 7.0


def _records():
    """Result and record classes: fixed-field containers built by the library, not entry points."""
    return {obj for name in dynrnn.__all__ if inspect.isclass(obj := getattr(dynrnn, name)) and obj is not dynrnn.RNN}


def _public_callables():
    records = _records()
    found = {
        f"dynrnn.{name}": obj
        for name in dynrnn.__all__
        if callable(obj := getattr(dynrnn, name)) and not inspect.ismodule(obj) and obj not in records
    }
    found.update({f"dynrnn.single_unit.{name}": getattr(su, name) for name in su.__all__})
    return found


def _training_cases():
    path = pathlib.Path(__file__).with_name("test_bad_input_training.py")
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location("_bad_input_training_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def test_the_tables_cover_every_public_callable():
    """The union of this table and the training side's covers dynrnn.__all__ and dynrnn.single_unit."""
    covered = {id(c[1]) for c in CASES + _training_cases()}
    missing = sorted(name for name, obj in _public_callables().items() if id(obj) not in covered)
    assert not missing, f"no bad-input case for {missing}"
