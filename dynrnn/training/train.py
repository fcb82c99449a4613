"""`dynrnn.train`: SGD with norm clipping and the Omega regularizer on the pathological tasks (Sec. 4.1).

A run is a population of one (``population.py``): each update is one
compiled call (``_kernels/population.py``: forward and backward over the
whole batch, Omega and its gradient, Algorithm 1 and the SGD step); Python
draws the batches, evaluates every ``eval_every`` updates, logs, and writes
checkpoints.  The run's state (``run.py``) is a handful of arrays and
generator states, which a checkpoint saves whole, so a resumed run continues
exactly where it stopped.
"""

import os

import numpy as np

from ..results.training import check_writable
from .population import _options, train_runs
from .run import (  # noqa: F401  (re-exported: the settings' vocabulary)
    CHECKPOINT_FORMAT,
    CODE_ALPHA,
    METHODS,
    NONFINITE,
    PAPER_ALPHA,
    Run,
    dense_targets,
    train_config,
)

__all__ = ["METHODS", "PAPER_ALPHA", "CODE_ALPHA", "train"]

_dense_targets = dense_targets  # the name the tests know


def train(
    task,
    *,
    cell="rnn",
    init=None,
    method=None,
    length=50,
    seed=0,
    n_units=50,
    leak=None,
    batch_size=20,
    lr=0.01,
    threshold=1.0,
    alpha=None,
    momentum=0.0,
    nesterov=False,
    omega_form="squared",
    omega_reduce="mean",
    nonfinite=None,
    max_updates=5_000_000,
    eval_every=200,
    n_check=1000,
    n_eval=10000,
    success_error=0.01,
    stop_on_success=True,
    task_options=None,
    connections="incoming",
    dtype=np.float64,
    checkpoint=None,
    checkpoint_every=60.0,
    resume=False,
    progress=None,
):
    r"""Train an RNN, a GRU or an LSTM on one of the pathological tasks with MSGD, MSGD-C or MSGD-CR.

    Parameters
    ----------
    task : str
        A name of `dynrnn.tasks.TASKS`, e.g. ``"temporal_order"``, or the
        later ``"copy"`` and ``"le_adding"``.
    cell : {"rnn", "gru", "lstm"}, default "rnn"
        The task model's cell: the paper's RNN (standard form), or
        PyTorch's GRU or LSTM (`dynrnn.GRU`, `dynrnn.LSTM`; from ``h_0 =
        c_0 = 0``), each with a linear readout of ``h_t``.
    init : str, optional
        The initialization (`dynrnn.init_network`).  For the RNN,
        ``"sigmoid"``, ``"basic_tanh"``, ``"smart_tanh"`` (the paper's
        three; the default), ``"irnn"`` (relu units, ``W_rec = I``; Le,
        Jaitly & Hinton 2015) or ``"orthogonal"`` (tanh units, a random
        orthogonal ``W_rec``); it sets the units' activation.  For a GRU or
        LSTM, ``"uniform"`` (the default and only choice): PyTorch's
        default, every weight and bias, readout included, ~ U(-1/sqrt(n),
        1/sqrt(n)).
    method : {"MSGD", "MSGD-C", "MSGD-CR"}, optional
        Plain SGD (no clipping, alpha = 0); with norm clipping at
        ``threshold``; with clipping and Omega weighted by ``alpha``.
        Default: "MSGD-CR" for the RNN, "MSGD-C" for a GRU or LSTM, which
        refuse "MSGD-CR": Omega (eqs. 9-10) is defined here for the RNN's
        step Jacobian only.
    length : int or (int, int), default 50
        The sequence length L, or a range ``(min, max)``: a new length, uniform
        in [min, max], for every update and every evaluation chunk (the
        paper's variable-length model trains on (50, 200)).
    seed : int, default 0
        Seeds the initialization, the training batches and the evaluation
        sequences (three independent streams), so the same seed gives the
        same run; the same seed with another method starts from the same
        network and sees the same batches.
    n_units : int, default 50
        Hidden units.
    leak : float or array_like of shape (n_units,), optional
        Leaky units (Bengio, Boulanger-Lewandowski & Pascanu 2012): a fixed
        leak in [0, 1), shared or per unit, so that
        ``h_t = leak h_{t-1} + (1 - leak) sigma(W_rec h_{t-1} + W_in u_t + b)``.
        Not trained.  None (the default, the paper's model) for none.  RNN
        only.
    batch_size : int, default 20
        Sequences per update.
    lr : float, default 0.01
        Learning rate, > 0.
    threshold : float, default 1.0
        Clipping threshold of Algorithm 1 (MSGD-C, MSGD-CR); ignored by MSGD.
    alpha : float, optional
        Weight of Omega, >= 0.  Default: `PAPER_ALPHA` (4, the paper) for
        MSGD-CR, 0 otherwise; the authors' code used `CODE_ALPHA` (2).
        Must be 0 (or None) for MSGD and MSGD-C.
    momentum : float, default 0.0
        Momentum coefficient in [0, 1) (the paper uses none).
    nesterov : bool, default False
        Simplified Nesterov momentum instead of classical momentum (see
        ``dynrnn.optim.SGD``).
    omega_form : {"squared", "ratio"}, default "squared"
        Omega of eq. (10) (the authors' code) or eq. (9).
    omega_reduce : {"mean", "sum"}, default "mean"
        Omega averaged over the kept terms (the code) or summed (the paper).
    nonfinite : {"skip", "shrink", "stop"}, optional
        What an update does when the gradient norm is NaN or inf:
        ``"skip"`` it; ``"shrink"``, the authors' guard (also for a norm
        above 1e10: ``W_rec`` shrinks by ``1 - 0.02 lr``, nothing else
        moves); ``"stop"`` the run, flagged ``diverged``.  Default:
        ``"stop"`` for MSGD (the authors' ``clipstyle="nothing"``, where a
        NaN ends all progress) and ``"shrink"`` for MSGD-C and MSGD-CR.
        Whatever the policy, an update that leaves a parameter NaN or inf
        ends the run, flagged ``diverged`` (the guard's factor
        ``1 - 0.02 lr``, the authors' rule, shrinks ``W_rec`` for
        ``lr < 50``, flips its sign for ``50 < lr < 100`` and, above 100,
        grows it until it overflows).
    max_updates : int, default 5_000_000
        Update budget (the paper's 5M).
    eval_every : int, default 200
        Updates between evaluations.
    n_check : int, default 1000
        Fresh sequences scored at each evaluation (logged as
        ``valid_error``).
    n_eval : int, default 10000
        Fresh sequences that confirm a success, and that score the final
        parameters.
    success_error : float, default 0.01
        Success is an error rate below this on ``n_eval`` sequences (the
        paper: 1 % of 10,000).
    stop_on_success : bool, default True
        Stop at the first success.
    task_options : dict, optional
        Extra generator arguments (``n_values``, ``n_pos`` of memorization).
    connections : {"incoming", "outgoing"}, default "incoming"
        smart_tanh sparsity per unit (the paper) or per row of the code.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the parameters and the computation.
    checkpoint : str or os.PathLike, optional
        A file to write the run's whole state to, every
        ``checkpoint_every`` seconds, at the end, and on Ctrl-C (written to
        a temporary file and renamed, so it is never half-written).  Its
        folder must exist and be writable (checked before training).  A
        file to resume from is checked whole (every array's shape, dtype
        and finiteness, every counter) before training goes on.
    checkpoint_every : float, default 60.0
        Seconds between checkpoints.
    resume : bool, default False
        Continue from ``checkpoint`` if that file exists (its settings must
        match, except ``max_updates``, which may grow); a finished run is
        returned as it is.
    progress : bool, optional
        Show a tqdm progress bar; default: when stderr is a terminal.

    Returns
    -------
    TrainResult
        Final parameters, success, updates to success, errors, history.

    Raises
    ------
    TypeError
        If an argument is of the wrong kind.
    ValueError
        If ``task``, ``cell``, ``init``, ``method`` or another choice is
        unknown; ``init`` is not one of the cell's; ``method="MSGD-CR"``
        or a ``leak`` is given for a GRU or LSTM; ``leak`` is outside
        [0, 1) or of another length than ``n_units``;
        ``length``, ``batch_size``, ``n_units`` or a budget is < 1; ``lr``
        or ``threshold`` is <= 0; ``alpha`` < 0, or > 0 for a method without
        Omega; ``n_units`` > 8192 or ``n_check``/``n_eval`` > 10**8; the
        run or an evaluation would not fit in memory or would exceed
        ``dynrnn._config.MAX_WORK``; ``checkpoint`` cannot be written; or
        a checkpoint to resume is damaged or does not match.
    KeyboardInterrupt
        On Ctrl-C, after the checkpoint (if any) has been written at the
        end of the current update.

    See Also
    --------
    dynrnn.bptt, dynrnn.vanishing_regularizer, dynrnn.clip_grad_norm :
        the pieces that one update fuses.
    dynrnn.optim.SGD : the update rule.
    dynrnn.sweep : many runs, stored in a database.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1, and the authors' code (paper.md Sec.
    5.5-5.7).  With ``g`` the gradient of the batch-mean loss, MSGD-CR
    adds ``alpha * dOmega/dW_rec`` (eq. 10, ``x_k`` and ``dE/dx_{k+1}``
    held constant) to ``g_W_rec``, then clips the whole gradient
    (Algorithm 1, ``||g|| >= threshold``), then steps
    ``theta <- theta - lr g`` (or a momentum step).  Omega is computed and
    logged for every method of an RNN.

    A GRU or LSTM trains the same way without Omega: the gradients of
    ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``, ``W_out`` and ``b_out`` by BPTT
    through the cell (`dynrnn.bptt`), clipped as a whole (MSGD-C); the
    ``"shrink"`` guard shrinks ``W_hh``.  Its history logs ``rho`` and
    ``omega`` as NaN.

    Leaky units: the step Jacobian becomes ``diag(leak) + diag(1 - leak)
    diag(sigma'(a_t)) W_rec``, in BPTT and in Omega's ratio alike.

    Evaluation: every ``eval_every`` updates the error rate on ``n_check``
    fresh sequences is logged; when it is below ``success_error``, a fresh
    ``n_eval`` sequences confirm it (a cheap check, then the paper's test).
    The final parameters are scored on ``n_eval`` sequences of their own
    stream, so stopping early does not change later evaluations.

    Examples
    --------
    >>> import dynrnn
    >>> r = dynrnn.train("temporal_order", init="basic_tanh", length=10, n_units=8, max_updates=40,
    ...                  eval_every=20, n_check=100, n_eval=200, seed=1)
    >>> r.n_updates, len(r.history), r.config["method"], r.config["alpha"]
    (40, 2, 'MSGD-CR', 4.0)
    >>> g = dynrnn.train("temporal_order", cell="gru", length=10, n_units=8, max_updates=40, eval_every=20,
    ...                  n_check=100, n_eval=200, seed=1)
    >>> g.config["init"], g.config["method"], type(g.net).__name__
    ('uniform', 'MSGD-C', 'GRU')
    """
    config = train_config(locals())
    checkpoint = None if checkpoint is None else check_writable("checkpoint", checkpoint)  # before any training
    checkpoint_every, resume, show = _options(checkpoint, checkpoint_every, resume, progress)
    run = None
    if resume and os.path.exists(checkpoint):
        run = Run.load(checkpoint, config)
    if run is None:
        run = Run.new(config)
    if not run.finished:

        def save():
            if checkpoint is not None:
                run.save(checkpoint)

        train_runs([run], save, checkpoint_every, show, n_threads=1)
    return run.result()
