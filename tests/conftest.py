"""Shared fixtures and hypothesis profiles.

Hypothesis profiles: ``dev`` (25 examples, the default) and ``ci`` (150),
picked by the ``HYPOTHESIS_PROFILE`` environment variable.  Both have no
deadline, because the first example of a test pays the JIT compile.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/naive.py, tests/strategies.py

# Compiled kernels go to a throwaway cache folder, not the user's (tests may patch settings that
# kernels freeze at compile time); subprocesses started by tests inherit it.
# DYNRNN_TEST_CACHE_DIR names a folder to keep between runs instead.
_KEEP = os.environ.get("DYNRNN_TEST_CACHE_DIR")
os.environ["DYNRNN_CACHE_DIR"] = _KEEP or tempfile.mkdtemp(prefix="dynrnn-test-cache-")
if not _KEEP:
    atexit.register(shutil.rmtree, os.environ["DYNRNN_CACHE_DIR"], ignore_errors=True)

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=150, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

from cuda_support import skip_without_cuda  # noqa: E402

SEED = 20130201  # fixed: arXiv 1211.5063v2, Feb 2013


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, fresh for every test."""
    return np.random.default_rng(SEED)


@pytest.fixture(
    scope="session",
    params=["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, skip_without_cuda])],
)
def backend(request):
    """Run a test on every backend; "cuda" is marked ``cuda`` and skipped without a GPU or simulator."""
    return request.param
