"""Phase diagram of the one-unit logistic map x <- w*sigma(x) + b: bistable cusp in (w, b).

Iterates a (w, b) grid for T steps from x0 = -10 and from x0 = +10 (paper form, eq. 2 with one
unit) and shows (a) the final state x_T reached from x0 = +10 and (b) where the two runs end on
different attractors: the wedge between the two saddle-node fold curves that meet at the cusp
(w, b) = (4, -2), with the analytic folds overlaid.

Two runs "end apart" when their final pairs {x_{T-1}, x_T} differ as sets (so two runs on the same
period-2 orbit with opposite phase, as for w < -4 past the flip bifurcation, are not bistable) by
more than ``tol`` and by more than ``lag_factor`` times the last two-step move |x_T - x_{T-2}| of
either run. The second condition removes runs that are still converging slowly onto the same
attractor (near the flip curve the two runs trail each other by about one two-step move after
200 steps and differ by up to ~1e-3, far above 1e-6).

Run alone (``python analysis/phase_diagram.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activation": "logistic",
    "form": "paper",
    "w_range": (-10.0, 10.0),
    "b_range": (-10.0, 5.0),
    "n_w": 1000,
    "n_b": 1000,
    "n_steps": 200,
    "x0": (-10.0, 10.0),
    # Keep x_{T-2}, x_{T-1}, x_T: the last two compare 2-cycles; x_{T-2} gives the last 2-step move.
    "n_keep": 3,
    "tol": 1e-6,  # runs end apart if their final pairs differ by more than tol ...
    "lag_factor": 4.0,  # ... and by more than lag_factor times the last two-step move of either run
}
QUICK = {**PAPER, "n_w": 250, "n_b": 250}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "phase_diagram"
CUSP = (4.0, -2.0)


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def fold_curves(w_max: float, n: int = 400):
    """Analytic saddle-node folds of x = w*sigma(x) + b (logistic) for 4 <= w <= w_max.

    At a fold w*sigma'(x*) = 1, so x* = +-logit((1 + sqrt(1 - 4/w))/2) and b = x* - w*sigma(x*).
    Returns (w, b_upper, b_lower): b_upper (x* < 0) is where the low attractor appears as b
    decreases, b_lower (x* > 0) where the high one disappears. Samples cluster near the cusp.
    """
    w = CUSP[0] + (w_max - CUSP[0]) * np.linspace(0.0, 1.0, n) ** 2
    s = np.sqrt(1.0 - CUSP[0] / w)
    x_star = np.log1p(s) - np.log1p(-s)  # logit((1 + s)/2)
    sig = 1.0 / (1.0 + np.exp(-x_star))
    b_lower = x_star - w * sig
    b_upper = -x_star - w * (1.0 - sig)
    return w, b_upper, b_lower


def flip_curves(w_min: float, n: int = 400):
    """Analytic flip (period-doubling) curves for w_min <= w <= -4, where w*sigma'(x*) = -1.

    x* = +-logit((1 + sqrt(1 + 4/w))/2), b = x* - w*sigma(x*); between the two curves the fixed
    point is unstable and a period-2 orbit attracts. Returns (w, b_upper, b_lower).
    """
    w = -CUSP[0] - (abs(w_min) - CUSP[0]) * np.linspace(0.0, 1.0, n) ** 2
    s = np.sqrt(1.0 + CUSP[0] / w)
    x_star = np.log1p(s) - np.log1p(-s)
    sig = 1.0 / (1.0 + np.exp(-x_star))
    b_upper = x_star - w * sig
    b_lower = -x_star - w * (1.0 - sig)
    return w, b_upper, b_lower


def compute(p: dict, backend: str = "cpu") -> dict:
    """Run the grid from both starts; return the plotted arrays."""
    import dynrnn

    w = np.linspace(*p["w_range"], p["n_w"])
    b = np.linspace(*p["b_range"], p["n_b"])
    W, B = np.meshgrid(w, b)  # rows: b, columns: w
    last = {}
    for x0 in p["x0"]:
        res = dynrnn.iterate_grid(
            W.ravel(),
            B.ravel(),
            x0,
            n_steps=p["n_steps"],
            activation=p["activation"],
            form=p["form"],
            n_keep=p["n_keep"],
            backend=backend,
        )
        if np.any(res.diverged):
            raise RuntimeError(f"{int(res.diverged.sum())} runs from x0={x0} diverged")
        last[x0] = res.x[:, -3:, 0].reshape(p["n_b"], p["n_w"], 3)  # x_{T-2}, x_{T-1}, x_T
    lo, hi = last[min(p["x0"])], last[max(p["x0"])]
    in_phase = np.maximum(np.abs(hi[..., 2] - lo[..., 2]), np.abs(hi[..., 1] - lo[..., 1]))
    out_of_phase = np.maximum(np.abs(hi[..., 2] - lo[..., 1]), np.abs(hi[..., 1] - lo[..., 2]))
    gap = np.minimum(in_phase, out_of_phase)  # distance between the sets {x_{T-1}, x_T}
    move = np.maximum(np.abs(hi[..., 2] - hi[..., 0]), np.abs(lo[..., 2] - lo[..., 0]))
    fw, fb_up, fb_lo = fold_curves(p["w_range"][1])
    pw, pb_up, pb_lo = flip_curves(p["w_range"][0])
    return {
        "w": w,
        "b": b,
        "x_final": hi[..., 2],
        "bistable": (gap > p["tol"]) & (gap > p["lag_factor"] * move),
        "period2": np.abs(hi[..., 2] - hi[..., 1]) > p["tol"],
        "fold_w": fw,
        "fold_b_upper": fb_up,
        "fold_b_lower": fb_lo,
        "flip_w": pw,
        "flip_b_upper": pb_up,
        "flip_b_lower": pb_lo,
        "cusp": np.array(CUSP),
    }


def plot(d: dict, p: dict):
    """Two panels: (a) final state from x0 = +10, (b) bistable region with the analytic folds."""
    import matplotlib.colors as mcolors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cm = _common()
    w, b = d["w"], d["b"]
    dw, db = (w[1] - w[0]) / 2, (b[1] - b[0]) / 2
    extent = (w[0] - dw, w[-1] + dw, b[0] - db, b[-1] + db)
    fig = cm.new_figure(figsize=(8.0, 4.9))
    ax_a, ax_b = fig.subplots(1, 2, sharey=True)

    vmax = float(np.max(np.abs(d["x_final"])))
    im = ax_a.imshow(
        d["x_final"],
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap="RdBu_r",
        norm=mcolors.TwoSlopeNorm(0.0, -vmax, vmax),
    )
    fig.colorbar(im, ax=ax_a, label="final state $x_T$", pad=0.02, fraction=0.06)
    ax_a.set_title(r"(a) final state $x_T$ from $x_0 = +10$")

    regions = np.zeros(d["bistable"].shape, dtype=np.int8)
    regions[d["period2"]] = 1
    regions[d["bistable"]] = 2
    colours = ["white", "0.85", cm.OKABE_ITO["orange"]]
    ax_b.imshow(
        regions,
        origin="lower",
        extent=extent,
        aspect="auto",
        interpolation="nearest",
        cmap=mcolors.ListedColormap(colours),
        vmin=-0.5,
        vmax=2.5,
    )
    ax_b.set_title(r"(b) bistable: runs from $x_0 = \pm 10$ end apart")

    fold_up = dict(color="k", lw=1.4, ls="-")
    fold_lo = dict(color="k", lw=1.6, ls=":")
    flip = dict(color="0.35", lw=1.1, ls="--")
    cusp = dict(marker="*", color="k", mec="white", mew=0.8, ms=13, ls="none")
    for ax in (ax_a, ax_b):
        ax.plot(d["fold_w"], d["fold_b_upper"], **fold_up)
        ax.plot(d["fold_w"], d["fold_b_lower"], **fold_lo)
        ax.plot(d["flip_w"], d["flip_b_upper"], **flip)
        ax.plot(d["flip_w"], d["flip_b_lower"], **flip)
        ax.plot(*d["cusp"], **cusp)
        ax.set_xlabel("recurrent weight $w$")
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
    ax_a.set_ylabel("bias $b$")

    handles = [
        Patch(facecolor=colours[2], label="bistable (two attractors)"),
        Patch(facecolor=colours[1], edgecolor="0.6", label="period 2 at $T$ (from $+10$)"),
        Line2D([], [], **fold_up, label=r"fold $b_1$: low attractor appears"),
        Line2D([], [], **fold_lo, label=r"fold $b_2$: high attractor vanishes"),
        Line2D([], [], **flip, label="flip (period doubling)"),
        Line2D([], [], **cusp, label="cusp $(w, b) = (4, -2)$"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    grid = rf"{p['n_w']}$\times${p['n_b']} $(w, b)$ grid"
    fig.suptitle(
        rf"One logistic unit $x_t = w\,\sigma(x_{{t-1}}) + b$ on a {grid}"
        "\n"
        rf"$T = {p['n_steps']}$ steps from $x_0 = -10$ and from $x_0 = +10$"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
