"""dynrnn.train_population (issue 10, item 2): many runs in lockstep, each the same run as dynrnn.train.

The update itself is checked against a plain-loop reference and against the
chain of public functions in tests/test_train.py (``train_step`` is the
population kernel with one member); here: member k equals `train` with the
same settings (a property over settings), members never disturb each other
(divergence, stopping, thread count), the population's checkpoints resume
exactly, float32 follows float64, and bad input is refused.
"""

import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL, skip_without_cuda
from hypothesis import given, settings
from hypothesis import strategies as st
from interrupts import interrupt_after_checkpoint

import dynrnn
from dynrnn.training.population import POPULATION_CHECKPOINT_FORMAT

KEYS = ("W_rec", "W_in", "b", "W_out", "b_out")
GATED_KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")
COMMON = {"task": "temporal_order", "length": 10, "n_units": 6, "batch_size": 5, "eval_every": 10, "n_check": 50,
          "n_eval": 100}  # fmt: skip


def _same_run(a, b, rtol=1e-10):
    """Two TrainResults are the same run: parameters to ``rtol``, identical counters and history."""
    for k in KEYS:
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=rtol, atol=0, err_msg=k)
    assert (a.n_updates, a.success, a.updates_to_success, a.diverged, a.status) == (
        b.n_updates, b.success, b.updates_to_success, b.diverged, b.status)  # fmt: skip
    np.testing.assert_array_equal(a.history.update, b.history.update)
    np.testing.assert_array_equal(a.history.valid_error, b.history.valid_error)
    np.testing.assert_allclose(a.history.train_loss, b.history.train_loss, rtol=rtol)
    assert a.final_error == b.final_error


member = st.fixed_dictionaries(
    {
        "init": st.sampled_from(["sigmoid", "basic_tanh", "smart_tanh"]),
        "method": st.sampled_from(["MSGD", "MSGD-C", "MSGD-CR"]),
        "seed": st.integers(0, 2**20),
        "lr": st.sampled_from([0.01, 0.1, 1.0]),
        "threshold": st.sampled_from([0.1, 1.0, 10.0]),
        "momentum": st.sampled_from([0.0, 0.9]),
        "nesterov": st.booleans(),
        "max_updates": st.integers(1, 40),
        "leak": st.sampled_from([None, None, 0.4, [0.0, 0.1, 0.2, 0.5, 0.8, 0.95]]),  # leaky units (n_units = 6)
    }
)


def _fix(run):
    """MSGD-CR may weigh Omega; the others must not."""
    return {**run, "alpha": 2.0} if run["method"] == "MSGD-CR" and run["seed"] % 2 else run


@settings(max_examples=8)
@given(runs=st.lists(member, min_size=1, max_size=4, unique_by=lambda r: (r["seed"], r["method"], r["init"])),
       length=st.sampled_from([10, (10, 14)]))  # fmt: skip
def test_member_k_is_the_same_run_as_train(runs, length):
    runs = [{**COMMON, "length": length, **_fix(r)} for r in runs]
    pop = dynrnn.train_population(runs)
    assert len(pop) == len(runs)
    for k, run in enumerate(runs):
        _same_run(pop[k], dynrnn.train(**run))


gated_member = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["MSGD", "MSGD-C"]),
        "seed": st.integers(0, 2**20),
        "lr": st.sampled_from([0.01, 0.1, 1.0]),
        "threshold": st.sampled_from([0.1, 1.0, 10.0]),
        "momentum": st.sampled_from([0.0, 0.9]),
        "nesterov": st.booleans(),
        "max_updates": st.integers(1, 30),
    }
)


@settings(max_examples=6)
@given(cell=st.sampled_from(["gru", "lstm"]),
       runs=st.lists(gated_member, min_size=1, max_size=3, unique_by=lambda r: (r["seed"], r["method"])),
       task=st.sampled_from([("temporal_order", 10), ("temporal_order", (10, 14)), ("memorization", 3)]))  # fmt: skip
def test_gated_member_k_is_the_same_run_as_train(cell, runs, task):
    """A population of GRUs or LSTMs: member k is dynrnn.train with its settings, bit for bit."""
    runs = [{**COMMON, "task": task[0], "length": task[1], "cell": cell, **r} for r in runs]
    pop = dynrnn.train_population(runs)
    for k, run in enumerate(runs):
        ref = dynrnn.train(**run)
        for key in GATED_KEYS:
            np.testing.assert_array_equal(pop[k].params[key], ref.params[key], err_msg=key)
        assert (pop[k].n_updates, pop[k].status, pop[k].final_error) == (ref.n_updates, ref.status, ref.final_error)
        np.testing.assert_array_equal(pop[k].history.train_loss, ref.history.train_loss)


def test_member_k_is_train_after_1000_updates():
    """The issue's bar: 1e-10 relative after 1,000 float64 updates, same success update and history."""
    runs = [{**COMMON, "init": init, "method": method, "seed": seed, "max_updates": 1000, "eval_every": 100}
            for init, method, seed in [("smart_tanh", "MSGD-CR", 0), ("basic_tanh", "MSGD-C", 1),
                                       ("sigmoid", "MSGD", 2), ("smart_tanh", "MSGD-CR", 3)]]  # fmt: skip
    runs[3]["lr"] = 0.3  # a member that succeeds early (or at least trains differently)
    pop = dynrnn.train_population(runs)
    for k, run in enumerate(runs):
        _same_run(pop[k], dynrnn.train(**run))


def test_results_do_not_depend_on_the_thread_count():
    runs = [{**COMMON, "seed": s, "max_updates": 30} for s in range(5)]
    one = dynrnn.train_population(runs, n_threads=1)
    two = dynrnn.train_population(runs, n_threads=2)
    for a, b in zip(one, two, strict=True):
        _same_run(a, b, rtol=0)


def test_a_diverging_member_stops_alone():
    """MSGD with a huge learning rate overflows and stops (nonfinite='stop'); its neighbours go on unchanged."""
    calm = {**COMMON, "task": "addition", "seed": 3, "max_updates": 40}
    wild = {**calm, "method": "MSGD", "init": "basic_tanh", "lr": 1e8, "seed": 4}
    pop = dynrnn.train_population([calm, wild, {**calm, "seed": 5}])
    assert pop[1].diverged and pop[1].status == "diverged" and pop[1].n_updates < 40
    assert not pop[0].diverged and pop[0].n_updates == 40 and pop[2].n_updates == 40
    np.testing.assert_array_equal(pop.diverged, [False, True, False])
    _same_run(pop[0], dynrnn.train(**calm))
    _same_run(pop[1], dynrnn.train(**wild))


def test_members_stop_on_their_own_budget_and_success():
    runs = [{**COMMON, "seed": 0, "max_updates": 10}, {**COMMON, "seed": 1, "max_updates": 35},
            {**COMMON, "seed": 2, "max_updates": 20, "success_error": 1.0}]  # fmt: skip
    pop = dynrnn.train_population(runs)
    np.testing.assert_array_equal(pop.n_updates, [10, 35, 10])
    assert pop[2].status == "success" and pop[2].updates_to_success == 10
    for k, run in enumerate(runs):
        _same_run(pop[k], dynrnn.train(**run))


def test_population_checkpoint_resumes_exactly(tmp_path):
    ck = tmp_path / "pop.npz"
    runs = [{**COMMON, "seed": s, "method": m, "max_updates": 40} for s, m in [(0, "MSGD-CR"), (1, "MSGD-C")]]
    straight = dynrnn.train_population(runs)
    short = [{**r, "max_updates": 15} for r in runs]
    first = dynrnn.train_population(short, checkpoint=ck)
    assert ck.exists() and list(first.n_updates) == [15, 15]
    resumed = dynrnn.train_population(runs, checkpoint=ck, resume=True)
    for a, b in zip(resumed, straight, strict=True):
        for k in KEYS:
            np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.history.train_loss[-2:], b.history.train_loss[-2:])
        assert a.final_error == b.final_error
    meta = dynrnn.results.training.read_npz(ck, POPULATION_CHECKPOINT_FORMAT)[0]
    assert [m["counters"]["t"] for m in meta["members"]] == [40, 40]
    with pytest.raises(ValueError, match="members"):
        dynrnn.train_population(runs[:1], checkpoint=ck, resume=True)
    with pytest.raises(ValueError, match="lr"):
        dynrnn.train_population([{**r, "lr": 0.5} for r in runs], checkpoint=ck, resume=True)


def test_float32_population_follows_float64():
    """float32 members track their float64 twins to single-precision rounding over the first 100 updates."""
    runs = [{**COMMON, "seed": s, "max_updates": 100, "eval_every": 100} for s in range(2)]
    double = dynrnn.train_population(runs)
    single = dynrnn.train_population([{**r, "dtype": np.float32} for r in runs])
    for a, b in zip(single, double, strict=True):
        assert a.params["W_rec"].dtype == np.float32
        for k in KEYS:
            scale = np.abs(b.params[k]).max()
            # 100 updates of float32 rounding (eps 6e-8), amplified by training's sensitivity.
            np.testing.assert_allclose(a.params[k], b.params[k], rtol=0, atol=2e-4 * scale, err_msg=k)


@pytest.mark.parametrize(
    "runs, error, match",
    [
        ([], ValueError, "at least one member"),
        ("temporal_order", TypeError, "runs must be a sequence"),
        ({"task": "temporal_order"}, TypeError, "runs must be a sequence"),
        ([("task", "temporal_order")], TypeError, r"runs\[0\] must be a dict"),
        ([{"length": 10}], ValueError, r"runs\[0\] must name its task"),
        ([{**COMMON, "bogus": 1}], ValueError, r"runs\[0\] has an unknown setting 'bogus'"),
        ([{**COMMON, "checkpoint": "x"}], ValueError, r"runs\[0\] sets 'checkpoint'"),
        ([COMMON, {**COMMON, "lr": -1.0}], ValueError, r"runs\[1\]: lr"),
        ([COMMON, {**COMMON, "seed": 1, "n_units": 7}], ValueError, r"runs\[1\] has n_units=7 but runs\[0\] has 6"),
        ([COMMON, {**COMMON, "seed": 1, "length": 12}], ValueError, r"runs\[1\] has length=12"),
        ([COMMON, {**COMMON, "seed": 1, "task": "addition"}], ValueError, r"runs\[1\] has task='addition'"),
        ([COMMON, {**COMMON, "seed": 1, "batch_size": 4}], ValueError, r"runs\[1\] has batch_size=4"),
        ([COMMON, {**COMMON, "seed": 1, "dtype": np.float32}], ValueError, r"runs\[1\] has dtype='float32'"),
        ([COMMON, dict(COMMON)], ValueError, r"runs\[0\] and runs\[1\] are the same run"),
        ([{**COMMON, "n_units": 200_000}], ValueError, "n_units must be <= 8192"),
        ([COMMON, {**COMMON, "seed": 1, "cell": "gru"}], ValueError, r"runs\[1\] has cell='gru' but runs\[0\] has"),
        ([{**COMMON, "cell": "lstm", "method": "MSGD-CR"}], ValueError, r"runs\[0\]: method 'MSGD-CR' adds Omega"),
        ([COMMON, {**COMMON, "leak": 1.0}], ValueError, r"runs\[1\]: leak must lie in \[0, 1\)"),
        ([{**COMMON, "leak": [0.5, 0.5]}], ValueError, r"runs\[0\]: leak must be a number or an array of shape"),
        ([{**COMMON, "n_units": 8192, "batch_size": 10**6}], ValueError, r"runs\[0\]: .*too large.*memory available"),
    ],
)
def test_bad_populations_are_refused(runs, error, match):
    with pytest.raises(error, match=match):
        dynrnn.train_population(runs)


def test_bad_population_options():
    with pytest.raises(TypeError, match="n_threads"):
        dynrnn.train_population([COMMON], n_threads=1.5)
    with pytest.raises(ValueError, match="n_threads"):
        dynrnn.train_population([COMMON], n_threads=0)
    with pytest.raises(ValueError, match="checkpoint"):
        dynrnn.train_population([COMMON], resume=True)
    with pytest.raises(TypeError, match="progress"):
        dynrnn.train_population([COMMON], progress="yes")


# ----------------------------------------------------------------------------- CUDA


@pytest.mark.cuda
@skip_without_cuda
def test_cuda_population_matches_the_cpu(monkeypatch):
    """One block per member, the same update code: CUDA members follow the CPU ones (simulator: to 1e-12)."""
    from dynrnn import _config

    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)  # a team of 4 splits 3 sequences and 3 units unevenly
    tiny = {**COMMON, "n_units": 3, "batch_size": 3, "eval_every": 3, "n_check": 10, "n_eval": 10, "max_updates": 3}
    runs = [
        {**tiny, "seed": 0, "method": "MSGD-CR", "momentum": 0.5},
        {**tiny, "seed": 1, "method": "MSGD-C", "init": "sigmoid", "threshold": 0.01},
        {**tiny, "seed": 2, "method": "MSGD", "length": 10, "max_updates": 2},
        {**tiny, "seed": 3, "method": "MSGD-CR", "leak": [0.2, 0.5, 0.9]},  # leaky units
    ]
    gpu = dynrnn.train_population(runs, backend="cuda")
    cpu = dynrnn.train_population(runs)
    for a, b in zip(gpu, cpu, strict=True):
        for k in KEYS:
            np.testing.assert_allclose(a.params[k], b.params[k], rtol=CUDA_RTOL, atol=CUDA_ATOL, err_msg=k)
        np.testing.assert_allclose(a.history.train_loss, b.history.train_loss, rtol=CUDA_RTOL)
        np.testing.assert_allclose(a.history.omega, b.history.omega, rtol=CUDA_RTOL, atol=CUDA_ATOL)
        assert a.n_updates == b.n_updates and a.history.n_clipped.tolist() == b.history.n_clipped.tolist()


@pytest.mark.cuda
@skip_without_cuda
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_cuda_gated_population_matches_the_cpu(monkeypatch, cell):
    """GRU and LSTM members: the same gated update compiled by numba.cuda follows the CPU (simulator: to 1e-12)."""
    from dynrnn import _config

    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)  # a team of 4 splits 3 sequences and 9 or 12 gate rows
    tiny = {**COMMON, "cell": cell, "n_units": 3, "batch_size": 3, "eval_every": 3, "n_check": 10, "n_eval": 10,
            "max_updates": 3}  # fmt: skip
    runs = [
        {**tiny, "seed": 0, "momentum": 0.5, "threshold": 0.05},
        {**tiny, "seed": 1, "method": "MSGD", "lr": 0.5, "max_updates": 2},
        {**tiny, "seed": 2, "nesterov": True, "momentum": 0.9},
    ]
    gpu = dynrnn.train_population(runs, backend="cuda")
    cpu = dynrnn.train_population(runs)
    for a, b in zip(gpu, cpu, strict=True):
        for k in GATED_KEYS:
            np.testing.assert_allclose(a.params[k], b.params[k], rtol=CUDA_RTOL, atol=CUDA_ATOL, err_msg=k)
        np.testing.assert_allclose(a.history.train_loss, b.history.train_loss, rtol=CUDA_RTOL)
        assert a.n_updates == b.n_updates and a.history.n_clipped.tolist() == b.history.n_clipped.tolist()
    assert sum(r.history.n_clipped.sum() for r in cpu) > 0  # clipping exercised


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        dynrnn.train_population([COMMON], backend="tpu")


def test_blocked_cpu_products_match_blas(monkeypatch):
    """The blocked loops (what the CUDA build runs) and the BLAS products give the same runs, to rounding."""
    from dynrnn import _config

    runs = [{**COMMON, "seed": s, "method": m, "max_updates": 30} for s, m in [(0, "MSGD-CR"), (1, "MSGD")]]
    runs.append({**COMMON, "task": "temporal_order", "seed": 2, "init": "sigmoid", "max_updates": 30})
    blas = dynrnn.train_population(runs)
    monkeypatch.setattr(_config, "CPU_PRODUCTS", "blocked")
    blocked = dynrnn.train_population(runs)
    for a, b in zip(blocked, blas, strict=True):
        for k in KEYS:
            np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-10, atol=1e-13, err_msg=k)
        np.testing.assert_allclose(a.history.train_loss, b.history.train_loss, rtol=1e-10)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_blocked_cpu_products_match_blas_for_gated_cells(monkeypatch, cell):
    """The gated update with the blocked loops (what CUDA runs) and with BLAS: the same runs, to rounding."""
    from dynrnn import _config

    runs = [
        {**COMMON, "cell": cell, "seed": s, "method": m, "max_updates": 20} for s, m in [(0, "MSGD-C"), (1, "MSGD")]
    ]
    blas = dynrnn.train_population(runs)
    monkeypatch.setattr(_config, "CPU_PRODUCTS", "blocked")
    blocked = dynrnn.train_population(runs)
    for a, b in zip(blocked, blas, strict=True):
        for k in GATED_KEYS:
            np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-10, atol=1e-13, err_msg=k)
        np.testing.assert_allclose(a.history.train_loss, b.history.train_loss, rtol=1e-10)


def test_ctrl_c_checkpoints_the_whole_population_and_resumes(tmp_path):
    """A real SIGINT: the population stops between launches, writes every member, and resumes from there."""
    ck = tmp_path / "pop.npz"
    runs = [{**COMMON, "seed": s, "stop_on_success": False} for s in (0, 1)]
    code = (f"import dynrnn; dynrnn.train_population([dict(r, max_updates=10**7) for r in {runs!r}], "
            f"checkpoint={str(ck)!r}, checkpoint_every=0.2)")  # fmt: skip
    interrupt_after_checkpoint(code, ck)
    members = dynrnn.results.training.read_npz(ck, POPULATION_CHECKPOINT_FORMAT)[0]["members"]
    done = [m["counters"]["t"] for m in members]
    assert done[0] == done[1] > 0  # lockstep: both members stopped after the same launch
    resumed = dynrnn.train_population([dict(r, max_updates=done[0] + 7) for r in runs], checkpoint=ck, resume=True)
    assert list(resumed.n_updates) == [done[0] + 7] * 2
    assert all(r.status == "max_updates" for r in resumed)
