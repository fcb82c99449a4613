"""Fold curves and cusp of one unit x_t = w*sigma(x_{t-1}) + b in the (w, b) plane, logistic and tanh.

For each activation: the two saddle-node fold curves (``dynrnn.single_unit.fold_curve``) that meet at
the cusp (``cusp``: (4, -2) for logistic, (1, 0) for tanh), and for w < 0 the two flip
(period-doubling) curves (``flip_points``). The shading is computed independently of the curves, on a
(w, b) grid: bistable where ``fixed_points`` finds two stable fixed points, period 2 where
``period2_orbits`` finds a stable 2-cycle. Crossing a fold makes an attractor appear or disappear
(Pascanu et al. 2013, Sec. 2.2); Fig. 3 (``bifurcation.py``) is the horizontal cut w = 5 of the
logistic panel.

Run alone (``python analysis/cusp.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activations": ("logistic", "tanh"),
    "w_range": (-10.0, 10.0),
    "b_range": (-10.0, 10.0),
    "n_w": 801,
    "n_b": 801,
    "n_curve": 400,
    "fig3_w": 5.0,  # the cut shown by bifurcation.py
}
QUICK = {**PAPER, "n_w": 161, "n_b": 161, "n_curve": 100}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "cusp"


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def compute(p: dict, backend: str = "cpu") -> dict:
    """Regions on the (w, b) grid, fold and flip curves, cusps; return the plotted arrays.

    ``backend`` is accepted for a uniform signature and unused: the exact solvers run on the CPU.
    """
    import dynrnn

    su = dynrnn.single_unit
    w = np.linspace(*p["w_range"], p["n_w"])
    b = np.linspace(*p["b_range"], p["n_b"])
    W, B = np.meshgrid(w, b)  # rows: b, columns: w
    data = {"w": w, "b": b}
    for act in p["activations"]:
        fp = su.fixed_points(W, B, activation=act)
        cyc = su.period2_orbits(W, B, activation=act)
        if not (fp.converged.all() and cyc.converged.all()):
            raise RuntimeError(f"{act}: a root refinement did not converge")
        region = np.zeros(W.shape, dtype=np.int8)  # 0: one attractor (a stable fixed point)
        region[cyc.stable] = 1  # a stable 2-cycle
        region[fp.bistable] = 2  # two stable fixed points
        c = su.cusp(activation=act)
        folds = su.fold_curve(activation=act, w_max=p["w_range"][1], n=p["n_curve"])
        w_flip = -c.w - (abs(p["w_range"][0]) - c.w) * np.linspace(0.0, 1.0, p["n_curve"]) ** 2
        flips = su.flip_points(w_flip, activation=act)
        data |= {
            f"{act}_region": region,
            f"{act}_fold_w": folds.w,
            f"{act}_fold_b": folds.b,
            f"{act}_flip_w": flips.w,
            f"{act}_flip_b": flips.b,
            f"{act}_cusp": np.array([c.w, c.b]),
            f"{act}_fig3_folds": su.fold_points(p["fig3_w"], activation=act).b,
        }
    return data


def plot(d: dict, p: dict):
    """Two panels (logistic, tanh): shaded regions, fold and flip curves, the cusp."""
    import matplotlib.colors as mcolors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cm = _common()
    w, b = d["w"], d["b"]
    dw, db = (w[1] - w[0]) / 2, (b[1] - b[0]) / 2
    extent = (w[0] - dw, w[-1] + dw, b[0] - db, b[-1] + db)
    colours = ["white", "#bfe1f6", "#f5d899"]  # tints of Okabe-Ito sky blue and orange
    fold = dict(color="k", lw=1.8, ls="-")
    flip = dict(color=cm.OKABE_ITO["blue"], lw=1.5, ls="--")
    cut = dict(color=cm.OKABE_ITO["purple"], lw=2.6, ls="-", solid_capstyle="butt")
    star = dict(marker="*", color=cm.OKABE_ITO["vermillion"], mec="k", mew=0.7, ms=15, ls="none", zorder=6)
    fig = cm.new_figure(figsize=(8.0, 6.2))
    axes = fig.subplots(1, 2)
    for ax, act, tag in zip(axes, p["activations"], "ab", strict=True):
        ax.imshow(
            d[f"{act}_region"],
            origin="lower",
            extent=extent,
            aspect="auto",
            interpolation="nearest",
            cmap=mcolors.ListedColormap(colours),
            vmin=-0.5,
            vmax=2.5,
        )
        for k in range(2):
            ax.plot(d[f"{act}_fold_w"], d[f"{act}_fold_b"][:, k], **fold)
            ax.plot(d[f"{act}_flip_w"], d[f"{act}_flip_b"][:, k], **flip)
        cw, cb = d[f"{act}_cusp"]
        ax.plot(cw, cb, **star)
        ax.annotate(
            f"cusp $({cw:g}, {cb:g})$",
            xy=(cw, cb),
            xytext=(cw - 6.0, cb - 4.0) if act == "logistic" else (cw + 1.0, cb - 6.0),
            fontsize=9.5,
            arrowprops=dict(arrowstyle="-", color="k", lw=0.8),
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.85),
        )
        ax.plot([p["fig3_w"]] * 2, d[f"{act}_fig3_folds"], **cut, zorder=5)
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
        ax.set_xlabel("recurrent weight $w$")
        ax.set_ylabel("bias $b$")
        ax.set_title(f"({tag}) {act} $\\sigma$")
    handles = [
        Patch(facecolor=colours[2], label="bistable:\ntwo stable fixed points"),
        Patch(facecolor=colours[1], label="stable period-2 orbit"),
        Patch(facecolor="white", edgecolor="0.6", label="one stable fixed point"),
        Line2D([], [], **fold, label="fold curve\n($w\\,\\sigma'(x^*) = 1$)"),
        Line2D([], [], **flip, label="flip curve\n($w\\,\\sigma'(x^*) = -1$)"),
        Line2D([], [], **star, label="cusp"),
        Line2D([], [], **cut, label=f"bistable range at\n$w = {p['fig3_w']:g}$ (Fig. 3)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, labelspacing=0.9)
    grid = rf"{p['n_w']}$\times${p['n_b']}"
    fig.suptitle(
        r"Bifurcations of one unit $x_t = w\,\sigma(x_{t-1}) + b$ in the $(w, b)$ plane"
        "\n"
        rf"curves: closed form; shading: exact fixed points and 2-cycles on a {grid} grid",
        fontsize=11,
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
