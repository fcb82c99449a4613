"""Fake run functions for tests/test_sweep.py: fast, deterministic stand-ins for ``dynrnn.train(...).summary()``.

They live in an importable module (not in the test file) so that worker
processes (process pool, Dask) can unpickle them.  Each call leaves a marker
file in ``config["marker_dir"]`` (when set), named after the run's key, so a
test can count how often each run was executed, across processes.
"""

import os
import time
import uuid
from collections import Counter
from pathlib import Path

from dynrnn.training.store import run_key


def _mark(config):
    folder = config.get("marker_dir")
    if folder:
        Path(folder, f"{run_key(config)}.{os.getpid()}.{uuid.uuid4().hex}").touch()


def calls(folder):
    """How many times each run key was executed: a Counter of the marker files in ``folder``."""
    return Counter(p.name.split(".")[0] for p in Path(folder).iterdir())


def summary_of(config):
    """The fake summary of a config: a function of the config only."""
    seed = config["seed"]
    success = (seed + len(config["method"])) % 2 == 0
    return {
        "success": success,
        "updates_to_success": 100 * (seed + 1) if success else None,
        "final_error": 0.001 * seed if success else 0.5,
        "best_error": 0.0005 * seed,
        "n_updates": 1000 + seed,
        "diverged": False,
        "elapsed_s": 0.01,
        "min_train_loss": 0.25,
    }


def fast_run(config):
    _mark(config)
    return summary_of(config)


def slow_run(config):
    """Sleeps ``config["sleep"]`` seconds (default 1) after leaving its marker."""
    _mark(config)
    time.sleep(config.get("sleep", 1.0))
    return summary_of(config)


def failing_run(config):
    """Raises for seed 1, like a run that crashed; fine otherwise."""
    _mark(config)
    if config["seed"] == 1:
        raise RuntimeError("fake failure for seed 1")
    return summary_of(config)


def interrupting_run(config):
    """Raises KeyboardInterrupt for seed 2, as Ctrl-C in the middle of a serial sweep."""
    _mark(config)
    if config["seed"] == 2:
        raise KeyboardInterrupt
    return summary_of(config)


def not_a_dict_run(config):
    _mark(config)
    return [1, 2, 3]
