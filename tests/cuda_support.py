"""Whether CUDA kernels can run here, and the CUDA-vs-CPU tolerances (house style, section 6).

The simulator must be enabled in the shell (``NUMBA_ENABLE_CUDASIM=1``) before Python starts:
it has no effect once Numba is imported.
"""

import os

import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def cuda_usable():
    """True on the CUDA simulator or with a usable GPU (imports numba.cuda only if needed)."""
    if SIMULATOR:
        return True
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - depends on the install
        return False
    return bool(cuda.is_available())


CUDA_USABLE = cuda_usable()
SKIP_REASON = "needs a CUDA GPU or NUMBA_ENABLE_CUDASIM=1 set before Python starts"
skip_without_cuda = pytest.mark.skipif(not CUDA_USABLE, reason=SKIP_REASON)

# The simulator runs Python's math, like the CPU; hardware uses libdevice and fused multiply-add.
CUDA_RTOL, CUDA_ATOL = (1e-10, 1e-12) if SIMULATOR else (1e-9, 1e-11)
