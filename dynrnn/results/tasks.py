"""A batch of one of the pathological tasks (`dynrnn.tasks`)."""

from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class TaskBatch(_FrozenArrays):
    """Input sequences, targets and scoring rules of a batch of one pathological task.

    See `dynrnn.tasks` (Pascanu et al. 2013, Sec. 4.1; the authors'
    generators; the copy task of Arjovsky et al. 2016 and the adding
    problem of Le et al. 2015).  Every sequence of a batch has the same length T.  The
    fields ``targets``, ``loss`` and ``at`` are what `dynrnn.bptt` takes:
    ``dynrnn.bptt(net, None, batch.inputs, batch.targets, loss=batch.loss, at=batch.at)``
    with a network of ``batch.n_inputs`` inputs and ``batch.n_outputs``
    readout rows.

    Attributes
    ----------
    task : str
        The generator's name, e.g. ``"temporal_order"``.
    length : int
        The length L that was asked for.  The actual number of steps T
        (``n_steps``) is L, except for addition and multiplication (a random
        T in [L, 1.1 L)), memorization (L + 2 n_pos) and copy (L + 20).
    inputs : ndarray, shape (T, B, n_inputs)
        ``inputs[t - 1, i]`` is the input u_t of sequence i.
    targets : ndarray
        Integer class labels of shape (B,) (softmax at the last step),
        floats of shape (B, 1) (linear readout at the last step), or integer
        labels of shape (T, B) (softmax at every step: memorization, copy).
    loss : {"cross_entropy", "readout_squared_error"}
        The training loss to pass to `dynrnn.bptt`.
    at : {"last", "every"}
        The scored steps, to pass to `dynrnn.bptt`.
    n_inputs : int
        Width m of the inputs (columns of ``W_in``).
    n_outputs : int
        Number q of readout units (rows of ``W_out``).
    error_kind : {"argmax", "squared_error", "any_argmax", "recall_argmax"}
        How `dynrnn.tasks.sequence_errors` scores a sequence (the authors'
        evaluation): the argmax of the last output differs from the label;
        the squared error of the last output exceeds 0.04; the argmax of
        any step differs from its label; the argmax differs from the label
        at a step whose label is not the blank class 0 (copy).
    """

    task: str
    length: int
    inputs: np.ndarray
    targets: np.ndarray
    loss: str
    at: str
    n_inputs: int
    n_outputs: int
    error_kind: str

    @property
    def batch_size(self):
        """The number of sequences B."""
        return self.inputs.shape[1]

    @property
    def n_steps(self):
        """The actual number of steps T of every sequence."""
        return self.inputs.shape[0]
