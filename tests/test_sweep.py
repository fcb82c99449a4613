"""Resumable sweeps (`dynrnn.sweep`) and their SQLite run store (issue 5, item 8).

The run functions are fakes (tests/sweep_fakes.py); the real `dynrnn.train`
is not exercised here.  The kill test starts a real driver process, kills
it and its workers with SIGKILL, and resumes.
"""

import csv
import hashlib
import json
import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sweep_fakes
from sweep_fakes import calls, fast_run, summary_of

import dynrnn
from dynrnn.cli import main
from dynrnn.training import store as store_module
from dynrnn.training import sweep as sweep_module
from dynrnn.training.store import COLUMNS, SCHEMA, RunStore, load_runs, run_key
from dynrnn.training.sweep import grid_configs

TESTS = Path(__file__).resolve().parent
SMALL = {"inits": "smart_tanh", "methods": ("MSGD", "MSGD-CR"), "seeds": (0, 1)}  # 4 runs


@pytest.fixture
def markers(tmp_path):
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


@pytest.fixture
def no_dask(monkeypatch):
    """Pretend Dask is not installed: sweep falls back to a process pool."""
    monkeypatch.setitem(sys.modules, "distributed", None)


def _config(seed=0, **extra):
    return {"task": "temporal_order", "init": "smart_tanh", "method": "MSGD-CR", "length": 50, "seed": seed, **extra}


def _count_rows(db):
    with sqlite3.connect(db) as connection:
        n, n_distinct = connection.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone()
        check = connection.execute("PRAGMA quick_check").fetchone()[0]
    connection.close()
    return n, n_distinct, check


# ------------------------------------------------------------------------------------------- grid


def test_grid_is_the_product_in_order():
    configs = grid_configs(
        tasks=["addition", "temporal_order"],
        inits="sigmoid",
        methods=["MSGD-C", "MSGD"],
        lengths=[100, (50, 200)],
        seeds=range(3),
        settings={"lr": 0.01, "n_units": 50},
    )
    assert len(configs) == 2 * 1 * 2 * 2 * 3
    assert configs[0] == {
        "task": "addition",
        "init": "sigmoid",
        "method": "MSGD-C",
        "length": 100,
        "seed": 0,
        "lr": 0.01,
        "n_units": 50,
    }
    assert [c["seed"] for c in configs[:3]] == [0, 1, 2]
    assert configs[3]["length"] == (50, 200)
    assert configs[-1]["task"] == "temporal_order" and configs[-1]["method"] == "MSGD"
    assert len({run_key(c) for c in configs}) == len(configs)


def test_grid_defaults_are_figure_7():
    configs = grid_configs()
    assert {(c["init"], c["method"]) for c in configs} == {
        (i, m) for i in ("sigmoid", "basic_tanh", "smart_tanh") for m in ("MSGD", "MSGD-C", "MSGD-CR")
    }
    assert {c["task"] for c in configs} == {"temporal_order"} and {c["length"] for c in configs} == {50}


def test_grid_removes_duplicates_and_normalizes_lengths():
    configs = grid_configs(
        inits=["sigmoid", "sigmoid"], methods="MSGD", lengths=[50, "50", "50-200", (50, 200), (80, 80)], seeds=[1, 1]
    )
    assert [c["length"] for c in configs] == [50, (50, 200), 80]
    assert all(c["init"] == "sigmoid" and c["seed"] == 1 for c in configs)


def test_grid_settings_numpy_scalars_become_python():
    (config,) = grid_configs(inits="sigmoid", methods="MSGD", settings={"lr": np.float32(0.5), "n_units": np.int64(7)})
    assert type(config["lr"]) is float and type(config["n_units"]) is int


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tasks": "nope"}, ValueError, "tasks.*'temporal_order'.*got 'nope'"),
        ({"tasks": 5}, TypeError, "tasks"),
        ({"tasks": []}, ValueError, "tasks must hold at least one"),
        ({"inits": ["sigmoid", "relu"]}, ValueError, "inits.*got 'relu'"),
        ({"methods": "SGD"}, ValueError, "methods.*'MSGD-CR'.*got 'SGD'"),
        ({"lengths": 0}, ValueError, "lengths must be >= 1; got 0"),
        ({"lengths": [2.5]}, TypeError, "lengths must be an integer; got float"),
        ({"lengths": [(200, 50)]}, ValueError, r"lengths \(a range\) must have min <= max; got \(200, 50\)"),
        ({"lengths": [(1, 2, 3)]}, ValueError, "lengths must be an int or a \\(min, max\\) pair"),
        ({"lengths": ["fifty"]}, ValueError, "lengths.*got 'fifty'"),
        ({"lengths": [(0, 10)]}, ValueError, "lengths.*min of a range.*>= 1"),
        ({"seeds": -1}, ValueError, "seeds must be >= 0; got -1"),
        ({"seeds": [0.5]}, TypeError, "seeds must be an integer"),
        ({"seeds": [True]}, TypeError, "seeds must be an integer"),
        ({"seeds": []}, ValueError, "seeds must hold at least one"),
        ({"settings": [("lr", 1)]}, TypeError, "settings must be a dict"),
        ({"settings": {"seed": 3}}, ValueError, "settings must not set 'seed'"),
        ({"settings": {"lr": math.nan}}, ValueError, r"settings\['lr'\] must be finite"),
        ({"settings": {"lr": [0.1]}}, TypeError, r"settings\['lr'\] must be None, a bool"),
        ({"settings": {1: 0.1}}, TypeError, "settings keys must be str"),
    ],
)
def test_grid_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        grid_configs(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scheduler": 8786}, TypeError, "scheduler must be None, 'serial' or a Dask scheduler address"),
        ({"scheduler": " "}, ValueError, "scheduler.*empty"),
        ({"n_workers": 0}, ValueError, "n_workers must be >= 1; got 0"),
        ({"n_workers": 1.0}, TypeError, "n_workers must be an integer"),
        ({"timeout": 0}, ValueError, "timeout must be finite and > 0"),
        ({"progress": "yes"}, TypeError, "progress must be None, True or False"),
        ({"run": "fast_run"}, TypeError, "run must be a callable"),
        ({"methods": "CR"}, ValueError, "methods"),
    ],
)
def test_sweep_bad_input_runs_nothing(tmp_path, markers, kwargs, error, match):
    db = tmp_path / "s.db"
    kwargs = {**SMALL, "scheduler": "serial", "run": fast_run, **kwargs}
    with pytest.raises(error, match=match):
        dynrnn.sweep(db, settings={"marker_dir": str(markers)}, **kwargs)
    assert not db.exists() and calls(markers) == {}


def test_sweep_bad_db_argument(tmp_path):
    with pytest.raises(TypeError, match="db must be a file path"):
        dynrnn.sweep(5, scheduler="serial", run=fast_run)
    with pytest.raises(ValueError, match="db: cannot create .*does not exist"):
        dynrnn.sweep(tmp_path / "no" / "s.db", scheduler="serial", run=fast_run)
    with pytest.raises(ValueError, match="db must be a file; got the folder"):
        dynrnn.sweep(tmp_path, scheduler="serial", run=fast_run)


def test_run_key_is_stable_and_canonical():
    config = _config(seed=3, lr=0.01, threshold=1.0, alpha=None)
    # independent: SHA-256 of the JSON written out by hand (sorted keys, no spaces)
    text = (
        '{"alpha":null,"init":"smart_tanh","length":50,"lr":0.01,"method":"MSGD-CR",'
        '"seed":3,"task":"temporal_order","threshold":1.0}'
    )
    assert run_key(config) == hashlib.sha256(text.encode()).hexdigest()
    assert run_key(dict(reversed(list(config.items())))) == run_key(config)
    assert run_key({**config, "length": (50, 200)}) == run_key({**config, "length": [50, 200]})
    assert run_key({**config, "lr": 0.02}) != run_key(config)
    # in a fresh interpreter (no shared hash seed) the key is the same
    code = f"from dynrnn.training.store import run_key; print(run_key({config!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == run_key(config)


# ------------------------------------------------------------------------------------------ store


def test_store_round_trip(tmp_path):
    db = tmp_path / "runs.db"
    summary = {
        "success": np.bool_(True),
        "updates_to_success": np.int64(1200),
        "final_error": np.float64(0.005),
        "best_error": math.nan,
        "n_updates": 1500.0,
        "diverged": 0,
        "elapsed_s": 3.5,
        "extra": [1, 2],
    }
    with RunStore(db) as store:
        key = store.add(_config(lr=0.01), summary)
        store.add_failure(_config(seed=1), "RuntimeError: boom")
        assert store.finished_keys() == {key}
        assert len(store) == 2
    (ok, failed) = load_runs(db)
    assert ok["key"] == key == run_key(_config(lr=0.01))
    assert (ok["task"], ok["init"], ok["method"], ok["length"], ok["seed"]) == (
        "temporal_order",
        "smart_tanh",
        "MSGD-CR",
        "50",
        0,
    )
    assert ok["status"] == "ok" and ok["error"] is None
    assert ok["success"] is True and ok["diverged"] is False
    assert ok["updates_to_success"] == 1200 and type(ok["updates_to_success"]) is int
    assert ok["n_updates"] == 1500 and type(ok["n_updates"]) is int
    assert ok["final_error"] == 0.005 and ok["best_error"] is None  # NaN is stored as NULL
    assert ok["config"] == _config(lr=0.01)
    assert ok["summary"]["extra"] == [1, 2] and math.isnan(ok["summary"]["best_error"])
    assert ok["finished_at"].endswith("+00:00")
    assert failed["status"] == "error" and failed["error"] == "RuntimeError: boom"
    assert failed["success"] is None and failed["summary"] is None
    with sqlite3.connect(db) as connection:
        meta = dict(connection.execute("SELECT name, value FROM meta"))
    connection.close()
    assert meta == {"schema": str(SCHEMA), "dynrnn_version": dynrnn.__version__}


def test_store_replaces_a_failure_and_never_duplicates(tmp_path):
    db = tmp_path / "runs.db"
    with RunStore(db) as store:
        store.add_failure(_config(), "boom")
        store.add(_config(), summary_of(_config()))
        store.add(_config(), summary_of(_config()))
        assert len(store) == 1 and store.records()[0]["status"] == "ok"


def test_store_range_length_and_keys_filter(tmp_path):
    db = tmp_path / "runs.db"
    with RunStore(db) as store:
        k1 = store.add(_config(length=(50, 200)), {"success": False})
        k2 = store.add(_config(seed=1), {"success": True})
        assert [r["key"] for r in store.records([k2, "missing", k1])] == [k2, k1]
        assert store.records([k1])[0]["length"] == "50-200"


def test_store_rejects_a_summary_it_cannot_hold(tmp_path):
    with RunStore(tmp_path / "runs.db") as store:
        with pytest.raises(TypeError, match="summary must be a dict"):
            store.add(_config(), [1])
        with pytest.raises(TypeError, match=r"summary\['updates_to_success'\] must be an integer"):
            store.add(_config(), {"updates_to_success": 2.5})
        with pytest.raises(TypeError, match=r"summary\['final_error'\] must be a real number"):
            store.add(_config(), {"final_error": "low"})
        assert len(store) == 0


def test_store_readers_see_commits_while_a_writer_is_open(tmp_path):
    db = tmp_path / "runs.db"
    with RunStore(db) as writer:
        with RunStore(db, create=False) as reader:
            assert reader.records() == []
            writer.add(_config(), summary_of(_config()))
            assert len(reader.records()) == 1
            assert len(load_runs(db)) == 1


def test_csv_export_reads_back(tmp_path):
    db, out = tmp_path / "runs.db", tmp_path / "runs.csv"
    with RunStore(db) as store:
        store.add(_config(lr=0.01), {"success": True, "updates_to_success": 100, "final_error": 0.0})
        store.add(_config(seed=1, length=(50, 200)), {**summary_of(_config(seed=1)), "note": 'a, "quoted"\nline'})
        store.add_failure(_config(seed=2), "ValueError: bad\nsecond line")
        assert store.to_csv(out) == out
    with open(out, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert [r["seed"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["success"] == "True" and rows[0]["updates_to_success"] == "100"
    assert json.loads(rows[0]["config"]) == _config(lr=0.01)
    assert rows[1]["length"] == "50-200" and json.loads(rows[1]["summary"])["note"] == 'a, "quoted"\nline'
    assert rows[2]["status"] == "error" and rows[2]["error"] == "ValueError: bad\nsecond line"
    assert rows[2]["success"] == "" and rows[2]["summary"] == ""


def _refused(path, match):
    """Opening ``path`` (as a store, by load_runs, and by sweep) fails with ``match`` and leaves its bytes alone."""
    before = path.read_bytes()
    for attempt in (
        lambda: RunStore(path),
        lambda: load_runs(path),
        lambda: dynrnn.sweep(path, **SMALL, scheduler="serial", run=fast_run),
    ):
        with pytest.raises(ValueError, match=match) as info:
            attempt()
        assert str(path) in str(info.value) and "NOT modified" in str(info.value)
        assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no journal or side files left


def test_garbage_file_is_refused_and_not_modified(tmp_path, rng):
    path = tmp_path / "runs.db"
    path.write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    _refused(path, "is not a SQLite database")


def test_truncated_database_is_refused_and_not_modified(tmp_path):
    path = tmp_path / "runs.db"
    with RunStore(path) as store:
        for seed in range(30):
            store.add(_config(seed=seed, note="x" * 3000), summary_of(_config(seed=seed)))
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4096 + data[100 + 4096 :])  # header intact, pages smashed
    _refused(path, "corrupt|cannot be read")


def test_other_schema_is_refused_and_not_modified(tmp_path):
    path = tmp_path / "runs.db"
    with RunStore(path) as store:
        store.add(_config(), summary_of(_config()))
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(SCHEMA + 1),))
    connection.close()
    _refused(path, f"schema '{SCHEMA + 1}'.*reads schema {SCHEMA!r} only")


def test_foreign_sqlite_database_is_refused_and_not_modified(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE songs (title TEXT)")
        connection.execute("INSERT INTO songs VALUES ('a')")
    connection.close()
    _refused(path, "not a dynrnn run store \\(tables: songs\\)")


def test_load_runs_needs_an_existing_store(tmp_path):
    with pytest.raises(ValueError, match="db: no run store at .*does not exist"):
        load_runs(tmp_path / "missing.db")
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ValueError, match="holds no run store"):
        load_runs(empty)
    assert empty.read_bytes() == b""


# ---------------------------------------------------------------------------------- execution


def test_serial_sweep_and_rerun_skips_finished(tmp_path, markers):
    db = tmp_path / "s.db"
    settings = {"marker_dir": str(markers), "lr": 0.01}
    first = dynrnn.sweep(db, **SMALL, settings=settings, scheduler="serial", run=fast_run, progress=False)
    assert (first.n_total, first.n_skipped, first.n_run, first.n_failed) == (4, 0, 4, 0)
    configs = grid_configs(**SMALL, settings=settings)
    assert [r["key"] for r in first.records] == [run_key(c) for c in configs]
    for record, config in zip(first.records, configs, strict=True):
        expected = summary_of(config)
        assert record["success"] == expected["success"]
        assert record["updates_to_success"] == expected["updates_to_success"]
        assert record["final_error"] == expected["final_error"]
        assert record["summary"] == expected
    assert first.complete and first.n_succeeded == sum(summary_of(c)["success"] for c in configs)
    assert first.db == str(db) and "n_total=4" in repr(first)

    bigger = dict(SMALL, seeds=(0, 1, 2))
    second = dynrnn.sweep(db, **bigger, settings=settings, scheduler="serial", run=fast_run, progress=False)
    assert (second.n_total, second.n_skipped, second.n_run, second.n_failed) == (6, 4, 2, 0)
    assert set(calls(markers).values()) == {1} and len(calls(markers)) == 6
    assert _count_rows(db) == (6, 6, "ok")
    # other settings are other runs
    third = dynrnn.sweep(db, **SMALL, settings={**settings, "lr": 0.02}, scheduler="serial", run=fast_run)
    assert third.n_skipped == 0 and third.n_run == 4 and _count_rows(db)[0] == 10


def test_failed_runs_are_recorded_and_retried(tmp_path, markers):
    db = tmp_path / "s.db"
    settings = {"marker_dir": str(markers)}
    result = dynrnn.sweep(db, **SMALL, settings=settings, scheduler="serial", run=sweep_fakes.failing_run)
    assert (result.n_run, result.n_failed) == (4, 2) and not result.complete
    failed = [r for r in result.records if r["status"] == "error"]
    assert {r["seed"] for r in failed} == {1}
    assert all("RuntimeError: fake failure for seed 1" in r["error"] and "Traceback" in r["error"] for r in failed)
    again = dynrnn.sweep(db, **SMALL, settings=settings, scheduler="serial", run=fast_run)
    assert (again.n_skipped, again.n_run, again.n_failed) == (2, 2, 0) and again.complete
    failed_keys = {r["key"] for r in failed}
    assert {k: n for k, n in calls(markers).items()} == {
        r["key"]: 2 if r["key"] in failed_keys else 1 for r in again.records
    }
    assert _count_rows(db) == (4, 4, "ok")


def test_a_summary_that_is_not_a_dict_is_a_failure(tmp_path):
    result = dynrnn.sweep(tmp_path / "s.db", **SMALL, scheduler="serial", run=sweep_fakes.not_a_dict_run)
    assert result.n_failed == 4
    assert "returned a list, not a dict" in result.records[0]["error"]


def test_progress_bar(tmp_path, capsys):
    pytest.importorskip("tqdm")
    dynrnn.sweep(tmp_path / "s.db", **SMALL, scheduler="serial", run=fast_run, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "4/4" in err
    dynrnn.sweep(tmp_path / "t.db", **SMALL, scheduler="serial", run=fast_run, progress=False)
    assert capsys.readouterr().err == ""


def test_process_pool_without_dask(tmp_path, markers, no_dask):
    db = tmp_path / "s.db"
    settings = {"marker_dir": str(markers)}
    result = dynrnn.sweep(db, **SMALL, settings=settings, n_workers=2, run=sweep_fakes.failing_run)
    assert (result.n_total, result.n_run, result.n_failed) == (4, 4, 2)
    assert {r["seed"] for r in result.records if r["status"] == "error"} == {1}
    assert "fake failure for seed 1" in result.records[1]["error"]
    assert len({name.split(".")[1] for name in os.listdir(markers)} - {str(os.getpid())}) >= 1  # ran elsewhere
    assert multiprocessing.active_children() == []


def test_process_pool_needs_a_picklable_run(tmp_path, no_dask):
    with pytest.raises(TypeError, match="run must be picklable"):
        dynrnn.sweep(tmp_path / "s.db", **SMALL, run=lambda config: {})


def test_address_without_dask_is_an_import_error(tmp_path, no_dask):
    with pytest.raises(ImportError, match=r"scheduler='tcp://127.0.0.1:8786'.*pip install \"dynrnn\[dask\]\""):
        dynrnn.sweep(tmp_path / "s.db", **SMALL, scheduler="tcp://127.0.0.1:8786", run=fast_run)


def test_dask_local_cluster(tmp_path, markers):
    pytest.importorskip("distributed")
    db = tmp_path / "s.db"
    settings = {"marker_dir": str(markers)}
    result = dynrnn.sweep(db, **SMALL, settings=settings, n_workers=2, run=sweep_fakes.failing_run, progress=False)
    assert (result.n_total, result.n_run, result.n_failed) == (4, 4, 2)
    assert [r["success"] for r in result.records if r["status"] == "ok"] == [
        summary_of(c)["success"] for c in grid_configs(**SMALL, settings=settings) if c["seed"] == 0
    ]
    pids = {name.split(".")[1] for name in os.listdir(markers)}
    assert str(os.getpid()) not in pids  # ran in the workers
    assert _count_rows(db) == (4, 4, "ok")


def test_unreachable_scheduler_fails_within_timeout(tmp_path, markers, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep_module, "check_train_configs", lambda configs: None)  # marker_dir is not a train setting
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match=r"scheduler.*'tcp://127.0.0.1:1'.*timeout=2 s"):
        dynrnn.sweep(
            tmp_path / "s.db", **SMALL, settings={"marker_dir": str(markers)}, scheduler="tcp://127.0.0.1:1", timeout=2
        )
    assert time.perf_counter() - t0 < 2 + 5
    assert calls(markers) == {}


# -------------------------------------------------------------------------------- interruptions


def test_keyboard_interrupt_in_serial_sweep(tmp_path, markers):
    db = tmp_path / "s.db"
    grid = dict(inits="sigmoid", methods="MSGD", seeds=range(5), settings={"marker_dir": str(markers)})
    with pytest.raises(KeyboardInterrupt):
        dynrnn.sweep(db, **grid, scheduler="serial", run=sweep_fakes.interrupting_run)
    assert _count_rows(db) == (2, 2, "ok")  # seeds 0 and 1 finished before Ctrl-C
    assert [r["seed"] for r in load_runs(db)] == [0, 1]
    resumed = dynrnn.sweep(db, **grid, scheduler="serial", run=fast_run)
    assert (resumed.n_skipped, resumed.n_run) == (2, 3) and resumed.complete


def test_keyboard_interrupt_in_process_pool_stops_workers(tmp_path, monkeypatch, no_dask):
    db = tmp_path / "s.db"
    add = RunStore.add
    written = []

    def add_then_interrupt(self, config, summary):
        if written:
            raise KeyboardInterrupt
        written.append(config)
        return add(self, config, summary)

    monkeypatch.setattr(store_module.RunStore, "add", add_then_interrupt)
    grid = dict(inits="sigmoid", methods="MSGD", seeds=range(6), settings={"sleep": 0.2})
    with pytest.raises(KeyboardInterrupt):
        dynrnn.sweep(db, **grid, n_workers=2, run=sweep_fakes.slow_run)
    assert multiprocessing.active_children() == []
    assert _count_rows(db) == (1, 1, "ok")
    assert load_runs(db)[0]["key"] == run_key(written[0])


KILL_SCRIPT = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
sys.path.insert(0, {tests!r})
{prelude}
import dynrnn
from sweep_fakes import slow_run
if __name__ == "__main__":
    dynrnn.sweep({db!r}, **{grid!r}, n_workers=2, run=slow_run, progress=False)
"""


@pytest.fixture(params=["dask", "pool"])
def executor(request):
    """Which executor the driver process uses: a Dask local cluster, or the process pool (as without Dask)."""
    if request.param == "dask":
        pytest.importorskip("distributed")
    return request.param


def _start_driver(db, grid, executor):
    """Start a sweep with 2 workers in a new session (its own process group); return the Popen."""
    prelude = "sys.modules['distributed'] = None  # as if Dask were not installed" if executor == "pool" else ""
    script = KILL_SCRIPT.format(tests=str(TESTS), db=str(db), grid=grid, prelude=prelude)
    return subprocess.Popen(
        [sys.executable, "-c", script], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_for_a_finished_run(driver, db):
    deadline = time.monotonic() + 60
    while True:
        if driver.poll() is not None:
            pytest.fail(f"the sweep ended before it was stopped: {driver.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail("no run finished within 60 s")
        try:
            if load_runs(db):
                return
        except ValueError:  # not created yet
            pass
        time.sleep(0.02)


def _live_processes_in_group(pgid):
    """PIDs of the processes (zombies excluded) of process group ``pgid``, from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def test_sigkill_mid_sweep_loses_and_duplicates_nothing(tmp_path, markers, executor):
    db = tmp_path / "s.db"
    grid = dict(
        inits="basic_tanh", methods="MSGD-C", seeds=list(range(8)), settings={"sleep": 0.7, "marker_dir": str(markers)}
    )
    driver = _start_driver(db, grid, executor)
    try:
        _wait_for_a_finished_run(driver, db)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and its workers
        driver.wait()
        driver.stderr.close()

    with RunStore(db, create=False) as store:  # opens and passes quick_check
        finished = store.finished_keys()
    assert 1 <= len(finished) < 8, "all runs finished before the kill: the test proves nothing"
    started = calls(markers)
    assert all(started[k] == 1 for k in finished)

    resumed = dynrnn.sweep(db, **grid, scheduler="serial", run=fast_run)
    assert resumed.n_skipped == len(finished) and resumed.n_run == 8 - len(finished) and resumed.complete
    assert _count_rows(db) == (8, 8, "ok")
    after = calls(markers)
    assert all(after[k] == 1 for k in finished), "a run that had finished was run again"
    assert {r["key"] for r in resumed.records} == {run_key(c) for c in grid_configs(**grid)}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find leftover workers")
def test_sigint_mid_sweep_stops_workers_and_keeps_the_store(tmp_path, executor):
    db = tmp_path / "s.db"
    grid = dict(inits="sigmoid", methods="MSGD", seeds=list(range(8)), settings={"sleep": 0.7})
    driver = _start_driver(db, grid, executor)
    try:
        _wait_for_a_finished_run(driver, db)
        driver.send_signal(signal.SIGINT)  # the driver only, as a programmatic Ctrl-C
        driver.wait(timeout=30)
        stderr = driver.stderr.read().decode()
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
        driver.stderr.close()
    assert driver.returncode != 0 and "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 10
    while _live_processes_in_group(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _live_processes_in_group(driver.pid) == [], "workers outlived the interrupted sweep"
    n, n_distinct, check = _count_rows(db)
    assert 1 <= n < 8 and n_distinct == n and check == "ok"
    resumed = dynrnn.sweep(db, **grid, scheduler="serial", run=fast_run)
    assert resumed.n_skipped == n and resumed.complete and _count_rows(db) == (8, 8, "ok")


# ------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def fake_train(monkeypatch):
    """Make the default run function a fake, so that the CLI (serial) never trains."""
    _fake_populations(monkeypatch, fast_run)


def _fake_populations(monkeypatch, run):
    """The default (population) run function of sweep, with ``run`` standing in for each member's training."""

    def run_population(configs, n_threads=None):
        return [sweep_module._call(run, config) for config in configs]

    monkeypatch.setattr(sweep_module, "run_population", run_population)
    monkeypatch.setattr(sweep_module, "check_train_configs", lambda configs: None)  # fake settings are not train's


def test_cli_sweep_and_csv(tmp_path, markers, fake_train, capsys):
    db, out = tmp_path / "s.db", tmp_path / "s.csv"
    argv = ["sweep", "--db", str(db), "--init", "smart_tanh", "--method", "MSGD", "MSGD-CR", "--length", "50",
            "50-200", "--seed", "0", "1", "--set", "lr=0.01", "name=abc", "--set", "clip=true", "alpha=null",
            f"marker_dir={markers}", "--scheduler", "serial", "--csv", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "8 run(s) in the grid: 0 already finished, 8 run now, 0 failed" in text and "wrote" in text
    records = load_runs(db)
    assert len(records) == 8 and {r["length"] for r in records} == {"50", "50-200"}
    config = records[0]["config"]
    assert (config["lr"], config["name"], config["clip"], config["alpha"]) == (0.01, "abc", True, None)
    with open(out, newline="") as f:
        assert len(list(csv.DictReader(f))) == 8
    assert main(argv) == 0
    assert "8 already finished, 0 run now" in capsys.readouterr().out
    assert sum(calls(markers).values()) == 8


def test_cli_export_only(tmp_path, capsys):
    db, out = tmp_path / "s.db", tmp_path / "all.csv"
    with RunStore(db) as store:
        store.add(_config(), summary_of(_config()))
    assert main(["sweep", "--db", str(db), "--export-csv", str(out)]) == 0
    assert "wrote 1 run(s)" in capsys.readouterr().out
    with open(out, newline="") as f:
        assert [r["key"] for r in csv.DictReader(f)] == [run_key(_config())]
    assert main(["sweep", "--db", str(tmp_path / "none.db"), "--export-csv", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["sweep", "--db", str(db), "--export-csv", str(out), "--seed", "1"]) == 2
    assert "does not combine with --seed" in capsys.readouterr().err


def test_cli_failures_and_usage_errors(tmp_path, fake_train, monkeypatch, capsys):
    db = tmp_path / "s.db"
    base = ["sweep", "--db", str(db), "--scheduler", "serial", "--init", "sigmoid", "--method", "MSGD"]
    assert main([*base, "--task", "nope"]) == 2
    assert "tasks" in capsys.readouterr().err
    assert main([*base, "--set", "lr"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main([*base, "--seed", "-1"]) == 2
    assert "seeds must be >= 0" in capsys.readouterr().err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 10)
    assert main(["sweep", "--db", str(garbage), "--scheduler", "serial"]) == 2
    assert "NOT modified" in capsys.readouterr().err
    _fake_populations(monkeypatch, sweep_fakes.failing_run)
    assert main([*base, "--seed", "0", "1"]) == 1
    out = capsys.readouterr().out
    assert "1 failed" in out and "FAILED temporal_order sigmoid MSGD length 50 seed 1: RuntimeError" in out
    _fake_populations(monkeypatch, sweep_fakes.interrupting_run)
    assert main([*base, "--seed", "2"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_default_run_groups_compatible_runs_into_populations():
    """Issue 10: the default run trains each (task, length) group as populations, spread over the workers."""
    configs = sweep_module.grid_configs(inits=("basic_tanh", "smart_tanh"), lengths=(10, 20), seeds=(0, 1, 2))
    jobs = sweep_module._jobs(None, configs, 2, None)
    assert sorted(len(j) for j in jobs) == [18, 18]  # 36 runs spread over 2 workers, one length each
    for job in jobs:
        assert len({(c["task"], c["length"]) for c in job}) == 1
    assert sorted(map(run_key, (c for j in jobs for c in j))) == sorted(map(run_key, configs))
    assert [len(j) for j in sweep_module._jobs(None, configs, 2, 4)] == [4, 4, 4, 4, 2] * 2
    assert [len(j) for j in sweep_module._jobs(fast_run, configs, 2, None)] == [1] * len(configs)
    with pytest.raises(ValueError, match="population_size"):
        dynrnn.sweep("unused.db", population_size=0, scheduler="serial")


def test_run_population_falls_back_to_single_runs_for_invalid_members():
    """A member the population refuses fails alone; its valid neighbours still train (as dynrnn.train would)."""
    good = {"task": "temporal_order", "init": "basic_tanh", "method": "MSGD-CR", "length": 10, "seed": 0,
            "n_units": 4, "batch_size": 3, "max_updates": 3, "eval_every": 3, "n_check": 10, "n_eval": 10}  # fmt: skip
    bad = {**good, "seed": 1, "lr": -1.0}
    outcomes = sweep_module.run_population([good, bad])
    assert outcomes[0][0] == "ok" and outcomes[0][1]["n_updates"] == 3
    assert outcomes[1][0] == "error" and "lr" in outcomes[1][1]
