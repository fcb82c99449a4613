"""What a benchmark run ran on, and where its report is kept.

Helpers of :mod:`_harness`: whether optional packages and a real CUDA GPU
are there (the reasons a row is skipped), the provenance of a run (date,
commit, command, machine, versions, thread settings) and the appending of a
report to ``benchmarks/RESULTS.md``.
"""

import datetime
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
from roofline import n_cores

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "RESULTS.md"
#: Distributions whose versions every report records, in this order.
VERSIONED = ("dynrnn", "torch", "jaxlib", "jax")

__all__ = [
    "RESULTS",
    "cuda_usable",
    "cpu_vector_flags",
    "error_text",
    "installed",
    "current_torch_threads",
    "provenance",
    "write_results",
]


def error_text(exc, limit=60):
    """One-line, shortened ``Type: message`` for a table cell.

    Parameters
    ----------
    exc : BaseException
        The exception.
    limit : int, optional
        Maximum length; longer text ends in ``...``.

    Returns
    -------
    str
    """
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def installed(module):
    """Whether top-level ``module`` can be found without importing it.

    Parameters
    ----------
    module : str
        Top-level module name.

    Returns
    -------
    bool
    """
    return importlib.util.find_spec(module) is not None


def cuda_usable():
    """Whether a real CUDA GPU (not the simulator) is usable by Numba.

    Returns
    -------
    bool
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return False
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


def current_torch_threads():
    """``torch.get_num_threads()`` if torch was imported, else 'n/a'.

    Returns
    -------
    str
    """
    torch = sys.modules.get("torch")
    return str(torch.get_num_threads()) if torch is not None else "n/a"


def _git_commit():
    """Short HEAD hash (``+ uncommitted changes`` if dirty), or 'uncommitted'."""

    def git(*cmd):
        return subprocess.run(
            ["git", "-C", str(REPO), *cmd],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return "uncommitted"
    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        dirty = False
    return commit + (" (+ uncommitted changes)" if dirty else "")


def _proc_field(path, key):
    """First value of ``key:`` in a ``/proc`` file, or 'unknown'."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.split(":")[0].strip() == key:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cpu_vector_flags():
    """The AVX and FMA flags of ``/proc/cpuinfo``, space separated, or 'unknown'.

    Returns
    -------
    str
    """
    flags = _proc_field("/proc/cpuinfo", "flags").split()
    vector = [f for f in flags if f.startswith("avx") or f.startswith("fma") or f == "f16c"]
    return " ".join(vector) if vector else ("none" if flags and flags != ["unknown"] else "unknown")


def _version(dist):
    """Installed version of distribution ``dist``, or 'not installed'."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _gpu_text():
    """Name of the CUDA GPU Numba sees, or 'none'."""
    if not cuda_usable():
        return "none"
    try:
        from numba import cuda

        return cuda.get_current_device().name.decode()
    except Exception as exc:
        return f"unknown ({error_text(exc)})"


def provenance(argv, torch_threads="n/a"):
    """Machine, software and settings of this run, as Markdown bullets.

    Parameters
    ----------
    argv : list of str
        Command line to record.
    torch_threads : str, optional
        ``torch.get_num_threads()`` as seen by the torch measurement.

    Returns
    -------
    str
    """
    import numba

    mem = _proc_field("/proc/meminfo", "MemTotal")
    if mem.endswith("kB"):
        mem = f"{int(mem.split()[0]) / 2**20:.1f} GiB"
    now = datetime.datetime.now(datetime.timezone.utc)
    items = [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("git commit", _git_commit()),
        ("command", " ".join([Path(sys.executable).name, *argv])),
        ("CPU", _proc_field("/proc/cpuinfo", "model name")),
        ("CPU vector flags", cpu_vector_flags()),
        ("cores", f"{n_cores()} usable (os.cpu_count() = {os.cpu_count()})"),
        ("RAM", mem),
        ("GPU", _gpu_text()),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        *((dist, _version(dist)) for dist in VERSIONED),
        (
            "NUMBA_NUM_THREADS",
            f"{numba.config.NUMBA_NUM_THREADS} (numba.get_num_threads() = {numba.get_num_threads()})",
        ),
        ("torch threads", torch_threads),
    ]
    return "\n".join(f"- {key}: {value}" for key, value in items)


def write_results(name, text, argv, torch_threads="n/a", path=RESULTS):
    """Append one section (provenance + report) to ``RESULTS.md``.

    Parameters
    ----------
    name : str
        Benchmark name, the start of the section title.
    text : str
        The report exactly as printed.
    argv : list of str
        Command line (``sys.argv``).
    torch_threads : str, optional
        Recorded in the provenance.
    path : Path, optional
        File to append to; created with a title if missing.
    """
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"\n## {name}, {now}\n\n{provenance(argv, torch_threads)}\n\n```\n{text}\n```\n"
    if not path.exists():
        section = "# Benchmark results\n\nAppended by the scripts in benchmarks/.\n" + section
    with open(path, "a") as fh:
        fh.write(section)
