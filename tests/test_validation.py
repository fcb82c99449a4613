"""Bad arguments raise ValueError or TypeError with a message naming the argument."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn.single_unit import iterate_tangents

EYE = np.eye(2)
Z2 = np.zeros(2)


def grid(**kw):
    """iterate_grid with valid defaults, overridden by ``kw``."""
    args = {"W_rec": EYE, "b": Z2, "x0": Z2, "n_steps": 3, "activation": "tanh"}
    args.update(kw)
    return dynrnn.iterate_grid(args.pop("W_rec"), args.pop("b"), args.pop("x0"), n_steps=args.pop("n_steps"), **args)


def unit_grid(**kw):
    args = {"W_rec": np.ones(3), "b": np.zeros(3), "x0": np.zeros(3), "n_steps": 3, "activation": "tanh"}
    args.update(kw)
    return dynrnn.iterate_grid(args.pop("W_rec"), args.pop("b"), args.pop("x0"), n_steps=args.pop("n_steps"), **args)


def tangents(**kw):
    args = {"w": [1.0, 2.0], "b": 0.0, "x0": 0.5, "n_steps": 3}
    args.update(kw)
    return iterate_tangents(args.pop("w"), args.pop("b"), args.pop("x0"), n_steps=args.pop("n_steps"), **args)


def net(**kw):
    args = {"W_rec": EYE}
    args.update(kw)
    return dynrnn.RNN(**args)


DRIVEN = dynrnn.RNN(EYE, W_in=np.ones((2, 1)))


def iterate(**kw):
    args = {"net": DRIVEN, "x0": Z2, "n_steps": None, "inputs": np.zeros((4, 1))}
    args.update(kw)
    return dynrnn.iterate(**args)


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: grid(W_rec=np.ones((3, 4))), "W_rec"),
        (lambda: grid(W_rec=np.ones((2, 3, 4))), "W_rec"),
        (lambda: grid(W_rec=np.ones((1, 2, 2, 2))), "W_rec"),
        (lambda: grid(W_rec=np.ones((0, 0))), "W_rec"),
        (lambda: net(W_rec=np.ones((3, 4))), "W_rec"),
        (lambda: net(W_rec=np.ones(3)), "W_rec"),
        (lambda: net(W_rec=np.ones((0, 0))), "W_rec"),
        (lambda: grid(b=np.zeros(3)), "b"),
        (lambda: grid(b=np.zeros((2, 3))), "b"),
        (lambda: grid(b=np.zeros((1, 2, 2))), "b"),
        (lambda: net(b=np.zeros(3)), "b"),
        (lambda: net(b=np.zeros((1, 2))), "b"),
        (lambda: net(W_in=np.ones((3, 1))), "W_in"),
        (lambda: net(W_in=np.ones(2)), "W_in"),
        (lambda: grid(x0=np.zeros(3)), "x0"),
        (lambda: grid(x0=np.zeros((4, 3))), "x0"),
        (lambda: grid(x0=0.0), "x0"),
        (lambda: iterate(x0=np.zeros(3)), "x0"),
        (lambda: iterate(x0=np.zeros((1, 2))), "x0"),
        (lambda: iterate(inputs=np.zeros((4, 2))), "inputs"),
        (lambda: iterate(inputs=np.zeros(4)), "inputs"),
        (lambda: iterate(inputs=np.zeros((0, 1))), "inputs"),
        (lambda: iterate(net=dynrnn.RNN(EYE), inputs=np.zeros((4, 1))), "inputs"),
        (lambda: iterate(inputs=np.zeros((4, 1)), n_steps=5), "n_steps"),
        (lambda: iterate(inputs=None, n_steps=None), "n_steps"),
        (lambda: unit_grid(b=np.zeros((3, 1))), "b"),
        (lambda: unit_grid(x0=np.zeros((3, 1))), "x0"),
        (lambda: unit_grid(leak=np.zeros((3, 1))), "leak"),
        (lambda: grid(leak=np.zeros(3)), "leak"),
        (lambda: grid(leak=np.zeros((2, 2, 2))), "leak"),
        (lambda: net(leak=np.zeros(3)), "leak"),
        (lambda: net(leak=np.zeros((1, 2))), "leak"),
        (lambda: tangents(w=np.ones(3), b=np.ones(2)), "w, b and x0"),
    ],
)
def test_wrong_shape(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------------------
# Non-finite values
# ---------------------------------------------------------------------------
def _with(value, arr, where=0):
    arr = np.array(arr, dtype=np.float64)
    arr.flat[where] = value
    return arr


NONFINITE = [np.nan, np.inf, -np.inf]


@pytest.mark.parametrize("bad", NONFINITE)
@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda v: grid(W_rec=_with(v, EYE, 1)), "W_rec"),
        (lambda v: grid(b=_with(v, Z2)), "b"),
        (lambda v: grid(x0=_with(v, Z2, 1)), "x0"),
        (lambda v: grid(leak=_with(v, [0.5, 0.5])), "leak"),
        (lambda v: unit_grid(W_rec=_with(v, np.ones(3))), "W_rec"),
        (lambda v: unit_grid(b=_with(v, np.zeros(3), 2)), "b"),
        (lambda v: unit_grid(x0=_with(v, np.zeros(3))), "x0"),
        (lambda v: unit_grid(leak=v), "leak"),
        (lambda v: net(W_rec=_with(v, EYE)), "W_rec"),
        (lambda v: net(W_in=_with(v, np.ones((2, 1)))), "W_in"),
        (lambda v: net(b=_with(v, Z2)), "b"),
        (lambda v: net(leak=v), "leak"),
        (lambda v: iterate(x0=_with(v, Z2)), "x0"),
        (lambda v: iterate(inputs=_with(v, np.zeros((4, 1)), 3)), "inputs"),
        (lambda v: tangents(w=_with(v, [1.0, 2.0])), "w"),
        (lambda v: tangents(b=v), "b"),
        (lambda v: tangents(x0=v), "x0"),
    ],
)
def test_non_finite(make, name, bad):
    with pytest.raises(ValueError, match=rf"{name} must be finite"):
        make(bad)


# ---------------------------------------------------------------------------
# Counts
# ---------------------------------------------------------------------------
COUNT_CALLS = {
    "grid": lambda v: grid(n_steps=v),
    "unit_grid": lambda v: unit_grid(n_steps=v),
    "iterate": lambda v: dynrnn.iterate(DRIVEN, Z2, n_steps=v),
    "tangents": lambda v: tangents(n_steps=v),
}


@pytest.mark.parametrize("call", COUNT_CALLS.values(), ids=COUNT_CALLS.keys())
@pytest.mark.parametrize("bad", [0, -1, np.int64(0)])
def test_n_steps_too_small(call, bad):
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        call(bad)


@pytest.mark.parametrize("call", COUNT_CALLS.values(), ids=COUNT_CALLS.keys())
@pytest.mark.parametrize("bad", [3.0, True, False, np.float64(3.0), np.bool_(True), "3", 2.5])
def test_n_steps_not_an_integer(call, bad):
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        call(bad)


def test_n_steps_none():
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        grid(n_steps=None)
    with pytest.raises(ValueError, match="n_steps must be given"):
        dynrnn.iterate(DRIVEN, Z2)


@pytest.mark.parametrize("n_keep", [0, -1, 5, 100])
def test_n_keep_out_of_range(n_keep):
    with pytest.raises(ValueError, match="n_keep"):
        grid(n_steps=3, n_keep=n_keep)
    with pytest.raises(ValueError, match="n_keep"):
        unit_grid(n_steps=3, n_keep=n_keep)


@pytest.mark.parametrize("n_keep", [1.0, True, "2"])
def test_n_keep_not_an_integer(n_keep):
    with pytest.raises(TypeError, match="n_keep must be an integer"):
        grid(n_keep=n_keep)


def test_numpy_integer_counts_accepted():
    res = grid(n_steps=np.int64(3), n_keep=np.int32(4))
    assert res.x.shape == (1, 4, 2)


# ---------------------------------------------------------------------------
# Choices
# ---------------------------------------------------------------------------
CHOICE_CALLS = [
    ("activation", dynrnn.ACTIVATIONS, lambda v: grid(activation=v)),
    ("activation", dynrnn.ACTIVATIONS, lambda v: unit_grid(activation=v)),
    ("activation", dynrnn.ACTIVATIONS, lambda v: net(activation=v)),
    ("activation", dynrnn.ACTIVATIONS, lambda v: tangents(activation=v)),
    ("activation", dynrnn.ACTIVATIONS, dynrnn.activation),
    ("activation", dynrnn.ACTIVATIONS, dynrnn.gamma),
    ("form", dynrnn.FORMS, lambda v: grid(form=v)),
    ("form", dynrnn.FORMS, lambda v: unit_grid(form=v)),
    ("form", dynrnn.FORMS, lambda v: net(form=v)),
    ("backend", dynrnn.BACKENDS, lambda v: grid(backend=v)),
    ("backend", dynrnn.BACKENDS, lambda v: unit_grid(backend=v)),
    ("backend", dynrnn.BACKENDS, lambda v: tangents(backend=v)),
]


@pytest.mark.parametrize(("name", "valid", "call"), CHOICE_CALLS)
@pytest.mark.parametrize("bad", ["nope", "CPU", "", None, 1])
def test_unknown_choice_lists_valid_names(name, valid, call, bad):
    with pytest.raises(ValueError, match=name) as info:
        call(bad)
    for choice in valid:
        assert repr(choice) in str(info.value)


@pytest.mark.parametrize(
    "call",
    [lambda d: grid(dtype=d), lambda d: unit_grid(dtype=d), lambda d: net(dtype=d), lambda d: tangents(dtype=d)],
)
def test_bad_dtype(call):
    for bad in (np.int32, np.float16, np.complex128, "int64"):
        with pytest.raises(ValueError, match="dtype"):
            call(bad)
    with pytest.raises(TypeError, match="dtype"):
        call("not a dtype")


# ---------------------------------------------------------------------------
# Leak range
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-0.1, 1.1, -1e-300, 1.0 + 2**-52, [0.5, 2.0]])
@pytest.mark.parametrize(
    "call",
    [
        lambda v: grid(leak=v),
        lambda v: grid(W_rec=np.stack([EYE, EYE]), leak=np.broadcast_to(v, (2, 2))),
        lambda v: unit_grid(leak=np.asarray(v).flat[-1]),  # the out-of-range entry, as a scalar
        lambda v: unit_grid(W_rec=np.ones(2), b=np.zeros(2), x0=np.zeros(2), leak=np.broadcast_to(v, (2,))),
        lambda v: net(leak=v),
    ],
)
def test_leak_outside_unit_interval(call, bad):
    with pytest.raises(ValueError, match=r"leak must lie in \[0, 1\]"):
        call(bad)


def test_leak_end_points_accepted():
    for leak in (0.0, 1.0, [0.0, 1.0]):
        net(leak=leak)
        grid(leak=leak)


# ---------------------------------------------------------------------------
# Kinds of arrays
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "name", "shape"),
    [
        (lambda v: grid(W_rec=v), "W_rec", (2, 2)),
        (lambda v: grid(b=v), "b", (2,)),
        (lambda v: grid(x0=v), "x0", (2,)),
        (lambda v: grid(leak=v), "leak", (2,)),
        (lambda v: unit_grid(W_rec=v), "W_rec", (3,)),
        (lambda v: net(W_rec=v), "W_rec", (2, 2)),
        (lambda v: net(W_in=v), "W_in", (2, 1)),
        (lambda v: net(b=v), "b", (2,)),
        (lambda v: iterate(x0=v), "x0", (2,)),
        (lambda v: iterate(inputs=v), "inputs", (4, 1)),
        (lambda v: tangents(w=v), "w", (2,)),
        (lambda v: tangents(x0=v), "x0", (2,)),
    ],
)
@pytest.mark.parametrize("kind", ["complex", "object", "string"])
def test_non_real_arrays_are_type_errors(make, name, shape, kind):
    base = np.full(shape, 0.5)
    value = {
        "complex": base + 1j,
        "object": base.astype(object),
        "string": base.astype(str),
    }[kind]
    with pytest.raises(TypeError, match=name):
        make(value)


def test_ragged_input_is_a_type_error():
    with pytest.raises(TypeError, match="W_rec"):
        net(W_rec=[[1.0, 2.0], [3.0]])


def test_net_must_be_an_rnn():
    with pytest.raises(TypeError, match="net"):
        dynrnn.iterate(EYE, Z2, n_steps=3)


def test_integer_arrays_are_cast_to_float64():
    ints = grid(W_rec=np.array([[1, 0], [2, -1]]), b=np.array([1, 0]), x0=np.array([0, 1]), n_keep=4)
    floats = grid(W_rec=np.array([[1.0, 0.0], [2.0, -1.0]]), b=np.array([1.0, 0.0]), x0=np.array([0.0, 1.0]), n_keep=4)
    assert ints.x.dtype == np.float64
    assert_allclose(ints.x, floats.x, rtol=0, atol=0)
    unit = unit_grid(W_rec=np.array([1, 2, 3]), b=np.array([0, 1, 0]), x0=np.array([1, 1, 1]))
    unit_f = unit_grid(W_rec=np.array([1.0, 2.0, 3.0]), b=np.array([0.0, 1.0, 0.0]), x0=np.ones(3))
    assert_allclose(unit.x, unit_f.x, rtol=0, atol=0)
    model = net(W_rec=np.array([[1, 2], [3, 4]], dtype=np.int32), W_in=np.ones((2, 1), dtype=np.int64), b=[1, 2])
    for arr in (model.W_rec, model.W_in, model.b):
        assert arr.dtype == np.float64
    tan = tangents(w=np.array([1, 2]), b=0, x0=1)
    assert tan.x.dtype == np.float64


# ---------------------------------------------------------------------------
# Grid sizes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: grid(W_rec=np.stack([EYE] * 3), b=np.zeros((2, 2))),
        lambda: grid(W_rec=np.stack([EYE] * 3), x0=np.zeros((4, 2))),
        lambda: grid(b=np.zeros((3, 2)), x0=np.zeros((2, 2))),
        lambda: unit_grid(W_rec=np.ones(3), b=np.zeros(2)),
        lambda: unit_grid(W_rec=np.ones(3), x0=np.zeros(4)),
        lambda: unit_grid(W_rec=np.ones(3), leak=np.zeros(2)),
    ],
)
def test_grid_sizes_disagree(call):
    with pytest.raises(ValueError, match="grid sizes do not match"):
        call()


def test_leak_grid_size_disagrees():
    with pytest.raises(ValueError, match="leak"):
        grid(W_rec=np.stack([EYE] * 3), leak=np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: grid(W_rec=np.zeros((0, 2, 2))), "W_rec"),
        (lambda: grid(b=np.zeros((0, 2))), "b"),
        (lambda: grid(x0=np.zeros((0, 2))), "x0"),
        (lambda: unit_grid(W_rec=np.zeros(0), b=0.0, x0=0.0), "W_rec"),
        (lambda: unit_grid(W_rec=1.0, b=np.zeros(0), x0=0.0), "b"),
        (lambda: tangents(w=np.zeros(0)), "w, b and x0"),
    ],
)
def test_empty_grid(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_size_one_axes_broadcast():
    res = grid(W_rec=np.stack([EYE]), b=np.zeros((3, 2)), x0=np.zeros((1, 2)))
    assert res.x.shape == (3, 1, 2)
    unit = unit_grid(W_rec=np.ones(1), b=np.zeros(3), x0=np.zeros(1))
    assert unit.x.shape == (3, 1, 1)
    assert_array_equal(unit.diverged_at, -1)


# ---------------------------------------------------------------------------
# CUDA without a GPU or simulator
# ---------------------------------------------------------------------------
_NO_CUDA_SCRIPT = textwrap.dedent(
    """
    import dynrnn
    from dynrnn.single_unit import iterate_tangents
    calls = [
        lambda: dynrnn.iterate_grid(1.0, 0.0, 0.0, n_steps=3, activation="tanh", backend="cuda"),
        lambda: dynrnn.iterate_grid([[1.0]], [0.0], [0.0], n_steps=3, activation="tanh", backend="cuda"),
        lambda: iterate_tangents(1.0, 0.0, 0.0, n_steps=3, backend="cuda", activation="logistic"),
    ]
    for call in calls:
        try:
            call()
        except RuntimeError as exc:
            print("RuntimeError:", exc)
        else:
            print("RAN")
    """
)


@pytest.mark.parametrize("setting", [None, "0"])
def test_cuda_without_gpu_or_simulator(setting):
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if setting is not None:
        env["NUMBA_ENABLE_CUDASIM"] = setting
    proc = subprocess.run(
        [sys.executable, "-c", _NO_CUDA_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    if "RAN" in lines:
        pytest.skip("a real CUDA GPU is present")
    assert len(lines) == 3
    for line in lines:
        assert line.startswith("RuntimeError:")
        assert "NUMBA_ENABLE_CUDASIM" in line
