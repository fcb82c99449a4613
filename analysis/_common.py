"""Shared plumbing for the figure scripts in ``analysis/``: style, arguments and ``save_figure``.

Every figure script imports this module (``import _common``; the scripts put ``analysis/`` on
``sys.path`` first) and writes its outputs only through :func:`save_figure`, so that each figure
has exactly one writer and the same four files: ``<stem>.png``, ``<stem>.npz`` (exactly the
plotted arrays), ``<stem>.csv`` (the values of every plotted array small enough to read, one value
per row) and ``<stem>.json`` (parameters, preset, seed, versions, commit, run time, and every
array's shape and range).  The PNG, CSV and JSON are committed; the ``.npz`` is not.

Colours come from :data:`OKABE_ITO` (Okabe & Ito's colour-blind-safe palette), and every
distinction drawn in colour is drawn in a line style or marker too (:data:`LINESTYLES`,
:data:`MARKERS`).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ANALYSIS_DIR = Path(__file__).resolve().parent
STYLE_PATH = ANALYSIS_DIR / "dynrnn.mplstyle"
DEFAULT_OUT = ANALYSIS_DIR.parent / "figures"
PNG_DPI = 150
PRESET_NAMES = ("quick", "medium", "paper")
BACKEND_NAMES = ("cpu", "cuda")

#: Okabe & Ito (2008), "Color Universal Design": eight colours told apart with every common form
#: of colour blindness.  Figures take their colours from here (and grey levels for context).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
#: The order in which a figure's curves take colours, line styles and markers (paired by index).
CYCLE = ("blue", "vermillion", "green", "orange", "purple", "sky_blue", "black")
COLOURS = tuple(OKABE_ITO[name] for name in CYCLE)
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (8, 2)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: Arrays of at most this many values go into ``<stem>.csv``; larger ones (image grids) only into
#: the ``.npz``, with their shape and range in the ``.json``.
CSV_MAX_VALUES = 5000


def wilson_interval(k, n, z: float = 1.959963984540054):
    """The Wilson score interval of a success rate: ``k`` successes in ``n`` trials (arrays broadcast).

    Wilson (1927), "Probable inference, the law of succession, and statistical inference": the
    interval of p whose normal test at level ``z`` (default 1.96, 95 %) accepts k / n,
    ``(k/n + z^2/2n -+ z sqrt(k/n (1 - k/n)/n + z^2/4n^2)) / (1 + z^2/n)``.  Unlike the Wald interval
    it stays within [0, 1] and is not empty at 0/n or n/n (0 successes of 5: [0, 0.434]).  Where
    ``n`` is 0 both ends are NaN.

    Returns
    -------
    (low, high) : tuple of ndarray
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"wilson_interval: k must lie in [0, n]; got k={k!r}, n={n!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def _same_setting(a, b) -> bool:
    """Two saved settings agree (a tuple read back from JSON is a list)."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and list(a) == list(b)
    return a == b


def load_trained(path, kwargs: dict):
    """The `dynrnn.TrainResult` saved at ``path`` if it was trained with the ``dynrnn.train`` settings ``kwargs``.

    None when there is no such file, it is not a readable result, or a setting differs: the caller
    then trains (again).  The training experiments keep their finished runs this way, so a rerun
    only re-evaluates and re-plots.
    """
    import inspect

    import dynrnn
    from dynrnn.results.training import TrainResult

    path = Path(path)
    if not path.is_file():
        return None
    try:
        saved = TrainResult.load(path)
    except ValueError:
        return None
    # a result's config omits the settings left at train's defaults (cell="rnn", momentum=0...)
    defaults = {k: v.default for k, v in inspect.signature(dynrnn.train).parameters.items()
                if v.default is not inspect.Parameter.empty}  # fmt: skip
    return saved if all(_same_setting(saved.config.get(k, defaults.get(k)), v) for k, v in kwargs.items()) else None


def make_parser(description: str, *, default_seed: int = 0, default_preset: str = "paper") -> argparse.ArgumentParser:
    """The common command line of a figure script: --preset, --out, --backend, --seed.

    ``default_preset`` is the script's own default (``dynrnn figures`` without ``--preset`` passes
    none): "paper" for the dynamics figures (seconds at full size), "quick" for the training
    experiments, whose "paper" preset takes days.
    """
    if default_preset not in PRESET_NAMES:
        raise ValueError(f"default_preset must be one of {PRESET_NAMES}; got {default_preset!r}")
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default=default_preset,
        help="parameter set: 'paper' (full size), 'medium' (the training experiments' hours-long runs) or "
        f"'quick' (reduced, minutes at most); default: {default_preset}",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--backend", choices=BACKEND_NAMES, default="cpu", help="dynrnn compute backend")
    parser.add_argument(
        "--seed",
        type=int,
        default=default_seed,
        help="random seed (recorded in the .json even if unused)",
    )
    return parser


@contextmanager
def style():
    """Context in which figures are built and saved with ``dynrnn.mplstyle``."""
    import matplotlib.style

    with matplotlib.style.context(str(STYLE_PATH)):
        yield


def new_figure(**kwargs):
    """A ``matplotlib.figure.Figure`` with an Agg canvas (no pyplot, no GUI, no global state).

    Call inside :func:`style` so that the style's rcParams apply.
    """
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def versions() -> dict:
    """Versions of Python and the libraries a figure depends on."""
    import matplotlib
    import numba

    import dynrnn

    return {
        "python": platform.python_version(),
        "dynrnn": getattr(dynrnn, "__version__", "unknown"),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "matplotlib": matplotlib.__version__,
    }


def git_commit(path: Path = ANALYSIS_DIR) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` for the checkout holding ``path``."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        dirty = None
    return {"commit": commit, "dirty": dirty}


def _jsonable(obj):
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def _check_labels(fig, stem: str) -> None:
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        if hasattr(ax, "_colorbar"):
            if not (ax.get_xlabel() or ax.get_ylabel()):
                warnings.warn(f"{stem}: a colorbar has no label", stacklevel=3)
            continue
        has_x = any(a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax))
        has_y = any(a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax))
        if not (has_x and has_y):
            warnings.warn(f"{stem}: axes {ax.get_title()!r} lack an x or y label", stacklevel=3)


def _summary(a: np.ndarray) -> dict:
    """Shape, dtype and the range of the finite values of one plotted array, for the ``.json``."""
    out = {"shape": list(a.shape), "dtype": str(a.dtype), "in_csv": bool(a.size <= CSV_MAX_VALUES)}
    if a.dtype.kind in "biuf" and a.size:
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        out["n_nonfinite"] = int(a.size - finite.size)
        if finite.size:
            out["min"], out["max"] = finite.min().item(), finite.max().item()
        if a.size <= 20:
            out["values"] = a.tolist()
    return out


def write_csv(path, arrays: dict) -> Path:
    """Write the arrays of at most :data:`CSV_MAX_VALUES` values to ``path``, one value per row.

    Columns: ``array`` (the name in the ``.npz``), ``i``, ``j``, ``k`` (the index, empty past the
    array's dimensions) and ``value`` (``%.10g``; booleans as 0/1).  Arrays of more than three
    dimensions are refused.
    """
    path = Path(path)
    rows = ["array,i,j,k,value"]
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.size > CSV_MAX_VALUES:
            continue
        if a.ndim > 3:
            raise ValueError(f"{name}: arrays of more than 3 dimensions are not written to CSV")
        if a.dtype.kind == "b":
            a = a.astype(np.int8)
        for index in np.ndindex(a.shape):
            cells = [str(n) for n in index] + [""] * (3 - len(index))
            value = a[index].item()
            text = f"{value:.10g}" if isinstance(value, float) else str(value)
            rows.append(",".join([name, *cells, text]))
    path.write_text("\n".join(rows) + "\n")
    return path


def save_figure(
    fig,
    stem: str,
    out_dir,
    data: dict,
    params: dict,
    *,
    preset: str | None = None,
    seed: int | None = None,
    run_time_s: float | None = None,
) -> list[Path]:
    """Write ``<stem>.png``, ``.npz``, ``.json`` and ``.csv`` into ``out_dir``; return the four paths.

    ``data`` holds exactly the plotted arrays (saved compressed, and those of at most
    :data:`CSV_MAX_VALUES` values also as CSV, see :func:`write_csv`); ``params`` the parameters that
    produced them (JSON-serialisable, NumPy scalars and tuples allowed). ``preset``, ``seed`` and
    ``run_time_s`` default to ``params["preset"]``, ``params["seed"]`` and None.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not stem or Path(stem).name != stem:
        raise ValueError(f"stem must be a plain file name; got {stem!r}")
    arrays = {}
    for key, value in data.items():
        if not str(key).isidentifier():
            raise ValueError(f"data keys must be identifiers; got {key!r}")
        arrays[key] = np.asarray(value)
        if arrays[key].dtype == object:
            raise TypeError(f"data[{key!r}] is not a numeric array")
    _check_labels(fig, stem)

    png = out_dir / f"{stem}.png"
    npz = out_dir / f"{stem}.npz"
    meta = out_dir / f"{stem}.json"
    csv = out_dir / f"{stem}.csv"
    fig.savefig(png, dpi=PNG_DPI)
    np.savez_compressed(npz, **arrays)
    write_csv(csv, arrays)
    record = {
        "figure": stem,
        "preset": preset if preset is not None else params.get("preset"),
        "seed": seed if seed is not None else params.get("seed"),
        "params": params,
        "arrays": {k: _summary(a) for k, a in arrays.items()},
        "versions": versions(),
        "git": git_commit(),
        "run_time_s": None if run_time_s is None else round(float(run_time_s), 3),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    meta.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    return [png, npz, meta, csv]


def run_figure(
    argv,
    *,
    doc: str,
    stem: str,
    presets: dict,
    compute,
    plot,
    extra_params=None,
    default_preset: str = "paper",
    pass_out_dir: bool = False,
    table=None,
) -> list[Path]:
    """The ``main`` of every figure script: parse the options, compute, plot and save.

    ``compute(p, backend)`` returns the dict of plotted arrays for the preset's parameters ``p``
    (``compute(p, backend, out_dir=...)`` with ``pass_out_dir``, for scripts that keep more files
    there, e.g. a run store); ``plot(data, p)`` returns the figure.  ``default_preset`` is the
    preset used without ``--preset``; it writes ``<stem>.*``, any other preset ``<stem>_<preset>.*``.
    ``table(data, p, stem)``, if given, returns a markdown table of the results, written next to
    the figure as ``<stem>.md``.  Returns the paths written by :func:`save_figure` (and the table's).
    """
    parser = make_parser(doc.splitlines()[0], default_preset=default_preset)
    args = parser.parse_args(argv)
    if args.preset not in presets:
        parser.error(f"--preset: this figure has the presets {sorted(presets)}; got {args.preset!r}")
    p = dict(presets[args.preset])
    # The default preset writes <stem>.*; another writes <stem>_<preset>.*, so the committed default stays.
    stem = stem if args.preset == default_preset else f"{stem}_{args.preset}"
    t0 = time.perf_counter()
    with style():
        extra = {"out_dir": args.out} if pass_out_dir else {}
        data = compute(p, backend=args.backend, **extra)
        fig = plot(data, p)
        params = {**p, "backend": args.backend, **(extra_params or {})}
        paths = save_figure(
            fig, stem, args.out, data, params, preset=args.preset, seed=args.seed, run_time_s=time.perf_counter() - t0
        )
    if table is not None:
        paths.append(paths[0].with_suffix(".md"))
        paths[-1].write_text(table(data, p, stem=paths[0].stem))
    return paths
