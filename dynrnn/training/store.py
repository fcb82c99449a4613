"""The SQLite run store of `dynrnn.sweep`: one row per finished training run.

A store is one SQLite file (stdlib `sqlite3`) with two tables:

``meta(name TEXT PRIMARY KEY, value TEXT)``
    ``schema`` (`SCHEMA`, an int as text) and ``dynrnn_version`` (of the
    dynrnn that created the file).
``runs``
    One row per run, keyed by `run_key` of its config (``key`` is unique);
    the columns are listed in `COLUMNS` and described in `load_runs`.

Only the process that drives a sweep writes to a store, one short
transaction per finished run, so a sweep killed at any moment leaves every
finished run in the file and nothing half-written.  The file uses SQLite's
default rollback journal (not WAL, which needs shared memory and is unsafe
on network file systems), with a busy timeout, so any number of readers
(figure scripts, `load_runs`) may open it while a sweep writes.

An existing file is checked before anything is written to it: it must be a
SQLite database that passes ``PRAGMA quick_check`` and holds a dynrnn store
of schema `SCHEMA`.  Otherwise a ValueError says why and that the file was
not modified; a store is never overwritten.
"""

import csv
import datetime
import hashlib
import json
import numbers
import os
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["COLUMNS", "SCHEMA", "RunStore", "load_runs", "run_key"]

SCHEMA = 1
"""Version of the table layout; a store of another version is refused, never converted."""

BUSY_TIMEOUT_S = 60.0
"""Seconds a connection waits for another connection's lock before giving up."""

_SQLITE_MAGIC = b"SQLite format 3\x00"

_SUMMARY_COLUMNS = {
    # column: (SQL type, Python type of a non-NULL value)
    "success": ("INTEGER", bool),
    "updates_to_success": ("INTEGER", int),
    "final_error": ("REAL", float),
    "best_error": ("REAL", float),
    "n_updates": ("INTEGER", int),
    "diverged": ("INTEGER", bool),
}

COLUMNS = (
    "key",
    "task",
    "init",
    "method",
    "length",
    "seed",
    "status",
    "error",
    *_SUMMARY_COLUMNS,
    "config",
    "summary",
    "finished_at",
)
"""The columns of the ``runs`` table, in order (also the columns of `RunStore.to_csv`)."""

_CREATE = f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    key TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    init TEXT NOT NULL,
    method TEXT NOT NULL,
    length TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error TEXT,
    {", ".join(f"{name} {kind}" for name, (kind, _) in _SUMMARY_COLUMNS.items())},
    config TEXT NOT NULL,
    summary TEXT,
    finished_at TEXT NOT NULL
);
"""


# ---------------------------------------------------------------------------------- keys, JSON


def _json_default(value):
    """JSON for NumPy scalars and arrays (their Python equivalents); TypeError for anything else."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} is not JSON-serializable")


def canonical_json(config):
    """The canonical JSON text of a run config: sorted keys, no spaces, ASCII, no NaN.

    Tuples become lists; NumPy scalars their Python values.  Raises TypeError
    or ValueError for what JSON cannot hold (objects, NaN, inf).
    """
    return json.dumps(
        config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=_json_default
    )


def run_key(config):
    """The stable key of a run config: SHA-256 (hex) of its `canonical_json`.

    The key depends on the config's values and not on the order of its keys,
    nor on the process, machine or Python version.  ``1`` and ``1.0`` differ
    (JSON writes them differently), so pass a setting always as one type.

    Examples
    --------
    >>> from dynrnn.training.store import run_key
    >>> run_key({"seed": 0, "task": "addition"}) == run_key({"task": "addition", "seed": 0})
    True
    >>> len(run_key({"seed": 0}))
    64
    """
    return hashlib.sha256(canonical_json(config).encode("ascii")).hexdigest()


def length_text(length):
    """A length as stored in the ``length`` column: ``"50"``, or ``"50-200"`` for a (min, max) range."""
    if isinstance(length, (tuple, list)):
        return f"{int(length[0])}-{int(length[1])}"
    return str(int(length))


def _column_value(name, value, kind):
    """A summary value for its column: None, bool, int or float (NaN becomes NULL)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if kind is bool:
        return bool(value)
    if kind is int:
        if isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer()):
            return int(value)
        raise TypeError(f"summary[{name!r}] must be an integer or None; got {type(value).__name__} {value!r}")
    if not isinstance(value, numbers.Real):
        raise TypeError(f"summary[{name!r}] must be a real number or None; got {type(value).__name__} {value!r}")
    value = float(value)
    return None if value != value else value


# --------------------------------------------------------------------------------------- store


class RunStore:
    """A SQLite file of finished runs: opened (or created), checked, then added to and read.

    Parameters
    ----------
    path : str or os.PathLike
        The database file.  A missing (or empty) file is created with the
        schema; an existing one must be a dynrnn run store of schema `SCHEMA`.
    create : bool, default True
        If False, a missing or empty file is an error instead of being
        created (for readers such as `load_runs`, which never write).

    Raises
    ------
    TypeError
        If ``path`` is not a str or path-like.
    ValueError
        If the file is not a SQLite database, is corrupt (fails
        ``PRAGMA quick_check``), is not a dynrnn run store, or has another
        schema version; the message names the file and says it was not
        modified.  Also if the file is missing and ``create`` is False, or
        its folder does not exist.

    See Also
    --------
    load_runs : read a store's records.
    dynrnn.sweep : fills a store.

    Notes
    -----
    Each `add` is one transaction, committed before it returns.  Use the
    store as a context manager, or call `close`.

    Examples
    --------
    >>> import tempfile, os
    >>> from dynrnn.training.store import RunStore
    >>> path = os.path.join(tempfile.mkdtemp(), "runs.db")
    >>> config = {"task": "addition", "init": "basic_tanh", "method": "MSGD-C", "length": 50, "seed": 0}
    >>> with RunStore(path) as store:
    ...     key = store.add(config, {"success": True, "updates_to_success": 1200, "final_error": 0.0})
    ...     records = store.records()
    >>> records[0]["success"], records[0]["updates_to_success"], records[0]["length"]
    (True, 1200, '50')
    """

    def __init__(self, path, *, create=True):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"db must be a file path (str or os.PathLike); got {type(path).__name__} {path!r}")
        self.path = Path(path)
        self._connection = None
        exists = self.path.exists()
        if exists and self.path.is_dir():
            raise ValueError(f"db must be a file; got the folder {self.path}")
        if not exists and not create:
            raise ValueError(f"db: no run store at {self.path} (the file does not exist)")
        if not exists and not self.path.parent.is_dir():
            raise ValueError(f"db: cannot create {self.path}: the folder {self.path.parent} does not exist")
        if exists and self.path.stat().st_size > 0:
            self._check_header()
        connection = self._connect()
        try:
            if self._check_existing(connection):
                if not create:
                    raise ValueError(f"db: {self.path} holds no run store (an empty database)")
                self._create(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    # ---------------------------------------------------------------------------- open, check

    def _refuse(self, why):
        return ValueError(f"db: {self.path} {why}; the file was NOT modified")

    def _check_header(self):
        with open(self.path, "rb") as f:
            header = f.read(len(_SQLITE_MAGIC))
        if header != _SQLITE_MAGIC:
            raise self._refuse("is not a SQLite database (corrupt, or some other kind of file)")

    def _connect(self):
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise ValueError(f"db: cannot open {self.path}: {exc}") from exc
        return connection

    def _check_existing(self, connection):
        """Check an existing store by reading only; return True if the database is new (no tables)."""
        try:
            check = connection.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                problems = "; ".join(str(row[0]) for row in check[:3])
                raise self._refuse(f"is corrupt (PRAGMA quick_check: {problems})")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return True
            if not {"meta", "runs"} <= tables:
                raise self._refuse(
                    f"is a SQLite database but not a dynrnn run store (tables: {', '.join(sorted(tables))})"
                )
            meta = dict(connection.execute("SELECT name, value FROM meta").fetchall())
            columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"cannot be read as a SQLite database ({exc})") from exc
        schema = meta.get("schema")
        if schema != str(SCHEMA):
            made_by = meta.get("dynrnn_version", "an unknown version")
            raise self._refuse(
                f"is a dynrnn run store of schema {schema!r} (made by dynrnn {made_by}), "
                f"but this dynrnn reads schema {SCHEMA!r} only"
            )
        if tuple(columns) != COLUMNS:
            raise self._refuse(f"has schema {SCHEMA} but unexpected columns in its runs table: {', '.join(columns)}")
        return False

    def _create(self, connection):
        """Create the tables and the meta rows in one transaction (unless another process just did)."""
        from .. import __version__

        with _transaction(connection):
            if connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                return  # created meanwhile by another process; checked below
            for statement in _CREATE.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [("schema", str(SCHEMA)), ("dynrnn_version", __version__)],
            )
        self._check_existing(connection)

    # ------------------------------------------------------------------------------ lifecycle

    def close(self):
        """Close the connection (idempotent)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"RunStore({str(self.path)!r})"

    @property
    def _db(self):
        if self._connection is None:
            raise ValueError(f"db: the store {self.path} is closed")
        return self._connection

    # ---------------------------------------------------------------------------------- write

    def add(self, config, summary):
        """Record a finished run (one transaction); replaces a failed record of the same config.

        Parameters
        ----------
        config : dict
            The run config, with at least ``task``, ``init``, ``method``,
            ``length`` (an int or a (min, max) pair) and ``seed``.
        summary : dict
            The run's summary (JSON-able values); the keys named like the
            summary columns (``success``, ``updates_to_success``,
            ``final_error``, ``best_error``, ``n_updates``, ``diverged``) fill
            those columns, and the whole dict is stored as JSON.

        Returns
        -------
        str
            The run's key.
        """
        if not isinstance(summary, dict):
            raise TypeError(f"summary must be a dict; got {type(summary).__name__}")
        values = {name: _column_value(name, summary.get(name), kind) for name, (_, kind) in _SUMMARY_COLUMNS.items()}
        summary_json = json.dumps(summary, sort_keys=True, default=_json_default)
        return self._write(config, "ok", None, values, summary_json)

    def add_failure(self, config, message):
        """Record a run that raised: status ``"error"`` and the message; a later sweep retries it.

        Returns
        -------
        str
            The run's key.
        """
        values = dict.fromkeys(_SUMMARY_COLUMNS)
        return self._write(config, "error", str(message), values, None)

    def _write(self, config, status, error, values, summary_json):
        key = run_key(config)
        row = {
            "key": key,
            "task": str(config["task"]),
            "init": str(config["init"]),
            "method": str(config["method"]),
            "length": length_text(config["length"]),
            "seed": int(config["seed"]),
            "status": status,
            "error": error,
            **values,
            "config": canonical_json(config),
            "summary": summary_json,
            "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        names = ", ".join(COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        connection = self._db
        with _transaction(connection):
            connection.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", [row[c] for c in COLUMNS])
        return key

    # ----------------------------------------------------------------------------------- read

    def finished_keys(self):
        """The keys of the runs that finished (status ``"ok"``), as a set; failed runs are not included."""
        return {row[0] for row in self._db.execute("SELECT key FROM runs WHERE status = 'ok'")}

    def records(self, keys=None):
        """The recorded runs as dicts (see `load_runs` for the fields), in the order they were written.

        Parameters
        ----------
        keys : iterable of str, optional
            Only these runs, in this order (keys not in the store are left
            out).  Default: every run.
        """
        rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY rowid").fetchall()
        records = [_record(row, self.path) for row in rows]
        if keys is None:
            return records
        by_key = {r["key"]: r for r in records}
        return [by_key[k] for k in keys if k in by_key]

    def __len__(self):
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def to_csv(self, path, keys=None):
        """Write the records to a CSV file: a header row of `COLUMNS`, then one row per run.

        ``config`` and ``summary`` are written as JSON text; None is an empty
        field; booleans are ``True``/``False``.

        Parameters
        ----------
        path : str or os.PathLike
            The CSV file (overwritten).
        keys : iterable of str, optional
            As in `records`.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from ..results.training import check_writable

        path = Path(check_writable("path", path))
        records = self.records(keys)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
            writer.writeheader()
            for record in records:
                row = dict(record)
                row["config"] = canonical_json(record["config"])
                row["summary"] = None if record["summary"] is None else json.dumps(record["summary"], sort_keys=True)
                writer.writerow(row)
        return path


class _transaction:
    """``BEGIN`` ... ``COMMIT`` on an autocommit connection; ``ROLLBACK`` on any exception (Ctrl-C too)."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        if not self.connection.in_transaction:
            self.connection.execute("BEGIN IMMEDIATE")
            self.owner = True
        else:
            self.owner = False
        return self.connection

    def __exit__(self, kind, value, traceback):
        if not self.owner or not self.connection.in_transaction:
            return False
        if kind is None:
            self.connection.execute("COMMIT")
        else:
            self.connection.execute("ROLLBACK")
        return False


def _record(row, path):
    record = dict(zip(COLUMNS, row, strict=True))
    for name, (_, kind) in _SUMMARY_COLUMNS.items():
        if kind is bool and record[name] is not None:
            record[name] = bool(record[name])
    for column in ("config", "summary"):
        text = record[column]
        if text is None and column == "summary":
            continue
        try:
            record[column] = json.loads(text)
        except (TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            raise ValueError(
                f"db: {path}: the {column} of run {record['key']!r} is not JSON ({exc}); the store is damaged"
            ) from None
    return record


def load_runs(db):
    """Read every run of a store (what the figure scripts use).

    Parameters
    ----------
    db : str or os.PathLike
        A store written by `dynrnn.sweep`.

    Returns
    -------
    list of dict
        One dict per run, in the order they finished, with the fields:

        - ``key`` (str): `run_key` of the config, unique;
        - ``task``, ``init``, ``method`` (str);
        - ``length`` (str): ``"50"``, or ``"50-200"`` for random lengths in a range;
        - ``seed`` (int);
        - ``status`` (str): ``"ok"``, or ``"error"`` if the run raised (then
          ``error`` holds the exception and traceback text, and the summary
          fields are None);
        - ``success`` (bool), ``updates_to_success`` (int or None),
          ``final_error``, ``best_error`` (float or None; None for NaN),
          ``n_updates`` (int), ``diverged`` (bool): from the run's summary;
        - ``config`` (dict): the whole run config (grid point and settings);
        - ``summary`` (dict or None): the whole summary;
        - ``finished_at`` (str): UTC time, ISO 8601.

    Raises
    ------
    ValueError
        If ``db`` does not exist or is not a readable dynrnn store of
        schema `SCHEMA` (it is never modified).

    See Also
    --------
    RunStore.to_csv : the same records as a CSV file.

    Examples
    --------
    >>> import tempfile, os
    >>> from dynrnn.training.store import RunStore, load_runs
    >>> path = os.path.join(tempfile.mkdtemp(), "runs.db")
    >>> config = {"task": "addition", "init": "basic_tanh", "method": "MSGD", "length": [50, 200], "seed": 3}
    >>> with RunStore(path) as store:
    ...     key = store.add(config, {"success": False, "final_error": 0.4})
    >>> [(r["length"], r["seed"], r["success"], r["updates_to_success"]) for r in load_runs(path)]
    [('50-200', 3, False, None)]
    """
    with RunStore(db, create=False) as store:
        return store.records()
