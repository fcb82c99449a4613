"""Sensitivity to the initial state across a basin boundary: Figs. 4-5 of Pascanu et al. (2013), made quantitative.

The bistable logistic unit x_t = 5*sigma(x_{t-1}) - 2.5 (the Fig. 3 map at b = -2.5) has two attractors at
+-1.77603 and, between them, the unstable fixed point x* = 0 (multiplier 5 sigma'(0) = 1.25): the basin
boundary. ``dynrnn.sensitivity`` iterates starts x_0 and x_0 + delta (delta = 1e-8) side by side and returns
Delta x_t = |x_t(x_0 + delta) - x_t(x_0)|. (a) log10 Delta x_t over x_0 - x* (symmetric log axis) and t:
only starts with x_0 < x* < x_0 + delta (the band left of x* narrower than delta) end on different attractors,
Delta x_t -> 3.55; every other pair reaches the same attractor, after a transient growth by 1.25 per step
that lasts longer the closer x_0 is to x*. (b) Delta x_t for a few x_0, with delta * 1.25^t (the linearised
growth at x*) and the distance between the attractors.

Run alone (``python analysis/sensitivity.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activation": "logistic",
    "w": 5.0,
    "b": -2.5,
    "delta": 1e-8,
    "n_steps": 160,
    "log10_distance": (-12.0, 0.0),  # |x_0 - x*| from 1e-12 to 1, on each side of x*
    "n_per_side": 400,
    "curves": (-0.5, 0.5, 3.0, 1e4, 5e7),  # panel (b): x_0 - x* in units of delta
    "floor": 1e-17,  # Delta x_t = 0 (the orbits meet exactly) is drawn at this level
}
QUICK = {**PAPER, "n_per_side": 60}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "sensitivity"


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def compute(p: dict, backend: str = "cpu") -> dict:
    """Delta x_t over a symmetric-log scan of x_0 around x*, and for a few x_0; return the plotted arrays."""
    import dynrnn

    fp = dynrnn.single_unit.fixed_points(p["w"], p["b"], activation=p["activation"])
    x_star = float(fp.x[~fp.stable & ~np.isnan(fp.x)][0])  # the unstable middle fixed point
    multiplier = float(fp.multipliers[~fp.stable & ~np.isnan(fp.x)][0])
    attractors = fp.x[fp.stable]
    net = dynrnn.RNN([[p["w"]]], b=[p["b"]], activation=p["activation"])
    mag = np.logspace(*p["log10_distance"], p["n_per_side"])
    offset = np.concatenate([-mag[::-1], mag])  # x_0 - x*
    scan = dynrnn.sensitivity(net, x_star + offset, delta=p["delta"], n_steps=p["n_steps"], backend=backend)
    curves_offset = np.array(p["curves"]) * p["delta"]
    curves = dynrnn.sensitivity(net, x_star + curves_offset, delta=p["delta"], n_steps=p["n_steps"], backend=backend)
    t = np.arange(p["n_steps"] + 1)
    return {
        "offset": offset,
        "t": t,
        "distance": np.asarray(scan.distance),
        "curves_offset": curves_offset,
        "curves_distance": np.asarray(curves.distance),
        "linear_growth": p["delta"] * multiplier**t,
        "x_star": np.array(x_star),
        "multiplier": np.array(multiplier),
        "attractor_gap": np.array(attractors.max() - attractors.min()),
    }


def _offset_label(k: float) -> str:
    """Legend text for x_0 - x* = k delta, with powers of ten for large k."""
    if abs(k) < 100:
        text = rf"{k:+g}\,\delta"
    else:
        e = int(np.floor(np.log10(abs(k))))
        m = abs(k) / 10**e
        text = ("+" if k > 0 else "-") + (rf"{m:g}\cdot" if m != 1 else "") + rf"10^{{{e}}}\,\delta"
    suffix = " (straddles $x^*$)" if -1 < k < 0 else ""
    return rf"$x_0 - x^* = {text}$" + suffix


def plot(d: dict, p: dict):
    """(a) heat map of log10 Delta x_t over (x_0 - x*, t); (b) a few curves."""
    from matplotlib.patches import Patch

    cm = _common()
    fig = cm.new_figure(figsize=(8.0, 6.4))
    ax_a, ax_b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1.0]})
    delta, floor = p["delta"], p["floor"]

    log_d = np.log10(np.maximum(d["distance"], floor))
    # cell edges on the symmetric log axis: geometric midpoints within each side, +-1e-12 ... across 0
    off = d["offset"]
    half = off.size // 2
    mag = off[half:]
    inner = np.sqrt(mag[1:] * mag[:-1])
    edges_pos = np.concatenate([[mag[0] / 1.5], inner, [mag[-1] * 1.05]])
    edges = np.concatenate([-edges_pos[::-1], edges_pos[1:]])
    edges[half] = 0.0
    t_edges = np.concatenate([d["t"] - 0.5, [d["t"][-1] + 0.5]])
    mesh = ax_a.pcolormesh(edges, t_edges, log_d.T, cmap="magma", vmin=np.log10(floor), vmax=1.0, shading="flat")
    ax_a.set_xscale("symlog", linthresh=mag[0], linscale=0.4)
    ax_a.set_xlim(edges[0], edges[-1])
    ax_a.set_ylim(t_edges[0], t_edges[-1])
    ticks = [-1.0, -1e-4, -delta, 0.0, delta, 1e-4, 1.0]
    ax_a.set_xticks(ticks, ["$-1$", "$-10^{-4}$", r"$-\delta$", "0", r"$\delta$", "$10^{-4}$", "$1$"])
    ax_a.axvline(-delta, color=cm.OKABE_ITO["sky_blue"], lw=1.2, ls="--")
    fig.colorbar(
        mesh, ax=ax_a, label=rf"$\log_{{10}} \Delta x_t$ (0 drawn as {np.log10(floor):.0f})", pad=0.02, fraction=0.06
    )
    ax_a.set_xlabel(r"initial state $x_0 - x^*$ (symmetric log scale)")
    ax_a.set_ylabel("time step $t$")
    ax_a.set_title(r"(a) $\Delta x_t = |x_t(x_0 + \delta) - x_t(x_0)|$")

    for j, (off_c, dist) in enumerate(zip(d["curves_offset"], d["curves_distance"], strict=True)):
        ax_b.semilogy(d["t"], np.maximum(dist, floor), color=cm.COLOURS[j], ls=cm.LINESTYLES[j], lw=1.7,
                      label=_offset_label(off_c / delta))  # fmt: skip
    ax_b.semilogy(
        d["t"],
        d["linear_growth"],
        color="k",
        ls=":",
        lw=1.3,
        label=rf"$\delta\,\lambda^t$, $\lambda = {float(d['multiplier']):.3g}$",
    )
    ax_b.axhline(float(d["attractor_gap"]), color="0.4", ls="--", lw=1.0, label="distance of the attractors")
    ax_b.set_ylim(floor / 3, 30)
    ax_b.set_xlim(0, d["t"][-1])
    ax_b.set_xlabel("time step $t$")
    ax_b.set_ylabel(r"$\Delta x_t$")
    ax_b.set_title("(b) a few starts $x_0$")
    import matplotlib

    band = Patch(
        facecolor=matplotlib.colormaps["magma"](0.97),
        edgecolor="0.5",
        label="(a) band $-\\delta < x_0 - x^* < 0$: $x_0$ and\n"
        "$x_0 + \\delta$ on either side of $x^*$,\nthe orbits end on different attractors",
    )
    handles, labels = ax_b.get_legend_handles_labels()
    fig.legend([band, *handles], [band.get_label(), *labels], loc="outside lower center", ncol=2)
    fig.suptitle(
        rf"Boundary crossing in $x_t = {p['w']:g}\,\sigma(x_{{t-1}}) {p['b']:+g}$:"
        "\n"
        rf"a change $\delta = 10^{{{int(np.log10(delta))}}}$ of $x_0$ near the unstable fixed point $x^* = 0$"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
