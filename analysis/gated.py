"""Gated cells and later initializations beside the paper's RNN: gradient flow by lag, and successes by length.

Issue 12, item 5.  (A) ``||dh_t/dh_k||_2`` against the lag ``t - k`` (``dynrnn.jacobian_products``; the
median of log10 over every window ``(t, t - lag)`` of ``jac_sequences`` temporal-order input sequences of
length ``jac_length`` = 100, from ``h_0 = c_0 = 0``) for seven task models: the RNN with the paper's three
initializations (sigmoid, basic_tanh, smart_tanh), IRNN (relu, ``W_rec = I``; Le et al. 2015), orthogonal
(tanh, Haar ``W_rec``), and PyTorch's GRU and LSTM (``init="uniform"``), at initialization and after a
training of each on temporal order at L = 100 (MSGD-C, lr 0.01, threshold 1, seed 0, at most
``max_updates`` updates, stopping at the first success).  For the LSTM the state is ``(h, c)`` and the
norm plotted is that of the full-state product ``d(h_t, c_t)/d(h_k, c_k)`` (2n x 2n), which includes
the paths through the cell state; for the others it is ``dh_t/dh_k`` (n x n).

(B) Success rate (of ``len(seeds)`` seeds, Wilson 95 % intervals) against the length on temporal order,
the paper's addition (the mean of two marked values, length jittered in [L, 1.1 L)) and the Le et al.
(2015) adding variant ``le_adding`` (the plain sum, one marker in each half; predicting a constant
scores MSE 1/6 = 0.167), for the LSTM and GRU (MSGD-C only: ``dynrnn.train`` refuses MSGD-CR for gated
cells, since Omega (eqs. 9-10) is defined for the RNN's step Jacobian only) and the RNN with smart_tanh
init (MSGD-C and MSGD-CR).  Success, as in the paper: < 1 % errors on ``n_eval`` fresh sequences (a
sequence of addition or le_adding is wrong when its squared error exceeds 0.04).  Settings per task
(`TASK_SETTINGS`): temporal order lr 0.01, threshold 1, alpha 4 (the paper's); addition and le_adding
lr 0.01, threshold 6, alpha 0.5 (the arXiv v2 appendix's addition settings); the same for every cell.
Besides, IRNN (MSGD-C) on le_adding at T = ``irnn_length`` (150 in the medium preset), whose final MSE
(``mean (y - target)^2`` of the final parameters on ``n_eval`` fresh sequences; ``train_loss`` in the
run's history is the same batch-mean squared error, no factor 1/2) is reported against 0.167.

Reference points (quoted in the table, not reproduced by the quick preset): the LSTM solves both adding
and temporal order at these lengths (Hochreiter & Schmidhuber 1997); IRNN reaches an MSE well below
0.167 on the Le adding task at T = 150 (Le, Jaitly & Hinton 2015).

Training: one ``dynrnn.train_population`` per (task, cell, length) group (the RNN's group holds both
methods; members share cell, task, n_units, batch and length) and one per model of panel A, each
checkpointed to ``<out>/runs/gated_<preset>_<group>_checkpoint.npz`` every ``checkpoint_every`` seconds
and resumed from it; each finished run is saved to ``<out>/runs/gated_<preset>_<group>_seed<S>_<method>.npz``
and reused on a rerun when its settings match (a rerun only re-evaluates and re-plots).  Besides the
figure the script writes the table as markdown next to it (``<stem>.md``).

Presets:

* ``quick`` (the default, and what ``dynrnn figures`` runs): 20 units, 2 seeds, lengths 10 and 20, at
  most 300 updates per run (panel A's training too, at L = 100), IRNN on le_adding at T = 20.  About
  1-2 minutes on one core.  It tests the pipeline and does NOT test the claims (the figure says so).
* ``medium`` (``dynrnn figures --preset medium gated``, written as ``gated_medium``): 50 units for every
  cell, 5 seeds, lengths 50, 100 and 150, at most 20,000 updates per run, IRNN on le_adding at T = 150,
  panel A at L = 100 on 5 sequences.  Estimate from the measured cost of one update of one member at
  n = 50, B = 20, T = 100 on one thread (RNN 2.8 ms, GRU 4.6 ms, LSTM 6.9 ms; proportional to T): one
  update of every (task, length) group's members (RNN 10, GRU 5, LSTM 5) costs 85.5 ms x (50 + 100 +
  150) / 100 = 257 ms per task, 770 ms for the three tasks; IRNN 21 ms and panel A's seven runs 26 ms:
  0.82 s per update on one thread, 0.41 s on 2 cores, plus about 15 % for the periodic checks (1,000
  sequences every 200 updates): 20,000 x 0.47 s = 2.6 h if no run stops early (successes stop sooner),
  plus a few minutes of final evaluations.  Measured (2-core AVX-512 Xeon, float64, resumed over five
  sessions, partly beside other jobs): the 35 groups' wall times, periodic checks included, add up to
  3.95 h on 2 cores (the LSTM groups at L = 150 alone 1.0 h), then the final evaluations and plot
  (4.2 min on a fresh clone, which reuses every committed run); the estimate above misses partly
  through the other jobs and partly through the GRU and LSTM populations, whose 5 members split 3 + 2
  over the 2 threads, so one thread idles for a third of each update.
* ``paper`` scale (the paper's 5M updates per run) is not provided: it is a GPU job (``--backend cuda``,
  one thread block per member) or one for several machines sharing ``runs/``, about 250 times the medium
  preset.

Run alone (``python analysis/gated.py --preset quick``) or via ``dynrnn figures gated``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

TASK_SETTINGS = {
    "temporal_order": {"lr": 0.01, "threshold": 1.0, "alpha": 4.0},  # the paper's (Sec. 4.1)
    "addition": {"lr": 0.01, "threshold": 6.0, "alpha": 0.5},  # arXiv v2 appendix (second-hand)
    "le_adding": {"lr": 0.01, "threshold": 6.0, "alpha": 0.5},  # as addition
}
#: Where ``analysis/_gated_torch_reference.py`` writes its PyTorch runs; the table quotes them when present.
TORCH_REFERENCE_CSV = Path(__file__).resolve().parent.parent / "figures" / "gated_torch_reference.csv"
TASK_TITLES = {"temporal_order": "temporal order", "addition": "addition (the paper's)",
               "le_adding": "adding (Le et al. 2015)"}  # fmt: skip
#: Panel A's models: name -> (cell, init).
MODELS = {
    "sigmoid": ("rnn", "sigmoid"),
    "basic_tanh": ("rnn", "basic_tanh"),
    "smart_tanh": ("rnn", "smart_tanh"),
    "irnn": ("rnn", "irnn"),
    "orthogonal": ("rnn", "orthogonal"),
    "gru": ("gru", "uniform"),
    "lstm": ("lstm", "uniform"),
}
MODEL_LABELS = {"sigmoid": "RNN, sigmoid init", "basic_tanh": "RNN, basic tanh init",
                "smart_tanh": "RNN, smart tanh init", "irnn": "IRNN (relu, $W_{rec} = I$)",
                "orthogonal": "RNN, orthogonal init", "gru": "GRU", "lstm": "LSTM (full state $(h, c)$)"}  # fmt: skip
#: Panel B's series: name -> (cell, init, method).
SERIES = {
    "rnn_MSGD-CR": ("rnn", "smart_tanh", "MSGD-CR"),
    "rnn_MSGD-C": ("rnn", "smart_tanh", "MSGD-C"),
    "gru_MSGD-C": ("gru", "uniform", "MSGD-C"),
    "lstm_MSGD-C": ("lstm", "uniform", "MSGD-C"),
}
SERIES_LABELS = {"rnn_MSGD-CR": "RNN (smart tanh), MSGD-CR", "rnn_MSGD-C": "RNN (smart tanh), MSGD-C",
                 "gru_MSGD-C": "GRU, MSGD-C", "lstm_MSGD-C": "LSTM, MSGD-C"}  # fmt: skip
#: One colour, line style and marker per model (Okabe-Ito); panel B's RNN series take smart_tanh's colour.
STYLES = {
    "sigmoid": {"color": "#56B4E9", "ls": (0, (1, 1)), "marker": "v"},
    "basic_tanh": {"color": "#0072B2", "ls": "-.", "marker": "s"},
    "smart_tanh": {"color": "#009E73", "ls": "-", "marker": "o"},
    "irnn": {"color": "#E69F00", "ls": (0, (5, 1.5, 1, 1.5, 1, 1.5)), "marker": "D"},
    "orthogonal": {"color": "#CC79A7", "ls": (0, (8, 2)), "marker": "^"},
    "gru": {"color": "#D55E00", "ls": "--", "marker": "P"},
    "lstm": {"color": "#000000", "ls": "-", "marker": "X"},
    "rnn_MSGD-CR": {"color": "#009E73", "ls": "-", "marker": "o"},
    "rnn_MSGD-C": {"color": "#009E73", "ls": ":", "marker": "s", "mfc": "white"},
    "gru_MSGD-C": {"color": "#D55E00", "ls": "--", "marker": "P"},
    "lstm_MSGD-C": {"color": "#000000", "ls": "-", "marker": "X"},
}
LE_BASELINE_MSE = 1.0 / 6.0
YMIN_A = -30.0  # panel A's lower limit (log10); curves below it are stated in words
MEDIUM = {
    "name": "medium",
    "tasks": tuple(TASK_SETTINGS),
    "series": tuple(SERIES),
    "models": tuple(MODELS),
    "n_units": 50,
    "seeds": (0, 1, 2, 3, 4),
    "lengths": (50, 100, 150),
    "batch_size": 20,
    "max_updates": 20_000,
    "eval_every": 200,
    "n_check": 1000,
    "n_eval": 10_000,
    "success_error": 0.01,
    "stop_on_success": True,
    "irnn_length": 150,  # IRNN on le_adding (Le et al.: MSE well below 0.167 at T = 150)
    "jac_length": 100,  # panel A: temporal order at L = 100
    "jac_sequences": 5,
    "jac_seed": 0,  # the seed of panel A's trainings and of its input sequences
    "n_workers": None,  # threads of each population; None: every core this process may use
    "checkpoint_every": 300.0,
}
QUICK = {**MEDIUM, "name": "quick", "n_units": 20, "seeds": (0, 1), "lengths": (10, 20), "max_updates": 300,
         "eval_every": 100, "n_check": 200, "n_eval": 500, "irnn_length": 20, "jac_sequences": 2}  # fmt: skip
PRESETS = {"quick": QUICK, "medium": MEDIUM}
STEM = "gated"
TRAIN_KEYS = ("batch_size", "max_updates", "eval_every", "n_check", "n_eval", "success_error", "stop_on_success")


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def train_kwargs(p: dict, task: str, cell: str, init: str, method: str, length: int, seed: int) -> dict:
    """The ``dynrnn.train`` keyword arguments of one run (alpha only for MSGD-CR)."""
    s = TASK_SETTINGS[task]
    kwargs = {"task": task, "init": init, "method": method, "length": int(length), "seed": int(seed),
              "n_units": int(p["n_units"]), "lr": float(s["lr"]), "threshold": float(s["threshold"]),
              "alpha": float(s["alpha"]) if method == "MSGD-CR" else 0.0}  # fmt: skip
    kwargs.update({key: p[key] for key in TRAIN_KEYS})
    kwargs["cell"] = cell
    return kwargs


def run_path(out_dir, p: dict, group: str, seed: int, method: str) -> Path:
    """Where a finished run is saved: ``<out>/runs/gated_<preset>_<group>_seed<S>_<method>.npz``."""
    return Path(out_dir) / "runs" / f"{STEM}_{p['name']}_{group}_seed{int(seed)}_{method}.npz"


def train_group(p: dict, group: str, runs: dict, out_dir, backend: str = "cpu") -> dict:
    """``{key: TrainResult}`` for ``runs`` (``{key: (seed, method, kwargs)}``): saved runs reused, the rest trained.

    The missing runs train as one `dynrnn.train_population`, checkpointed to
    ``<out>/runs/gated_<preset>_<group>_checkpoint.npz`` and resumed from it; finished runs are saved
    to `run_path` and the checkpoint is removed.
    """
    import dynrnn

    paths = {key: run_path(out_dir, p, group, seed, method) for key, (seed, method, _) in runs.items()}
    results = {key: _common().load_trained(paths[key], runs[key][2]) for key in runs}
    missing = [key for key in runs if results[key] is None]
    if missing:
        checkpoint = Path(out_dir) / "runs" / f"{STEM}_{p['name']}_{group}_checkpoint.npz"
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        population = dynrnn.train_population(
            [runs[key][2] for key in missing], checkpoint=checkpoint, checkpoint_every=float(p["checkpoint_every"]),
            resume=True, n_threads=p["n_workers"], backend=backend,
        )  # fmt: skip
        for key, result in zip(missing, population.runs, strict=True):
            result.save(paths[key])
            results[key] = result
        checkpoint.unlink(missing_ok=True)
    return results


def lag_profile(net, inputs) -> np.ndarray:
    """Median over windows and sequences of ``log10 ||dx_t/dx_{t-lag}||_2``, for lag = 0 .. T.

    ``inputs`` (T, B, m): each sequence runs from the zero state (``(h_0, c_0) = 0`` for an LSTM,
    whose products are those of the full state).  NaN where no window is finite.
    """
    import dynrnn

    T = inputs.shape[0]
    per_lag = [[] for _ in range(T + 1)]
    for b in range(inputs.shape[1]):
        res = dynrnn.jacobian_products(net, np.zeros(getattr(net, "state_size", net.n_units)), inputs[:, b, :])
        for lag in range(T + 1):
            per_lag[lag].append(np.diagonal(res.log_norm, offset=-lag))
    out = np.full(T + 1, np.nan)
    for lag, values in enumerate(per_lag):
        v = np.concatenate(values)
        v = v[np.isfinite(v)]
        if v.size:
            out[lag] = np.median(v) / np.log(10)
    return out


def _median(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else np.nan


def _mse(net, task: str, length: int, n: int, seed: int) -> float:
    """Mean squared error ``mean (y - target)^2`` of a readout task model on ``n`` fresh sequences."""
    import dynrnn
    from dynrnn.training.model import task_outputs

    if net is None:
        return np.nan
    batch = getattr(dynrnn.tasks, task)(n, int(length), rng=np.random.default_rng(seed))
    y = np.asarray(task_outputs(net, batch))[-1]
    with np.errstate(all="ignore"):
        return float(np.mean(np.sum((y - batch.targets) ** 2, axis=-1)))


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Train (or load) panel A's models and panel B's groups; the Jacobian profiles and success counts.

    Returns the plotted arrays: ``jac_lag`` (L + 1,), ``jac_init_log10`` and ``jac_trained_log10`` (models,
    L + 1), ``jac_trained_error``, ``jac_trained_updates`` (models,); for panel B, indexed by group g =
    (task, length) in task-major order, series (``p["series"]``) and seed: ``success``,
    ``updates_to_success`` (-1 where none), ``final_error``, ``final_mse`` (NaN for temporal order) (G, K,
    S); ``n_success``, ``ci_low``, ``ci_high``, ``median_updates_to_success`` (G, K); ``group_task`` (index
    into ``p["tasks"]``), ``group_length`` (G,); and for IRNN on le_adding ``irnn_success``,
    ``irnn_final_error``, ``irnn_final_mse``, ``irnn_train_loss`` (the last logged batch MSE) (S,).
    """
    import dynrnn

    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in p["seeds"]]
    models, series, tasks = list(p["models"]), list(p["series"]), list(p["tasks"])

    # (A) Jacobian profiles at initialization and after training on temporal order at jac_length.
    L, jseed = int(p["jac_length"]), int(p["jac_seed"])
    inputs = dynrnn.tasks.temporal_order(int(p["jac_sequences"]), L, rng=np.random.default_rng([jseed, 1])).inputs
    d = {"jac_lag": np.arange(L + 1)}
    d["jac_init_log10"] = np.full((len(models), L + 1), np.nan)
    d["jac_trained_log10"] = np.full((len(models), L + 1), np.nan)
    d["jac_trained_error"] = np.full(len(models), np.nan)
    d["jac_trained_updates"] = np.zeros(len(models), int)
    for i, name in enumerate(models):
        cell, init = MODELS[name]
        kwargs = train_kwargs(p, "temporal_order", cell, init, "MSGD-C", L, jseed)
        result = train_group(p, f"A_{name}_L{L}", {0: (jseed, "MSGD-C", kwargs)}, out_dir, backend)[0]
        net0 = dynrnn.init_network(init, int(p["n_units"]), 6, 4, rng=np.random.default_rng([jseed, 2]), cell=cell)
        d["jac_init_log10"][i] = lag_profile(net0, inputs)
        if result.net is not None:
            d["jac_trained_log10"][i] = lag_profile(result.net, inputs)
        d["jac_trained_error"][i] = result.final_error
        d["jac_trained_updates"][i] = result.n_updates

    # (B) success against length.
    gs = [(t, int(length)) for t in tasks for length in p["lengths"]]
    shape = (len(gs), len(series), len(seeds))
    d |= {"success": np.zeros(shape, bool), "updates_to_success": np.full(shape, -1),
          "final_error": np.full(shape, np.nan), "final_mse": np.full(shape, np.nan)}  # fmt: skip
    for g, (task, length) in enumerate(gs):
        for cell in dict.fromkeys(SERIES[k][0] for k in series):
            runs = {(k, seed): (seed, SERIES[k][2], train_kwargs(p, task, *SERIES[k], length, seed))
                    for k in series if SERIES[k][0] == cell for seed in seeds}  # fmt: skip
            results = train_group(p, f"B_{task}_{cell}_L{length}", runs, out_dir, backend)
            for (k, seed), r in results.items():
                j, s = series.index(k), seeds.index(seed)
                d["success"][g, j, s] = r.success
                d["updates_to_success"][g, j, s] = -1 if r.updates_to_success is None else r.updates_to_success
                d["final_error"][g, j, s] = r.final_error
                if task != "temporal_order":
                    d["final_mse"][g, j, s] = _mse(r.net, task, length, int(p["n_eval"]), 7 + seed)
    d["n_success"] = d["success"].sum(axis=-1)
    d["ci_low"], d["ci_high"] = _common().wilson_interval(d["n_success"], len(seeds))
    to_success = np.where(d["success"], d["updates_to_success"], np.nan)
    d["median_updates_to_success"] = np.array([[_median(row) for row in group] for group in to_success])
    d["group_task"] = np.array([tasks.index(t) for t, _ in gs])
    d["group_length"] = np.array([length for _, length in gs])
    d["seeds"] = np.array(seeds)

    # IRNN on the Le et al. adding task (their T = 150 in the medium preset).
    T_irnn = int(p["irnn_length"])
    kwargs = {seed: train_kwargs(p, "le_adding", "rnn", "irnn", "MSGD-C", T_irnn, seed) for seed in seeds}
    runs = {seed: (seed, "MSGD-C", kwargs[seed]) for seed in seeds}
    results = train_group(p, f"B_le_adding_irnn_L{T_irnn}", runs, out_dir, backend)
    d["irnn_success"] = np.array([results[s].success for s in seeds])
    d["irnn_final_error"] = np.array([results[s].final_error for s in seeds])
    d["irnn_final_mse"] = np.array([_mse(results[s].net, "le_adding", T_irnn, int(p["n_eval"]), 7 + s) for s in seeds])
    d["irnn_train_loss"] = np.array([results[s].history.train_loss[-1] if len(results[s].history.train_loss)
                                     else np.nan for s in seeds])  # fmt: skip
    d["irnn_updates"] = np.array([results[s].n_updates for s in seeds])
    return d


def _budget_text(p: dict) -> str:
    text = (f"{p['name']} preset: {p['n_units']} units per cell, {len(p['seeds'])} seeds, $\\leq$ "
            f"{p['max_updates']:,} updates per run (stop at the first success), batch {p['batch_size']}")  # fmt: skip
    if p["name"] == "quick":
        text += ".\nTiny budget and short sequences: this preset tests the pipeline, NOT the claims"
    return text


def plot(d: dict, p: dict):
    """(a, b) median Jacobian-product norm by lag, at init and trained; (c-e) success rate by length per task."""
    cm = _common()
    models, series, tasks = list(p["models"]), list(p["series"]), list(p["tasks"])
    fig = cm.new_figure(figsize=(12.0, 9.6))
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.0))
    ax_a, ax_b, ax_key_a = top.subplots(1, 3, gridspec_kw={"width_ratios": (1, 1, 0.62)})
    ax_b.sharey(ax_a)
    lag = d["jac_lag"]
    every = max(1, len(lag) // 8)
    trained = f"(b) after training on temporal order, L = {len(lag) - 1}"
    for ax, key, title in ((ax_a, "jac_init_log10", "(a) at initialization"), (ax_b, "jac_trained_log10", trained)):
        for i, name in enumerate(models):
            style = STYLES[name]
            ax.plot(lag, d[key][i], lw=1.8, ms=6.5, markevery=(i % every, every), color=style["color"],
                    ls=style["ls"], marker=style["marker"], mec="black", mew=0.5, label=MODEL_LABELS[name])  # fmt: skip
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_xlabel(r"lag $t - k$")
        ax.set_title(title)
        ax.set_ylim(YMIN_A, 3.0)
        off = [MODEL_LABELS[n].split(",")[-1].strip() for i, n in enumerate(models) if np.nanmin(d[key][i]) < YMIN_A]
        for i, name in enumerate(models):  # a curve that leaves the axes: its value at the largest lag, in words
            if np.nanmin(d[key][i]) < YMIN_A and np.isfinite(d[key][i, -1]):
                ax.text(0.97, 0.04 + 0.08 * off.index(MODEL_LABELS[name].split(",")[-1].strip()),
                        f"{MODEL_LABELS[name]}: $10^{{{d[key][i, -1]:.0f}}}$ at lag {int(lag[-1])}",
                        transform=ax.transAxes, ha="right", fontsize=9.5, color=STYLES[name]["color"],
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})  # fmt: skip
        ax.set_xlim(0, lag[-1])
        ax.grid(True, color="0.92", lw=0.8)
    ax_a.set_ylabel("$\\log_{10}$ median $\\|\\partial h_t / \\partial h_k\\|_2$\n(over windows and sequences)")
    ax_b.tick_params(labelleft=False)
    handles, labels = ax_a.get_legend_handles_labels()
    ax_key_a.set_axis_off()
    ax_key_a.legend(handles, labels, loc="center left", fontsize=10, title="(a), (b): model", title_fontsize=10.5)
    ax_key_a.text(0.0, 0.02, f"{int(p['jac_sequences'])} temporal-order input\nsequences from $h_0 = 0$;\n"
                  "trained: MSGD-C, seed 0;\nLSTM: norm of the full-state\nproduct $\\partial(h_t, c_t)/"
                  "\\partial(h_k, c_k)$", transform=ax_key_a.transAxes, fontsize=9.5, va="bottom")  # fmt: skip

    axes = bottom.subplots(1, len(tasks) + 1, gridspec_kw={"width_ratios": (1,) * len(tasks) + (0.62,)})
    n_seeds = len(d["seeds"])
    for t, (ax, task) in enumerate(zip(axes[:-1], tasks, strict=True)):
        g = np.flatnonzero(d["group_task"] == t)
        lengths = d["group_length"][g]
        span = np.ptp(lengths) if len(lengths) > 1 else 10.0
        for j, k in enumerate(series):
            style = STYLES[k]
            x = lengths + (j - (len(series) - 1) / 2) * 0.025 * span
            rate = d["n_success"][g, j] / n_seeds
            yerr = np.vstack([rate - d["ci_low"][g, j], d["ci_high"][g, j] - rate])
            ax.errorbar(x, rate, yerr=yerr, color=style["color"], ls=style["ls"], marker=style["marker"], ms=7,
                        mfc=style.get("mfc", style["color"]), mec=style["color"] if "mfc" in style else "black",
                        mew=1.0, lw=1.6, capsize=3, label=SERIES_LABELS[k])  # fmt: skip
        if task == "le_adding":
            T_irnn = int(p["irnn_length"])
            k_irnn = int(np.sum(d["irnn_success"]))
            lo, hi = cm.wilson_interval(k_irnn, n_seeds)
            s = STYLES["irnn"]
            rate = k_irnn / n_seeds
            ax.errorbar([T_irnn + 0.05 * span], [rate], yerr=[[rate - lo], [hi - rate]],
                        color=s["color"], marker=s["marker"], ms=8, mec="black", ls="none", capsize=3,
                        label=f"IRNN, MSGD-C (T = {T_irnn} only)")  # fmt: skip
        ax.set_title(f"({'cde'[t]}) {TASK_TITLES[task]}")
        ax.set_xlabel("length L (T)")
        ax.set_xticks(lengths)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(True, color="0.92", lw=0.8)
        if t:
            ax.sharey(axes[0])
            ax.tick_params(labelleft=False)
    axes[0].set_ylabel(f"success rate (of {n_seeds} seeds,\nWilson 95 % interval)")
    handles, labels = axes[len(tasks) - 1].get_legend_handles_labels()
    axes[-1].set_axis_off()
    axes[-1].legend(handles, labels, loc="center left", fontsize=10, title="(c)-(e): model, method",
                    title_fontsize=10.5)  # fmt: skip
    axes[-1].text(0.0, 0.02, "success: < 1 % errors on\n" f"{int(p['n_eval']):,} fresh sequences;\n"
                  "MSGD-CR is refused for\ngated cells (Omega is the\nRNN's)", transform=axes[-1].transAxes,
                  fontsize=9.5, va="bottom")  # fmt: skip
    fig.suptitle(f"Gated cells and later initializations beside the paper's RNN.\n{_budget_text(p)}", fontsize=12)
    return fig


def _cell(value, fmt: str) -> str:
    return "-" if value is None or not np.isfinite(value) else format(value, fmt)


def markdown_table(d: dict, p: dict, stem: str = STEM) -> str:
    """The success counts and median updates to success per task, length, cell and method; IRNN's MSE."""
    series, tasks, n_seeds = list(p["series"]), list(p["tasks"]), len(d["seeds"])
    command = "dynrnn figures " + ("" if p["name"] == "quick" else f"--preset {p['name']} ") + "gated"
    lines = [
        f"# Gated cells beside the paper's RNN (issue 12): `{p['name']}` preset",
        "",
        f"Written by `analysis/gated.py` with `{stem}.png`, `.json` and `.csv`; regenerate with `{command}`.",
        f"Budget: {p['n_units']} units per cell, at most {p['max_updates']:,} updates per run (stopping at the first "
        f"success), {n_seeds} seeds, batch {p['batch_size']}. Success: < {100 * p['success_error']:g} % errors on "
        f"{p['n_eval']:,} fresh sequences (addition, le_adding: a sequence is wrong if its squared error > 0.04). "
        "MSGD-CR is refused for the GRU and LSTM (Omega is defined for the RNN's step Jacobian only).",
    ]
    if p["name"] == "quick":
        lines.append("The quick preset's budget and lengths are far below the claims': it does not test them.")
    lines += ["", "| task | L | cell, init | method | successes | Wilson 95 % | median updates to success "
              "| median final error | median final MSE |", "|" + "---|" * 9]  # fmt: skip
    for g in range(len(d["group_length"])):
        task, length = tasks[int(d["group_task"][g])], int(d["group_length"][g])
        for j, k in enumerate(series):
            cell, init, method = SERIES[k]
            lines.append(
                f"| {task} | {length} | {cell}, {init} | {method} | {int(d['n_success'][g, j])}/{n_seeds} "
                f"| [{d['ci_low'][g, j]:.2f}, {d['ci_high'][g, j]:.2f}] "
                f"| {_cell(d['median_updates_to_success'][g, j], ',.0f')} "
                f"| {_cell(100 * _median(d['final_error'][g, j]), '.2f')} % "
                f"| {_cell(_median(d['final_mse'][g, j]), '.4f')} |"
            )
    T_irnn = int(p["irnn_length"])
    k_irnn = int(np.sum(d["irnn_success"]))
    lines += [
        "",
        f"## IRNN on the Le et al. adding task at T = {T_irnn} (MSGD-C, lr 0.01, threshold 6)",
        "",
        "| seed | updates | success | final error | final MSE (fresh sequences) | last logged train MSE |",
        "|---|---|---|---|---|---|",
    ]
    for s, seed in enumerate(d["seeds"]):
        lines.append(
            f"| {int(seed)} | {int(d['irnn_updates'][s]):,} | {bool(d['irnn_success'][s])} "
            f"| {_cell(100 * d['irnn_final_error'][s], '.2f')} % | {_cell(d['irnn_final_mse'][s], '.4f')} "
            f"| {_cell(d['irnn_train_loss'][s], '.4f')} |"
        )
    lines += [
        "",
        f"Successes {k_irnn}/{n_seeds}; median final MSE {_cell(_median(d['irnn_final_mse']), '.4f')} against the "
        f"constant predictor's {LE_BASELINE_MSE:.3f}.",
        "",
        "## Reference points",
        "",
        "- LSTM solves both the adding and the temporal-order problems at these lengths (Hochreiter & Schmidhuber "
        "1997).",
        "- IRNN reaches an MSE well below 0.167 on the Le et al. adding task at T = 150 (Le, Jaitly & Hinton 2015).",
        *torch_reference_lines(),
        "",
        f"## Panel A: networks trained on temporal order at L = {len(d['jac_lag']) - 1} (MSGD-C, seed 0)",
        "",
        "| model | updates | final error | median log10 norm at lag 10 (init) | (trained) |",
        "|---|---|---|---|---|",
    ]
    lag = min(10, len(d["jac_lag"]) - 1)
    for i, name in enumerate(p["models"]):
        lines.append(
            f"| {MODEL_LABELS[name].replace('$', '`')} | {int(d['jac_trained_updates'][i]):,} "
            f"| {_cell(100 * d['jac_trained_error'][i], '.2f')} % | {_cell(d['jac_init_log10'][i, lag], '.2f')} "
            f"| {_cell(d['jac_trained_log10'][i, lag], '.2f')} |"
        )
    return "\n".join(lines) + "\n"


def torch_reference_lines(path: Path = TORCH_REFERENCE_CSV) -> list[str]:
    """One bullet per PyTorch reference run in ``path`` (none if it is absent): when it first scored < 1 % errors."""
    if not path.exists():
        return []
    import csv

    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    runs: dict[tuple, list[tuple[int, float]]] = {}
    for r in rows:
        key = (r["cell"], r["optimizer"], float(r["lr"]), int(r["length"]), int(r["seed"]))
        runs.setdefault(key, []).append((int(r["update"]), float(r["error"])))
    lines = [f"- PyTorch on dynrnn's temporal-order generator (`{path.name}`, written by "
             "`analysis/_gated_torch_reference.py`: 50 units, batch 20, float64, clipped to norm 1, error on 1,000 "
             "fresh sequences every 500 updates):"]  # fmt: skip
    for (cell, optimizer, lr, length, seed), checks in sorted(runs.items()):
        checks.sort()
        solved = [u for u, e in checks if e < 0.01]
        last_update, last_error = checks[-1]
        outcome = (f"< 1 % errors first at update {solved[0]:,}" if solved
                   else f"not solved in {last_update:,} updates (last error {100 * last_error:.1f} %)")  # fmt: skip
        lines.append(f"  - torch.nn.{cell.upper()}, {optimizer} lr {lr:g}, L = {length}, seed {seed}: {outcome}")
    return lines


def main(argv=None) -> list[Path]:
    """Train (or reuse the saved runs), evaluate, plot, save the figure and ``<stem>.md``; return the paths written."""
    return _common().run_figure(
        argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot, default_preset="quick",
        pass_out_dir=True, table=markdown_table,
    )  # fmt: skip


if __name__ == "__main__":
    for path in main():
        print(path)
