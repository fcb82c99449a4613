"""Argument checks and coercion shared by the public functions.

Every check raises ``TypeError`` for the wrong kind of value and
``ValueError`` for the wrong shape, range or choice, with a message that
names the argument, what was expected and what was received.  Nothing here
modifies its input: arrays are converted (which may copy) and only read.
"""

import numbers
import operator
import os

import numpy as np

from . import _config

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``, else raise ValueError."""
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")
    return value


def integer(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int, checking its type and range.

    ``bool`` and floats (even integral ones) are refused with TypeError.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    value = operator.index(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"{name} must fit in a 64-bit integer (|{name}| < 2**63); got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return value


def rng(name, value):
    """The one randomness argument: a `numpy.random.Generator` for None, an int seed >= 0 or a Generator.

    A Generator is returned as given (its draws continue); None and an int
    seed ``numpy.random.default_rng``.
    """
    if isinstance(value, np.random.Generator):
        return value
    if value is not None:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator; got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{name} (a seed) must be >= 0; got {value}")
    return np.random.default_rng(value)


def positive_float(name, value):
    """Return ``value`` as a float, checking that it is a real number, finite and > 0.

    ``bool`` and non-numbers are refused with TypeError.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be finite and > 0; got {value}")
    return value


def finite_scalar(name, value):
    """Return ``value`` as a float, checking that it is one finite real number (0-d array_like)."""
    arr = real_array(name, value, np.float64)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar; got an array of shape {shape_str(arr.shape)}")
    return float(arr)


def float_dtype(name, dtype):
    """Return ``np.dtype(dtype)`` if it is float64 or float32."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be numpy.float64 or numpy.float32; got {dtype!r}") from exc
    if dt not in _FLOAT_DTYPES:
        raise ValueError(f"{name} must be numpy.float64 or numpy.float32; got {dt}")
    return dt


def real_array(name, value, dtype, *, finite=True):
    """Convert ``value`` to a C-contiguous array of ``dtype``.

    Integer and boolean arrays are cast; complex, object, string and other
    non-numeric input is refused with TypeError.  With ``finite=True``, NaN or
    inf entries are refused with ValueError.  The caller's array is never
    written to (the result may share its memory).
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or array; got bool {value!r}")
    if type(value).__module__ == "dynrnn.maps.gated":  # a GRU or LSTM where an RNN's array belongs
        raise TypeError(
            f"{name} must be a real number or array; got a {type(value).__name__}: this function supports RNN "
            f"parameters only (gated cells go to iterate, jacobian_products, lyapunov_spectrum, fixed_points and bptt)"
        )
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a rectangular real-valued array; got {type(value).__name__}") from exc
    kind = arr.dtype.kind
    if kind == "b" and arr.ndim == 0:
        raise TypeError(f"{name} must be a real number or array; got a bool scalar {arr!r}")
    if kind == "c":
        raise TypeError(f"{name} must be real-valued; got a complex array (dtype {arr.dtype})")
    if kind not in "biuf":
        raise TypeError(f"{name} must be a real-valued numeric array; got dtype {arr.dtype}")
    given = arr
    with np.errstate(over="ignore", invalid="ignore"):  # a float64 beyond float32's range: reported below
        arr = np.asarray(arr, dtype=dtype, order="C")  # keeps 0-d arrays 0-d
    if not arr.flags.writeable:
        # Numba types read-only arrays apart and would compile every kernel
        # again for them; a private copy is cheaper.  Kernels never write it.
        arr = arr.copy()
    if finite and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        if given.dtype.kind in "iu" or np.isfinite(given.ravel()[bad[0]]):
            raise ValueError(
                f"{name} must fit in {np.dtype(dtype)}; got {given.ravel()[bad[0]]} at flat index {bad[0]}, "
                f"beyond its range ({bad.size} entries overflow)"
            )
        raise ValueError(
            f"{name} must be finite; got {arr.ravel()[bad[0]]} at flat index {bad[0]} ({bad.size} non-finite entries)"
        )
    return arr


def shape_str(shape):
    """Format a shape for a message: ``(3, 4)``, ``(5,)`` or ``()``."""
    return str(tuple(int(s) for s in shape))


def leak(name, value, dtype, n_units, allow_grid=False):
    """Validate a leak rate alpha: scalar, (n,) or (G, n), every entry in [0, 1].

    Returns an array of shape (1, n) or (G, n).
    """
    arr = real_array(name, value, dtype)
    if arr.ndim == 0:
        arr = np.full((1, n_units), arr, dtype=dtype)
    elif arr.ndim == 1 and arr.shape[0] == n_units:
        arr = arr.reshape(1, n_units)
    elif arr.ndim == 2 and arr.shape[1] == n_units and allow_grid:
        pass
    else:
        expected = "a scalar or shape (n,)" + (" or (G, n)" if allow_grid else "")
        raise ValueError(f"{name} must be {expected} with n = {n_units}; got {shape_str(arr.shape)}")
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1]; got values in [{arr.min()}, {arr.max()}]")
    return arr


def grid_size(named_sizes):
    """Common grid size G of the arrays that carry a grid axis.

    ``named_sizes`` maps argument names to their leading size, or None for a
    shared (broadcast) argument.  Sizes of 1 broadcast.  Returns G >= 1.
    """
    for name, size in named_sizes.items():
        if size == 0:
            raise ValueError(f"{name} must have at least one grid point; got an empty grid axis")
    sizes = {name: size for name, size in named_sizes.items() if size is not None and size != 1}
    values = set(sizes.values())
    if len(values) > 1:
        listed = ", ".join(f"{name}: {size}" for name, size in sizes.items())
        raise ValueError(f"grid sizes do not match ({listed}); each must be G or shared")
    return values.pop() if values else 1


# ---------------------------------------------------------------------------
# Memory and work: refuse what cannot fit or cannot finish, before any work.
# ---------------------------------------------------------------------------
def available_memory():
    """Bytes of memory available to a new allocation, or None when unknown.

    Linux: ``MemAvailable`` from ``/proc/meminfo``; elsewhere the physical
    memory (``os.sysconf``).  ``_config.MAX_MEMORY``, when set, caps it.
    """
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            avail = None
    cap = _config.MAX_MEMORY
    if cap is not None:
        avail = cap if avail is None else min(avail, cap)
    return avail


def _bytes_str(nbytes):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if nbytes < 1024 or unit == "EiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} EiB"  # pragma: no cover


def memory(names, nbytes, what):
    """Refuse (ValueError) a call whose arrays need more than the available memory.

    ``names`` is the argument (or arguments, as one string) that set the size;
    ``nbytes`` the estimate (a Python int, so it never overflows); ``what`` the
    arrays, for the message.  Call this before allocating anything.
    """
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise ValueError(
            f"{names} too large: {what} would need {_bytes_str(nbytes)}, "
            f"more than the {_bytes_str(avail)} of memory available"
        )


def work(names, units, what):
    """Refuse (ValueError) a call whose work exceeds ``_config.MAX_WORK`` units.

    A unit is one multiply-add of a map step (an n-unit map step is n**2
    units, a single-unit step 1).  ``units`` is a Python int.
    """
    cap = _config.MAX_WORK
    if units > cap:
        raise ValueError(
            f"{names} too large: {what} is about {units:.3g} multiply-adds, more than the cap "
            f"of {cap:.3g} (dynrnn._config.MAX_WORK, hours of computation); split the call"
        )
