"""Bifurcation diagram of one logistic unit x_t = 5*sigma(x_{t-1}) + b: Fig. 3 of Pascanu et al. (2013).

The fixed points of the map (``dynrnn.single_unit.fixed_points``, exact) against the bias b: the two
stable branches (attractors, solid) and the unstable middle branch between them (the basin boundary,
dashed), which meet at the two saddle-node folds (``fold_points``, filled circles): as b decreases a
low attractor appears at b_1 and the high one disappears at b_2. Grey dashed arrows join initial
states x_0 to the attractor that ``dynrnn.iterate_grid`` reaches from them after ``n_steps`` steps;
the unfilled circle marks a boundary crossing, where starts on either side of the middle fixed point
end on different attractors (a small change in x_0, a large change in x_t).

Run alone (``python analysis/bifurcation.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activation": "logistic",
    "w": 5.0,
    "b_range": (-4.0, -1.0),
    "n_b": 3001,  # uniform b samples, plus a geometric cluster on each side of each fold
    "n_fold_cluster": 40,
    "x_range": (-4.6, 4.6),
    "arrow_b": (-3.6, -3.0, -2.5, -2.0, -1.4),  # columns of trajectory arrows
    "arrow_x0_outer": 4.3,  # starts at +-4.3 in every column ...
    "arrow_x0_offset": 0.45,  # ... and just above and below the basin boundary where bistable
    "boundary_b": -2.5,  # where to mark a boundary crossing (the middle fixed point)
    "n_steps": 200,
}
QUICK = {**PAPER, "n_b": 301, "n_fold_cluster": 10}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "bifurcation"
BISTABLE = "#f7e3b5"  # a tint of Okabe-Ito orange


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _branch(fp, mask):
    """The one fixed point per b selected by ``mask`` (NaN where none)."""
    return np.where(mask.any(axis=-1), np.where(mask, fp.x, 0.0).sum(axis=-1), np.nan)


def compute(p: dict, backend: str = "cpu") -> dict:
    """Fixed-point branches, folds and trajectory arrows; return the plotted arrays."""
    import dynrnn

    su = dynrnn.single_unit
    w, act = p["w"], p["activation"]
    folds = su.fold_points(w, activation=act)
    near = np.geomspace(1e-8, 1e-2, p["n_fold_cluster"])
    b = np.concatenate(
        [np.linspace(*p["b_range"], p["n_b"]), folds.b, *(fb + s * near for fb in folds.b for s in (-1, 1))]
    )
    b = np.unique(b[(b >= p["b_range"][0]) & (b <= p["b_range"][1])])
    fp = su.fixed_points(w, b, activation=act)
    if not fp.converged.all():
        raise RuntimeError("fixed_points did not converge everywhere")
    found = ~np.isnan(fp.x)
    closes = fp.stable | fp.tangent  # a fold point ends a stable branch as well as the middle one
    low = _branch(fp, closes & (fp.x < 0))
    high = _branch(fp, closes & (fp.x > 0))
    middle = _branch(fp, found & ~fp.stable)

    # Trajectory arrows: from each start, iterate the map and take the attractor reached.
    arrow_b, arrow_x0 = [], []
    for bb in p["arrow_b"]:
        starts = [-p["arrow_x0_outer"], p["arrow_x0_outer"]]
        col = su.fixed_points(w, bb, activation=act)
        if int(col.count) == 3:
            mid = float(col.x[1])
            starts += [mid - p["arrow_x0_offset"], mid + p["arrow_x0_offset"]]
        arrow_b += [bb] * len(starts)
        arrow_x0 += starts
    arrow_b, arrow_x0 = np.array(arrow_b), np.array(arrow_x0)
    res = dynrnn.iterate_grid(w, arrow_b, arrow_x0, n_steps=p["n_steps"], activation=act, backend=backend)
    arrow_x_end = res.x[:, -1, 0]

    boundary = su.fixed_points(w, p["boundary_b"], activation=act)
    return {
        "b": b,
        "x_low": low,
        "x_middle": middle,
        "x_high": high,
        "fold_b": folds.b,
        "fold_x": folds.x,
        "arrow_b": arrow_b,
        "arrow_x0": arrow_x0,
        "arrow_x_end": arrow_x_end,
        "boundary_point": np.array([p["boundary_b"], boundary.x[1]]),
    }


def plot(d: dict, p: dict):
    """One panel: fixed points against b, with folds, arrows and a boundary crossing."""
    from matplotlib.lines import Line2D

    cm = _common()
    fig = cm.new_figure(figsize=(8.6, 4.6))
    ax = fig.subplots()
    stable = dict(color=cm.OKABE_ITO["blue"], lw=3.0, ls="-", solid_capstyle="round")
    unstable = dict(color=cm.OKABE_ITO["vermillion"], lw=1.8, ls=(0, (5, 3)))
    arrow = dict(arrowstyle="-|>", color="0.45", lw=1.1, ls=(0, (3, 2)), shrinkA=0, shrinkB=3, mutation_scale=11)
    fold = dict(marker="o", ms=9, color="k", mec="white", mew=1.0, ls="none", zorder=5)
    crossing = dict(marker="o", ms=11, mfc="white", mec="k", mew=1.6, ls="none", zorder=5)

    for b0, x0, x1 in zip(d["arrow_b"], d["arrow_x0"], d["arrow_x_end"], strict=True):
        ax.annotate("", xy=(b0, x1), xytext=(b0, x0), arrowprops=arrow, zorder=2)
    ax.plot(d["arrow_b"], d["arrow_x0"], "o", ms=3.5, color="0.45", zorder=3)
    ax.plot(d["b"], d["x_low"], **stable, zorder=3)
    ax.plot(d["b"], d["x_high"], **stable, zorder=3)
    ax.plot(d["b"], d["x_middle"], **unstable, zorder=3)
    ax.plot(d["fold_b"], d["fold_x"], **fold)
    ax.plot(*d["boundary_point"], **crossing)

    (b2, b1), (x2, x1) = d["fold_b"], d["fold_x"]
    ax.annotate(
        f"$b_1 \\approx {b1:.3f}$\nlow attractor appears",
        xy=(b1, x1),
        xytext=(b1 + 0.12, x1 - 1.15),
        fontsize=9.5,
        arrowprops=dict(arrowstyle="-", color="k", lw=0.8),
    )
    ax.annotate(
        f"$b_2 \\approx {b2:.3f}$\nhigh attractor vanishes",
        xy=(b2, x2),
        xytext=(b2 - 1.02, x2 + 0.85),
        fontsize=9.5,
        arrowprops=dict(arrowstyle="-", color="k", lw=0.8),
    )
    ax.axvspan(b2, b1, color=BISTABLE, zorder=0, lw=0)
    ax.set_xlim(*p["b_range"])
    ax.set_ylim(*p["x_range"])
    ax.set_xlabel("bias $b$")
    ax.set_ylabel(r"fixed point / asymptotic state $x_\infty$")
    ax.axhline(0.0, color="0.85", lw=0.6, zorder=1)

    handles = [
        Line2D([], [], **stable, label="attractor (stable fixed point)"),
        Line2D([], [], **unstable, label="basin boundary\n(unstable fixed point)"),
        Line2D([], [], **fold, label="bifurcation (fold):\nan attractor appears\nor disappears"),
        Line2D([], [], **crossing, label="boundary crossing:\nsmall $\\Delta x_0$, large $\\Delta x_t$"),
        Line2D([], [], color="0.45", lw=1.1, ls=(0, (3, 2)), marker="o", ms=3.5, label="$x_0 \\to x_T$ (iterated)"),
        Line2D([], [], color=BISTABLE, lw=8, label="bistable range"),
    ]
    fig.legend(handles=handles, loc="outside right center", labelspacing=0.9)
    fig.suptitle(
        rf"Single unit $x_t = {p['w']:g}\,\sigma(x_{{t-1}}) + b$ ({p['activation']} $\sigma$): "
        r"fixed points against the bias (Pascanu et al. 2013, Fig. 3)"
        "\n"
        rf"arrows: $T = {p['n_steps']}$ steps of the map from $x_0$",
        fontsize=11,
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
