"""The ``dynrnn`` command: ``dynrnn figures`` regenerates figures, ``dynrnn info`` shows the setup.

``dynrnn sweep --db PATH ...`` runs a resumable grid of training runs (`dynrnn.sweep`).

``dynrnn figures [NAME ...]`` finds the checkout's ``analysis/`` folder (``--root``, else the
current directory, else the folder above the installed package, i.e. an editable checkout),
loads each figure script ``analysis/<NAME>.py`` by path and calls its
``main(["--preset", ..., "--out", ..., "--backend", ...])``, which returns the paths it wrote.
Without ``--preset`` no preset is passed, so each script runs its own default: ``paper`` for
the dynamics figures (seconds each), ``quick`` for the training experiments (``temporal_order``,
``generalization``), whose ``paper`` preset takes days.

This module imports only the standard library at import time; ``import dynrnn`` never imports it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
import traceback
from pathlib import Path

PRESETS = ("quick", "medium", "paper")
BACKENDS = ("cpu", "cuda")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


def _say(text: str = "", stream=None) -> None:
    """Write one line to stdout (or ``stream``) and flush: the CLI's only output path."""
    stream = sys.stdout if stream is None else stream
    stream.write(f"{text}\n")
    stream.flush()


class _CLIError(Exception):
    """A usage error: printed as one line to stderr, exit code 2."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynrnn",
        description="Dynamics and gradients of recurrent networks (Pascanu et al., 2013).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    fig = sub.add_parser(
        "figures",
        help="regenerate figures from the scripts in analysis/",
        description="Run analysis/<NAME>.py for each NAME (default: every figure script).",
    )
    fig.add_argument("names", nargs="*", metavar="NAME", help="figure script names (default: all)")
    fig.add_argument(
        "--preset",
        choices=PRESETS,
        default=None,
        help="'paper' (full size), 'medium' (hours: the training experiments only) or 'quick' (reduced) for every "
        "script; default: each script's own ('paper' for the dynamics figures, 'quick' for the training "
        "experiments, whose 'paper' preset takes days); a preset other than the script's default writes "
        "NAME_PRESET.png",
    )
    fig.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/figures)")
    fig.add_argument(
        "--root",
        type=Path,
        default=None,
        help="checkout holding analysis/ (default: current directory, else the "
        "folder above the installed dynrnn package)",
    )
    fig.add_argument("--backend", choices=BACKENDS, default="cpu", help="compute backend (default: cpu)")
    fig.add_argument("--list", action="store_true", help="list the available figures and exit")
    fig.set_defaults(func=_cmd_figures)

    info = sub.add_parser("info", help="print versions, hardware and CUDA availability")
    info.set_defaults(func=_cmd_info)
    _add_train_parser(sub)
    _add_sweep_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the ``dynrnn`` command line (the ``dynrnn`` console script).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name, e.g. ``["figures", "phase_diagram", "--preset",
        "quick"]`` or ``["info"]``. Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 1 if a figure script failed, 2 on a usage error (unknown
        figure name, no ``analysis/`` folder); argparse itself exits with 2 on bad options.
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _CLIError as exc:
        _say(f"dynrnn {args.command}: error: {exc}", stream=sys.stderr)
        return EXIT_USAGE
    except (TypeError, ValueError, OSError, RuntimeError, MemoryError) as exc:  # one line, never a traceback
        _say(f"dynrnn {args.command}: error: {type(exc).__name__}: {exc}", stream=sys.stderr)
        return EXIT_USAGE


def _writable(flag, path):
    """``path`` checked, before any work, to be a file this command can write; _CLIError otherwise."""
    if path is None:
        return None
    from .results.training import check_writable

    try:
        check_writable(flag, path)
    except (TypeError, ValueError) as exc:
        raise _CLIError(str(exc)) from None
    return path


# --------------------------------------------------------------------------------------- figures


def _find_root(root: Path | None) -> Path:
    """The checkout folder whose ``analysis/`` holds the figure scripts."""
    if root is not None:
        if not (root / "analysis").is_dir():
            raise _CLIError(f"no analysis/ folder in --root {root}")
        return root.resolve()
    candidates = [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if (candidate / "analysis").is_dir():
            return candidate.resolve()
    looked = " and ".join(str(c) for c in dict.fromkeys(candidates))
    raise _CLIError(
        f"cannot find an analysis/ folder (looked in {looked}); run from a dynrnn checkout or pass --root CHECKOUT"
    )


def _discover(analysis: Path) -> dict[str, Path]:
    """Figure scripts: ``analysis/*.py`` whose names do not start with '_', by name."""
    return {p.stem: p for p in sorted(analysis.glob("*.py")) if not p.name.startswith("_")}


def _load_script(path: Path):
    """Import a figure script by path, with its folder on sys.path (for ``import _common``)."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"_dynrnn_figure_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    if not callable(getattr(module, "main", None)):
        raise _CLIError(f"{path} defines no main(argv)")
    return module


def _summary(module) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else "(no docstring)"


def _show(path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _seconds(t: float) -> str:
    return f"{t:.1f} s" if t < 120 else f"{t / 60:.1f} min"


def _cmd_figures(args) -> int:
    root = _find_root(args.root)
    scripts = _discover(root / "analysis")
    if args.list:
        for name, path in scripts.items():
            _say(f"{name:24s} {_show(path)}")
        return EXIT_OK
    if not scripts:
        raise _CLIError(f"no figure scripts in {root / 'analysis'}")
    names = [Path(n).stem if n.endswith(".py") else n for n in args.names] or list(scripts)
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in scripts]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise _CLIError(f"unknown figure name{plural}: {', '.join(unknown)}. Available: {', '.join(scripts)}")

    out = (args.out if args.out is not None else root / "figures").resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _CLIError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None
    if args.backend != "cpu":
        from . import _backend

        try:
            _backend.get(args.backend)
        except (RuntimeError, ImportError, ValueError) as exc:
            raise _CLIError(f"--backend {args.backend}: {exc}") from None
    os.environ.setdefault("MPLBACKEND", "Agg")  # scripts never show windows
    _say(
        f"dynrnn figures: {len(names)} figure(s) from {_show(root / 'analysis')}, "
        f"preset {args.preset or 'per script'}, backend {args.backend}, output {_show(out)}"
    )
    script_argv = ["--preset", args.preset] if args.preset is not None else []
    script_argv += ["--out", str(out), "--backend", args.backend]
    failed, n_files, t_all = [], 0, time.perf_counter()
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        try:
            module = _load_script(scripts[name])
            _say(f"[{i}/{len(names)}] {name}: {_summary(module)}")
            written = module.main(list(script_argv))
        except Exception:  # report, then go on with the other figures
            traceback.print_exc()
            _say(f"  FAILED after {_seconds(time.perf_counter() - t0)}")
            failed.append(name)
            continue
        written = list(written or [])
        for path in written:
            _say(f"  wrote {_show(path)}")
        if not written:
            _say("  (the script returned no paths)")
        n_files += len(written)
        _say(f"  done in {_seconds(time.perf_counter() - t0)}")

    total = _seconds(time.perf_counter() - t_all)
    done = len(names) - len(failed)
    _say(
        f"Total: {done} figure(s), {n_files} file(s) in {total}" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return EXIT_FAILED if failed else EXIT_OK


# ------------------------------------------------------------------------------------------ info


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory() -> str:
    try:
        fields = {}
        with open("/proc/meminfo") as f:
            for line in f:
                key, value = line.split(":", 1)
                fields[key] = int(value.split()[0]) * 1024
        total, available = fields["MemTotal"] / 2**30, fields["MemAvailable"] / 2**30
        return f"{total:.1f} GiB total, {available:.1f} GiB available"
    except (OSError, KeyError, ValueError):
        pass
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB total"
    except (AttributeError, ValueError, OSError):
        return "unknown"


def _cuda() -> tuple[str, str]:
    """(numba.cuda importable?, GPU available?) as short strings."""
    try:
        from numba import cuda
    except Exception as exc:  # ImportError, or a broken CUDA toolkit
        return f"no ({type(exc).__name__}: {exc})", "no"
    sim = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
    try:
        available = cuda.is_available()
    except Exception as exc:
        return "yes", f"no ({type(exc).__name__}: {exc})"
    if not available:
        return "yes", "no"
    if sim:
        return "yes", "simulator only (NUMBA_ENABLE_CUDASIM=1)"
    try:
        names = [g.name.decode() if isinstance(g.name, bytes) else str(g.name) for g in cuda.gpus]
    except Exception:
        names = []
    return "yes", "yes" + (f": {', '.join(names)}" if names else "")


def _cmd_info(args) -> int:
    import numba

    import dynrnn

    version = getattr(dynrnn, "__version__", None) or _version("dynrnn")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env_threads = os.environ.get("NUMBA_NUM_THREADS")
    importable, gpu = _cuda()
    rows = [
        ("dynrnn", f"{version} ({Path(dynrnn.__file__).resolve().parent})"),
        (
            "python",
            f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        ),
        ("numpy", _version("numpy")),
        ("numba", numba.__version__),
        ("scipy", _version("scipy")),
        ("matplotlib", _version("matplotlib")),
        ("platform", platform.platform()),
        ("cpu", f"{_cpu_model()}, {os.cpu_count()} logical cores ({usable} usable)"),
        ("memory", _memory()),
        (
            "numba threads",
            f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS} ({'from environment' if env_threads else 'default'})",
        ),
        ("numba.cuda", f"importable: {importable}"),
        ("gpu", gpu),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        _say(f"{key:<{width}}  {value}")
    return EXIT_OK


# ----------------------------------------------------------------------------------------- train


def _add_train_parser(sub) -> None:
    tr = sub.add_parser(
        "train",
        help="train an RNN on a pathological task (MSGD, MSGD-C, MSGD-CR)",
        description="Train one task model with dynrnn.train and print its outcome; defaults are the paper's "
        "temporal-order settings (50 units, lr 0.01, batch 20, threshold 1, alpha 4 for MSGD-CR).",
    )
    tr.add_argument("--task", required=True, help="temporal_order, temporal_order_3bit, addition, multiplication, "
                    "permutation, memorization, copy or le_adding")  # fmt: skip
    tr.add_argument("--cell", default="rnn", help="rnn (the paper's), gru or lstm (default rnn)")
    tr.add_argument("--init", default=None,
                    help="rnn: sigmoid, basic_tanh, smart_tanh, irnn or orthogonal (default smart_tanh); "
                         "gru, lstm: uniform (the default)")  # fmt: skip
    tr.add_argument(
        "--leak",
        type=float,
        default=None,
        help="leaky units (rnn only): h <- leak h + (1 - leak) sigma(...), leak in [0, 1) (default none)",
    )
    tr.add_argument("--method", default=None,
                    help="MSGD, MSGD-C or MSGD-CR (default MSGD-CR for the rnn, MSGD-C for gru and lstm)")  # fmt: skip
    tr.add_argument("--length", required=True, help="sequence length L, or MIN-MAX for a new length per update")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--n-units", type=int, default=50, help="hidden units (50)")
    tr.add_argument("--batch-size", type=int, default=20, help="sequences per update (20)")
    tr.add_argument("--lr", type=float, default=0.01, help="learning rate (0.01)")
    tr.add_argument("--threshold", type=float, default=1.0, help="clipping threshold (1.0)")
    tr.add_argument("--alpha", type=float, default=None, help="weight of Omega (default 4 for MSGD-CR, else 0)")
    tr.add_argument("--max-updates", type=int, default=5_000_000, help="update budget (5000000)")
    tr.add_argument("--eval-every", type=int, default=200, help="updates between evaluations (200)")
    tr.add_argument("--checkpoint", type=Path, help="checkpoint file, written every minute and on Ctrl-C")
    tr.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    tr.add_argument("--out", type=Path, help="save the result (parameters and history) to this .npz file")
    tr.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    from .training.train import train

    lo, sep, hi = args.length.partition("-")
    try:
        length = (int(lo), int(hi)) if sep else int(lo)
    except ValueError:
        raise _CLIError(f"--length must be an integer L or MIN-MAX; got {args.length!r}") from None
    _writable("--out", args.out)  # before training, so that a bad path does not lose the run
    try:
        result = train(
            args.task,
            cell=args.cell,
            init=args.init,
            leak=args.leak,
            method=args.method,
            length=length,
            seed=args.seed,
            n_units=args.n_units,
            batch_size=args.batch_size,
            lr=args.lr,
            threshold=args.threshold,
            alpha=args.alpha,
            max_updates=args.max_updates,
            eval_every=args.eval_every,
            checkpoint=args.checkpoint,
            resume=args.resume,
        )
    except KeyboardInterrupt:
        where = f"; resume with --resume --checkpoint {_show(args.checkpoint)}" if args.checkpoint else ""
        _say(f"dynrnn train: interrupted{where}", stream=sys.stderr)
        return EXIT_INTERRUPTED
    except (TypeError, ValueError, OSError, MemoryError) as exc:
        raise _CLIError(str(exc)) from None
    s = result.summary()
    c = result.config
    _say(
        f"dynrnn train: {c['task']} length {args.length}, {c.get('cell', 'rnn')}, {c['init']}"
        + (f", leak {args.leak:g}" if args.leak is not None else "")
        + f", {c['method']} "
        f"(alpha {c['alpha']}), seed {c['seed']}"
    )
    _say(f"  success: {s['success']} (updates to success: {s['updates_to_success']}); stopped: {s['status']} "
         f"after {s['n_updates']} updates in {_seconds(s['elapsed_s'])}")  # fmt: skip
    _say(f"  error on {c['n_eval']} fresh sequences: final {s['final_error']:.4f}, best {s['best_error']:.4f}")
    if args.out is not None:
        try:
            result.save(args.out)
        except (TypeError, ValueError, OSError) as exc:
            raise _CLIError(f"--out: {exc}") from None
        _say(f"  saved to {_show(args.out)}")
    return EXIT_OK


# ----------------------------------------------------------------------------------------- sweep


def _add_sweep_parser(sub) -> None:
    sw = sub.add_parser(
        "sweep",
        help="run a resumable grid of training runs into a SQLite database",
        description="Run every (task, init, method, length, seed) of a grid with dynrnn.train, on Dask (a local "
        "cluster, or --scheduler ADDRESS), writing each finished run at once to the database --db. Running the "
        "same command again skips the finished runs. With --export-csv, only export the database to CSV.",
    )
    sw.add_argument("--db", type=Path, required=True, help="SQLite run store (created if missing)")
    sw.add_argument("--task", nargs="+", metavar="NAME", help="tasks (default: temporal_order)")
    sw.add_argument("--init", nargs="+", metavar="NAME",
                    help="initializations (default: the paper's three; also irnn, orthogonal)")  # fmt: skip
    sw.add_argument("--method", nargs="+", metavar="NAME", help="MSGD, MSGD-C, MSGD-CR (default: all three)")
    sw.add_argument("--length", nargs="+", metavar="L", help="lengths: N, or MIN-MAX for random lengths (default: 50)")
    sw.add_argument("--seed", nargs="+", type=int, metavar="S", help="seeds (default: 0)")
    sw.add_argument(
        "--set",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="training settings shared by every run, e.g. lr=0.01 n_units=50 (VALUE read as JSON, else as text)",
    )
    sw.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786, or 'serial' (default: local)")
    sw.add_argument("--n-workers", type=int, metavar="N", help="local worker processes (default: one per CPU)")
    sw.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to reach --scheduler (10)")
    sw.add_argument("--csv", type=Path, metavar="OUT", help="after the sweep, write its runs to this CSV file")
    sw.add_argument("--export-csv", type=Path, metavar="OUT", help="only export the whole database to CSV")
    sw.set_defaults(func=_cmd_sweep)


def _settings(pairs) -> dict:
    import json

    settings = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise _CLIError(f"--set takes KEY=VALUE pairs; got {pair!r}")
        try:
            settings[key] = json.loads(text)
        except ValueError:
            settings[key] = text
    return settings


def _cmd_sweep(args) -> int:
    from .training.store import RunStore
    from .training.sweep import sweep

    if args.export_csv is not None:
        grid = [f"--{n}" for n in ("task", "init", "method", "length", "seed", "csv") if getattr(args, n)]
        grid += ["--set"] * bool(args.set) + ["--scheduler"] * (args.scheduler is not None)
        if grid:
            raise _CLIError(f"--export-csv only exports; it does not combine with {', '.join(grid)}")
        if not args.db.is_file():
            raise _CLIError(f"--db {args.db}: no such file")
        _writable("--export-csv", args.export_csv)
        try:
            with RunStore(args.db, create=False) as store:
                n = len(store)
                store.to_csv(args.export_csv)
        except (TypeError, ValueError) as exc:
            raise _CLIError(str(exc)) from exc
        _say(f"dynrnn sweep: wrote {n} run(s) from {_show(args.db)} to {_show(args.export_csv)}")
        return EXIT_OK

    grid = {
        key: value
        for key, value in (
            ("tasks", args.task),
            ("inits", args.init),
            ("methods", args.method),
            ("lengths", args.length),
            ("seeds", args.seed),
        )
        if value is not None
    }
    _writable("--csv", args.csv)  # before the sweep
    try:
        result = sweep(
            args.db,
            **grid,
            settings=_settings(args.set),
            scheduler=args.scheduler,
            n_workers=args.n_workers,
            timeout=args.timeout,
        )
    except KeyboardInterrupt:
        _say(
            f"dynrnn sweep: interrupted; the finished runs are saved in {_show(args.db)}; "
            "run the same command again to resume",
            stream=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (TypeError, ValueError, ImportError, OSError) as exc:  # OSError: ConnectionError, TimeoutError
        raise _CLIError(str(exc)) from exc
    _say(
        f"dynrnn sweep: {result.n_total} run(s) in the grid: {result.n_skipped} already finished, "
        f"{result.n_run} run now, {result.n_failed} failed; {result.n_succeeded} succeeded in all; "
        f"database {_show(args.db)}"
    )
    for record in result.records:
        if record["status"] == "error":
            last = (record["error"] or "").strip().splitlines()[-1:] or ["?"]
            _say(
                f"  FAILED {record['task']} {record['init']} {record['method']} length {record['length']} "
                f"seed {record['seed']}: {last[0]}"
            )
    if args.csv is not None:
        try:
            with RunStore(args.db, create=False) as store:
                store.to_csv(args.csv, keys=[r["key"] for r in result.records])
        except (TypeError, ValueError, OSError) as exc:
            raise _CLIError(f"--csv: {exc}") from None
        _say(f"  wrote {_show(args.csv)}")
    return EXIT_FAILED if result.n_failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
