"""Initializations of the task model: the paper's three (Sec. 4.1), ``irnn`` and ``orthogonal``.

The paper's ``sigmoid``, ``basic_tanh`` and ``smart_tanh`` follow the
authors' code (``RNN.py``, option ``init``).  ``irnn`` is the identity
initialization of rectified units of Le, Jaitly & Hinton (2015), and
``orthogonal`` a Haar-random orthogonal ``W_rec`` with tanh units (Saxe,
McClelland & Ganguli 2014; Arjovsky, Shah & Bengio 2016 keep the
recurrence unitary throughout training).  `init_network` draws a
standard-form `dynrnn.RNN` with a readout, as the authors' code draws its
model.  dynrnn writes ``h_t = sigma(W_rec h_{t-1} + W_in u_t + b)`` with
column vectors, so ``W_rec`` is the transpose of the authors' ``W_hh``
(they write ``h_{t-1} W_hh`` with row vectors), ``W_in`` that of ``W_uh``
and ``W_out`` that of ``W_hy``.  Row ``i`` of ``W_rec`` holds the
*incoming* weights of unit ``i``; a row of ``W_hh`` holds a unit's
*outgoing* weights.
"""

import numpy as np

from .. import _validate
from ..maps.model import RNN

__all__ = ["CELLS", "GATED_INITS", "INITS", "IRNN_STD", "N_NONZERO", "SPECTRAL_RADIUS", "init_network"]

N_NONZERO = 15
"""smart_tanh: non-zero recurrent weights kept per unit (all are kept when ``n_units <= 15``)."""

SPECTRAL_RADIUS = 0.95
"""smart_tanh: spectral radius of ``W_rec`` after rescaling."""

IRNN_STD = 0.001
"""irnn: standard deviation of ``W_in`` and ``W_out`` (Le, Jaitly & Hinton 2015, Sec. 4: the non-recurrent
weights are drawn from a Gaussian of mean 0 and standard deviation 0.001)."""

INITS = {
    # name: (activation, std of W_in, std of W_rec's Gaussian draw (None: none), std of W_out, rule for W_rec)
    "sigmoid": ("logistic", 0.01, 0.01, 0.01, "normal"),
    "basic_tanh": ("tanh", 0.1, 0.1, 0.1, "normal"),
    "smart_tanh": ("tanh", 0.01, 0.01, 0.01, "sparse"),
    "irnn": ("relu", IRNN_STD, None, IRNN_STD, "identity"),
    "orthogonal": ("tanh", 0.1, 1.0, 0.1, "orthogonal"),
}
"""The initializations by name: ``(activation, std W_in, std W_rec, std W_out, rule)``.

The rule makes ``W_rec``: ``"normal"``, the Gaussian draw as it is;
``"sparse"``, smart_tanh's sparsity and rescaling of it; ``"orthogonal"``,
the sign-corrected orthogonal factor of its QR decomposition;
``"identity"``, ``W_rec = I`` (nothing drawn, std None)."""

GATED_INITS = ("uniform",)
"""The initializations of a GRU or LSTM task model: ``"uniform"``, PyTorch's default for ``torch.nn.GRU``,
``torch.nn.LSTM`` and the ``torch.nn.Linear`` readout: every weight and bias ~ U(-1/sqrt(n), 1/sqrt(n))."""

CELLS = ("rnn", "gru", "lstm")
"""The cells of a task model: the paper's RNN, and PyTorch's GRU and LSTM (`dynrnn.GRU`, `dynrnn.LSTM`)."""

CONNECTIONS = ("incoming", "outgoing")

MAX_UNITS = 8192
"""The most hidden units `init_network` (and so `dynrnn.train`) draws: smart_tanh's spectral radius is an
O(n**3) eigenvalue problem (minutes at 8192 units) and a training update costs O(T B n**2)."""


def _spectral_radius(W):
    """Largest modulus of the eigenvalues of the square matrix ``W``, in float64."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def haar_orthogonal(A):
    """The orthogonal factor of ``A = QR`` with the signs of ``diag(R)`` moved into ``Q`` (Mezzadri 2007).

    For ``A`` with i.i.d. standard normal entries the result is Haar-distributed
    on the orthogonal group; without the sign correction it is not (NumPy's QR
    makes no promise on the signs of ``diag(R)``).  A zero diagonal entry of
    ``R`` (probability 0) keeps its column's sign.
    """
    Q, R = np.linalg.qr(A)
    signs = np.sign(np.diag(R))
    return Q * np.where(signs == 0.0, 1.0, signs)


def init_network(name, n_units, n_inputs, n_outputs, *, rng=None, dtype=np.float64, connections="incoming", cell="rnn"):
    r"""Draw a task model with one of the paper's initializations, or irnn or orthogonal; or a GRU or LSTM.

    Parameters
    ----------
    name : {"sigmoid", "basic_tanh", "smart_tanh", "irnn", "orthogonal"}
        The initialization (the keys of `INITS`):

        - ``"sigmoid"``: logistic units; ``W_in``, ``W_rec``, ``W_out`` ~ N(0, 0.01^2);
        - ``"basic_tanh"``: tanh units; all weights ~ N(0, 0.1^2);
        - ``"smart_tanh"``: tanh units; ``W_in``, ``W_out`` ~ N(0, 0.01^2);
          ``W_rec`` ~ N(0, 0.01^2), then all but `N_NONZERO` (15) random
          weights per unit set to 0 (none when ``n_units <= 15``), then
          rescaled to spectral radius `SPECTRAL_RADIUS` (0.95);
        - ``"irnn"``: relu units; ``W_rec = I``; ``W_in``, ``W_out`` ~
          N(0, 0.001^2) (`IRNN_STD`);
        - ``"orthogonal"``: tanh units; ``W_rec`` a random orthogonal
          matrix, Haar-distributed; ``W_in``, ``W_out`` ~ N(0, 0.1^2), as
          basic_tanh.

        All biases are 0.
    n_units : int
        Number of hidden units n, from 1 to `MAX_UNITS` (8192).
    n_inputs : int
        Input dimension m, >= 1.
    n_outputs : int
        Readout dimension q, >= 1.
    rng : numpy.random.Generator, int or None, default None
        The source of randomness; an int seeds `numpy.random.default_rng`.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the network.  Weights are drawn, rescaled and
        orthogonalized in float64, then cast.
    connections : {"incoming", "outgoing"}, default "incoming"
        smart_tanh only: which 15 weights per unit are kept.  ``"incoming"``
        (the paper: "15 non-zero incoming weights per unit") keeps 15 per
        *row* of ``W_rec``; ``"outgoing"`` (the authors' code, which keeps
        15 per row of their ``W_hh``, i.e. per column of ``W_rec``) keeps 15
        per *column*.  Ignored by the other initializations.
    cell : {"rnn", "gru", "lstm"}, default "rnn"
        The cell: the paper's RNN (the initializations above), or a GRU or
        LSTM, whose only initialization is ``name="uniform"`` (`GATED_INITS`):
        PyTorch's default for ``torch.nn.GRU``, ``torch.nn.LSTM`` and the
        ``torch.nn.Linear`` readout, every weight and bias, readout
        included, drawn from U(-1/sqrt(n), 1/sqrt(n)).

    Returns
    -------
    RNN, GRU or LSTM
        A standard-form network (``form="standard"``, no leak) with readout
        ``W_out`` of shape (q, n), and ``b`` and ``b_out`` zero.  ``W_in``
        has shape (n, m).  For a gated ``cell``, a `dynrnn.GRU` or
        `dynrnn.LSTM` with ``W_ih`` (kn, m), ``W_hh`` (kn, n), ``b_ih`` and
        ``b_hh`` (kn,), and the readout ``W_out`` (q, n), ``b_out`` (q,).

    Raises
    ------
    TypeError
        If ``n_units``, ``n_inputs`` or ``n_outputs`` is not an integer, or
        ``rng`` is not a Generator, an int or None.
    ValueError
        If ``name`` (the message lists the valid names for the ``cell``),
        ``cell`` or ``connections`` is unknown, a size is < 1, ``n_units`` > `MAX_UNITS` (8192), the
        weights would not fit in the memory available, ``rng`` is a
        negative seed, or ``dtype`` is not float64 or float32.

    See Also
    --------
    dynrnn.RNN : the network container.
    dynrnn.train : trains a network drawn here (``init=``).

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1, and the authors' code (``RNN.py``,
    ``init`` in ``{"sigmoid", "basic_tanh", "smart_tanh"}``; its ``scale`` is
    a standard deviation).  For smart_tanh,

    .. math:: W_{rec} \leftarrow 0.95\, W_{rec} / \rho(W_{rec}),

    with :math:`\rho` the largest eigenvalue modulus, computed in float64
    (the authors cast the result to float32).  A sparse ``W_rec`` whose
    spectral radius is exactly 0 (possible only with probability 0) is left
    unscaled.

    irnn is the IRNN of Le, Jaitly & Hinton (2015), "A simple way to
    initialize recurrent networks of rectified linear units": relu units,
    the recurrent weights set to the identity and the biases to 0, and the
    non-recurrent weights (here ``W_in`` and ``W_out``) drawn from a
    Gaussian of mean 0 and standard deviation 0.001.  At initialization the
    map is ``h_t = relu(h_{t-1} + W_in u_t)``, which keeps a non-negative
    state unchanged when the input is 0: every step Jacobian is a 0/1
    diagonal matrix, so the products of eq. (5) neither explode nor vanish
    along the units that stay active.

    orthogonal: ``W_rec = Q diag(sign(diag(R)))`` where ``A = QR`` is the
    QR decomposition of an n x n matrix ``A`` of i.i.d. N(0, 1) entries; the
    sign correction makes ``W_rec`` Haar-distributed on the orthogonal group
    (Mezzadri 2007, "How to generate random matrices from the classical
    compact groups"), so ``W_rec^T W_rec = I`` and every eigenvalue lies on
    the unit circle.  The input and readout weights are drawn as
    basic_tanh's, N(0, 0.1^2) (a choice of dynrnn: the recipe fixes only
    ``W_rec``).

    uniform (GRU, LSTM): as ``torch.nn.GRU`` and ``torch.nn.LSTM``
    initialise their parameters (and ``torch.nn.Linear(n, q)`` its weight
    and bias, whose fan-in is n), every entry of ``W_ih``, ``W_hh``,
    ``b_ih``, ``b_hh``, ``W_out`` and ``b_out`` is drawn from U(-k, k) with
    k = 1/sqrt(n), in that order (``rng.uniform``); PyTorch's own streams
    differ.

    Draw order, part of the API: ``W_in`` (``rng.normal``, shape (n, m)),
    then ``W_rec`` (shape (n, n); a standard normal draw for orthogonal;
    none for irnn), then ``W_out`` (shape (q, n)); for smart_tanh with
    ``n_units > 15``, one further ``rng.random((n, n))`` whose 15 smallest
    entries per row (``"incoming"``) or per column (``"outgoing"``) mark the
    weights kept.  The streams are NumPy's, not the authors' ``RandomState``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynrnn.training.inits import init_network
    >>> net = init_network("smart_tanh", 20, 6, 4, rng=0)
    >>> net.activation, net.form, net.W_in.shape, net.W_out.shape
    ('tanh', 'standard', (20, 6), (4, 20))
    >>> [int(c) for c in set((net.W_rec != 0).sum(axis=1))], round(float(max(abs(np.linalg.eigvals(net.W_rec)))), 12)
    ([15], 0.95)
    >>> irnn = init_network("irnn", 5, 2, 1, rng=0)
    >>> irnn.activation, bool((irnn.W_rec == np.eye(5)).all())
    ('relu', True)
    >>> W = init_network("orthogonal", 8, 2, 1, rng=0).W_rec
    >>> bool(np.allclose(W.T @ W, np.eye(8), rtol=0, atol=1e-12))
    True
    >>> init_network("uniform", 8, 2, 1, rng=0, cell="lstm")
    LSTM(n_units=8, n_inputs=2, n_outputs=1, state_size=16, dtype=float64)
    """
    _validate.choice("cell", cell, CELLS)
    if cell != "rnn":
        return _init_gated(name, cell, n_units, n_inputs, n_outputs, rng, dtype)
    _validate.choice("name", name, INITS)
    n_units = _validate.integer("n_units", n_units, minimum=1, maximum=MAX_UNITS)
    n_inputs = _validate.integer("n_inputs", n_inputs, minimum=1)
    n_outputs = _validate.integer("n_outputs", n_outputs, minimum=1)
    dtype = _validate.float_dtype("dtype", dtype)
    activation, std_in, std_rec, std_out, rule = INITS[name]
    # float64 draws, their casts and the RNN's copies; smart_tanh's ranks and eigenvalues, and the QR of
    # orthogonal, take ~10 n**2 more.
    _validate.memory(
        f"n_units={n_units}, n_inputs={n_inputs} and n_outputs={n_outputs}",
        24 * n_units * (n_units + n_inputs + n_outputs) + (80 * n_units * n_units if rule != "normal" else 0),
        f"a {name} network",
    )
    _validate.choice("connections", connections, CONNECTIONS)
    gen = _validate.rng("rng", rng)
    W_in = gen.normal(0.0, std_in, size=(n_units, n_inputs))
    W_rec = np.eye(n_units) if rule == "identity" else gen.normal(0.0, std_rec, size=(n_units, n_units))
    W_out = gen.normal(0.0, std_out, size=(n_outputs, n_units))
    if rule == "orthogonal":
        W_rec = haar_orthogonal(W_rec)
    elif rule == "sparse":
        if n_units > N_NONZERO:
            axis = 1 if connections == "incoming" else 0
            ranks = np.argsort(np.argsort(gen.random((n_units, n_units)), axis=axis), axis=axis)
            W_rec = np.where(ranks < N_NONZERO, W_rec, 0.0)
        rho = _spectral_radius(W_rec)
        if rho > 0.0:
            W_rec = W_rec * (SPECTRAL_RADIUS / rho)
    return RNN(
        W_rec=W_rec.astype(dtype),
        W_in=W_in.astype(dtype),
        activation=activation,
        form="standard",
        dtype=dtype,
        W_out=W_out.astype(dtype),
    )


def _init_gated(name, cell, n_units, n_inputs, n_outputs, rng, dtype):
    """A GRU or LSTM task model drawn by the gated initialization ``name`` (see `init_network`)."""
    from ..maps.gated import GRU, LSTM

    _validate.choice("name", name, GATED_INITS)
    n_units = _validate.integer("n_units", n_units, minimum=1, maximum=MAX_UNITS)
    n_inputs = _validate.integer("n_inputs", n_inputs, minimum=1)
    n_outputs = _validate.integer("n_outputs", n_outputs, minimum=1)
    dtype = _validate.float_dtype("dtype", dtype)
    rows = (3 if cell == "gru" else 4) * n_units
    _validate.memory(
        f"n_units={n_units}, n_inputs={n_inputs} and n_outputs={n_outputs}",
        24 * (rows * (n_units + n_inputs + 2) + n_outputs * (n_units + 1)),
        f"a {name} {cell.upper()} network",
    )
    gen = _validate.rng("rng", rng)
    k = 1.0 / np.sqrt(n_units)
    shapes = {"W_ih": (rows, n_inputs), "W_hh": (rows, n_units), "b_ih": (rows,), "b_hh": (rows,),
              "W_out": (n_outputs, n_units), "b_out": (n_outputs,)}  # fmt: skip
    params = {key: gen.uniform(-k, k, size=shape).astype(dtype) for key, shape in shapes.items()}
    return (GRU if cell == "gru" else LSTM)(dtype=dtype, **params)
