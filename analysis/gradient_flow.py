"""Gradient flow: how dx_t/dx_k and the temporal contributions of BPTT vanish or explode with the lag (Sec. 2.1).

Pascanu et al. (2013), eqs. (5)-(7): ||dx_t/dx_k||_2 <= (gamma ||W_rec||_2)^(t-k), with gamma = 1 for tanh
and 1/4 for the logistic sigmoid, so ||W_rec||_2 < 1/gamma is sufficient for the long-term terms to vanish
and ||W_rec||_2 > 1/gamma is necessary for them to explode.

(a, b) Input-driven 50-unit networks in the paper form with W_rec = c * (random orthogonal matrix), so that
||W_rec||_2 = c exactly, at c = 0.8/gamma, 1/gamma and 1.25/gamma, started near the origin with small inputs:
the largest ||dx_t/dx_{t-lag}||_2 over all windows of one trajectory (``dynrnn.jacobian_products``), with the
bound (gamma ||W_rec||_2)^lag dashed.  Above 1/gamma the products may grow (tanh, near the origin) but need
not: saturation makes sigma' < gamma, so the condition is necessary, not sufficient.

(c) The temporal contributions of eq. (4) to dE/dW_rec, summed by lag (``dynrnn.bptt``), for a
temporal-order-like batch (one-hot inputs, softmax readout at the last step) of two standard-form tanh
networks: a random one (entries N(0, 0.1^2), the paper's basic tanh init; spectral radius about 0.7) and one
whose W_rec is a random orthogonal matrix (all singular values 1; not trained), an example of the
norm-preserving regime the Omega regularizer pushes towards (Sec. 3.3).

Run alone (``python analysis/gradient_flow.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER = {
    "n_units": 50,
    "n_inputs": 6,
    "n_classes": 4,
    "n_steps": 100,  # (a, b): trajectory length for the Jacobian products
    "gains": (0.8, 1.0, 1.25),  # gamma * ||W_rec||_2
    "input_scale": 0.05,  # (a, b): inputs u_t ~ N(0, input_scale^2), W_in ~ N(0, 1/m)
    "x0_scale": 0.01,  # (a, b): x_0 ~ N(0, x0_scale^2): start near the origin, where tanh is steepest
    "contrib_steps": 200,  # (c): sequence length
    "batch": 20,
    "random_std": 0.1,  # (c): basic tanh init
    "seed": 2013,
}
QUICK = {**PAPER, "n_units": 20, "n_steps": 40, "contrib_steps": 60, "batch": 8}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "quick": QUICK}
STEM = "gradient_flow"
ACTIVATIONS = ("tanh", "logistic")


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _orthogonal(rng, n):
    """A random orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def compute(p: dict, backend: str = "cpu") -> dict:
    """Jacobian-product norms by lag for six networks, and contribution norms by lag for two."""
    import dynrnn

    rng = np.random.default_rng(p["seed"])
    n, m, T = p["n_units"], p["n_inputs"], p["n_steps"]
    out = {"lag": np.arange(T + 1), "gains": np.array(p["gains"])}
    Q = _orthogonal(rng, n)
    W_in = rng.standard_normal((n, m)) / np.sqrt(m)
    inputs = p["input_scale"] * rng.standard_normal((T, m))
    x0 = p["x0_scale"] * rng.standard_normal(n)
    for act in ACTIVATIONS:
        gamma = dynrnn.gamma(act)
        for i, gain in enumerate(p["gains"]):
            net = dynrnn.RNN(gain / gamma * Q, W_in=W_in, activation=act)
            res = dynrnn.jacobian_products(net, x0, inputs=inputs)
            out[f"{act}_{i}_max_log10"] = res.max_log_norm_by_lag / np.log(10)
            out[f"{act}_{i}_bound_log10"] = out["lag"] * np.log10(gain)

    # (c) temporal contributions by lag, temporal-order-like batch
    Tc, B, q = p["contrib_steps"], p["batch"], p["n_classes"]
    symbols = rng.integers(0, m, (Tc, B))
    one_hot = np.zeros((Tc, B, m))
    one_hot[np.arange(Tc)[:, None], np.arange(B)[None, :], symbols] = 1.0
    labels = rng.integers(0, q, B)
    W_in_c = rng.normal(0.0, 0.1, (n, m))
    W_out = rng.normal(0.0, 0.1, (q, n))
    nets = {
        "random": rng.normal(0.0, p["random_std"], (n, n)),
        "orthogonal": _orthogonal(rng, n),
    }
    out["contrib_lag"] = np.arange(Tc)
    for name, W in nets.items():
        net = dynrnn.RNN(W, W_in=W_in_c, activation="tanh", form="standard", W_out=W_out)
        res = dynrnn.bptt(net, None, one_hot, labels, loss="cross_entropy", at="last")
        norms = res.contribution_norms("W_rec")
        # the lag-(T-1) term multiplies s_0 = h_0 = 0 exactly: not drawn
        out[f"{name}_contrib_log10"] = np.where(norms > 0, np.log10(np.where(norms > 0, norms, 1.0)), np.nan)
        out[f"{name}_spectral_norm"] = np.array(np.linalg.norm(W, 2))
        out[f"{name}_spectral_radius"] = np.array(np.max(np.abs(np.linalg.eigvals(W))))
    return out


def plot(d: dict, p: dict):
    """(a) tanh and (b) logistic Jacobian-product norms by lag with the bound; (c) contribution norms by lag."""
    cm = _common()
    oi = cm.OKABE_ITO
    fig = cm.new_figure(figsize=(9.0, 8.4))
    (ax_a, ax_b), (ax_c, ax_key) = fig.subplots(2, 2)
    styles = [
        {"color": oi["blue"], "marker": "o"},
        {"color": oi["black"], "marker": "s"},
        {"color": oi["orange"], "marker": "^"},
    ]
    names = {"tanh": r"tanh, $\gamma = 1$", "logistic": r"logistic, $\gamma = 1/4$"}
    every = max(1, len(d["lag"]) // 10)
    for ax, act, letter in zip((ax_a, ax_b), ACTIVATIONS, "ab", strict=True):
        for i, (gain, style) in enumerate(zip(d["gains"], styles, strict=True)):
            label = rf"$\gamma\|W_{{rec}}\|_2 = {gain:g}$"
            ax.plot(d["lag"], d[f"{act}_{i}_max_log10"], lw=1.8, ms=6, markevery=every, **style,
                    label=label + ": largest norm over $t$")  # fmt: skip
            ax.plot(d["lag"], d[f"{act}_{i}_bound_log10"], color=style["color"], lw=1.2, ls="--",
                    label=label + ": bound $(\\gamma\\|W_{rec}\\|_2)^{lag}$")  # fmt: skip
        ax.set_xlabel(r"lag $t - k$")
        ax.set_ylabel(r"$\log_{10} \max_t \|\partial x_t / \partial x_{t-\mathrm{lag}}\|_2$")
        ax.set_title(f"({letter}) {names[act]}")
        ax.set_xlim(0, d["lag"][-1])
        ax.set_ylim(-12, 8)
        ax.axhline(0.0, color="0.6", lw=0.8)
    handles, labels = ax_a.get_legend_handles_labels()

    for name, style, text in (
        ("random", {"color": oi["blue"], "ls": "-"}, "random, $N(0, 0.1^2)$ entries"),
        ("orthogonal", {"color": oi["vermillion"], "ls": "--"}, "random orthogonal (norm-preserving)"),
    ):
        radius = float(d[f"{name}_spectral_radius"])
        norm = float(d[f"{name}_spectral_norm"])
        ax_c.plot(d["contrib_lag"], d[f"{name}_contrib_log10"], lw=1.8, **style,
                  label=rf"{text}:" "\n" rf"$\rho = {radius:.2f}$, $\|W_{{rec}}\|_2 = {norm:.2f}$")  # fmt: skip
    ax_c.set_xlabel(r"lag $T - k$")
    ax_c.set_ylabel("$\\log_{10} \\|$contribution to\n$\\partial E / \\partial W_{rec}\\|_F$")
    ax_c.set_title("(c) temporal contributions of eq. (4), tanh")
    ax_c.set_xlim(0, d["contrib_lag"][-1])
    ax_c.legend(loc="lower left", fontsize=9.5)
    ax_key.set_axis_off()
    ax_key.legend(handles, labels, loc="center", fontsize=9.5, title="(a), (b)", title_fontsize=10)
    fig.suptitle(
        r"Vanishing and exploding gradients: "
        rf"$\|\partial x_t/\partial x_k\|_2 \leq (\gamma\|W_{{rec}}\|_2)^{{t-k}}$ (eq. 7)"
        "\n"
        rf"n = {p['n_units']}, paper form, T = {p['n_steps']}; (c) batch {p['batch']}, "
        rf"T = {p['contrib_steps']}, softmax at the last step"
    )
    return fig


def main(argv=None) -> list[Path]:
    """Compute, plot and save the figure; return the paths written."""
    return _common().run_figure(argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot)


if __name__ == "__main__":
    for path in main():
        print(path)
