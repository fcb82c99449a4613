"""Input maps: an input pulse moves the Fig. 3 unit across its basin boundary (Fig. 5 of Pascanu et al. 2013).

Pascanu et al. (2013), Sec. 2.2 (paper.md Sec. 2.1 and 2.3): an input-driven map splits into
F_t = U_t o F~, with the autonomous map F~(x) = W_rec sigma(x) + b and the input map U_t(x) = x + W_in u_t.
Crossing a basin boundary of F~ sends the state to the other attractor, a large change of x_t for a small
change of the input, unless later inputs undo it.  Here F~ is the unit of Fig. 3, x_t = 5 sigma(x_{t-1}) - 2.5
+ u_t (logistic sigma, W_in = 1), bistable at u = 0 with attractors x = -1.776 and +1.776 and the boundary
(the unstable fixed point) at x = 0.

(a) The state (``dynrnn.iterate``) from the low attractor, with a one-step pulse u at t = 10: pulses up to
1.7760 bring it back, larger ones throw it to the high attractor; pulses 0.01 apart on either side of the
threshold end 3.55 apart.  (b) The final state against the pulse size for pulses held 1, 3 and 10 steps:
a step at a threshold (bisected) that falls towards the fold value 0.1556 as the pulse lasts longer.
(c) The drift of the fixed points of F~ + u with a constant input u (``dynrnn.single_unit.fixed_points``):
the attractors and the boundary move, and beyond the folds at u = -0.1556 and +0.1556 one attractor is
gone.  (d) The maps themselves: F~ and U o F~ against the identity, with the boundary (dotted) and the
direction F~ moves the state on either side of it (arrows), as in the paper's Fig. 5.

Run alone (``python analysis/input_maps.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "w": 5.0,
    "b": -2.5,
    "activation": "logistic",
    "n_steps": 60,
    "pulse_at": 10,  # the pulse drives step t = pulse_at (and the next ones while it lasts)
    "pulse_sizes": (0.5, 1.0, 1.5, 1.77, 1.78, 2.5),  # panel (a), one-step pulses
    "durations": (1, 3, 10),  # panel (b), steps the pulse is held
    "u_grid": (0.0, 3.0, 601),  # panel (b)
    "drift_u": (-1.0, 1.0, 801),  # panel (c), constant inputs
    "map_inputs": (0.3, 1.78),  # panel (d), U o F~ for these u
    "x_range": (-3.0, 3.0, 401),  # panel (d)
    "n_bisect": 50,
}
QUICK = {**PAPER, "u_grid": (0.0, 3.0, 121), "drift_u": (-1.0, 1.0, 201), "x_range": (-3.0, 3.0, 121), "n_bisect": 30}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "input_maps"


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _pulse(p: dict, size: float, duration: int) -> np.ndarray:
    """The input sequence u_1 ... u_T: ``size`` for ``duration`` steps from ``pulse_at``, 0 elsewhere."""
    u = np.zeros((p["n_steps"], 1))
    u[p["pulse_at"] - 1 : p["pulse_at"] - 1 + duration, 0] = size
    return u


def compute(p: dict, backend: str = "cpu") -> dict:
    """Pulse responses, final states by pulse size, thresholds, fixed points by input, and the maps."""
    import dynrnn

    w, b, act = p["w"], p["b"], p["activation"]
    net = dynrnn.RNN([[w]], W_in=[[1.0]], b=[b], activation=act)
    fp = dynrnn.single_unit.fixed_points(w, b, activation=act)
    if int(fp.count) != 3:
        raise RuntimeError(f"the unit is not bistable at u = 0: {int(fp.count)} fixed points")
    x_low, x_mid, x_high = (float(x) for x in fp.x)

    def final(size, duration):
        return float(dynrnn.iterate(net, [x_low], inputs=_pulse(p, size, duration))[-1, 0])

    sizes = np.array(p["pulse_sizes"], dtype=float)
    trajectories = np.stack([dynrnn.iterate(net, [x_low], inputs=_pulse(p, u, 1))[:, 0] for u in sizes])
    u_grid = np.linspace(*p["u_grid"])
    durations = np.array(p["durations"])
    finals = np.array([[final(u, int(n)) for u in u_grid] for n in durations])
    thresholds = []
    for n in durations:  # bisect the pulse size at which the state ends on the high attractor
        lo, hi = u_grid[0], u_grid[-1]
        if final(hi, int(n)) <= x_mid or final(lo, int(n)) > x_mid:
            raise RuntimeError(f"no threshold in {p['u_grid'][:2]} for a {n}-step pulse")
        for _ in range(p["n_bisect"]):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if final(mid, int(n)) > x_mid else (mid, hi)
        thresholds.append(0.5 * (lo + hi))

    drift_u = np.linspace(*p["drift_u"])
    drift = dynrnn.single_unit.fixed_points(w, b + drift_u, activation=act)
    # the folds of x -> w sigma(x) + b + u: w sigma'(x) = 1 (closed form for the logistic sigma)
    x_fold = np.log((1 + np.sqrt(1 - 4 / w)) / (1 - np.sqrt(1 - 4 / w)))
    s = 1 / (1 + np.exp(-np.array([-x_fold, x_fold])))
    fold_u = np.array([-x_fold, x_fold]) - w * s - b  # u at which the low (resp. high) attractor appears/vanishes

    x = np.linspace(*p["x_range"])
    return {
        "t": np.arange(p["n_steps"] + 1),
        "fixed_points": np.array([x_low, x_mid, x_high]),
        "pulse_sizes": sizes,
        "trajectories": trajectories,
        "u_grid": u_grid,
        "durations": durations,
        "final_state": finals,
        "threshold": np.array(thresholds),
        "drift_u": drift_u,
        "drift_x": np.asarray(drift.x),
        "drift_stable": np.asarray(drift.stable),
        "fold_u": fold_u,
        "fold_x": np.array([-x_fold, x_fold]),
        "map_x": x,
        "map_inputs": np.array(p["map_inputs"], dtype=float),
        "map_F": w / (1 + np.exp(-x)) + b,
    }


def plot(d: dict, p: dict):
    """(a) pulse responses, (b) final state against pulse size, (c) fixed points against u, (d) the maps."""
    from matplotlib.lines import Line2D

    cm = _common()
    oi = cm.OKABE_ITO
    x_low, x_mid, x_high = d["fixed_points"]
    fig = cm.new_figure(figsize=(8.6, 8.2))
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    boundary = {"color": "0.35", "lw": 1.2, "ls": ":"}

    # (a) pulse responses: colour by the attractor reached, line style by pulse size
    for j, (u, traj) in enumerate(zip(d["pulse_sizes"], d["trajectories"], strict=True)):
        high = traj[-1] > x_mid
        ax_a.plot(d["t"], traj, color=oi["vermillion"] if high else oi["blue"], ls=cm.LINESTYLES[j % 7],
                  marker=cm.MARKERS[j % 7], markevery=[p["pulse_at"]], ms=7, lw=1.6, label=f"$u$ = {u:g}")  # fmt: skip
    ax_a.axhline(x_mid, **boundary)
    ax_a.axvline(p["pulse_at"], color="0.75", lw=1.0, zorder=0)
    ax_a.text(p["pulse_at"] + 1, x_low - 0.35, f"pulse at $t$ = {p['pulse_at']}", fontsize=9.5)
    ax_a.set_xlim(0, d["t"][-1])
    ax_a.set_ylim(x_low - 0.6, x_high + 1.4)
    ax_a.set_xlabel("time step $t$")
    ax_a.set_ylabel("state $x_t$")
    ax_a.set_title("(a) one-step pulses $u$ from the low attractor")
    ax_a.legend(loc="upper right", ncol=3, fontsize=9, handlelength=2.4, columnspacing=1.0)

    # (b) final state against pulse size, per duration
    for j, (n, fin, thr) in enumerate(zip(d["durations"], d["final_state"], d["threshold"], strict=True)):
        colour = cm.COLOURS[j % 7]
        ax_b.plot(d["u_grid"], fin, color=colour, ls=cm.LINESTYLES[j % 7], lw=1.8,
                  label=f"held {n} step{'s' if n > 1 else ''}: threshold {thr:.4f}")  # fmt: skip
        ax_b.plot(thr, x_mid, cm.MARKERS[j % 7], color=colour, mec="k", ms=8, zorder=5)
    ax_b.axvline(
        d["fold_u"].max(),
        color="0.5",
        lw=1.0,
        ls="--",
        label=f"fold: no low attractor past $u$ = {d['fold_u'].max():.4f}",
    )
    ax_b.axhline(x_mid, **boundary)
    ax_b.set_xlim(d["u_grid"][0], d["u_grid"][-1])
    ax_b.set_ylim(x_low - 0.6, x_high + 1.6)
    ax_b.set_xlabel("pulse size $u$")
    ax_b.set_ylabel(f"final state $x_{{{p['n_steps']}}}$")
    ax_b.set_title("(b) where the pulse ends")
    ax_b.legend(loc="upper left", fontsize=9)

    # (c) drift of the fixed points with a constant input u
    # fixed points come sorted, NaN-padded: three where bistable, else one (low for u < 0, high for u > 0)
    fx = d["drift_x"]
    three = ~np.isnan(fx[:, 1])
    low = np.where(fx[:, 0] < 0, fx[:, 0], np.nan)
    high = np.where(three, fx[:, 2], np.where(fx[:, 0] > 0, fx[:, 0], np.nan))
    ax_c.plot(d["drift_u"], low, color=oi["blue"], lw=2.6, label="low attractor")
    ax_c.plot(d["drift_u"], np.where(three, fx[:, 1], np.nan), **{**boundary, "lw": 1.8}, label="boundary (unstable)")
    ax_c.plot(d["drift_u"], high, color=oi["vermillion"], lw=2.6, ls="--", label="high attractor")
    ax_c.plot(d["fold_u"], d["fold_x"], "o", color="k", mec="w", ms=8, ls="none", label="folds", zorder=5)
    for uf, xf in zip(d["fold_u"], d["fold_x"], strict=True):
        ax_c.annotate(f"$u$ = {uf:+.4f}", (uf, xf), xytext=(10 if uf > 0 else -10, 0), textcoords="offset points",
                      ha="left" if uf > 0 else "right", va="center", fontsize=9.5)  # fmt: skip
    ax_c.axvline(0.0, color="0.75", lw=1.0, zorder=0)
    ax_c.set_xlim(d["drift_u"][0], d["drift_u"][-1])
    ax_c.set_xlabel("constant input $u$")
    ax_c.set_ylabel("fixed point $x^*$ of $F + u$")
    ax_c.set_title("(c) the fixed points drift with $u$")
    ax_c.legend(loc="upper left", fontsize=9)

    # (d) the maps: F~ and U o F~ against the identity
    x = d["map_x"]
    ax_d.plot(x, x, color="0.6", lw=1.0, label="identity $x_t = x_{t-1}$")
    ax_d.plot(x, d["map_F"], color="k", lw=2.0, label=r"$\tilde F(x) = 5\sigma(x) - 2.5$")
    for j, u in enumerate(d["map_inputs"]):
        ax_d.plot(x, d["map_F"] + u, color=(oi["orange"], oi["purple"])[j % 2], ls=("--", "-.")[j % 2], lw=1.8,
                  label=rf"$U \circ \tilde F$, $u$ = {u:g}")  # fmt: skip
    ax_d.axvline(x_mid, **boundary)
    ax_d.plot(d["fixed_points"][[0, 2]], d["fixed_points"][[0, 2]], "o", color="k", ms=7, ls="none")
    ax_d.plot(x_mid, x_mid, "o", mfc="w", mec="k", ms=7, ls="none")
    arrow = {"arrowstyle": "-|>", "color": "k", "lw": 1.2, "ls": "--", "mutation_scale": 14}
    y_arrow = x[0] + 0.4
    ax_d.annotate("", xy=(x_low, y_arrow), xytext=(x_mid - 0.15, y_arrow), arrowprops=arrow)
    ax_d.annotate("", xy=(x_high, y_arrow), xytext=(x_mid + 0.15, y_arrow), arrowprops=arrow)
    ax_d.text(x_mid + 0.1, y_arrow + 0.3, "boundary", fontsize=9.5, color="0.3")
    ax_d.set_xlim(x[0], x[-1])
    ax_d.set_ylim(x[0], x[-1] + 0.5)
    ax_d.set_xlabel("$x_{t-1}$")
    ax_d.set_ylabel("$x_t$")
    ax_d.set_title(r"(d) the maps $\tilde F$ and $U_t \circ \tilde F$")
    ax_d.legend(loc="upper left", fontsize=9)

    handles = [
        Line2D([], [], color=oi["blue"], lw=1.8, label="ends on the low attractor"),
        Line2D([], [], color=oi["vermillion"], lw=1.8, label="ends on the high attractor"),
        Line2D([], [], **boundary, label=f"basin boundary $x$ = {x_mid:.3g} (at $u$ = 0)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9.5)
    fig.suptitle(
        rf"Fig. 5: $x_t = U_t(\tilde F(x_{{t-1}}))$, $\tilde F(x) = {p['w']:g}\,\sigma(x) {p['b']:+g}$, "
        r"$U_t(x) = x + u_t$"
        "\n"
        rf"attractors {x_low:.4f} and {x_high:.4f}; a one-step pulse crosses the boundary from "
        rf"$u$ = {d['threshold'][0]:.4f}"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
