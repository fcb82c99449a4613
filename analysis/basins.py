"""Basins of attraction of two coupled logistic units, with every fixed point marked by its class.

State space of an autonomous 2-unit RNN x_t = W_rec*sigma(x_{t-1}) + b (eq. 2 of Pascanu et al. 2013,
logistic sigma) splits into the basins of its attractors (Sec. 2.2). ``dynrnn.basins`` iterates a grid
of initial states and labels each with the attractor it reaches. (a) A coupled network with four stable
fixed points: the basin boundaries are the curved stable manifolds of the saddles, and two neighbouring
starts on either side of a boundary (drawn) end on different attractors -- the small-Delta-x_0,
large-Delta-x_t picture of Figs. 4-5. (b) A network whose attractors are two period-2 orbits.

The fixed points for the markers come from ``dynrnn.fixed_points`` (multi-start Newton), classified
by the eigenvalues of the Jacobian W_rec diag(sigma'(x*)): stable (all |lambda| < 1), saddle (some
> 1) or unstable (all > 1).

Run alone (``python analysis/basins.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activation": "logistic",
    "nets": {
        "a": {"W_rec": [[6.0, -1.0], [-1.1, 6.2]], "b": [-2.5, -2.5]},
        "b": {"W_rec": [[5.0, -1.5], [-1.5, -6.0]], "b": [-1.7, 3.0]},
    },
    "window": {"a": (-4.6, 4.6, -4.6, 4.6), "b": (-4.0, 4.0, -5.5, 4.5)},  # x_0 range, x_1 range
    "n_grid": 301,  # grid points per axis
    "n_steps": 400,
    "max_period": 8,
    "tol": 1e-8,
    "n_fixed_point_starts": 400,  # Newton starts for dynrnn.fixed_points
    "seed": 0,
    "pair_near": (0.4, -0.4),  # panel (a): two grid-neighbour starts across the boundary nearest this point ...
    "pair_steps": 40,  # ... iterated this many steps
}
QUICK = {**PAPER, "n_grid": 61, "n_fixed_point_starts": 100}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "basins"
CLASSES = ("stable", "saddle", "unstable")


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _boundary_pair(labels, xs, ys, near):
    """Two vertically neighbouring grid starts with different labels, the pair nearest ``near``."""
    diff = (labels[:, :-1] != labels[:, 1:]) & (labels[:, :-1] >= 0) & (labels[:, 1:] >= 0)
    i, j = np.nonzero(diff)
    k = np.argmin(np.hypot(xs[i] - near[0], ys[j] - near[1]))
    return np.array([[xs[i[k]], ys[j[k]]], [xs[i[k]], ys[j[k] + 1]]])


def compute(p: dict, backend: str = "cpu") -> dict:
    """Basins, attractors and fixed points of both networks; return the plotted arrays."""
    import dynrnn

    data = {}
    for key, spec in p["nets"].items():
        net = dynrnn.RNN(spec["W_rec"], b=spec["b"], activation=p["activation"])
        win = p["window"][key]
        xs = np.linspace(win[0], win[1], p["n_grid"])
        ys = np.linspace(win[2], win[3], p["n_grid"])
        res = dynrnn.basins(
            net, grid=(xs, ys), n_steps=p["n_steps"], max_period=p["max_period"], tol=p["tol"], backend=backend
        )
        fixed = dynrnn.fixed_points(net, n_starts=p["n_fixed_point_starts"], rng=p["seed"])
        fp, n_unstable = np.asarray(fixed.x), np.asarray(fixed.n_unstable)
        period = np.asarray(res.period)
        points = np.concatenate(res.attractors) if res.attractors else np.empty((0, 2))
        data[f"{key}_x0"] = xs
        data[f"{key}_x1"] = ys
        data[f"{key}_labels"] = np.asarray(res.labels)
        data[f"{key}_attractor_points"] = points
        data[f"{key}_attractor_id"] = np.repeat(np.arange(period.size), period)
        data[f"{key}_period"] = period
        data[f"{key}_fixed_points"] = fp
        data[f"{key}_n_unstable"] = n_unstable
        if key == "a":
            pair = _boundary_pair(data["a_labels"], xs, ys, p["pair_near"])
            data["a_pair"] = np.stack([dynrnn.iterate(net, x0, n_steps=p["pair_steps"]) for x0 in pair])
    return data


def plot(d: dict, p: dict):
    """Two panels of basins (one colour per attractor) with attractors and classified fixed points."""
    import matplotlib.colors as mcolors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cm = _common()
    fig = cm.new_figure(figsize=(8.4, 5.6))
    axes = fig.subplots(1, 2)
    # Okabe-Ito colours (colour-blind safe), neighbours differing in lightness too; basins in tints of them
    dark = [cm.OKABE_ITO[name] for name in ("sky_blue", "orange", "blue", "purple", "yellow", "green")]
    light = [mcolors.to_hex(0.55 * np.array(mcolors.to_rgb(c)) + 0.45) for c in dark]
    markers = {
        0: dict(marker="o", mfc="k", mec="white", ms=8),
        1: dict(marker="X", mfc="white", mec="k", ms=9),
        2: dict(marker="s", mfc="white", mec="k", ms=7),
    }
    titles = {"a": "(a) four stable fixed points", "b": "(b) two period-2 orbits"}
    for ax, key in zip(axes, ("a", "b"), strict=True):
        xs, ys, labels = d[f"{key}_x0"], d[f"{key}_x1"], d[f"{key}_labels"]
        k = d[f"{key}_period"].size
        colours = ["0.55", "white"] + light[:k]  # -2 diverged, -1 not converged, then the basins
        dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
        ax.imshow(
            labels.T,
            origin="lower",
            extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
            aspect="auto",
            cmap=mcolors.ListedColormap(colours),
            vmin=-2.5,
            vmax=k - 0.5,
        )
        pts, ids = d[f"{key}_attractor_points"], d[f"{key}_attractor_id"]
        for a in range(k):
            orbit = pts[ids == a]
            if orbit.shape[0] > 1:
                closed = np.vstack([orbit, orbit[:1]]) if orbit.shape[0] > 2 else orbit
                ax.plot(closed[:, 0], closed[:, 1], color=dark[a], lw=1.4, ls="--", zorder=3)
                ax.plot(
                    orbit[:, 0], orbit[:, 1], ls="none", marker="*", ms=13, color=dark[a], mec="k", mew=0.6, zorder=4
                )
        for x, n_unstable in zip(d[f"{key}_fixed_points"], d[f"{key}_n_unstable"], strict=True):
            ax.plot(*x, ls="none", mew=1.2, zorder=5, **markers[int(n_unstable)])
        if key == "a":
            for traj, c in zip(d["a_pair"], ("k", "0.35"), strict=True):
                ax.plot(traj[:, 0], traj[:, 1], color=c, lw=0.9, marker=".", ms=4, zorder=4)
            ax.plot(*d["a_pair"][:, 0].T, ls="none", marker="o", ms=5, mfc="yellow", mec="k", zorder=6)
        ax.set_xlabel("initial state $x_{0,1}$")
        ax.set_title(titles[key])
        W, b = p["nets"][key]["W_rec"], p["nets"][key]["b"]
        ax.text(
            0.02,
            0.02,
            f"$W_{{rec}}$ = {W}\n$b$ = {b}",
            transform=ax.transAxes,
            fontsize=9.5,
            va="bottom",
            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.6", alpha=0.9),
        )
    for ax in axes:
        ax.set_ylabel("initial state $x_{0,2}$")
    handles = [
        Patch(facecolor=light[0], edgecolor="0.5", label="basin (one colour\nper attractor)"),
        Line2D([], [], ls="none", mew=1.2, label="stable fixed point", **markers[0]),
        Line2D([], [], ls="none", mew=1.2, label="saddle", **markers[1]),
        Line2D([], [], ls="none", mew=1.2, label="unstable fixed point", **markers[2]),
        Line2D([], [], ls="--", marker="*", ms=11, color=dark[0], mec="k", mew=0.6, label="period-2 orbit"),
        Line2D(
            [],
            [],
            color="k",
            lw=0.9,
            marker=".",
            ms=4,
            mfc="yellow",
            label=f"two starts {d['a_pair'][1, 0, 1] - d['a_pair'][0, 0, 1]:.2g} apart,\n{p['pair_steps']} steps",
        ),
    ]
    if any(np.any(d[f"{key}_labels"] == -1) for key in ("a", "b")):
        handles.insert(1, Patch(facecolor="white", edgecolor="0.5", label="no attractor reached\n(on a boundary)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9.5)
    fig.suptitle(
        r"Basins of attraction of two logistic units $x_t = W_{rec}\,\sigma(x_{t-1}) + b$"
        f"\n{p['n_grid']}$\\times${p['n_grid']} initial states, $T = {p['n_steps']}$ steps"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
