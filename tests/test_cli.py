"""The ``dynrnn`` command line: ``dynrnn info`` and ``dynrnn figures``."""

from pathlib import Path

import numpy as np
import pytest

from dynrnn.cli import main

CHECKOUT = Path(__file__).resolve().parents[1]

FAKE_SCRIPT = '''"""A fake figure for the CLI tests."""
import argparse
from pathlib import Path

def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--preset"); p.add_argument("--out"); p.add_argument("--backend")
    args = p.parse_args(argv)
    path = Path(args.out) / f"{Path(__file__).stem}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{args.preset} {args.backend}")
    return [path]
'''


@pytest.fixture
def fake_root(tmp_path):
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    for name in ("alpha", "beta", "_helper"):
        (analysis / f"{name}.py").write_text(FAKE_SCRIPT)
    return tmp_path


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for key in ("dynrnn", "numpy", "numba", "cpu", "memory", "NUMBA_NUM_THREADS", "gpu"):
        assert key in out


def test_unknown_figure_lists_available_names(fake_root, capsys):
    assert main(["figures", "nope", "--root", str(fake_root)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "alpha, beta" in err and "_helper" not in err


def test_missing_analysis_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["figures", "--root", str(tmp_path)]) == 2
    assert "analysis/" in capsys.readouterr().err


def test_figures_runs_scripts_and_reports_files(fake_root, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert (
        main(
            [
                "figures",
                "beta",
                "--root",
                str(fake_root),
                "--out",
                str(out_dir),
                "--preset",
                "quick",
            ]
        )
        == 0
    )
    assert (out_dir / "beta.txt").read_text() == "quick cpu"
    assert not (out_dir / "alpha.txt").exists()
    out = capsys.readouterr().out
    assert "A fake figure" in out and "beta.txt" in out and "Total: 1 figure(s)" in out


def test_figures_without_preset_lets_each_script_use_its_default(fake_root, tmp_path, capsys):
    # No --preset: the CLI passes none, so each script applies its own default (argparse: None here).
    assert main(["figures", "alpha", "--root", str(fake_root), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "alpha.txt").read_text() == "None cpu"
    assert "preset per script" in capsys.readouterr().out


def test_figure_scripts_default_presets():
    # The dynamics figures default to their full-size preset, the training experiments to 'quick'.
    import sys

    sys.path.insert(0, str(CHECKOUT / "analysis"))
    try:
        import _common
    finally:
        sys.path.remove(str(CHECKOUT / "analysis"))
    assert _common.make_parser("x").parse_args([]).preset == "paper"
    assert _common.make_parser("x", default_preset="quick").parse_args([]).preset == "quick"
    with pytest.raises(ValueError, match="default_preset"):
        _common.make_parser("x", default_preset="full")


@pytest.mark.slow
def test_phase_diagram_quick(tmp_path):
    assert (
        main(
            [
                "figures",
                "phase_diagram",
                "--preset",
                "quick",
                "--root",
                str(CHECKOUT),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    for ext in ("png", "npz", "json"):  # a preset other than the script's default (paper) writes <stem>_<preset>
        assert (tmp_path / f"phase_diagram_quick.{ext}").is_file()
    with np.load(tmp_path / "phase_diagram_quick.npz") as d:
        assert all(np.isfinite(d[k]).all() for k in d.files)
        # At w ~ 5 the runs end apart between the folds (b in (-2.6556, -2.3444) at w = 5 exactly).
        j = np.argmin(np.abs(d["w"] - 5.0))
        lower = np.interp(d["w"][j], d["fold_w"], d["fold_b_lower"])
        upper = np.interp(d["w"][j], d["fold_w"], d["fold_b_upper"])
        b_bistable = d["b"][d["bistable"][:, j]]
        db = d["b"][1] - d["b"][0]
        assert lower - db < b_bistable.min() < lower + db
        assert upper - db < b_bistable.max() < upper + db
        # Nothing left of the cusp: period-2 orbits with opposite phases are not bistability.
        assert not d["bistable"][:, d["w"] < 3.5].any()


@pytest.mark.parametrize(("extra", "cell", "init", "leak"),
                         [([], "rnn", "smart_tanh", None), (["--cell", "gru"], "gru", "uniform", None),
                          (["--leak", "0.5", "--init", "basic_tanh"], "rnn", "basic_tanh", 0.5)])  # fmt: skip
def test_train_command_passes_cell_init_and_leak(tmp_path, capsys, extra, cell, init, leak):
    # without --method: train's default for the cell (MSGD-CR for the RNN, MSGD-C for a gated cell)
    from dynrnn.results.training import TrainResult

    out = tmp_path / "run.npz"
    argv = ["train", "--task", "temporal_order", "--length", "10", "--n-units", "4", "--batch-size", "4",
            "--max-updates", "2", "--eval-every", "2", "--out", str(out), *extra]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    method = "MSGD-CR" if cell == "rnn" else "MSGD-C"
    assert f"temporal_order length 10, {cell}, {init}" in printed and f", {method} " in printed
    assert "saved to" in printed
    config = TrainResult.load(out).config
    assert config["method"] == method
    assert (config.get("cell", "rnn"), config["init"], config.get("leak")) == (cell, init, leak)
