"""The vocabulary of the public API, in one machine-readable table.

The README's "Conventions" section shows this table; ``tests/test_conventions.py``
checks every public function and result class against it, and checks that the
README and this module agree.  A new public function follows it too.
"""

import numpy as np

NAMES = (
    # (concept, the one name, names that must not be used for it)
    ("the network, an `RNN`", "net", ("model", "rnn", "network")),
    ("initial state x_0", "x0", ("h0", "x_init", "state0")),
    ("input sequence u_1..u_T", "inputs", ("input", "u_seq", "xs")),
    ("number of steps T", "n_steps", ("T", "steps", "nsteps", "num_steps")),
    (
        "source of randomness: None, an int seed or a `numpy.random.Generator`",
        "rng",
        ("seed", "random_state", "generator"),
    ),
    ("the recorded int seed that names a training run (`train` only)", "seed", ()),
    ('activation, by name; default `"tanh"`', "activation", ("sigma", "nonlinearity", "act")),
    ("floating type; default `numpy.float64` (`None`: the net's dtype)", "dtype", ("precision",)),
    ('where it runs; default `"cpu"`', "backend", ("device",)),
    ("leak of leaky units, x <- leak x + (1 - leak) F(x)", "leak", ("alpha", "leak_rate")),
    ("weight of the regularizer Omega (eq. 10; `train` only)", "alpha", ("omega_weight", "reg_weight")),
    ("policy for a non-finite value", "nonfinite", ("on_nonfinite", "nan_policy")),
    (
        "eigenvalues of the step Jacobian at a fixed point or cycle",
        "multipliers",
        ("eigvals", "eigenvalues", "multiplier"),
    ),
    ("a numerical solve succeeded", "converged", ("resolved", "located")),
    ("a trained network solved its task", "success", ("solved",)),
    ("outcome: a str, or an array of str per item, from the class's `STATUSES`", "status", ("stop_reason", "reason")),
    ("a value left the finite range (and at which step, or -1)", "diverged", ("finite", "is_finite", "overflowed")),
    ("Euclidean norm of a gradient", "grad_norm", ("norm", "gradient_norm")),
    ("clipping threshold", "threshold", ("max_norm", "clip")),
    ("learning rate", "lr", ("learning_rate", "eta")),
)
"""One row per concept: (concept, name, banned synonyms)."""

POSITIONAL = (
    "name",
    "net",
    "module",
    "result",
    "task",
    "runs",
    "db",
    "params",
    "grads",
    "batch",
    "w0",
    "w",
    "W_rec",
    "b0",
    "b",
    "b_range",
    "parameter",
    "parameters",
    "values",
    "x0",
    "inputs",
    "targets",
    "outputs",
    "batch_size",
    "length",
    "n_units",
    "n_inputs",
    "n_outputs",
    "threshold",
    "state",
    "t",
    "unit",
    "kind",
    "path",
)
"""The only names that may be passed by position, in this order (``net, x0, inputs``
among them); every other parameter is keyword-only."""

DEFAULTS = {"activation": "tanh", "dtype": np.float64, "backend": "cpu"}
"""The one default of each option; ``dtype=None`` is allowed only with a ``net``."""

NONFINITE = {
    "raise": "raise ValueError",
    "skip": "make no update (or freeze that item) and count it",
    "shrink": "the authors' guard: W_rec <- (1 - 0.02 lr) W_rec instead of the update",
    "stop": "end the run and report it as diverged",
}
"""The one set of non-finite policies; a function accepts a subset of them."""

BANNED_EXCEPTIONS = {("JacobianResult", "norm"), ("Activation", "sigma")}
"""(owner, name) pairs where a banned name means something else: ``JacobianResult.norm``
is the norm of Jacobian products, not of a gradient; ``Activation.sigma`` is the function."""

RESTRICTED = {"seed": ("train",), "alpha": ("train",)}
"""Names allowed only in these public functions."""

CLI_ONLY = ("help", "out", "csv", "export_csv", "set", "db_path")
"""Options of ``dynrnn train`` and ``dynrnn sweep`` that are not keywords of `dynrnn.train` or
`dynrnn.sweep`; every other option is a keyword, with ``-`` for ``_`` (``--seed`` for ``seeds``)."""

STATUS_TYPES = (str, np.ndarray)
"""A ``status`` field is a str, or an array of str with one outcome per item."""


def markdown():
    """The table as the README shows it: one Markdown row per concept."""
    rows = ["| Concept | Name | Not |", "|---|---|---|"]
    for concept, name, banned in NAMES:
        rows.append(f"| {concept} | `{name}` | {', '.join(f'`{b}`' for b in banned) or '-'} |")
    return "\n".join(rows)
