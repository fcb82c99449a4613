"""A training run's gradient norms, parameters after any update, and the bifurcations its map crosses.

The machinery of ``analysis/gradient_spikes.py`` (loaded by it; not a figure script): `Trajectory`
trains one run in chunks with ``dynrnn.train_population`` and replays it exactly to any update;
`spikes` finds the gradient-norm spikes; `Crossings` locates, with ``dynrnn.path_bifurcations``, the
bifurcations of the mean-distractor map along the training path, halving straight segments down to
single updates; `analyse_run` puts them together for one run.  See that script's docstring.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

DISTRACTOR = np.array([0.0, 0.0, 0.25, 0.25, 0.25, 0.25])  # the mean of the four distractor one-hots
TRAIN_KEYS = ("task", "length", "init", "n_units", "batch_size", "lr")


def train_kwargs(p: dict, method: str, seed: int) -> dict:
    """The `dynrnn.train` settings of one run: every update logged (``eval_every=1``), no stop on success."""
    kwargs = {key: p[key] for key in TRAIN_KEYS}
    kwargs.update(method=method, seed=int(seed), eval_every=1, n_check=1, n_eval=1, stop_on_success=False)
    if method != "MSGD":
        kwargs["threshold"] = p["threshold"]
    return kwargs


# ----------------------------------------------------------------------------- training trace


class Trajectory:
    """One training run advanced in chunks, with the parameters ``theta_t`` after any update t on demand.

    The run is ``dynrnn.train_population([kwargs])`` resumed from its checkpoint with a growing
    ``max_updates``; a copy of the checkpoint after every chunk is kept in ``folder``, and
    `params` replays from the last kept checkpoint before t (keeping that replay's checkpoint too).
    A resumed run continues exactly (tests/test_gradient_spikes.py checks it), so ``theta_t`` is the
    training's own.
    """

    def __init__(self, kwargs: dict, folder):
        self.kwargs = dict(kwargs)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.files = {}  # t -> checkpoint holding the state after t updates
        self.snapshots = {}  # t -> dict of parameter arrays
        self.result = None

    def _advance(self, path, t):
        import dynrnn

        pop = dynrnn.train_population([{**self.kwargs, "max_updates": int(t)}], checkpoint=path, resume=True,
                                      n_threads=1, progress=False)  # fmt: skip
        return pop.runs[0]

    def _keep(self, t, path, result):
        self.files[t] = path
        self.snapshots[t] = {k: np.array(v) for k, v in result.params.items()}

    def train(self, max_updates: int, chunk: int):
        """Train to ``max_updates`` in chunks, keeping the checkpoint at 1, chunk, 2 chunk, ...; return the result.

        A run that stops early (it diverged) ends there; a rerun loads the kept checkpoints instead of training.
        """
        main = self.folder / "main.npz"
        result = None
        for t in sorted({1, *range(chunk, max_updates + 1, chunk), max_updates}):
            kept = self.folder / f"at_{t}.npz"
            if kept.is_file():
                result = self._advance(kept, t)  # a rerun: loads, trains nothing
            else:
                result = self._advance(main, t)
                if result.n_updates < t:  # stopped early: diverged
                    break
                shutil.copyfile(main, kept)
            self._keep(t, kept, result)
        self.result = result
        return result

    def params(self, t: int) -> dict:
        """``theta_t``: replayed from the last kept checkpoint before ``t`` if not known yet."""
        t = int(t)
        if t not in self.snapshots:
            base = max(k for k in self.files if k <= t)
            path = self.folder / f"at_{t}.npz"
            shutil.copyfile(self.files[base], path)
            result = self._advance(path, t)
            if result.n_updates != t:
                raise RuntimeError(f"replaying update {t} stopped at {result.n_updates}")
            self._keep(t, path, result)
        return self.snapshots[t]

    def clean(self):
        """Remove the kept checkpoints (once the run's analysis is stored)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def distractor_net(params: dict):
    """The network of ``params`` in the training's standard form (its readout dropped), or None if not finite."""
    import dynrnn

    if not all(np.all(np.isfinite(params[k])) for k in ("W_rec", "W_in", "b")):
        return None
    return dynrnn.RNN(W_rec=params["W_rec"], W_in=params["W_in"], b=params["b"], activation="tanh", form="standard")


# ----------------------------------------------------------------------------- spikes


def spikes(grad_norm, factor: float, window: int, min_history: int):
    """Updates k (1-based) whose norm exceeds ``factor`` times the median of the previous ``window`` norms.

    Also returns the threshold (``factor`` x running median; NaN before ``min_history`` updates).
    """
    g = np.asarray(grad_norm, dtype=float)
    threshold = np.full(g.size, np.nan)
    for i in range(min_history, g.size):
        previous = g[max(0, i - window) : i]
        previous = previous[np.isfinite(previous)]
        if previous.size >= min_history:
            threshold[i] = factor * np.median(previous)
    with np.errstate(invalid="ignore"):
        hit = np.isfinite(g) & (g > threshold)
    return np.flatnonzero(hit) + 1, threshold


# ----------------------------------------------------------------------------- crossings


class Crossings:
    """Bifurcation crossings of one run's mean-distractor map, located by halving straight segments."""

    def __init__(self, trajectory: Trajectory, p: dict, seed: int):
        self.trajectory, self.p, self.seed = trajectory, p, int(seed)
        self.analyses = {}  # (t_a, t_b) -> dict of the segment's events and orbit counts
        self.coarse = set()  # single-update segments reached from the spike-independent search
        self.x0 = None  # orbit points known from the last analysis: extra Newton starts

    def analyse(self, ta: int, tb: int) -> dict:
        import dynrnn

        key = (int(ta), int(tb))
        if key in self.analyses:
            return self.analyses[key]
        net_a = distractor_net(self.trajectory.params(ta))
        net_b = distractor_net(self.trajectory.params(tb))
        if net_a is None or net_b is None:
            out = {"values": np.zeros(0), "kind": np.zeros(0, dtype="<U14"), "period": np.zeros(0, int),
                   "attractor": np.zeros(0, bool), "n_attractors": (-1, -1), "complete": False}  # fmt: skip
        else:
            rng = np.random.default_rng([int(self.p["analysis_seed"]), self.seed, *key])
            res = dynrnn.path_bifurcations(net_a, end=net_b, u=DISTRACTOR, x0=self.x0, n_starts=int(self.p["n_starts"]),
                                           rng=rng)  # fmt: skip
            points = [b.x[i] for b in res.branches for i in (0, -1)]
            self.x0 = np.array(points[:32]) if points else None
            out = {"values": res.values.copy(), "kind": res.kind.astype("<U14"), "period": res.period.copy(),
                   "attractor": res.attractor.copy(), "complete": res.status == "complete",
                   "n_attractors": (int(res.n_attractors[0].sum()), int(res.n_attractors[1].sum()))}  # fmt: skip
        self.analyses[key] = out
        return out

    def refine(self, ta: int, tb: int, coarse: bool):
        """Analyse ``[ta, tb]``; halve every part with an event down to single updates."""
        out = self.analyse(ta, tb)
        if out["values"].size == 0:
            return
        if tb - ta == 1:
            if coarse:
                self.coarse.add((ta, tb))
            return
        mid = (ta + tb) // 2
        self.refine(ta, mid, coarse)
        self.refine(mid, tb, coarse)

    def table(self):
        """Every crossing located within one update: index ``t + s``, kind, period, attractor, coarse-found."""
        rows = []
        for (ta, tb), out in sorted(self.analyses.items()):
            if tb - ta != 1:
                continue
            for s, kind, period, attractor in zip(out["values"], out["kind"], out["period"], out["attractor"],
                                                  strict=True):  # fmt: skip
                rows.append((ta + float(s), str(kind), int(period), bool(attractor), (ta, tb) in self.coarse))
        return rows

    def unrefined(self):
        """Segments longer than one update with events, none of which any single update under them shows."""
        located = {ta for (ta, tb), out in self.analyses.items() if tb - ta == 1 and out["values"].size}
        bad = []
        for (ta, tb), out in sorted(self.analyses.items()):
            if tb - ta > 1 and out["values"].size and not any(ta <= t < tb for t in located):
                bad.append((ta, tb, int(out["values"].size)))
        return bad


def _merge(intervals):
    """Union of closed integer intervals, as a sorted list."""
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def analyse_run(p: dict, method: str, seed: int, folder) -> dict:
    """Train one run, find its spikes and crossings; return the run's arrays (see `compute`)."""
    started = time.perf_counter()
    trajectory = Trajectory(train_kwargs(p, method, seed), folder)
    result = trajectory.train(int(p["max_updates"]), int(p["chunk"]))
    g = np.asarray(result.history.grad_norm, dtype=float)
    n = int(result.n_updates)  # theta_0 .. theta_n exist; theta_0 is not kept, so indices start at 1
    k, threshold = spikes(g, p["spike_factor"], int(p["median_window"]), int(p["min_history"]))
    finite_bounds = [t for t in sorted(trajectory.snapshots) if distractor_net(trajectory.snapshots[t]) is not None]
    crossings = Crossings(trajectory, p, seed)
    for ta, tb in zip(finite_bounds[:-1], finite_bounds[1:], strict=True):
        crossings.refine(ta, tb, coarse=True)
    last = finite_bounds[-1] if finite_bounds else 1
    W, block = int(p["window"]), int(p["block"])
    zone = _merge([(max(1, int(t) - 1 - W), min(last, int(t) - 1 + W)) for t in k if int(t) - 1 <= last])
    for lo, hi in zone:
        for a in range(lo, hi, block):
            crossings.refine(a, min(hi, a + block), coarse=False)
    rows = crossings.table()
    unrefined = crossings.unrefined()
    # attractors (stable fixed points and period-2 orbits) of the map at every snapshot analysed
    attractors = {}
    for (ta, tb), out in crossings.analyses.items():
        attractors[ta], attractors[tb] = out["n_attractors"]
    known = sorted(attractors)
    return {
        "method": method,
        "seed": int(seed),
        "n_updates": n,
        "diverged": bool(result.diverged),
        "grad_norm": g,
        "threshold": threshold,
        "spikes": k.astype(int),
        "crossing_t": np.array([r[0] for r in rows], dtype=float),
        "crossing_kind": np.array([r[1] for r in rows], dtype="<U14"),
        "crossing_period": np.array([r[2] for r in rows], dtype=int),
        "crossing_attractor": np.array([r[3] for r in rows], dtype=bool),
        "crossing_coarse": np.array([r[4] for r in rows], dtype=bool),
        "unrefined": np.array(unrefined, dtype=int).reshape(-1, 3),
        "bounds": np.array(finite_bounds, dtype=int),
        "snapshot_t": np.array(known, dtype=int),
        "snapshot_attractors": np.array([attractors[t] for t in known], dtype=int),
        "n_segments": len(crossings.analyses),
        "n_incomplete": sum(not a["complete"] for a in crossings.analyses.values()),
        "n_snapshots": len(trajectory.snapshots),
        "seconds": time.perf_counter() - started,  # wall time of training, replays and analysis
    }
