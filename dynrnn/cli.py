"""The ``dynrnn`` command: ``dynrnn figures`` regenerates figures, ``dynrnn info`` shows the setup.

``dynrnn figures [NAME ...]`` finds the checkout's ``analysis/`` folder (``--root``, else the
current directory, else the folder above the installed package, i.e. an editable checkout),
loads each figure script ``analysis/<NAME>.py`` by path and calls its
``main(["--preset", ..., "--out", ..., "--backend", ...])``, which returns the paths it wrote.

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

PRESETS = ("quick", "paper")
BACKENDS = ("cpu", "cuda")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
        default="paper",
        help="'paper' (full size, default) or 'quick' (seconds)",
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
    os.environ.setdefault("MPLBACKEND", "Agg")  # scripts never show windows
    _say(
        f"dynrnn figures: {len(names)} figure(s) from {_show(root / 'analysis')}, "
        f"preset {args.preset}, backend {args.backend}, output {_show(out)}"
    )
    script_argv = ["--preset", args.preset, "--out", str(out), "--backend", args.backend]
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


if __name__ == "__main__":
    sys.exit(main())
