"""The on-disk kernel cache (``dynrnn/_kernels/cache.py``).

The subprocess tests run a copy of the package in a temporary folder with
their own cache folder, so they never touch the user's cache or the session's.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dynrnn._kernels import cache

PACKAGE = Path(cache.__file__).resolve().parent.parent


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the dynrnn package under ``tmp_path / "src"``; returns the copied package folder."""
    dest = tmp_path / "src" / "dynrnn"
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_key_changes_when_a_kernel_source_changes(package_copy):
    key = cache.cache_key("0.1.0", root=package_copy)
    assert key.startswith("0.1.0-") and len(key) == len("0.1.0-") + 16
    assert cache.cache_key("0.1.0", root=package_copy) == key  # deterministic
    scalar = package_copy / "_kernels" / "scalar.py"
    original = scalar.read_text()
    scalar.write_text(original + "\n# an edit\n")
    assert cache.cache_key("0.1.0", root=package_copy) != key
    scalar.write_text(original)
    assert cache.cache_key("0.1.0", root=package_copy) == key
    (package_copy / "_kernels" / "new_kernels.py").write_text("X = 1\n")  # a new file counts too
    assert cache.cache_key("0.1.0", root=package_copy) != key
    (package_copy / "_kernels" / "new_kernels.py").unlink()
    assert cache.cache_key("0.2.0", root=package_copy) != key  # and the version
    assert cache.cache_key("0.1.0", root=package_copy, extra=("numba 0.99",)) != key


def test_fingerprint_is_by_value_and_ignores_identity():
    def make(k):
        def f(x):
            return x + k

        return f

    assert cache.fingerprint(make(1.0)) == cache.fingerprint(make(1.0))
    assert cache.fingerprint(make(1.0)) != cache.fingerprint(make(2.0))
    assert cache.fingerprint({"b", "a"}) == cache.fingerprint({"a", "b"})

    def recursive(x):  # a cell that holds the function itself
        return recursive(x)

    assert cache.fingerprint(recursive)[0] == "function"


_CHILD = """
import json, sys
import dynrnn
r = dynrnn.iterate_grid(5.0, [-2.5, -2.5], [-3.0, 3.0], n_steps=200, activation="logistic")
from dynrnn import _config
from dynrnn._kernels import cache, cpu
stats = cpu._unit_kernel("logistic").stats
print(json.dumps({
    "x": r.x[:, -1].ravel().tolist(),
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
    "folder": None if cache.folder is None else str(cache.folder),
    "cache": _config.JIT_OPTIONS["cache"],
    "file": dynrnn.__file__,
}))
"""


def _run(package, cache_dir, disable=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DYNRNN_", "NUMBA_CACHE_DIR"))}
    env["PYTHONPATH"] = str(package.parent)
    env["DYNRNN_CACHE_DIR"] = str(cache_dir)
    if disable:
        env["DYNRNN_DISABLE_CACHE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, cwd=package.parent, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve().is_relative_to(package)
    return out


def test_second_process_loads_and_an_edit_to_the_cell_is_seen(package_copy, tmp_path):
    cache_dir = tmp_path / "cache"
    first = _run(package_copy, cache_dir)
    assert (first["misses"], first["hits"]) == (1, 0) and first["cache"]
    folder = Path(first["folder"])
    assert folder.parent == cache_dir and any(folder.rglob("*.nbi"))

    # A new process loads the kernel -- a closure over other compiled functions -- from disk.
    second = _run(package_copy, cache_dir)
    assert (second["misses"], second["hits"]) == (0, 1)
    assert second["folder"] == first["folder"] and second["x"] == first["x"]

    # Edit the cell only (cells/rnn.py, inlined into the kernel of cpu.py): the next process compiles the new code.
    cell = package_copy / "cells" / "rnn.py"
    text = cell.read_text()
    old = "return update(w * observe(x, paper) + b, x, alpha, paper, leaky)"
    assert text.count(old) == 1
    cell.write_text(text.replace(old, "return update(w * observe(x, paper) + (b + 1.0), x, alpha, paper, leaky)"))
    edited = _run(package_copy, cache_dir)
    assert (edited["misses"], edited["hits"]) == (1, 0)
    assert edited["folder"] != first["folder"]
    assert edited["x"] != first["x"]


def test_cache_can_be_turned_off(package_copy, tmp_path):
    out = _run(package_copy, tmp_path / "cache", disable=True)
    assert out["cache"] is False and out["folder"] is None
    assert out["hits"] == 0
    assert not (tmp_path / "cache").exists()
