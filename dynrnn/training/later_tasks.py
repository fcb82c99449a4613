"""Two tasks from the work that followed the paper: the copy task and the adding problem of Le et al. (2015).

`copy` is the copying memory problem of Arjovsky, Shah & Bengio (2016),
"Unitary evolution recurrent neural networks", Sec. 4.1; `le_adding` is the
adding problem as Le, Jaitly & Hinton (2015), "A simple way to initialize
recurrent networks of rectified linear units", Sec. 4.1, set it (after
Hochreiter & Schmidhuber 1997).  Each is called as ``f(batch_size, length,
rng)`` and returns a `dynrnn.TaskBatch`, like the paper's six generators in
`dynrnn.training.generators`, whose conventions they follow: positions are
0-based step indices into ``inputs`` (row ``t`` is the input of step
``t + 1``), all sequences of a batch share one length, and randomness comes
only from ``rng``, in the order each docstring lists, so the same seed gives
the same batch.
"""

import numpy as np

from ..results.tasks import TaskBatch
from .generators import _arguments, _fits, _one_hot

__all__ = ["COPY_N_POS", "COPY_N_SYMBOLS", "copy", "le_adding"]

COPY_N_POS = 10
"""copy: the number of data symbols to remember and recall."""

COPY_N_SYMBOLS = 8
"""copy: the data symbols are 1 .. 8; 0 is the blank and 9 the delimiter."""

_BLANK, _DELIMITER = 0, COPY_N_SYMBOLS + 1


# ----------------------------------------------------------------------------- copy


def copy(batch_size, length, *, rng=None, dtype=np.float64):
    r"""A batch of the copy task: recall 10 symbols, in order, after T blank steps and a delimiter.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        The delay T >= 1; the sequences have T + 20 steps.
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``,
        None takes fresh entropy.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs``.

    Returns
    -------
    TaskBatch
        ``inputs`` (T + 20, B, 10) one-hot over the symbols 0 .. 9,
        ``targets`` (T + 20, B) class labels in {0, ..., 8},
        ``loss="cross_entropy"``, ``at="every"``, ``n_inputs=10``,
        ``n_outputs=9``, ``error_kind="recall_argmax"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer (bools included),
        ``rng`` is not a Generator, an int or None, or ``dtype`` is not a
        dtype.
    ValueError
        If ``batch_size < 1``, ``length < 1``, the batch would not fit in
        memory, ``rng`` is a negative seed, or ``dtype`` is not float64 or
        float32.

    See Also
    --------
    dynrnn.tasks.memorization : the paper's version of the same problem.
    dynrnn.tasks.sequence_errors : score a model's outputs.

    Notes
    -----
    Arjovsky, Shah & Bengio (2016), Sec. 4.1.  With T = ``length``, the
    symbols are 0 (blank), 1 .. 8 (data) and 9 (delimiter).  The input
    sequence has T + 20 steps:

    - steps 0 .. 9: the data, 10 symbols drawn uniformly and independently
      from {1, ..., 8};
    - steps 10 .. T + 8: T - 1 blanks;
    - step T + 9: the delimiter, which asks for the recall;
    - steps T + 10 .. T + 19: 10 blanks.

    The target is the blank at steps 0 .. T + 9 and the data, in order, at
    steps T + 10 .. T + 19.  Inputs are one-hot over the 10 symbols; the
    outputs are a softmax over the 9 symbols a target can take (0 .. 8), as
    in the authors' code (``n_input=10``, ``n_output=9``), scored with
    cross-entropy at every step.  ``rng`` draws one thing: the data,
    ``integers(8) + 1`` of shape (10, B).

    Baseline: the best a network without memory can do is to predict the
    blank for T + 10 steps and then each data symbol uniformly, a
    cross-entropy of ``10 log 8`` per sequence, i.e.

    .. math:: \frac{10 \log 8}{T + 20}

    per step, the mean over steps that `dynrnn.train` logs as
    ``train_loss`` (`dynrnn.bptt` returns the sum over steps, ``10 log 8``).

    Error: a sequence is wrong when the argmax of the output misses the
    target at any of the 10 recall steps (``error_kind="recall_argmax"``:
    the steps whose target is not the blank).  Unlike memorization's rule,
    the blank steps are not scored, so the memoryless baseline is wrong on
    all but a fraction ``8**-10`` of sequences.  `dynrnn.tasks.memorization`
    with ``n_values=8, n_pos=10`` is the same problem, laid out as the
    paper's authors lay it out (a blank channel, and its own recall cue),
    scored at every step.

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.copy(2, 5, rng=0)
    >>> batch.inputs.shape, batch.targets.shape, batch.n_outputs
    ((25, 2, 10), (25, 2), 9)
    >>> symbols = batch.inputs.argmax(axis=2)
    >>> bool((batch.targets[15:] == symbols[:10]).all()), symbols[14].tolist()
    (True, [9, 9])
    """
    batch_size, length, rng, dtype = _arguments("copy", batch_size, length, rng, dtype, 1, "")
    n_steps = length + 2 * COPY_N_POS
    _fits("copy", batch_size, length, n_steps, (COPY_N_SYMBOLS + 2) * dtype.itemsize + 40)
    data = rng.integers(COPY_N_SYMBOLS, size=(COPY_N_POS, batch_size)) + 1
    stream = np.full((n_steps, batch_size), _BLANK, dtype=np.int64)
    stream[:COPY_N_POS] = data
    stream[length + COPY_N_POS - 1] = _DELIMITER
    inputs = _one_hot(stream, COPY_N_SYMBOLS + 2, dtype)
    targets = np.full((n_steps, batch_size), _BLANK, dtype=np.int64)
    targets[length + COPY_N_POS :] = data
    return TaskBatch(
        "copy", length, inputs, targets, "cross_entropy", "every", COPY_N_SYMBOLS + 2, COPY_N_SYMBOLS + 1,
        "recall_argmax",
    )  # fmt: skip


# ----------------------------------------------------------------------------- the adding problem of Le et al.


def le_adding(batch_size, length, *, rng=None, dtype=np.float64):
    """A batch of the adding problem of Le et al. (2015): the sum of two marked values, one in each half.

    Parameters
    ----------
    batch_size : int
        Number of sequences B >= 1.
    length : int
        Sequence length T >= 2 (each half holds a marker).
    rng : numpy.random.Generator, int or None, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Type of ``inputs`` and ``targets`` (the target is computed from the
        values in this type).

    Returns
    -------
    TaskBatch
        ``inputs`` (T, B, 2), ``targets`` (B, 1) in [0, 2),
        ``loss="readout_squared_error"``, ``at="last"``, ``n_inputs=2``,
        ``n_outputs=1``, ``error_kind="squared_error"``.

    Raises
    ------
    TypeError
        If ``batch_size`` or ``length`` is not an integer, ``rng`` is not a
        Generator, an int or None, or ``dtype`` is not a dtype.
    ValueError
        If ``batch_size < 1``, ``length < 2``, the batch would not fit in
        memory, ``rng`` is a negative seed, or ``dtype`` is not float64 or
        float32.

    See Also
    --------
    dynrnn.tasks.addition : the paper's variant (the mean, markers near the
        start and before the middle, a jittered length).
    dynrnn.tasks.sequence_errors : score a model's outputs.

    Notes
    -----
    Le, Jaitly & Hinton (2015), Sec. 4.1, after Hochreiter & Schmidhuber
    (1997).  Channel 0 holds values uniform on [0, 1) at every step; channel
    1 is the marker, 1 at exactly two steps and 0 elsewhere (Le et al.'s
    order of the two input sequences; the paper's `addition` has them the
    other way round).  With ``h = T // 2`` (the first half is steps
    0 .. h - 1, the second h .. T - 1), ``rng`` draws, in order:

    1. ``p0 = integers(h)``, shape (B,), so p0 in [0, T // 2);
    2. ``p1 = integers(T - h) + h``, shape (B,), so p1 in [T // 2, T);
    3. the values ``random((T, B))``, uniform on [0, 1).

    The target is the plain sum ``x[p0] + x[p1]`` (not halved, unlike
    `addition`), read by a linear readout of the last state, with the
    squared-error loss.  The length is T exactly (no jitter).

    Baseline: the sum has mean 1 and variance 2/12 = 1/6, so predicting the
    constant 1 scores a mean squared error of 1/6, about 0.167 (Le et al. quote
    0.1767), and no constant does better.  Error: as for `addition`, a
    sequence is wrong when its squared error exceeds 0.04 (Pascanu et al.
    2013, Sec. 4.1.2), i.e. ``|y - target| > 0.2``; on a target in [0, 2)
    this is twice as strict, relative to the range, as on `addition`'s mean.
    The constant 1 is wrong on a fraction ``0.8**2 = 0.64`` of sequences.

    Examples
    --------
    >>> import dynrnn
    >>> batch = dynrnn.tasks.le_adding(3, 10, rng=0)
    >>> batch.inputs.shape, batch.targets.shape
    ((10, 3, 2), (3, 1))
    >>> batch.inputs[:5, :, 1].sum(axis=0).tolist(), batch.inputs[5:, :, 1].sum(axis=0).tolist()
    ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    """
    why = "one marker in each half"
    batch_size, length, rng, dtype = _arguments("le_adding", batch_size, length, rng, dtype, 2, why)
    _fits("le_adding", batch_size, length, length, 3 * dtype.itemsize + 16)  # inputs, values (float64)
    half = length // 2
    p0 = rng.integers(half, size=batch_size)
    p1 = rng.integers(length - half, size=batch_size) + half
    values = rng.random((length, batch_size)).astype(dtype, copy=False)
    columns = np.arange(batch_size)
    inputs = np.zeros((length, batch_size, 2), dtype=dtype)
    inputs[:, :, 0] = values
    inputs[p0, columns, 1] = 1.0
    inputs[p1, columns, 1] = 1.0
    targets = (values[p0, columns] + values[p1, columns]).reshape(batch_size, 1)
    return TaskBatch("le_adding", length, inputs, targets, "readout_squared_error", "last", 2, 1, "squared_error")
