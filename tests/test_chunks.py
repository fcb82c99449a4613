"""Long loops run in chunks of steps (so Ctrl-C interrupts them); chunked results equal one long call."""

import numpy as np
import pytest
from interrupts import interrupt_after_checkpoint
from numpy.testing import assert_array_equal

import dynrnn
from dynrnn import _config


def _both(monkeypatch, call):
    """``call()`` with one chunk for everything, then with chunks of a step or two."""
    whole = call()
    monkeypatch.setattr(_config, "CHUNK_WORK", 1)
    return whole, call()


@pytest.mark.parametrize("n_keep", [1, 3, 12])
def test_iterate_grid_chunks_equal_one_call(monkeypatch, n_keep):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 2, 2)) * 2.0
    W[0] = 3.0 * np.eye(2)  # linear: overflows
    call = lambda: dynrnn.iterate_grid(W, [0.1, -0.2], [1e305, 1.0], n_steps=11, activation="linear", n_keep=n_keep)  # noqa: E731
    whole, chunked = _both(monkeypatch, call)
    assert_array_equal(whole.x, chunked.x)
    assert_array_equal(whole.diverged_at, chunked.diverged_at)
    assert whole.diverged[0]


@pytest.mark.parametrize("n_keep", [1, 4, 21])
def test_single_unit_grid_chunks_equal_one_call(monkeypatch, n_keep):
    w = np.array([5.0, 1e300, 2.0])
    call = lambda: dynrnn.iterate_grid(w, -2.5, [0.3, 1e10, -1.0], n_steps=20, activation="linear", n_keep=n_keep)  # noqa: E731
    whole, chunked = _both(monkeypatch, call)
    assert_array_equal(whole.x, chunked.x)
    assert_array_equal(whole.diverged_at, chunked.diverged_at)
    assert whole.diverged[1]


def test_driven_iterate_chunks_equal_one_call(monkeypatch):
    net = dynrnn.RNN([[0.5, 0.2], [-0.3, 0.9]], W_in=[[1.0], [0.5]], b=[0.1, 0.0])
    u = np.random.default_rng(1).normal(size=(9, 1))
    whole, chunked = _both(monkeypatch, lambda: dynrnn.iterate(net, [0.1, 0.2], inputs=u))
    assert_array_equal(whole, chunked)


def test_ctrl_c_stops_a_long_iterate_grid(tmp_path):
    """A real SIGINT reaches a long compiled iteration within seconds (issue 13, item 3)."""
    started = tmp_path / "started"
    code = (
        "import dynrnn, pathlib\n"
        "dynrnn.iterate_grid(5.0, [-2.5, -2.5], [-3.0, 3.0], n_steps=10, activation='logistic')\n"  # compile first
        f"pathlib.Path({str(started)!r}).write_text('go')\n"
        "dynrnn.iterate_grid(5.0, [-2.5, -2.5], [-3.0, 3.0], n_steps=10**11, activation='logistic')\n"  # minutes
    )
    interrupt_after_checkpoint(code, started, within=5.0)


def test_fixed_points_chunks_of_starts_equal_one_call(monkeypatch):
    net = dynrnn.RNN([[2.0, 0.1], [0.1, 2.0]], b=[0.1, -0.2], activation="tanh")
    whole, chunked = _both(monkeypatch, lambda: dynrnn.fixed_points(net, n_starts=12, rng=3))
    for field in ("x", "starts", "status", "n_iter", "label"):
        assert_array_equal(getattr(whole, field), getattr(chunked, field))


def test_surface_and_tangent_chunks_of_points_equal_one_call(monkeypatch):
    w, b = np.linspace(3.0, 8.0, 7)[:, None], np.linspace(-5.0, 0.0, 5)[None, :]

    def call():
        surface = dynrnn.error_surface(w, b, activation="logistic")
        tangents = dynrnn.single_unit.iterate_tangents(w, b, 0.5, n_steps=30, activation="logistic")
        return surface, tangents

    (s1, t1), (s2, t2) = _both(monkeypatch, call)
    for a, c in ((s1.E, s2.E), (s1.dE_dw, s2.dE_dw), (s1.hessian_max_eig, s2.hessian_max_eig), (t1.dx_db, t2.dx_db)):
        assert_array_equal(a, c)
