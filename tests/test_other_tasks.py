"""analysis/other_tasks.py: the documented settings, the success table on a tiny preset, reuse and resume."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"


@pytest.fixture(scope="module")
def other_tasks():
    """Import analysis/other_tasks.py by path (as ``dynrnn figures`` does)."""
    if str(ANALYSIS) not in sys.path:
        sys.path.insert(0, str(ANALYSIS))
    spec = importlib.util.spec_from_file_location("_test_figure_other_tasks", ANALYSIS / "other_tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny(module, **changes):
    """8 units, a few hundred updates, short sequences: seconds."""
    settings = {name: {**s, "n_units": 8} for name, s in module.TASK_SETTINGS.items()}
    return {
        **module.QUICK,
        "name": "test",
        "tasks": ("addition", "memorization_5bit"),
        "task_settings": settings,
        "seeds": (0, 1),
        "random_lengths": (10, 14),
        "memorization_lengths": (5, 8),
        "max_updates": 200,
        "eval_every": 100,
        "n_check": 100,
        "n_eval": 100,
        "n_test": 100,
        "n_workers": 1,
        **changes,
    }


def test_presets_use_the_documented_settings(other_tasks):
    settings = other_tasks.TASK_SETTINGS
    for name in ("addition", "multiplication"):  # arXiv v2 appendix: 50 units, lr 0.01, alpha 0.5, threshold 6
        assert {k: settings[name][k] for k in ("init", "n_units", "lr", "threshold", "alpha")} == {
            "init": "basic_tanh", "n_units": 50, "lr": 0.01, "threshold": 6.0, "alpha": 0.5}  # fmt: skip
    assert (settings["permutation"]["n_units"], settings["permutation"]["lr"], settings["permutation"]["threshold"],
            settings["permutation"]["alpha"]) == (100, 0.001, 6.0, 1.0)  # fmt: skip
    three_bit = settings["temporal_order_3bit"]
    assert (three_bit["n_units"], three_bit["lr"], three_bit["threshold"], three_bit["alpha"]) == (100, 0.01, 1.0, 4.0)
    for name, options in (("memorization_5bit", {"n_values": 2, "n_pos": 5}),
                          ("memorization_20bit", {"n_values": 5, "n_pos": 10})):  # fmt: skip
        s = settings[name]
        assert s["task"] == "memorization" and s["task_options"] == options
        assert (s["n_units"], s["lr"], s["threshold"], s["alpha"]) == (50, 0.01, 1.0, 4.0)
    assert set(other_tasks.SOURCES) == set(settings)

    for preset in other_tasks.PRESETS.values():
        assert tuple(preset["methods"]) == ("MSGD-CR", "MSGD-C") and len(preset["seeds"]) == 5
        assert (preset["batch_size"], preset["success_error"], preset["n_eval"]) == (20, 0.01, 10_000)
        assert preset["stop_on_success"] and preset["task_settings"] is settings
        assert tuple(preset["tasks"]) == tuple(settings)
        assert preset["test_length"] == 500 and tuple(preset["test_tasks"]) == ("addition", "multiplication")
        assert preset["checkpoint_every"] == 300.0
    for name in ("medium", "paper"):
        p = other_tasks.PRESETS[name]
        assert tuple(p["random_lengths"]) == (50, 200) and tuple(p["memorization_lengths"]) == (50, 100, 150, 200)
        assert p["n_test"] == 10_000 and p["n_check"] == 1000 and p["eval_every"] == 200
        assert len(other_tasks.groups(p)) == 12  # 4 tasks on [50, 200], 2 memorization variants x 4 lengths
    assert other_tasks.PRESETS["paper"]["max_updates"] == 5_000_000
    assert other_tasks.PRESETS["medium"]["max_updates"] == 25_000
    assert "25,000" in other_tasks.__doc__ and "2.6 h" in other_tasks.__doc__

    p = other_tasks.MEDIUM
    group = other_tasks.groups(p)[3]
    assert group["key"] == "permutation" and group["length"] == (50, 200)
    kwargs = other_tasks.train_kwargs(p, group, "MSGD-CR", 3)
    assert (kwargs["task"], kwargs["seed"], kwargs["alpha"], kwargs["lr"], kwargs["n_units"]) == (
        "permutation", 3, 1.0, 0.001, 100)  # fmt: skip
    assert other_tasks.train_kwargs(p, group, "MSGD-C", 3)["alpha"] == 0.0
    memorization = other_tasks.groups(p)[-1]
    assert memorization["key"] == "memorization_20bit_L200" and memorization["length"] == 200
    assert other_tasks.train_kwargs(p, memorization, "MSGD-C", 0)["task_options"] == {"n_values": 5, "n_pos": 10}
    assert other_tasks.model_path("out", p, group, 3, "MSGD-C") == Path(
        "out/runs/other_tasks_medium_permutation_seed3_MSGD-C.npz")  # fmt: skip
    assert other_tasks.checkpoint_path("out", p, group).name == "other_tasks_medium_permutation_checkpoint.npz"


def test_table_counts_figure_and_reuse_of_saved_runs(other_tasks, tmp_path):
    p = _tiny(other_tasks)
    d = other_tasks.compute(p, out_dir=tmp_path)
    keys = [g["key"] for g in other_tasks.groups(p)]
    assert keys == ["addition", "memorization_5bit_L5", "memorization_5bit_L8"]
    for name in ("success", "updates_to_success", "n_updates", "final_error", "diverged"):
        assert d[name].shape == (3, 2, 2)
    for name in ("n_success", "ci_low", "ci_high", "median_updates_to_success", "median_final_error"):
        assert d[name].shape == (3, 2)
    np.testing.assert_array_equal(d["n_success"], d["success"].sum(axis=-1))
    np.testing.assert_array_equal(d["paper_successes"], [5, 5, 5])
    np.testing.assert_array_equal(d["length_min"], [10, 5, 8])
    np.testing.assert_array_equal(d["length_max"], [14, 5, 8])
    assert d["chance_error"].shape == (3,) and d["chance_error"][1] == pytest.approx(31 / 32, abs=0.03)
    assert np.all((d["n_updates"] >= 1) & (d["n_updates"] <= 200))
    assert np.all((d["final_error"] >= 0) & (d["final_error"] <= 1))
    np.testing.assert_array_equal(d["updates_to_success"] >= 0, d["success"])
    np.testing.assert_array_equal(d["test_group"], [0])  # addition, tested at length 500
    assert d["test_error"].shape == (1, 2, 2) and np.all((d["test_error"] >= 0) & (d["test_error"] <= 1))
    assert int(d["test_length"]) == 500 and int(d["n_test"]) == 100

    runs = tmp_path / "runs"
    models = sorted(runs.glob("other_tasks_test_*_seed*_MSGD-C*.npz"))
    assert len(models) == 3 * 2 * 2
    assert not list(runs.glob("*checkpoint*"))  # removed once the runs are saved
    model = other_tasks.model_path(tmp_path, p, other_tasks.groups(p)[1], 1, "MSGD-CR")
    kwargs = other_tasks.train_kwargs(p, other_tasks.groups(p)[1], "MSGD-CR", 1)
    saved = other_tasks._common().load_trained(model, kwargs)
    assert saved is not None and saved.config["task_options"] == {"n_values": 2, "n_pos": 5}
    assert saved.config["length"] == 5

    # a second compute retrains nothing: every saved run is reused, its file untouched, the table the same
    stamps = {path: path.stat().st_mtime_ns for path in models}
    d2 = other_tasks.compute(p, out_dir=tmp_path)
    assert {path: path.stat().st_mtime_ns for path in models} == stamps
    for key in d:
        np.testing.assert_array_equal(d2[key], d[key])
    # one more length trains only its own group; another budget retrains
    other_tasks.compute({**p, "memorization_lengths": (5, 8, 6)}, out_dir=tmp_path)
    assert {path: path.stat().st_mtime_ns for path in models} == stamps
    assert len(list(runs.glob("other_tasks_test_memorization_5bit_L6_*.npz"))) == 4

    table = other_tasks.markdown_table(d, p, stem="other_tasks_test")
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 3 + 1 + 2  # success header, 3 groups; length-500 header, 2 methods
    assert rows[0].count("|") == 1 + 3 + 3 * 2 + 2  # task, lengths, settings; 3 columns per method; chance; paper
    for g, row in enumerate(rows[1:4]):
        assert f"| {int(d['n_success'][g, 0])}/2 |" in row and row.endswith("| 5/5 |")
    assert "| 10-14 |" in rows[1] and "| basic_tanh, 8, 0.01, 6, 0.5 |" in rows[1]
    assert "`dynrnn figures --preset test other_tasks`" in table and "does not test" not in table

    cm = other_tasks._common()
    with cm.style():
        fig = other_tasks.plot(d, p)
        paths = cm.save_figure(fig, "other_tasks_test", tmp_path / "fig", d, p, preset="test")
    assert all(path.is_file() for path in paths)
    with np.load(paths[1]) as data:
        assert set(data.files) == set(d)
    assert "test preset: 2 seeds" in fig._suptitle.get_text()


@pytest.mark.parametrize(
    ("task", "options", "expected"),
    [
        ("temporal_order_3bit", None, 7 / 8),  # 8 equally likely classes
        ("permutation", None, 1 / 2),  # the last symbol is 1 or 2
        ("memorization", {"n_values": 2, "n_pos": 5}, 31 / 32),  # 5 binary recall steps, all must be right
        ("memorization", {"n_values": 5, "n_pos": 10}, 1 - 5.0**-10),
        ("addition", None, 2 * 0.6**2 / 2),  # P(|(a + b)/2 - 1/2| > 0.2), a, b ~ U(0, 1)
        # P(ab < 0.05) + P(ab > 0.45) with P(ab < c) = c (1 - ln c)
        ("multiplication", None, 0.05 * (1 - np.log(0.05)) + 1 - 0.45 * (1 - np.log(0.45))),
    ],
)
def test_chance_error_is_the_best_constant_outputs_known_error(other_tasks, task, options, expected):
    # 5,000 scored sequences: a binomial standard error of at most 0.0071; 4 of them plus the fitted
    # constant's own sampling error (squared-error tasks)
    assert other_tasks.chance_error(task, 20, options, rng=3) == pytest.approx(expected, abs=0.03)


def test_verdict_compares_msgd_cr_with_the_paper_group_by_group(other_tasks):
    p = {"methods": ("MSGD-CR", "MSGD-C")}
    final = np.full((2, 2, 5), 0.5)
    final[1, 0, :2] = 0.1  # two runs of group 1 well below its chance level
    d = {"seeds": np.arange(5), "n_success": np.array([[5, 0], [1, 0]]), "paper_successes": np.array([5, 2]),
         "final_error": final, "chance_error": np.array([0.5, 0.51])}  # fmt: skip
    text = other_tasks.verdict(d, p)
    assert text.startswith("Partly reproduces the paper (1 of 2 groups)")
    assert "MSGD-CR succeeds in 6 of 10 runs (the paper: 7)" in text and "18 of 20 final errors" in text
    d["n_success"] = np.array([[5, 5], [2, 0]])
    assert other_tasks.verdict(d, p).startswith("Reproduces the paper's success counts")
    d["n_success"] = np.array([[4, 5], [1, 0]])
    assert other_tasks.verdict(d, p).startswith("Does NOT reproduce the paper at this budget")


def test_main_writes_the_markdown_table_next_to_the_figure(other_tasks, tmp_path, monkeypatch):
    p = _tiny(other_tasks, name="quick", tasks=("addition",), seeds=(0,))
    monkeypatch.setattr(other_tasks, "PRESETS", {"quick": p})
    monkeypatch.setenv("MPLBACKEND", "Agg")
    paths = other_tasks.main(["--out", str(tmp_path)])
    assert [path.name for path in paths] == [f"other_tasks.{ext}" for ext in ("png", "npz", "json", "csv", "md")]
    assert json.loads(paths[2].read_text())["preset"] == "quick"
    table = paths[4].read_text()
    assert "`quick` preset" in table and "regenerate with `dynrnn figures other_tasks`" in table
    assert "does not test its claims" in table
    assert "## Errors at length 500" in table


def test_a_group_resumes_from_its_checkpoint(other_tasks, tmp_path):
    # An interrupted group leaves its population checkpoint; the next compute continues from it and ends
    # where an uninterrupted one does.
    import dynrnn

    p = _tiny(other_tasks, tasks=("addition",), seeds=(0,))
    fresh = other_tasks.compute(p, out_dir=tmp_path / "fresh")
    group = other_tasks.groups(p)[0]
    checkpoint = other_tasks.checkpoint_path(tmp_path / "resumed", p, group)
    checkpoint.parent.mkdir(parents=True)
    halfway = [{**other_tasks.train_kwargs(p, group, method, 0), "max_updates": 100} for method in p["methods"]]
    dynrnn.train_population(halfway, checkpoint=checkpoint, n_threads=1)  # "interrupted" at update 100
    resumed = other_tasks.compute(p, out_dir=tmp_path / "resumed")
    for key in fresh:
        np.testing.assert_array_equal(resumed[key], fresh[key])
    assert not checkpoint.exists()


def test_committed_quick_outputs_hold_the_table(other_tasks):
    # figures/other_tasks.{png,json,csv,md}: the quick preset's 8 groups x 2 methods, the CSV matching the JSON
    import csv

    figures = ANALYSIS.parent / "figures"
    record = json.loads((figures / "other_tasks.json").read_text())
    assert record["preset"] == "quick" and (figures / "other_tasks.png").is_file()
    assert record["arrays"]["n_success"]["shape"] == [len(other_tasks.groups(other_tasks.QUICK)), 2]
    with open(figures / "other_tasks.csv", newline="") as f:
        n_success = [float(row["value"]) for row in csv.DictReader(f) if row["array"] == "n_success"]
    assert len(n_success) == 16 and min(n_success) == record["arrays"]["n_success"]["min"]
    table = (figures / "other_tasks.md").read_text()
    assert "`quick` preset" in table
    assert len([line for line in table.splitlines() if line.startswith("| ")]) == 1 + 8 + 1 + 4
