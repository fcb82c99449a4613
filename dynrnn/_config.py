"""Compile-time and launch-time settings shared by every kernel.

Nothing here imports Numba or CUDA; kernels import this module, never the
other way round.
"""

# Numba fast-math flags for every ``njit`` in dynrnn.  Deliberately *not*
# fastmath set to True: that adds ``nnan``/``ninf``, which lets LLVM fold
# ``math.isfinite`` to ``True`` and so hides divergence.  ``reassoc`` and
# ``afn`` are left out as well: the vectorisable ``exp`` in
# ``_kernels/scalar.py`` relies on ``(t + C) - C`` rounding to an integer and
# on the two-constant (Cody-Waite) range reduction, both of which
# re-association would silently undo.  ``contract`` allows fused multiply-add.
# A plain ``set``: Numba rejects a ``frozenset``.
FASTMATH = {"nsz", "arcp", "contract"}

# Keyword arguments for every CPU kernel.  ``error_model="numpy"`` makes a
# division by zero give inf/NaN (reported as divergence) instead of raising
# inside a kernel; it also removes the zero-divisor branch that otherwise
# stops LLVM from vectorising the logistic function.  ``cache=True`` keeps the
# compiled code on disk, in a folder keyed on a hash of every source file of
# dynrnn (``_kernels/cache.py``; ``DYNRNN_CACHE_DIR`` moves it and
# ``DYNRNN_DISABLE_CACHE=1`` sets this to False).  It is here rather than per
# kernel so that every kernel is cached, closures from the factories included.
JIT_OPTIONS = {"fastmath": FASTMATH, "error_model": "numpy", "cache": True}

# Defaults of `dynrnn.fixed_points`: Newton stops when ||F(x) - x||_2 <= tol,
# and gives up on a start after this many damped Newton steps.
FIXED_POINT_TOL = 1e-10
FIXED_POINT_MAX_ITER = 100

# CUDA threads per block.  Read by the launchers at call time, so tests can
# patch it to a small value and exercise several blocks on the simulator.
THREADS_PER_BLOCK = 128

# Grid points per block in the CPU single-unit kernels: each thread iterates
# one block of this many independent maps through all time steps, so the
# block's state stays in L1 cache and the inner loop over grid points is
# vectorised (SIMD) by LLVM.  256-1024 are equally good on x86-64 with AVX2.
CPU_BLOCK = 512

# The small matrix products of the CPU training update (``_kernels/population.py``):
# "blas" (NumPy's BLAS through ``np.dot``, one thread per call) or "blocked" (the loops of
# ``_kernels/blocked.py`` that the CUDA build uses).  Read when a kernel is first built.
CPU_PRODUCTS = "blas"

# Caps on one call, checked before anything is allocated or computed (`_validate.memory`,
# `_validate.work`).  MAX_WORK counts multiply-adds of map steps (an n-unit step is n**2,
# a single-unit step 1): 10**13 is tens of minutes to hours on a laptop, far beyond every
# figure and benchmark; larger requests are refused with a message naming the argument.
# MAX_MEMORY, when not None, caps the bytes one call may allocate below the available memory.
MAX_WORK = 10**13
MAX_MEMORY = None

# Long loops run in chunks of about this many multiply-adds (a fraction of a second), so
# that Ctrl-C (KeyboardInterrupt) is delivered between chunks.
CHUNK_WORK = 2 * 10**8

# Kernels that carry derivatives along an orbit (`single_unit.iterate_tangents`,
# `error_surface`, `descend`) restart them at every call, so they are chunked over grid points
# but not over time: n_steps above this is refused, which keeps one uninterruptible stretch
# under about a second.  The paper's horizons are 50 steps.
MAX_UNSPLIT_STEPS = 10**8
