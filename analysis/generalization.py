"""Generalization: a temporal-order model trained on random lengths, tested on sequences up to 5000 steps long.

Pascanu et al. (2013), Sec. 4.1 (paper.md Sec. 4.2, "variable-length model"): 50 tanh units from the basic
tanh init, trained with MSGD-CR (lr 0.01, threshold 1, alpha 4, batch 20) on temporal order with a new
random length in [50, 200] for every update; 5/5 seeds succeed, and the model misclassifies 0 of 10,000
sequences at every length in {50, 100, 150, 200, 250, 500, 1000, 2000, 3000, 5000}: the memory lives in
attractors, not in transients.

The seeds train together as one ``dynrnn.train_population`` (member ``k`` is the run ``dynrnn.train``
makes with that seed), which checkpoints to ``<out>/runs/generalization_<preset>_checkpoint.npz`` and
resumes from it when the script is run again, so a budget of hours spans sessions.  Each finished model
is saved to ``<out>/runs/generalization_<preset>_seed<S>.npz`` and reused when the script runs again
with the same training settings, so a rerun only re-evaluates and re-plots.  The error rate at each
test length is ``dynrnn.error_rate`` on fresh sequences.

Presets:

* ``quick`` (the default, and what ``dynrnn figures`` runs): 2 seeds trained on random lengths in
  [20, 50] for 60,000 updates each (the first success, < 1 % errors, comes after a few thousand;
  training on, as the authors' code does until it makes no error at all, makes the model generalize
  further), tested at lengths from the training range up to 5000 on 10,000 sequences up to length 500
  and 1000 sequences beyond.  About 2 minutes on 2 cores (one seed per core), compilation included.
  Such a small model does not reach the paper's result: its error climbs back to chance a few times
  beyond the training range.
* ``medium`` (``dynrnn figures --preset medium generalization``, written as ``generalization_medium``):
  the paper's setup (lengths [50, 200], 5 seeds, stop at 0 errors in 10,000 sequences, 10,000 test
  sequences at every length) with a budget of 1M updates per seed, the issue's floor: about 2.75 ms
  per update and seed on one core, so up to 4 hours per seed-core; it resumes from its checkpoint.
* ``paper``: the same with the paper's budget of 5M updates.  Hours to days on 2 cores, depending on
  when the runs succeed.

Run alone (``python analysis/generalization.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PAPER_TEST_LENGTHS = (50, 100, 150, 200, 250, 500, 1000, 2000, 3000, 5000)
PAPER = {
    "name": "paper",  # stated on the figure
    "task": "temporal_order",
    "init": "basic_tanh",
    "method": "MSGD-CR",
    "train_lengths": (50, 200),  # a new random length in [min, max] for every update
    "seeds": (0, 1, 2, 3, 4),
    "n_units": 50,
    "batch_size": 20,
    "lr": 0.01,
    "threshold": 1.0,
    "alpha": 4.0,  # the paper's; the authors' code used 2
    "max_updates": 5_000_000,
    "eval_every": 200,
    "n_check": 1000,
    "n_eval": 10_000,
    "success_error": 1e-4,  # 0 errors in 10,000: the authors' stop rule, and what the paper reports
    "stop_on_success": True,
    "test_lengths": PAPER_TEST_LENGTHS,
    "n_test": 10_000,  # test sequences per length ...
    "n_test_long": 10_000,  # ... and per length >= long_from
    "long_from": 1000,
    "test_seed": 12345,  # seeds the test sequences (independent of the training seeds)
    "n_workers": None,  # threads that share the population; None: every core this process may use
    "checkpoint_every": 300.0,  # seconds between checkpoints of the population (see train_or_load)
}
MEDIUM = {
    **PAPER,
    "name": "medium",
    "max_updates": 1_000_000,  # the floor for the paper's setup; about 4 h per seed-core
}
QUICK = {
    **PAPER,
    "name": "quick",
    "train_lengths": (20, 50),
    "seeds": (0, 1),
    "max_updates": 60_000,
    "success_error": 0.01,  # the paper's success: < 1 % errors
    "stop_on_success": False,  # but train on after it (see the module docstring)
    "test_lengths": (20, 35, *PAPER_TEST_LENGTHS),
    "n_test_long": 1000,
}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "medium": MEDIUM, "quick": QUICK}
STEM = "generalization"
# dynrnn.train settings of a run (besides the seed); a saved model is reused when all of them match.
TRAIN_KEYS = ("task", "init", "method", "n_units", "batch_size", "lr", "threshold", "alpha", "max_updates",
              "eval_every", "n_check", "n_eval", "success_error", "stop_on_success")  # fmt: skip


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def model_path(out_dir, p: dict, seed: int) -> Path:
    """Where the model of ``seed`` under preset ``p`` is saved: ``<out>/runs/generalization_<preset>_seed<S>.npz``."""
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}_seed{int(seed)}.npz"


def checkpoint_path(out_dir, p: dict) -> Path:
    """The population checkpoint of preset ``p``, from which an interrupted training resumes."""
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}_checkpoint.npz"


def _train_kwargs(p: dict, seed: int) -> dict:
    kwargs = {key: p[key] for key in TRAIN_KEYS}
    kwargs["length"] = tuple(int(n) for n in p["train_lengths"])
    kwargs["seed"] = int(seed)
    return kwargs


def train_or_load(p: dict, out_dir) -> list:
    """One `TrainResult` per seed: the saved models if they match ``p``, else train all seeds as one population.

    The seeds train together with `dynrnn.train_population` (member ``k`` is the run
    ``dynrnn.train(**kwargs_k)`` would make), which writes its whole state to `checkpoint_path`
    every ``p["checkpoint_every"]`` seconds and resumes from it when the script runs again after an
    interruption; so a budget of hours can span sessions.  The finished models are saved to
    `model_path` and the checkpoint is then removed.
    """
    import dynrnn

    seeds = [int(s) for s in p["seeds"]]
    kwargs = [_train_kwargs(p, seed) for seed in seeds]
    paths = [model_path(out_dir, p, seed) for seed in seeds]
    saved = [_common().load_trained(path, kw) for path, kw in zip(paths, kwargs, strict=True)]
    if all(r is not None for r in saved):
        return saved
    checkpoint = checkpoint_path(out_dir, p)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    population = dynrnn.train_population(
        kwargs, checkpoint=checkpoint, checkpoint_every=float(p["checkpoint_every"]), resume=True,
        n_threads=p["n_workers"],
    )  # fmt: skip
    for result, path in zip(population.runs, paths, strict=True):
        result.save(path)
    checkpoint.unlink(missing_ok=True)
    return list(population.runs)


def _test_sizes(p: dict):
    lengths = np.array([int(n) for n in p["test_lengths"]])
    return lengths, np.where(lengths >= p["long_from"], p["n_test_long"], p["n_test"]).astype(int)


def test_errors(p: dict, result, seed: int) -> list:
    """Error rate of one trained model at each test length (None where its parameters are not finite)."""
    import dynrnn

    lengths, n_test = _test_sizes(p)
    net = result.net
    if net is None:
        return [None] * len(lengths)
    rng = np.random.default_rng([int(p["test_seed"]), int(seed)])
    return [
        dynrnn.error_rate(net, p["task"], int(length), n_sequences=int(n), rng=rng)
        for length, n in zip(lengths, n_test, strict=True)
    ]


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Train (or load) one model per seed, then its error rate at each test length.

    The seeds train as one population (`train_or_load`, on ``p["n_workers"]`` threads; None: every
    core this process may use), resuming from the preset's checkpoint if there is one.  ``backend``
    is recorded only (training and testing run on the CPU kernels).  Returns the plotted arrays:
    ``test_lengths`` (K,), ``n_test`` (K,), ``train_lengths`` (2,), ``seeds`` (S,), ``error_rate``
    (S, K; NaN for a model whose parameters are not finite), ``train_success``,
    ``updates_to_success`` (S,; -1 where it did not succeed), ``n_updates`` (S,) and ``train_error``
    (S,; the final error on ``n_eval`` random-length sequences).
    """
    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lengths, n_test = _test_sizes(p)
    seeds = [int(s) for s in p["seeds"]]
    results = train_or_load(p, out_dir)
    errors = [test_errors(p, result, seed) for result, seed in zip(results, seeds, strict=True)]
    error = np.array([[np.nan if e is None else e for e in row] for row in errors], dtype=float)
    return {
        "test_lengths": lengths,
        "n_test": n_test,
        "train_lengths": np.array(p["train_lengths"]),
        "seeds": np.array(seeds),
        "error_rate": error,
        "train_success": np.array([r.success for r in results], dtype=bool),
        "updates_to_success": np.array([-1 if r.updates_to_success is None else r.updates_to_success for r in results]),
        "n_updates": np.array([r.n_updates for r in results]),
        "train_error": np.array([r.final_error for r in results], dtype=float),
    }


def lengths_in(d: dict, t: float) -> bool:
    """Whether ``t`` lies within the tested lengths (for the axis ticks)."""
    return d["test_lengths"].min() <= t <= d["test_lengths"].max()


def verdict(d: dict) -> str:
    """Whether the figure reproduces the paper's claim (< 1 % errors at every tested length, every seed), in words."""
    rate = 100 * np.asarray(d["error_rate"], dtype=float)
    lengths = np.asarray(d["test_lengths"])
    failing = [
        f"seed {int(seed)} from $T$ = {int(lengths[np.argmax(row > 1.0)]):,}"
        for seed, row in zip(d["seeds"], rate, strict=True)
        if (row > 1.0).any()
    ]
    if not failing:
        return "Reproduces the paper: < 1 % errors at every tested length for every seed"
    lines = ["> 1 % errors"]
    for clause in failing:  # whole clauses per line: the box stays inside the axes
        if len(lines[-1]) + len(clause) > 60:
            lines.append("")
        lines[-1] += (" " if lines[-1] else "") + clause + ","
    text = "Does NOT reproduce the paper (0 errors at every length to 5000):\n" + "\n".join(lines).rstrip(",")
    above = rate > 75.0 + 3.0
    if above.any():
        text += f";\n{int(above.sum())} point(s) above chance (75 %): systematically wrong answers"
    return text


def plot(d: dict, p: dict):
    """Error rate (%) against test length (log x), one curve per seed, the training range shaded."""
    import matplotlib.ticker

    cm = _common()
    fig = cm.new_figure(figsize=(7.6, 4.8))
    ax = fig.subplots()
    lo, hi = (int(n) for n in d["train_lengths"])
    ax.axvspan(lo, hi, color="0.88", lw=0, label=f"training lengths [{lo}, {hi}]")
    ax.axhline(75.0, color="0.5", lw=1.0, ls=":", label="chance (75 %)")
    ax.axhline(1.0, color="0.5", lw=1.0, ls="--", label="1 % (the paper's success)")
    for i, seed in enumerate(d["seeds"]):
        if not d["train_success"][i]:
            trained = f"no success in {p['max_updates']:,} updates"
        elif p["stop_on_success"]:
            trained = f"success after {int(d['updates_to_success'][i]):,} updates"
        else:
            trained = f"success at {int(d['updates_to_success'][i]):,}, trained to {p['max_updates']:,} updates"
        n = len(cm.COLOURS)
        ax.plot(d["test_lengths"], 100 * d["error_rate"][i], marker=cm.MARKERS[i % n], ms=6.5, color=cm.COLOURS[i % n],
                ls=cm.LINESTYLES[i % n], label=f"seed {int(seed)}: {trained}")  # fmt: skip
    ax.set_xscale("log")
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if lengths_in(d, t)]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("test sequence length $T$ (log scale)")
    ax.set_ylabel("misclassified test sequences (%)")
    top = np.nanmax(100 * d["error_rate"]) if np.isfinite(d["error_rate"]).any() else 1.0
    ax.set_ylim(-0.02 * max(top, 80.0), 1.45 * max(top, 80.0))  # room for the verdict above the curves
    ax.set_yticks(range(0, 101, 20))
    ax.grid(True, which="major", color="0.9", lw=0.8)
    ax.text(
        0.02,
        0.97,
        verdict(d),
        transform=ax.transAxes,
        va="top",
        fontsize=10,
        bbox={"facecolor": "white", "alpha": 0.92, "edgecolor": cm.OKABE_ITO["vermillion"], "pad": 4},
    )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize="small")
    n_short, n_long = int(d["n_test"][0]), int(d["n_test"][-1])
    tests = f"{n_short:,} test sequences per length" + (
        f" ({n_long:,} from T = {p['long_from']:,})" if n_long != n_short else ""
    )
    fig.suptitle(
        f"Temporal order, generalization to long sequences: {p['init'].replace('_', ' ')}, {p['method']}, "
        f"{p['n_units']} units\n{p['name']} preset: trained on random lengths in [{lo}, {hi}], "
        + (rf"$\leq$ {p['max_updates']:,} updates" if p["stop_on_success"] else f"{p['max_updates']:,} updates")
        + rf", $\alpha$ = {float(p['alpha']):g};"
        + f"\n{tests}",
        fontsize=10.5,
    )
    return fig


def main(argv=None) -> list[Path]:
    """Train (or reuse the saved model), evaluate, plot and save the figure; return the paths written."""
    return _common().run_figure(
        argv,
        doc=__doc__,
        stem=STEM,
        presets=PRESETS,
        compute=compute,
        plot=plot,
        default_preset="quick",
        pass_out_dir=True,
    )


if __name__ == "__main__":
    for path in main():
        print(path)
