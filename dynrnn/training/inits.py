"""The three initializations of Pascanu et al. (2013), Sec. 4.1: ``sigmoid``, ``basic_tanh``, ``smart_tanh``.

`init_network` draws a standard-form `dynrnn.RNN` with a readout, as the
authors' code (``RNN.py``, option ``init``) draws its model.  dynrnn writes
``h_t = sigma(W_rec h_{t-1} + W_in u_t + b)`` with column vectors, so
``W_rec`` is the transpose of the authors' ``W_hh`` (they write
``h_{t-1} W_hh`` with row vectors), ``W_in`` that of ``W_uh`` and ``W_out``
that of ``W_hy``.  Row ``i`` of ``W_rec`` holds the *incoming* weights of
unit ``i``; a row of ``W_hh`` holds a unit's *outgoing* weights.
"""

import numpy as np

from .. import _validate
from ..maps.model import RNN

__all__ = ["INITS", "N_NONZERO", "SPECTRAL_RADIUS", "init_network"]

N_NONZERO = 15
"""smart_tanh: non-zero recurrent weights kept per unit (all are kept when ``n_units <= 15``)."""

SPECTRAL_RADIUS = 0.95
"""smart_tanh: spectral radius of ``W_rec`` after rescaling."""

INITS = {
    # name: (activation, std of W_in, std of W_rec, std of W_out, sparse and rescaled W_rec)
    "sigmoid": ("logistic", 0.01, 0.01, 0.01, False),
    "basic_tanh": ("tanh", 0.1, 0.1, 0.1, False),
    "smart_tanh": ("tanh", 0.01, 0.01, 0.01, True),
}
"""The initializations by name: ``(activation, std W_in, std W_rec, std W_out, sparse)``."""

CONNECTIONS = ("incoming", "outgoing")

MAX_UNITS = 8192
"""The most hidden units `init_network` (and so `dynrnn.train`) draws: smart_tanh's spectral radius is an
O(n**3) eigenvalue problem (minutes at 8192 units) and a training update costs O(T B n**2)."""


def _spectral_radius(W):
    """Largest modulus of the eigenvalues of the square matrix ``W``, in float64."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def init_network(name, n_units, n_inputs, n_outputs, *, rng=None, dtype=np.float64, connections="incoming"):
    r"""Draw a network with one of the paper's initializations.

    Parameters
    ----------
    name : {"sigmoid", "basic_tanh", "smart_tanh"}
        The initialization (the keys of `INITS`):

        - ``"sigmoid"``: logistic units; ``W_in``, ``W_rec``, ``W_out`` ~ N(0, 0.01^2);
        - ``"basic_tanh"``: tanh units; all weights ~ N(0, 0.1^2);
        - ``"smart_tanh"``: tanh units; ``W_in``, ``W_out`` ~ N(0, 0.01^2);
          ``W_rec`` ~ N(0, 0.01^2), then all but `N_NONZERO` (15) random
          weights per unit set to 0 (none when ``n_units <= 15``), then
          rescaled to spectral radius `SPECTRAL_RADIUS` (0.95).
    n_units : int
        Number of hidden units n, from 1 to `MAX_UNITS` (8192).
    n_inputs : int
        Input dimension m, >= 1.
    n_outputs : int
        Readout dimension q, >= 1.
    rng : numpy.random.Generator, int or None, default None
        The source of randomness; an int seeds `numpy.random.default_rng`.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the network.  Weights are drawn and rescaled
        in float64, then cast.
    connections : {"incoming", "outgoing"}, default "incoming"
        smart_tanh only: which 15 weights per unit are kept.  ``"incoming"``
        (the paper: "15 non-zero incoming weights per unit") keeps 15 per
        *row* of ``W_rec``; ``"outgoing"`` (the authors' code, which keeps
        15 per row of their ``W_hh``, i.e. per column of ``W_rec``) keeps 15
        per *column*.  Ignored by the other initializations.

    Returns
    -------
    RNN
        A standard-form network (``form="standard"``) with readout ``W_out``
        of shape (q, n), and ``b`` and ``b_out`` zero.  ``W_in`` has shape
        (n, m).

    Raises
    ------
    TypeError
        If ``n_units``, ``n_inputs`` or ``n_outputs`` is not an integer, or
        ``rng`` is not a Generator, an int or None.
    ValueError
        If ``name`` or ``connections`` is unknown, a size is < 1,
        ``n_units`` > `MAX_UNITS` (8192), the weights would not fit in the
        memory available, ``rng`` is a negative seed, or ``dtype`` is not
        float64 or float32.

    See Also
    --------
    dynrnn.RNN : the network container.

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

    Draw order, part of the API: ``W_in`` (``rng.normal``, shape (n, m)),
    then ``W_rec`` (shape (n, n)), then ``W_out`` (shape (q, n)); for
    smart_tanh with ``n_units > 15``, one further ``rng.random((n, n))``
    whose 15 smallest entries per row (``"incoming"``) or per column
    (``"outgoing"``) mark the weights kept.  The streams are NumPy's, not the
    authors' ``RandomState``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynrnn.training.inits import init_network
    >>> net = init_network("smart_tanh", 20, 6, 4, rng=0)
    >>> net.activation, net.form, net.W_in.shape, net.W_out.shape
    ('tanh', 'standard', (20, 6), (4, 20))
    >>> [int(c) for c in set((net.W_rec != 0).sum(axis=1))], round(float(max(abs(np.linalg.eigvals(net.W_rec)))), 12)
    ([15], 0.95)
    """
    _validate.choice("name", name, INITS)
    n_units = _validate.integer("n_units", n_units, minimum=1, maximum=MAX_UNITS)
    n_inputs = _validate.integer("n_inputs", n_inputs, minimum=1)
    n_outputs = _validate.integer("n_outputs", n_outputs, minimum=1)
    dtype = _validate.float_dtype("dtype", dtype)
    # float64 draws, their casts and the RNN's copies; smart_tanh's ranks and eigenvalues take ~10 n**2 more.
    _validate.memory(
        f"n_units={n_units}, n_inputs={n_inputs} and n_outputs={n_outputs}",
        24 * n_units * (n_units + n_inputs + n_outputs) + (80 * n_units * n_units if INITS[name][4] else 0),
        f"a {name} network",
    )
    _validate.choice("connections", connections, CONNECTIONS)
    gen = _validate.rng("rng", rng)
    activation, std_in, std_rec, std_out, sparse = INITS[name]
    W_in = gen.normal(0.0, std_in, size=(n_units, n_inputs))
    W_rec = gen.normal(0.0, std_rec, size=(n_units, n_units))
    W_out = gen.normal(0.0, std_out, size=(n_outputs, n_units))
    if sparse:
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
