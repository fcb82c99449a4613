"""analysis/gated.py: panel A's lag profiles against NumPy, the table on a tiny preset end to end, and run reuse."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import dynrnn

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"


@pytest.fixture(scope="module")
def gated():
    """Import analysis/gated.py by path (as ``dynrnn figures`` does)."""
    if str(ANALYSIS) not in sys.path:
        sys.path.insert(0, str(ANALYSIS))
    spec = importlib.util.spec_from_file_location("_test_figure_gated", ANALYSIS / "gated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny(module):
    """8 units, at most 40 updates, length 10: seconds."""
    return {**module.QUICK, "name": "quick", "n_units": 8, "seeds": (0, 1), "lengths": (10,), "max_updates": 40,
            "eval_every": 20, "n_check": 50, "n_eval": 100, "irnn_length": 10, "jac_length": 12,
            "jac_sequences": 1, "n_workers": 1}  # fmt: skip


def test_identity_relu_network_preserves_norm_at_every_lag(gated):
    """W_rec = I with relu units kept positive (their linear regime): every product is I, norm 1, log 0."""
    n, T = 5, 15
    rng = np.random.default_rng(0)
    net = dynrnn.RNN(np.eye(n), W_in=np.abs(rng.normal(size=(n, 2))), activation="relu", form="standard")
    inputs = rng.random((T, 3, 2)) + 0.1  # positive inputs, positive weights: pre-activations > 0
    profile = gated.lag_profile(net, inputs)
    assert profile.shape == (T + 1,)
    np.testing.assert_allclose(profile, 0.0, atol=1e-12)


def test_lag_profile_matches_numpy_products_of_step_jacobians(gated):
    """A standard-form tanh net: the median over windows of log10 ||prod J_i||_2, J_i = diag(1 - h_i^2) W."""
    n, m, T, B = 6, 2, 12, 2
    rng = np.random.default_rng(3)
    W, W_in = rng.normal(0, 0.5, (n, n)), rng.normal(0, 1.0, (n, m))
    net = dynrnn.RNN(W, W_in=W_in, activation="tanh", form="standard")
    inputs = rng.normal(size=(T, B, m))
    expected = np.empty(T + 1)
    logs = {lag: [] for lag in range(T + 1)}
    for b in range(B):
        h, jac = np.zeros(n), []
        for t in range(T):
            h = np.tanh(W @ h + W_in @ inputs[t, b])
            jac.append(np.diag(1 - h**2) @ W)
        for t in range(T + 1):
            P = np.eye(n)
            for lag in range(t + 1):  # P = J_t ... J_{t-lag+1}
                logs[lag].append(np.log10(np.linalg.norm(P, 2)))
                if lag < t:
                    P = P @ jac[t - lag - 1]
    for lag in range(T + 1):
        expected[lag] = np.median(logs[lag])
    np.testing.assert_allclose(gated.lag_profile(net, inputs), expected, rtol=1e-9, atol=1e-10)


def test_lstm_profile_is_over_the_full_state(gated):
    net = dynrnn.init_network("uniform", 4, 6, 4, rng=0, cell="lstm")
    inputs = dynrnn.tasks.temporal_order(1, 10, rng=1).inputs
    profile = gated.lag_profile(net, inputs)
    assert profile.shape == (11,) and profile[0] == 0.0 and np.all(np.isfinite(profile))


def test_tiny_preset_end_to_end_table_and_reuse(gated, tmp_path, monkeypatch):
    p = _tiny(gated)
    monkeypatch.setitem(gated.PRESETS, "quick", p)
    paths = gated.main(["--out", str(tmp_path)])
    assert [path.name for path in paths] == ["gated.png", "gated.npz", "gated.json", "gated.csv", "gated.md"]
    d = dict(np.load(tmp_path / "gated.npz"))
    G, K, S = len(p["tasks"]) * len(p["lengths"]), len(p["series"]), len(p["seeds"])
    assert d["success"].shape == (G, K, S) and d["n_success"].shape == (G, K)
    np.testing.assert_array_equal(d["n_success"], d["success"].sum(axis=-1))
    assert d["jac_init_log10"].shape == d["jac_trained_log10"].shape == (len(p["models"]), p["jac_length"] + 1)
    np.testing.assert_array_equal(d["jac_init_log10"][:, 0], 0.0)
    assert np.all(np.isnan(d["final_mse"][d["group_task"] == 0]))  # temporal order has no MSE
    assert np.all(np.isfinite(d["irnn_final_mse"])) and d["irnn_final_mse"].shape == (S,)
    assert np.all(d["jac_trained_updates"] <= p["max_updates"])

    table = (tmp_path / "gated.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| temporal_order") or line.startswith("| add")
            or line.startswith("| le_adding")]  # fmt: skip
    assert len(rows) == G * K
    for row, count in zip(rows, d["n_success"].ravel(), strict=True):
        assert f"| {int(count)}/{S} |" in row
    assert "MSGD-CR" not in "".join(r for r in rows if "gru" in r or "lstm" in r)
    assert "Hochreiter & Schmidhuber 1997" in table and "0.167" in table and "does not test" in table
    meta = json.loads((tmp_path / "gated.json").read_text())
    assert meta["preset"] == "quick" and meta["params"]["max_updates"] == 40

    runs = sorted((tmp_path / "runs").glob("gated_quick_*.npz"))
    n_a, n_b, n_irnn = len(p["models"]), G * (len(p["series"]) * S), S
    assert len(runs) == n_a + n_b + n_irnn and not any("checkpoint" in r.name for r in runs)
    mtimes = {r: r.stat().st_mtime_ns for r in runs}
    gated.main(["--out", str(tmp_path)])  # a rerun reuses every saved run: nothing is retrained
    assert {r: r.stat().st_mtime_ns for r in runs} == mtimes
    np.testing.assert_array_equal(dict(np.load(tmp_path / "gated.npz"))["success"], d["success"])


def test_presets(gated):
    m = gated.PRESETS["medium"]
    assert m["n_units"] == 50 and len(m["seeds"]) == 5 and tuple(m["lengths"]) == (50, 100, 150)
    assert m["irnn_length"] == 150 and m["jac_length"] == 100 and m["max_updates"] == 20_000
    assert "20,000" in gated.__doc__ and "h on 2 cores" in gated.__doc__  # the measured cost is stated
    q = gated.PRESETS["quick"]
    assert q["jac_length"] == 100 and len(q["seeds"]) == 2
    for name, (cell, _init, method) in gated.SERIES.items():
        assert cell == "rnn" or method == "MSGD-C", name


def test_torch_reference_lines_report_first_success_or_none(gated, tmp_path):
    assert gated.torch_reference_lines(tmp_path / "absent.csv") == []
    path = tmp_path / "ref.csv"
    path.write_text(
        "cell,optimizer,lr,length,seed,update,error\n"
        "lstm,adam,0.001,50,1,0,0.75\nlstm,adam,0.001,50,1,500,0.74\n"  # never below 1 %
        "gru,adam,0.001,50,0,500,0.005\ngru,adam,0.001,50,0,0,0.75\ngru,adam,0.001,50,0,1000,0.0\n"  # out of order
    )
    header, gru, lstm = gated.torch_reference_lines(path)
    assert "ref.csv" in header
    assert gru == "  - torch.nn.GRU, adam lr 0.001, L = 50, seed 0: < 1 % errors first at update 500"
    assert lstm == "  - torch.nn.LSTM, adam lr 0.001, L = 50, seed 1: not solved in 500 updates (last error 74.0 %)"
