"""The other pathological tasks (Sec. 4.1.2): successes of MSGD-CR, with MSGD-C as the control, out of 5 seeds.

Pascanu et al. (2013), Sec. 4.1.2 (paper.md Sec. 4.3): MSGD-CR solves addition, multiplication, 3-bit
temporal order, random permutation and noiseless memorization (5-bit and > 20-bit patterns) in 100 % of
5 runs, except random permutation (2 of 5; arXiv v2: 1 of 8).  The protocol: the first four tasks train
one model on random lengths in [50, 200] (a new length for every update); memorization trains one model
per length, 50, 100, 150 and 200.  Addition and multiplication generalize to length 500 with growing
error, still under 1 % (a sequence is wrong when its squared error exceeds 0.04: ``dynrnn.error_rate``
scores ``sum_o (y_o - target_o)^2 > 0.04`` at the last step, as the authors' code does).  Success, as in
the paper: < 1 % errors on 10,000 fresh sequences (``success_error=0.01``, ``n_eval=10_000``), and a
run stops at its first success.

Settings per task (`TASK_SETTINGS`; the figure's ``.json`` and the markdown table state them):

* addition: 50 tanh units, lr 0.01, alpha 0.5, threshold 6, weights N(0, 0.1) (the basic tanh init):
  the arXiv v2 appendix, second-hand (paper.md Sec. 4.5).
* multiplication: the same as addition (paper.md Sec. 4.5, "unconfirmed").
* 3-bit temporal order: 100 hidden units (paper.md Sec. 4.5, unconfirmed); lr 0.01, threshold 1 and
  alpha 4: the paper's temporal-order settings (the authors' code used alpha 2); smart tanh init.
* random permutation: 100 units, lr 0.001, alpha 1, threshold 6 (arXiv v2 appendix, second-hand); smart
  tanh init.
* memorization: no settings published, so the paper's temporal-order settings: 50 units, lr 0.01,
  threshold 1, alpha 4 (the paper; the authors' code, whose defaults are set for this task, used alpha
  2); smart tanh init (the code's default).  5-bit: ``n_values=2, n_pos=5`` (32 patterns, the 5-bit
  variant of Martens & Sutskever); > 20 bits: ``n_values=5, n_pos=10`` (5^10 = 2^23.2 patterns, the
  authors' defaults).  "Length" T is the number of blank steps; a sequence has T + 2 n_pos steps.

The init of the tasks without a stated one is the authors' code's default, smart tanh (paper.md Sec. 5.7).
Batches of 20 everywhere.  Each task group (a task, or a memorization variant at one length) trains
its 10 runs (2 methods x 5 seeds) as one ``dynrnn.train_population`` (member ``k`` is the run
``dynrnn.train`` makes with its settings), which checkpoints to
``<out>/runs/other_tasks_<preset>_<group>_checkpoint.npz`` every 300 s and resumes from it when the
script runs again; each finished run is saved to ``<out>/runs/other_tasks_<preset>_<group>_seed<S>_<method>.npz``
and reused on a rerun when its settings match, so an interrupted preset loses at most 5 minutes per group
and a finished one only re-evaluates and re-plots.  Besides the figure (``.png``, ``.json``, ``.csv``) the
script writes the table as markdown next to it (``<stem>.md``).

Presets:

* ``quick`` (the default, and what ``dynrnn figures`` runs): 5 seeds, both methods, every task, the
  settings above, but random lengths in [10, 30], memorization at T = 10 and 20 only, and at most 1,000
  updates per run; length-500 tests on 1,000 sequences.  83-95 s of CPU time (2.7 and 5.7 min of wall time
  on one core shared with other processes), so 1-1.5 minutes on 2 free cores.  It exercises the pipeline and
  does NOT test the paper's claims: at 1,000 updates no run succeeds (the figure says so).
* ``medium`` (``dynrnn figures --preset medium other_tasks``, written as ``other_tasks_medium``): the
  whole protocol (6 tasks, memorization at 50, 100, 150, 200: 12 groups, 120 runs), at most 25,000
  updates per run.  Measured cost of one update of one run (one member of a population of 10, one thread,
  on a core shared with another process, 2026-12): addition 3.6 ms, multiplication 3.7 ms, 3-bit
  temporal order 8.7 ms, random permutation 11.0 ms, memorization 5-bit at T = 200 7.2 ms and 20-bit
  7.2 ms (about 0.034 ms per step, so 18.4 and 19.0 ms summed over T = 50..200); 64 ms for one update of
  every group, 0.64 s for all 10 members, 0.32 s on 2 cores.  The periodic checks (1,000 sequences every
  200 updates, one member at a time) add about 0.05 s per update: 25,000 x 0.375 s = 2.6 h if no run
  stopped early (successes stop sooner), plus about 3 minutes of final and length-500 tests.  Measured
  (2026-12, 2 cores, no run stopped early): the 12 populations took 10,600 s of wall time together
  (addition 1,256 s, multiplication 827, 3-bit order 1,620, permutation 2,003, memorization 5-bit 232 /
  419 / 585 / 837 and 20-bit 308 / 553 / 851 / 1,123 at T = 50 / 100 / 150 / 200), about 2.9 h.
* ``paper``: the same with the paper's 5M updates per run: 5M x 0.375 s, about 3 weeks on 2 cores if no
  run stopped early.  Run it as a GPU job (``--backend cuda``: each group's population runs one thread
  block per member; evaluations stay on the CPU) or spread the groups over machines sharing ``runs/``
  (``compute`` with ``tasks`` restricted to some of them on each; every group has its own checkpoint).

Run alone (``python analysis/other_tasks.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_TEMPORAL_ORDER = {"lr": 0.01, "threshold": 1.0, "alpha": 4.0}  # the paper's temporal-order settings (Sec. 4.1)
TASK_SETTINGS = {
    "addition": {"task": "addition", "init": "basic_tanh", "n_units": 50, "lr": 0.01, "threshold": 6.0, "alpha": 0.5},
    "multiplication": {"task": "multiplication", "init": "basic_tanh", "n_units": 50, "lr": 0.01, "threshold": 6.0,
                       "alpha": 0.5},
    "temporal_order_3bit": {"task": "temporal_order_3bit", "init": "smart_tanh", "n_units": 100, **_TEMPORAL_ORDER},
    "permutation": {"task": "permutation", "init": "smart_tanh", "n_units": 100, "lr": 0.001, "threshold": 6.0,
                    "alpha": 1.0},
    "memorization_5bit": {"task": "memorization", "init": "smart_tanh", "n_units": 50, **_TEMPORAL_ORDER,
                          "task_options": {"n_values": 2, "n_pos": 5}},
    "memorization_20bit": {"task": "memorization", "init": "smart_tanh", "n_units": 50, **_TEMPORAL_ORDER,
                           "task_options": {"n_values": 5, "n_pos": 10}},
}  # fmt: skip
SOURCES = {
    "addition": "arXiv v2 appendix (second-hand; paper.md 4.5)",
    "multiplication": "as addition (paper.md 4.5, unconfirmed)",
    "temporal_order_3bit": "100 units: paper.md 4.5 (unconfirmed); lr, threshold, alpha: the paper's temporal order",
    "permutation": "arXiv v2 appendix (second-hand; paper.md 4.5)",
    "memorization_5bit": "none published: the paper's temporal-order settings",
    "memorization_20bit": "none published: the paper's temporal-order settings",
}
TITLES = {"addition": "addition", "multiplication": "multiplication", "temporal_order_3bit": "3-bit temporal order",
          "permutation": "random permutation", "memorization_5bit": "memorization 5-bit",
          "memorization_20bit": "memorization 20-bit"}  # fmt: skip
MEMORIZATION = ("memorization_5bit", "memorization_20bit")  # one model per length; the others: one on a range
PAPER_SUCCESSES = {"permutation": 2}  # of 5 runs, MSGD-CR (arXiv v2: 1 of 8); every other task: 5 of 5
PAPER = {
    "name": "paper",  # stated on the figure
    "tasks": tuple(TASK_SETTINGS),
    "task_settings": TASK_SETTINGS,
    "methods": ("MSGD-CR", "MSGD-C"),
    "seeds": (0, 1, 2, 3, 4),
    "random_lengths": (50, 200),  # addition, multiplication, 3-bit temporal order, permutation: one model
    "memorization_lengths": (50, 100, 150, 200),  # one model per length
    "batch_size": 20,
    "max_updates": 5_000_000,
    "eval_every": 200,
    "n_check": 1000,
    "n_eval": 10_000,
    "success_error": 0.01,  # the paper's success: < 1 % errors on n_eval fresh sequences
    "stop_on_success": True,
    "test_tasks": ("addition", "multiplication"),  # also tested at test_length
    "test_length": 500,
    "n_test": 10_000,
    "test_seed": 12345,  # seeds the test sequences (the same sequences for every model of a task)
    "n_workers": None,  # threads of each population; None: every core this process may use
    "checkpoint_every": 300.0,  # seconds between checkpoints of a group's population
}
MEDIUM = {**PAPER, "name": "medium", "max_updates": 25_000}  # about 2.6 h on 2 cores (module docstring)
QUICK = {
    **PAPER,
    "name": "quick",
    "random_lengths": (10, 30),
    "memorization_lengths": (10, 20),
    "max_updates": 1_000,
    "n_check": 500,
    "n_test": 1_000,
}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "medium": MEDIUM, "quick": QUICK}
STEM = "other_tasks"
# dynrnn.train settings taken from the preset (the others come from the task's settings).
TRAIN_KEYS = ("batch_size", "max_updates", "eval_every", "n_check", "n_eval", "success_error", "stop_on_success")
METHOD_STYLE = {  # the colours of the temporal_order figure (Okabe-Ito), plus a hatch and a marker each
    "MSGD-CR": {"color": "#CC79A7", "hatch": "", "marker": "^"},
    "MSGD-C": {"color": "#E69F00", "hatch": "///", "marker": "s"},
}


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def groups(p: dict) -> list[dict]:
    """The population groups of preset ``p``: ``key``, ``setting`` (a `TASK_SETTINGS` name), ``length``, ``title``.

    A task trained on random lengths is one group with ``length = (min, max)``; a memorization variant is
    one group per length.
    """
    out = []
    for name in p["tasks"]:
        if name in MEMORIZATION:
            for length in p["memorization_lengths"]:
                out.append({"key": f"{name}_L{int(length)}", "setting": name, "length": int(length),
                            "title": f"{TITLES[name]}, T = {int(length)}"})  # fmt: skip
        else:
            lo, hi = (int(n) for n in p["random_lengths"])
            out.append(
                {"key": name, "setting": name, "length": (lo, hi), "title": f"{TITLES[name]}, T in [{lo}, {hi}]"}
            )
    return out


def model_path(out_dir, p: dict, group: dict, seed: int, method: str) -> Path:
    """Where a finished run is saved: ``<out>/runs/other_tasks_<preset>_<group>_seed<S>_<method>.npz``."""
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}_{group['key']}_seed{int(seed)}_{method}.npz"


def checkpoint_path(out_dir, p: dict, group: dict) -> Path:
    """The checkpoint of a group's population, from which an interrupted training resumes."""
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}_{group['key']}_checkpoint.npz"


def train_kwargs(p: dict, group: dict, method: str, seed: int) -> dict:
    """The ``dynrnn.train`` keyword arguments of one run (alpha only for MSGD-CR)."""
    s = p["task_settings"][group["setting"]]
    kwargs = {"task": s["task"], "init": s["init"], "method": method, "length": group["length"], "seed": int(seed),
              "n_units": int(s["n_units"]), "lr": float(s["lr"]), "threshold": float(s["threshold"]),
              "alpha": float(s["alpha"]) if method == "MSGD-CR" else 0.0}  # fmt: skip
    kwargs.update({key: p[key] for key in TRAIN_KEYS})
    if s.get("task_options"):
        kwargs["task_options"] = dict(s["task_options"])
    return kwargs


def train_or_load(p: dict, group: dict, out_dir, backend: str = "cpu") -> dict:
    """``{(method, seed): TrainResult}`` of a group: the saved runs that match ``p``; the others trained together.

    The runs not saved yet train as one `dynrnn.train_population` on ``p["n_workers"]`` threads, which
    writes its state to `checkpoint_path` every ``p["checkpoint_every"]`` seconds and resumes from it
    when called again after an interruption (its members must then be the same runs).  The finished
    runs are saved to `model_path` and the checkpoint is removed.
    """
    import dynrnn

    keys = [(method, int(seed)) for method in p["methods"] for seed in p["seeds"]]
    kwargs = {key: train_kwargs(p, group, *key) for key in keys}
    paths = {key: model_path(out_dir, p, group, key[1], key[0]) for key in keys}
    results = {key: _common().load_trained(paths[key], kwargs[key]) for key in keys}
    missing = [key for key in keys if results[key] is None]
    if missing:
        checkpoint = checkpoint_path(out_dir, p, group)
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        population = dynrnn.train_population(
            [kwargs[key] for key in missing], checkpoint=checkpoint, checkpoint_every=float(p["checkpoint_every"]),
            resume=True, n_threads=p["n_workers"], backend=backend,
        )  # fmt: skip
        for key, result in zip(missing, population.runs, strict=True):
            result.save(paths[key])
            results[key] = result
        checkpoint.unlink(missing_ok=True)
    return results


def _median(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else np.nan


def chance_error(task: str, length: int, task_options=None, n_sequences: int = 5000, rng=None) -> float:
    """The error rate of the best constant output: what a network that learned nothing of its input scores.

    The constant is fitted on one batch of ``n_sequences`` fresh sequences and scored, by
    `dynrnn.tasks.sequence_errors`, on another: the targets' mean (squared-error tasks, the constant
    that minimises the training loss) or, at each scored step, the most frequent class (argmax tasks:
    the argmax of the cross-entropy-optimal constant logits, the class frequencies).  For example 1/2 on
    random permutation (its last symbol is 1 or 2), 7/8 on 3-bit temporal order, 31/32 on 5-bit
    memorization (5 binary recall steps, all must be right) and 0.36 on addition (the mean of two
    uniform values is more than 0.2 from 1/2 with probability 0.36).
    """
    import dynrnn

    rng = np.random.default_rng(rng)
    make = dynrnn.tasks.get_task(task)
    options = dict(task_options or {})
    fit, test = (make(int(n_sequences), int(length), rng=rng, **options) for _ in range(2))
    if fit.error_kind == "squared_error":  # targets (B, q): one constant output row
        outputs = np.broadcast_to(fit.targets.mean(axis=0), (1, *test.targets.shape))
    else:  # class labels of each scored step, (1, B) or (T, B): the most frequent class of each
        labels = fit.targets.reshape(fit.n_steps if fit.at == "every" else 1, -1)
        modes = [np.bincount(row, minlength=fit.n_outputs).argmax() for row in labels]
        shape = (len(modes), test.batch_size, fit.n_outputs)
        outputs = np.broadcast_to(np.eye(fit.n_outputs)[modes][:, None, :], shape)
    return float(dynrnn.tasks.sequence_errors(test, outputs).mean())


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Train (or load) every group's runs, count the successes, and test addition and multiplication at length 500.

    ``backend`` is where the populations train (evaluations run on the CPU).  Returns the plotted arrays,
    indexed by group (in the order of `groups`), method (``p["methods"]``) and seed: ``success``,
    ``updates_to_success`` (-1 where none), ``n_updates``, ``final_error`` (the final parameters on
    ``n_eval`` fresh sequences of the training lengths), ``diverged`` (G, M, S); ``n_success``,
    ``ci_low``, ``ci_high`` (the Wilson 95 % interval of the success rate), ``median_updates_to_success``
    (over the successful runs; NaN if none) and ``median_final_error`` (G, M); ``paper_successes`` (G,;
    MSGD-CR, of 5); ``length_min``, ``length_max`` (G,); ``seeds`` (S,); and for the tested tasks
    ``test_group`` (index into the groups), ``test_error`` (K, M, S; NaN for a model whose parameters
    are not finite) and ``test_length``, ``n_test``; ``chance_error`` (G,): the error of the best
    constant output at the group's shortest length (`chance_error`), the level of a run that learned
    nothing.
    """
    import dynrnn

    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gs, methods, seeds = groups(p), list(p["methods"]), [int(s) for s in p["seeds"]]
    shape = (len(gs), len(methods), len(seeds))
    d = {"success": np.zeros(shape, bool), "updates_to_success": np.full(shape, -1), "n_updates": np.zeros(shape, int),
         "final_error": np.full(shape, np.nan), "diverged": np.zeros(shape, bool)}  # fmt: skip
    nets = {}
    for g, group in enumerate(gs):
        results = train_or_load(p, group, out_dir, backend)
        for j, method in enumerate(methods):
            for s, seed in enumerate(seeds):
                r = results[(method, seed)]
                d["success"][g, j, s] = r.success
                d["updates_to_success"][g, j, s] = -1 if r.updates_to_success is None else r.updates_to_success
                d["n_updates"][g, j, s] = r.n_updates
                d["final_error"][g, j, s] = r.final_error
                d["diverged"][g, j, s] = r.diverged
                nets[(group["key"], method, seed)] = r.net
    d["n_success"] = d["success"].sum(axis=-1)
    d["ci_low"], d["ci_high"] = _common().wilson_interval(d["n_success"], len(seeds))
    to_success = np.where(d["success"], d["updates_to_success"], np.nan)
    d["median_updates_to_success"] = np.array([[_median(row) for row in group] for group in to_success])
    d["median_final_error"] = np.array([[_median(row) for row in group] for group in d["final_error"]])
    d["paper_successes"] = np.array([PAPER_SUCCESSES.get(group["setting"], 5) for group in gs])
    d["length_min"] = np.array([np.min(group["length"]) for group in gs])
    d["length_max"] = np.array([np.max(group["length"]) for group in gs])
    d["seeds"] = np.array(seeds)
    d["chance_error"] = np.array([
        chance_error(p["task_settings"][group["setting"]]["task"], int(d["length_min"][g]),
                     p["task_settings"][group["setting"]].get("task_options"), rng=[int(p["test_seed"]), g, 1])
        for g, group in enumerate(gs)
    ])  # fmt: skip

    tested = [g for g, group in enumerate(gs) if group["setting"] in p["test_tasks"]]
    d["test_group"] = np.array(tested, dtype=int)
    d["test_error"] = np.full((len(tested), len(methods), len(seeds)), np.nan)
    for i, g in enumerate(tested):
        task = p["task_settings"][gs[g]["setting"]]["task"]
        for j, method in enumerate(methods):
            for s, seed in enumerate(seeds):
                net = nets[(gs[g]["key"], method, seed)]
                if net is not None:  # the same test sequences for every model of the task
                    rng = np.random.default_rng([int(p["test_seed"]), g])
                    d["test_error"][i, j, s] = dynrnn.error_rate(net, task, int(p["test_length"]),
                                                                 n_sequences=int(p["n_test"]), rng=rng)  # fmt: skip
    d["test_length"] = np.array(int(p["test_length"]))
    d["n_test"] = np.array(int(p["n_test"]))
    return d


def _preset_text(p: dict) -> str:
    """The lines of the title that state the preset's budget and lengths."""
    lo, hi = (int(n) for n in p["random_lengths"])
    text = (f"{p['name']} preset: {len(p['seeds'])} seeds per task and method, $\\leq$ {p['max_updates']:,} updates "
            f"per run (stop at the first success),\nbatch {p['batch_size']}; random lengths in [{lo}, {hi}], "
            f"memorization at T = {', '.join(str(int(n)) for n in p['memorization_lengths'])}")  # fmt: skip
    if p["name"] == "quick":
        text += ".\nTiny budget and short sequences: this preset does NOT test the paper's claims"
    return text


def verdict(d: dict, p: dict) -> str:
    """Whether MSGD-CR's successes reach the paper's in every group, and how many runs ended at chance, in words."""
    methods, n_seeds = list(p["methods"]), len(d["seeds"])
    j = methods.index("MSGD-CR")
    got, claimed = d["n_success"][:, j], d["paper_successes"] / 5 * n_seeds
    final = np.asarray(d["final_error"], dtype=float)
    at_chance = final >= d["chance_error"][:, None, None] - 0.02  # within 2 points of it, or above it
    counts = (f"MSGD-CR succeeds in {int(got.sum())} of {final.shape[0] * n_seeds} runs "
              f"(the paper: {claimed.sum():g});\n{int(at_chance.sum())} of {final.size} final errors are within "
              "2 points of the best constant output's, or above")  # fmt: skip
    if np.all(got >= claimed):
        return "Reproduces the paper's success counts: " + counts
    if np.any(got >= claimed):
        return f"Partly reproduces the paper ({int((got >= claimed).sum())} of {len(got)} groups): " + counts
    return "Does NOT reproduce the paper at this budget: " + counts


SHORT_TITLES = {"addition": "addition", "multiplication": "multipli-\ncation", "temporal_order_3bit": "3-bit\norder",
                "permutation": "random\npermut."}  # fmt: skip


def _tick_label(group: dict) -> str:
    """A group's label under the bars: a memorization length, or the task's short title and its length range."""
    length = group["length"]
    if isinstance(length, int):
        return str(length) if group["setting"] in MEMORIZATION else f"{TITLES[group['setting']]}\n{length}"
    return f"{SHORT_TITLES.get(group['setting'], group['setting'])}\n{length[0]}-{length[1]}"


def _label_memorization(ax, gs: list[dict]) -> None:
    """Name each memorization variant once, under the ticks of its lengths, with a bracket."""
    from matplotlib.transforms import blended_transform_factory

    transform = blended_transform_factory(ax.transData, ax.transAxes)
    for name in MEMORIZATION:
        where = [g for g, group in enumerate(gs) if group["setting"] == name]
        if where:
            lo, hi = min(where) - 0.4, max(where) + 0.4
            ax.plot([lo, lo, hi, hi], [-0.13, -0.16, -0.16, -0.13], color="0.3", lw=0.9, transform=transform,
                    clip_on=False)  # fmt: skip
            ax.text((lo + hi) / 2, -0.18, TITLES[name], ha="center", va="top", transform=transform, fontsize=10)


def _method_style(method: str, j: int) -> dict:
    cm = _common()
    return METHOD_STYLE.get(method, {"color": cm.COLOURS[j], "hatch": "..", "marker": cm.MARKERS[j]})


def plot(d: dict, p: dict):
    """(a) successes of 5 per group and method, the paper's claim marked; (b) final error; (c) errors at length 500."""
    from matplotlib.lines import Line2D

    cm = _common()
    gs, methods = groups(p), list(p["methods"])
    n_seeds = len(d["seeds"])
    fig = cm.new_figure(figsize=(9.6, 9.0 if p["name"] == "quick" else 9.3))
    ax_bars, ax_err, ax_test = fig.subplots(3, 1, gridspec_kw={"height_ratios": (1.25, 1.0, 0.5)})
    ax_err.sharex(ax_bars)
    x = np.arange(len(gs))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        style = _method_style(method, j)
        offset = (j - (len(methods) - 1) / 2) * width
        counts = d["n_success"][:, j]
        bars = ax_bars.bar(x + offset, counts, width * 0.92, color=style["color"], hatch=style["hatch"],
                           edgecolor="black", linewidth=0.7, label=method)  # fmt: skip
        ax_bars.bar_label(bars, labels=[str(int(c)) for c in counts], padding=1.5, fontsize=10)
        for g in range(len(gs)):  # (b): every run's final error, spread within its bar's slot
            err = 100 * d["final_error"][g, j]
            spread = np.linspace(-0.3, 0.3, len(err)) * width
            ax_err.plot(x[g] + offset + spread, err, ls="none", marker=style["marker"], ms=5.5,
                        mfc=style["color"], mec="black", mew=0.5, label=method if g == 0 else None)  # fmt: skip
        for i in range(len(d["test_group"])):  # (c): errors at the test length
            err = 100 * d["test_error"][i, j]
            spread = np.linspace(-0.12, 0.12, len(err))
            ax_test.plot(err, i + (j - 0.5) * 0.4 + spread, ls="none", marker=style["marker"], ms=6.5,
                         mfc=style["color"], mec="black", mew=0.5, label=method if i == 0 else None)  # fmt: skip
    if "MSGD-CR" in methods:  # the paper's claim for MSGD-CR, scaled to this preset's seeds
        j = methods.index("MSGD-CR")
        claim = d["paper_successes"] / 5 * n_seeds
        ax_bars.plot(x + (j - (len(methods) - 1) / 2) * width, claim, ls="none", marker="_", ms=20, mew=3.0,
                     color="black", label="paper, MSGD-CR")  # fmt: skip
    ax_bars.set_ylim(0, n_seeds * 1.38)
    ax_bars.set_yticks(range(n_seeds + 1))
    ax_bars.set_ylabel(f"successes (of {n_seeds} seeds)")
    ax_bars.set_title(f"(a) runs with < {100 * p['success_error']:g} % errors on {int(p['n_eval']):,} fresh sequences")
    ax_bars.grid(True, axis="y", color="0.9", lw=0.8)
    ax_bars.tick_params(axis="x", labelbottom=False)
    ax_bars.legend(loc="upper center", ncol=3, fontsize=10)
    ax_err.plot(x, 100 * d["chance_error"], ls="none", marker="_", ms=34, mew=2.0, color="#0072B2", zorder=1)
    ax_err.axhline(100 * p["success_error"], color="0.4", ls="--", lw=1.0)
    ax_err.set_ylabel("final error (%)")
    ax_err.set_title("(b) each run's final error at its training lengths (dashed: 1 %)")
    ax_err.set_xticks(x, [_tick_label(group) for group in gs], fontsize=9.5)
    ax_err.set_xlim(-0.6, len(gs) - 0.4)
    ax_err.grid(True, axis="y", color="0.9", lw=0.8)
    chance = Line2D([], [], ls="none", marker="_", ms=16, mew=2.0, color="#0072B2")  # ignores the sequences
    handles, labels = ax_err.get_legend_handles_labels()
    ax_err.legend(handles + [chance], labels + ["best constant output"], loc="lower left", ncol=len(methods) + 1,
                  fontsize=9.5)  # fmt: skip
    _label_memorization(ax_err, gs)
    ax_err.set_xlabel(
        "task and training length(s) T", labelpad=8 if any(g["setting"] in MEMORIZATION for g in gs) else 4
    )
    tested = [TITLES[gs[g]["setting"]] for g in d["test_group"]]
    ax_test.axvline(100 * p["success_error"], color="0.4", ls="--", lw=1.0, label="1 %")
    ax_test.set_yticks(range(len(tested)), tested)
    ax_test.set_ylim(len(tested) - 0.4, -0.6)
    ax_test.set_ylabel("task")
    ax_test.set_xlabel(f"errors at T = {int(d['test_length'])} (%)")
    ax_test.set_title(
        f"(c) each run tested at T = {int(d['test_length'])} on {int(d['n_test']):,} fresh sequences "
        "(the paper: < 1 %, dashed)"
    )
    ax_test.grid(True, axis="x", color="0.9", lw=0.8)
    ax_test.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9.5)
    n_eval, n_test = int(p["n_eval"]), int(d["n_test"])  # linear below one error in n, log above
    ax_err.set_yscale("symlog", linthresh=100 / n_eval, linscale=0.4)
    ax_err.set_ylim(-0.3 * 100 / n_eval, 150)
    ax_test.set_xscale("symlog", linthresh=100 / n_test, linscale=0.4)
    ax_test.set_xlim(-0.3 * 100 / n_test, 150)
    fig.suptitle(
        "The other pathological tasks (Sec. 4.1.2), MSGD-CR with MSGD-C as the control;\n"
        f"the paper: MSGD-CR succeeds in 5 of 5 runs (random permutation 2 of 5).\n{_preset_text(p)}"
        + ("" if p["name"] == "quick" else f".\n{verdict(d, p)}"),
        fontsize=11,
    )
    return fig


def _cell(value, fmt: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, fmt)


def markdown_table(d: dict, p: dict, stem: str = STEM) -> str:
    """The success table and the length-500 errors as markdown (for ``<stem>.md`` and REPRODUCTION.md)."""
    gs, methods, n_seeds = groups(p), list(p["methods"]), len(d["seeds"])
    command = "dynrnn figures " + ("" if p["name"] == "quick" else f"--preset {p['name']} ") + "other_tasks"
    lines = [
        f"# The other pathological tasks (Pascanu et al. 2013, Sec. 4.1.2): `{p['name']}` preset",
        "",
        f"Written by `analysis/other_tasks.py` with `{stem}.png`, `.json` and `.csv`; regenerate with `{command}`.",
        f"Budget: at most {p['max_updates']:,} updates per run (stopping at the first success), {n_seeds} seeds per "
        f"task and method, batch {p['batch_size']}. Success: < {100 * p['success_error']:g} % errors on "
        f"{p['n_eval']:,} fresh sequences (checked every {p['eval_every']} updates on {p['n_check']:,}). "
        "The paper (5M updates): MSGD-CR succeeds in 5 of 5 runs on every task except random permutation (2 of 5).",
    ]
    if p["name"] == "quick":
        lines.append("The quick preset's budget and lengths are far below the paper's: it does not test its claims.")
    head = ["task", "lengths", "init, units, lr, threshold, alpha"]
    for method in methods:
        head += [f"{method} successes", f"{method} median updates to success", f"{method} median final error"]
    head += ["best constant output's error", "paper, MSGD-CR"]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g, group in enumerate(gs):
        s = p["task_settings"][group["setting"]]
        lo, hi = int(d["length_min"][g]), int(d["length_max"][g])
        row = [TITLES[group["setting"]], f"{lo}-{hi}" if lo != hi else str(lo),
               f"{s['init']}, {s['n_units']}, {s['lr']:g}, {s['threshold']:g}, {s['alpha']:g}"]  # fmt: skip
        for j in range(len(methods)):
            row += [f"{int(d['n_success'][g, j])}/{n_seeds}", _cell(d["median_updates_to_success"][g, j], ",.0f"),
                    _cell(100 * d["median_final_error"][g, j], ".2f") + " %"]  # fmt: skip
        row += [_cell(100 * d["chance_error"][g], ".2f") + " %", f"{int(d['paper_successes'][g])}/5"]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Settings: " + "; ".join(f"{TITLES[k]}: {SOURCES[k]}" for k in p["tasks"]) + ".",
              "MSGD-C runs use alpha = 0 (no Omega); both methods clip at the task's threshold.",
              "Best constant output: the error of an output that ignores each sequence's content (the targets' mean, "
              "or the most frequent class of each scored step), on 5,000 fresh sequences: a run near it learned "
              "nothing."]  # fmt: skip
    if len(d["test_group"]):
        length, n_test = int(d["test_length"]), int(d["n_test"])
        lines += ["", f"## Errors at length {length} ({n_test:,} fresh sequences; wrong: squared error > 0.04)", "",
                  "| task | method | " + " | ".join(f"seed {int(s)}" for s in d["seeds"]) + " | median | paper |",
                  "|" + "---|" * (n_seeds + 4)]  # fmt: skip
        for i, g in enumerate(d["test_group"]):
            for j, method in enumerate(methods):
                errors = [_cell(100 * e, ".2f") + " %" for e in d["test_error"][i, j]]
                median = _cell(100 * _median(d["test_error"][i, j]), ".2f") + " %"
                paper = "< 1 % (MSGD-CR)" if method == "MSGD-CR" else "-"
                lines.append(
                    f"| {TITLES[gs[g]['setting']]} | {method} | " + " | ".join(errors) + f" | {median} | {paper} |"
                )
    return "\n".join(lines) + "\n"


def main(argv=None) -> list[Path]:
    """Train (or reuse the saved runs), evaluate, plot, save the figure and ``<stem>.md``; return the paths written."""
    return _common().run_figure(
        argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot, default_preset="quick",
        pass_out_dir=True, table=markdown_table,
    )  # fmt: skip


if __name__ == "__main__":
    for path in main():
        print(path)
