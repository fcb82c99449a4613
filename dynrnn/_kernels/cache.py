"""The on-disk cache of compiled CPU kernels.

Without it a fresh Python process compiles for 10-18 s before the first
result of each public function.  Every ``njit`` in dynrnn takes
``**_config.JIT_OPTIONS``, which holds ``cache=True``; this module decides
where those caches go and makes them hit.  Two things stop Numba's own cache
from working here:

* Numba checks only the source file of the cached function (its modification
  time and size), not the files whose functions it inlines or calls, so an
  edit to ``scalar.py`` would leave stale kernels built from ``cpu.py`` in
  place.  Here the cache folder is named by ``dynrnn.__version__`` and a hash
  of every ``.py`` file of the package (and the Numba version): any edit
  anywhere in dynrnn selects a new, empty folder.
* Numba keys a closure's cache entry on a pickle of its cell contents.  Our
  kernels are closures over other compiled functions (the factories in
  ``cpu.py``, ``bptt.py``, ...), and a dispatcher pickles with a random
  per-process UUID and its ``fastmath`` set in hash-seed order, so the key
  differs in every process: the entry is written again and never read.  For
  functions of this package the cells are fingerprinted instead by what
  decides the compiled code -- module, name, bytecode, constants, options and
  (recursively) their own cells; the rest is covered by the folder's hash.

Both are installed into Numba by `configure`, which the kernel modules call
before they create their first dispatcher (importing ``dynrnn`` alone never
imports Numba).  A custom cache locator sends only this package's functions
to the folder; other Numba code in the process keeps Numba's own locations,
``NUMBA_CACHE_DIR`` included.  (Setting ``numba.config.CACHE_DIR`` would also
work at run time -- Numba reads it whenever a cached dispatcher is created --
but it would move every other cached function of the process too.)  Numba
consults the locators each time a dispatcher is created, so this works also
when the user imported Numba before dynrnn.  If the user names their own
locators (``NUMBA_CACHE_LOCATOR_CLASSES``), Numba's locations are used, with
the keys above.

Settings (read when the first kernel module is imported):

``DYNRNN_CACHE_DIR``
    Parent folder of the keyed cache folders.  Default: the user cache
    folder (``$XDG_CACHE_HOME/dynrnn`` or ``~/.cache/dynrnn`` on Linux,
    ``~/Library/Caches/dynrnn`` on macOS, ``%LOCALAPPDATA%\\dynrnn`` on
    Windows).
``DYNRNN_DISABLE_CACHE``
    Any value other than empty or ``0`` turns the cache off: every process
    compiles its kernels again, as with ``cache=False``.

CUDA kernels are not cached on disk (``cuda.jit`` compiles them per process).
"""

import functools
import hashlib
import os
import re
import sys
import time
import types
import warnings
from pathlib import Path

ENV_DIR = "DYNRNN_CACHE_DIR"
ENV_DISABLE = "DYNRNN_DISABLE_CACHE"

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../dynrnn
_PACKAGE_PREFIX = str(PACKAGE_DIR) + os.sep

# The keyed folder in use (a Path), or None before `configure` and when the cache is off.
folder = None


def disabled():
    """True when ``DYNRNN_DISABLE_CACHE`` turns the cache off."""
    return os.environ.get(ENV_DISABLE, "").strip() not in ("", "0")


def default_parent():
    """The user cache folder for dynrnn on this platform."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dynrnn"


def parent_dir():
    """``DYNRNN_CACHE_DIR`` if set, else `default_parent`."""
    custom = os.environ.get(ENV_DIR, "").strip()
    return Path(custom).expanduser() if custom else default_parent()


def source_hash(root=PACKAGE_DIR):
    """SHA-256 (hex) over the relative path and content of every ``.py`` file under ``root``."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def cache_key(version, root=PACKAGE_DIR, extra=()):
    """Name of the cache folder: ``<version>-<16 hex digits>``.

    The digits hash every ``.py`` file under ``root`` and the strings in
    ``extra`` (the Numba version), so a change to any of them names a new folder.
    """
    h = hashlib.sha256(source_hash(root).encode())
    for item in extra:
        h.update(b"\0" + str(item).encode())
    return f"{version}-{h.hexdigest()[:16]}"


@functools.cache
def _in_package(filename):
    try:
        return os.path.realpath(filename).startswith(_PACKAGE_PREFIX)
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------
# Deterministic fingerprints of closure cells.
# ---------------------------------------------------------------------------
def _code_fingerprint(code):
    consts = tuple(_code_fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
                   for c in code.co_consts)  # fmt: skip
    return ("code", code.co_name, hashlib.sha256(code.co_code).hexdigest(), consts, code.co_names)


def fingerprint(obj, _active=frozenset()):
    """A nested tuple of plain values that stands for ``obj`` the same way in every process.

    Numba dispatchers and Python functions are described by their module,
    qualified name, bytecode, constants, compile options and, recursively,
    the contents of their closure cells; containers by their items; scalars,
    strings and arrays by value.  Anything else falls back to its pickle,
    which is what Numba itself uses (a new pickle in every process costs a
    cache miss, never a wrong hit).
    """
    if id(obj) in _active:
        return ("cycle",)
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return (type(obj).__name__, repr(obj))
    active = _active | {id(obj)}
    py_func = getattr(obj, "py_func", None)
    if isinstance(py_func, types.FunctionType) and isinstance(getattr(obj, "targetoptions", None), dict):
        return ("dispatcher", type(obj).__name__, fingerprint(py_func, active), fingerprint(obj.targetoptions, active))
    if isinstance(obj, types.FunctionType):
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(fingerprint(cell.cell_contents, active))
            except ValueError:  # an empty cell
                cells.append(("empty",))
        return (
            "function",
            obj.__module__,
            obj.__qualname__,
            _code_fingerprint(obj.__code__),
            fingerprint(obj.__defaults__, active),
            tuple(cells),
        )
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(fingerprint(x, active) for x in obj))
    if isinstance(obj, (set, frozenset)):
        return (type(obj).__name__, tuple(sorted(repr(fingerprint(x, active)) for x in obj)))
    if isinstance(obj, dict):
        items = ((fingerprint(k, active), fingerprint(v, active)) for k, v in obj.items())
        return ("dict", tuple(sorted(items, key=repr)))
    if type(obj).__module__ == "numpy":
        import numpy as np

        if isinstance(obj, np.ndarray):
            return (
                "ndarray",
                obj.dtype.str,
                obj.shape,
                hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
            )
        if isinstance(obj, np.generic):
            return ("numpy", obj.dtype.str, repr(obj.item()))
    from numba.core.serialize import dumps

    return ("pickle", hashlib.sha256(dumps(obj)).hexdigest())


def _index_key(self, sig, codegen):
    """`numba.core.caching.Cache._index_key`, with deterministic closure fingerprints for dynrnn.

    Numba's key is (signature, target machine, hash of the bytecode, hash of
    a pickle of the closure cells); for a function of this package the last
    is the hash of `fingerprint` instead.  Other functions keep Numba's key.
    """
    from numba.core.caching import Cache

    py_func = self._py_func
    if not _in_package(py_func.__code__.co_filename):
        return Cache._index_key(self, sig, codegen)
    return (
        sig,
        codegen.magic_tuple(),
        (
            hashlib.sha256(py_func.__code__.co_code).hexdigest(),
            hashlib.sha256(repr(fingerprint(py_func)).encode()).hexdigest(),
        ),
    )


_index_key.dynrnn = True


PRUNE_AFTER_DAYS = 30
_KEY_PATTERN = re.compile(r"^[^-]+-[0-9a-f]{16}$")


def _prune(current, days=PRUNE_AFTER_DAYS):
    """Mark ``current`` as used and delete the cache files of sibling folders unused for ``days``.

    Every edit of a source file names a new folder, so old ones would pile
    up.  Only folders named like a key lose files, and only Numba's
    ``.nbi``/``.nbc`` files (then the folders, if empty).  Errors are ignored.
    """
    now = time.time()
    try:
        os.utime(current)
        siblings = list(current.parent.iterdir())
    except OSError:
        return
    for old in siblings:
        try:
            if old == current or not _KEY_PATTERN.match(old.name) or now - old.stat().st_mtime < days * 86400:
                continue
            for sub, _, files in os.walk(old, topdown=False):
                for f in files:
                    if f.endswith((".nbi", ".nbc")):
                        os.remove(os.path.join(sub, f))
                os.rmdir(sub)
        except OSError:
            continue


def _make_locator_class():
    from numba.core import caching

    class Locator(caching._CacheLocator):
        """Puts the cache of a function defined in dynrnn into the keyed folder (nothing else)."""

        def __init__(self, py_func, py_file):
            self._lineno = py_func.__code__.co_firstlineno
            sub = Path(os.path.realpath(py_file)).parent.relative_to(PACKAGE_DIR)
            self._cache_path = str(folder / sub)

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            # The folder's name already hashes every source file's content.
            return folder.name

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            if folder is None or not _in_package(py_file):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    Locator.dynrnn = True
    return Locator


def configure():
    """Point this package's Numba caches at the keyed folder; idempotent.

    Called by every CPU kernel module before it creates a dispatcher.  Turns
    ``_config.JIT_OPTIONS["cache"]`` off (with a warning) when the folder
    cannot be created, and off silently when ``DYNRNN_DISABLE_CACHE`` says so.
    """
    global folder
    from .. import _config

    if folder is not None or not _config.JIT_OPTIONS.get("cache"):
        return
    if disabled():
        _config.JIT_OPTIONS["cache"] = False
        return
    import numba
    from numba.core import caching

    from .. import __version__

    path = parent_dir() / cache_key(__version__, extra=(f"numba {numba.__version__}",))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _config.JIT_OPTIONS["cache"] = False
        warnings.warn(
            f"dynrnn: cannot create the kernel cache folder {path} ({exc}); kernels are compiled in every "
            f"process. Set {ENV_DIR} to a writable folder, or {ENV_DISABLE}=1 to silence this.",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    folder = path
    _prune(path)
    if not any(getattr(c, "dynrnn", False) for c in caching.CacheImpl._locator_classes):
        caching.CacheImpl._locator_classes.insert(0, _make_locator_class())
    # FunctionCache (the cache of @jit functions) inherits _index_key from Cache; other
    # functions keep Cache's (see `_index_key`).
    if not getattr(caching.FunctionCache._index_key, "dynrnn", False):
        caching.FunctionCache._index_key = _index_key
