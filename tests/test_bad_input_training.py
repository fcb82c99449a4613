"""Bad input on the training side is refused with a ValueError or TypeError naming the argument (issue 13, item 3).

`CASES` is the table of ``(name, callable, kwargs, exception, match)``: each call
must raise ``exception`` with a message matching ``match`` (a regular expression
naming the argument), before anything large is allocated or any training runs.
The dynamics side has its own table (``tests/test_bad_input.py``).  Below the
table: tampered checkpoints and result files, silent divergence, the run store
and the command line.
"""

import json
import os
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dynrnn
from dynrnn.cli import main
from dynrnn.training.optim import SGD, Constant, InverseTime
from dynrnn.training.store import RunStore, load_runs

TINY = dict(task="temporal_order", length=10, n_units=5, batch_size=4, max_updates=4, eval_every=2, n_check=20,
            n_eval=20, progress=False)  # fmt: skip
NET = dynrnn.init_network("smart_tanh", 5, 6, 4, rng=0)
RUN = {k: v for k, v in TINY.items() if k != "progress"}  # a member of a population
BATCH = dynrnn.tasks.temporal_order(4, 20, rng=0)
RATE = dict(net=NET, task="temporal_order", length=10, n_sequences=20, rng=0)
_NOWHERE = "/nonexistent-dynrnn-dir/file.npz"
_UNUSED_DB = os.path.join(tempfile.gettempdir(), "dynrnn-bad-input-never-created.db")
_SETTINGS = {k: v for k, v in TINY.items() if k not in ("task", "length", "progress")}
SWEEP = dict(db=_UNUSED_DB, inits=["smart_tanh"], methods=["MSGD"], lengths=[10], seeds=[0], scheduler="serial",
             progress=False, settings=_SETTINGS)  # fmt: skip


def _with(base, **changes):
    return {**base, **changes}


def _sweep_settings(**changes):
    return _with(SWEEP, settings=_with(SWEEP["settings"], **changes))


_GENERATORS = [(name, getattr(dynrnn.tasks, name)) for name in dynrnn.tasks.TASKS]

CASES = [
    # --- sizes of the task generators: memory estimated before allocating
    *[
        (f"tasks.{n}(batch_size=1e12)", f, dict(batch_size=10**12, length=20), ValueError, "batch_size")
        for n, f in _GENERATORS
    ],  # fmt: skip
    *[(f"tasks.{n}(length=2**62)", f, dict(batch_size=4, length=2**62), ValueError, "length") for n, f in _GENERATORS],
    *[(f"tasks.{n}(length=2**64)", f, dict(batch_size=4, length=2**64), ValueError, "length") for n, f in _GENERATORS],
    (
        "tasks.permutation(batch_size=1e6, length=1e6)",
        dynrnn.tasks.permutation,
        dict(batch_size=10**6, length=10**6),
        ValueError,
        "batch_size=1000000, length=1000000",
    ),  # fmt: skip
    (
        "tasks.memorization(n_pos=1e12)",
        dynrnn.tasks.memorization,
        dict(batch_size=4, length=10, n_pos=10**12),
        ValueError,
        "n_pos",
    ),  # fmt: skip
    (
        "tasks.memorization(n_pos=64)",
        dynrnn.tasks.memorization,
        dict(batch_size=4, length=10, n_pos=64),
        ValueError,
        "n_pos",
    ),  # fmt: skip
    (
        "tasks.memorization(n_values=1e12, n_pos=1)",
        dynrnn.tasks.memorization,
        dict(batch_size=4, length=10, n_values=10**12, n_pos=1),
        ValueError,
        "n_values=1000000000000",
    ),  # fmt: skip
    ("tasks.copy(length=0)", dynrnn.tasks.copy, dict(batch_size=4, length=0), ValueError, "length must be >= 1"),
    (
        "tasks.le_adding(length=1)",
        dynrnn.tasks.le_adding,
        dict(batch_size=4, length=1),
        ValueError,
        "length must be >= 2 for le_adding \\(one marker in each half\\)",
    ),  # fmt: skip
    # --- init_network: a documented cap on n_units, memory for the rest
    (
        "init_network(name='unitary')",
        dynrnn.init_network,
        dict(name="unitary", n_units=5, n_inputs=6, n_outputs=4),
        ValueError,
        "name must be one of 'sigmoid', 'basic_tanh', 'smart_tanh', 'irnn', 'orthogonal'; got 'unitary'",
    ),  # fmt: skip
    (
        "init_network(orthogonal, n_units=3e4)",
        dynrnn.init_network,
        dict(name="orthogonal", n_units=30000, n_inputs=6, n_outputs=4),
        ValueError,
        "n_units",
    ),  # fmt: skip
    (
        "init_network(n_units=3e4)",
        dynrnn.init_network,
        dict(name="smart_tanh", n_units=30000, n_inputs=6, n_outputs=4),
        ValueError,
        "n_units",
    ),  # fmt: skip
    (
        "init_network(n_units=2**64)",
        dynrnn.init_network,
        dict(name="basic_tanh", n_units=2**64, n_inputs=6, n_outputs=4),
        ValueError,
        "n_units",
    ),  # fmt: skip
    (
        "init_network(n_inputs=1e12)",
        dynrnn.init_network,
        dict(name="sigmoid", n_units=5, n_inputs=10**12, n_outputs=4),
        ValueError,
        "n_inputs",
    ),  # fmt: skip
    (
        "init_network(n_outputs=2**62)",
        dynrnn.init_network,
        dict(name="sigmoid", n_units=5, n_inputs=6, n_outputs=2**62),
        ValueError,
        "n_outputs",
    ),  # fmt: skip
    # --- train: sizes, counts that would hang, options, checkpoint paths (all before training)
    ("train(length=1e9)", dynrnn.train, _with(TINY, length=10**9), ValueError, "length"),
    ("train(length=1e12)", dynrnn.train, _with(TINY, length=10**12), ValueError, "length"),
    ("train(length=(10, 1e12))", dynrnn.train, _with(TINY, length=(10, 10**12)), ValueError, "length"),
    ("train(n_units=1e6)", dynrnn.train, _with(TINY, n_units=10**6), ValueError, "n_units"),
    ("train(batch_size=1e12)", dynrnn.train, _with(TINY, batch_size=10**12), ValueError, "batch_size"),
    ("train(batch_size=2**64)", dynrnn.train, _with(TINY, batch_size=2**64), ValueError, "batch_size"),
    ("train(n_check=2**62)", dynrnn.train, _with(TINY, n_check=2**62), ValueError, "n_check"),
    ("train(n_check=2**64)", dynrnn.train, _with(TINY, n_check=2**64), ValueError, "n_check"),
    ("train(n_eval=2**62)", dynrnn.train, _with(TINY, n_eval=2**62), ValueError, "n_eval"),
    (
        "train(n_eval=1e8, length=1e4): work",
        dynrnn.train,
        _with(TINY, n_eval=10**8, length=10**4),
        ValueError,
        "n_eval",
    ),  # fmt: skip
    (
        "train(task_options={'n_pos': 3})",
        dynrnn.train,
        _with(TINY, task_options={"n_pos": 3}),
        ValueError,
        "task_options",
    ),  # fmt: skip
    ("train(init='unitary')", dynrnn.train, _with(TINY, init="unitary"), ValueError, "init must be one of .*'irnn'"),
    ("train(checkpoint=5)", dynrnn.train, _with(TINY, checkpoint=5), TypeError, "checkpoint"),
    (
        "train(checkpoint=<missing folder>)",
        dynrnn.train,
        _with(TINY, checkpoint=_NOWHERE),
        ValueError,
        "checkpoint.*does not exist",
    ),  # fmt: skip
    (
        "train(checkpoint=<a folder>)",
        dynrnn.train,
        _with(TINY, checkpoint=tempfile.gettempdir()),
        ValueError,
        "checkpoint must be a file path",
    ),  # fmt: skip
    (
        "train_population(checkpoint=<missing folder>)",
        dynrnn.train_population,
        dict(runs=[RUN], checkpoint=_NOWHERE),
        ValueError,
        "checkpoint",
    ),  # fmt: skip
    (
        "train_population(length=1e9)",
        dynrnn.train_population,
        dict(runs=[_with(RUN, length=10**9)]),
        ValueError,
        "length",
    ),  # fmt: skip
    # --- error_rate: the argument named, sizes and counts capped
    ("error_rate(net=None)", dynrnn.error_rate, _with(RATE, net=None), TypeError, "net must be a dynrnn.RNN"),
    ("error_rate(net='net')", dynrnn.error_rate, _with(RATE, net="net"), TypeError, "net must be a dynrnn.RNN"),
    ("error_rate(net=dict)", dynrnn.error_rate, _with(RATE, net={"W_rec": [[1.0]]}), TypeError, "net"),
    ("error_rate(task='nope')", dynrnn.error_rate, _with(RATE, task="nope"), ValueError, "^task must be one of"),
    ("error_rate(task=3)", dynrnn.error_rate, _with(RATE, task=3), ValueError, "^task must be one of"),
    ("error_rate(task='')", dynrnn.error_rate, _with(RATE, task=""), ValueError, "^task must be one of"),
    ("error_rate(n_sequences=1e12)", dynrnn.error_rate, _with(RATE, n_sequences=10**12), ValueError, "n_sequences"),
    ("error_rate(n_sequences=2**64)", dynrnn.error_rate, _with(RATE, n_sequences=2**64), ValueError, "n_sequences"),
    ("error_rate(length=1e12)", dynrnn.error_rate, _with(RATE, length=10**12), ValueError, "length"),
    ("error_rate(length=(10, 1e12))", dynrnn.error_rate, _with(RATE, length=(10, 10**12)), ValueError, "length"),
    (
        "error_rate(task_options={'n_pos': 3})",
        dynrnn.error_rate,
        _with(RATE, task_options={"n_pos": 3}),
        ValueError,
        "task_options",
    ),  # fmt: skip
    # --- the rest of the training API (good in the probe; kept so that it stays so)
    ("tasks.get_task('nope')", dynrnn.tasks.get_task, dict(name="nope"), ValueError, "name must be one of"),
    (
        "tasks.sequence_errors(outputs of the wrong shape)",
        dynrnn.tasks.sequence_errors,
        dict(batch=BATCH, outputs=np.zeros((1, 4, 3))),
        ValueError,
        "outputs",
    ),  # fmt: skip
    ("optim.SGD(lr=-1)", SGD, dict(lr=-1.0), ValueError, "lr"),
    ("optim.SGD(momentum=1)", SGD, dict(lr=0.1, momentum=1.0), ValueError, "momentum"),
    ("optim.Constant(True)", Constant, dict(value=True), TypeError, "value"),
    ("optim.InverseTime(tau=0)", InverseTime, dict(value=0.5, tau=0.0), ValueError, "tau"),
    (
        "SGD.step(grads of another shape)",
        SGD(lr=0.1).step,
        dict(params={"b": np.zeros(2)}, grads={"b": np.zeros(3)}, state={"b": np.zeros(2)}, t=0),
        ValueError,
        "grads",
    ),  # fmt: skip
    (
        "SGD.step(t=-1)",
        SGD(lr=0.1).step,
        dict(params={"b": np.zeros(2)}, grads={"b": np.zeros(2)}, state={"b": np.zeros(2)}, t=-1),
        ValueError,
        "t must be",
    ),  # fmt: skip
    (
        "TrainResult.load(<missing file>)",
        dynrnn.TrainResult.load,
        dict(path=_NOWHERE),
        ValueError,
        "is not a file written by dynrnn",
    ),  # fmt: skip
    ("train(resume=True, checkpoint=None)", dynrnn.train, _with(TINY, resume=True), ValueError, "checkpoint"),
    # --- sweep: every setting validated before the first run
    ("sweep(settings={'bogus': 1})", dynrnn.sweep, _sweep_settings(bogus=1), ValueError, "bogus"),
    ("sweep(settings={'max_updates': -5})", dynrnn.sweep, _sweep_settings(max_updates=-5), ValueError, "max_updates"),
    ("sweep(settings={'lr': '{bad json'})", dynrnn.sweep, _sweep_settings(lr="{bad json"), TypeError, "lr"),
    (
        "sweep(lengths=[5]) below the task's minimum",
        dynrnn.sweep,
        _with(SWEEP, lengths=[5]),
        ValueError,
        "length must be >= 10",
    ),  # fmt: skip
    ("sweep(seeds=[2**64])", dynrnn.sweep, _with(SWEEP, seeds=[2**64]), ValueError, "seeds"),
    ("sweep(settings={'n_units': 10**6})", dynrnn.sweep, _sweep_settings(n_units=10**6), ValueError, "n_units"),
]


@pytest.mark.parametrize(("name", "func", "kwargs", "exc", "match"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(name, func, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        func(**kwargs)
    assert not os.path.exists(_UNUSED_DB)


def test_the_table_covers_every_class():
    names = " ".join(c[0] for c in CASES)
    for needle in ("tasks.", "init_network", "train(", "train_population", "error_rate", "sweep", "checkpoint"):
        assert needle in names


# ----------------------------------------------------------------------------- tampered checkpoints


def _read(path):
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
    return meta, arrays


def _write(path, meta, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, __meta__=np.array(json.dumps(meta)), **arrays)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    dynrnn.train(**TINY, checkpoint=path)
    return path


def _set(arrays, key, value):
    arrays[key] = value


def _counter(meta, key, value):
    meta["counters"][key] = value


TAMPER = [
    (
        "velocity W_rec (2, 2) with 5 units",
        lambda m, a: _set(a, "velocity_W_rec", np.zeros((2, 2))),
        "velocity_W_rec must have shape \\(5, 5\\)",
    ),  # fmt: skip
    ("W_out (50, 5)", lambda m, a: _set(a, "param_W_out", np.zeros((50, 5))), "param_W_out must have shape"),
    ("W_rec (400, 400)", lambda m, a: _set(a, "param_W_rec", np.zeros((400, 400))), "param_W_rec must have shape"),
    ("W_in (5, 2)", lambda m, a: _set(a, "param_W_in", np.zeros((5, 2))), "param_W_in must have shape"),
    ("b (5, 1)", lambda m, a: _set(a, "param_b", np.zeros((5, 1))), "param_b must have shape"),
    ("W_rec NaN", lambda m, a: _set(a, "param_W_rec", np.full((5, 5), np.nan)), "param_W_rec must be finite"),
    ("velocity inf", lambda m, a: _set(a, "velocity_b", np.full(5, np.inf)), "velocity_b must be finite"),
    ("W_rec int64", lambda m, a: _set(a, "param_W_rec", np.zeros((5, 5), dtype=np.int64)), "dtype float64"),
    ("W_rec float32", lambda m, a: _set(a, "param_W_rec", np.zeros((5, 5), dtype=np.float32)), "dtype float64"),
    ("a parameter missing", lambda m, a: a.pop("param_W_in"), "param_W_in.*missing"),
    ("t = -5", lambda m, a: _counter(m, "t", -5), "counters.t"),
    ("t = 'ten'", lambda m, a: _counter(m, "t", "ten"), "counters.t"),
    ("t = 2**70", lambda m, a: _counter(m, "t", 2**70), "counters.t"),
    ("no counters", lambda m, a: m.pop("counters"), "counters"),
    ("no window", lambda m, a: m["counters"].pop("window"), "window"),
    ("window.n negative", lambda m, a: m["counters"]["window"].update(n=-1), "window.n"),
    ("activation 'sigmoid'", lambda m, a: _counter(m, "activation", "sigmoid"), "activation"),
    ("success without updates_to_success", lambda m, a: _counter(m, "success", True), "success"),
    ("stop_reason unknown", lambda m, a: _counter(m, "stop_reason", "bored"), "stop_reason"),
    ("elapsed_s NaN", lambda m, a: _counter(m, "elapsed_s", float("nan")), "elapsed_s"),
    ("junk generator state", lambda m, a: m.update(rng_train={"junk": 1}), "rng_train"),
    ("history without rho", lambda m, a: m["history"].pop("rho"), "history"),
    ("history of unequal lengths", lambda m, a: m["history"]["rho"].append(0.5), "history"),
    ("history update beyond t", lambda m, a: m["history"]["update"].__setitem__(0, 10**6), "history.update"),
    ("settings that are not a dict", lambda m, a: m.update(config=[1, 2]), "no settings"),
]


@pytest.mark.parametrize(("name", "tamper", "match"), TAMPER, ids=[t[0] for t in TAMPER])
def test_tampered_checkpoint_is_refused_before_training(checkpoint, tmp_path, name, tamper, match):
    meta, arrays = _read(checkpoint)
    tamper(meta, arrays)
    path = tmp_path / "tampered.npz"
    _write(path, meta, arrays)
    with pytest.raises(ValueError, match=match):
        dynrnn.train(**_with(TINY, max_updates=8), checkpoint=path, resume=True)


def _truncated(data):
    return data[: len(data) // 2]


def _flipped(data):
    data = bytearray(data)
    for i in range(200, 264):
        data[i] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("damage", [lambda d: b"", _truncated, _flipped], ids=["empty", "truncated", "flipped"])
def test_damaged_checkpoint_file_is_a_value_error(checkpoint, tmp_path, damage):
    path = tmp_path / "damaged.npz"
    path.write_bytes(damage(checkpoint.read_bytes()))
    with pytest.raises(ValueError, match="is not a file written by dynrnn|damaged"):
        dynrnn.train(**_with(TINY, max_updates=8), checkpoint=path, resume=True)


def _huge_header_copy(source, target, member):
    """A copy of the npz ``source`` whose ``member`` claims 10**12 float64 but holds 64 bytes."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename == member:
                import io

                buffer = io.BytesIO()
                np.lib.format.write_array_header_1_0(buffer, header)
                zout.writestr(info.filename, buffer.getvalue() + bytes(64))
            else:
                zout.writestr(info, zin.read(info))


def test_checkpoint_header_claiming_a_huge_array_is_refused(checkpoint, tmp_path):
    path = tmp_path / "huge.npz"
    _huge_header_copy(checkpoint, path, "param_W_rec.npy")
    with pytest.raises(ValueError, match="declares shape"):
        dynrnn.train(**_with(TINY, max_updates=8), checkpoint=path, resume=True)


def test_valid_checkpoint_still_resumes(checkpoint, tmp_path):
    path = tmp_path / "copy.npz"
    path.write_bytes(checkpoint.read_bytes())
    resumed = dynrnn.train(**_with(TINY, max_updates=8), checkpoint=path, resume=True)
    straight = dynrnn.train(**_with(TINY, max_updates=8))
    assert resumed.n_updates == 8
    np.testing.assert_array_equal(resumed.params["W_rec"], straight.params["W_rec"])


def test_tampered_population_checkpoint_names_the_member(tmp_path):
    runs = [RUN, _with(RUN, seed=1)]
    path = tmp_path / "pop.npz"
    dynrnn.train_population(runs, checkpoint=path)
    meta, arrays = _read(path)
    arrays["m1_velocity_W_rec"] = np.zeros((2, 2))
    _write(path, meta, arrays)
    with pytest.raises(ValueError, match="member 1.*velocity_W_rec must have shape"):
        dynrnn.train_population([_with(r, max_updates=8) for r in runs], checkpoint=path, resume=True)


# ----------------------------------------------------------------------------- TrainResult files


@pytest.fixture(scope="module")
def result_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("result") / "r.npz"
    dynrnn.train(**TINY).save(path)
    return path


RESULT_TAMPER = [
    ("W_in of another unit count", lambda m, a: _set(a, "params_W_in", np.zeros((3, 6))), "shapes"),
    ("b_out of another width", lambda m, a: _set(a, "params_b_out", np.zeros(7)), "shapes"),
    ("W_rec int", lambda m, a: _set(a, "params_W_rec", np.zeros((5, 5), dtype=np.int64)), "params_W_rec"),
    ("history of unequal lengths", lambda m, a: _set(a, "history_rho", np.zeros(7)), "history arrays"),
    ("a params array missing", lambda m, a: a.pop("params_W_out"), "params_W_out.*missing"),
    ("an extra field", lambda m, a: m.update(surprise=1), "surprise"),
    ("a field missing", lambda m, a: m.pop("success"), "success"),
    ("n_updates negative", lambda m, a: m.update(n_updates=-1), "n_updates"),
    ("unknown activation", lambda m, a: m.update(activation="sigmoid"), "activation"),
]


@pytest.mark.parametrize(("name", "tamper", "match"), RESULT_TAMPER, ids=[t[0] for t in RESULT_TAMPER])
def test_tampered_result_file_is_refused(result_file, tmp_path, name, tamper, match):
    meta, arrays = _read(result_file)
    tamper(meta, arrays)
    path = tmp_path / "tampered.npz"
    _write(path, meta, arrays)
    with pytest.raises(ValueError, match=match):
        dynrnn.TrainResult.load(path)


@pytest.mark.parametrize("damage", [lambda d: b"", _truncated, _flipped], ids=["empty", "truncated", "flipped"])
def test_damaged_result_file_is_a_value_error(result_file, tmp_path, damage):
    path = tmp_path / "damaged.npz"
    path.write_bytes(damage(result_file.read_bytes()))
    with pytest.raises(ValueError, match="is not a file written by dynrnn"):
        dynrnn.TrainResult.load(path)


def test_result_header_claiming_a_huge_array_is_refused(result_file, tmp_path):
    path = tmp_path / "huge.npz"
    _huge_header_copy(result_file, path, "params_W_rec.npy")
    with pytest.raises(ValueError, match="declares shape"):
        dynrnn.TrainResult.load(path)


def test_result_save_to_a_bad_path_names_it(result_file, tmp_path):
    result = dynrnn.TrainResult.load(result_file)
    for bad in ("", str(tmp_path), _NOWHERE):
        with pytest.raises(ValueError, match="path"):
            result.save(bad)
    with pytest.raises(TypeError, match="path"):
        result.save(5)


# ----------------------------------------------------------------------------- divergence is always flagged


@pytest.mark.parametrize("method", ["MSGD", "MSGD-C", "MSGD-CR"])
def test_shrink_guard_overflow_is_flagged_as_divergence(method):
    """lr > 100: the guard's factor 1 - 0.02 lr grows W_rec until it is NaN; the run must say it diverged."""
    r = dynrnn.train(**_with(TINY, task="addition", method=method, lr=1e150, nonfinite="shrink", max_updates=50))
    finite = all(np.isfinite(a).all() for a in r.params.values())
    assert r.diverged and r.status == "diverged"
    assert finite or r.net is None
    assert r.n_updates < 50


def test_a_diverging_member_stops_alone():
    good = _with(RUN, task="addition", method="MSGD-C")
    bad = _with(good, lr=1e150, seed=1)
    pop = dynrnn.train_population([good, bad])
    assert pop.diverged.tolist() == [False, True]
    assert pop.n_updates[0] == 4


def test_addition_batches_up_to_the_longest_length_fit():
    """T_max comes from the task's rule (T < 1.1 L), not from one random probe batch."""
    r = dynrnn.train(**_with(TINY, task="addition", length=100, max_updates=30, eval_every=30))
    assert r.n_updates == 30


def test_sgd_step_with_nan_parameters_is_not_finite():
    opt = SGD(lr=0.1)
    params = {"W_rec": np.full((2, 2), np.nan), "b": np.zeros(2)}
    grads = {"W_rec": np.ones((2, 2)), "b": np.zeros(2)}
    _, _, info = opt.step(params, grads, opt.init(params), 0)
    assert info.diverged and not info.params_finite
    _, _, info = opt.step({"b": np.zeros(1)}, {"b": np.ones(1)}, opt.init({"b": np.zeros(1)}), 0)
    assert not info.diverged


# ----------------------------------------------------------------------------- the run store


def _store_with_bad_row(path):
    config = {"task": "addition", "init": "basic_tanh", "method": "MSGD", "length": 50, "seed": 3}
    with RunStore(path) as store:
        key = store.add(config, {"success": False, "final_error": 0.4})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE runs SET config = '{bad' WHERE key = ?", (key,))
    connection.close()
    return key


def test_a_non_json_row_names_the_store_and_the_run(tmp_path):
    path = tmp_path / "runs.db"
    key = _store_with_bad_row(path)
    with pytest.raises(ValueError, match=f"db: .*runs.db.*config of run '{key}' is not JSON"):
        load_runs(path)


# ----------------------------------------------------------------------------- the command line

CLI_TRAIN = ["train", "--task", "temporal_order", "--length", "10", "--n-units", "5", "--batch-size", "4",
             "--max-updates", "2", "--eval-every", "2"]  # fmt: skip


def _one_line_usage_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def truncated(checkpoint, tmp_path):
    path = tmp_path / "truncated.npz"
    path.write_bytes(_truncated(checkpoint.read_bytes()))
    return path


@pytest.fixture
def bad_row_db(tmp_path):
    path = tmp_path / "bad.db"
    _store_with_bad_row(path)
    return path


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--length", "1000000000000"], "length"),
        (["--n-units", "1000000"], "n_units"),
        (["--seed", str(2**64)], "seed"),
        (["--checkpoint", _NOWHERE], "checkpoint"),
        (["--out", _NOWHERE], "--out"),
        (["--out", "{tmp}"], "--out"),
        (["--resume", "--checkpoint", "{truncated}"], "not a file written by dynrnn"),
        (["--cell", "elman"], "cell"),
        (["--leak", "1.5"], "leak"),
        (["--cell", "gru", "--method", "MSGD-CR"], "MSGD-CR"),
        (["--cell", "lstm", "--init", "smart_tanh"], "init"),
    ],
    ids=[
        "length",
        "units",
        "seed",
        "checkpoint-missing-folder",
        "out-missing-folder",
        "out-folder",
        "resume-trunc",
        "cell",
        "leak",
        "gated-omega",
        "gated-init",
    ],
)
def test_cli_train_bad_input_is_one_line(capsys, tmp_path, truncated, args, needle):
    args = [a.replace("{tmp}", str(tmp_path)).replace("{truncated}", str(truncated)) for a in args]
    argv = CLI_TRAIN + args
    if "--length" in args:
        argv = [a for i, a in enumerate(CLI_TRAIN) if not (a == "--length" or CLI_TRAIN[i - 1] == "--length")] + args
    assert needle in _one_line_usage_error(capsys, argv)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--seed", str(2**64)], "seeds"),
        (["--length", "5"], "length must be >= 10"),
        (["--set", "bogus=1"], "bogus"),
        (["--set", "max_updates=-5"], "max_updates"),
        (["--set", "lr={bad json"], "lr"),
        (["--csv", "/nonexistent-dynrnn-dir/x.csv"], "--csv"),
        (["--csv", "{tmp}"], "--csv"),
    ],
    ids=["seed", "length", "bogus", "max_updates", "bad-json", "csv-missing-folder", "csv-folder"],
)
def test_cli_sweep_bad_input_is_one_line_before_any_run(capsys, tmp_path, args, needle):
    db = tmp_path / "s.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    settings = ["n_units=5", "batch_size=4", "max_updates=2", "eval_every=2", "n_check=20", "n_eval=20"]
    argv = ["sweep", "--db", str(db), "--init", "smart_tanh", "--method", "MSGD", "--scheduler", "serial", "--set"]
    argv += settings
    if "--length" not in args:
        argv += ["--length", "10"]
    assert needle in _one_line_usage_error(capsys, argv + args)
    assert not db.exists() or not load_runs(db)  # nothing ran


@pytest.mark.parametrize("target", ["{tmp}", "/nonexistent-dynrnn-dir/x.csv"], ids=["folder", "missing-folder"])
def test_cli_export_csv_to_a_bad_path_is_one_line(capsys, tmp_path, target):
    db = tmp_path / "ok.db"
    with RunStore(db) as store:
        store.add({"task": "addition", "init": "basic_tanh", "method": "MSGD", "length": 50, "seed": 3}, {})
    assert "--export-csv" in _one_line_usage_error(
        capsys, ["sweep", "--db", str(db), "--export-csv", target.replace("{tmp}", str(tmp_path))]
    )


def test_cli_export_csv_of_a_damaged_store_is_one_line(capsys, tmp_path, bad_row_db):
    err = _one_line_usage_error(capsys, ["sweep", "--db", str(bad_row_db), "--export-csv", str(tmp_path / "x.csv")])
    assert "not JSON" in err


FAKE_SCRIPT = '''"""A fake figure."""
def main(argv=None):
    return []
'''


@pytest.fixture
def fake_root(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "fake.py").write_text(FAKE_SCRIPT)
    return tmp_path


def test_cli_figures_out_that_cannot_be_made_is_one_line(capsys, fake_root):
    err = _one_line_usage_error(capsys, ["figures", "fake", "--root", str(fake_root), "--out", "/proc/dynrnn-figs"])
    assert "--out" in err


def test_cli_figures_cuda_without_a_gpu_is_one_line(capsys, fake_root):
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a GPU (or the simulator) is available")
    err = _one_line_usage_error(capsys, ["figures", "fake", "--root", str(fake_root), "--backend", "cuda"])
    assert "--backend cuda" in err


def test_cli_train_out_is_written(capsys, tmp_path):
    out = tmp_path / "r.npz"
    assert main(CLI_TRAIN + ["--out", str(out)]) == 0
    assert dynrnn.TrainResult.load(out).n_updates == 2
    assert Path(out).is_file()
