"""descend: plain and clipped gradient descent on the eq. (8) error surface (Fig. 6)."""

import dataclasses
import math
from pathlib import Path

import naive_descent as naive
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn import _config
from dynrnn.gradients import descent as descent_module

# CPU vs naive over a few non-chaotic iterations: rounding only (house style, section 6).
RTOL, ATOL = 1e-10, 1e-12
FIELDS = ("w", "b", "E", "dE_dw", "dE_db", "grad_norm", "clipped")


def assert_matches_naive(res, starts, **kw):
    for i, (w0, b0) in enumerate(starts):
        ref = naive.descend(w0, b0, **kw)
        for name, expected in zip(FIELDS, ref, strict=True):
            got = getattr(res, name)[:, i]
            if name == "clipped":
                assert_array_equal(got, expected)
            else:
                assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=f"{name}, start {i}")


# ---------------------------------------------------------------------------
# Against the naive reference
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_plain_descent_matches_naive(name):
    starts = [(1.0, -1.5), (3.5, -0.5), (2.0, 0.3)]
    w0, b0 = np.array(starts).T
    kw = {"lr": 0.7, "n_iter": 6, "x0": 0.3, "n_steps": 20, "target": 0.6}
    res = dynrnn.descend(w0, b0, activation=name, **kw)
    assert_matches_naive(res, starts, name=name, threshold=None, **kw)
    assert res.threshold is None and not res.clipped.any() and not res.diverged.any()
    assert_array_equal(res.diverged_at, -1)


def test_clipped_descent_matches_naive_at_the_fig6_settings():
    # Fig. 6 model (x0 = 0.5, T = 50, target 0.7), starts below the wall, before any step reaches it.
    starts = [(5.0, -4.0), (6.0, -3.8), (4.6, -2.9)]
    w0, b0 = np.array(starts).T
    kw = {"lr": 2.0, "n_iter": 8, "threshold": 0.045}
    res = dynrnn.descend(w0, b0, activation="logistic", **kw)
    assert_matches_naive(res, starts, **kw)
    assert res.clipped.any() and not res.clipped.all()  # both branches of Algorithm 1 are exercised


def test_threshold_above_every_norm_is_plain_descent():
    kw = {"lr": 0.5, "n_iter": 5, "n_steps": 15, "activation": "logistic"}
    plain = dynrnn.descend([2.0, 3.0], [-1.0, -2.0], **kw)
    clipped = dynrnn.descend([2.0, 3.0], [-1.0, -2.0], threshold=1e6, **kw)
    assert not clipped.clipped.any()
    for name in ("w", "b", "E", "grad_norm"):
        assert_array_equal(getattr(clipped, name), getattr(plain, name))


def test_clipping_goes_through_clip_grad_norm(monkeypatch):
    calls = []
    original = descent_module.clip_grad_norm

    def spy(grads, threshold, **kw):
        calls.append(threshold)
        return original(grads, threshold, **kw)

    monkeypatch.setattr(descent_module, "clip_grad_norm", spy)
    dynrnn.descend([5.0, 6.0], -4.0, lr=2.0, n_iter=3, threshold=0.05, activation="logistic")
    assert calls == [0.05] * 6  # one call per start and update


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@given(
    w0=st.floats(-6.0, 8.0),
    b0=st.floats(-5.0, 2.0),
    lr=st.floats(0.01, 5.0),
    threshold=st.floats(1e-3, 1.0),
    n_iter=st.integers(0, 6),
)
def test_clipped_steps_are_at_most_lr_threshold(w0, b0, lr, threshold, n_iter):
    res = dynrnn.descend(
        [w0, w0 + 0.5], b0, lr=lr, n_iter=n_iter, threshold=threshold, n_steps=12, activation="logistic"
    )
    step = res.step_length
    # step_length differences iterates of size <= ~10: rounding of about eps * 10 in absolute terms
    atol = 1e-14
    assert res.w.shape == res.E.shape == (n_iter + 1, 2) and step.shape == (n_iter, 2)
    assert not res.diverged.any()  # logistic: bounded states, finite gradients
    assert np.all(step <= lr * threshold * (1 + 1e-12) + atol)
    # a step is clipped exactly when the norm reaches the threshold; then its length is lr * threshold
    assert_array_equal(res.clipped, res.grad_norm >= threshold)
    assert_allclose(step[res.clipped], lr * threshold, rtol=1e-12, atol=atol)
    assert_allclose(step[~res.clipped], lr * res.grad_norm[~res.clipped], rtol=1e-12, atol=atol)
    # the recorded norm is that of the recorded gradient
    assert_allclose(res.grad_norm, np.hypot(res.dE_dw, res.dE_db)[:-1], rtol=1e-15)


def test_zero_iterations_give_the_starts():
    w0, b0 = np.array([[4.0], [5.5]]), np.array([-3.0, -2.0, 0.5])  # broadcast to (2, 3): S = 6
    res = dynrnn.descend(w0, b0, lr=1.0, n_iter=0, threshold=0.1, activation="logistic")
    W, B = np.broadcast_arrays(w0, b0)
    assert res.w.shape == (1, 6) and res.grad_norm.shape == (0, 6) and res.clipped.shape == (0, 6)
    assert_array_equal(res.w[0], W.ravel())
    assert_array_equal(res.b[0], B.ravel())
    surface = dynrnn.error_surface(W.ravel(), B.ravel(), activation="logistic")
    assert_array_equal(res.E[0], surface.E)
    assert_array_equal(res.dE_db[0], surface.dE_db)
    assert res.n_starts == 6 and res.n_iter == 0


def test_plain_descent_is_thrown_by_the_wall_and_clipped_descent_is_not():
    # Fig. 6: from below the wall, plain GD climbs to it and one step throws it far onto the
    # high plateau (E ~ 0.09, flat); clipped GD from the same start follows the valley down to E ~ 0.
    kw = {"lr": 2.0, "n_iter": 60, "activation": "logistic"}
    plain = dynrnn.descend(5.0, -4.0, **kw)
    clip = dynrnn.descend(5.0, -4.0, threshold=0.1, **kw)
    assert plain.step_length.max() > 5.0 and plain.b[-1, 0] > 3.0
    assert plain.E[-1, 0] > 0.08
    assert clip.step_length.max() <= 0.2 * (1 + 1e-12)
    assert clip.E[-1, 0] < 0.02 and -5.0 < clip.b[-1, 0] < 0.0
    assert clip.n_clipped[0] > 0


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------
def test_divergence_is_flagged_and_frozen_not_raised():
    # linear sigma, x_T = w^T x_0 + b (w^T - 1)/(w - 1): from w = 1.5 the first step throws w to ~-1e17,
    # where x_T overflows; from w = 0.9 it takes two steps; from w = 0.5 descent converges.
    res = dynrnn.descend([1.5, 0.9, 0.5], 0.0, lr=0.2, n_iter=6, x0=1.0, activation="linear")
    assert_array_equal(res.diverged, [True, True, False])
    assert_array_equal(res.diverged_at, [1, 2, -1])
    assert res.n_diverged == 2
    for i, k in ((0, 1), (1, 2)):
        assert math.isfinite(res.w[k, i]) and not math.isfinite(res.E[k, i])
        for name in ("w", "b", "E", "dE_dw", "dE_db"):
            arr = getattr(res, name)[:, i]
            assert_array_equal(arr[k + 1 :], np.full(arr.size - k - 1, arr[k]))
        assert np.isnan(res.grad_norm[k + 1 :, i]).all() and not np.isfinite(res.grad_norm[k, i])
        assert not res.clipped[k:, i].any()
    assert np.isfinite(res.E[:, 2]).all() and np.isfinite(res.grad_norm[:, 2]).all()


def test_update_overflowing_the_float_range_is_divergence():
    # finite gradient (~1e101), but lr * gradient overflows: no update, the start is frozen at iterate 0
    res = dynrnn.descend(2.0, 0.0, lr=1e300, n_iter=3, x0=1.0, n_steps=200, activation="linear", threshold=1e300)
    assert res.diverged_at[0] == 0 and math.isfinite(res.grad_norm[0, 0])
    assert_array_equal(res.w[:, 0], 2.0)


def test_nonfinite_raise():
    with pytest.raises(ValueError, match="nonfinite='raise'"):
        dynrnn.descend([0.5, 1.5], 0.0, lr=0.2, n_iter=4, x0=1.0, activation="linear", nonfinite="raise")


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------
def test_backends_agree(backend, monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)
    kw = {"lr": 1.5, "n_iter": 3, "threshold": 0.05, "n_steps": 9, "x0": 0.4, "activation": "logistic"}
    w0, b0 = [4.5, 5.5, 6.5], [-3.0, -3.4, -4.0]
    ref = dynrnn.descend(w0, b0, **kw)
    res = dynrnn.descend(w0, b0, backend=backend, **kw)
    for name in ("w", "b", "E", "dE_dw", "dE_db", "grad_norm"):
        assert_allclose(getattr(res, name), getattr(ref, name), rtol=CUDA_RTOL, atol=CUDA_ATOL)
    assert_array_equal(res.clipped, ref.clipped)


# ---------------------------------------------------------------------------
# Results, inputs, errors
# ---------------------------------------------------------------------------
def test_result_read_only_and_inputs_untouched():
    w0, b0 = np.array([4.5, 5.0]), np.array([-3.0])
    copies = w0.copy(), b0.copy()
    res = dynrnn.descend(w0, b0, lr=1.0, n_iter=2, threshold=0.1, activation="logistic")
    assert_array_equal(w0, copies[0], strict=True)
    assert_array_equal(b0, copies[1], strict=True)
    assert not np.shares_memory(res.w, w0) and not np.shares_memory(res.b, b0)
    for f in dataclasses.fields(res):
        value = getattr(res, f.name)
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lr = 2.0
    assert "w=<float64 array (3, 2)>" in repr(res) and "threshold=0.1" in repr(res)
    assert isinstance(res, dynrnn.DescentResult)


GOOD = {"w0": 5.0, "b0": -4.0, "lr": 1.0, "n_iter": 2}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"lr": float("inf")}, ValueError, "lr"),
        ({"lr": "1"}, TypeError, "lr"),
        ({"lr": True}, TypeError, "lr"),
        ({"n_iter": -1}, ValueError, "n_iter"),
        ({"n_iter": 2.0}, TypeError, "n_iter"),
        ({"threshold": 0.0}, ValueError, "threshold"),
        ({"threshold": -0.5}, ValueError, "threshold"),
        ({"threshold": float("nan")}, ValueError, "threshold"),
        ({"threshold": [1.0]}, TypeError, "threshold"),
        ({"w0": [5.0, np.nan]}, ValueError, "w0"),
        ({"b0": np.inf}, ValueError, "b0"),
        ({"w0": [1.0 + 1j]}, TypeError, "w0"),
        ({"b0": "x"}, TypeError, "b0"),
        ({"w0": [1.0, 2.0], "b0": [1.0, 2.0, 3.0]}, ValueError, "w0 and b0 must broadcast"),
        ({"w0": []}, ValueError, "w0 and b0"),
        ({"nonfinite": "shrink"}, ValueError, "nonfinite"),
        ({"nonfinite": None}, ValueError, "nonfinite"),
        ({"x0": [0.5, 0.6]}, ValueError, "x0"),
        ({"x0": np.nan}, ValueError, "x0"),
        ({"target": np.inf}, ValueError, "target"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_steps": 5.0}, TypeError, "n_steps"),
        ({"activation": "softplus"}, ValueError, "activation"),
        ({"backend": "tpu"}, ValueError, "backend"),
    ],
)
def test_descend_rejects_bad_input(kwargs, error, match):
    args = {**GOOD, **kwargs}
    w0, b0 = args.pop("w0"), args.pop("b0")
    with pytest.raises(error, match=match):
        dynrnn.descend(w0, b0, **args)


@pytest.mark.slow
def test_error_surface_figure_quick(tmp_path):
    from dynrnn.cli import main

    checkout = Path(__file__).resolve().parents[1]
    args = ["figures", "error_surface", "--preset", "quick", "--root", str(checkout), "--out", str(tmp_path)]
    assert main(args) == 0
    for ext in ("png", "npz", "json", "csv"):  # the quick preset (not the script's default) writes <stem>_quick
        assert (tmp_path / f"error_surface_quick.{ext}").is_file()
    with np.load(tmp_path / "error_surface_quick.npz") as d:
        # census_throw_* is NaN for the census runs never thrown
        assert all(np.isfinite(d[k]).all() for k in d.files if not k.startswith("census_throw"))
        # plain runs are thrown on the wall (w >= 4.5, |g| >= 1e2) far off; clipped runs stay and end low
        assert (d["throw_k"] >= 0).all() and (d["throw_w"] >= 4.5).all() and (d["throw_grad_norm"] >= 100).all()
        assert (d["plain_b"].max(axis=1) > 1.0).all()
        assert (d["clip_b"].max(axis=1) < -2.0).all() and (d["clip_E"][:, -1] < 0.01).all()
        # the clipped runs make the same updates as the plain ones up to the throw
        for i, k in enumerate(d["throw_k"]):
            np.testing.assert_array_equal(d["clip_w"][i, : k + 1], d["plain_w"][i, : k + 1])
        # the exact wall peaks lie on the wall line b = 0.5 - sigma(0.5) w for w >= 5
        on_line = d["wall_w"] >= 5.0
        assert_allclose(d["wall_b"][on_line], 0.5 - 0.6224593312018546 * d["wall_w"][on_line], atol=1e-4)
