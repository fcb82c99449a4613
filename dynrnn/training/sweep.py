"""Resumable sweeps of training runs (`dynrnn.sweep`): a grid, an executor, a SQLite store.

`sweep` expands a grid (task x init x method x length x seed, plus shared
settings) into run configs, skips those its store already holds as finished,
runs the others on Dask (or a process pool, or in-process) and writes each
run to the store (`dynrnn.training.store`) as soon as it finishes.  The
calling process is the only writer of the store.
"""

import itertools
import logging
import math
import numbers
import os
import pickle
import sys
import traceback

import numpy as np

from .. import _validate
from ..results.sweep import SweepResult
from .inits import GATED_INITS, INITS
from .store import RunStore, run_key
from .tasks import TASKS
from .train import METHODS

__all__ = ["GRID_AXES", "METHODS", "grid_configs", "run_config", "run_population", "sweep"]

GRID_AXES = ("task", "init", "method", "length", "seed")
"""The keys a grid point sets in a run config; ``settings`` may not use them."""

_ERROR_CHARS = 8000  # longest error text kept per failed run (the end of the traceback)
MAX_POPULATION = 64  # members per population at most, by default (a launch's memory and a store's granularity)


# ------------------------------------------------------------------------------------------- grid


def _names(name, value, valid):
    """A str or an iterable of str, each one of ``valid``; duplicates removed, order kept."""
    items = [value] if isinstance(value, str) else _as_list(name, value, "a name or a list of names")
    for item in items:
        _validate.choice(f"each of {name}", item, tuple(valid))
    return list(dict.fromkeys(items))


def _as_list(name, value, expected):
    if isinstance(value, (dict, set, frozenset)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be {expected}; got {type(value).__name__} {value!r}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} must hold at least one value; got an empty {type(value).__name__}")
    return items


def _length(value):
    """One length: an int >= 1, or a (min, max) range given as a pair or as text "min-max"."""
    name = "each of lengths"
    if isinstance(value, str):
        parts = value.split("-")
        try:
            numbers_ = [int(p) for p in parts]
        except ValueError:
            numbers_ = []
        if len(numbers_) not in (1, 2):
            raise ValueError(f"{name} must be an int >= 1 or a range 'min-max' (e.g. '50-200'); got {value!r}")
        value = numbers_[0] if len(numbers_) == 1 else tuple(numbers_)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (min, max) pair; got a sequence of {len(value)} values")
        low = _validate.integer(f"{name} (min of a range)", value[0], minimum=1)
        high = _validate.integer(f"{name} (max of a range)", value[1], minimum=1)
        if low > high:
            raise ValueError(f"{name} (a range) must have min <= max; got ({low}, {high})")
        return low if low == high else (low, high)
    return _validate.integer(name, value, minimum=1)


def _setting(key, value):
    """A settings value as a JSON scalar: None, bool, int, finite float or str."""
    name = f"settings[{key!r}]"
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite; got {value}")
        return value
    raise TypeError(f"{name} must be None, a bool, an int, a float or a str; got {type(value).__name__} {value!r}")


def _settings(settings):
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise TypeError(f"settings must be a dict of training settings or None; got {type(settings).__name__}")
    out = {}
    for key, value in settings.items():
        if not isinstance(key, str):
            raise TypeError(f"settings keys must be str; got {type(key).__name__} {key!r}")
        if key in GRID_AXES:
            axes = ", ".join(f"{a}s" for a in GRID_AXES)
            raise ValueError(f"settings must not set {key!r}, a grid axis (use the arguments {axes}); got {key!r}")
        out[key] = _setting(key, value)
    return out


def grid_configs(
    *,
    tasks=("temporal_order",),
    inits=("sigmoid", "basic_tanh", "smart_tanh"),
    methods=METHODS,
    lengths=(50,),
    seeds=(0,),
    settings=None,
):
    """The run configs of a grid: every (task, init, method, length, seed), plus the settings.

    Parameters
    ----------
    tasks, inits, methods : str or iterable of str
        Names from `dynrnn.tasks.TASKS`, `dynrnn.training.inits.INITS` (or
        ``GATED_INITS``, ``"uniform"``, with ``settings={"cell": "gru"}`` or
        ``"lstm"``) and `METHODS`.
    lengths : int, str or iterable
        Sequence lengths: ints >= 1, or ranges ``(min, max)`` (or the text
        ``"min-max"``) for lengths drawn at random in [min, max] per update.
    seeds : int or iterable of int
        Seeds >= 0.
    settings : dict, optional
        Training settings shared by every run (``n_units``, ``lr``, ...):
        str keys other than `GRID_AXES`, values None, bool, int, finite
        float or str.

    Returns
    -------
    list of dict
        One config per grid point, in the order of `itertools.product` over
        tasks, inits, methods, lengths, seeds, with keys ``task``, ``init``,
        ``method``, ``length`` (an int or a (min, max) tuple), ``seed``, then
        the settings.  Duplicate values of an axis are dropped.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (e.g. a float seed, a settings
        value that is a list).
    ValueError
        If a name is unknown, a length < 1 or a seed < 0, an axis is empty,
        or ``settings`` sets a grid axis or a non-finite float.

    See Also
    --------
    sweep : runs the grid.

    Examples
    --------
    >>> from dynrnn.training.sweep import grid_configs
    >>> configs = grid_configs(inits="basic_tanh", methods=["MSGD", "MSGD-CR"], lengths=[50, "50-200"],
    ...                        settings={"lr": 0.01})
    >>> len(configs)
    4
    >>> configs[1]
    {'task': 'temporal_order', 'init': 'basic_tanh', 'method': 'MSGD', 'length': (50, 200), 'seed': 0, 'lr': 0.01}
    """
    tasks = _names("tasks", tasks, TASKS)
    inits = _names("inits", inits, (*INITS, *GATED_INITS))  # a gated init with settings={"cell": "gru"}
    methods = _names("methods", methods, METHODS)
    if isinstance(lengths, (numbers.Integral, str)):
        lengths = [lengths]
    lengths = list(dict.fromkeys(_length(v) for v in _as_list("lengths", lengths, "an int or a list of lengths")))
    if isinstance(seeds, numbers.Integral):
        seeds = [seeds]
    seeds = _as_list("seeds", seeds, "an int or a list of ints")
    seeds = list(dict.fromkeys(_validate.integer("each of seeds", s, minimum=0) for s in seeds))
    settings = _settings(settings)
    return [
        {"task": t, "init": i, "method": m, "length": n, "seed": s, **settings}
        for t, i, m, n, s in itertools.product(tasks, inits, methods, lengths, seeds)
    ]


# ------------------------------------------------------------------------------------ executors


def run_config(config):
    """The default run function of `sweep`: train one config and return its summary.

    ``config`` holds ``task``, ``init``, ``method``, ``length``, ``seed`` and
    the settings, all passed to `dynrnn.train` as keywords; the run's own
    progress bar is off unless the settings turn it on (the sweep has one).
    """
    from .train import train

    return train(**{"progress": False, **config}).summary()


def run_population(configs, n_threads=None):
    """The default run function of `sweep` for a group of compatible configs: one `dynrnn.train_population`.

    Returns one outcome per config, in order: ``("ok", summary)``, or
    ``("error", traceback text)``.  A group whose population is refused (a
    member with an invalid setting) runs its configs one by one instead, so
    that only the invalid ones fail.
    """
    from .population import train_population

    try:
        population = train_population(configs, progress=False, n_threads=n_threads)
    except (TypeError, ValueError):
        return [_call(run_config, config) for config in configs]
    return [("ok", result.summary()) for result in population]


def _call(run, config):
    """Run one config in a worker: ("ok", summary), or ("error", traceback text) if it raised an Exception."""
    try:
        return "ok", run(config)
    except Exception:
        return "error", traceback.format_exc()[-_ERROR_CHARS:]


def _call_job(run, configs, n_threads):
    """Run a job (one config, or a population when ``run`` is None): a list of outcomes, one per config."""
    if run is not None:
        return [_call(run, config) for config in configs]
    try:
        return run_population(configs, n_threads)
    except Exception:
        return [("error", traceback.format_exc()[-_ERROR_CHARS:])] * len(configs)


def _jobs(run, configs, n_workers, population_size):
    """Split ``configs`` into jobs: single configs for a custom ``run``; else populations of compatible runs.

    Runs of one grid share every setting but task and length, so a
    population is a (task, length) group, cut into pieces of at most
    ``population_size`` members, by default as many as spread the runs
    evenly over the workers (at most `MAX_POPULATION`).
    """
    if run is not None:
        return [[config] for config in configs]
    groups = {}
    for config in configs:
        groups.setdefault((config["task"], config["length"]), []).append(config)
    if population_size is None:
        population_size = min(MAX_POPULATION, max(1, -(-len(configs) // n_workers)))
    return [group[i : i + population_size] for group in groups.values() for i in range(0, len(group), population_size)]


def _failure(exc):
    """The error text of a future that failed outside the run function (worker lost, pickling, ...)."""
    return f"{type(exc).__name__}: {exc}"[-_ERROR_CHARS:]


def _serial(run, jobs):
    for job in jobs:
        yield from zip(job, _call_job(run, job, None), strict=True)


def _default_workers(n_workers):
    if n_workers is not None:
        return n_workers
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _process_pool(run, jobs, n_workers):
    import concurrent.futures
    import multiprocessing

    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=_default_workers(n_workers), mp_context=multiprocessing.get_context("spawn")
    )
    futures = {}
    finished = False
    try:
        futures = {executor.submit(_call_job, run, job, 1): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                outcomes = future.result()
            except Exception as exc:  # a worker died, or the run could not be pickled
                outcomes = [("error", _failure(exc))] * len(job)
            yield from zip(job, outcomes, strict=True)
        finished = True
    finally:
        if not finished:  # interrupted: drop what waits, stop what runs
            for future in futures:
                future.cancel()
            processes = getattr(executor, "_processes", None) or {}  # no public API before Python 3.14
            for process in list(processes.values()):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


def _dask(run, jobs, scheduler, n_workers, timeout):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=_default_workers(n_workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,  # no dashboard; its HTTP server (metrics) still starts, so:
            scheduler_kwargs={"dashboard_address": ":0"},  # any free port, never 8787 (two sweeps at once)
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, timeout=timeout)
    else:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"scheduler: cannot connect to the Dask scheduler at {scheduler!r} within timeout={timeout:g} s ({exc})"
            ) from exc
    futures = {}
    try:
        futures = {client.submit(_call_job, run, job, 1, pure=False): job for job in jobs}
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                outcomes = future.result()
            except Exception as exc:  # worker lost (KilledWorker), cancelled, ...
                outcomes = [("error", _failure(exc))] * len(job)
            yield from zip(job, outcomes, strict=True)
    finally:
        try:
            if futures:
                client.cancel(list(futures))
            client.close()
        finally:
            if cluster is not None:
                cluster.close()


# ---------------------------------------------------------------------------------------- sweep


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _progress_bar(progress, total, initial):
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, initial=initial, desc="sweep", unit="run", file=sys.stderr, dynamic_ncols=True)


def _check_scheduler(scheduler):
    if scheduler is None:
        return None
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be None, 'serial' or a Dask scheduler address such as 'tcp://host:8786'; "
            f"got {type(scheduler).__name__} {scheduler!r}"
        )
    if not scheduler.strip():
        raise ValueError("scheduler must be None, 'serial' or a Dask scheduler address; got an empty string")
    return scheduler.strip()


def sweep(
    db,
    *,
    tasks=("temporal_order",),
    inits=("sigmoid", "basic_tanh", "smart_tanh"),
    methods=METHODS,
    lengths=(50,),
    seeds=(0,),
    settings=None,
    scheduler=None,
    n_workers=None,
    timeout=10.0,
    progress=None,
    run=None,
    population_size=None,
):
    """Run a grid of training runs, resumably, storing each finished run in a SQLite file.

    The grid is every (task, init, method, length, seed); each grid point
    plus ``settings`` is one run config, run as ``run(config)``.  Runs that
    ``db`` already holds as finished are skipped, so running the same sweep
    again after an interruption (Ctrl-C, a killed process, a lost cluster)
    loses nothing and duplicates nothing.

    Parameters
    ----------
    db : str or os.PathLike
        The SQLite run store (`dynrnn.training.store.RunStore`): created if
        missing; an existing file must be a dynrnn store and is never
        overwritten.
    tasks : str or iterable of str, default ("temporal_order",)
        Task names, keys of `dynrnn.tasks.TASKS`.
    inits : str or iterable of str, default ("sigmoid", "basic_tanh", "smart_tanh")
        Initializations, keys of `dynrnn.training.inits.INITS` (or
        ``"uniform"`` for a GRU or LSTM: ``settings={"cell": "gru"}``).
    methods : str or iterable of str, default ("MSGD", "MSGD-C", "MSGD-CR")
        Training methods, from `METHODS`.
    lengths : int, str or iterable, default (50,)
        Sequence lengths: ints >= 1, or ``(min, max)`` pairs (or the text
        ``"min-max"``) for random lengths in [min, max] per update, stored as
        ``"min-max"``.  Note that ``lengths=(50, 200)`` means two lengths;
        a range is ``lengths=[(50, 200)]``.
    seeds : int or iterable of int, default (0,)
        Seeds >= 0.
    settings : dict, optional
        Keyword settings of `dynrnn.train` shared by every run (``n_units``,
        ``batch_size``, ``lr``, ``threshold``, ``alpha``, ``max_updates``,
        ...); values None, bool, int, finite float or str.  They are part of
        each run's identity: a sweep with other settings runs again.
    scheduler : str, optional
        Where runs execute.  None (default): a Dask ``LocalCluster`` of
        ``n_workers`` single-threaded worker processes, or, when Dask is not
        installed, a `concurrent.futures.ProcessPoolExecutor` of
        ``n_workers`` processes (same semantics).  ``"serial"``: one after
        another in this process (for tests and debugging).  Any other
        string: the address of a running Dask scheduler, e.g.
        ``"tcp://host:8786"``.
    n_workers : int, optional
        Worker processes of the local cluster or pool; default: the CPUs
        this process may use.  Ignored with ``"serial"`` or an address.
    timeout : float, default 10.0
        Seconds to wait for a Dask scheduler to answer.
    progress : bool, optional
        Show a tqdm progress bar on stderr; default: when stderr is a
        terminal.
    run : callable, optional
        ``run(config) -> dict``, the summary of one run, JSON-able (see
        `dynrnn.training.store.RunStore.add`).  Outside ``"serial"`` it must
        be picklable: a function defined at the top level of an importable
        module.  Default: the runs are grouped into populations of
        compatible runs (the same task and length), each trained by one
        `dynrnn.train_population` call (`run_population`), whose member k
        is the run `dynrnn.train` would make.
    population_size : int, optional
        Members per population (default run only): default, as many as
        spread the runs evenly over the workers, at most 64.  A population
        is stored when all its members have finished.

    Returns
    -------
    SweepResult
        Counts (``n_total``, ``n_skipped``, ``n_run``, ``n_failed``) and the
        stored records of this grid.

    Raises
    ------
    TypeError
        If an argument has the wrong kind (see `grid_configs`; ``scheduler``
        not a str, ``n_workers`` not an int, ``progress`` not a bool,
        ``run`` not callable or, for a process pool, not picklable).
    ValueError
        If a grid value is invalid (see `grid_configs`); with the default
        ``run``, if a run's settings are not valid for `dynrnn.train` (an
        unknown setting, an invalid value, a length below the task's
        minimum: all checked before the first run); ``n_workers < 1``,
        ``timeout <= 0``, or ``db`` is corrupt, not a dynrnn store, or of
        another schema version (the file is not modified).
    ConnectionError
        If the Dask scheduler at ``scheduler`` cannot be reached within
        ``timeout`` seconds.
    ImportError
        If ``scheduler`` is an address and Dask is not installed
        (``pip install "dynrnn[dask]"``).
    KeyboardInterrupt
        Re-raised after Ctrl-C: pending runs are cancelled, the workers and
        the cluster are shut down, and the store holds every run that had
        finished (each is one committed transaction).

    See Also
    --------
    grid_configs : the configs of a grid.
    dynrnn.training.store.load_runs : read a store (for figures).
    dynrnn.training.store.RunStore.to_csv : export a store to CSV.

    Notes
    -----
    The calling process is the only writer of ``db``: it submits the runs
    and, as each one finishes, writes it at once in one transaction, so a
    sweep killed at any moment (even with SIGKILL) keeps every run written
    so far, and the file stays consistent.  A run is identified by
    `dynrnn.training.store.run_key`, the SHA-256 of the canonical JSON of its
    config.

    A run whose function raises is recorded with status ``"error"`` and the
    traceback text, counted in ``n_failed``, and retried by the next sweep
    of the same grid (which replaces its record); failures never stop the
    other runs.

    With a local cluster or process pool, workers are started with the
    ``spawn`` method, so a script that calls `sweep` must guard its entry
    point with ``if __name__ == "__main__":``.

    The grid of Figure 7 of Pascanu et al. (2013), Sec. 4.1, is the
    default: temporal order, the three initializations, the three methods.

    Examples
    --------
    >>> import os, tempfile
    >>> import dynrnn
    >>> def fake_run(config):  # stands in for dynrnn.train
    ...     return {"success": config["method"] != "MSGD", "updates_to_success": None, "final_error": 0.5}
    >>> db = os.path.join(tempfile.mkdtemp(), "sweep.db")
    >>> result = dynrnn.sweep(db, inits="smart_tanh", seeds=[0, 1], scheduler="serial", run=fake_run)
    >>> result.n_total, result.n_run, result.n_succeeded
    (6, 6, 4)
    >>> dynrnn.sweep(db, inits="smart_tanh", seeds=[0, 1, 2], scheduler="serial", run=fake_run).n_skipped
    6
    """
    configs = grid_configs(tasks=tasks, inits=inits, methods=methods, lengths=lengths, seeds=seeds, settings=settings)
    scheduler = _check_scheduler(scheduler)
    if n_workers is not None:
        n_workers = _validate.integer("n_workers", n_workers, minimum=1)
    timeout = _validate.positive_float("timeout", timeout)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be None, True or False; got {type(progress).__name__} {progress!r}")
    if run is not None and not callable(run):
        raise TypeError(f"run must be a callable run(config) -> dict, or None; got {type(run).__name__}")
    if population_size is not None:
        population_size = _validate.integer("population_size", population_size, minimum=1)

    if run is None:
        check_train_configs(configs)  # every run's settings, before the first run
    executor = _pick_executor(scheduler, run)
    with RunStore(db) as store:
        keys = [run_key(config) for config in configs]
        finished = store.finished_keys()
        todo = [config for config, key in zip(configs, keys, strict=True) if key not in finished]
        n_skipped = len(configs) - len(todo)
        n_run = n_failed = 0
        if todo:
            workers = 1 if executor == "serial" else _default_workers(n_workers)
            jobs = _jobs(run, todo, workers, population_size)
            if executor == "serial":
                outcomes = _serial(run, jobs)
            elif executor == "pool":
                outcomes = _process_pool(run, jobs, n_workers)
            else:
                outcomes = _dask(run, jobs, scheduler, n_workers, timeout)
            bar = _progress_bar(progress, len(configs), n_skipped)
            try:
                for config, (status, value) in outcomes:
                    n_failed += not _store(store, config, status, value)
                    n_run += 1
                    bar.update(1)
            finally:
                outcomes.close()  # cancels and shuts down what is left (Ctrl-C, an error)
                bar.close()
        records = store.records(keys)
    return SweepResult(
        db=str(store.path),
        n_total=len(configs),
        n_skipped=n_skipped,
        n_run=n_run,
        n_failed=n_failed,
        records=tuple(records),
    )


def check_train_configs(configs):
    """Validate every config as `dynrnn.train` would, before any run: ValueError/TypeError naming the setting.

    Catches what would otherwise fail every run of a grid: an unknown
    setting, an invalid value (``max_updates=-5``), a length below the
    task's minimum, sizes that cannot fit in memory.
    """
    import inspect

    from .run import train_config
    from .train import train

    params = inspect.signature(train).parameters
    defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    allowed = set(params) - {"checkpoint", "checkpoint_every", "resume"}
    seen = set()
    for config in configs:
        for key in config:
            if key not in allowed:
                raise ValueError(
                    f"settings has an unknown setting {key!r}; expected keyword arguments of dynrnn.train "
                    f"({', '.join(sorted(allowed - set(GRID_AXES)))})"
                )
        point = {k: v for k, v in config.items() if k != "seed"}  # seeds do not change what is valid
        key = repr(sorted(point.items()))
        if key in seen:
            continue
        seen.add(key)
        args = {**defaults, **{k: v for k, v in config.items() if k != "progress"}}
        try:
            train_config(args)
        except (TypeError, ValueError) as exc:
            where = f"{config['task']} {config['init']} {config['method']} length {config['length']!r}"
            raise type(exc)(f"settings (run {where}): {exc}") from None


def _pick_executor(scheduler, run):
    """Return "serial", "pool" or "dask"; check that Dask is there for an address and that a pool can pickle run."""
    if scheduler == "serial":
        return "serial"
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        if scheduler is not None:
            raise ImportError(
                f"scheduler={scheduler!r} needs Dask's distributed scheduler, which is not installed; "
                f'install it with: pip install "dynrnn[dask]"'
            ) from exc
        try:
            pickle.dumps(run)
        except Exception as exc:
            raise TypeError(
                f"run must be picklable (a function defined at the top level of a module) to run in worker "
                f"processes; got {run!r} ({type(exc).__name__}: {exc})"
            ) from exc
        return "pool"
    return "dask"


def _store(store, config, status, value):
    """Write one outcome to the store; return True if the run finished, False if it failed."""
    if status == "ok" and not isinstance(value, dict):
        status, value = "error", f"the run function returned a {type(value).__name__}, not a dict (its summary)"
    if status == "ok":
        try:
            store.add(config, value)
            return True
        except (TypeError, ValueError) as exc:
            value = f"the run's summary cannot be stored: {type(exc).__name__}: {exc}"
    store.add_failure(config, value)
    return False
