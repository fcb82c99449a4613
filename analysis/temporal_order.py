"""Temporal order (Fig. 7): success rate against sequence length for MSGD, MSGD-C and MSGD-CR, three inits.

Pascanu et al. (2013), Sec. 4.1 and Fig. 7: a 50-unit RNN learns the temporal order task (paper.md Sec.
4.2, 5.4) from the sigmoid, basic tanh or smart tanh initialization with plain SGD (MSGD), SGD with
gradient-norm clipping (MSGD-C, Algorithm 1) or clipping plus the vanishing-gradient regularizer Omega
(MSGD-CR, eq. 10); a run succeeds when fewer than 1 % of 10,000 fresh sequences are misclassified.  The
paper's settings: lr 0.01, no momentum, clipping threshold 1, alpha = 4 (the authors' code used 2; the
preset's ``alpha`` says which is used and the figure states it), mini-batches of 20, at most 5M updates,
5 seeds.  The paper's claim: clipping matters more as the sequences get longer, and MSGD-CR succeeds
where the others fail.

Every (init, method, length, seed) is one ``dynrnn.train`` run, executed by ``dynrnn.sweep`` on a local
Dask cluster (one worker per core) and written to the SQLite store ``<out>/temporal_order.sqlite`` as
soon as it finishes; the figure is then computed from that store (``load_runs``), so an interrupted
``dynrnn figures temporal_order`` resumes where it stopped and a rerun only re-plots.  Both presets share
the store; each reads only the runs of its own grid and settings.

Presets:

* ``quick`` (the default, and what ``dynrnn figures`` runs): 5 seeds (as the paper), lengths 10, 20,
  30, 40, at most 10,000 updates per run (180 runs), 1000 sequences per periodic check, success
  confirmed on 10,000; the paper's network, lr, threshold, batch size and alpha.  About 7-8 minutes
  on 2 cores (the sweep trains each length as populations; 7.4 min from a fresh clone, 2026-12-02).  At these lengths
  and budgets the methods already differ (from the sigmoid init only MSGD-CR learns, at length 10;
  from the tanh inits the successes thin out at 30-40 at different lengths per method), but with
  10,000 updates this is a small-budget version of Fig. 7, not the paper's.
* ``medium`` (``dynrnn figures --preset medium temporal_order``, written as ``temporal_order_medium``):
  the paper's grid (lengths 20, 50, 100, 150, 200; 3 inits x 3 methods x 5 seeds: 225 runs) and
  settings with at most 25,000 updates per run, the largest budget that fits about 2 hours on 2
  cores: the engine's 1,050 updates/s at T = 100 on 2 cores (benchmarks/RESULTS.md,
  bench_population) give 45 x 25,000 x (20 + 50 + 100 + 150 + 200) / 100 / 1,050 s = 1.5 h if no
  run stops early, plus the periodic checks.  Measured: about 3.2 h of wall time over two sessions on
  2 cores shared with other work (the 70 runs at T = 150 and 200 alone: 1.5 h; a population of 5 at
  T = 200 took 12-13 min on one core: 170 member-updates/s, 0.64 of the benchmark's per-core rate scaled
  to T = 200; the rest is the periodic checks and the work beside it).  The sweep runs populations of 5
  and keeps its store in ``runs/temporal_order_medium.sqlite`` (committed), so an interrupted sweep resumes, in a later
  session too, losing at most the job in flight.
* ``paper``: 5 seeds, lengths 20, 50, 100, 150, 200, at most 5M updates per run (225 runs).  From the
  same benchmark: 45 x 5M x 5.2 / 1,050 s = 1.1e6 s, about 13 days on 2 cores if every run used its
  budget (successful runs stop early).  Run it on a Dask cluster (set ``PAPER["scheduler"]`` to the
  scheduler's address, or call ``compute`` with such a preset) or on a GPU
  (``dynrnn.train_population(..., backend="cuda")`` runs one thread block per member); the store
  makes it resumable.

Run alone (``python analysis/temporal_order.py --preset quick``) or via ``dynrnn figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

INITS = ("sigmoid", "basic_tanh", "smart_tanh")
METHODS = ("MSGD", "MSGD-C", "MSGD-CR")
PAPER = {
    "name": "paper",  # stated on the figure
    "task": "temporal_order",
    "inits": INITS,
    "methods": METHODS,
    "lengths": (20, 50, 100, 150, 200),
    "seeds": (0, 1, 2, 3, 4),
    "n_units": 50,
    "batch_size": 20,
    "lr": 0.01,  # constant, no momentum
    "threshold": 1.0,  # clipping threshold (MSGD-C, MSGD-CR)
    "alpha": 4.0,  # weight of Omega for MSGD-CR: 4 in the paper, 2 in the authors' code
    "max_updates": 5_000_000,
    "eval_every": 200,  # updates between periodic checks
    "n_check": 1000,  # sequences per periodic check
    "n_eval": 10_000,  # sequences that confirm a success (< success_error)
    "success_error": 0.01,
    "scheduler": None,  # None: a local Dask cluster (or process pool); "serial"; or "tcp://host:8786"
    "n_workers": None,  # local workers; None: one per core
    "population_size": None,  # runs per dynrnn.train_population job; None: the sweep's default
}
QUICK = {**PAPER, "name": "quick", "lengths": (10, 20, 30, 40), "seeds": (0, 1, 2, 3, 4), "max_updates": 10_000}
MEDIUM = {
    **PAPER,
    "name": "medium",
    "max_updates": 25_000,  # the largest budget whose grid takes about 2 h on 2 cores (module docstring)
    "population_size": 5,  # small jobs: an interrupted sweep loses at most one job per worker
}
FULL = PAPER  # house-style name for the full-size preset
PRESETS = {"paper": PAPER, "medium": MEDIUM, "quick": QUICK}
STEM = "temporal_order"
STORE_NAME = "temporal_order.sqlite"  # the quick preset's store (not committed)
RUN_FIELDS = ("init", "method", "length", "seed", "success", "updates_to_success", "n_updates", "final_error",
              "best_error", "diverged", "status")  # fmt: skip
# Settings passed to every dynrnn.train run of the sweep (alpha is per method, see _sweeps).
TRAIN_SETTINGS = ("n_units", "batch_size", "lr", "threshold", "max_updates", "eval_every", "n_check", "n_eval",
                  "success_error")  # fmt: skip
INIT_TITLES = {"sigmoid": "sigmoid", "basic_tanh": "basic tanh", "smart_tanh": "smart tanh"}
# Okabe-Ito blue, orange and reddish purple (colour-blind safe);
METHOD_STYLE = {  # open large circle, medium square, small filled triangle: coinciding curves stay visible
    "MSGD": {"color": "#0072B2", "marker": "o", "ms": 10, "mfc": "none", "mew": 1.6, "ls": "-"},
    "MSGD-C": {"color": "#E69F00", "marker": "s", "ms": 6.5, "mfc": "none", "mew": 1.6, "ls": "--"},
    "MSGD-CR": {"color": "#CC79A7", "marker": "^", "ms": 5.5, "ls": ":"},
}


def _common():
    """Import ``analysis/_common.py`` however this script was loaded (alone or by path)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import _common

    return _common


def _settings(p: dict) -> dict:
    """The dynrnn.train settings shared by every run, with consistent types (they are part of each run's key)."""
    out = {}
    for key in TRAIN_SETTINGS:
        value = p[key]
        out[key] = float(value) if key in ("lr", "threshold", "success_error") else int(value)
    return out


def _sweeps(p: dict) -> list[dict]:
    """The ``dynrnn.sweep`` calls of the grid: one per distinct alpha setting.

    ``dynrnn.train`` takes alpha only for MSGD-CR (MSGD and MSGD-C must leave it unset), and its default
    for MSGD-CR is the paper's 4, so with ``alpha = 4`` the whole grid is one sweep whose configs leave
    alpha unset; another alpha needs a second sweep for MSGD-CR.
    """
    from dynrnn.training.train import PAPER_ALPHA

    methods = list(p["methods"])
    base = {"tasks": p["task"], "inits": list(p["inits"]), "lengths": list(p["lengths"]), "seeds": list(p["seeds"])}
    settings = _settings(p)
    alpha = float(p["alpha"])
    if alpha == PAPER_ALPHA or "MSGD-CR" not in methods:
        return [{**base, "methods": methods, "settings": settings}]
    plain = [m for m in methods if m != "MSGD-CR"]
    calls = [{**base, "methods": plain, "settings": settings}] if plain else []
    return calls + [{**base, "methods": ["MSGD-CR"], "settings": {**settings, "alpha": alpha}}]


def _grid_records(db, p: dict) -> list[dict]:
    """The records of ``db`` that belong to this preset's grid and settings (read with ``load_runs``)."""
    from dynrnn.training.store import load_runs, run_key
    from dynrnn.training.sweep import grid_configs

    keys = {run_key(config) for call in _sweeps(p) for config in grid_configs(**call)}
    return [r for r in load_runs(db) if r["key"] in keys]


def store_path(out_dir, p: dict) -> Path:
    """The run store of ``p``: ``<out>/temporal_order.sqlite`` (quick), else ``runs/temporal_order_<preset>.sqlite``.

    The longer presets keep their store under ``runs/``, which is committed, so that a sweep of
    hours resumes in a later session (or on another machine) from the runs already finished.
    """
    out_dir = Path(out_dir)
    return out_dir / STORE_NAME if p["name"] == "quick" else out_dir / "runs" / f"{STEM}_{p['name']}.sqlite"


def runs_csv_path(out_dir, p: dict) -> Path:
    """Where the per-run table of preset ``p`` is written (next to the figure)."""
    stem = STEM if p["name"] == "quick" else f"{STEM}_{p['name']}"
    return Path(out_dir) / f"{stem}_runs.csv"


def write_runs_csv(path, records) -> Path:
    """One row per finished run of the grid: `RUN_FIELDS` (updates to success, final error, diverged...)."""
    import csv

    rows = sorted(records, key=lambda r: (INITS.index(r["init"]) if r["init"] in INITS else 9, r["method"],
                                          int(r["length"]), int(r["seed"])))  # fmt: skip
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RUN_FIELDS)
        for r in rows:
            writer.writerow(["" if r.get(k) is None else r.get(k) for k in RUN_FIELDS])
    return Path(path)


def compute(p: dict, backend: str = "cpu", out_dir=None) -> dict:
    """Run (or resume) the sweep into ``<out_dir>/temporal_order.sqlite``, then count successes from the store.

    ``backend`` is recorded only: training runs on the CPU kernels.  Returns the plotted arrays:
    ``lengths`` (L,), and, indexed by (init, method, length) in the order of ``p["inits"]`` and
    ``p["methods"]``, ``success_rate`` (successes / finished runs; NaN where none finished),
    ``ci_low`` and ``ci_high`` (its Wilson 95 % interval), ``n_success`` and ``n_runs`` (finished
    runs), and ``n_failed`` (runs that raised: not counted).  The per-run table is written to
    `runs_csv_path`.
    """
    import dynrnn

    out_dir = Path(_common().DEFAULT_OUT if out_dir is None else out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = store_path(out_dir, p)
    db.parent.mkdir(parents=True, exist_ok=True)
    for call in _sweeps(p):
        dynrnn.sweep(db, **call, scheduler=p["scheduler"], n_workers=p["n_workers"],
                     population_size=p.get("population_size"))  # fmt: skip

    inits, methods, lengths = list(p["inits"]), list(p["methods"]), [int(n) for n in p["lengths"]]
    shape = (len(inits), len(methods), len(lengths))
    n_success, n_runs, n_failed = np.zeros(shape, int), np.zeros(shape, int), np.zeros(shape, int)
    records = _grid_records(db, p)
    write_runs_csv(
        runs_csv_path(out_dir, p), [{**r, "length": int(r["length"])} for r in records if r["status"] == "ok"]
    )
    for r in records:
        i, j, k = inits.index(r["init"]), methods.index(r["method"]), lengths.index(int(r["length"]))
        if r["status"] == "ok":
            n_runs[i, j, k] += 1
            n_success[i, j, k] += bool(r["success"])
        else:
            n_failed[i, j, k] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_runs > 0, n_success / np.maximum(n_runs, 1), np.nan)
    low, high = _common().wilson_interval(n_success, n_runs)
    return {
        "lengths": np.array(lengths),
        "success_rate": rate,
        "ci_low": low,
        "ci_high": high,
        "n_success": n_success,
        "n_runs": n_runs,
        "n_failed": n_failed,
    }


def _preset_text(p: dict) -> str:
    """One line stating the preset's budget on the figure itself."""
    alpha = float(p["alpha"])
    which = {4.0: "as in the paper; the authors' code: 2", 2.0: "as in the authors' code; the paper: 4"}.get(
        alpha, "the paper: 4, the authors' code: 2"
    )
    return (
        f"{p['name']} preset: {len(p['seeds'])} seeds per point, $\\leq$ {p['max_updates']:,} updates per run; "
        f"{p['n_units']} units, lr {p['lr']:g}, batch {p['batch_size']}, threshold {p['threshold']:g}, "
        rf"$\alpha$ = {alpha:g} ({which})"
    )


def _dodge(lengths, n_methods: int) -> float:
    """A small x offset between the methods' points (their intervals would overlap at the same x)."""
    span = float(lengths[-1] - lengths[0]) if len(lengths) > 1 else 1.0
    return 0.025 * span * 3 / max(n_methods, 1)


def plot(d: dict, p: dict):
    """Three panels (sigmoid, basic tanh, smart tanh): success rate against length, one curve per method."""
    cm = _common()
    inits, methods = list(p["inits"]), list(p["methods"])
    fig = cm.new_figure(figsize=(11.0, 4.1))
    axes = fig.subplots(1, len(inits), sharey=True)
    axes = np.atleast_1d(axes)
    lengths = d["lengths"]
    for i, (ax, init) in enumerate(zip(axes, inits, strict=True)):
        offset = _dodge(lengths, len(methods))
        for j, method in enumerate(methods):
            x = lengths + (j - (len(methods) - 1) / 2) * offset
            rate = d["success_rate"][i, j]
            ax.plot(x, rate, label=method, clip_on=False, **METHOD_STYLE[method])
            if "ci_low" in d:  # the Wilson 95 % interval of each rate, dodged so the three stay apart
                yerr = np.vstack([rate - d["ci_low"][i, j], d["ci_high"][i, j] - rate])
                ax.errorbar(x, rate, yerr=yerr, fmt="none", ecolor=METHOD_STYLE[method]["color"], elinewidth=1.0,
                            capsize=2.5, alpha=0.75, clip_on=False)  # fmt: skip
        ax.set_title(f"({'abc'[i]}) {INIT_TITLES.get(init, init)}")
        ax.set_xlabel("sequence length $T$")
        ax.set_xticks(lengths, [str(n) for n in lengths], rotation=0, fontsize="small")
        pad = 0.06 * (lengths[-1] - lengths[0]) if len(lengths) > 1 else 1.0
        ax.set_xlim(lengths[0] - pad, lengths[-1] + pad)
        ax.set_ylim(-0.04, 1.04)
        ax.grid(True, axis="y", color="0.88", lw=0.8)
    axes[0].set_ylabel(f"success rate ({len(p['seeds'])} seeds; bars: Wilson 95 %)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(methods))
    failed = int(np.sum(d["n_failed"]))
    fig.suptitle(
        f"Temporal order (Fig. 7): success rate against length; success = error < {100 * p['success_error']:g} % "
        f"on {p['n_eval']:,} fresh sequences\n{_preset_text(p)}"
        + (f"\n{failed} run(s) raised an error and are not counted (see the store)" if failed else ""),
        fontsize=10.5,
    )
    return fig


def markdown_table(d: dict, p: dict, stem: str = STEM) -> str:
    """Successes / finished runs with their Wilson 95 % interval per (init, method, length), as markdown."""
    command = "dynrnn figures " + ("" if p["name"] == "quick" else f"--preset {p['name']} ") + "temporal_order"
    lengths = [int(n) for n in d["lengths"]]
    n_done, n_grid = int(np.sum(d["n_runs"])), len(p["inits"]) * len(p["methods"]) * len(lengths) * len(p["seeds"])
    n_failed = int(np.sum(d["n_failed"]))
    budget = _preset_text(p).replace("$\\leq$", "<=").replace("$\\alpha$", "alpha")
    lines = [
        f"# Temporal order (Fig. 7): `{p['name']}` preset",
        "",
        f"Written by `analysis/temporal_order.py` with `{stem}.png` and `{stem}_runs.csv` (one row per run); "
        f"regenerate with `{command}` (the sweep resumes from its store).",
        f"{budget}. Success: < "
        f"{100 * p['success_error']:g} % errors on {p['n_eval']:,} fresh sequences. {n_done} of {n_grid} runs "
        "finished" + (f"; {n_failed} raised an error (not counted)." if n_failed else "."),
        "",
        "Each cell: successes / finished runs [Wilson 95 % interval]; - where no run finished.",
        "",
        "| init | method | " + " | ".join(f"T = {n}" for n in lengths) + " |",
        "|" + "---|" * (2 + len(lengths)),
    ]
    for i, init in enumerate(p["inits"]):
        for j, method in enumerate(p["methods"]):
            cells = []
            for k in range(len(lengths)):
                n, s = int(d["n_runs"][i, j, k]), int(d["n_success"][i, j, k])
                cells.append("-" if n == 0 else f"{s}/{n} [{d['ci_low'][i, j, k]:.2f}, {d['ci_high'][i, j, k]:.2f}]")
            lines.append(f"| {INIT_TITLES.get(init, init)} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> list[Path]:
    """Compute (sweep, resumable), plot and save the figure and ``<stem>.md``; return the paths written."""
    return _common().run_figure(
        argv, doc=__doc__, stem=STEM, presets=PRESETS, compute=compute, plot=plot, default_preset="quick",
        pass_out_dir=True, table=markdown_table,
    )  # fmt: skip


if __name__ == "__main__":
    for path in main():
        print(path)
