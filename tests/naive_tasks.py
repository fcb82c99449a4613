"""Independent reference for dynrnn.tasks: the eight generators and the error rules, one sequence at a time.

Written from the description of the authors' generators (paper.md Sec. 5.3-5.4), and of the copy task
(Arjovsky et al. 2016, Sec. 4.1) and the adding problem of Le et al. (2015, Sec. 4.1), with plain loops.
Each generator draws from ``rng`` exactly what the documented draw order says (the same calls
with the same sizes), so a batch from dynrnn with the same seed must be identical.  Returns
``(inputs, targets)`` with ``inputs`` of shape (T, B, m).  Imports nothing from dynrnn.
"""

import numpy as np


def _window(length, fraction):
    """int() of the float product, as the authors' code truncates it."""
    return int(length * fraction)


def _temporal(batch_size, length, rng, starts):
    width = _window(length, 0.1)
    draws = []
    for start in starts:
        p = rng.integers(width, size=batch_size) + _window(length, start)
        v = rng.integers(2, size=batch_size)
        draws.append((p, v))
    noise = rng.integers(4, size=(length, batch_size)) + 2
    inputs = np.zeros((length, batch_size, 6))
    targets = np.zeros(batch_size, dtype=np.int64)
    for i in range(batch_size):
        for t in range(length):
            symbol = noise[t, i]
            for p, v in draws:
                if t == p[i]:
                    symbol = v[i]
            inputs[t, i, symbol] = 1.0
        label = 0
        for k, (_, v) in enumerate(draws):
            label += int(v[i]) * 2**k
        targets[i] = label
    return inputs, targets


def temporal_order(batch_size, length, rng):
    return _temporal(batch_size, length, rng, (0.1, 0.5))


def temporal_order_3bit(batch_size, length, rng):
    return _temporal(batch_size, length, rng, (0.1, 0.3, 0.6))


def _marked(batch_size, length, rng, combine):
    n_steps = length + int(rng.integers(_window(length, 0.1)))
    p0 = rng.integers(_window(n_steps, 0.1), size=batch_size)
    p1 = rng.integers(_window(n_steps, 0.4), size=batch_size) + _window(n_steps, 0.1)
    values = rng.random((n_steps, batch_size))
    inputs = np.zeros((n_steps, batch_size, 2))
    targets = np.zeros((batch_size, 1))
    for i in range(batch_size):
        for t in range(n_steps):
            inputs[t, i, 1] = values[t, i]
            if t == p0[i] or t == p1[i]:
                inputs[t, i, 0] = 1.0
        targets[i, 0] = combine(values[p0[i], i], values[p1[i], i])
    return inputs, targets


def addition(batch_size, length, rng):
    return _marked(batch_size, length, rng, lambda a, b: (a + b) / 2.0)


def multiplication(batch_size, length, rng):
    return _marked(batch_size, length, rng, lambda a, b: a * b)


def permutation(batch_size, length, rng):
    symbols = rng.integers(98, size=(length + 1, batch_size)) + 2
    val = rng.integers(2, size=batch_size)
    inputs = np.zeros((length, batch_size, 100))
    targets = np.zeros(batch_size, dtype=np.int64)
    for i in range(batch_size):
        sequence = [int(s) for s in symbols[:, i]]
        sequence[0] = int(val[i])
        sequence[length] = int(val[i])
        for t in range(length):
            inputs[t, i, sequence[t]] = 1.0
        targets[i] = sequence[length]
    return inputs, targets


def memorization(batch_size, length, rng, n_values=5, n_pos=10):
    index = rng.integers(n_values**n_pos, size=batch_size, dtype=np.int64)
    n_steps = length + 2 * n_pos
    blank, cue = n_values, n_values + 1
    inputs = np.zeros((n_steps, batch_size, n_values + 2))
    targets = np.zeros((n_steps, batch_size), dtype=np.int64)
    for i in range(batch_size):
        rest = int(index[i])
        pattern = []
        for _ in range(n_pos):
            pattern.append(rest % n_values)
            rest //= n_values
        for t in range(n_steps):
            if t < n_pos:
                inputs[t, i, pattern[t]] = 1.0
            elif t == length + n_pos:
                inputs[t, i, cue] = 1.0
            else:
                inputs[t, i, blank] = 1.0
            targets[t, i] = pattern[t - length - n_pos] if t >= length + n_pos else blank
    return inputs, targets


def copy(batch_size, length, rng):
    """Arjovsky et al. (2016): 10 symbols from 1..8, T - 1 blanks (0), the delimiter 9, 10 blanks; recall at the end."""
    data = rng.integers(8, size=(10, batch_size)) + 1
    n_steps = length + 20
    inputs = np.zeros((n_steps, batch_size, 10))
    targets = np.zeros((n_steps, batch_size), dtype=np.int64)
    for i in range(batch_size):
        sequence = [int(s) for s in data[:, i]] + [0] * (length - 1) + [9] + [0] * 10
        assert len(sequence) == n_steps
        for t in range(n_steps):
            inputs[t, i, sequence[t]] = 1.0
        for k in range(10):
            targets[length + 10 + k, i] = data[k, i]
    return inputs, targets


def le_adding(batch_size, length, rng):
    """Le et al. (2015): values on channel 0, one marker (channel 1) in each half; the target is the plain sum."""
    half = length // 2
    p0 = rng.integers(half, size=batch_size)
    p1 = rng.integers(length - half, size=batch_size) + half
    values = rng.random((length, batch_size))
    inputs = np.zeros((length, batch_size, 2))
    targets = np.zeros((batch_size, 1))
    for i in range(batch_size):
        for t in range(length):
            inputs[t, i, 0] = values[t, i]
            if t == p0[i] or t == p1[i]:
                inputs[t, i, 1] = 1.0
        targets[i, 0] = values[p0[i], i] + values[p1[i], i]
    return inputs, targets


def sequence_errors(error_kind, targets, outputs):
    """Per-sequence errors, sequence by sequence, from (T_s, B, q) outputs."""
    n_seq = outputs.shape[1]
    errors = np.zeros(n_seq, dtype=bool)
    for i in range(n_seq):
        if not np.all(np.isfinite(outputs[:, i])):
            errors[i] = True
        elif error_kind == "squared_error":
            total = 0.0
            for o in range(outputs.shape[2]):
                total += (outputs[-1, i, o] - targets[i, o]) ** 2
            errors[i] = total > 0.04
        elif error_kind == "argmax":
            errors[i] = int(np.argmax(outputs[-1, i])) != int(targets[i])
        elif error_kind == "recall_argmax":  # the steps whose label is not the blank 0
            errors[i] = any(
                int(np.argmax(outputs[t, i])) != int(targets[t, i])
                for t in range(outputs.shape[0])
                if int(targets[t, i]) != 0
            )
        else:  # any_argmax
            errors[i] = any(int(np.argmax(outputs[t, i])) != int(targets[t, i]) for t in range(outputs.shape[0]))
    return errors
