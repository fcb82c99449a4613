"""Exploding gradients at bifurcations, tested: gradient-norm spikes against the crossings of training.

Pascanu et al. (2013), Sec. 2.2-2.3 (paper.md Sec. 2.1): following Doya (1993), gradients explode when
training moves the parameters across a bifurcation of the network's dynamics, where an attractor
appears, vanishes or changes stability (the paper adds that crossing a bifurcation is neither
necessary nor sufficient; crossing a basin boundary is).  This script measures the claim on real runs:
temporal order at L = 50 with the paper's model and settings (50 tanh units from the smart tanh
init, lr 0.01, batch 20, clipping threshold 1 for MSGD-C), MSGD and MSGD-C, several seeds.

1. **The pre-clip gradient norm of every update.**  Each run trains with ``dynrnn.train_population``
   (a population of one, ``eval_every=1``, so that ``history.grad_norm`` is the norm of every single
   update, before clipping), advanced in chunks of ``chunk`` updates; the checkpoint at every chunk
   boundary is kept, and a resumed run continues exactly as an uninterrupted one, so the parameters
   after any update t (``theta_t``) are obtained by resuming from the boundary before t.
2. **Spikes.**  Update k is a spike when its norm exceeds ``spike_factor`` (10) times the median of
   the previous ``median_window`` (200) updates (at least ``min_history`` of them).  Its gradient was
   computed at ``theta_{k-1}``, so a spike sits at parameter index ``k - 1``.
3. **Crossings.**  The map analysed is the autonomous network under the distractor input,
   ``h -> tanh(W_rec h + W_in u_d + b)`` (the standard form the training uses), with ``u_d`` the mean
   of the four distractor one-hots (a quarter on each distractor channel: what the network receives on
   average between and after the two symbols).  `dynrnn.path_bifurcations` finds its fixed points and
   period-2 orbits and follows them along the straight path between two parameter snapshots, locating
   every multiplier that crosses the unit circle (fold and branch point: +1, flip: -1,
   Neimark-Sacker: a complex pair) and every branch that it could not follow.  It runs on every
   segment between chunk boundaries; a segment with an event is halved (the parameters at the
   midpoint are replayed exactly) until the event is located within one update, where the straight
   path *is* the training path (one SGD step is a straight line in parameter space).  Around every
   spike, the ``window`` updates on each side are analysed the same way (in blocks of at most
   ``block`` updates), so each spike's neighbourhood is searched at one-update resolution.  A crossing
   between ``theta_t`` and ``theta_{t+1}`` at path coordinate ``s`` sits at parameter index ``t + s``.
4. **The two fractions.**  The fraction of spikes with a crossing within ``window`` (5) updates, and the
   fraction of crossings with a spike within ``window`` updates (counted over the crossings found by
   the spike-independent search of step 3, so that the search near spikes does not inflate it).  Each
   comes with its chance level: the fraction of all parameter indices within ``window`` of a crossing
   (resp. a spike).  Crossings seen on a long straight segment but on no single update of it (a pair
   that cancels, or a shortcut's artefact) are counted apart.

Limits, stated on the figure's data: the mean distractor is one constant input, while training
sequences switch among the four distractors; orbits of period > 2, invariant circles and chaotic
attractors are not followed (where the only fixed point is unstable, the attractor is one of those);
two crossings within one continuation step cancel, and orbits that neither multi-start search finds
are missed.

Presets: ``quick`` (the default, run by ``dynrnn figures``): seed 0 of MSGD and MSGD-C for 1000 updates,
about a minute on one core; ``medium`` (``dynrnn figures --preset medium gradient_spikes``, written as
``gradient_spikes_medium``): 5 seeds of each method for 8000 updates each (every run's first rise of
the norm falls within that budget), about 20 minutes on one core (1-5 minutes per run, most of it
replaying updates around spikes and crossings).  Each finished run is stored in
``<out>/runs/gradient_spikes_<preset>/`` (``run_seconds`` in the figure's data is its wall time) and
reused; an interrupted run resumes from its checkpoints there.  Besides the figure's four files, the
script writes ``<stem>_events.csv``: one row per spike and per crossing.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np

MEDIUM = {
    "name": "medium",
    "task": "temporal_order",
    "length": 50,
    "init": "smart_tanh",
    "methods": ("MSGD", "MSGD-C"),
    "seeds": (0, 1, 2, 3, 4),
    "n_units": 50,
    "batch_size": 20,
    "lr": 0.01,
    "threshold": 1.0,  # MSGD-C only
    "max_updates": 8000,
    "chunk": 100,  # updates between kept checkpoints (and between the coarse snapshots)
    "spike_factor": 10.0,
    "median_window": 200,
    "min_history": 50,
    "window": 5,  # a spike and a crossing "coincide" within this many updates
    "block": 16,  # longest straight segment analysed around spikes before halving
    "n_starts": 16,  # random Newton starts per period and segment end (plus the orbits already known)
    "analysis_seed": 2013,
}
QUICK = {**MEDIUM, "name": "quick", "seeds": (0,), "max_updates": 1000}
PRESETS = {"quick": QUICK, "medium": MEDIUM}
STEM = "gradient_spikes"
KINDS = ("fold", "branch_point", "flip", "neimark_sacker", "unresolved")
# the settings a stored run was made with (it is reused only when they all match)
STORE_KEYS = ("task", "length", "init", "n_units", "batch_size", "lr", "threshold", "max_updates", "chunk", "window",
              "block", "n_starts", "analysis_seed", "spike_factor", "median_window", "min_history")  # fmt: skip


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _trace():
    """Import ``analysis/_training_trace.py`` (the training and crossing machinery), however this script was loaded."""
    _common()
    import _training_trace

    return _training_trace


def stem_of(p: dict) -> str:
    """The figure's file stem for preset ``p`` (``run_figure`` adds ``_<preset>`` to non-default presets)."""
    return STEM if p["name"] == "quick" else f"{STEM}_{p['name']}"


def _run_store(out_dir, p: dict, method: str, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}" / f"{method}_seed{int(seed)}.npz"


def run_or_load(p: dict, method: str, seed: int, out_dir) -> dict:
    """One run analysed (``_training_trace.analyse_run``), stored in ``<out>/runs/gradient_spikes_<preset>/``."""
    path = _run_store(out_dir, p, method, seed)
    settings = json.dumps({k: p[k] for k in STORE_KEYS}, sort_keys=True)
    if path.is_file():
        with np.load(path) as saved:
            if str(saved["settings"]) == settings:
                run = {k: saved[k] for k in saved.files if k != "settings"}
                run["method"], run["seed"] = str(run["method"]), int(run["seed"])
                return run
    folder = path.with_suffix("")
    run = _trace().analyse_run(p, method, seed, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, settings=settings, **run)
    shutil.rmtree(folder, ignore_errors=True)
    return run


# ----------------------------------------------------------------------------- the fractions


def near(a, b, window: float):
    """For each value of ``a``: whether some value of ``b`` lies within ``window`` of it."""
    a, b = np.asarray(a, dtype=float), np.sort(np.asarray(b, dtype=float))
    if b.size == 0:
        return np.zeros(a.size, dtype=bool)
    i = np.clip(np.searchsorted(b, a), 1, b.size) - 1
    j = np.clip(i + 1, 0, b.size - 1)
    return (np.abs(a - b[i]) <= window) | (np.abs(a - b[j]) <= window)


def nearest_lag(a, b):
    """For each value of ``a``: ``a - b_nearest`` (NaN if ``b`` is empty)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if b.size == 0:
        return np.full(a.size, np.nan)
    d = a[:, None] - b[None, :]
    return d[np.arange(a.size), np.argmin(np.abs(d), axis=1)]


def episodes(spike_at, window: int):
    """Indices of the first spike of each episode: spikes closer than ``window`` updates belong to one episode."""
    spike_at = np.asarray(spike_at, dtype=float)
    if spike_at.size == 0:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(np.concatenate([[True], np.diff(spike_at) > window]))


def run_fractions(run: dict, window: int) -> dict:
    """Counts of one run: spikes near a crossing, crossings near a spike, and the chance levels."""
    spike_at = run["spikes"] - 1.0  # the parameter index at which the spiking gradient was computed
    t_c = run["crossing_t"]
    coarse = run["crossing_coarse"]
    first = float(run["bounds"][0]) if run["bounds"].size else 1.0
    last = float(run["bounds"][-1]) if run["bounds"].size else 1.0
    grid = np.arange(first, last + 1.0)
    starts = episodes(spike_at, window)
    # the map's attractors (period <= 2) at the last snapshot analysed at or before each spike
    st, sa = np.asarray(run["snapshot_t"]), np.asarray(run["snapshot_attractors"])
    before = np.clip(np.searchsorted(st, spike_at, side="right") - 1, 0, None)
    no_attractor = (sa[before] == 0) if st.size else np.zeros(spike_at.size, dtype=bool)
    return {
        "n_spikes": int(spike_at.size),
        "n_spikes_no_attractor": int(np.sum(no_attractor)),
        "n_spikes_near": int(near(spike_at, t_c, window).sum()),
        "n_episodes": int(starts.size),
        "n_episodes_near": int(
            sum(
                near(spike_at[a:b], t_c, window).any()
                for a, b in zip(starts, [*starts[1:], spike_at.size], strict=True)
            )
        ),
        "n_crossings": int(np.sum(coarse)),
        "n_crossings_near": int(near(t_c[coarse], spike_at, window).sum()),
        "n_crossings_all": int(t_c.size),
        "n_crossings_all_near": int(near(t_c, spike_at, window).sum()),
        "n_attractor_crossings": int(np.sum(coarse & run["crossing_attractor"])),
        "n_attractor_crossings_near": int(near(t_c[coarse & run["crossing_attractor"]], spike_at, window).sum()),
        "chance_spike": float(near(grid, t_c, window).mean()) if grid.size else np.nan,
        "chance_crossing": float(near(grid, spike_at, window).mean()) if grid.size else np.nan,
        "n_unrefined": int(run["unrefined"].shape[0]),
    }


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Train and analyse every run of preset ``p``; return the plotted arrays (and write the events CSV).

    Arrays: ``methods`` and ``seeds`` of the R runs (``run_method`` index into ``methods``); per run
    ``n_updates``, ``n_spikes``, ``n_spikes_near``, ``n_crossings`` (found by the spike-independent
    search), ``n_crossings_near``, ``n_attractor_crossings(_near)``, ``chance_spike``,
    ``chance_crossing``, ``n_unrefined``; the concatenated traces ``grad_norm`` and ``threshold``
    (R, N; NaN past a run's end), the spikes (``spike_run``, ``spike_update``, ``spike_lag``: the
    parameter index of the spike minus that of the nearest crossing), the crossings (``crossing_run``,
    ``crossing_t``, ``crossing_kind`` as an index into `KINDS`, ``crossing_period``,
    ``crossing_attractor``, ``crossing_coarse``) and every snapshot analysed (``snapshot_run``,
    ``snapshot_t``, ``snapshot_attractors``: the stable fixed points and period-2 orbits of the map there).
    ``backend`` is recorded only.
    """
    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    runs = [run_or_load(p, method, seed, out_dir) for method in p["methods"] for seed in p["seeds"]]
    W = int(p["window"])
    stats = [run_fractions(run, W) for run in runs]
    N = max(int(p["max_updates"]), max(run["grad_norm"].size for run in runs))
    grad = np.full((len(runs), N), np.nan)
    threshold = np.full((len(runs), N), np.nan)
    for r, run in enumerate(runs):
        grad[r, : run["grad_norm"].size] = run["grad_norm"]
        threshold[r, : run["threshold"].size] = run["threshold"]

    def cat(key, dtype):
        return np.concatenate([np.asarray(run[key], dtype=dtype) for run in runs]) if runs else np.zeros(0, dtype)

    def owner(key):
        return np.concatenate([np.full(len(run[key]), r, dtype=int) for r, run in enumerate(runs)])

    spike_lag = np.concatenate([nearest_lag(run["spikes"] - 1.0, run["crossing_t"]) for run in runs])
    d = {
        "methods": np.array([list(p["methods"]).index(run["method"]) for run in runs]),
        "seeds": np.array([run["seed"] for run in runs]),
        "n_updates": np.array([run["n_updates"] for run in runs]),
        "diverged": np.array([run["diverged"] for run in runs]),
        **{key: np.array([s[key] for s in stats]) for key in stats[0]},
        "grad_norm": grad,
        "threshold": threshold,
        "spike_run": owner("spikes"),
        "spike_update": cat("spikes", int),
        "spike_lag": spike_lag,
        "crossing_run": owner("crossing_t"),
        "crossing_t": cat("crossing_t", float),
        "crossing_kind": np.array([KINDS.index(k) for k in cat("crossing_kind", "<U14")], dtype=int),
        "crossing_period": cat("crossing_period", int),
        "crossing_attractor": cat("crossing_attractor", bool),
        "crossing_coarse": cat("crossing_coarse", bool),
        "snapshot_run": owner("snapshot_t"),
        "snapshot_t": cat("snapshot_t", int),
        "snapshot_attractors": cat("snapshot_attractors", int),
        "n_segments": np.array([run["n_segments"] for run in runs]),
        "n_incomplete": np.array([run["n_incomplete"] for run in runs]),
        "n_snapshots": np.array([run["n_snapshots"] for run in runs]),
        "run_seconds": np.array([float(run.get("seconds", np.nan)) for run in runs]),
    }
    write_events(Path(out_dir) / f"{stem_of(p)}_events.csv", d, p)
    return d


def write_events(path, d: dict, p: dict) -> Path:
    """One row per spike and per crossing: run, what, parameter index, kind, period, attractor, near, lag."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    W = int(p["window"])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        header = ["method", "seed", "event", "update", "parameter_index", "kind", "period", "attractor", "found_by"]
        w.writerow([*header, "grad_norm", f"other_within_{W}", "lag_to_nearest"])
        for r in range(d["seeds"].size):
            method, seed = p["methods"][int(d["methods"][r])], int(d["seeds"][r])
            t_c = d["crossing_t"][d["crossing_run"] == r]
            ups = d["spike_update"][d["spike_run"] == r]
            for k, lag in zip(ups, d["spike_lag"][d["spike_run"] == r], strict=True):
                close = int(near([k - 1.0], t_c, W)[0])
                lag_text = "" if np.isnan(lag) else f"{lag:.4f}"
                w.writerow(
                    [
                        method,
                        seed,
                        "spike",
                        int(k),
                        int(k) - 1,
                        "",
                        "",
                        "",
                        "",
                        f"{d['grad_norm'][r, k - 1]:.6g}",
                        close,
                        lag_text,
                    ]
                )
            sel = d["crossing_run"] == r
            columns = ("crossing_t", "crossing_kind", "crossing_period", "crossing_attractor", "crossing_coarse")
            for t, kind, period, attractor, coarse in zip(*(d[c][sel] for c in columns), strict=True):
                lag = nearest_lag([t], ups - 1.0)[0]  # spike minus crossing, as for the spikes
                found = "segment search" if coarse else "spike window"
                close = int(near([t], ups - 1.0, W)[0])
                lag_text = "" if np.isnan(lag) else f"{lag:.4f}"
                w.writerow(
                    [
                        method,
                        seed,
                        "crossing",
                        "",
                        f"{t:.6f}",
                        KINDS[int(kind)],
                        int(period),
                        int(attractor),
                        found,
                        "",
                        close,
                        lag_text,
                    ]
                )
    return path


# ----------------------------------------------------------------------------- the figure


def _fraction_text(k: int, n: int) -> str:
    return f"{k}/{n} = {k / n:.0%}" if n else "0/0"


def summary(d: dict, p: dict) -> str:
    """The two fractions, their chance levels and the counts, in words (one paragraph per line)."""
    W = int(p["window"])
    ns, nsn = int(d["n_spikes"].sum()), int(d["n_spikes_near"].sum())
    nc, ncn = int(d["n_crossings"].sum()), int(d["n_crossings_near"].sum())
    na, nan_ = int(d["n_attractor_crossings"].sum()), int(d["n_attractor_crossings_near"].sum())
    ne, nen = int(d["n_episodes"].sum()), int(d["n_episodes_near"].sum())
    nall, nall_near = int(d["n_crossings_all"].sum()), int(d["n_crossings_all_near"].sum())
    # chance: the fraction of parameter indices within the window, weighted by each run's spikes (crossings)
    chance_s = float(np.sum(d["n_spikes"] * d["chance_spike"]) / max(ns, 1))
    chance_c = float(np.sum(d["n_crossings"] * d["chance_crossing"]) / max(nc, 1))
    kinds = ", ".join(
        f"{int(np.sum(d['crossing_kind'] == i))} {kind.replace('_', '-')}"
        for i, kind in enumerate(KINDS)
        if np.any(d["crossing_kind"] == i)
    )
    lines = [
        f"Spikes (norm > {p['spike_factor']:g} x the median of the previous {p['median_window']} updates) with a "
        f"crossing within ±{W} updates: {_fraction_text(nsn, ns)} (chance {chance_s:.0%}); spike episodes (spikes "
        f"at most {W} updates apart merged): {_fraction_text(nen, ne)}; spikes while the map has no attractor of "
        f"period ≤ 2: {_fraction_text(int(d['n_spikes_no_attractor'].sum()), ns)}.",
        f"Crossings (found by the segment search) with a spike within ±{W} updates: {_fraction_text(ncn, nc)} "
        f"(chance {chance_c:.0%}); of those where an attractor appears, vanishes or changes stability: "
        f"{_fraction_text(nan_, na)}; with the crossings found near spikes too: {_fraction_text(nall_near, nall)}.",
        f"All {nall} crossings: {kinds or 'none'}; {int(d['n_unrefined'].sum())} more seen on a longer straight "
        f"segment only; {int(d['n_incomplete'].sum())} of {int(d['n_segments'].sum())} segments analysed had a "
        "branch not followed to its end.",
    ]
    return "\n".join(lines)


def plot(d: dict, p: dict):
    """Per run: the pre-clip norm (log) against the update, spikes and crossings marked; the lags below."""
    cm = _common()
    R = d["seeds"].size
    methods = list(p["methods"])
    cols = len(methods)
    rows = int(np.ceil(R / cols))
    fig = cm.new_figure(figsize=(10.0, 1.2 + 1.7 * rows + 2.6 + 1.3), layout="constrained")
    grid = fig.add_gridspec(rows + 2, cols, height_ratios=[1.0] * rows + [1.55, 0.78])
    kind_style = {  # colour, marker
        "fold": (cm.OKABE_ITO["vermillion"], "v"),
        "branch_point": (cm.OKABE_ITO["orange"], "D"),
        "flip": (cm.OKABE_ITO["green"], "s"),
        "neimark_sacker": (cm.OKABE_ITO["purple"], "o"),
        "unresolved": (cm.OKABE_ITO["black"], "x"),
    }
    count = dict.fromkeys(methods, 0)
    first_ax = None
    for r in range(R):
        method = methods[int(d["methods"][r])]
        row, col = count[method], methods.index(method)
        count[method] += 1
        ax = fig.add_subplot(grid[row, col], sharex=first_ax)
        first_ax = first_ax or ax
        g = d["grad_norm"][r]
        t = np.arange(1, g.size + 1)
        st, sa = d["snapshot_t"][d["snapshot_run"] == r], d["snapshot_attractors"][d["snapshot_run"] == r]
        for i in range(st.size - 1):  # shade where the map has an attractor of period <= 2 (updates use theta_t)
            if sa[i] > 0:
                ax.axvspan(st[i] + 1, st[i + 1] + 1, color="0.88", lw=0, zorder=0)
        ax.plot(t, g, color=cm.OKABE_ITO["blue"], lw=0.5, zorder=2)
        ax.plot(t, d["threshold"][r], color="0.35", lw=0.8, ls="--", zorder=3)
        ks = d["spike_update"][d["spike_run"] == r]
        ax.plot(ks, g[ks - 1], ls="none", marker=".", ms=3.5, color=cm.OKABE_ITO["black"], zorder=4)
        ax.set_yscale("log")
        top = np.nanmax(g) if np.isfinite(g).any() else 1.0
        sel = d["crossing_run"] == r
        for kind_index, kind in enumerate(KINDS):
            mask = sel & (d["crossing_kind"] == kind_index)
            colour, marker = kind_style[kind]
            filled = mask & d["crossing_attractor"]
            hollow = mask & ~d["crossing_attractor"]
            ax.plot(d["crossing_t"][filled] + 1, np.full(filled.sum(), top * 6), ls="none", marker=marker, ms=5,
                    color=colour, zorder=5)  # fmt: skip
            ax.plot(d["crossing_t"][hollow] + 1, np.full(hollow.sum(), top * 6), ls="none", marker=marker, ms=5,
                    mfc="none", color=colour, zorder=5)  # fmt: skip
        ax.set_ylim(None, top * 20)
        status = " (diverged)" if d["diverged"][r] else ""
        ax.set_title(
            f"{method}, seed {int(d['seeds'][r])}{status}: {int(d['n_spikes'][r])} spikes, "
            f"{int(d['n_crossings_all'][r])} crossing(s)",
            fontsize=10,
            loc="left",
        )
        ax.set_ylabel("pre-clip ‖∇E‖", fontsize=10)
        if row == rows - 1:
            ax.set_xlabel("update", fontsize=10)
        ax.tick_params(labelsize=9)
    # legend: the markers, the threshold, the shading
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color=cm.OKABE_ITO["blue"], lw=1.0, label="pre-clip gradient norm"),
        Line2D([], [], color="0.35", lw=1.0, ls="--", label=f"spike threshold: {p['spike_factor']:g} x running median"),
        Line2D([], [], color=cm.OKABE_ITO["black"], ls="none", marker=".", ms=6, label="spike"),
        Patch(color="0.9", label="map has an attractor of period ≤ 2"),
    ]
    for kind in KINDS:
        colour, marker = kind_style[kind]
        handles.append(Line2D([], [], color=colour, ls="none", marker=marker, ms=6, label=kind.replace("_", "-")))
    handles.append(Line2D([], [], color="0.3", ls="none", marker="o", mfc="none", ms=6,
                          label="hollow: no attractor involved"))  # fmt: skip
    # bottom row: lag from each spike to the nearest crossing, and the summary
    ax = fig.add_subplot(grid[rows, 0])
    lag = d["spike_lag"]
    finite = np.isfinite(lag)
    W = int(p["window"])
    if finite.any():
        edges = np.concatenate([-np.logspace(4, 0, 17), [-0.5, 0.5], np.logspace(0, 4, 17)])
        for i, method in enumerate(methods):
            sel = finite & (d["methods"][d["spike_run"]] == i)
            ax.hist(np.clip(lag[sel], -9999, 9999), bins=edges, histtype="step", lw=1.4, color=cm.COLOURS[i],
                    ls=cm.LINESTYLES[i], label=method)  # fmt: skip
    ax.axvspan(-W, W, color=cm.OKABE_ITO["sky_blue"], alpha=0.35, lw=0, label=f"±{W} updates")
    ax.set_xscale("symlog", linthresh=1.0)
    ticks = [-1000, -100, -10, 0, 10, 100, 1000]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xlim(-1e4, 1e4)
    ax.set_xlabel("spike minus nearest crossing (updates)", fontsize=10)
    ax.set_ylabel("spikes", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9, loc="upper left")
    n_no = int(np.sum(~finite))
    ax.set_title(f"each spike's lag to its nearest crossing ({n_no} in runs without one)", fontsize=10, loc="left")
    legend_ax = fig.add_subplot(grid[rows, 1:] if cols > 1 else grid[rows, 0])
    legend_ax.axis("off")
    legend_ax.legend(handles=handles, loc="center", fontsize=9.5, ncol=2, frameon=False)
    text_ax = fig.add_subplot(grid[rows + 1, :])
    text_ax.axis("off")
    text_ax.text(0.0, 1.0, _wrap(summary(d, p), 118), transform=text_ax.transAxes, va="top", fontsize=10)
    n_seeds = len(p["seeds"])
    fig.suptitle(
        "Gradient-norm spikes against bifurcation crossings of the mean-distractor map "
        "h → tanh(W_rec h + W_in u_d + b)\n"
        f"{p['name']} preset: temporal order L = {p['length']}, {p['n_units']} units, "
        f"{p['init'].replace('_', ' ')} init, lr {p['lr']}, batch {p['batch_size']}, threshold {p['threshold']:g} "
        f"(MSGD-C); {p['max_updates']:,} updates per run, {n_seeds} seed{'s' if n_seeds > 1 else ''} per method",
        fontsize=11,
    )
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def main(argv=None) -> list[Path]:
    """Train, analyse, plot and save the figure; return the paths written."""
    return _common().run_figure(
        argv,
        doc=__doc__,
        stem=STEM,
        presets=PRESETS,
        compute=compute,
        plot=plot,
        default_preset="quick",
        pass_out_dir=True,
    )


if __name__ == "__main__":
    for path in main():
        print(path)
