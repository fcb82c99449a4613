"""The two systems that `dynrnn.continuation` and `dynrnn.fold_continuation` follow, with their test functions.

Each provides what ``_arclength.trace`` needs: ``evaluate``, ``point_info``,
``classify`` and ``accept`` (see that module).
"""

import numpy as np

_NS_RADIUS_TOL = 1e-6  # a located Neimark-Sacker pair must lie this close to the unit circle


def sorted_multipliers(mu):
    """Multipliers as complex, by decreasing modulus (conjugate pairs: positive imaginary part first)."""
    mu = np.asarray(mu, dtype=np.complex128)
    return mu[np.lexsort((-mu.imag, -np.abs(mu)))]


def _sign(values):
    return int(np.prod(np.sign(values))) if values.size else 1


def _test_signs(mu):
    """Signs of ``det(J - I)``, ``det(J + I)`` and ``prod_{i<j} (mu_i mu_j - 1)`` from the multipliers.

    Conjugate pairs contribute positive factors to the first two; the last
    (the determinant of the bialternate product ``J (.) J - I``) changes sign
    where a complex pair crosses the unit circle (or two real multipliers
    become reciprocal, a neutral saddle, which `FixedPoints.classify` drops).
    LAPACK returns real multipliers with an imaginary part exactly 0.
    """
    real = mu.real[mu.imag == 0]
    upper = mu[mu.imag > 0]
    pairs = (real[:, None] * real[None, :])[np.triu_indices(real.size, 1)]
    ns = _sign(pairs - 1.0) * _sign(np.abs(upper) ** 2 - 1.0)
    return {"fold": _sign(real - 1.0), "flip": _sign(real + 1.0), "neimark_sacker": ns}


class FixedPoints:
    """``H(x, p) = G(x; p) - x`` with ``y = (x, p)``: the fixed-point branch."""

    def __init__(self, family):
        self.family, self.n = family, family.n

    def evaluate(self, y):
        n = self.n
        G, J, Gp, _ = self.family.evaluate(y[:n], y[n:])
        return G - y[:n], np.hstack([J - np.eye(n), Gp])

    def point_info(self, y):
        mu = sorted_multipliers(np.linalg.eigvals(self.family.evaluate(y[: self.n], y[self.n :])[1]))
        return mu, _test_signs(mu)

    def classify(self, kind, y, mu, t_lo, t_hi):
        if kind == "fold":  # does the branch turn back in the parameter?
            return "fold" if t_hi is None or t_lo[self.n] * t_hi[self.n] <= 0 else "branch_point"
        if kind == "neimark_sacker":
            pair = mu[mu.imag > 0]
            return "neimark_sacker" if np.any(np.abs(np.abs(pair) - 1.0) <= _NS_RADIUS_TOL) else None
        return kind

    def accept(self, y):
        return y


class Folds:
    """``y = (x, v, p1, p2)``: ``G(x) = x``, ``J v = v``, ``<v_ref, v> = 1`` (the standard extended system)."""

    def __init__(self, family, v_ref):
        self.family, self.n, self.v_ref = family, family.n, v_ref

    def _split(self, y):
        n = self.n
        return y[:n], y[n : 2 * n], y[2 * n :]

    def evaluate(self, y):
        n = self.n
        x, v, p = self._split(y)
        G, J, Gp, (dJv_dx, dJv_dp) = self.family.evaluate(x, p, v)
        A = J - np.eye(n)
        H = np.concatenate([G - x, A @ v, [self.v_ref @ v - 1.0]])
        DH = np.zeros((2 * n + 1, 2 * n + 2))
        DH[:n, :n], DH[:n, 2 * n :] = A, Gp
        DH[n : 2 * n, :n], DH[n : 2 * n, n : 2 * n], DH[n : 2 * n, 2 * n :] = dJv_dx, A, dJv_dp
        DH[2 * n, n : 2 * n] = self.v_ref
        return H, DH

    def _cusp_coefficient(self, y):
        """``a = <l, D^2 G(v, v)>`` with ``l (J - I) = 0`` scaled so that ``<l, v> = 1``; a = 0 at a cusp."""
        x, v, p = self._split(y)
        _, J, _, (dJv_dx, _) = self.family.evaluate(x, p, v)
        left = np.linalg.svd(J - np.eye(self.n))[0][:, -1]
        scale = left @ v
        return J, (np.nan if scale == 0 else (left @ (dJv_dx @ v)) / scale), np.linalg.norm(dJv_dx)

    def point_info(self, y):
        J, a, _ = self._cusp_coefficient(y)
        return sorted_multipliers(np.linalg.eigvals(J)), {"cusp": 0 if not np.isfinite(a) else int(np.sign(a))}

    def classify(self, kind, y, mu, t_lo, t_hi):
        _, a, size = self._cusp_coefficient(y)  # drop a sign change through infinity (<l, v> = 0)
        return kind if np.isfinite(a) and abs(a) <= 1e-6 * (1.0 + size) else None

    def accept(self, y):
        n = self.n
        y = y.copy()
        self.v_ref = y[n : 2 * n] / np.linalg.norm(y[n : 2 * n])
        y[n : 2 * n] = self.v_ref
        return y
