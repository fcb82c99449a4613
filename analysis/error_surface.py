"""The error surface of one recurrent unit and the wall that throws gradient descent: Fig. 6 of Pascanu et al. (2013).

The model of eq. (8), x_t = w*sigma(x_{t-1}) + b with the logistic sigma, runs 50 steps from x_0 = 0.5 and is
scored by E = (sigma(x_50) - 0.7)^2. Panels (a) and (b) show log10 E over (w, b) near the wall line
b = 0.5 - sigma(0.5) w (x_0 is then the unstable fixed point between two basins, for w > 1/sigma'(0.5) = 4.2553),
with the exact peaks of |dE/db| found by ``dynrnn.error_surface_wall`` and the valley line
b = logit(0.7) - 0.7 w (stable for w < 4.7619); the valley of minima runs along the wall.

Gradient descent (``dynrnn.descend``, learning rate 0.1) starts from (4.5, -2.9), (4.9, -3.1) and (5.2, -3.3),
0.3-0.6 below the wall. (a) Plain descent climbs to the wall, zig-zags along it and, when one step lands on
the wall itself, meets |g| = 122, 427 and 5.4e3 at w = 4.56, 4.85 and 5.13 (updates 30, 53 and 73) and is
thrown 10-500 units away onto the flat plateau (E = 0.09, |g| < 1e-8), where it stays. (b) Clipped descent
(Algorithm 1, threshold 1) makes exactly the same updates up to the wall, meets the same gradient there, takes
a step of 0.1 instead and stays in the valley (E ~ 1e-4 to 1e-2 after 300 updates). (c) The wall in
cross-section: |dE/db| against the distance from its peak, for a few w, with its peak and its width (where
|dE/db| >= 100): 1e-3 at w = 4.5, 2e-4 at w = 5, 1e-6 at w = 6 and 2e-10 at w = 8, so steps of ~0.03 land on it
only by chance, and for w > ~5.5 practically never. The title counts how often that happens from a grid of
473 starts below the wall: 32 runs are thrown on the wall, 60 elsewhere (w < 4.5 or |g| < 100), 381 are not
thrown within 200 updates. (d) The gradient norm met at each update, before clipping, with the throws marked.
The paper gives no starts, learning rate or threshold; ours are in the presets, the title and the .json.

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
    "w_range": (3.5, 6.0),  # the window of panels (a) and (b), around the wall's first stretch
    "b_range": (-4.2, -1.4),
    "n_w": 800,
    "n_b": 800,
    "error_floor": 1e-5,  # log10 E is drawn at this level where E is smaller (on the valley floor)
    "wall_w": (4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0),  # where error_surface_wall marks the exact peak
    "wall_b_range": (-5.0, 0.0),
    "section_w": (4.5, 5.0, 6.0, 7.0, 8.0),  # cross-sections of the wall, panel (c)
    "section_offset": (-16.0, 0.0, 300),  # b - b_peak: 0 and +-logspace(-16, 0, 300)
    "starts": ((4.5, -2.9), (4.9, -3.1), (5.2, -3.3)),  # (w0, b0), 0.3-0.6 below the wall
    "lr": 0.1,
    "threshold": 1.0,  # 2-10 times the gradient norm below the wall (the paper's heuristic: 0.5-10x the mean)
    "n_iter": 300,
    "throw_step": 1.0,  # a throw: an update longer than this (|g| > throw_step / lr)
    "wall_gradient": 100.0,  # "on the wall": |g| >= this, at w >= wall_from_w
    "wall_from_w": 4.5,
    # the census: plain descent from every start of this grid below the wall, counted by where it is thrown
    "census_w": (4.5, 7.0, 26),
    "census_b": (-5.0, -2.0, 31),
    "census_gap": 0.15,  # starts at least this far below the wall line
    "census_iter": 200,
}
QUICK = {
    **PAPER,
    "n_w": 160,
    "n_b": 160,
    "wall_w": (4.5, 5.0, 6.0, 7.0, 8.0),
    "section_offset": (-16.0, 0.0, 60),
    "census_w": (4.5, 7.0, 11),
    "census_b": (-5.0, -2.0, 13),
}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "error_surface"


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


def _throws(res, p: dict) -> dict:
    """The first throw of each run (an update longer than ``throw_step``); -1 and NaN where there is none."""
    long_step = res.step_length > p["throw_step"]  # (n_iter, S)
    thrown = long_step.any(axis=0)
    k = np.where(thrown, np.argmax(long_step, axis=0), -1)
    cols = np.arange(res.w.shape[1])
    kk = np.maximum(k, 0)

    def pick(a, shift=0):
        return np.where(thrown, a[kk + shift, cols], np.nan)

    return {
        "k": k,
        "w": pick(res.w),
        "b": pick(res.b),
        "grad_norm": pick(res.grad_norm),
        "to_w": pick(res.w, 1),
        "to_b": pick(res.b, 1),
        "E_final": res.E[-1],
    }


def compute(p: dict, backend: str = "cpu") -> dict:
    """The surface on a grid, its landmarks, the descent trajectories and the census; return the plotted arrays."""
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
    wall = dynrnn.error_surface_wall(p["wall_w"], p["wall_b_range"], backend=backend, **model)
    mag = np.logspace(*p["section_offset"])
    offset = np.concatenate([-mag[::-1], [0.0], mag])
    section_b = np.array([wall.b[list(p["wall_w"]).index(ws)] for ws in p["section_w"]])
    sections = dynrnn.error_surface(
        np.array(p["section_w"])[:, None], section_b[:, None] + offset, backend=backend, **model
    )
    section_grad = np.abs(sections.dE_db)
    # how thick the wall is: the b-interval where |dE/db| >= wall_gradient (0 where the sampled peak is lower)
    steep = section_grad >= p["wall_gradient"]
    big = np.where(steep, offset, np.nan)
    section_width = np.where(
        steep.any(axis=1), np.nanmax(big, axis=1, initial=-np.inf) - np.nanmin(big, axis=1, initial=np.inf), 0.0
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
        if name == "plain":
            runs.update({f"throw_{key}": value for key, value in _throws(res, p).items()})
        else:
            runs["clip_E_final"] = res.E[-1]

    # the census: how often plain descent from a grid of starts below the wall is thrown on the wall
    cw, cb = np.meshgrid(np.linspace(*p["census_w"]), np.linspace(*p["census_b"]))
    below = cb <= p["x0"] - s0 * cw - p["census_gap"]
    census = dynrnn.descend(cw[below], cb[below], lr=p["lr"], n_iter=p["census_iter"], backend=backend, **model)
    thrown = _throws(census, p)
    on_wall = (thrown["k"] >= 0) & (thrown["w"] >= p["wall_from_w"]) & (thrown["grad_norm"] >= p["wall_gradient"])
    census_counts = np.array(
        [below.sum(), on_wall.sum(), ((thrown["k"] >= 0) & ~on_wall).sum(), (thrown["k"] < 0).sum()]
    )
    return {
        "w": w,
        "b": b,
        "log10_E": np.log10(np.maximum(surface.E, p["error_floor"])),
        "section_w": np.array(p["section_w"]),
        "section_offset": offset,
        "section_grad": section_grad,
        "section_width": section_width,
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
        # census: starts, thrown on the wall (w >= wall_from_w, |g| >= wall_gradient), thrown elsewhere, never thrown
        "census_counts": census_counts,
        "census_throw_w": thrown["w"],
        "census_throw_grad_norm": thrown["grad_norm"],
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


def _draw_map(ax, d, extent, landmarks, cmap):
    """log10 E over the window with the wall and valley lines and the exact wall peaks; return the image."""
    im = ax.imshow(d["log10_E"], origin="lower", extent=extent, aspect="auto", cmap=cmap)
    ax.plot(d["valley_w"], d["valley_b"], **landmarks["valley"])
    ax.plot(d["wall_line_w"], d["wall_line_b"], **landmarks["wall"])
    inside = (d["wall_w"] <= extent[1]) & (d["wall_b"] >= extent[2])
    ax.plot(d["wall_w"][inside], d["wall_b"][inside], **landmarks["peaks"])
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("recurrent weight $w$")
    ax.set_ylabel("bias $b$")
    return im


def _draw_runs(ax, d, extent, name, ls, colours, markers):
    """Trajectories of one kind (plain or clipped) with their starts, and an arrow where a run leaves the window."""
    for i, (colour, marker) in enumerate(zip(colours, markers, strict=False)):
        rw, rb = d[f"{name}_w"][i], d[f"{name}_b"][i]
        ax.plot(rw, rb, color=colour, lw=1.5, ls=ls, zorder=4)
        ax.plot(*d["starts"][i], marker, color=colour, mec="k", mew=0.9, ms=9, zorder=6)
        outside = (rw < extent[0]) | (rw > extent[1]) | (rb < extent[2]) | (rb > extent[3])
        if not outside.any():
            continue
        k = int(np.argmax(outside))  # first iterate outside the window, reached by update k - 1
        ax.plot(rw[k - 1], rb[k - 1], marker, color=colour, mec="k", mew=0.9, ms=7, zorder=6)
        exit_w, exit_b = _exit_point(rw[k - 1], rb[k - 1], rw[k], rb[k], extent)
        ax.annotate(
            "",
            xy=(exit_w, exit_b),
            xytext=(rw[k - 1], rb[k - 1]),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2.0, "mutation_scale": 18, "shrinkA": 4},
            zorder=5,
        )


def plot(d: dict, p: dict):
    """(a) plain and (b) clipped descent over log10 E, (c) cross-sections of the wall, (d) |g| per update."""
    import matplotlib
    import matplotlib.colors as mcolors
    from matplotlib.lines import Line2D

    cm = _common()
    oi = cm.OKABE_ITO
    colours = (oi["orange"], oi["sky_blue"], oi["purple"])
    markers = ("o", "s", "^")
    n_runs = len(d["starts"])
    w, b = d["w"], d["b"]
    dw, db = (w[1] - w[0]) / 2, (b[1] - b[0]) / 2
    extent = (w[0] - dw, w[-1] + dw, b[0] - db, b[-1] + db)
    grey = mcolors.ListedColormap(matplotlib.colormaps["Greys_r"](np.linspace(0.05, 0.85, 256)), name="grey")
    fig = cm.new_figure(figsize=(8.4, 9.4))
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    landmarks = {
        "wall": {"color": "k", "lw": 1.6, "ls": (0, (1, 1.2))},
        "valley": {"color": "w", "lw": 1.6, "ls": (0, (5, 2))},
        "peaks": {"marker": "x", "color": "k", "ms": 8, "mew": 2.0, "ls": "none"},
    }
    solid, dashed = "-", (0, (4, 1.5))
    im = _draw_map(ax_a, d, extent, landmarks, grey)
    _draw_map(ax_b, d, extent, landmarks, grey)
    fig.colorbar(im, ax=[ax_a, ax_b], label=r"$\log_{10} E$", pad=0.02, fraction=0.05)
    _draw_runs(ax_a, d, extent, "plain", solid, colours, markers)
    _draw_runs(ax_b, d, extent, "clip", dashed, colours, markers)
    box = {"facecolor": "white", "alpha": 0.9, "edgecolor": "0.6", "pad": 3}
    lines = ["thrown at update $k$ with $|g|$ at $(w, b)$:"]
    for i in range(n_runs):
        lines.append(
            f"{'●■▲'[i]} $k$={d['throw_k'][i]}: {d['throw_grad_norm'][i]:.3g} "
            f"at ({d['throw_w'][i]:.2f}, {d['throw_b'][i]:.2f})"
        )
    ax_a.text(0.03, 0.03, "\n".join(lines), fontsize=9.5, transform=ax_a.transAxes, bbox=box, va="bottom")
    ax_a.set_title(f"(a) plain descent, learning rate {p['lr']:g}")
    ax_b.set_title(f"(b) clipped at {p['threshold']:g}: steps $\\leq$ {p['lr'] * p['threshold']:g}")
    final = ", ".join(f"{e:.1g}" for e in d["clip_E_final"])
    ax_b.text(
        0.03,
        0.03,
        f"the same updates meet the wall,\nare clipped, stay in the valley;\n$E$ after {p['n_iter']} updates:\n{final}",
        fontsize=9.5,
        transform=ax_b.transAxes,
        bbox=box,
        va="bottom",
    )

    label_box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 0.6}
    for j, (ws, grad, width) in enumerate(zip(d["section_w"], d["section_grad"], d["section_width"], strict=True)):
        colour = cm.COLOURS[j % len(cm.COLOURS)]
        ax_c.plot(d["section_offset"], grad, color=colour, ls=cm.LINESTYLES[j % len(cm.LINESTYLES)], lw=1.6)
        ax_c.text(
            0.0,
            grad.max() * 2.5,
            f"$w$ = {ws:g}: {grad.max():.1e}, width {width:.0e}",
            color=colour,
            fontsize=9.5,
            ha="center",
            va="bottom",
            bbox=label_box,
            zorder=5,
        )
    ax_c.set_xscale("symlog", linthresh=10 ** p["section_offset"][0], linscale=0.5)
    ax_c.set_yscale("log")
    ax_c.set_xlim(-1, 1)
    ax_c.set_ylim(1e-3, 1e17)
    ax_c.axhline(p["wall_gradient"], color="0.5", lw=0.9, ls=":")
    ax_c.set_xticks([-1, -1e-4, -1e-8, -1e-12, 0, 1e-12, 1e-8, 1e-4, 1])
    ax_c.set_xticklabels(["$-1$", "", "$-10^{-8}$", "", "0", "", "$10^{-8}$", "", "$1$"])
    ax_c.set_xlabel(r"distance from the wall $b - b_{\mathrm{peak}}(w)$")
    ax_c.set_ylabel(r"$|\partial E/\partial b|$")
    ax_c.set_title(rf"(c) the wall: peak, width where $\geq 10^{{{np.log10(p['wall_gradient']):.0f}}}$")

    it = np.arange(1, d["plain_grad_norm"].shape[1] + 1)
    for i, (colour, marker) in enumerate(zip(colours, markers, strict=False)):
        ax_d.semilogy(it, d["clip_grad_norm"][i], color=colour, lw=0.9, ls=dashed, alpha=0.85)
        ax_d.semilogy(it, d["plain_grad_norm"][i], color=colour, lw=1.8, ls=solid)
        k = d["throw_k"][i]
        if k >= 0:
            ax_d.plot(k + 1, d["throw_grad_norm"][i], marker, color=colour, mec="k", mew=0.9, ms=9, zorder=5)
    ax_d.axhline(p["threshold"], color="0.4", lw=1.0, ls=":")
    ax_d.text(
        it[-1], p["threshold"] * 1.3, f"clipping threshold {p['threshold']:g}", ha="right", va="bottom", fontsize=9.5
    )
    ax_d.set_ylim(1e-3, 1e7)
    ax_d.set_xlim(0, it[-1])
    ax_d.text(
        0.97,
        0.97,
        "solid: plain, after the throw $|g| < 10^{-8}$\n(stuck on the plateau $E$ = 0.09);\n"
        "dashed: clipped, the same updates\nup to the throw",
        fontsize=9.5,
        ha="right",
        va="top",
        transform=ax_d.transAxes,
        bbox=box,
    )
    ax_d.set_xlabel("update $k$")
    ax_d.set_ylabel(r"gradient norm $|g|$ before clipping")
    ax_d.set_title("(d) the gradient met at each update")

    counts = d["census_counts"]
    handles = [
        Line2D([], [], color="0.2", lw=1.8, label="plain gradient descent"),
        Line2D([], [], color="0.2", lw=1.2, ls=dashed, label=f"clipped (Algorithm 1, threshold {p['threshold']:g})"),
        Line2D([], [], marker="o", color="0.6", mec="k", ls="none", ms=8, label="start $(w_0, b_0)$; throw in (d)"),
        Line2D([], [], **landmarks["wall"], label=r"wall line $b = 0.5 - \sigma(0.5)\,w$, $w > 4.2553$"),
        Line2D([], [], **landmarks["peaks"], label=r"exact peak of $|\partial E/\partial b|$"),
        Line2D(
            [], [], **{**landmarks["valley"], "color": "0.6"}, label=r"valley line $b = \mathrm{logit}(0.7) - 0.7\,w$"
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=9.5)
    fig.suptitle(
        rf"Fig. 6: $x_t = w\,\sigma(x_{{t-1}}) + b$, $x_0 = {p['x0']:g}$, {p['n_steps']} steps, "
        rf"$E = (\sigma(x_{{{p['n_steps']}}}) - {p['target']:g})^2$; learning rate {p['lr']:g}"
        "\n"
        rf"plain runs from {counts[0]} starts below the wall: {counts[1]} thrown on the wall "
        rf"($w \geq {p['wall_from_w']:g}$, $|g| \geq {p['wall_gradient']:g}$),"
        "\n"
        rf"{counts[2]} thrown elsewhere, {counts[3]} not thrown in {p['census_iter']} updates "
        rf"(thrown: a step longer than {p['throw_step']:g})",
        fontsize=11,
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
