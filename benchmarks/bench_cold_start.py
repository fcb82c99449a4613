"""Benchmark: the first call of each public function in a fresh Python process.

Numba compiles a kernel on its first call in every process; dynrnn keeps the
compiled code on disk (``dynrnn/_kernels/cache.py``), so only the first
process after an install or an edit pays the compile.  For each function
this measures, in a fresh subprocess every time, with small inputs:

* ``off``: the cache turned off (``DYNRNN_DISABLE_CACHE=1``), i.e. dynrnn
  before the disk cache: every process compiles;
* ``cold``: an empty cache folder (compile, then write the cache);
* ``warm``: the folder the first cold run filled (load, no compile).

A time is the first call alone (``import dynrnn`` and building the inputs
are not in it; the import is its own column, measured in the warm runs).
Each cell is the median of ``--runs`` processes; every cold run gets its own
empty folder.  Folders are throwaway (a temporary directory, deleted at the
end).  The processes import a snapshot of ``dynrnn/`` copied there at the
start: the cache is keyed on every source file, so an edit to the working
tree during the run would otherwise turn a warm run into a cold one
(``--rev REV`` takes the package from a git revision instead of the tree).
Target: the warm first call <= 2 s for each function.  ``--write``
appends the report and the run's provenance to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_cold_start.py            # all functions, 3 runs of off, cold, warm
    python benchmarks/bench_cold_start.py --quick    # CI: iterate and iterate_grid, 1 cold + 1 warm run
    python benchmarks/bench_cold_start.py --write    # also append to RESULTS.md
    python benchmarks/bench_cold_start.py --only iterate,bptt --modes cold,warm --runs 5
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

TARGET_S = 2.0

# Setup (not timed) and the timed first call of each function; small sizes, fixed seeds.
_NET = """
rng = np.random.default_rng(0)
n, m = 4, 2
net = dynrnn.RNN(rng.normal(0, 0.5, (n, n)), W_in=rng.normal(0, 0.5, (n, m)), b=rng.normal(0, 0.1, n),
                 W_out=rng.normal(0, 0.5, (3, n)), b_out=np.zeros(3))
x0 = rng.normal(0, 0.5, n)
"""
CASES = {
    "iterate": (_NET, "dynrnn.iterate(net, x0, n_steps=50)"),
    "iterate_grid": ("", "dynrnn.iterate_grid(5.0, [-2.5, -2.5], [-3.0, 3.0], n_steps=200, activation='logistic')"),
    "fixed_points": (_NET, "dynrnn.fixed_points(net, n_starts=8, rng=0)"),
    "jacobian_products": (_NET, "dynrnn.jacobian_products(net, x0, n_steps=20)"),
    "lyapunov_spectrum": (_NET, "dynrnn.lyapunov_spectrum(net, x0, n_steps=50)"),
    "bptt": (
        _NET + "U = rng.normal(0, 1, (10, 3, m)); Y = rng.normal(0, 1, (10, 3, n))\n",
        "dynrnn.bptt(net, x0, U, Y)",
    ),
    "train": (
        "",
        "dynrnn.train('temporal_order', n_units=8, batch_size=4, length=10, max_updates=4, eval_every=2,"
        " n_check=8, n_eval=8, seed=0)",
    ),
}
QUICK = ("iterate", "iterate_grid")

_CHILD = """
import json, time
t0 = time.perf_counter()
import dynrnn
import numpy as np
t1 = time.perf_counter()
{setup}
t2 = time.perf_counter()
{call}
t3 = time.perf_counter()
import sys
print("RESULT " + json.dumps({{"import": t1 - t0, "first": t3 - t2, "file": dynrnn.__file__}}))
"""


def run_child(name, cache_dir, package_root):
    """First-call time of ``name`` in a fresh process importing dynrnn from ``package_root``.

    ``cache_dir`` None turns the cache off.
    """
    setup, call = CASES[name]
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    if cache_dir is None:
        env["DYNRNN_DISABLE_CACHE"] = "1"
        env.pop("DYNRNN_CACHE_DIR", None)
    else:
        env.pop("DYNRNN_DISABLE_CACHE", None)
        env["DYNRNN_CACHE_DIR"] = str(cache_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(package_root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    code = _CHILD.format(setup=setup, call=call)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=package_root)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            if not Path(result["file"]).resolve().is_relative_to(Path(package_root).resolve()):
                raise RuntimeError(f"{name}: the child imported {result['file']}, not the snapshot")
            return result
    raise RuntimeError(f"{name}: child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def snapshot(dest, rev=None):
    """Copy ``dynrnn/`` of the working tree (or of git revision ``rev``) into ``dest``."""
    dest.mkdir(parents=True)
    if rev is None:
        shutil.copytree(HERE.parent / "dynrnn", dest / "dynrnn", ignore=shutil.ignore_patterns("__pycache__"))
        return
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", "--format=tar", rev, "dynrnn"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def measure(names, modes, runs, root, rev=None, log=print):
    """{name: {mode: [first-call seconds, ...], "import": [...]}}."""
    package_root = Path(root) / "snapshot"
    snapshot(package_root, rev)
    out = {}
    for name in names:
        res = {mode: [] for mode in modes}
        res["import"] = []
        warm_dir = None
        if "off" in modes:
            for _ in range(runs):
                res["off"].append(run_child(name, None, package_root)["first"])
        n_cold = runs if "cold" in modes else 1  # warm runs need one cold run to fill a folder
        for i in range(n_cold):
            folder = Path(root) / f"{name}-cold-{i}"
            r = run_child(name, folder, package_root)
            if "cold" in modes:
                res["cold"].append(r["first"])
            warm_dir = warm_dir or folder
        if "warm" in modes:
            for _ in range(runs):
                r = run_child(name, warm_dir, package_root)
                res["warm"].append(r["first"])
                res["import"].append(r["import"])
        out[name] = res
        cells = ", ".join(f"{m} {statistics.median(res[m]):.2f} s" for m in modes)
        log(f"  {name}: {cells}")
    return out


def report(results, modes, runs):
    """The table as printed (and written), with the target line."""
    head = f"{'function':<20}" + "".join(f"{m + ' s':>10}" for m in modes)
    if "warm" in modes:
        head += f"{'import s':>10}{'target':>10}"
    lines = [
        f"first call in a fresh process, median of {runs} processes per cell (cold: a new empty cache folder each);",
        "off = DYNRNN_DISABLE_CACHE=1 (every process compiles, as before the disk cache), cold = empty cache, "
        "warm = filled cache;",
        "import s = `import dynrnn` + numpy in the warm processes (not in the first-call times)",
        "",
        head,
        "-" * len(head),
    ]
    missed = []
    for name, res in results.items():
        row = f"{name:<20}" + "".join(f"{statistics.median(res[m]):>10.2f}" for m in modes)
        if "warm" in modes:
            warm = statistics.median(res["warm"])
            ok = warm <= TARGET_S
            missed += [] if ok else [name]
            row += f"{statistics.median(res['import']):>10.2f}{'PASS' if ok else 'MISS':>10}"
        lines.append(row)
    if "warm" in modes:
        lines.append("")
        verdict = "PASS" if not missed else "MISS (" + ", ".join(missed) + ")"
        lines.append(f"target: warm first call <= {TARGET_S:.0f} s for every function -> {verdict}")
    return "\n".join(lines)


def _cpu_flags():
    """The SIMD flags of the CPU (from /proc/cpuinfo), or 'unknown'."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    keep = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl")
                    return " ".join(f for f in keep if f in flags) or "none of sse4_2/avx/avx2/fma/avx512"
    except OSError:
        pass
    return platform.machine()


def write(text, argv):
    import datetime

    import numba
    from _provenance import RESULTS, provenance

    prov = provenance(argv)
    # the cache keys on the CPU: numba's index records the host CPU name and features
    if "CPU vector flags" not in prov:
        prov = prov.replace("\n- cores:", f"\n- CPU flags: {_cpu_flags()}\n- cores:", 1)
    prov = prov.replace("\n- cores:", f"\n- LLVM host CPU (part of Numba's cache key): {_llvm_cpu()}\n- cores:", 1)
    prov += f"\n- numba threading layer: {numba.config.THREADING_LAYER}"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open(RESULTS, "a") as fh:
        fh.write(f"\n## bench_cold_start, {now}\n\n{prov}\n\n```\n{text}\n```\n")


def _llvm_cpu():
    try:
        import llvmlite.binding as ll

        return ll.get_host_cpu_name()
    except Exception:
        return "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI: iterate and iterate_grid, one cold and one warm run")
    parser.add_argument("--runs", type=int, default=None, help="processes per cell (default 3; 1 with --quick)")
    parser.add_argument("--only", default=None, help="comma-separated functions (default: all)")
    parser.add_argument("--modes", default=None, help="comma-separated of off,cold,warm (default: all three)")
    parser.add_argument("--rev", default=None, help="measure dynrnn/ of this git revision (default: the working tree)")
    parser.add_argument("--write", action="store_true", help="append the report to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(QUICK if args.quick else CASES)
    modes = args.modes.split(",") if args.modes else (["cold", "warm"] if args.quick else ["off", "cold", "warm"])
    runs = args.runs or (1 if args.quick else 3)
    unknown = [n for n in names if n not in CASES] + [m for m in modes if m not in ("off", "cold", "warm")]
    if unknown:
        parser.error(f"unknown function or mode: {', '.join(unknown)}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dynrnn-cold-start-") as root:
        results = measure(names, modes, runs, root, rev=args.rev)
    text = report(results, modes, runs)
    if args.rev:
        rev = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", args.rev], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
        text = f"source: dynrnn/ of git revision {args.rev} ({rev})\n" + text
    print()
    print(text)
    print(f"\n({time.perf_counter() - t0:.0f} s in all)")
    if args.write:
        write(text, ["benchmarks/bench_cold_start.py", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
