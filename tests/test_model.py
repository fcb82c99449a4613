"""The RNN container: construction, defaults, read-only copies, dtype."""

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn


def test_defaults():
    net = dynrnn.RNN(W_rec=np.eye(3))
    assert net.n_units == 3
    assert net.n_inputs == 0
    assert net.W_in.shape == (3, 0)
    assert_array_equal(net.b, np.zeros(3))
    assert net.activation == "tanh"
    assert net.form == "paper"
    assert net.leak is None
    assert net.dtype == np.float64
    for arr in (net.W_rec, net.W_in, net.b):
        assert arr.dtype == np.float64


def test_construction(rng):
    W_rec, W_in, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 2)), rng.normal(size=4)
    net = dynrnn.RNN(W_rec, W_in=W_in, b=b, activation="logistic", form="standard", leak=0.3)
    assert (net.n_units, net.n_inputs) == (4, 2)
    assert_allclose(net.W_rec, W_rec, rtol=0, atol=0)
    assert_allclose(net.W_in, W_in, rtol=0, atol=0)
    assert_allclose(net.b, b, rtol=0, atol=0)
    assert (net.activation, net.form) == ("logistic", "standard")
    assert net.leak.shape == (4,)
    assert_allclose(net.leak, 0.3, rtol=0, atol=0)


def test_leak_per_unit():
    net = dynrnn.RNN(np.eye(2), leak=[0.0, 1.0])
    assert_allclose(net.leak, [0.0, 1.0], rtol=0, atol=0)


def test_accepts_lists_and_integers():
    net = dynrnn.RNN([[1, 2], [3, 4]], W_in=[[1], [0]], b=[1, -1])
    assert net.W_rec.dtype == np.float64
    assert_allclose(net.W_rec, [[1.0, 2.0], [3.0, 4.0]], rtol=0, atol=0)
    assert_allclose(net.b, [1.0, -1.0], rtol=0, atol=0)


def test_copies_are_independent_of_the_caller(rng):
    W_rec, W_in, b, leak = rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), rng.normal(size=3), np.full(3, 0.5)
    copies = [a.copy() for a in (W_rec, W_in, b, leak)]
    net = dynrnn.RNN(W_rec, W_in=W_in, b=b, leak=leak)
    for a in (W_rec, W_in, b, leak):
        a[...] = 99.0
    for held, copy in zip((net.W_rec, net.W_in, net.b, net.leak), copies, strict=True):
        assert_allclose(held, copy, rtol=0, atol=0)


def test_arrays_are_read_only(rng):
    net = dynrnn.RNN(rng.normal(size=(2, 2)), W_in=rng.normal(size=(2, 1)), b=rng.normal(size=2), leak=0.2)
    for arr in (net.W_rec, net.W_in, net.b, net.leak):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0


def test_default_arrays_are_read_only():
    net = dynrnn.RNN(np.eye(2))
    for arr in (net.W_in, net.b):
        assert not arr.flags.writeable


def test_frozen():
    net = dynrnn.RNN(np.eye(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.W_rec = np.zeros((2, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.activation = "relu"


def test_float32(rng):
    W_rec = rng.normal(size=(3, 3))
    net = dynrnn.RNN(W_rec, W_in=np.ones((3, 1)), b=np.ones(3), leak=0.25, dtype=np.float32)
    assert net.dtype == np.float32
    for arr in (net.W_rec, net.W_in, net.b, net.leak):
        assert arr.dtype == np.float32
    assert_allclose(net.W_rec, W_rec.astype(np.float32), rtol=0, atol=0)


def test_read_only_input_is_accepted():
    W = np.eye(2)
    W.flags.writeable = False
    net = dynrnn.RNN(W)
    assert_allclose(net.W_rec, np.eye(2), rtol=0, atol=0)


def test_repr_shows_sizes():
    text = repr(dynrnn.RNN(np.eye(3), W_in=np.ones((3, 2)), activation="relu"))
    assert "n_units=3" in text
    assert "n_inputs=2" in text
    assert "relu" in text
