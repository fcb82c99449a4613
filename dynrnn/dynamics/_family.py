"""A one- or two-parameter family of autonomous RNN maps with analytic derivatives.

Private helper of `dynrnn.continuation` and `dynrnn.fold_continuation`.  The
map is eq. (2) of Pascanu et al. (2013) with a constant input ``u``,

    paper form:     F(x) = W sigma(x) + c
    standard form:  F(x) = sigma(W x + c)
    leak:           G(x) = leak x + (1 - leak) F(x)

with ``W = gain * W_rec`` and ``c = b + W_in u``.  A continuation parameter
is one scalar of that list: an entry of ``b``, an entry of ``W_rec``, an
entry of ``u`` or the gain.  Everything is computed in float64: the map and
its Jacobian by the cell's compiled step (``cells/rnn.py``), the parameter
and second derivatives with NumPy (the systems are small and the
continuation is sequential).
"""

import numbers

import numpy as np

from .._kernels.scalar import make_second_derivative

# kind -> the names of its indices, in order
_INDICES = {"b": ("i",), "W_rec": ("i", "j"), "u": ("k",), "gain": ()}
_FORMS_TEXT = "('b', i), ('W_rec', i, j), ('u', k) or 'gain'"


def parse_parameter(name, spec, n_units, n_inputs):
    """Return the continuation parameter ``spec`` as a normalised tuple.

    ``"gain"`` and ``("gain",)`` give ``("gain",)``; ``("b", i)``,
    ``("W_rec", i, j)`` and ``("u", k)`` are checked against the network's
    sizes.  A malformed or unknown spec, or an index out of range, raises
    ValueError; an index that is not an integer raises TypeError.  Both name
    the argument ``name``.
    """
    if isinstance(spec, str):
        spec = (spec,)
    if not isinstance(spec, (tuple, list)) or len(spec) == 0 or not isinstance(spec[0], str):
        raise ValueError(f"{name} must be {_FORMS_TEXT}; got {spec!r}")
    kind, *index = spec
    if kind not in _INDICES:
        raise ValueError(f"{name} must be {_FORMS_TEXT}; got the unknown parameter name {kind!r}")
    if len(index) != len(_INDICES[kind]):
        raise ValueError(f"{name} {kind!r} takes {len(_INDICES[kind])} index(es), as in {_FORMS_TEXT}; got {spec!r}")
    sizes = {"b": (n_units,), "W_rec": (n_units, n_units), "u": (n_inputs,), "gain": ()}[kind]
    for i, size in zip(index, sizes, strict=True):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
            raise TypeError(f"{name} indices must be integers; got {type(i).__name__} {i!r} in {spec!r}")
        if not 0 <= i < size:
            what = "the network has no inputs (W_in has 0 columns)" if size == 0 else f"valid: 0 to {size - 1}"
            raise ValueError(f"{name} index {int(i)} is out of range in {spec!r} ({what})")
    return (kind, *(int(i) for i in index))


def label(spec):
    """``("b", 0)`` -> ``"b[0]"``, ``("gain",)`` -> ``"gain"``."""
    kind, *index = spec
    return f"{kind}[{', '.join(str(i) for i in index)}]" if index else kind


class MapFamily:
    """``G(x; p)`` for the parameters ``specs``, with ``G``, ``dG/dx``, ``dG/dp`` and second derivatives."""

    def __init__(self, net, specs, u):
        self.W_rec = np.array(net.W_rec, dtype=np.float64)
        self.W_in = np.array(net.W_in, dtype=np.float64)
        self.b = np.array(net.b, dtype=np.float64)
        self.u = np.array(u, dtype=np.float64)
        self.leak = None if net.leak is None else np.array(net.leak, dtype=np.float64)
        self.paper = net.form == "paper"
        self.name = net.activation
        self.specs = tuple(specs)
        self.n = self.W_rec.shape[0]

    def current(self, spec):
        """The value the network itself gives the parameter ``spec``."""
        kind, *index = spec
        if kind == "gain":
            return 1.0
        return float({"b": self.b, "W_rec": self.W_rec, "u": self.u}[kind][tuple(index)])

    def _setup(self, p):
        """``W``, ``c`` and their derivatives ``dW[k]``, ``dc[k]`` with respect to each parameter."""
        W_base, b, u, gain = self.W_rec.copy(), self.b.copy(), self.u.copy(), 1.0
        for spec, value in zip(self.specs, p, strict=True):
            kind, *index = spec
            if kind == "gain":
                gain = value
            else:
                {"b": b, "W_rec": W_base, "u": u}[kind][tuple(index)] = value
        W = gain * W_base
        c = b + self.W_in @ u
        dW, dc = [], []
        for spec in self.specs:
            kind, *index = spec
            dWk, dck = None, np.zeros(self.n)
            if kind == "gain":
                dWk = W_base
            elif kind == "W_rec":
                dWk = np.zeros((self.n, self.n))
                dWk[index[0], index[1]] = gain
            elif kind == "b":
                dck[index[0]] = 1.0
            else:
                dck = self.W_in[:, index[0]].copy()
            dW.append(dWk)
            dc.append(dck)
        return W, c, dW, dc

    def step(self, x, p):
        """One step of the map, ``G(x; p)``."""
        from .._kernels import cpu

        W, c, _, _ = self._setup(p)
        return cpu.step_jacobians(self.name, W, None, c, self.leak, x[None], None, self.paper)[0][0]

    def evaluate(self, x, p, v=None):
        """``G``, ``J = dG/dx`` (n, n), ``G_p = dG/dp`` (n, k); with ``v``, also ``d(J v)/dx`` and ``d(J v)/dp``.

        Paper form: ``J_F = W diag(sigma'(x))``, ``dF/dp = dW sigma(x) + dc``,
        ``d(J_F v)/dx = W diag(sigma''(x) v)``, ``d(J_F v)/dp = dW (sigma'(x) v)``.
        Standard form with ``z = W x + c``: ``J_F = diag(sigma'(z)) W``,
        ``dF/dp = sigma'(z) (dW x + dc)``, ``d(J_F v)/dx = diag(sigma''(z) W v) W``,
        ``d(J_F v)/dp = sigma''(z) (dW x + dc) (W v) + sigma'(z) dW v``.  A
        leak maps ``J_F`` to ``diag(leak) + diag(1 - leak) J_F`` and
        multiplies the other derivatives by ``1 - leak``.
        """
        from .._kernels import cpu

        W, c, dW, dc = self._setup(p)
        k = len(self.specs)
        Fp = np.empty((self.n, k))
        # F, J_F, the observed state s and the slopes ds from the cell's compiled step (no leak here).
        F, s, ds, JF = (a[0] for a in cpu.step_jacobians(self.name, W, None, c, None, x[None], None, self.paper))
        if self.paper:
            for q in range(k):
                Fp[:, q] = dc[q] if dW[q] is None else dW[q] @ s + dc[q]
        else:
            s = F  # sigma(z), z = W x + c
            dz = [dc[q] if dW[q] is None else dW[q] @ x + dc[q] for q in range(k)]
            for q in range(k):
                Fp[:, q] = ds * dz[q]
        second = None
        if v is not None:
            dds = make_second_derivative(self.name)(s, ds)
            dJv_dp = np.empty((self.n, k))
            if self.paper:
                dJv_dx = W * (dds * v)[None, :]
                for q in range(k):
                    dJv_dp[:, q] = 0.0 if dW[q] is None else dW[q] @ (ds * v)
            else:
                Wv = W @ v
                dJv_dx = (dds * Wv)[:, None] * W
                for q in range(k):
                    dJv_dp[:, q] = dds * dz[q] * Wv + (0.0 if dW[q] is None else ds * (dW[q] @ v))
            second = (dJv_dx, dJv_dp)
        if self.leak is None:
            return F, JF, Fp, second
        a, one_minus = self.leak, 1.0 - self.leak
        G = a * x + one_minus * F
        J = np.diag(a) + one_minus[:, None] * JF
        Gp = one_minus[:, None] * Fp
        if second is not None:
            second = (one_minus[:, None] * second[0], one_minus[:, None] * second[1])
        return G, J, Gp, second
