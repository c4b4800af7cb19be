"""``minigrad schedule``: the table it prints is the schedule simulate() computes, every short
name works, bad input is one line and exit 2, --plot writes a PNG (or hints without
matplotlib)."""
import math
import subprocess
import sys

import pytest

from minigrad.cli import main
from minigrad.cli.schedule import SCHEDULES


def table(out):
    """The numeric rows of the printed table: [[step, lr, ...], ...]."""
    rows = [line.split() for line in out.splitlines() if line and not line.startswith("#")]
    return [[float(v) for v in r] for r in rows[1:]], rows[0]


def test_cyclic_table_matches_the_formula(capsys):
    assert main(["schedule", "cyclic", "--steps", "20", "--base-lr", "0.001", "--max-lr", "0.01",
                 "--step-size-up", "5"]) == 0
    rows, header = table(capsys.readouterr().out)
    assert header == ["step", "lr", "momentum"]
    assert [r[0] for r in rows] == list(range(20))
    for step, lr, momentum in rows:
        x = 1 - abs(step % 10 - 5) / 5  # triangle: 0 at the cycle's ends, 1 in its middle
        assert math.isclose(lr, 0.001 + 0.009 * x, rel_tol=1e-7)
        assert math.isclose(momentum, 0.9 - 0.1 * x, rel_tol=1e-7)


@pytest.mark.parametrize("argv,first,last", [
    (["step", "--step-size", "3", "--gamma", "0.5"], 0.1, 0.1 * 0.5 ** 3),
    (["multistep", "--milestones", "2", "5"], 0.1, 0.1 * 0.01),
    (["constant"], 0.1 / 3, 0.1),
    (["linear", "--start-factor", "0.5", "--total-iters", "4"], 0.05, 0.1),
    (["exponential", "--gamma", "0.9"], 0.1, 0.1 * 0.9 ** 9),
    (["polynomial", "--total-iters", "20", "--power", "2"], 0.1, 0.1 * (1 - 9 / 20) ** 2),
    (["cosine", "--t-max", "9"], 0.1, 0.0),
    (["cosine-restarts", "--t0", "4"], 0.1, 0.1 * (1 + math.cos(math.pi / 4)) / 2),
    (["onecycle", "--max-lr", "1"], 1 / 25, 1 / 25 / 1e4),
    (["warmup-cosine", "--warmup", "2"], 0.01, 0.1 * (1 + math.cos(math.pi * 7 / 8)) / 2),
    (["plateau", "--patience", "1", "--metrics"] + ["1"] * 10, 0.1, 0.1 * 0.1 ** 4),
])
def test_every_short_name(capsys, argv, first, last):
    assert main(["schedule", argv[0], "--steps", "10"] + argv[1:]) == 0
    rows, _ = table(capsys.readouterr().out)
    assert len(rows) == 10
    assert math.isclose(rows[0][1], first, rel_tol=1e-7, abs_tol=1e-12)
    assert math.isclose(rows[-1][1], last, rel_tol=1e-7, abs_tol=1e-12)


def test_all_names_are_tested():
    assert set(SCHEDULES) == {"step", "multistep", "constant", "linear", "exponential",
                              "polynomial", "cosine", "cosine-restarts", "cyclic", "onecycle",
                              "warmup-cosine", "plateau"}


def test_plateau_synthetic_metric_and_every(capsys):
    assert main(["schedule", "plateau", "--steps", "30", "--patience", "2", "--every", "3"]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out
    rows, header = table(out)
    assert header == ["step", "lr", "metric"] and [r[0] for r in rows] == list(range(0, 30, 3))
    assert rows[0][1] == 0.1 and rows[-1][1] < 0.1  # the flat part cut the lr


@pytest.mark.parametrize("argv,message", [
    (["nope", "--steps", "3"], "invalid choice: 'nope'"),
    (["step", "--steps", "3"], "--step-size"),                       # required flag
    (["cosine", "--steps", "3", "--gamma", "2"], "--gamma"),          # not cosine's flag
    (["step", "--steps", "3", "--step-size", "0"], "step_size >= 1, but got 0"),
    (["step", "--steps", "x", "--step-size", "2"], "'x'"),
    (["step", "--steps", "0", "--step-size", "2"], "--steps must be at least 1, got 0"),
    (["cyclic", "--steps", "3", "--base-lr", "0.1", "--max-lr", "1", "--mode", "sine"], "sine"),
    (["plateau", "--steps", "5", "--metrics", "1", "2"], "2 values for --steps 5"),
    (["plateau", "--steps", "5", "--factor", "2"], "factor < 1, but got 2.0"),
    (["onecycle", "--steps", "5", "--max-lr", "1", "--total-steps", "3"], "Tried to step 4"),
    (["warmup-cosine", "--steps", "5", "--warmup", "5"], "total > warmup"),
    (["step", "--steps", "3", "--step-size", "2", "--plot", "/no/such/dir/lr.png"],
     "does not exist"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    assert main(["schedule"] + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "lr.png"
    assert main(["schedule", "onecycle", "--steps", "50", "--max-lr", "0.1", "--plot",
                 str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {path}" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["lr.png"]  # no temporary left behind


def test_plot_without_matplotlib_hints(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    path = tmp_path / "lr.png"
    assert main(["schedule", "exponential", "--steps", "5", "--gamma", "0.5", "--plot",
                 str(path)]) == 0
    out, err = capsys.readouterr()
    assert "hint: --plot needs matplotlib" in err and not path.exists()
    assert len(table(out)[0]) == 5


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "minigrad", "schedule", "step", "--steps", "4",
                          "--step-size", "2", "--gamma", "0.5", "--lr", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [r[1] for r in table(out.stdout)[0]] == [1.0, 1.0, 0.5, 0.5]
