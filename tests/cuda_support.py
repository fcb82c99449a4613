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

# The foundation issue asks CPU and CUDA to agree to 1e-12 relative in float64.  On the
# simulator (Python's math) the worst seen over short horizons is ~2e-14; hardware
# (libdevice exp/tanh, fused multiply-add) has not been measured yet: if it needs more,
# widen this with a note on the measured error, not silently.
CUDA_RTOL, CUDA_ATOL = (1e-12, 1e-13) if SIMULATOR else (1e-12, 1e-12)
