"""clip_grad_norm (Algorithm 1) and clip_grad_value: properties, non-finite policies, bad input."""

import dataclasses
import math
import types
from collections.abc import Mapping

import naive_clipping as naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn.gradients.clipping import SHRINK_ABOVE, SHRINK_RATE

# The norm is a sum of at most a few dozen squares: rounding only.
RTOL = 1e-12
KEYS = ("W_rec", "b", "W_in", "W_out")  # deliberately not sorted
CONTAINERS = ("dict", "tuple", "list")


def pack(arrays, container):
    """The gradients in the container under test."""
    if container == "dict":
        return dict(zip(KEYS, arrays, strict=False))
    return tuple(arrays) if container == "tuple" else list(arrays)


def unpack(grads):
    return list(grads.values()) if isinstance(grads, Mapping) else list(grads)


def assert_structure(out, given_grads):
    """Read-only container (mapping proxy for a mapping, tuple for a sequence), keys and order or length,
    shapes and float dtypes."""
    assert type(out) is (types.MappingProxyType if isinstance(given_grads, dict) else tuple)
    if isinstance(given_grads, dict):
        assert list(out) == list(given_grads)
    assert len(out) == len(given_grads)
    for o, g in zip(unpack(out), unpack(given_grads), strict=True):
        g = np.asarray(g)
        assert o.shape == g.shape
        assert o.dtype == (g.dtype if g.dtype.kind == "f" else np.float64)


def assert_fresh(out, given_grads, copies):
    """Inputs unchanged, outputs read-only and sharing no memory with the inputs."""
    for o, g, c in zip(unpack(out), unpack(given_grads), copies, strict=True):
        assert_array_equal(g, c, strict=True)
        assert not np.shares_memory(o, g)
        assert not o.flags.writeable


gradient_arrays = st.lists(
    arrays(
        np.float64,
        array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=len(KEYS),
)
thresholds = st.floats(1e-3, 1e4)
containers = st.sampled_from(CONTAINERS)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@given(arrs=gradient_arrays, threshold=thresholds, container=containers)
def test_clip_grad_norm_properties(arrs, threshold, container):
    grads = pack(arrs, container)
    copies = [a.copy() for a in arrs]
    res = dynrnn.clip_grad_norm(grads, threshold)
    out = unpack(res.grads)
    norm = naive.global_norm(arrs)
    assert_structure(res.grads, grads)
    assert_fresh(res.grads, grads, copies)
    assert_allclose(res.grad_norm, norm, rtol=RTOL, atol=0.0)
    assert not (res.skipped or res.shrunk)
    assert res.clipped == (res.grad_norm >= threshold)
    # Clipped norm at most the threshold, up to rounding.
    assert naive.global_norm(out) <= threshold * (1 + RTOL)
    # The direction is kept: one factor c in (0, 1] for every array.
    c = threshold / res.grad_norm if res.clipped else 1.0
    assert 0.0 < c <= 1.0
    for o, a in zip(out, arrs, strict=True):
        assert_allclose(o, c * a, rtol=RTOL, atol=0.0)
    for o, ref in zip(out, naive.clip_grad_norm(arrs, threshold), strict=True):
        assert_allclose(o, ref, rtol=RTOL, atol=0.0)
    if not res.clipped:  # below the threshold: the identity, bit for bit
        for o, a in zip(out, arrs, strict=True):
            assert_array_equal(o, a, strict=True)


@given(arrs=gradient_arrays, threshold=thresholds, container=containers)
def test_clip_grad_value_properties(arrs, threshold, container):
    grads = pack(arrs, container)
    copies = [a.copy() for a in arrs]
    res = dynrnn.clip_grad_value(grads, threshold)
    out = unpack(res.grads)
    assert_structure(res.grads, grads)
    assert_fresh(res.grads, grads, copies)
    assert_allclose(res.grad_norm, naive.global_norm(arrs), rtol=RTOL, atol=0.0)
    assert not (res.skipped or res.shrunk)
    changed = False
    for o, a, ref in zip(out, arrs, naive.clip_grad_value(arrs, threshold), strict=True):
        assert_array_equal(o, ref, strict=True)
        assert np.all(np.abs(o) <= threshold)
        changed |= bool(np.any(o != a))
    assert res.clipped == changed


@pytest.mark.parametrize("container", CONTAINERS)
def test_float32_stays_float32(rng, container):
    arrs = [rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=7).astype(np.float32)]
    grads = pack(arrs, container)
    res = dynrnn.clip_grad_norm(grads, 0.1)
    assert_structure(res.grads, grads)
    assert all(o.dtype == np.float32 for o in unpack(res.grads))
    # The norm is accumulated in float64, so it matches float64 of the float32 values.
    assert_allclose(res.grad_norm, naive.global_norm(arrs), rtol=RTOL, atol=0.0)
    assert res.clipped
    # float32 rounding of the factor and of each product
    assert_allclose(naive.global_norm(unpack(res.grads)), 0.1, rtol=1e-6, atol=0.0)
    value = dynrnn.clip_grad_value(grads, 0.1)  # 0.1 is not a float32: the bound rounds down
    assert all(o.dtype == np.float32 for o in unpack(value.grads))
    assert all(np.abs(o.astype(np.float64)).max() <= 0.1 for o in unpack(value.grads))
    assert value.clipped


def test_integer_input_becomes_float64():
    res = dynrnn.clip_grad_norm({"W_rec": np.array([[3, 0]]), "b": [4]}, 10.0)
    assert res.grads["W_rec"].dtype == np.float64
    assert_array_equal(res.grads["b"], [4.0], strict=False)
    assert res.grad_norm == 5.0 and not res.clipped


# ---------------------------------------------------------------------------
# Known answers and edge cases
# ---------------------------------------------------------------------------
def test_known_answer():
    grads, norm = dynrnn.clip_grad_norm({"W_rec": [[3.0]], "b": [4.0]}, 1.0)
    assert norm == 5.0
    assert_allclose(grads["W_rec"], [[0.6]], rtol=1e-15, atol=0.0)
    assert_allclose(grads["b"], [0.8], rtol=1e-15, atol=0.0)


def test_equality_is_clipped_with_factor_one():
    """The paper tests ``norm >= threshold``: at equality the gradient is clipped by a factor of 1."""
    res = dynrnn.clip_grad_norm([np.array([3.0, 4.0])], 5.0)
    assert res.grad_norm == 5.0 and res.clipped
    assert_array_equal(res.grads[0], [3.0, 4.0], strict=False)
    just_below = dynrnn.clip_grad_norm([np.array([3.0, 4.0])], np.nextafter(5.0, 6.0))
    assert not just_below.clipped


def test_zero_gradient():
    res = dynrnn.clip_grad_norm({"W_rec": np.zeros((2, 2)), "b": np.zeros(0)}, 1.0)
    assert res.grad_norm == 0.0 and not res.clipped and not res.diverged
    assert_array_equal(res.grads["W_rec"], np.zeros((2, 2)), strict=True)
    value = dynrnn.clip_grad_value((np.zeros(3),), 1.0)
    assert value.grad_norm == 0.0 and not value.clipped


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
def test_huge_gradients_do_not_overflow(clip):
    grads = {"W_rec": np.full((2, 2), 1e200), "b": np.full(3, -1e200)}
    res = clip(grads, 1.0)
    assert_allclose(res.grad_norm, 1e200 * math.sqrt(7.0), rtol=1e-15, atol=0.0)
    assert res.clipped and not res.skipped
    if clip is dynrnn.clip_grad_norm:
        assert_allclose(res.grads["W_rec"], np.full((2, 2), 1 / math.sqrt(7.0)), rtol=1e-15, atol=0.0)
        assert_allclose(naive.global_norm(unpack(res.grads)), 1.0, rtol=RTOL, atol=0.0)


def test_huge_gradient_with_tiny_threshold():
    """threshold / norm underflows below the smallest normal float: the result is still exact."""
    res = dynrnn.clip_grad_norm([np.array([3e300, 4e300])], 1e-20)
    assert_allclose(res.grads[0], [6e-21, 8e-21], rtol=1e-15, atol=0.0)
    res32 = dynrnn.clip_grad_norm([np.float32([3e30, 4e30])], 1e-20)
    assert_allclose(res32.grads[0], [6e-21, 8e-21], rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("tiny", [1e-200, 1e-310])
def test_tiny_gradients_have_an_accurate_norm(tiny):
    arrs = [np.array([3.0 * tiny]), np.array([[4.0 * tiny]])]
    res = dynrnn.clip_grad_norm(arrs, 1.0)
    rtol = 1e-15 if tiny > 1e-300 else 1e-9  # subnormals carry fewer digits
    assert_allclose(res.grad_norm, 5.0 * tiny, rtol=rtol, atol=0.0)
    assert not res.clipped
    assert_array_equal(res.grads[1], arrs[1], strict=True)


def test_scalar_gradients_stay_arrays():
    """0-d gradients (a scalar bias) come back as read-only 0-d arrays on every path."""
    for res in (
        dynrnn.clip_grad_norm([3.0, np.float32(4.0)], 1.0),
        dynrnn.clip_grad_norm([3.0, 4.0], 10.0),
        dynrnn.clip_grad_norm([math.nan, 4.0], 1.0, nonfinite="shrink", W_rec=2.0),
        dynrnn.clip_grad_value([3.0, np.float32(4.0)], 1.0),
        dynrnn.clip_grad_value([math.inf, 4.0], 1.0, nonfinite="skip"),
    ):
        assert all(isinstance(o, np.ndarray) and o.shape == () and not o.flags.writeable for o in res.grads)
    assert dynrnn.clip_grad_norm([3.0, np.float32(4.0)], 1.0).grads[1].dtype == np.float32
    assert float(dynrnn.clip_grad_norm([math.nan, 4.0], 1.0, nonfinite="shrink", W_rec=2.0).grads[0]) == 0.04


def test_result_unpacks_and_is_frozen():
    res = dynrnn.clip_grad_norm({"W_rec": np.ones((2, 2)), "b": np.ones(3)}, 1.0)
    grads, norm = res
    assert grads is res.grads and norm == res.grad_norm
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.grad_norm = 0.0
    with pytest.raises(ValueError, match="read-only"):
        grads["b"][0] = 1.0
    text = repr(res)
    assert "'W_rec': <float64 array (2, 2)>" in text and "clipped=True" in text
    assert "(<float64 array (3,)>,)" in repr(dynrnn.clip_grad_value((np.ones(3),), 1.0))


def test_inputs_that_cannot_be_handed_back():
    """Read-only, non-contiguous and list inputs: new arrays, inputs untouched."""
    base = np.arange(12.0).reshape(3, 4)
    read_only = np.ones(3)
    read_only.flags.writeable = False
    grads = {"W_rec": base[:, ::2], "b": read_only, "W_in": [1.0, 2.0]}
    res = dynrnn.clip_grad_norm(grads, 1e6)
    assert not res.clipped
    assert not np.shares_memory(res.grads["W_rec"], base)
    assert not np.shares_memory(res.grads["b"], read_only)
    assert_array_equal(res.grads["W_rec"], base[:, ::2], strict=True)
    assert_array_equal(base, np.arange(12.0).reshape(3, 4), strict=True)


# ---------------------------------------------------------------------------
# Non-finite policies
# ---------------------------------------------------------------------------
BAD = [math.nan, math.inf, -math.inf]


def bad_grads(bad, container):
    """W_rec's gradient finite, the bias gradient holding one ``bad`` entry."""
    return pack([np.ones((2, 2)), np.array([1.0, bad, 2.0], dtype=np.float32)], container)


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
@pytest.mark.parametrize("bad", BAD)
def test_nonfinite_raise(clip, bad):
    with pytest.raises(ValueError, match=r"grads contain NaN or inf .*nonfinite='raise'"):
        clip(bad_grads(bad, "dict"), 1.0)


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("bad", BAD)
def test_nonfinite_skip(clip, bad, container):
    grads = bad_grads(bad, container)
    res = clip(grads, 1.0, nonfinite="skip")
    assert res.skipped and not res.clipped and not res.shrunk and res.diverged
    assert math.isnan(res.grad_norm) if math.isnan(bad) else res.grad_norm == math.inf
    assert_structure(res.grads, grads)
    for o in unpack(res.grads):
        assert_array_equal(o, np.zeros_like(o), strict=True)


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
@pytest.mark.parametrize("bad", BAD)
def test_nonfinite_among_zeros(clip, bad):
    """No finite entry to scale by: the NaN or inf is still seen."""
    grads = [np.zeros(2), np.array([bad])]
    with pytest.raises(ValueError, match="grads contain NaN or inf"):
        clip(grads, 1.0)
    res = clip(grads, 1.0, nonfinite="skip")
    assert res.skipped and (math.isnan(res.grad_norm) if math.isnan(bad) else res.grad_norm == math.inf)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("bad", BAD)
def test_nonfinite_shrink(bad, container):
    grads = bad_grads(bad, container)
    W_rec = np.array([[1.0, -2.0], [0.5, 4.0]])
    W_rec_copy = W_rec.copy()
    res = dynrnn.clip_grad_norm(grads, 1.0, nonfinite="shrink", W_rec=W_rec)
    assert res.shrunk and not res.clipped and not res.skipped
    out = unpack(res.grads)
    assert_array_equal(out[0], SHRINK_RATE * W_rec, strict=True)
    assert_array_equal(out[1], np.zeros(3, dtype=np.float32), strict=True)
    assert_array_equal(W_rec, W_rec_copy, strict=True)
    assert not np.shares_memory(out[0], W_rec) and not out[0].flags.writeable


def test_shrink_finds_W_rec_by_name():
    grads = {"b": np.array([np.nan]), "W_rec": np.ones((1, 1), dtype=np.float32)}
    res = dynrnn.clip_grad_norm(grads, 1.0, nonfinite="shrink", W_rec=[[3.0]])
    assert list(res.grads) == ["b", "W_rec"]
    assert_array_equal(res.grads["W_rec"], np.float32([[0.02 * 3.0]]), strict=True)
    assert_array_equal(res.grads["b"], [0.0], strict=False)


@pytest.mark.parametrize(
    ("nonfinite", "shrunk"), [("shrink", True), ("raise", False), ("skip", False)], ids=["shrink", "raise", "skip"]
)
def test_large_finite_norm_triggers_only_the_shrink_guard(nonfinite, shrunk):
    grads = {"W_rec": np.array([[6e10]]), "b": np.array([8e10])}  # norm 1e11 > 1e10
    res = dynrnn.clip_grad_norm(grads, 1.0, nonfinite=nonfinite, W_rec=[[1.0]])
    assert res.grad_norm == 1e11 and not res.diverged
    assert res.shrunk == shrunk and res.clipped != shrunk and not res.skipped
    if shrunk:
        assert_array_equal(res.grads["W_rec"], [[SHRINK_RATE]], strict=False)
        assert_array_equal(res.grads["b"], [0.0], strict=False)
    else:
        assert_allclose(res.grads["W_rec"], [[0.6]], rtol=1e-15, atol=0.0)


def test_shrink_guard_starts_above_1e10():
    """The authors' code tests ``norm > 1e10``: a norm of exactly 1e10 is clipped."""
    res = dynrnn.clip_grad_norm([np.array([SHRINK_ABOVE])], 1.0, nonfinite="shrink", W_rec=[2.0])
    assert res.grad_norm == SHRINK_ABOVE and res.clipped and not res.shrunk
    assert_array_equal(res.grads[0], [1.0], strict=False)


# ---------------------------------------------------------------------------
# Bad input: every error names its argument
# ---------------------------------------------------------------------------
GOOD = {"W_rec": np.ones((2, 2)), "b": np.ones(2)}


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
@pytest.mark.parametrize(
    ("threshold", "error"),
    [
        (0.0, ValueError),
        (-1.0, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (True, TypeError),
        ("1.0", TypeError),
        (None, TypeError),
        ([1.0], TypeError),
        (np.ones(1), TypeError),
        (1j, TypeError),
    ],
)
def test_bad_threshold(clip, threshold, error):
    with pytest.raises(error, match="threshold"):
        clip(GOOD, threshold)


def test_threshold_accepts_numpy_and_int_scalars():
    assert dynrnn.clip_grad_norm(GOOD, np.float32(2.0)).threshold == 2.0
    assert dynrnn.clip_grad_value(GOOD, np.int64(2)).threshold == 2.0
    assert dynrnn.clip_grad_norm(GOOD, 2).clipped  # norm sqrt(6) >= 2


@pytest.mark.parametrize("clip", [dynrnn.clip_grad_norm, dynrnn.clip_grad_value])
@pytest.mark.parametrize(
    ("grads", "error", "match"),
    [
        ({}, ValueError, "grads must hold at least one"),
        ([], ValueError, "grads must hold at least one"),
        ((), ValueError, "grads must hold at least one"),
        (None, TypeError, "grads must be a dict"),
        (np.ones(3), TypeError, "grads must be a dict"),
        ("W_rec", TypeError, "grads must be a dict"),
        ({np.ones(2).tobytes()}, TypeError, "grads must be a dict"),
        ({1: np.ones(2)}, TypeError, "grads must have str keys"),
        ({"W_rec": np.ones(2), "W_in": np.ones(2, dtype=complex)}, TypeError, r"grads\['W_in'\]"),
        ({"W_rec": np.ones(2), "W_in": np.array([None, 1.0])}, TypeError, r"grads\['W_in'\]"),
        ({"W_rec": np.ones(2), "W_in": None}, TypeError, r"grads\['W_in'\]"),
        ({"W_rec": "abc"}, TypeError, r"grads\['W_rec'\]"),
        ([np.ones(2), [[1.0], [1.0, 2.0]]], TypeError, r"grads\[1\]"),
        ((np.ones(2), np.array(["a"])), TypeError, r"grads\[1\]"),
    ],
)
def test_bad_grads(clip, grads, error, match):
    with pytest.raises(error, match=match):
        clip(grads, 1.0)


@pytest.mark.parametrize("nonfinite", ["ignore", "", None, "RAISE"])
def test_bad_nonfinite(nonfinite):
    with pytest.raises(ValueError, match="nonfinite"):
        dynrnn.clip_grad_norm(GOOD, 1.0, nonfinite=nonfinite)
    with pytest.raises(ValueError, match="nonfinite"):
        dynrnn.clip_grad_value(GOOD, 1.0, nonfinite=nonfinite)


def test_clip_grad_value_has_no_shrink():
    with pytest.raises(ValueError, match="nonfinite must be 'raise' or 'skip'.*'shrink'"):
        dynrnn.clip_grad_value(GOOD, 1.0, nonfinite="shrink")


@pytest.mark.parametrize(
    ("grads", "W_rec", "nonfinite", "error", "match"),
    [
        (GOOD, None, "shrink", ValueError, "W_rec must be given"),
        ({"b": np.ones(2)}, np.ones((2, 2)), "shrink", ValueError, "grads must have a 'W_rec' entry"),
        ({"b": np.ones(2)}, np.ones((2, 2)), "raise", ValueError, "grads must have a 'W_rec' entry"),
        (GOOD, np.ones((3, 3)), "shrink", ValueError, r"W_rec must have the shape of its gradient grads\['W_rec'\]"),
        ([np.ones(2), np.ones((2, 2))], np.ones((2, 2)), "skip", ValueError, r"W_rec must have .*grads\[0\]"),
        (GOOD, np.ones((2, 2), dtype=complex), "shrink", TypeError, "W_rec"),
        (GOOD, [["a", "b"], ["c", "d"]], "shrink", TypeError, "W_rec"),
        (GOOD, np.full((2, 2), np.nan), "shrink", ValueError, "W_rec must be finite"),
    ],
)
def test_bad_W_rec(grads, W_rec, nonfinite, error, match):
    """Checked on every call, also when the gradients are finite and the guard is not needed."""
    with pytest.raises(error, match=match):
        dynrnn.clip_grad_norm(grads, 1.0, nonfinite=nonfinite, W_rec=W_rec)


def test_public_names():
    assert {"clip_grad_norm", "clip_grad_value", "ClipResult"} <= set(dynrnn.__all__)
    assert isinstance(dynrnn.clip_grad_norm(GOOD, 1.0), dynrnn.ClipResult)
