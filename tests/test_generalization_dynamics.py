"""analysis/generalization_dynamics.py: the pieces against direct computations, and a tiny preset end to end."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"


@pytest.fixture(scope="module")
def gd():
    sys.path.insert(0, str(ANALYSIS))
    spec = importlib.util.spec_from_file_location(
        "_test_generalization_dynamics", ANALYSIS / "generalization_dynamics.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_distractor_map_is_the_network_under_the_mean_distractor(gd):
    import dynrnn

    rng = np.random.default_rng(0)
    n = 5
    net = dynrnn.RNN(W_rec=rng.normal(0, 0.4, (n, n)), W_in=rng.normal(0, 1, (n, 6)), b=rng.normal(0, 0.1, n),
                     form="standard", W_out=rng.normal(0, 1, (4, n)), b_out=np.zeros(4))  # fmt: skip
    fmap = gd.distractor_map(net)
    h = rng.normal(0, 0.5, n)
    u = np.array([0, 0, 0.25, 0.25, 0.25, 0.25])
    expected = np.tanh(net.W_rec @ h + net.W_in @ u + net.b)
    np.testing.assert_allclose(dynrnn.iterate(fmap, h, n_steps=1)[1], expected, rtol=1e-14, atol=1e-15)
    # the network itself, driven by u at every step, takes the same step
    np.testing.assert_allclose(dynrnn.iterate(net, h, u[None])[1], expected, rtol=1e-14, atol=1e-15)


def test_class_sequences_hold_their_class_and_second_symbol(gd):
    import dynrnn

    inputs, second = gd.class_sequences(30, 3, np.random.default_rng(1))
    assert inputs.shape == (4, 3, 30, 6) and second.shape == (4, 3)
    for c in range(4):
        for i in range(3):
            x = inputs[c, i]
            symbols = np.flatnonzero(x[:, :2].any(axis=1))
            assert len(symbols) == 2 and symbols[1] == second[c, i]
            v0, v1 = (int(np.argmax(x[t, :2])) for t in symbols)
            assert v0 + 2 * v1 == c  # the task's class label: AA = 0, BA = 1, AB = 2, BB = 3
            assert 15 <= second[c, i] < 18  # p1 in [0.5 L, 0.6 L)
    assert np.all(inputs.sum(axis=3) == 1)
    assert dynrnn.tasks.temporal_order(2, 30, rng=0).inputs.shape[2] == 6


def test_separation_of_clusters(gd):
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    offsets = np.array([[0.5, 0.0], [-0.5, 0.0]])
    states = centres[:, None] + offsets[None]  # (4, 2, 2)
    spread, between = gd.separation(states)
    np.testing.assert_allclose(spread, 0.5)
    assert between == pytest.approx(10.0)


def test_tiny_preset_end_to_end(gd, tmp_path):
    p = {**gd.presets()["quick"], "name": "test", "train_lengths": (10, 14), "seeds": (0, 1), "n_units": 8,
         "max_updates": 200, "eval_every": 100, "n_check": 100, "n_eval": 100, "long_length": 100,
         "n_per_class": 2, "n_starts": 20, "n_workers": 1}  # fmt: skip
    d = gd.compute(p, out_dir=tmp_path)
    assert d["exponents"].shape == (2, 8) and d["class_error"].shape == (2, 4)
    assert d["distance"].shape == (2, 100 - 60)
    assert np.all(np.diff(d["exponents"], axis=1) <= 1e-12)  # the spectrum is sorted, largest first
    assert np.all((d["class_error"] >= 0) & (d["class_error"] <= 1))
    assert np.all(d["n_stable"] + d["n_saddle"] + d["n_other"] >= 1)
    table = (tmp_path / "generalization_dynamics_test_table.md").read_text()
    assert table.count("\n| 0 |") == 1 and table.count("\n| 1 |") == 1
    cm = gd._common()
    with cm.style():
        fig = gd.plot(d, p)
        paths = cm.save_figure(fig, "generalization_dynamics", tmp_path / "fig", d, p, preset="test")
    assert all(path.is_file() for path in paths)
