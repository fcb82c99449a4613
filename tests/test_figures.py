"""The dynamics figure scripts in analysis/: quick presets end to end (slow), the CSV writer and the committed data."""

import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYSIS = ROOT / "analysis"
FIGURES = ROOT / "figures"
DYNAMICS = ("bifurcation", "phase_diagram", "cusp", "basins", "sensitivity", "error_surface", "gradient_flow",
            "input_maps")  # fmt: skip


def _load(name):
    """Import analysis/<name>.py by path (as ``dynrnn figures`` does)."""
    if str(ANALYSIS) not in sys.path:
        sys.path.insert(0, str(ANALYSIS))
    spec = importlib.util.spec_from_file_location(f"_test_figure_{name}", ANALYSIS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_csv(path):
    """{array name: {index tuple: value}} from a figure's CSV."""
    out = {}
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        assert rows.fieldnames == ["array", "i", "j", "k", "value"]
        for row in rows:
            index = tuple(int(row[c]) for c in "ijk" if row[c] != "")
            out.setdefault(row["array"], {})[index] = float(row["value"])
    return out


def test_write_csv_round_trips_small_arrays_and_skips_grids(tmp_path):
    cm = _load("bifurcation")._common()
    arrays = {
        "scalar": np.array(2.5),
        "curve": np.linspace(0, 1, 7),
        "table": np.arange(6).reshape(2, 3),
        "flags": np.array([True, False]),
        "cube": np.ones((2, 2, 2)),
        "grid": np.zeros((cm.CSV_MAX_VALUES + 1,)),
    }
    read = _read_csv(cm.write_csv(tmp_path / "x.csv", arrays))
    assert set(read) == {"scalar", "curve", "table", "flags", "cube"}
    assert read["scalar"] == {(): 2.5}
    np.testing.assert_allclose([read["curve"][(i,)] for i in range(7)], arrays["curve"], rtol=1e-9)
    assert read["table"][(1, 2)] == 5 and read["flags"] == {(0,): 1, (1,): 0} and len(read["cube"]) == 8
    with pytest.raises(ValueError, match="3 dimensions"):
        cm.write_csv(tmp_path / "y.csv", {"four": np.zeros((1, 1, 1, 1))})


@pytest.mark.parametrize("name", [*DYNAMICS, "generalization"])
def test_committed_figures_have_their_data(name):
    # every committed figure has its PNG, its JSON with the range of every array, and a CSV of the small ones
    record = json.loads((FIGURES / f"{name}.json").read_text())
    assert (FIGURES / f"{name}.png").is_file()
    read = _read_csv(FIGURES / f"{name}.csv")
    for array, info in record["arrays"].items():
        assert info["in_csv"] == (array in read), array
        if info["in_csv"]:
            assert len(read[array]) == int(np.prod(info["shape"])), array
            if "min" in info and info["n_nonfinite"] == 0:
                values = list(read[array].values())
                assert min(values) == pytest.approx(float(info["min"]))
                assert max(values) == pytest.approx(float(info["max"]))


def test_committed_error_surface_throws_on_the_wall():
    record = json.loads((FIGURES / "error_surface.json").read_text())
    arrays = record["arrays"]
    assert record["params"]["lr"] == 0.1 and record["params"]["threshold"] == 1.0
    assert min(arrays["throw_w"]["values"]) >= 4.5 and min(arrays["throw_grad_norm"]["values"]) >= 100
    assert max(arrays["clip_E_final"]["values"]) < 0.01


def test_committed_input_maps_thresholds():
    values = {k: v.get("values") for k, v in json.loads((FIGURES / "input_maps.json").read_text())["arrays"].items()}
    x_low, x_mid, x_high = values["fixed_points"]
    assert x_mid == pytest.approx(0.0, abs=1e-12) and x_high == pytest.approx(1.7760294587, abs=1e-9) == -x_low
    # a one-step pulse crosses the boundary when x_low + u > 0; longer pulses need less, never below the fold
    threshold = values["threshold"]
    assert threshold[0] == pytest.approx(-x_low, abs=1e-9)
    assert threshold == sorted(threshold, reverse=True) and threshold[-1] > max(values["fold_u"]) > 0.1556


@pytest.mark.slow
@pytest.mark.parametrize("name", DYNAMICS)
def test_quick_preset_writes_finite_data(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    paths = _load(name).main(["--preset", "quick", "--out", str(tmp_path)])
    assert [p.suffix for p in paths] == [".png", ".npz", ".json", ".csv"] and all(p.is_file() for p in paths)
    with np.load(paths[1]) as d:
        for key in d.files:  # NaN marks what is not drawn (a missing branch, a run never thrown): not all of it
            if d[key].dtype.kind == "f" and d[key].size:
                assert np.isfinite(d[key]).any() and not np.isinf(d[key]).any(), key
    assert _read_csv(paths[3])


@pytest.mark.slow
def test_input_maps_quick_crosses_the_boundary(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    paths = _load("input_maps").main(["--preset", "quick", "--out", str(tmp_path)])
    with np.load(paths[1]) as d:
        x_low, x_mid, x_high = d["fixed_points"]
        ends = d["trajectories"][:, -1]
        high = d["pulse_sizes"] > -x_low
        np.testing.assert_allclose(ends[high], x_high, atol=1e-3)  # 1.78 lingers near the boundary
        np.testing.assert_allclose(ends[~high], x_low, atol=1e-3)
        assert (np.diff(d["threshold"]) < 0).all()
