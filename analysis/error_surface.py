"""The error surface of one recurrent unit and the wall that throws gradient descent: Fig. 6 of Pascanu et al. (2013).

The model of eq. (8), x_t = w*sigma(x_{t-1}) + b with the logistic sigma, runs 50 steps from x_0 = 0.5 and is
scored by E = (sigma(x_50) - 0.7)^2. Panels (a) and (b) show log10 E over (w, b) with the wall line
b = 0.5 - sigma(0.5) w (x_0 is then the unstable fixed point between two basins, for w > 1/sigma'(0.5) = 4.2553),
the exact peaks of |dE/db| found by ``dynrnn.error_surface_wall``, and the valley line b = logit(0.7) - 0.7 w
(stable for w < 4.7619); the valley of minima runs along the wall. Gradient descent (``dynrnn.descend``) starts
from the same points below the wall, (a) plain and (b) with the gradient clipped by Algorithm 1: both climb to
the wall and zig-zag along it towards the cusp region, where plain descent meets a gradient norm of ~4-5 and one
step throws it far onto the flat plateau above (E ~ 0.09, out of the window: arrows), while clipped descent, its
steps at most lr * threshold long, stays in the valley and reaches E ~ 1e-3. (c) The wall in cross-section:
|dE/db| against the distance from its peak, for a few w: it grows like (w sigma'(0.5))^50 and narrows as fast,
far below any grid for w > ~6. (d) E along the iterations. The paper gives no starts, learning rate or threshold;
ours are in the presets, the title and the .json.

Run alone (``python analysis/error_surface.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "activation": "logistic",
    "x0": 0.5,
    "n_steps": 50,
    "target": 0.7,
    "w_range": (3.0, 8.0),
    "b_range": (-5.0, 0.0),
    "n_w": 800,
    "n_b": 800,
    "error_floor": 1e-5,  # log10 E is drawn at this level where E is smaller (on the valley floor)
    "wall_w": (4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0),  # where error_surface_wall marks the exact peak
    "section_w": (4.5, 5.0, 6.0, 7.0, 8.0),  # cross-sections of the wall, panel (c)
    "section_offset": (-16.0, 0.0, 300),  # b - b_peak: 0 and +-logspace(-16, 0, 300)
    "starts": ((4.5, -4.0), (6.5, -4.0), (7.5, -4.0)),  # (w0, b0), below the wall
    "lr": 2.0,
    "threshold": 0.1,  # 1-3 times the gradient norm below the wall (the paper's heuristic: 0.5-10x the mean)
    "n_iter": 150,
}
QUICK = {**PAPER, "n_w": 160, "n_b": 160, "wall_w": (4.5, 5.0, 6.0, 7.0, 8.0), "section_offset": (-16.0, 0.0, 60)}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "error_surface"
COLOURS = ("#e41a1c", "#ff7f00", "#984ea3")


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


def compute(p: dict, backend: str = "cpu") -> dict:
    """The surface on a grid, its landmarks and the descent trajectories; return the plotted arrays."""
    import dynrnn

    model = {"x0": p["x0"], "n_steps": p["n_steps"], "target": p["target"], "activation": p["activation"]}
    w = np.linspace(*p["w_range"], p["n_w"])
    b = np.linspace(*p["b_range"], p["n_b"])
    W, B = np.meshgrid(w, b)  # rows: b, columns: w
    surface = dynrnn.error_surface(W, B, backend=backend, **model)
    if surface.n_diverged:
        raise RuntimeError(f"{surface.n_diverged} grid points overflowed")

    s0 = float(_logistic(p["x0"]))
    w_unstable = 1.0 / (s0 * (1.0 - s0))  # w sigma'(x0) = 1
    wall_line_w = np.linspace(w_unstable, p["w_range"][1], 200)
    x_star = np.log(p["target"] / (1.0 - p["target"]))  # logit(target): sigma(x*) = target
    w_stable = 1.0 / (p["target"] * (1.0 - p["target"]))  # w sigma'(x*) = 1
    valley_w = np.linspace(p["w_range"][0], w_stable, 200)
    wall = dynrnn.error_surface_wall(p["wall_w"], p["b_range"], backend=backend, **model)
    mag = np.logspace(*p["section_offset"])
    offset = np.concatenate([-mag[::-1], [0.0], mag])
    section_b = np.array([wall.b[list(p["wall_w"]).index(ws)] for ws in p["section_w"]])
    sections = dynrnn.error_surface(
        np.array(p["section_w"])[:, None], section_b[:, None] + offset, backend=backend, **model
    )

    w0, b0 = np.array(p["starts"], dtype=float).T
    runs = {}
    for name, threshold in (("plain", None), ("clip", p["threshold"])):
        res = dynrnn.descend(w0, b0, lr=p["lr"], n_iter=p["n_iter"], threshold=threshold, backend=backend, **model)
        if res.n_diverged:
            raise RuntimeError(f"{res.n_diverged} {name} descent runs diverged")
        runs.update(
            {
                f"{name}_w": res.w.T,
                f"{name}_b": res.b.T,
                f"{name}_E": res.E.T,
                f"{name}_grad_norm": res.grad_norm.T,
                f"{name}_clipped": res.clipped.T,
            }
        )
    return {
        "w": w,
        "b": b,
        "log10_E": np.log10(np.maximum(surface.E, p["error_floor"])),
        "section_w": np.array(p["section_w"]),
        "section_offset": offset,
        "section_grad": np.abs(sections.dE_db),
        "wall_line_w": wall_line_w,
        "wall_line_b": p["x0"] - s0 * wall_line_w,
        "valley_w": valley_w,
        "valley_b": x_star - p["target"] * valley_w,
        "wall_w": np.asarray(wall.w),
        "wall_b": np.asarray(wall.b),
        "wall_peak": np.asarray(wall.peak),
        "starts": np.array(p["starts"], dtype=float),
        "iteration": np.arange(p["n_iter"] + 1),
        **runs,
    }


def _exit_point(w0, b0, w1, b1, extent):
    """Where the segment from an inside point (w0, b0) to an outside one (w1, b1) crosses the window edge."""
    t = 1.0
    for start, end, lo, hi in ((w0, w1, extent[0], extent[1]), (b0, b1, extent[2], extent[3])):
        if end > hi:
            t = min(t, (hi - start) / (end - start))
        elif end < lo:
            t = min(t, (lo - start) / (end - start))
    return w0 + t * (w1 - w0), b0 + t * (b1 - b0)


def _draw_map(fig, ax, d, extent, landmarks):
    """log10 E over the window with the wall and valley lines and the exact wall peaks; return the image."""
    im = ax.imshow(
        d["log10_E"], origin="lower", extent=extent, aspect="auto", cmap="viridis", vmin=float(d["log10_E"].min())
    )
    ax.plot(d["valley_w"], d["valley_b"], **landmarks["valley"])
    ax.plot(d["wall_line_w"], d["wall_line_b"], **landmarks["wall"])
    ax.plot(d["wall_w"], d["wall_b"], **landmarks["peaks"])
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("recurrent weight $w$")
    ax.set_ylabel("bias $b$")
    return im


def _draw_runs(ax, d, extent, name, ls):
    """Trajectories of one kind (plain or clipped), start points, and arrows where runs leave the window.

    Returns one line of text per run that leaves the window.
    """
    notes = []
    for i, colour in enumerate(COLOURS[: len(d["starts"])]):
        rw, rb = d[f"{name}_w"][i], d[f"{name}_b"][i]
        ax.plot(rw, rb, color=colour, lw=1.2, ls=ls)
        ax.plot(*d["starts"][i], "o", color=colour, mec="k", mew=0.8, ms=7, zorder=5)
        outside = (rw < extent[0]) | (rw > extent[1]) | (rb < extent[2]) | (rb > extent[3])
        if not outside.any():
            continue
        k = int(np.argmax(outside))  # first iterate outside the window, reached by update k - 1
        exit_w, exit_b = _exit_point(rw[k - 1], rb[k - 1], rw[k], rb[k], extent)
        ax.annotate(
            "",
            xy=(exit_w, exit_b),
            xytext=(rw[k - 1] + 0.85 * (exit_w - rw[k - 1]), rb[k - 1] + 0.85 * (exit_b - rb[k - 1])),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.2, "mutation_scale": 15},
        )
        norm = d[f"{name}_grad_norm"][i, k - 1]
        notes.append((colour, f"update {k - 1}: gradient norm {norm:.2g}, thrown to ({rw[k]:.1f}, {rb[k]:.1f})"))
    return notes


def plot(d: dict, p: dict):
    """(a) plain and (b) clipped descent over log10 E, (c) cross-sections of the wall, (d) E per iteration."""
    import matplotlib
    from matplotlib.lines import Line2D

    cm = _common()
    w, b = d["w"], d["b"]
    dw, db = (w[1] - w[0]) / 2, (b[1] - b[0]) / 2
    extent = (w[0] - dw, w[-1] + dw, b[0] - db, b[-1] + db)
    fig = cm.new_figure(figsize=(10.0, 8.8))
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    landmarks = {
        "wall": {"color": "w", "lw": 1.4, "ls": (0, (1, 1.3))},
        "valley": {"color": "#00bfff", "lw": 1.5, "ls": (0, (5, 2))},
        "peaks": {"marker": "x", "color": "w", "ms": 7, "mew": 1.8, "ls": "none"},
    }
    solid, dashed = "-", (0, (3, 1.5))
    im = _draw_map(fig, ax_a, d, extent, landmarks)
    _draw_map(fig, ax_b, d, extent, landmarks)
    fig.colorbar(im, ax=[ax_a, ax_b], label=r"$\log_{10} E$", pad=0.02, fraction=0.05)
    notes = _draw_runs(ax_a, d, extent, "plain", solid)
    _draw_runs(ax_b, d, extent, "clip", dashed)
    box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5}
    for j, (colour, text) in enumerate(reversed(notes)):
        ax_a.text(0.02, 0.025 + 0.065 * j, text, color=colour, fontsize=8.5, transform=ax_a.transAxes, bbox=box)
    ax_a.set_title("(a) plain gradient descent")
    ax_b.set_title(f"(b) clipped: steps $\\leq$ lr $\\times$ threshold = {p['lr'] * p['threshold']:g}")
    final = ", ".join(f"{e:.0e}" for e in d["clip_E"][:, -1])
    ax_b.text(
        0.02, 0.025, f"all runs stay in the valley; final E: {final}", fontsize=8.5, transform=ax_b.transAxes, bbox=box
    )

    section_colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.85, len(d["section_w"])))
    for ws, grad, colour in zip(d["section_w"], d["section_grad"], section_colours, strict=True):
        ax_c.plot(d["section_offset"], grad, color=colour, lw=1.5, label=f"$w = {ws:g}$: peak {grad.max():.1e}")
    ax_c.set_xscale("symlog", linthresh=10 ** p["section_offset"][0], linscale=0.5)
    ax_c.set_yscale("log")
    ax_c.set_xlim(-1, 1)
    ax_c.set_xticks([-1, -1e-4, -1e-8, -1e-12, 0, 1e-12, 1e-8, 1e-4, 1])
    ax_c.set_xticklabels(["$-1$", "", "$-10^{-8}$", "", "0", "", "$10^{-8}$", "", "$1$"])
    ax_c.set_xlabel(r"distance from the wall $b - b_{\mathrm{peak}}(w)$")
    ax_c.set_ylabel(r"$|\partial E/\partial b|$")
    ax_c.set_title("(c) the wall in cross-section")
    ax_c.legend(loc="upper left", fontsize=8.5, handlelength=1.2)

    it = d["iteration"]
    for i, colour in enumerate(COLOURS[: len(d["starts"])]):
        ax_d.semilogy(it, d["plain_E"][i], color=colour, lw=1.3, ls=solid)
        ax_d.semilogy(it, d["clip_E"][i], color=colour, lw=1.0, ls=dashed)
    ax_d.set_xlim(0, it[-1])
    ax_d.text(
        it[-1] - 2,
        0.115,
        "plain runs, thrown:\nstuck on the plateau\n(E = 0.09, |g| ~ 1e-6)",
        fontsize=8.5,
        ha="right",
        va="bottom",
    )
    ax_d.set_xlabel("iteration $k$")
    ax_d.set_ylabel("error $E$")
    ax_d.set_title("(d) error along the descent")

    handles = [
        Line2D([], [], color="0.2", lw=1.5, label="plain gradient descent"),
        Line2D([], [], color="0.2", lw=1.5, ls=dashed, label=f"clipped (Algorithm 1, threshold {p['threshold']:g})"),
        Line2D([], [], marker="o", color="0.6", mec="k", ls="none", label="start $(w_0, b_0)$"),
        Line2D(
            [], [], **{**landmarks["wall"], "color": "0.3"}, label=r"wall line $b = 0.5 - \sigma(0.5)\,w$, $w > 4.2553$"
        ),
        Line2D([], [], **{**landmarks["peaks"], "color": "0.3"}, label=r"exact peak of $|\partial E/\partial b|$"),
        Line2D([], [], **landmarks["valley"], label=r"valley line $b = \mathrm{logit}(0.7) - 0.7\,w$, $w < 4.7619$"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    fig.suptitle(
        rf"Fig. 6: $x_t = w\,\sigma(x_{{t-1}}) + b$, $x_0 = {p['x0']:g}$, {p['n_steps']} steps, "
        rf"$E = (\sigma(x_{{{p['n_steps']}}}) - {p['target']:g})^2$"
        "\n"
        rf"gradient descent from the same starts: learning rate {p['lr']:g}, {p['n_iter']} iterations, "
        rf"threshold {p['threshold']:g}"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
