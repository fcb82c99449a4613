"""The pathological tasks of Pascanu et al. (2013), Sec. 4.1, drawn as the authors' generators draw them.

Six generators, each called as ``f(batch_size, length, rng)`` and returning a
`dynrnn.TaskBatch`: `temporal_order`, `temporal_order_3bit`, `addition`,
`multiplication`, `permutation` and `memorization` (Hochreiter & Schmidhuber
1997, as set up by Martens & Sutskever 2011).  The sampling rules are those of
the authors' code (``tempOrder.py``, ``tempOrder3bit.py``, ``addition.py``,
``multiplication.py``, ``permutation.py``, ``memorization.py`` in
pascanur/trainingRNNs); each docstring says where that code and the paper
differ.  All sequences of a batch share one length.  Positions are 0-based
step indices into ``inputs`` (row ``t`` is the input of step ``t + 1``), and
``int()`` truncates the float products exactly as the authors' code does.

Randomness comes only from ``rng``, in the order each docstring lists, so the
same seed gives the same batch.  The draws use `numpy.random.Generator`, not
the authors' ``RandomState``: the rules and distributions are theirs, the
streams are not.  `sequence_errors` scores a model's outputs as the authors'
evaluation does (in `dynrnn.tasks`).
"""

import numpy as np

from .. import _validate
from ..results.tasks import TaskBatch

__all__ = ["addition", "memorization", "multiplication", "permutation", "temporal_order", "temporal_order_3bit"]

N_SYMBOLS = 100  # permutation: alphabet size, inputs and outputs


# ----------------------------------------------------------------------------- checks


def _arguments(task, batch_size, length, rng, dtype, minimum, why):
    """Validated ``(batch_size, length, generator, dtype)``; ``length >= minimum`` with the reason ``why``."""
    batch_size = _validate.integer("batch_size", batch_size, minimum=1)
    length = _validate.integer("length", length)
    if length < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"length must be >= {minimum} for {task}{reason}; got {length}")
    dtype = _validate.float_dtype("dtype", dtype)
    return batch_size, length, _validate.rng("rng", rng), dtype


def max_steps(task, length, n_pos=10, **_):
    """The most steps a batch of ``task`` at ``length`` can have (addition and multiplication draw T in [L, 1.1 L)).

    Covers the tasks of ``later_tasks.py`` too: copy has L + 20 steps.
    """
    if task in ("addition", "multiplication"):
        return length + max(int(length * 0.1) - 1, 0)
    if task == "memorization":
        return length + 2 * n_pos
    if task == "copy":
        return length + 20  # 2 * later_tasks.COPY_N_POS
    return length


def _fits(task, batch_size, length, n_steps, bytes_per_step, also=""):
    """Refuse (ValueError naming batch_size and length) a batch that would not fit in memory.

    ``bytes_per_step``: bytes per sequence and step of every array the
    generator makes at once (inputs, targets, integer symbols, indices);
    ``also`` names further arguments that set the size.
    """
    _validate.memory(
        f"batch_size={batch_size}, length={length}{also}",
        batch_size * n_steps * bytes_per_step,
        f"a {task} batch of {batch_size} sequences of {n_steps} steps",
    )


def _one_hot(symbols, width, dtype):
    """``(T, B)`` integer symbols as a one-hot ``(T, B, width)`` array."""
    out = np.zeros(symbols.size * width, dtype=dtype)
    out[np.arange(0, out.size, width) + symbols.ravel()] = 1.0  # flat indices: about 3x faster than put_along_axis
    return out.reshape(symbols.shape + (width,))


# ----------------------------------------------------------------------------- temporal order


def _temporal_order(task, batch_size, length, rng, dtype, starts):
    batch_size, length, rng, dtype = _arguments(
        task, batch_size, length, rng, dtype, 10, "every window holds int(0.1 * length) >= 1 steps"
    )
    _fits(task, batch_size, length, length, 6 * dtype.itemsize + 32)  # one-hot, symbols, flat indices
    width = int(length * 0.1)
    positions, symbols = [], []
    for start in starts:  # p_k then v_k, window by window
        positions.append(rng.integers(width, size=batch_size) + int(length * start))
        symbols.append(rng.integers(2, size=batch_size))
    stream = rng.integers(4, size=(length, batch_size)) + 2  # distractors c, d, e, f: channels 2..5
    columns = np.arange(batch_size)
    label = np.zeros(batch_size, dtype=np.int64)
    for k, (p, v) in enumerate(zip(positions, symbols, strict=True)):
        stream[p, columns] = v
        label += v << k
    inputs = _one_hot(stream, 6, dtype)
    return TaskBatch(task, length, inputs, label, "cross_entropy", "last", 6, 2 ** len(starts), "argmax")


def temporal_order(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the temporal order problem: classify the order of two symbols A/B in a long noise stream.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Sequence length T = L >= 10 (each window holds ``int(0.1 L)`` steps).
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``,
        None takes fresh entropy.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs``.

    Returns
    -------
    TaskBatch
        ``inputs`` (L, B, 6) one-hot, ``targets`` (B,) class labels in
        {0, 1, 2, 3}, ``loss="cross_entropy"``, ``at="last"``,
        ``n_inputs=6``, ``n_outputs=4``, ``error_kind="argmax"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer (bools included),
        ``rng`` is not a Generator, an int or None, or ``dtype`` is not a
        dtype.
    ValueError
        If ``batch_size < 1``, ``length < 10``, ``rng`` is a negative seed,
        or ``dtype`` is not float64 or float32.

    See Also
    --------
    temporal_order_3bit : three symbols, eight classes.
    sequence_errors : score a model's outputs.
    dynrnn.bptt : the loss and gradient of a batch.

    Notes
    -----
    The task of Fig. 7 (Pascanu et al. 2013, Sec. 4.1.1), drawn as the
    authors' ``TempOrderTask.generate``.  With ``w = int(0.1 L)``, ``rng``
    draws, in order, each of shape (B,) unless stated:

    1. ``p0 = integers(w) + int(0.1 L)``, so p0 in [0.1 L, 0.2 L);
    2. ``v0 = integers(2)``, the first symbol (A = 0, B = 1);
    3. ``p1 = integers(w) + int(0.5 L)``, so p1 in [0.5 L, 0.6 L);
    4. ``v1 = integers(2)``;
    5. the distractors, ``integers(4) + 2`` of shape (L, B).

    Step p0 carries symbol v0 and step p1 symbol v1 (channels 0 and 1);
    every other step carries a distractor, uniform over channels 2..5.  The
    target class is ``v0 + 2 v1`` (AA = 0, BA = 1, AB = 2, BB = 3), scored by
    a softmax on the last state.  The paper places the symbols "near the
    start" and "near the middle"; the comment in the authors' file says
    p0 in [1, L/10], but their code, followed here, uses [0.1 L, 0.2 L).

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.temporal_order(3, 20, rng=0)
    >>> batch.inputs.shape, batch.targets.shape, batch.n_outputs
    ((20, 3, 6), (3,), 4)
    >>> bool((batch.inputs.sum(axis=2) == 1).all())
    True
    """
    return _temporal_order("temporal_order", batch_size, length, rng, dtype, (0.1, 0.5))


def temporal_order_3bit(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the 3-bit temporal order problem: classify the order of three symbols A/B.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Sequence length T = L >= 10 (each window holds ``int(0.1 L)`` steps).
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs``.

    Returns
    -------
    TaskBatch
        ``inputs`` (L, B, 6) one-hot, ``targets`` (B,) class labels in
        {0, ..., 7}, ``loss="cross_entropy"``, ``at="last"``,
        ``n_inputs=6``, ``n_outputs=8``, ``error_kind="argmax"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer, ``rng`` is not a
        Generator, an int or None, or ``dtype`` is not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 10``, ``rng`` is a negative seed,
        or ``dtype`` is not float64 or float32.

    See Also
    --------
    temporal_order : the two-symbol task of Fig. 7.
    sequence_errors : score a model's outputs.

    Notes
    -----
    One of the other pathological tasks (Pascanu et al. 2013, Sec. 4.1.2),
    drawn as the authors' ``TempOrder3bitTask.generate``.  With
    ``w = int(0.1 L)``, ``rng`` draws, in order: ``p0 = integers(w) +
    int(0.1 L)``, ``v0 = integers(2)``, ``p1 = integers(w) + int(0.3 L)``,
    ``v1``, ``p2 = integers(w) + int(0.6 L)``, ``v2`` (each of shape (B,)),
    then the distractors ``integers(4) + 2`` of shape (L, B).  So
    p0 in [0.1 L, 0.2 L), p1 in [0.3 L, 0.4 L), p2 in [0.6 L, 0.7 L).  The
    layout is that of `temporal_order`; the target class is
    ``v0 + 2 v1 + 4 v2``.

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.temporal_order_3bit(4, 30, rng=1)
    >>> batch.inputs.shape, batch.n_outputs, bool(batch.targets.max() < 8)
    ((30, 4, 6), 8, True)
    """
    return _temporal_order("temporal_order_3bit", batch_size, length, rng, dtype, (0.1, 0.3, 0.6))


# ----------------------------------------------------------------------------- addition, multiplication


def _marked_values(task, batch_size, length, rng, dtype, combine):
    why = "the actual length adds integers(int(0.1 * length))"
    batch_size, length, rng, dtype = _arguments(task, batch_size, length, rng, dtype, 10, why)
    _fits(task, batch_size, length, max_steps(task, length), 3 * dtype.itemsize + 16)  # inputs, values (float64)
    n_steps = length + int(rng.integers(int(length * 0.1)))
    p0 = rng.integers(int(n_steps * 0.1), size=batch_size)
    p1 = rng.integers(int(n_steps * 0.4), size=batch_size) + int(n_steps * 0.1)
    values = rng.random((n_steps, batch_size)).astype(dtype, copy=False)
    columns = np.arange(batch_size)
    inputs = np.zeros((n_steps, batch_size, 2), dtype=dtype)
    inputs[:, :, 1] = values
    inputs[p0, columns, 0] = 1.0
    inputs[p1, columns, 0] = 1.0
    targets = combine(values[p0, columns], values[p1, columns]).reshape(batch_size, 1)
    return TaskBatch(task, length, inputs, targets, "readout_squared_error", "last", 2, 1, "squared_error")


def addition(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the addition problem: the mean of two marked values in a stream of random numbers.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Minimum length L >= 10; the batch's actual length T is drawn in
        [L, 1.1 L).
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs`` and ``targets`` (the target is computed from the
        values in this type).

    Returns
    -------
    TaskBatch
        ``inputs`` (T, B, 2), ``targets`` (B, 1) in [0, 1),
        ``loss="readout_squared_error"``, ``at="last"``, ``n_inputs=2``,
        ``n_outputs=1``, ``error_kind="squared_error"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer, ``rng`` is not a
        Generator, an int or None, or ``dtype`` is not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 10``, ``rng`` is a negative seed,
        or ``dtype`` is not float64 or float32.

    See Also
    --------
    multiplication : the product of the marked values.
    sequence_errors : score a model's outputs.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1.2, drawn as the authors'
    ``AddTask.generate``; the target is ``(x[p0] + x[p1]) / 2``, read by a
    linear readout of the last state.  The actual length T differs from
    ``length`` = L (the authors' code; the paper speaks of length L).
    ``rng`` draws, in order:

    1. ``T = L + integers(int(0.1 L))``, one for the batch, so T in [L, 1.1 L);
    2. ``p0 = integers(int(0.1 T))``, shape (B,), so p0 in [0, 0.1 T);
    3. ``p1 = integers(int(0.4 T)) + int(0.1 T)``, shape (B,), so
       p1 in [0.1 T, 0.5 T);
    4. the values ``random((T, B))``, uniform on [0, 1).

    Channel 1 holds the values at every step; channel 0 is the marker, 1 at
    steps p0 and p1 and 0 elsewhere (p0 < p1 always).  A sequence counts as
    wrong when its squared error exceeds 0.04 (Sec. 4.1.2).

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.addition(2, 50, rng=0)
    >>> batch.inputs.shape[1:], 50 <= batch.n_steps < 55, batch.targets.shape
    ((2, 2), True, (2, 1))
    """
    return _marked_values("addition", batch_size, length, rng, dtype, lambda a, b: (a + b) / 2)


def multiplication(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the multiplication problem: the product of two marked values in a stream of random numbers.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Minimum length L >= 10; the batch's actual length T is drawn in
        [L, 1.1 L).
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs`` and ``targets``.

    Returns
    -------
    TaskBatch
        As `addition`, with ``targets`` = ``x[p0] * x[p1]`` in [0, 1).

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer, ``rng`` is not a
        Generator, an int or None, or ``dtype`` is not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 10``, ``rng`` is a negative seed,
        or ``dtype`` is not float64 or float32.

    See Also
    --------
    addition : the mean of the marked values, with the same draws.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1.2, drawn as the authors'
    ``MulTask.generate``: the draws of `addition`, with the target
    ``x[p0] * x[p1]`` (not halved), in [0, 1).  The same seed gives the same
    inputs as `addition`: T in [L, 1.1 L), p0 in [0, 0.1 T),
    p1 in [0.1 T, 0.5 T), values uniform on [0, 1) on channel 1, markers on
    channel 0; a sequence is wrong when its squared error exceeds 0.04.

    Examples
    --------
    >>> import dynrnn
    >>> a, m = dynrnn.tasks.addition(2, 20, rng=5), dynrnn.tasks.multiplication(2, 20, rng=5)
    >>> bool((a.inputs == m.inputs).all())
    True
    """
    return _marked_values("multiplication", batch_size, length, rng, dtype, lambda a, b: a * b)


# ----------------------------------------------------------------------------- permutation


def permutation(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the random permutation problem: recall, at the end, the first of L random symbols.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Sequence length T = L >= 1.
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs``.

    Returns
    -------
    TaskBatch
        ``inputs`` (L, B, 100) one-hot, ``targets`` (B,) class labels in
        {0, 1}, ``loss="cross_entropy"``, ``at="last"``, ``n_inputs=100``,
        ``n_outputs=100``, ``error_kind="argmax"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer, ``rng`` is not a
        Generator, an int or None, or ``dtype`` is not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 1``, ``rng`` is a negative seed,
        or ``dtype`` is not float64 or float32.

    See Also
    --------
    sequence_errors : score a model's outputs.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1.2, drawn as the authors'
    ``PermTask.generate``.  ``rng`` draws, in order:

    1. the symbols ``integers(98) + 2`` of shape (L + 1, B), uniform on
       {2, ..., 99};
    2. ``val = integers(2)`` of shape (B,).

    Symbols 0 and L are set to ``val``.  The inputs are symbols 0 .. L - 1,
    one-hot over 100 channels; the target is symbol L, i.e. ``val``, the
    symbol seen at the first step.  The paper describes next-symbol
    prediction, of which only the last symbol is predictable; the authors'
    code, followed here, trains and scores only the final prediction (its
    per-step targets are commented out).

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.permutation(3, 15, rng=0)
    >>> bool((batch.inputs[0].argmax(axis=1) == batch.targets).all())
    True
    """
    batch_size, length, rng, dtype = _arguments("permutation", batch_size, length, rng, dtype, 1, "")
    _fits("permutation", batch_size, length, length + 1, N_SYMBOLS * dtype.itemsize + 32)
    symbols = rng.integers(N_SYMBOLS - 2, size=(length + 1, batch_size)) + 2
    val = rng.integers(2, size=batch_size)
    symbols[0] = val
    symbols[length] = val
    inputs = _one_hot(symbols[:length], N_SYMBOLS, dtype)
    targets = symbols[length].copy()
    return TaskBatch("permutation", length, inputs, targets, "cross_entropy", "last", N_SYMBOLS, N_SYMBOLS, "argmax")


# ----------------------------------------------------------------------------- memorization


def memorization(batch_size, length, *, rng=None, n_values=5, n_pos=10, dtype=np.float64):
    """A batch of the noiseless memorization problem: replay a pattern of ``n_pos`` symbols after L blank steps.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Number of blank steps L >= 1 between pattern and recall; the
        sequences have T = L + 2 ``n_pos`` steps.
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    n_values : int, default 5
        Alphabet size of the pattern, >= 2.
    n_pos : int, default 10
        Pattern length, >= 1, with ``n_values ** n_pos <= 2**63``.  The
        defaults (5 values, 10 positions, about 23.2 bits) are the paper's
        "> 20 bits" variant; ``n_values=2, n_pos=5`` is the 5-bit variant.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs``.

    Returns
    -------
    TaskBatch
        ``inputs`` (T, B, n_values + 2) one-hot, ``targets`` (T, B) class
        labels in {0, ..., n_values}, ``loss="cross_entropy"``,
        ``at="every"``, ``n_inputs=n_values + 2``,
        ``n_outputs=n_values + 1``, ``error_kind="any_argmax"``.

    Raises
    ------
    TypeError
        If ``batch_size``, ``length``, ``n_values`` or ``n_pos`` is not an
        integer, ``rng`` is not a Generator, an int or None, or ``dtype`` is
        not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 1``, ``n_values < 2``,
        ``n_pos < 1``, ``n_values ** n_pos > 2**63``, ``rng`` is a negative
        seed, or ``dtype`` is not float64 or float32.

    See Also
    --------
    sequence_errors : score a model's outputs (every step must be right).

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1.2, drawn as the authors'
    ``MemTask.generate`` (``generate_all=False``), with their channel layout
    for any ``n_values``: ``n_values + 2`` input channels, ``n_values + 1``
    classes (the code's ``nin``, ``nout``).  ``rng`` draws one thing: the
    pattern index ``integers(n_values ** n_pos)`` of shape (B,), uniform over
    the patterns; its base-``n_values`` digit k (least significant first) is
    the symbol at pattern position k.  Then, with P = ``n_pos``:

    - steps 0 .. P - 1 carry the pattern, one-hot over channels
      0 .. n_values - 1;
    - the blank channel ``n_values`` (the code's -2) is 1 at every step
      >= P except step L + P, where the recall-cue channel ``n_values + 1``
      (the code's -1) is 1;
    - the target is the blank class ``n_values`` (the code's -1) at steps
      0 .. L + P - 1, then the pattern at steps L + P .. L + 2 P - 1.

    A softmax is scored at every step; a sequence is wrong when any step's
    argmax differs, blank steps included (the authors' ``report='all'``).
    The 5-bit configuration is not in the authors' repository; 2 values x 5
    positions is the reading of Martens & Sutskever (2011).

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.memorization(2, 10, rng=0, n_values=2, n_pos=5)
    >>> batch.inputs.shape, batch.targets.shape, batch.n_outputs
    ((20, 2, 4), (20, 2), 3)
    >>> bool((batch.targets[15:] == batch.inputs[:5].argmax(axis=2)).all())
    True
    """
    n_values = _validate.integer("n_values", n_values, minimum=2)
    n_pos = _validate.integer("n_pos", n_pos, minimum=1)
    # n_values >= 2, so n_pos > 63 is too many whatever n_values is (and n_values**n_pos is never computed huge).
    if n_pos > 63 or n_values**n_pos > 2**63:
        raise ValueError(f"n_values ** n_pos must be <= 2**63 (patterns are indexed by int64); got {n_values}**{n_pos}")
    batch_size, length, rng, dtype = _arguments("memorization", batch_size, length, rng, dtype, 1, "")
    also = f", n_values={n_values} and n_pos={n_pos}"
    _fits("memorization", batch_size, length, length + 2 * n_pos, (n_values + 2) * dtype.itemsize + 32, also)
    index = rng.integers(n_values**n_pos, size=batch_size, dtype=np.int64)
    powers = np.array([n_values**k for k in range(n_pos)], dtype=np.int64)  # < 2**63: fits
    pattern = (index[None, :] // powers[:, None]) % n_values
    n_steps = length + 2 * n_pos
    blank, cue = n_values, n_values + 1
    stream = np.full((n_steps, batch_size), blank, dtype=np.int64)
    stream[:n_pos] = pattern
    stream[length + n_pos] = cue
    inputs = _one_hot(stream, n_values + 2, dtype)
    targets = np.full((n_steps, batch_size), blank, dtype=np.int64)
    targets[length + n_pos :] = pattern
    return TaskBatch(
        "memorization", length, inputs, targets, "cross_entropy", "every", n_values + 2, n_values + 1, "any_argmax"
    )
