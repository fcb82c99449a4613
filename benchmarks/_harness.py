"""Shared machinery of the benchmark scripts in this folder.

A script declares what is specific to it in a :class:`Benchmark` -- its
implementations (:class:`Impl`, the reference first), its integer settings
(:class:`Setting`), how to build the inputs, how much work one call does,
its roofline (:class:`Ceiling`) and its targets (:class:`Target`) -- and
hands it to :func:`main`, which does the rest:

* the command line: ``--quick``, the script's settings, ``--repeats``,
  ``--write``, ``--in-process`` (this module);
* timing: one warm-up call (its time, JIT compile included, is the
  ``first call s`` column), then the median, min and max of ``--repeats``
  calls (:mod:`_measure`);
* isolation: each implementation is measured in a fresh Python process,
  because thread pools left behind by one library slow down whatever runs
  next in the same process on a small machine (Numba's OpenMP workers keep
  spinning after a parallel region; PyTorch and XLA keep pools too)
  (:mod:`_measure`);
* checking: every output is compared with the reference's (``rtol`` and
  ``atol`` over a mask of comparable points) before a time is shown; a
  disagreeing implementation reads ``failed`` and gets no time
  (:mod:`_measure`);
* the report: a table of status, times, work rate, fraction of the roofline
  and speed-up over the reference, then PASS/MISS lines for the targets
  (:mod:`_report`);
* skip reasons for missing optional packages or GPU, and with ``--write``
  the report and the run's provenance appended to ``RESULTS.md``
  (:mod:`_provenance`).

Scripts import only from this module.

Sketch of a script::

    BENCH = Benchmark(name="bench_x", doc=__doc__, script=__file__,
                      impls=(Impl("numpy", "numpy", lambda: ref), ...),
                      settings=(Setting("--n", 1000, 200, "points"),),
                      inputs=..., work=..., roofline=..., describe=...)
    if __name__ == "__main__":
        sys.exit(main(BENCH))
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _measure import finite_mask, run_all, worker
from _provenance import REPO, RESULTS, cuda_usable, installed, write_results
from _report import report

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # an installed dynrnn still wins

__all__ = ["Benchmark", "Ceiling", "Impl", "Setting", "Target", "finite_mask", "main"]


@dataclass(frozen=True)
class Impl:
    """One implementation, one row of the table.

    Parameters
    ----------
    key : str
        Short name (worker option, file names).
    label : str
        Row label.
    factory : callable
        ``factory() -> run``, where ``run(*inputs)`` returns a tuple of
        arrays.  Imports of optional packages belong in the factory.
    modules : tuple of str, optional
        Optional top-level modules needed; without one the row reads
        ``skipped (not installed)``.
    gpu : bool, optional
        Whether a real CUDA GPU is needed; without one the row reads
        ``skipped (no GPU)``.
    """

    key: str
    label: str
    factory: Callable
    modules: tuple = ()
    gpu: bool = False

    def skip_reason(self):
        """Why this implementation is skipped up front, or None to run it.

        Returns
        -------
        str or None
        """
        if self.gpu and not cuda_usable():
            return "skipped (no GPU)"
        if not all(installed(module) for module in self.modules):
            return "skipped (not installed)"
        return None


@dataclass(frozen=True)
class Setting:
    """A positive integer option with a full and a ``--quick`` default.

    Parameters
    ----------
    flag : str
        Option, e.g. ``"--grid"``.
    full, quick : int
        Defaults without and with ``--quick``.
    help : str
        Help text; the defaults are appended to it.
    """

    flag: str
    full: int
    quick: int
    help: str

    @property
    def dest(self):
        """Attribute name in the parsed arguments."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Ceiling:
    """A roofline measured in the run.

    Parameters
    ----------
    rate : float
        Work units per second the machine can sustain at most.
    label : str
        Label of its table row.
    text : str
        One line describing how it was measured, printed above the table.
    """

    rate: float
    label: str
    text: str


@dataclass(frozen=True)
class Target:
    """A goal printed as a PASS/MISS line.

    Parameters
    ----------
    key : str
        Implementation it applies to.
    metric : {"roofline", "speedup"}
        Fraction of the roofline, or speed-up over the reference.
    threshold : float
        Least value that passes.
    vs : str, optional
        For ``"speedup"``: the implementation compared with instead of the
        reference (its median time over this one's).
    """

    key: str
    metric: str
    threshold: float
    vs: str = ""


@dataclass(frozen=True)
class Benchmark:
    """Everything specific to one benchmark script.

    Parameters
    ----------
    name : str
        Script name, used for the section title in ``RESULTS.md``.
    doc : str
        Module docstring; its first line is the ``--help`` description.
    script : str or Path
        The script's file, re-run as the isolated worker.
    impls : tuple of Impl
        Implementations; the first is the reference and the baseline.
    settings : tuple of Setting
        The script's own options (``--repeats`` is added).
    inputs : callable
        ``inputs(args) -> tuple``, the arguments of every ``run``.
    work : callable
        ``work(args) -> int``, work units (e.g. steps) of one call.
    roofline : callable
        ``roofline(args) -> Ceiling``, measured after the implementations.
    describe : callable
        ``describe(args) -> str``, what is measured (first report line).
    quick_help : str, optional
        Help text of ``--quick``.
    outputs : tuple of str, optional
        Names of the outputs, for the agreement line.
    rtol, atol : float, optional
        Agreement tolerances.
    mask : callable or None, optional
        ``mask(ref) -> ndarray of bool``, the points compared; None compares
        every entry (outputs of different shapes).
    mask_text : str, optional
        Appended to the agreement line to say what the mask selects.
    targets : tuple of Target, optional
        Goals printed below the table.
    unit : str, optional
        Header of the work-rate column.
    """

    name: str
    doc: str
    script: str | Path
    impls: tuple
    settings: tuple
    inputs: Callable
    work: Callable
    roofline: Callable
    describe: Callable
    quick_help: str = "CI mode"
    outputs: tuple = ("output",)
    rtol: float = 1e-9
    atol: float = 1e-12
    mask: Callable = finite_mask
    mask_text: str = ""
    targets: tuple = ()
    unit: str = "steps/s"


# ------------------------------------------------------------------ main


def _options(bench):
    """The benchmark's settings followed by ``--repeats``."""
    return (*bench.settings, Setting("--repeats", 7, 3, "timed calls per implementation"))


def parse_args(bench, argv):
    """Parse the command line.

    Parameters
    ----------
    bench : Benchmark
        The benchmark (description, settings, implementations).
    argv : list of str
        Arguments.

    Returns
    -------
    argparse.Namespace
        With every setting left unset filled in from its full or ``--quick``
        default.
    """
    parser = argparse.ArgumentParser(description=bench.doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=bench.quick_help)
    options = _options(bench)
    for opt in options:
        quick = "" if opt.quick == opt.full else f", {opt.quick} with --quick"
        parser.add_argument(opt.flag, type=int, default=None, help=f"{opt.help} (default {opt.full}{quick})")
    parser.add_argument("--write", action="store_true", help=f"append the results to {RESULTS.relative_to(REPO)}")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure all implementations in this process instead of "
        "one fresh process each (thread pools may then interfere)",
    )
    parser.add_argument("--worker", choices=sorted(impl.key for impl in bench.impls), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for opt in options:
        if getattr(args, opt.dest) is None:
            setattr(args, opt.dest, opt.quick if args.quick else opt.full)
    if any(getattr(args, opt.dest) < 1 for opt in options):
        flags = [opt.flag for opt in options]
        parser.error(f"{', '.join(flags[:-1])} and {flags[-1]} must be positive")
    return args


def main(bench, argv=None):
    """Run a benchmark, print its report and, with ``--write``, append it to ``RESULTS.md``.

    Parameters
    ----------
    bench : Benchmark
        The benchmark.
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0, or 1 if the reference itself failed.
    """
    recorded = sys.argv if argv is None else [sys.argv[0], *argv]
    args = parse_args(bench, sys.argv[1:] if argv is None else argv)
    if args.worker:
        impl = next(impl for impl in bench.impls if impl.key == args.worker)
        worker(impl, bench.inputs(args), args.repeats, args.workdir)
        return 0
    settings = [text for opt in _options(bench) for text in (opt.flag, str(getattr(args, opt.dest)))]
    isolated = not args.in_process
    try:
        rows, mask = run_all(bench, args, settings, isolated=isolated)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    ceiling = bench.roofline(args)
    text = report(bench, args, rows, mask, ceiling, isolated=isolated)
    print(text)
    if args.write:
        threads = next((r["torch_threads"] for r in rows if r.get("torch_threads", "n/a") != "n/a"), "n/a")
        write_results(bench.name, text, recorded, threads)
        print(f"\nappended to {RESULTS}")
    return 0
