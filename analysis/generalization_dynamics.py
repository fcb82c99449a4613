"""Why the generalization models generalize (or not): their attractors under the distractor input.

Pascanu et al. (2013), Sec. 4.1 (paper.md Sec. 4.2, "variable-length model") read the model's 0 errors
up to length 5000 as evidence that its memory lives in attractors, not in transients.  This script
tests that reading on each model trained by ``analysis/generalization.py`` (the same preset, the
same saved models: it loads them, or trains them as that script does), with dynrnn's own tools:

1. the fixed points of the autonomous map under the distractor input, ``h -> tanh(W_rec h + W_in u_d
   + b)`` with ``u_d`` the mean distractor (a quarter on each of the four distractor channels, what
   the network receives on average between the two symbols), found by `dynrnn.fixed_points`, and
   their classes (stable, saddle, unstable);
2. whether the four classes (AA, BA, AB, BB) end on distinct attractors: ``n_per_class`` test
   sequences of ``long_length`` steps per class, their final states clustered by class (the spread
   within a class against the distance between classes), and the state right after the second
   symbol iterated under the mean distractor map for ``long_length`` steps: which stable fixed point
   (or other attractor) each class reaches;
3. how the state moves after the second symbol: the distance of ``h_t`` to the centroid of its
   class's final states against the steps since the second symbol (median over the sequences, up
   to ``0.4 long_length`` steps, which every sequence runs after its second symbol);
4. the Lyapunov spectrum (`dynrnn.lyapunov_spectrum`) along one ``long_length``-step test sequence.

A seed whose error is above chance (75 %) answers systematically wrong: its classes end on
attractors that the readout labels as another class.  The per-seed table (``<stem>_table.md``)
states for each seed: the training outcome, the test error at ``long_length``, the fixed points by
class, the attractors the four classes reach, and the largest Lyapunov exponent.

Presets follow ``analysis/generalization.py`` (``quick``, ``medium``, ``paper``): the models of that
preset, analysed on 5000-step sequences.  Run after (or instead of) ``generalization``:
``dynrnn figures --preset medium generalization_dynamics``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CLASS_NAMES = ("AA", "BA", "AB", "BB")  # target v0 + 2 v1 (dynrnn.tasks.temporal_order)
DISTRACTOR = np.array([0.0, 0.0, 0.25, 0.25, 0.25, 0.25])  # the mean of the four distractor one-hots
ANALYSIS = {
    "long_length": 5000,  # steps of the test sequences analysed
    "n_per_class": 16,  # sequences per class
    "n_starts": 400,  # Newton starts of dynrnn.fixed_points
    "analysis_seed": 2013,  # seeds the analysed sequences and the Newton starts
    "attractor_tol": 1e-3,  # a state this close (max-norm) to a stable fixed point has reached it
}
STEM = "generalization_dynamics"


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _generalization():
    _common()
    import generalization

    return generalization


def presets() -> dict:
    """The generalization presets with this script's analysis settings added."""
    return {name: {**p, **ANALYSIS} for name, p in _generalization().PRESETS.items()}


def distractor_map(net):
    """The autonomous RNN under the constant mean distractor input: ``W_rec``, bias ``b + W_in u_d``."""
    import dynrnn

    drive = np.asarray(net.W_in) @ DISTRACTOR.astype(net.dtype)
    return dynrnn.RNN(W_rec=net.W_rec, b=np.asarray(net.b) + drive, activation=net.activation, form=net.form)


def class_sequences(length: int, n_per_class: int, rng):
    """``n_per_class`` temporal-order sequences of each class: inputs (4, N, L, 6), second-symbol steps (4, N)."""
    import dynrnn

    inputs = np.zeros((4, n_per_class, length, 6))
    second = np.zeros((4, n_per_class), dtype=int)
    count = np.zeros(4, dtype=int)
    while count.min() < n_per_class:
        batch = dynrnn.tasks.temporal_order(64, length, rng=rng)
        x = np.asarray(batch.inputs)
        for b, c in enumerate(np.asarray(batch.targets)):
            if count[c] < n_per_class:
                inputs[c, count[c]] = x[:, b]
                second[c, count[c]] = int(np.flatnonzero(x[:, b, :2].any(axis=1))[-1])
                count[c] += 1
    return inputs, second


def separation(states):
    """Spread of each class's states about its centroid (4,), and the least distance between two centroids."""
    centroid = states.mean(axis=1)
    spread = np.max(np.linalg.norm(states - centroid[:, None], axis=2), axis=1)
    between = np.linalg.norm(centroid[:, None] - centroid[None], axis=2)
    return spread, float(np.min(between[~np.eye(len(states), dtype=bool)]))


def analyse_seed(net, p: dict, rng) -> dict:
    """Fixed points, class endpoints, motion after the second symbol and Lyapunov spectrum of one model."""
    import dynrnn

    L, N = int(p["long_length"]), int(p["n_per_class"])
    n = net.W_rec.shape[0]
    fmap = distractor_map(net)
    fp = dynrnn.fixed_points(fmap, n_starts=int(p["n_starts"]), rng=rng)
    classes = np.asarray(fp.classes)
    stable_x = fp.x[fp.stable]

    inputs, second = class_sequences(L, N, rng)
    final = np.zeros((4, N, n))
    lag = L - int(0.6 * L)  # steps every sequence runs after its second symbol (p1 < 0.6 L)
    after = np.zeros((4, N, lag, n))
    autonomous_end = np.zeros((4, N, n))
    reached = np.full((4, N), -2)  # index of the stable fixed point reached by the mean-distractor map; -1: none
    predicted = np.zeros((4, N), dtype=int)
    for c in range(4):
        for i in range(N):
            traj = dynrnn.iterate(net, np.zeros(n), inputs[c, i])  # (L + 1, n): x_0 .. x_L
            final[c, i] = traj[-1]
            predicted[c, i] = int(np.argmax(np.asarray(net.W_out) @ traj[-1] + np.asarray(net.b_out)))
            after[c, i] = traj[second[c, i] + 1 : second[c, i] + 1 + lag]  # from the step of the second symbol
            end = dynrnn.iterate(fmap, traj[second[c, i] + 1], n_steps=L)[-1]  # autonomous after the symbol
            autonomous_end[c, i] = end
            near = np.max(np.abs(stable_x - end), axis=1) <= p["attractor_tol"] if len(stable_x) else np.array([])
            reached[c, i] = int(np.flatnonzero(near)[0]) if near.any() else -1
    # distance of each state after the second symbol to where its class ends (the centroid of its final states)
    dist = np.linalg.norm(after - final.mean(axis=1)[:, None, None, :], axis=3)  # (4, N, lag)
    spread, min_between = separation(final)
    auto_spread, auto_between = separation(autonomous_end)
    one = inputs[0, 0]
    lyap = dynrnn.lyapunov_spectrum(net, np.zeros(n), one)
    return {
        "fixed_point_classes": classes,
        "n_stable": int(np.sum(fp.stable)),
        "n_saddle": int(np.sum(classes == "saddle")),
        "n_other": int(len(classes) - np.sum(fp.stable) - np.sum(classes == "saddle")),
        "spread": spread,
        "min_between": float(min_between),
        "distinct": bool(min_between > 2 * spread.max()),
        "autonomous_distinct": bool(auto_between > 2 * auto_spread.max()),
        "reached": reached,
        "predicted": predicted,
        "class_error": np.mean(predicted != np.arange(4)[:, None], axis=1),
        "distance": np.median(dist.reshape(4 * N, lag), axis=0),
        "exponents": np.asarray(lyap.exponents),
    }


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Load (or train) the preset's models and analyse each; write the per-seed table; return the plotted arrays.

    Returns ``seeds`` (S,), ``n_stable``, ``n_saddle``, ``n_other`` (S,: fixed points of the mean
    distractor map by class), ``distinct`` (S,: the four classes' final states are separated by more
    than twice the largest spread within a class), ``n_attractors_reached`` (S,: distinct stable
    fixed points reached from the four classes under the mean distractor map; -1 counts as none),
    ``autonomous_distinct`` (S,: the same separation test on the states the mean distractor map
    reaches from each class's state after the second symbol, which covers cycles and other attractors),
    ``class_error`` (S, 4: error per class at ``long_length``), ``distance`` (S, D: median distance
    to the centroid of the class's final states, D steps after the second symbol), ``exponents`` (S, n: the
    Lyapunov spectrum), ``train_success`` and ``updates_to_success`` (S,).
    """
    g = _generalization()
    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    results = g.train_or_load(p, out_dir)
    seeds = [int(s) for s in p["seeds"]]
    rows = []
    for seed, result in zip(seeds, results, strict=True):
        net = result.net
        if net is None:
            rows.append(None)
            continue
        rows.append(analyse_seed(net, p, np.random.default_rng([int(p["analysis_seed"]), seed])))
    ok = [r for r in rows if r is not None]
    n = ok[0]["exponents"].size if ok else int(p["n_units"])
    D = ok[0]["distance"].size if ok else 1

    def column(key, shape, fill=np.nan):
        return np.array([r[key] if r is not None else np.full(shape, fill) for r in rows], dtype=float)

    reached = [
        len({int(k) for k in np.unique(r["reached"]) if k >= 0}) if r is not None else -1 for r in rows
    ]  # fmt: skip
    d = {
        "seeds": np.array(seeds),
        "n_stable": column("n_stable", ()),
        "n_saddle": column("n_saddle", ()),
        "n_other": column("n_other", ()),
        "distinct": column("distinct", ()),
        "autonomous_distinct": column("autonomous_distinct", ()),
        "n_attractors_reached": np.array(reached, dtype=float),
        "class_error": column("class_error", (4,)),
        "distance": column("distance", (D,)),
        "exponents": column("exponents", (n,)),
        "train_success": np.array([r.success for r in results], dtype=bool),
        "updates_to_success": np.array([-1 if r.updates_to_success is None else r.updates_to_success for r in results]),
    }
    write_table(out_dir / f"{_stem(p)}_table.md", d, p)
    return d


def _stem(p: dict) -> str:
    return STEM if p["name"] == "quick" else f"{STEM}_{p['name']}"


def _yes(flag) -> str:
    return "yes" if flag == 1 else "no"


def write_table(path, d: dict, p: dict) -> Path:
    """The per-seed table in Markdown (what REPRODUCTION.md quotes)."""
    lines = [
        f"Generalization models ({p['name']} preset: trained on lengths {tuple(p['train_lengths'])}, "
        f"at most {p['max_updates']:,} updates), analysed on {p['long_length']}-step sequences, "
        f"{p['n_per_class']} per class; fixed points of the mean-distractor map from {p['n_starts']} Newton starts.",
        "",
        "| seed | trained | error at T = {L} (AA / BA / AB / BB) | fixed points: stable / saddle / other | "
        "classes end apart (inputs / mean-distractor map) | stable points reached from the 4 classes | "
        "largest Lyapunov exponent |".format(L=p["long_length"]),
        "|---|---|---|---|---|---|---|",
    ]
    for i, seed in enumerate(d["seeds"]):
        trained = (
            f"success at {int(d['updates_to_success'][i]):,}" if d["train_success"][i] else "no success"
        )  # fmt: skip
        if np.isnan(d["n_stable"][i]):
            lines.append(f"| {int(seed)} | {trained} | parameters not finite | | | | |")
            continue
        errors = " / ".join(f"{100 * e:.0f} %" for e in d["class_error"][i])
        lines.append(
            f"| {int(seed)} | {trained} | {errors} | {int(d['n_stable'][i])} / {int(d['n_saddle'][i])} / "
            f"{int(d['n_other'][i])} | {_yes(d['distinct'][i])} / {_yes(d['autonomous_distinct'][i])} | "
            f"{int(d['n_attractors_reached'][i])} | "
            f"{d['exponents'][i][0]:+.4f} |"
        )
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def plot(d: dict, p: dict):
    """(a) fixed points by class per seed; (b) distance to the final state after the second symbol; (c) spectra."""
    cm = _common()
    fig = cm.new_figure(figsize=(13.0, 5.0))
    ax_fp, ax_dist, ax_lyap = fig.subplots(1, 3, width_ratios=[1.3, 1.0, 1.0])
    seeds = d["seeds"]
    x = np.arange(len(seeds))
    width = 0.26
    for k, (key, label, hatch) in enumerate(
        [("n_stable", "stable", ""), ("n_saddle", "saddle", "//"), ("n_other", "unstable / other", "..")]
    ):
        ax_fp.bar(x + (k - 1) * width, d[key], width, color=cm.COLOURS[k], hatch=hatch, edgecolor="black", lw=0.6,
                  label=label)  # fmt: skip
    top = np.nanmax([np.nanmax(d[k]) for k in ("n_stable", "n_saddle", "n_other")] + [1.0])
    ticks = []
    for i, seed in enumerate(seeds):
        apart = "/".join("apart" if d[k][i] == 1 else "merge" for k in ("distinct", "autonomous_distinct"))
        reached = int(d["n_attractors_reached"][i]) if np.isfinite(d["n_attractors_reached"][i]) else 0
        ticks.append(f"seed {int(seed)}\n{apart}\n{reached} reached")
    ax_fp.set_xticks(x, ticks, fontsize=7.5)
    xlabel = "classes' end states (with inputs / mean-distractor map);\nstable points reached from the 4 classes"
    ax_fp.set_xlabel(xlabel, fontsize=8.5)
    ax_fp.set_ylim(0, top * 1.3)
    ax_fp.set_ylabel("fixed points of the mean-distractor map")
    ax_fp.set_title("(a) fixed points by class", loc="left")
    ax_fp.legend(fontsize="small", loc="upper right")

    steps = np.arange(d["distance"].shape[1])
    n = len(cm.COLOURS)
    for i, seed in enumerate(seeds):
        err = np.nanmean(d["class_error"][i])
        ax_dist.plot(steps + 1, d["distance"][i], color=cm.COLOURS[i % n], ls=cm.LINESTYLES[i % n],
                     label=f"seed {int(seed)} ({100 * err:.0f} % wrong at T = {p['long_length']})")  # fmt: skip
        style = {"color": cm.COLOURS[i % n], "ls": cm.LINESTYLES[i % n], "marker": cm.MARKERS[i % n], "ms": 3.5}
        index = np.arange(1, d["exponents"].shape[1] + 1)
        ax_lyap.plot(index, d["exponents"][i], markevery=5, label=f"seed {int(seed)}", **style)
    ax_dist.set_xscale("log")
    ax_dist.set_yscale("log")
    ax_dist.set_xlabel("steps after the second symbol")
    ax_dist.set_ylabel(r"median distance of $h_t$ to its class's end state")
    ax_dist.set_title("(b) motion after the second symbol", loc="left")
    ax_dist.legend(fontsize="x-small", loc="lower left")
    ax_lyap.axhline(0.0, color="0.5", lw=0.8, ls=":")
    ax_lyap.set_xlabel("exponent index $i$")
    ax_lyap.set_ylabel(r"Lyapunov exponent $\lambda_i$ (per step)")
    ax_lyap.set_title(f"(c) spectrum along a {p['long_length']}-step sequence", loc="left")
    ax_lyap.legend(fontsize="x-small", loc="lower left")
    fig.suptitle(
        f"Generalization models ({p['name']} preset: {p['init'].replace('_', ' ')}, {p['method']}, trained on "
        f"lengths {tuple(p['train_lengths'])}, at most {p['max_updates']:,} updates): their dynamics under the "
        f"distractor input\nfixed points from {p['n_starts']} Newton starts; {p['n_per_class']} sequences per class "
        f"of {p['long_length']} steps",
        fontsize=10,
    )
    return fig


def main(argv=None) -> list[Path]:
    """Analyse the preset's generalization models, plot and save; return the paths written."""
    return _common().run_figure(
        argv,
        doc=__doc__,
        stem=STEM,
        presets=presets(),
        compute=compute,
        plot=plot,
        default_preset="quick",
        pass_out_dir=True,
    )


if __name__ == "__main__":
    for path in main():
        print(path)
