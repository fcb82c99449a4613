"""dynrnn.tasks: the paper's six tasks, copy and le_adding against a plain-loop reference; statistics, scoring."""

import dataclasses

import naive_tasks as naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import dynrnn
from dynrnn import tasks

NAMES = (
    "temporal_order",
    "temporal_order_3bit",
    "addition",
    "multiplication",
    "permutation",
    "memorization",
    "copy",
    "le_adding",
)
# The layout each task promises: n_inputs, n_outputs, loss, at, error_kind
LAYOUT = {
    "temporal_order": (6, 4, "cross_entropy", "last", "argmax"),
    "temporal_order_3bit": (6, 8, "cross_entropy", "last", "argmax"),
    "addition": (2, 1, "readout_squared_error", "last", "squared_error"),
    "multiplication": (2, 1, "readout_squared_error", "last", "squared_error"),
    "permutation": (100, 100, "cross_entropy", "last", "argmax"),
    "memorization": (7, 6, "cross_entropy", "every", "any_argmax"),
    "copy": (10, 9, "cross_entropy", "every", "recall_argmax"),
    "le_adding": (2, 1, "readout_squared_error", "last", "squared_error"),
}
MIN_LENGTH = {"temporal_order": 10, "temporal_order_3bit": 10, "addition": 10, "multiplication": 10, "le_adding": 2}


def windows(length, starts):
    """The [lo, hi) window of each symbol of the temporal order tasks."""
    width = int(length * 0.1)
    return [(int(length * s), int(length * s) + width) for s in starts]


# ----------------------------------------------------------------------------- against the reference


@given(
    name=st.sampled_from(NAMES[:5]),
    batch_size=st.integers(1, 5),
    length=st.integers(10, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_naive(name, batch_size, length, seed):
    batch = tasks.get_task(name)(batch_size, length, rng=np.random.default_rng(seed))
    inputs, targets = getattr(naive, name)(batch_size, length, np.random.default_rng(seed))
    assert batch.inputs.dtype == np.float64
    assert_array_equal(batch.inputs, inputs)
    assert_array_equal(batch.targets, targets)
    assert batch.targets.dtype.kind == ("f" if batch.loss == "readout_squared_error" else "i")
    assert (batch.n_inputs, batch.n_outputs, batch.loss, batch.at, batch.error_kind) == LAYOUT[name]
    assert (batch.task, batch.length, batch.batch_size, batch.n_steps) == (name, length, batch_size, len(inputs))


@given(
    name=st.sampled_from(["copy", "le_adding"]),
    batch_size=st.integers(1, 5),
    length=st.integers(2, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_later_tasks_match_naive(name, batch_size, length, seed):
    batch = tasks.get_task(name)(batch_size, length, rng=seed)
    inputs, targets = getattr(naive, name)(batch_size, length, np.random.default_rng(seed))
    assert_array_equal(batch.inputs, inputs)
    assert_array_equal(batch.targets, targets)
    assert batch.targets.dtype.kind == ("f" if batch.loss == "readout_squared_error" else "i")
    assert (batch.n_inputs, batch.n_outputs, batch.loss, batch.at, batch.error_kind) == LAYOUT[name]
    assert (batch.task, batch.length, batch.batch_size, batch.n_steps) == (name, length, batch_size, len(inputs))


@given(
    batch_size=st.integers(1, 5),
    length=st.integers(1, 30),
    n_values=st.integers(2, 6),
    n_pos=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_memorization_matches_naive(batch_size, length, n_values, n_pos, seed):
    batch = tasks.memorization(batch_size, length, rng=seed, n_values=n_values, n_pos=n_pos)
    inputs, targets = naive.memorization(batch_size, length, np.random.default_rng(seed), n_values, n_pos)
    assert_array_equal(batch.inputs, inputs)
    assert_array_equal(batch.targets, targets)
    assert (batch.n_inputs, batch.n_outputs, batch.n_steps) == (n_values + 2, n_values + 1, length + 2 * n_pos)


# ----------------------------------------------------------------------------- the rules, checked directly


@pytest.mark.parametrize("name, starts", [("temporal_order", (0.1, 0.5)), ("temporal_order_3bit", (0.1, 0.3, 0.6))])
def test_temporal_order_rules(name, starts):
    for length in [*range(10, 120), 137, 200, 999, 1000]:
        batch = tasks.get_task(name)(64, length, rng=length)
        symbols = batch.inputs.argmax(axis=2)  # (T, B)
        assert batch.inputs.shape == (length, 64, 6)
        assert_array_equal(batch.inputs.sum(axis=2), 1.0)  # one-hot
        is_ab = symbols < 2
        assert_array_equal(is_ab.sum(axis=0), len(starts))  # A/B exactly once per window, distractors elsewhere
        label = np.zeros(64, dtype=np.int64)
        for k, (lo, hi) in enumerate(windows(length, starts)):
            assert 1 <= hi - lo and hi <= length
            in_window = is_ab[lo:hi]
            assert_array_equal(in_window.sum(axis=0), 1)
            p = lo + in_window.argmax(axis=0)
            label += symbols[p, np.arange(64)] << k
        assert_array_equal(batch.targets, label)  # v0 + 2 v1 (+ 4 v2), recomputed from the inputs


@pytest.mark.parametrize("name", ["addition", "multiplication"])
def test_marked_values_rules(name):
    seen_lengths = set()
    for length in [*range(10, 80), 100, 200, 500]:
        batch = tasks.get_task(name)(32, length, rng=length)
        T = batch.n_steps
        seen_lengths.add(T - length)
        assert length <= T < length + int(0.1 * length)
        assert batch.inputs.shape == (T, 32, 2) and batch.targets.shape == (32, 1)
        marker, values = batch.inputs[:, :, 0], batch.inputs[:, :, 1]
        assert np.all((values >= 0) & (values < 1))
        assert np.all((marker == 0) | (marker == 1))
        assert_array_equal(marker.sum(axis=0), 2)
        assert_array_equal(marker[: int(0.1 * T)].sum(axis=0), 1)  # p0 in [0, 0.1 T)
        assert_array_equal(marker[int(0.1 * T) : int(0.1 * T) + int(0.4 * T)].sum(axis=0), 1)  # p1 in [0.1T, 0.5T)
        marked = values.T[marker.T == 1].reshape(32, 2)
        expected = marked.mean(axis=1) if name == "addition" else marked.prod(axis=1)
        np.testing.assert_allclose(batch.targets[:, 0], expected, rtol=1e-15, atol=0)
        assert np.all((batch.targets >= 0) & (batch.targets < 1))
    assert len(seen_lengths) > 5  # the actual length does vary


def test_permutation_rules():
    for length in (1, 2, 3, 10, 57, 200):
        batch = tasks.permutation(200, length, rng=length)
        assert batch.inputs.shape == (length, 200, 100)
        assert_array_equal(batch.inputs.sum(axis=2), 1.0)
        symbols = batch.inputs.argmax(axis=2)
        assert_array_equal(batch.targets, symbols[0])  # target = the symbol at position 0
        assert set(np.unique(batch.targets)) == {0, 1}
        if length > 1:
            rest = symbols[1:]
            assert rest.min() == 2 and rest.max() <= 99 and rest.max() >= 90


@pytest.mark.parametrize("n_values, n_pos", [(5, 10), (2, 5), (3, 1)])
def test_memorization_rules(n_values, n_pos):
    for length in (1, 2, 7, 50):
        batch = tasks.memorization(40, length, rng=length, n_values=n_values, n_pos=n_pos)
        T, P = length + 2 * n_pos, n_pos
        assert batch.inputs.shape == (T, 40, n_values + 2) and batch.targets.shape == (T, 40)
        assert_array_equal(batch.inputs.sum(axis=2), 1.0)
        symbols = batch.inputs.argmax(axis=2)
        pattern = symbols[:P]
        assert pattern.max() < n_values
        assert_array_equal(symbols[P : length + P], n_values)  # blank channel (-2)
        assert_array_equal(symbols[length + P], n_values + 1)  # recall cue (-1) at step L + n_pos
        assert_array_equal(symbols[length + P + 1 :], n_values)
        assert_array_equal(batch.targets[: length + P], n_values)  # blank class (-1)
        assert_array_equal(batch.targets[length + P :], pattern)  # the pattern, recalled from the cue on


def test_memorization_variants():
    assert tasks.memorization(1, 5, rng=0).inputs.shape == (25, 1, 7)  # > 20 bits: 5 values x 10 positions
    five_bit = tasks.memorization(3000, 5, rng=0, n_values=2, n_pos=5)
    assert five_bit.inputs.shape == (15, 3000, 4) and five_bit.n_outputs == 3
    patterns = five_bit.targets[-5:].T @ (2 ** np.arange(5))
    assert set(patterns) == set(range(32))  # every one of the 32 patterns turns up


def test_copy_rules():
    for length in (1, 2, 3, 10, 57, 200):
        batch = tasks.copy(40, length, rng=length)
        T = length + 20
        assert batch.inputs.shape == (T, 40, 10) and batch.targets.shape == (T, 40)
        assert_array_equal(batch.inputs.sum(axis=2), 1.0)  # one-hot
        symbols = batch.inputs.argmax(axis=2)
        data = symbols[:10]
        assert data.min() >= 1 and data.max() <= 8  # the data: 10 symbols from {1, ..., 8}
        assert_array_equal(symbols[10 : length + 9], 0)  # T - 1 blanks
        assert_array_equal(symbols[length + 9], 9)  # the delimiter, at the T-th step after the data
        assert_array_equal(symbols[length + 10 :], 0)  # 10 blanks
        assert_array_equal(batch.targets[: length + 10], 0)  # blank targets for T + 10 steps
        assert_array_equal(batch.targets[length + 10 :], data)  # then the data, in order
        assert batch.targets.max() < batch.n_outputs


def test_le_adding_rules():
    for length in (2, 3, 4, 5, 10, 11, 57, 150, 400):
        batch = tasks.le_adding(32, length, rng=length)
        half = length // 2
        assert batch.n_steps == length and batch.inputs.shape == (length, 32, 2) and batch.targets.shape == (32, 1)
        values, marker = batch.inputs[:, :, 0], batch.inputs[:, :, 1]
        assert np.all((values >= 0) & (values < 1))
        assert np.all((marker == 0) | (marker == 1))
        assert_array_equal(marker[:half].sum(axis=0), 1)  # one marker in the first half
        assert_array_equal(marker[half:].sum(axis=0), 1)  # and one in the second
        marked = values.T[marker.T == 1].reshape(32, 2)
        np.testing.assert_allclose(batch.targets[:, 0], marked.sum(axis=1), rtol=1e-15, atol=0)  # the plain sum
        assert np.all((batch.targets >= 0) & (batch.targets < 2))


def test_copy_scores_only_the_recall_steps():
    batch = tasks.copy(3, 4, rng=0)
    perfect = np.eye(9)[batch.targets]  # (24, 3, 9)
    wrong_blank = perfect.copy()
    wrong_blank[5, 0] = np.eye(9)[3]  # a wrong prediction at a blank step does not count
    wrong_recall = perfect.copy()
    wrong_recall[-3, 1] = np.eye(9)[0]  # a blank predicted at a recall step does
    for outputs, expected in ((perfect, [False] * 3), (wrong_blank, [False] * 3), (wrong_recall, [False, True, False])):
        assert_array_equal(tasks.sequence_errors(batch, outputs), expected)
        assert_array_equal(naive.sequence_errors("recall_argmax", batch.targets, outputs), expected)


# ----------------------------------------------------------------------------- statistics


def assert_balanced(labels, n_classes):
    """Each class frequency within 4 standard errors of 1 / n_classes."""
    N, p = labels.size, 1.0 / n_classes
    counts = np.bincount(labels.ravel(), minlength=n_classes)
    assert counts.size == n_classes
    assert np.all(np.abs(counts / N - p) < 4 * np.sqrt(p * (1 - p) / N)), counts


def test_classes_balanced():
    assert_balanced(tasks.temporal_order(20000, 20, rng=1).targets, 4)
    assert_balanced(tasks.temporal_order_3bit(20000, 20, rng=2).targets, 8)
    assert_balanced(tasks.permutation(20000, 3, rng=3).targets, 2)
    mem = tasks.memorization(4000, 2, rng=4, n_values=5, n_pos=10)
    assert_balanced(mem.inputs[:10].argmax(axis=2), 5)  # 40,000 pattern symbols


def test_copy_data_uniform_and_the_memoryless_baseline():
    length = 30
    batch = tasks.copy(5000, length, rng=7)
    assert_balanced(batch.inputs[:10].argmax(axis=2) - 1, 8)  # 50,000 data symbols, uniform on {1, ..., 8}
    # The memoryless strategy: the blank for T + 10 steps, then 1..8 with probability 1/8 each.
    log_p = np.full((length + 20, 9), -np.inf)
    log_p[: length + 10, 0] = 0.0
    log_p[length + 10 :, 1:] = -np.log(8.0)
    per_step = -log_p[np.arange(length + 20)[:, None], batch.targets]  # (T + 20, B)
    assert np.isfinite(per_step).all()
    np.testing.assert_allclose(per_step.mean(), 10 * np.log(8) / (length + 20), rtol=1e-12)
    # Its outputs (logits = log p, made finite) get every sequence wrong unless all 10 guesses hit (p = 8**-10).
    logits = np.broadcast_to(np.maximum(log_p, -50.0)[:, None], (length + 20, 5000, 9))
    assert tasks.sequence_errors(batch, logits).mean() > 0.999


def test_le_adding_positions_uniform_and_the_constant_baseline():
    length = 100
    batch = tasks.le_adding(40000, length, rng=8)
    marker = batch.inputs[:, :, 1]
    assert_balanced(marker[:50].argmax(axis=0), 50)  # p0 uniform on the first half
    assert_balanced(marker[50:].argmax(axis=0), 50)  # p1 uniform on the second half
    values = batch.inputs[:, :, 0]
    assert abs(values.mean() - 0.5) < 4 * np.sqrt(1 / 12 / values.size)
    # Predicting the constant 1: MSE = Var(U + U') = 1/6 (Le et al.: "0.1767"); wrong when |y - t| > 0.2.
    t = batch.targets[:, 0]
    mse = np.mean((t - 1.0) ** 2)
    sd = np.std((t - 1.0) ** 2) / np.sqrt(t.size)
    assert abs(mse - 1 / 6) < 4 * sd and abs(mse - 0.167) < 0.005
    assert abs(t.mean() - 1.0) < 4 * np.sqrt(1 / 6 / t.size)
    constant = np.ones((1, t.size, 1))
    rate = tasks.sequence_errors(batch, constant).mean()
    assert abs(rate - 0.64) < 4 * np.sqrt(0.64 * 0.36 / t.size)  # P(|U + U' - 1| > 0.2) = 0.8**2


def test_positions_and_distractors_uniform():
    batch = tasks.temporal_order(20000, 50, rng=5)  # windows [5, 10) and [25, 30)
    symbols = batch.inputs.argmax(axis=2)
    p0 = 5 + (symbols[5:10] < 2).argmax(axis=0)
    p1 = 25 + (symbols[25:30] < 2).argmax(axis=0)
    assert_balanced(p0 - 5, 5)
    assert_balanced(p1 - 25, 5)
    distractors = symbols[symbols >= 2] - 2
    assert distractors.size == 20000 * 48
    assert_balanced(distractors[:100000], 4)
    add = tasks.addition(20000, 100, rng=6)
    T = add.n_steps
    p1 = add.inputs[int(0.1 * T) :, :, 0].argmax(axis=0)
    assert_balanced(p1, int(0.4 * T))


# ----------------------------------------------------------------------------- seeds and types


@pytest.mark.parametrize("name", NAMES)
def test_seeds(name, rng):
    f = tasks.get_task(name)
    a, b, c = f(4, 20, rng=7), f(4, 20, rng=np.random.default_rng(7)), f(4, 20, rng=8)
    assert_array_equal(a.inputs, b.inputs)
    assert_array_equal(a.targets, b.targets)
    assert a.inputs.shape != c.inputs.shape or not np.array_equal(a.inputs, c.inputs)
    first, second = f(4, 20, rng=rng), f(4, 20, rng=rng)  # a Generator advances
    assert first.inputs.shape != second.inputs.shape or not np.array_equal(first.inputs, second.inputs)
    assert f(2, 20, rng=None).batch_size == 2


@pytest.mark.parametrize("name", NAMES)
def test_float32(name):
    b64, b32 = tasks.get_task(name)(3, 20, rng=0), tasks.get_task(name)(3, 20, rng=0, dtype=np.float32)
    assert b32.inputs.dtype == np.float32
    np.testing.assert_allclose(b32.inputs, b64.inputs, rtol=1e-7, atol=0)  # float32 rounding of U[0, 1)
    if b32.loss == "readout_squared_error":
        assert b32.targets.dtype == np.float32
        np.testing.assert_allclose(b32.targets, b64.targets, rtol=1e-6, atol=0)
    else:
        assert_array_equal(b32.targets, b64.targets)


@pytest.mark.parametrize("name", NAMES)
def test_read_only(name):
    batch = tasks.get_task(name)(2, 12, rng=0)
    for array in (batch.inputs, batch.targets):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.loss = "x"
    assert "inputs=<float64 array" in repr(batch)


def test_registry_and_exports():
    assert tuple(tasks.TASKS) == NAMES
    assert dynrnn.TaskBatch is dynrnn.results.TaskBatch
    assert "tasks" in dynrnn.__all__ and "TaskBatch" in dynrnn.__all__
    for name in NAMES:
        assert tasks.get_task(name) is getattr(tasks, name)


# ----------------------------------------------------------------------------- sequence_errors


@pytest.mark.parametrize("name", NAMES)
def test_sequence_errors(name, rng):
    batch = tasks.get_task(name)(6, 14, rng=rng)
    B, q = batch.batch_size, batch.n_outputs
    T_s = batch.n_steps if batch.at == "every" else 1
    if batch.error_kind == "squared_error":
        perfect = batch.targets[None].copy()
    else:
        perfect = np.eye(q)[batch.targets.reshape(T_s, B)]
    assert perfect.shape == (T_s, B, q)
    assert not tasks.sequence_errors(batch, perfect).any()
    wrong = perfect.copy()
    if batch.error_kind == "squared_error":
        wrong[0, 1, 0] += 0.19  # 0.0361: still right
        wrong[0, 2, 0] -= 0.21  # 0.0441 > 0.04: wrong
        wrong[0, 4, 0] = np.nan
        expected = [False, False, True, False, True, False]
    else:
        # memorization: a blank step counts too; copy: only the recall steps (the last 10) count
        t = T_s - 1 if batch.at == "last" or batch.error_kind == "recall_argmax" else 0
        for i in (2, 3):
            c = batch.targets.reshape(T_s, B)[t, i]
            wrong[t, i, c] = 0.0
            wrong[t, i, (c + 1) % q] = 1.0
        wrong[-1, 4, :] = 0.0  # a tie goes to the lowest class
        wrong[-1, 5, 0] = np.inf
        expected = [False, False, True, True, batch.targets.reshape(T_s, B)[-1, 4] != 0, True]
    before = wrong.copy()
    errors = tasks.sequence_errors(batch, wrong)
    assert errors.dtype == np.bool_ and errors.shape == (B,)
    assert_array_equal(errors, expected)
    assert_array_equal(errors, naive.sequence_errors(batch.error_kind, batch.targets, wrong))
    assert_array_equal(wrong, before)  # not modified


@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(NAMES), scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_sequence_errors_matches_naive(seed, name, scale):
    rng = np.random.default_rng(seed)
    batch = tasks.get_task(name)(5, 11, rng=rng)
    T_s = batch.n_steps if batch.at == "every" else 1
    outputs = scale * rng.standard_normal((T_s, batch.batch_size, batch.n_outputs))
    if batch.error_kind == "squared_error":
        outputs = batch.targets[None] + 0.2 * scale * rng.standard_normal(outputs.shape)
    elif batch.at == "every":  # mostly right, so that not every sequence is wrong
        outputs += 3 * np.eye(batch.n_outputs)[batch.targets] * (rng.random(batch.targets.shape) < 0.97)[..., None]
    assert_array_equal(
        tasks.sequence_errors(batch, outputs), naive.sequence_errors(batch.error_kind, batch.targets, outputs)
    )


# ----------------------------------------------------------------------------- with dynrnn.bptt


@pytest.mark.parametrize("name", NAMES)
def test_feeds_bptt(name, rng):
    f = tasks.get_task(name)
    batch = f(3, 10, rng=rng, n_values=2, n_pos=2) if name == "memorization" else f(3, 10, rng=rng)
    n = 5
    net = dynrnn.RNN(
        0.3 * rng.standard_normal((n, n)),
        W_in=0.3 * rng.standard_normal((n, batch.n_inputs)),
        W_out=0.3 * rng.standard_normal((batch.n_outputs, n)),
        form="standard",
    )
    res = dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at, contributions=None)
    assert not res.diverged and np.isfinite(res.loss) and res.loss > 0
    errors = tasks.sequence_errors(batch, res.outputs)
    assert errors.shape == (3,)
    assert_array_equal(errors, naive.sequence_errors(batch.error_kind, batch.targets, res.outputs))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments(name):
    f = tasks.get_task(name)
    minimum = MIN_LENGTH.get(name, 1)
    for bad in (2.0, True, "3", None):
        with pytest.raises(TypeError, match="batch_size"):
            f(bad, 20, rng=0)
        with pytest.raises(TypeError, match="length"):
            f(2, bad if bad is not None else 20.0, rng=0)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size"):
            f(bad, 20, rng=0)
    with pytest.raises(ValueError, match=f"length must be >= {minimum}"):
        f(2, minimum - 1, rng=0)
    assert f(2, minimum, rng=0).length == minimum
    for bad in (1.5, True, "seed", np.random.RandomState(0), [1, 2]):
        with pytest.raises(TypeError, match="rng"):
            f(2, 20, rng=bad)
    with pytest.raises(ValueError, match="rng"):
        f(2, 20, rng=-3)
    with pytest.raises(ValueError, match="dtype"):
        f(2, 20, rng=0, dtype=np.int32)
    with pytest.raises(TypeError, match="dtype"):
        f(2, 20, rng=0, dtype="not a dtype at all")


def test_bad_memorization_options():
    for name, bad in (("n_values", 2.0), ("n_values", True), ("n_pos", "3"), ("n_pos", 1.0)):
        with pytest.raises(TypeError, match=name):
            tasks.memorization(2, 5, rng=0, **{name: bad})
    for name, bad in (("n_values", 1), ("n_values", 0), ("n_pos", 0), ("n_pos", -2)):
        with pytest.raises(ValueError, match=name):
            tasks.memorization(2, 5, rng=0, **{name: bad})
    with pytest.raises(ValueError, match="n_values \\*\\* n_pos"):
        tasks.memorization(2, 5, rng=0, n_values=2, n_pos=64)
    assert tasks.memorization(2, 1, rng=0, n_values=2, n_pos=63).targets.max() <= 2  # 2**63 patterns: the limit


def test_bad_get_task():
    with pytest.raises(ValueError, match="name must be one of 'temporal_order'.*'copy', 'le_adding'; got 'adding'"):
        tasks.get_task("adding")
    with pytest.raises(ValueError, match="name"):
        tasks.get_task(3)


def test_bad_sequence_errors():
    batch = tasks.temporal_order(3, 10, rng=0)
    with pytest.raises(TypeError, match="batch"):
        tasks.sequence_errors({"targets": batch.targets}, np.zeros((1, 3, 4)))
    for shape in ((3, 4), (1, 3, 5), (10, 3, 4), (1, 2, 4)):
        with pytest.raises(ValueError, match=r"outputs must have shape \(1, 3, 4\)"):
            tasks.sequence_errors(batch, np.zeros(shape))
    mem = tasks.memorization(2, 3, rng=0, n_values=2, n_pos=2)
    with pytest.raises(ValueError, match=r"outputs must have shape \(7, 2, 3\).*'every'"):
        tasks.sequence_errors(mem, np.zeros((1, 2, 3)))
    with pytest.raises(TypeError, match="outputs"):
        tasks.sequence_errors(batch, np.zeros((1, 3, 4), dtype=complex))
    with pytest.raises(TypeError, match="outputs"):
        tasks.sequence_errors(batch, [["a"]])
