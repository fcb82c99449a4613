"""The training figure scripts analysis/temporal_order.py and analysis/generalization.py, on tiny presets."""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

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
def temporal_order():
    return _load("temporal_order")


@pytest.fixture(scope="module")
def generalization():
    return _load("generalization")


def _tiny_temporal_order(module, **changes):
    return {
        **module.QUICK,
        "name": "test",
        "inits": ("basic_tanh", "smart_tanh"),
        "methods": ("MSGD", "MSGD-CR"),
        "lengths": (10, 12),
        "seeds": (0,),
        "n_units": 8,
        "max_updates": 200,
        "eval_every": 100,
        "n_check": 100,
        "n_eval": 100,
        "scheduler": "serial",
        **changes,
    }


def test_presets_are_the_papers_settings(temporal_order, generalization):
    for preset in (*temporal_order.PRESETS.values(), *generalization.PRESETS.values()):
        assert (preset["n_units"], preset["lr"], preset["threshold"], preset["batch_size"]) == (50, 0.01, 1.0, 20)
        assert preset["alpha"] == 4.0
    paper = temporal_order.PRESETS["paper"]
    assert paper["max_updates"] == 5_000_000 and len(paper["seeds"]) == 5 and paper["n_eval"] == 10_000
    assert set(paper["inits"]) == {"sigmoid", "basic_tanh", "smart_tanh"}
    assert set(paper["methods"]) == {"MSGD", "MSGD-C", "MSGD-CR"}
    paper = generalization.PRESETS["paper"]
    assert tuple(paper["train_lengths"]) == (50, 200) and len(paper["seeds"]) == 5
    assert tuple(paper["test_lengths"]) == (50, 100, 150, 200, 250, 500, 1000, 2000, 3000, 5000)
    assert (paper["init"], paper["method"], paper["n_test"], paper["n_test_long"]) == ("basic_tanh", "MSGD-CR",
                                                                                        10_000, 10_000)  # fmt: skip


@pytest.mark.parametrize("name", ["temporal_order", "generalization"])
def test_main_defaults_to_quick_and_passes_the_output_folder(name, temporal_order, generalization, tmp_path,
                                                             monkeypatch):  # fmt: skip
    module = {"temporal_order": temporal_order, "generalization": generalization}[name]
    seen = {}

    def fake_compute(p, backend="cpu", out_dir=None):
        seen.update(name=p["name"], out_dir=out_dir)
        return {"x": np.arange(3)}

    def fake_plot(d, p):
        fig = module._common().new_figure()
        ax = fig.subplots()
        ax.plot(d["x"])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return fig

    monkeypatch.setattr(module, "compute", fake_compute)
    monkeypatch.setattr(module, "plot", fake_plot)
    if hasattr(module, "markdown_table"):  # the table of the fake arrays is not under test here
        monkeypatch.setattr(module, "markdown_table", lambda d, p, stem: "table\n")
    paths = module.main(["--out", str(tmp_path)])
    assert seen == {"name": "quick", "out_dir": tmp_path}
    assert json.loads(paths[2].read_text())["preset"] == "quick"
    module.main(["--out", str(tmp_path), "--preset", "paper"])
    assert seen["name"] == "paper"


def test_temporal_order_compute_plot_save_and_resume(temporal_order, tmp_path):
    from dynrnn.training.store import load_runs

    p = _tiny_temporal_order(temporal_order)
    d = temporal_order.compute(p, out_dir=tmp_path)
    assert d["success_rate"].shape == d["n_success"].shape == d["n_runs"].shape == (2, 2, 2)
    np.testing.assert_array_equal(d["lengths"], [10, 12])
    np.testing.assert_array_equal(d["n_runs"], 1)  # one seed, every run finished
    np.testing.assert_array_equal(d["n_failed"], 0)
    assert np.all((d["success_rate"] >= 0) & (d["success_rate"] <= 1))
    np.testing.assert_array_equal(d["success_rate"], d["n_success"] / d["n_runs"])
    low, high = temporal_order._common().wilson_interval(d["n_success"], d["n_runs"])
    np.testing.assert_array_equal(d["ci_low"], low)
    np.testing.assert_array_equal(d["ci_high"], high)
    assert np.all((d["ci_low"] <= d["success_rate"]) & (d["success_rate"] <= d["ci_high"]))

    db = temporal_order.store_path(tmp_path, p)
    assert db == tmp_path / "runs" / "temporal_order_test.sqlite"  # presets other than quick: under runs/
    records = load_runs(db)
    assert len(records) == 8 and len({r["key"] for r in records}) == 8
    # the counts are those of the store
    for r in records:
        i, j = list(p["inits"]).index(r["init"]), list(p["methods"]).index(r["method"])
        k = [10, 12].index(int(r["length"]))
        assert d["n_success"][i, j, k] == int(r["success"])
        assert r["config"]["n_units"] == 8 and "alpha" not in r["config"]  # alpha 4 = train's default
    # the per-run table next to the figure: one row per finished run, with the store's values
    with open(temporal_order.runs_csv_path(tmp_path, p)) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and tuple(rows[0]) == temporal_order.RUN_FIELDS
    by_key = {(r["init"], r["method"], int(r["length"]), int(r["seed"])): r for r in records}
    for row in rows:
        r = by_key[(row["init"], row["method"], int(row["length"]), int(row["seed"]))]
        assert row["success"] == str(r["success"]) and int(row["n_updates"]) == r["n_updates"]
        assert float(row["final_error"]) == r["final_error"]

    # a rerun skips the finished runs: nothing is trained again, nothing duplicated
    stamps = {r["key"]: r["finished_at"] for r in records}
    d2 = temporal_order.compute(p, out_dir=tmp_path)
    again = load_runs(db)
    assert len(again) == 8 and {r["key"]: r["finished_at"] for r in again} == stamps
    np.testing.assert_array_equal(d2["n_success"], d["n_success"])

    # one more seed: only the new runs are added, and each preset reads only its own grid
    p3 = {**p, "seeds": (0, 1), "lengths": (10,)}
    d3 = temporal_order.compute(p3, out_dir=tmp_path)
    assert len(load_runs(db)) == 12
    assert d3["success_rate"].shape == (2, 2, 1)
    np.testing.assert_array_equal(d3["n_runs"], 2)

    # the markdown table: one row per (init, method), "successes/finished [Wilson interval]" per length
    table = temporal_order.markdown_table(d, p, stem="temporal_order_test").splitlines()
    rows = [line for line in table if line.startswith("| ") and "method" not in line]
    assert len(rows) == 4 and "8 of 8 runs finished" in "\n".join(table)
    for i, init in enumerate(p["inits"]):
        for j, method in enumerate(p["methods"]):
            cells = [c.strip() for c in rows[2 * i + j].strip("|").split("|")]
            assert cells[0] == temporal_order.INIT_TITLES.get(init, init) and cells[1] == method
            for k in range(2):
                s_k = int(d["n_success"][i, j, k])
                assert cells[2 + k] == f"{s_k}/1 [{d['ci_low'][i, j, k]:.2f}, {d['ci_high'][i, j, k]:.2f}]"

    cm = temporal_order._common()
    with cm.style():
        fig = temporal_order.plot(d, p)
        paths = cm.save_figure(fig, "temporal_order", tmp_path / "fig", d, p, preset="test")
    assert [path.suffix for path in paths] == [".png", ".npz", ".json", ".csv"]
    assert all(path.is_file() for path in paths)
    with np.load(paths[1]) as saved:
        assert set(saved.files) == set(d)
        np.testing.assert_array_equal(saved["success_rate"], d["success_rate"])
    assert json.loads(paths[2].read_text())["params"]["lengths"] == [10, 12]
    assert "test preset: 1 seeds" in fig._suptitle.get_text()


def test_temporal_order_other_alpha_runs_a_second_sweep(temporal_order, tmp_path):
    from dynrnn.training.store import load_runs

    p = _tiny_temporal_order(temporal_order, alpha=2.0, inits=("smart_tanh",), lengths=(10,), max_updates=100)
    d = temporal_order.compute(p, out_dir=tmp_path)
    np.testing.assert_array_equal(d["n_runs"], 1)
    alphas = {r["method"]: r["config"].get("alpha") for r in load_runs(temporal_order.store_path(tmp_path, p))}
    assert alphas == {"MSGD": None, "MSGD-CR": 2.0}
    assert "authors' code" in temporal_order._preset_text(p)


def test_generalization_compute_plot_and_model_reuse(generalization, tmp_path):
    p = {
        **generalization.QUICK,
        "name": "test",
        "train_lengths": (10, 14),
        "seeds": (0,),
        "n_units": 8,
        "max_updates": 300,
        "eval_every": 100,
        "n_check": 100,
        "n_eval": 100,
        "test_lengths": (10, 14, 40),
        "n_test": 200,
        "n_test_long": 50,
        "long_from": 40,
        "n_workers": 1,
    }
    d = generalization.compute(p, out_dir=tmp_path)
    assert d["error_rate"].shape == (1, 3)
    np.testing.assert_array_equal(d["n_test"], [200, 200, 50])
    np.testing.assert_array_equal(d["train_lengths"], [10, 14])
    assert np.all((d["error_rate"] >= 0) & (d["error_rate"] <= 1))
    model = tmp_path / "runs" / "generalization_test_seed0.npz"
    assert model.is_file()
    assert not generalization.checkpoint_path(tmp_path, p).exists()  # removed once the models are saved

    # the same settings reuse the saved model (same errors, file untouched); other settings retrain
    stamp = model.stat().st_mtime_ns
    d2 = generalization.compute(p, out_dir=tmp_path)
    assert model.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(d2["error_rate"], d["error_rate"])
    generalization.compute({**p, "max_updates": 200}, out_dir=tmp_path)
    assert model.stat().st_mtime_ns != stamp
    assert generalization.model_path(tmp_path, {**p, "seeds": (0, 3)}, 3).name == "generalization_test_seed3.npz"

    cm = generalization._common()
    with cm.style():
        fig = generalization.plot(d, p)
        paths = cm.save_figure(fig, "generalization", tmp_path / "fig", d, p, preset="test")
    assert all(path.is_file() for path in paths)
    with np.load(paths[1]) as saved:
        assert set(saved.files) == set(d)
        assert saved["error_rate"].shape == (1, 3)
    assert "trained on random lengths in [10, 14]" in fig._suptitle.get_text()


def test_generalization_resumes_an_interrupted_population_from_its_checkpoint(generalization, tmp_path):
    # An interrupted training leaves the population checkpoint; the next compute continues from it
    # and ends where an uninterrupted one does.
    import dynrnn

    p = {**generalization.QUICK, "name": "test", "train_lengths": (10, 14), "seeds": (0, 1), "n_units": 8,
         "max_updates": 200, "eval_every": 100, "n_check": 100, "n_eval": 100, "test_lengths": (10, 20),
         "n_test": 100, "n_test_long": 100, "n_workers": 1}  # fmt: skip
    fresh = generalization.compute(p, out_dir=tmp_path / "fresh")
    checkpoint = generalization.checkpoint_path(tmp_path / "resumed", p)
    checkpoint.parent.mkdir(parents=True)
    halfway = [{**generalization._train_kwargs(p, seed), "max_updates": 100} for seed in p["seeds"]]
    dynrnn.train_population(halfway, checkpoint=checkpoint, n_threads=1)  # "interrupted" at update 100
    resumed = generalization.compute(p, out_dir=tmp_path / "resumed")
    for key in fresh:
        np.testing.assert_array_equal(resumed[key], fresh[key])
    assert not checkpoint.exists()


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # Wilson (1927) score intervals at 95 %, as tabulated (e.g. Brown, Cai & DasGupta 2001; R binom.confint)
        (0, 5, 0.0, 0.4345),
        (5, 5, 0.5655, 1.0),
        (2, 5, 0.1176, 0.7693),
        (1, 10, 0.0179, 0.4042),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval_against_table_values(temporal_order, k, n, low, high):
    lo, hi = temporal_order._common().wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_interval_edge_cases(temporal_order):
    cm = temporal_order._common()
    lo, hi = cm.wilson_interval([0, 3], [0, 3])
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and hi[1] == 1.0
    with pytest.raises(ValueError, match="k must lie in"):
        cm.wilson_interval(6, 5)


def test_load_trained_reads_a_missing_setting_as_trains_default(generalization, tmp_path):
    # A result's config omits what was left at train's default (cell="rnn" for the RNN); a caller
    # that states the default explicitly must still get the saved run back, and a real difference
    # (another cell, another lr) must not.
    import dynrnn

    kwargs = {"task": "temporal_order", "length": 10, "n_units": 4, "max_updates": 2, "eval_every": 2,
              "n_check": 10, "n_eval": 10, "seed": 0}  # fmt: skip
    path = tmp_path / "run.npz"
    dynrnn.train(**kwargs).save(path)
    load = generalization._common().load_trained
    assert "cell" not in dynrnn.TrainResult.load(path).config
    assert load(path, {**kwargs, "cell": "rnn"}) is not None
    assert load(path, {**kwargs, "cell": "gru"}) is None
    assert load(path, {**kwargs, "lr": 0.02}) is None
    assert load(tmp_path / "missing.npz", kwargs) is None
