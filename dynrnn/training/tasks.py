"""The pathological tasks of Pascanu et al. (2013), Sec. 4.1, and two later ones: generators, registry, scoring.

The paper's six generators live in `dynrnn.training.generators` (see its
notes for the sampling rules), the copy task (Arjovsky et al. 2016) and the
adding problem of Le et al. (2015) in `dynrnn.training.later_tasks`; this
module is what users import as ``dynrnn.tasks``: the generators, the
registry `TASKS` with `get_task`, and `sequence_errors`, which scores a
model's outputs as the authors' evaluation does.
"""

import numpy as np

from .. import _validate
from ..results.tasks import TaskBatch
from .generators import addition, memorization, multiplication, permutation, temporal_order, temporal_order_3bit
from .later_tasks import copy, le_adding

__all__ = [
    "TASKS",
    "addition",
    "copy",
    "get_task",
    "le_adding",
    "memorization",
    "multiplication",
    "permutation",
    "sequence_errors",
    "temporal_order",
    "temporal_order_3bit",
]

ERROR_THRESHOLD = 0.04  # squared error above which a regression sequence is wrong (Sec. 4.1.2)


# ----------------------------------------------------------------------------- registry, scoring

TASKS = {
    "temporal_order": temporal_order,
    "temporal_order_3bit": temporal_order_3bit,
    "addition": addition,
    "multiplication": multiplication,
    "permutation": permutation,
    "memorization": memorization,
    "copy": copy,
    "le_adding": le_adding,
}


def get_task(name):
    """The generator of a task, by name.

    Parameters
    ----------
    name : str
        One of the keys of `TASKS`: ``"temporal_order"``,
        ``"temporal_order_3bit"``, ``"addition"``, ``"multiplication"``,
        ``"permutation"``, ``"memorization"`` (the paper's), ``"copy"``,
        ``"le_adding"``.

    Returns
    -------
    callable
        The generator, called as ``f(batch_size, length, rng)``.

    Raises
    ------
    ValueError
        If ``name`` is not a task's name (the message lists them).

    See Also
    --------
    TASKS : the registry.

    Notes
    -----
    The six tasks of Pascanu et al. (2013), Sec. 4.1, then the copy task
    of Arjovsky, Shah & Bengio (2016) and the adding problem of Le, Jaitly
    & Hinton (2015).

    Examples
    --------
    >>> import dynrnn
    >>> dynrnn.tasks.get_task("addition") is dynrnn.tasks.addition
    True
    """
    return TASKS[_validate.choice("name", name, tuple(TASKS))]


def sequence_errors(batch, outputs):
    """Which sequences of a batch a model gets wrong, by the authors' evaluation rule.

    Parameters
    ----------
    batch : TaskBatch
        The batch the model was run on.
    outputs : array_like, shape (1, B, q) or (T, B, q)
        The model's outputs, as `dynrnn.bptt` returns them in
        ``GradientResult.outputs``: logits (cross-entropy tasks) or readout
        values (addition, multiplication, le_adding) at the scored steps, one step for
        ``batch.at == "last"``, T steps for ``"every"``.

    Returns
    -------
    ndarray of bool, shape (B,)
        True for each sequence counted as an error.

    Raises
    ------
    TypeError
        If ``batch`` is not a `dynrnn.TaskBatch`, or ``outputs`` is not a
        real-valued numeric array.
    ValueError
        If ``outputs`` does not have the shape above.

    See Also
    --------
    dynrnn.bptt : computes ``outputs``.

    Notes
    -----
    As the authors' code scores a sequence (Pascanu et al. 2013, Sec. 4.1):

    - ``"argmax"``: the argmax of the last output differs from the label;
    - ``"squared_error"``: ``sum_o (y_o - target_o)^2 > 0.04`` at the last
      step (Sec. 4.1.2);
    - ``"any_argmax"``: the argmax differs from the label at any step,
      blank steps included (memorization);
    - ``"recall_argmax"``: the argmax differs from the label at any step
      whose label is not the blank class 0, i.e. at one of the recall
      steps (the copy task; its blank steps are not scored).

    A sequence whose scored outputs hold a NaN or inf is an error.  Ties in
    the argmax go to the lowest class, as in NumPy and Theano.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> batch = dynrnn.tasks.temporal_order(4, 20, rng=0)
    >>> perfect = np.eye(4)[batch.targets][None]  # (1, B, 4) logits
    >>> dynrnn.tasks.sequence_errors(batch, perfect).tolist()
    [False, False, False, False]
    """
    if not isinstance(batch, TaskBatch):
        raise TypeError(f"batch must be a dynrnn.TaskBatch; got {type(batch).__name__}")
    Y = _validate.real_array("outputs", outputs, np.float64, finite=False)
    T_s = batch.n_steps if batch.at == "every" else 1
    expected = (T_s, batch.batch_size, batch.n_outputs)
    if Y.shape != expected:
        raise ValueError(
            f"outputs must have shape {expected} (GradientResult.outputs for at={batch.at!r}); "
            f"got {_validate.shape_str(Y.shape)}"
        )
    bad = ~np.isfinite(Y).all(axis=(0, 2))
    if batch.error_kind == "squared_error":
        with np.errstate(over="ignore", invalid="ignore"):  # an overflowing output is simply wrong
            squared = ((Y[-1] - batch.targets) ** 2).sum(axis=1)
        return ~(squared <= ERROR_THRESHOLD) | bad
    labels = batch.targets.reshape(T_s, -1)
    wrong = Y.argmax(axis=2) != labels
    if batch.error_kind == "recall_argmax":
        wrong &= labels != 0
    return wrong.any(axis=0) | bad
