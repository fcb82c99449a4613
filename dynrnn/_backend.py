"""Map a backend name to its kernel module; import CUDA only when asked."""

from . import _validate

BACKENDS = ("cpu", "cuda")

_SIMULATOR_HINT = (
    "To run the CUDA kernels without a GPU, set NUMBA_ENABLE_CUDASIM=1 in the "
    "environment before starting Python (the simulator is slow: use small grids)."
)


def get(backend):
    """Return the kernel module for ``backend`` ("cpu" or "cuda").

    Raises
    ------
    ValueError
        If ``backend`` is not a known name.
    RuntimeError
        If ``backend="cuda"`` but numba-cuda is missing, or no GPU (and no
        simulator) is available.
    """
    _validate.choice("backend", backend, BACKENDS)
    if backend == "cpu":
        from ._kernels import cpu

        return cpu
    return _load_cuda()


def _load_cuda():
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "backend='cuda' needs the numba-cuda package: pip install 'dynrnn[cuda]'. " + _SIMULATOR_HINT
        ) from exc
    if not cuda.is_available():  # True on the simulator
        raise RuntimeError("backend='cuda' found no usable CUDA GPU or driver. " + _SIMULATOR_HINT)
    from ._kernels import cuda as kernels

    return kernels
