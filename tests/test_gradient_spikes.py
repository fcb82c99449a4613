"""analysis/gradient_spikes.py and its machinery (analysis/_training_trace.py), on tiny runs.

The training trace must be the training itself: a run advanced in chunks, and replayed from a kept
checkpoint, makes bit for bit the updates of one uninterrupted run, and the logged norm is the norm
before clipping.  The crossing search must put a crossing of known position in the right update.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import dynrnn

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"


def _load(name):
    """Import analysis/<name>.py by path (as ``dynrnn figures`` does)."""
    if str(ANALYSIS) not in sys.path:
        sys.path.insert(0, str(ANALYSIS))
    spec = importlib.util.spec_from_file_location(f"_test_figure_{name}", ANALYSIS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _load("gradient_spikes")


@pytest.fixture(scope="module")
def trace(script):
    return script._trace()


def _tiny(script, **changes):
    return {**script.QUICK, "name": "test", "n_units": 8, "length": 10, "max_updates": 240, "chunk": 60,
            "median_window": 40, "min_history": 20, "n_starts": 4, **changes}  # fmt: skip


def test_presets_are_the_papers_settings(script):
    for p in script.PRESETS.values():
        assert (p["task"], p["length"], p["n_units"], p["lr"], p["batch_size"], p["threshold"]) == (
            "temporal_order", 50, 50, 0.01, 20, 1.0)  # fmt: skip
        assert set(p["methods"]) == {"MSGD", "MSGD-C"} and p["window"] == 5 and p["spike_factor"] == 10.0
    assert len(script.MEDIUM["seeds"]) >= 5
    assert script.stem_of(script.MEDIUM) == "gradient_spikes_medium"
    assert script.stem_of(script.QUICK) == "gradient_spikes"


def test_chunked_and_replayed_training_is_the_uninterrupted_run(script, trace, tmp_path):
    """Chunks (1, 10, 20, 30) and a replay to update 15 give one whole run's norms and parameters, bit for bit."""
    kwargs = trace.train_kwargs(_tiny(script, threshold=1e-3), "MSGD-C", 3)
    whole = dynrnn.train_population([dict(kwargs, max_updates=30)], n_threads=1).runs[0]
    chunked = trace.Trajectory(kwargs, tmp_path / "a")
    result = chunked.train(30, 10)
    assert sorted(chunked.snapshots) == [1, 10, 20, 30]
    np.testing.assert_array_equal(result.history.grad_norm, whole.history.grad_norm)
    for name, value in whole.params.items():
        np.testing.assert_array_equal(chunked.snapshots[30][name], value)
    # the parameters after update 15, replayed from the checkpoint kept at 10, are those a run stopped at 15 has
    stopped = dynrnn.train_population([dict(kwargs, max_updates=15)], n_threads=1).runs[0]
    for name, value in stopped.params.items():
        np.testing.assert_array_equal(chunked.params(15)[name], value)
    np.testing.assert_array_equal(stopped.history.grad_norm, whole.history.grad_norm[:15])
    # the logged norm is the norm before clipping: every update was clipped to 1e-3, the norms are larger
    assert np.all(whole.history.n_clipped == 1) and np.all(whole.history.grad_norm > 1e-3)
    # a second Trajectory on the same folder reuses the kept checkpoints
    again = trace.Trajectory(kwargs, tmp_path / "a").train(30, 10)
    np.testing.assert_array_equal(again.history.grad_norm, whole.history.grad_norm)
    chunked.clean()
    assert not (tmp_path / "a").exists()


def test_spikes_against_the_running_median(trace):
    g = np.full(300, 2.0)
    g[::7] = 1.0
    g[250], g[260] = 25.0, 19.0  # 12.5x and 9.5x the median (2)
    k, threshold = trace.spikes(g, 10.0, 200, 50)
    assert k.tolist() == [251]  # 1-based update numbers
    assert np.all(np.isnan(threshold[:50])) and threshold[250] == 20.0


def test_near_lag_and_episodes(script):
    np.testing.assert_array_equal(script.near([0.0, 10.0, 20.0], [4.0, 26.0], 5), [True, False, False])
    np.testing.assert_array_equal(script.near([1.0], [], 5), [False])
    np.testing.assert_allclose(script.nearest_lag([0.0, 10.0, 20.0], [4.0, 26.0]), [-4.0, 6.0, -6.0])
    assert np.isnan(script.nearest_lag([3.0], [])).all()
    np.testing.assert_array_equal(script.episodes([1.0, 3.0, 8.0, 20.0, 21.0], 5), [0, 3])


class _Planted:
    """A stand-in trajectory: one unit whose weight passes 1 between updates 24 and 25 (w = 0.5 + (t + 0.3) / 50)."""

    def params(self, t):
        return {"W_rec": np.array([[0.5 + (t + 0.3) / 50.0]]), "W_in": np.zeros((1, 6)), "b": np.zeros(1)}


def test_halving_puts_a_planted_crossing_in_its_update(script, trace):
    p = _tiny(script)
    crossings = trace.Crossings(_Planted(), p, seed=0)
    crossings.refine(0, 64, coarse=True)
    rows = crossings.table()
    assert len(rows) == 1
    t, kind, period, attractor, coarse = rows[0]
    np.testing.assert_allclose(t, 24.7, rtol=0, atol=1e-6)  # the pitchfork of h -> tanh(w h) at w = 1
    assert (kind, period, attractor, coarse) == ("branch_point", 1, True, True)
    assert crossings.unrefined() == []
    assert len(crossings.analyses) == 2 * 6 + 1  # the segment, then two halves per level down to one update
    # a segment without a crossing is analysed once, and not halved
    crossings.refine(30, 62, coarse=True)
    assert (30, 46) not in crossings.analyses


def test_compute_plot_save_and_reuse(script, tmp_path):
    p = _tiny(script, spike_factor=2.0)  # a low threshold, so that the tiny runs have spikes and windows
    d = script.compute(p, out_dir=tmp_path)
    R = len(p["methods"]) * len(p["seeds"])
    assert d["grad_norm"].shape == d["threshold"].shape == (R, 240)
    assert np.all(np.isfinite(d["grad_norm"])) and np.all(d["n_updates"] == 240)
    for r in range(R):
        assert d["n_spikes"][r] == np.sum(d["spike_run"] == r)
        assert d["n_crossings_all"][r] == np.sum(d["crossing_run"] == r)
        assert d["n_crossings"][r] == np.sum((d["crossing_run"] == r) & d["crossing_coarse"])
        assert d["n_spikes_near"][r] <= d["n_spikes"][r] and d["n_episodes"][r] <= d["n_spikes"][r]
    assert d["n_spikes"].sum() > 0
    g = d["grad_norm"][d["spike_run"], d["spike_update"] - 1]
    assert np.all(g > d["threshold"][d["spike_run"], d["spike_update"] - 1])
    assert np.all((d["chance_spike"] >= 0) & (d["chance_spike"] <= 1))
    # the events table: one row per spike and per crossing
    events = (tmp_path / "gradient_spikes_test_events.csv").read_text().splitlines()
    assert events[0].startswith("method,seed,event,update,parameter_index")
    assert len(events) == 1 + d["spike_update"].size + d["crossing_t"].size
    # each run is stored, and a rerun reuses it (nothing trained again, the checkpoints removed)
    store = tmp_path / "runs" / "gradient_spikes_test"
    files = sorted(store.glob("*.npz"))
    assert [f.name for f in files] == ["MSGD-C_seed0.npz", "MSGD_seed0.npz"]
    assert not any(f.is_dir() for f in store.iterdir())
    stamps = [f.stat().st_mtime_ns for f in files]
    d2 = script.compute(p, out_dir=tmp_path)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    np.testing.assert_array_equal(d2["grad_norm"], d["grad_norm"])
    cm = script._common()
    with cm.style():
        fig = script.plot(d, p)
        paths = cm.save_figure(fig, "gradient_spikes_test", tmp_path / "fig", d, p, preset="test")
    assert all(path.is_file() for path in paths)
    with np.load(paths[1]) as saved:
        assert set(saved.files) == set(d)
    assert json.loads(paths[2].read_text())["params"]["max_updates"] == 240
    assert "test preset" in fig._suptitle.get_text() and "240 updates per run" in fig._suptitle.get_text()


def test_main_defaults_to_quick_and_passes_the_output_folder(script, tmp_path, monkeypatch):
    seen = {}

    def fake_compute(p, backend="cpu", out_dir=None):
        seen.update(name=p["name"], out_dir=out_dir)
        return {"x": np.arange(3)}

    def fake_plot(d, p):
        fig = script._common().new_figure()
        ax = fig.subplots()
        ax.plot(d["x"])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return fig

    monkeypatch.setattr(script, "compute", fake_compute)
    monkeypatch.setattr(script, "plot", fake_plot)
    paths = script.main(["--out", str(tmp_path)])
    assert seen == {"name": "quick", "out_dir": tmp_path} and paths[0].name == "gradient_spikes.png"
    paths = script.main(["--out", str(tmp_path), "--preset", "medium"])
    assert seen["name"] == "medium" and paths[0].name == "gradient_spikes_medium.png"
