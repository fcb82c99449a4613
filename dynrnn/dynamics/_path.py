"""The family of maps along a straight parameter path, its period-p systems, and the multi-start search.

Private helper of `dynrnn.path_bifurcations` (``homotopy.py``).  ``PathMap`` is ``G(x; s)``,
eq. (2) of Pascanu et al. (2013) at ``theta(s) = (1 - s) theta_0 + s theta_1`` under a constant
input, with its Jacobian and its derivative in ``s`` from the cell's compiled step
(``cpu.step_jacobians``); ``Orbits`` is the period-p system that ``_arclength.trace`` follows;
``search`` finds the distinct period-p orbits at one end of the path by damped Newton from many starts.
"""

import numpy as np

from ._systems import _test_signs, sorted_multipliers

NS_RADIUS_TOL = 1e-6  # a located Neimark-Sacker pair must lie this close to the unit circle
COLLAPSE_TOL = 1e-7  # a period-2 point this close (relative) to its image is a fixed point
N_HALVINGS = 30  # backtracking steps of the multi-start Newton


# ---------------------------------------------------------------------------
# The family of maps along the path
# ---------------------------------------------------------------------------
class PathMap:
    """``G(x; s)`` for ``W(s) = (1 - s) W_0 + s W_1``, ``c(s) = (1 - s) c_0 + s c_1``, ``c = b + W_in u``."""

    def __init__(self, net, end, u):
        f = np.float64
        self.W0 = np.array(net.W_rec, dtype=f)
        self.dW = np.array(end.W_rec, dtype=f) - self.W0
        c0 = np.array(net.b, dtype=f) + np.array(net.W_in, dtype=f) @ u
        c1 = np.array(end.b, dtype=f) + np.array(end.W_in, dtype=f) @ u
        self.c0, self.dc = c0, c1 - c0
        self.leak = None if net.leak is None else np.array(net.leak, dtype=f)
        self.name, self.paper, self.n = net.activation, net.form == "paper", self.W0.shape[0]
        self._cached = (None, None)

    def params(self, s):
        """``W(s)`` and ``c(s)`` (the last pair is kept: the searches and bisections ask for one ``s`` many times)."""
        if self._cached[0] != s:
            self._cached = (s, (self.W0 + s * self.dW, self.c0 + s * self.dc))
        return self._cached[1]

    def step(self, X, s):
        """``G``, ``J = dG/dx`` and ``G_s = dG/ds`` at each row of ``X`` (P, n).

        Paper form ``G = W sigma(x) + c``: ``G_s = dW sigma(x) + dc``; standard
        form ``G = sigma(W x + c)``: ``G_s = sigma'(z) (dW x + dc)``; a leak
        multiplies ``G_s`` by ``1 - leak``.
        """
        from .._kernels import cpu

        W, c = self.params(s)
        with np.errstate(all="ignore"):
            F, S, D, J = cpu.step_jacobians(self.name, W, None, c, self.leak, X, None, self.paper)
            Gs = S @ self.dW.T + self.dc if self.paper else D * (X @ self.dW.T + self.dc)
            if self.leak is not None:
                Gs = Gs * (1.0 - self.leak)
        return F, J, Gs

    def power(self, X, s, period):
        """``G^p(X)``, the Jacobian product ``J(x_{p-1}) ... J(x_0)`` and ``d G^p / ds``, for P states."""
        Y, Jp, Gs = np.array(X, dtype=np.float64, ndmin=2), None, None
        with np.errstate(all="ignore"):
            for _ in range(period):
                F, J, Fs = self.step(Y, s)
                Gs = Fs if Gs is None else np.einsum("pij,pj->pi", J, Gs) + Fs
                Jp = J if Jp is None else J @ Jp
                Y = F
        return Y, Jp, Gs


class Orbits:
    """``H(x, s) = G^p(x; s) - x`` with ``y = (x, s)``: a branch of period-``p`` points, for ``_arclength.trace``."""

    def __init__(self, path_map, period):
        self.map, self.period, self.n = path_map, period, path_map.n

    def evaluate(self, y):
        n = self.n
        G, J, Gs = self.map.power(y[None, :n], y[n], self.period)
        return G[0] - y[:n], np.hstack([J[0] - np.eye(n), Gs[0][:, None]])

    def multipliers(self, y):
        J = self.map.power(y[None, : self.n], y[self.n], self.period)[1][0]
        if not np.all(np.isfinite(J)):
            return np.full(self.n, np.nan, dtype=np.complex128)
        return sorted_multipliers(np.linalg.eigvals(J))

    def point_info(self, y):
        mu = self.multipliers(y)
        return mu, _test_signs(mu)

    def classify(self, kind, y, mu, t_lo, t_hi):
        if kind == "fold":  # does the branch turn back in s?
            return "fold" if t_hi is None or t_lo[self.n] * t_hi[self.n] <= 0 else "branch_point"
        if kind == "neimark_sacker":  # drop neutral saddles (two real multipliers with product 1)
            pair = mu[mu.imag > 0]
            return kind if np.any(np.abs(np.abs(pair) - 1.0) <= NS_RADIUS_TOL) else None
        return kind

    def accept(self, y):
        return y

    def degenerate(self, y):
        """Whether the period-2 point ``y`` is (numerically) a fixed point."""
        x = y[: self.n]
        G = self.map.power(x[None], y[self.n], 1)[0][0]
        return bool(np.max(np.abs(G - x)) <= COLLAPSE_TOL * (1.0 + np.max(np.abs(x))))


# ---------------------------------------------------------------------------
# Multi-start search at one end of the path
# ---------------------------------------------------------------------------
def _box(path_map, s):
    """A box that holds every orbit point (bounded sigma), or a heuristic one (relu, linear)."""
    from .._kernels.scalar import RANGE

    W, c = path_map.params(s)
    n = path_map.n
    if RANGE[path_map.name] is None:
        half = 1.0 + float(np.max(np.abs(c)))
        return np.full(n, -half), np.full(n, half)
    low, high = RANGE[path_map.name]
    if not path_map.paper:
        return np.full(n, low), np.full(n, high)
    ends = (W * low, W * high)
    return c + np.minimum(*ends).sum(axis=1), c + np.maximum(*ends).sum(axis=1)


def _starts(path_map, s, n_starts, trajectory_steps, rng):
    """``n_starts // 2`` states along orbits (at random times), the rest uniform in the box."""
    low, high = _box(path_map, s)
    n_orbits = n_starts // 2
    x0 = rng.uniform(low, high, size=(n_orbits, path_map.n))
    times = rng.integers(0, trajectory_steps + 1, size=n_orbits)
    random_starts = rng.uniform(low, high, size=(n_starts - n_orbits, path_map.n))
    picked, X = x0.copy(), x0
    for t in range(1, trajectory_steps + 1):
        X = path_map.power(X, s, 1)[0]
        picked[times == t] = X[times == t]
    starts = np.concatenate([picked, random_starts])
    return starts[np.all(np.isfinite(starts), axis=1)]


def _solve_batch(A, r):
    """``A^-1 r`` for each item; least squares where a matrix is singular, NaN where that fails too."""
    try:
        return np.linalg.solve(A, r[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(r.shape, np.nan)
        for k in range(r.shape[0]):
            if np.all(np.isfinite(A[k])) and np.all(np.isfinite(r[k])):
                out[k] = np.linalg.lstsq(A[k], r[k], rcond=None)[0]
        return out


def _newton(path_map, X, s, period, tol, max_iter):
    """Damped Newton on ``G^p(x) - x`` from every row of ``X``; returns the points and a converged mask."""
    X = X.copy()
    n = path_map.n
    done = np.zeros(X.shape[0], dtype=bool)
    alive = np.ones(X.shape[0], dtype=bool)
    eye = np.eye(n)
    for _ in range(max_iter):
        idx = np.flatnonzero(alive & ~done)
        if idx.size == 0:
            break
        G, J, _ = path_map.power(X[idx], s, period)
        r = G - X[idx]
        f0 = np.sum(r * r, axis=1)
        small = np.sqrt(f0) <= tol
        done[idx[small]] = True
        idx, r, J, f0 = idx[~small], r[~small], J[~small], f0[~small]
        if idx.size == 0:
            break
        with np.errstate(all="ignore"):
            d = _solve_batch(J - eye, -r)
        bad = ~np.all(np.isfinite(d), axis=1)
        alive[idx[bad]] = False
        idx, d, f0 = idx[~bad], d[~bad], f0[~bad]
        t = np.ones(idx.size)
        accepted = np.zeros(idx.size, dtype=bool)
        for _ in range(N_HALVINGS):
            todo = np.flatnonzero(~accepted)
            if todo.size == 0:
                break
            trial = X[idx[todo]] + t[todo, None] * d[todo]
            rt = path_map.power(trial, s, period)[0] - trial
            with np.errstate(all="ignore"):
                f = np.sum(rt * rt, axis=1)
            ok = np.isfinite(f) & (f <= (1.0 - 2e-4 * t[todo]) * f0[todo])
            X[idx[todo[ok]]] = trial[ok]
            accepted[todo[ok]] = True
            t[todo[~ok]] *= 0.5
        alive[idx[~accepted]] = False  # no step length decreased the residual
    G = path_map.power(X, s, period)[0]
    with np.errstate(all="ignore"):
        converged = np.all(np.isfinite(G), axis=1) & (np.linalg.norm(G - X, axis=1) <= tol)
    return X, converged


def close(a, b, tol):
    """Row-wise: ``|a_i - b_i| <= tol (1 + max(|a_i|, |b_i|))`` for every i (``a`` (k, n), ``b`` (n,))."""
    return np.all(np.abs(a - b) <= tol * (1.0 + np.maximum(np.abs(a), np.abs(b))), axis=-1)


class Catalogue:
    """The distinct orbits of one period at one end of the path; an orbit is stored with all its points."""

    def __init__(self, path_map, s, period, dedup_tol):
        self.map, self.s, self.period, self.tol = path_map, s, period, dedup_tol
        self.orbits = []  # (period, n) arrays of points
        self.traced = []  # whether a branch through the orbit has been followed

    def points(self, x):
        pts = [np.array(x, dtype=np.float64)]
        for _ in range(self.period - 1):
            pts.append(self.map.power(pts[-1][None], self.s, 1)[0][0])
        return np.array(pts)

    def find(self, x):
        """Index of the known orbit through ``x``, or -1."""
        for k, orbit in enumerate(self.orbits):
            if np.any(close(orbit, x, self.tol)):
                return k
        return -1

    def add(self, x):
        """Add the orbit through ``x`` unless known or (period 2) a fixed point; return its index or -1."""
        k = self.find(x)
        if k >= 0:
            return k
        pts = self.points(x)
        if self.period == 2 and np.all(close(pts[1:], pts[0], self.tol)):
            return -1
        self.orbits.append(pts)
        self.traced.append(False)
        return len(self.orbits) - 1

    def n_attractors(self):
        if not self.orbits:
            return 0
        system = Orbits(self.map, self.period)
        return sum(bool(np.all(np.abs(system.multipliers(np.append(orbit[0], self.s))) < 1.0)) for orbit in self.orbits)


def search(path_map, s, period, x0, n_starts, rng, tol, max_iter, trajectory_steps, dedup_tol):
    catalogue = Catalogue(path_map, s, period, dedup_tol)
    starts = _starts(path_map, s, n_starts, trajectory_steps, rng)
    if x0 is not None:
        starts = np.concatenate([x0, starts])
    if starts.shape[0]:
        X, converged = _newton(path_map, starts, s, period, tol, max_iter)
        for x in X[converged]:
            catalogue.add(x)
    return catalogue
