"""The task model of Pascanu et al. (2013), Sec. 4.1: a standard-form RNN with a readout, run on task batches.

The model is the authors' (paper.md Sec. 5.2): ``h_t = sigma(W_rec h_{t-1} +
W_in u_t + b)`` from ``h_0 = 0`` (or with leaky units, ``h_t = leak h_{t-1} +
(1 - leak) sigma(...)``), with a linear readout ``y = W_out h + b_out``
that is, per task (`dynrnn.TaskBatch` fields ``loss`` and ``at``):

- a softmax at the last step (temporal order, 3-bit temporal order,
  permutation): cross-entropy loss, wrong when the argmax misses the label;
- linear at the last step (addition, multiplication, le_adding):
  squared-error loss, wrong when the squared error exceeds 0.04;
- a softmax at every step (memorization, copy): cross-entropy averaged over
  steps and sequences, wrong when any step's argmax misses (memorization)
  or any recall step's (copy).

`dynrnn.init_network` draws such a network, `task_outputs` runs it on a
batch (forward only, compiled), `error_rate` scores it on fresh sequences.
"""

import numbers

import numpy as np

from .. import _validate
from ..maps.gated import GATED, is_gated
from ..maps.model import RNN
from ..results.tasks import TaskBatch
from .tasks import get_task, sequence_errors

__all__ = ["error_rate", "task_outputs"]

# Sequences per evaluation chunk at most, and numbers per chunk's inputs at most (memory).
CHUNK = 1000
_MAX_INPUT_NUMBERS = 1 << 23

MAX_SEQUENCES = 10**8
"""The most sequences one evaluation scores (`error_rate`'s ``n_sequences``, `dynrnn.train`'s ``n_check`` and
``n_eval``): 10,000 times the paper's 10,000.  An evaluation is also refused when its forward passes would exceed
``dynrnn._config.MAX_WORK`` multiply-adds (hours)."""


def check_task_network(net, n_inputs, n_outputs, name="net"):
    """Raise unless ``net`` is a task model (a standard-form RNN, leak allowed, or a GRU or LSTM, with a readout) of
    the given input and readout widths."""
    if not isinstance(net, (RNN, *GATED)):
        raise TypeError(f"{name} must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")
    if is_gated(net) and net.W_out is None:
        raise ValueError(f"{name} must have a readout W_out (a task model); got a {type(net).__name__} without one")
    if not is_gated(net) and (net.form != "standard" or net.W_out is None):
        raise ValueError(
            f"{name} must be a standard-form RNN with a readout (as dynrnn.init_network draws); "
            f"got form={net.form!r}, n_outputs={net.n_outputs}"
        )
    if net.n_inputs != n_inputs or net.n_outputs != n_outputs:
        raise ValueError(
            f"{name} must have {n_inputs} inputs and {n_outputs} readout units for this task; "
            f"got {net.n_inputs} and {net.n_outputs}"
        )


def task_outputs(net, batch):
    """Run the task model on a batch: the readout outputs at the scored steps.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        A standard-form network with a readout (and any leak), or a GRU or
        LSTM with a readout, with ``batch.n_inputs`` inputs and
        ``batch.n_outputs`` readout units (as `dynrnn.init_network` draws
        it).
    batch : TaskBatch
        A batch of one of `dynrnn.tasks`.

    Returns
    -------
    ndarray, shape (1, B, q) or (T, B, q)
        Logits (cross-entropy tasks) or readout values at the last step, or
        at every step when ``batch.at == "every"``, in the dtype of ``net``;
        what `dynrnn.tasks.sequence_errors` scores.  A diverged network
        gives NaN or inf, which counts as an error.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, or ``batch`` not a `TaskBatch`.
    ValueError
        If ``net`` is not a task model of the batch's sizes.

    See Also
    --------
    error_rate : the fraction of fresh sequences the model gets wrong.
    dynrnn.bptt : the same outputs with gradients (``GradientResult.outputs``).

    Notes
    -----
    The forward pass of the authors' model (paper.md Sec. 5.2), compiled
    over the whole batch: one matrix product per step for the recurrence
    and one for the input.  A GRU or LSTM runs from ``h_0 = c_0 = 0`` with
    its cell's batch level (``dynrnn/cells/gru.py``, ``lstm.py``), the code
    its training runs.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> from dynrnn.training.model import task_outputs
    >>> batch = dynrnn.tasks.temporal_order(3, 20, rng=0)
    >>> net = dynrnn.init_network("basic_tanh", 10, batch.n_inputs, batch.n_outputs, rng=0)
    >>> task_outputs(net, batch).shape
    (1, 3, 4)
    """
    if not isinstance(batch, TaskBatch):
        raise TypeError(f"batch must be a dynrnn.TaskBatch; got {type(batch).__name__}")
    check_task_network(net, batch.n_inputs, batch.n_outputs)
    U = np.ascontiguousarray(batch.inputs, dtype=net.dtype)
    if is_gated(net):
        from .._kernels import gated

        params = [np.array(getattr(net, k)) for k in ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")]
        with np.errstate(all="ignore"):
            return gated.forward(net.cell, *params, U, batch.at == "every")
    from .._kernels import train as kernels

    params = [np.array(getattr(net, k)) for k in ("W_rec", "W_in", "b", "W_out", "b_out")]  # writable copies
    leak = None if net.leak is None else np.array(net.leak)
    with np.errstate(all="ignore"):  # a diverged network gives NaN/inf outputs, scored as errors
        return kernels.forward(net.activation, *params, U, batch.at == "every", leak)


def chunk_size(length, n_inputs, chunk=CHUNK):
    """Sequences per evaluation chunk: ``chunk``, fewer for long sequences so a chunk's inputs stay small."""
    steps = length[1] if isinstance(length, tuple) else length
    return max(1, min(chunk, _MAX_INPUT_NUMBERS // max(1, steps * n_inputs)))


def check_evaluation(task, length, n_sequences, n_units, task_options, dtype, names):
    """Refuse (ValueError naming ``names``) an evaluation that would not fit in memory or not finish.

    ``names`` maps the roles ``"length"``, ``"n_sequences"`` and ``"n_units"`` to the arguments that set them.
    """
    from .generators import max_steps

    n_in, n_out = _task_sizes(task, task_options, dtype)
    longest = max_steps(task, length[1] if isinstance(length, tuple) else length, **task_options)
    size = min(n_sequences, chunk_size(length, n_in))
    itemsize = np.dtype(dtype).itemsize
    # One chunk at a time: its batch (inputs, integer symbols, indices), the outputs and their float64 copy.
    _validate.memory(
        f"{names['length']}={length!r}",
        size * longest * ((n_in + n_out) * itemsize + 8 * n_out + 48) + 3 * size * n_units * itemsize,
        f"an evaluation chunk of {size} {task} sequences of up to {longest} steps",
    )
    _validate.work(
        f"{names['n_sequences']}={n_sequences}, {names['length']}={length!r} and {names['n_units']}={n_units}",
        n_sequences * longest * n_units * (n_units + n_in + n_out),
        f"scoring {n_sequences} {task} sequences",
    )


def count_errors(net, task, length, n_sequences, rng, task_options, chunk=CHUNK):
    """Errors among ``n_sequences`` fresh sequences, in chunks (each of its own length if ``length`` is a range)."""
    generator = get_task(task)
    if not isinstance(net, (RNN, *GATED)):
        raise TypeError(f"net must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")
    n_in, n_out = _task_sizes(task, task_options, net.dtype)
    check_task_network(net, n_in, n_out)
    size = chunk_size(length, n_in, chunk)
    errors, done = 0, 0
    while done < n_sequences:
        b = min(size, n_sequences - done)
        steps = int(rng.integers(length[0], length[1] + 1)) if isinstance(length, tuple) else length
        batch = generator(b, steps, rng=rng, dtype=net.dtype, **task_options)
        errors += int(np.count_nonzero(sequence_errors(batch, task_outputs(net, batch))))
        done += b
    return errors


def _task_sizes(task, task_options, dtype):
    probe = get_task(task)(1, 10, rng=np.random.default_rng(0), dtype=dtype, **task_options)
    return probe.n_inputs, probe.n_outputs


def lengths_argument(length, name="length"):
    """``length`` as an int >= 1 or a ``(min, max)`` tuple of ints with 1 <= min <= max."""
    if isinstance(length, (tuple, list)):
        if len(length) != 2:
            raise ValueError(f"{name} must be an int >= 1 or a (min, max) pair; got {length!r}")
        lo = _validate.integer(f"{name}[0]", length[0], minimum=1)
        hi = _validate.integer(f"{name}[1]", length[1], minimum=1)
        if hi < lo:
            raise ValueError(f"{name} must be a (min, max) pair with min <= max; got {length!r}")
        return (lo, hi) if hi > lo else lo
    return _validate.integer(name, length, minimum=1)


def error_rate(net, task, length, *, n_sequences=10000, rng=None, task_options=None):
    """The fraction of freshly generated sequences of a task that a network gets wrong.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        A task model (see `task_outputs`) of the task's sizes.
    task : str
        A name of `dynrnn.tasks.TASKS`.
    length : int or (int, int)
        The sequence length L given to the generator, or a range
        ``(min, max)``: each chunk of sequences then draws its own length
        uniformly in [min, max], as the authors' evaluation does.
    n_sequences : int, default 10000
        Sequences to score (the paper's success test uses 10,000).
    rng : numpy.random.Generator, int or None
        Source of the sequences.
    task_options : dict, optional
        Extra keyword arguments of the generator (``n_values``, ``n_pos``
        of memorization).

    Returns
    -------
    float
        Errors / ``n_sequences``, by `dynrnn.tasks.sequence_errors`.

    Raises
    ------
    TypeError
        If an argument is of the wrong kind.
    ValueError
        If ``task`` is unknown, ``length`` or ``n_sequences`` < 1,
        ``n_sequences`` > `MAX_SEQUENCES` (10**8), an evaluation chunk
        would not fit in memory or the whole would exceed
        ``dynrnn._config.MAX_WORK`` multiply-adds, ``task_options`` holds
        an option the task does not take, or ``net`` does not fit the task.

    See Also
    --------
    dynrnn.train : trains a task model and evaluates it this way.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1: a run succeeds when fewer than 1 % of
    10,000 fresh sequences are misclassified.  The sequences are drawn in
    chunks of up to 1000 (fewer for very long sequences, to bound memory),
    like the authors' ten validation batches of 1000.

    Examples
    --------
    An untrained network is at chance on temporal order (4 classes):

    >>> import dynrnn
    >>> from dynrnn.training.model import error_rate
    >>> net = dynrnn.init_network("smart_tanh", 20, 6, 4, rng=0)
    >>> 0.6 < error_rate(net, "temporal_order", 30, n_sequences=2000, rng=1) < 0.9
    True
    """
    from .tasks import TASKS

    task = _validate.choice("task", task, tuple(TASKS))
    length = lengths_argument(length)
    n_sequences = _validate.integer("n_sequences", n_sequences, minimum=1, maximum=MAX_SEQUENCES)
    task_options = _task_options(task_options, task)
    if not isinstance(net, (RNN, *GATED)):
        raise TypeError(f"net must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")
    n_in, n_out = _task_sizes(task, task_options, net.dtype)
    check_task_network(net, n_in, n_out)
    names = {"length": "length", "n_sequences": "n_sequences", "n_units": "net.n_units"}
    check_evaluation(task, length, n_sequences, net.n_units, task_options, net.dtype, names)
    with single_threaded_blas():
        errors = count_errors(net, task, length, n_sequences, _validate.rng("rng", rng), task_options)
    return errors / n_sequences


def single_threaded_blas():
    """A context in which BLAS runs on one thread.

    The matrix products of an update are small ((B, n) by (n, n)); a
    multi-threaded BLAS splits them anyway, and on a loaded machine its
    spinning threads made updates 4-80 times slower (measured on 2 cores).
    Dask workers already run with one BLAS thread; this makes every caller so.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _task_options(task_options, task=None):
    """``task_options`` as a dict of int options; with ``task``, only options its generator takes."""
    if task_options is None:
        return {}
    if not isinstance(task_options, dict) or not all(isinstance(k, str) for k in task_options):
        raise TypeError(f"task_options must be a dict of generator keyword arguments; got {task_options!r}")
    for key, value in task_options.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"task_options[{key!r}] must be an int; got {type(value).__name__} {value!r}")
    if task is not None:
        import inspect

        taken = [
            k
            for k, p in inspect.signature(get_task(task)).parameters.items()
            if p.kind == p.KEYWORD_ONLY and k not in ("dtype", "rng")
        ]
        for key in task_options:
            if key not in taken:
                expected = ", ".join(repr(k) for k in taken) if taken else "none"
                raise ValueError(
                    f"task_options has {key!r}, which task {task!r} does not take (its options: {expected})"
                )
    return dict(task_options)
