"""The train / compare / lr-find commands end to end, through a real subprocess."""
import json
import re
import subprocess
import sys

import pytest

import minigrad


def _cli(cwd, *args, ok=True):
    proc = subprocess.run([sys.executable, "-m", "minigrad", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_no_arguments_runs_the_seed_experiment(tmp_path):
    out = _cli(tmp_path, "train").stdout.splitlines()
    assert len(out) == 52
    for k, line in enumerate(out[:50], 1):
        assert re.fullmatch(rf"Epoch \[{k}/50\], Loss: \d\.\d{{4}}", line), line
    losses = [float(line.rsplit(" ", 1)[1]) for line in out[:50]]
    assert losses[-1] < losses[0] - 0.2
    acc = re.fullmatch(r"Final Accuracy: (\d\.\d{4})", out[50])
    assert acc and float(acc.group(1)) > 0.85
    assert out[51] == "Run saved to runs/linear2d-1"
    run = tmp_path / "runs" / "linear2d-1"
    assert {p.name for p in run.iterdir()} == {
        "history.json", "loss.chartjs.json", "loss.png", "last.safetensors",
        "best.safetensors", "config.json"}
    hist = json.loads((run / "history.json").read_text())
    assert [round(v, 4) for v in hist["train_loss"]] == losses
    chart = json.loads((run / "loss.chartjs.json").read_text())
    assert chart["data"]["labels"] == list(range(1, 51))
    assert chart["data"]["datasets"][0]["label"] == "Training Loss"
    _png(run / "loss.png")
    ckpt = minigrad.load(run / "last.safetensors")
    assert ckpt["epoch"] == 50 and ckpt["extra"]["config"]["optimizer"] == "sgd"


def test_flags_val_split_schedule_and_second_run_dir(tmp_path):
    args = ["train", "--dataset", "moons", "--hidden", "16,16", "--optimizer", "adam",
            "--lr", "0.01", "--epochs", "4", "--batch-size", "16", "--val-split", "0.25",
            "--scheduler", "cosine", "--warmup", "1", "--early-stopping", "3",
            "--accumulate", "2", "--clip-grad-norm", "1.0", "--samples", "200",
            "--dropout", "0.1"]
    out = _cli(tmp_path, *args).stdout.splitlines()
    assert re.fullmatch(r"Epoch \[1/4\], Loss: \d\.\d{4}, Val Loss: \d\.\d{4}, "
                        r"Accuracy: \d\.\d{4}, LR: [\d.e-]+", out[0]), out[0]
    assert out[-3].startswith("Final Accuracy: ") and out[-2].startswith("Val Accuracy: ")
    assert out[-1] == "Run saved to runs/moons-1"
    assert _cli(tmp_path, *args).stdout.splitlines()[-1] == "Run saved to runs/moons-2"


def test_resume_continues_exactly(tmp_path):
    common = ["--dataset", "circles", "--samples", "160", "--optimizer", "adam",
              "--scheduler", "step", "--step-size", "1", "--gamma", "0.8", "--dropout", "0.2",
              "--quiet"]
    _cli(tmp_path, "train", *common, "--epochs", "4", "--out", "full")
    _cli(tmp_path, "train", *common, "--epochs", "2", "--out", "part")
    _cli(tmp_path, "train", "--resume", "part/last.safetensors", "--epochs", "4", "--quiet",
         "--out", "resumed")
    full = json.loads((tmp_path / "full" / "history.json").read_text())
    resumed = json.loads((tmp_path / "resumed" / "history.json").read_text())
    full.pop("time"), resumed.pop("time")
    assert full == resumed and full["epoch"] == [1, 2, 3, 4]
    a = minigrad.load(tmp_path / "full" / "last.safetensors")["model"]
    b = minigrad.load(tmp_path / "resumed" / "last.safetensors")["model"]
    assert all(a[k].numpy().tobytes() == b[k].numpy().tobytes() for k in a)


@pytest.mark.parametrize("args,match", [
    (["train", "--bogus"], "unrecognized arguments"),
    (["train", "--optimizer", "lion"], "invalid choice: 'lion'"),
    (["train", "--dataset", "mnist"], "invalid choice"),
    (["train", "--hidden", "10,x"], "--hidden"),
    (["train", "--lr", "-1"], "--lr must be > 0"),
    (["train", "--epochs", "0"], "--epochs must be >= 1"),
    (["train", "--resume", "nope.safetensors"], "no such file"),
    (["train", "--device", "tpu"], "--device must be cpu or cuda"),
    (["train", "--scheduler", "onecycle", "--warmup", "2"], "--warmup"),
    (["compare", "--optimizers", "sgd,lion"], "unknown optimizer 'lion'"),
    (["compare", "--lrs", "0.1,abc"], "--lrs"),
    (["lr-find", "--num-iter", "1"], "num_iter"),
])
def test_errors_are_one_line_without_traceback(tmp_path, args, match):
    proc = _cli(tmp_path, *args, ok=False)
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert match in err


def test_device_cuda_without_a_gpu(tmp_path):
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    proc = _cli(tmp_path, "train", "--device", "cuda", ok=False)
    assert proc.returncode == 2 and "no CUDA GPU" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_corrupt_or_foreign_resume_file(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04garbage")
    proc = _cli(tmp_path, "train", "--resume", "bad.safetensors", ok=False)
    assert proc.returncode != 0 and "pickle" in proc.stderr and "Traceback" not in proc.stderr
    _cli(tmp_path, "train", "--epochs", "1", "--samples", "64", "--quiet", "--out", "r")
    data = bytearray((tmp_path / "r" / "last.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (tmp_path / "r" / "last.safetensors").write_bytes(bytes(data))
    proc = _cli(tmp_path, "train", "--resume", "r/last.safetensors", ok=False)
    assert proc.returncode != 0 and "checksum" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    minigrad.save({"w": minigrad.ones(1)}, tmp_path / "weights.safetensors")
    proc = _cli(tmp_path, "train", "--resume", "weights.safetensors", ok=False)
    assert "not a training checkpoint" in proc.stderr
    proc = _cli(tmp_path, "train", "--resume", "r/best.safetensors", "--hidden", "12", ok=False)
    assert "--hidden" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_command(tmp_path):
    out = _cli(tmp_path, "compare", "--optimizers", "sgd,adam", "--lrs", "0.01,0.1",
               "--epochs", "2", "--samples", "120").stdout.splitlines()
    assert out[0].split()[:3] == ["config", "optimizer", "lr"]
    assert [line.split()[0] for line in out[2:6]] == ["sgd", "sgd", "adam", "adam"]
    assert out[-1] == "Results saved to runs/compare-1"
    _png(tmp_path / "runs" / "compare-1" / "compare.png")
    hist = json.loads((tmp_path / "runs" / "compare-1" / "histories.json").read_text())
    assert sorted(hist) == ["adam lr=0.01", "adam lr=0.1", "sgd lr=0.01", "sgd lr=0.1"]


def test_compare_batch_sizes_with_scaling(tmp_path):
    out = _cli(tmp_path, "compare", "--optimizers", "sgd", "--batch-sizes", "16,64",
               "--scale-lr", "--epochs", "1", "--samples", "128", "--out", "o").stdout
    assert re.search(r"sgd bs=64\s+sgd\s+0\.04\s+64", out), out


def test_lr_find_command(tmp_path):
    out = _cli(tmp_path, "lr-find", "--dataset", "moons", "--optimizer", "adam",
               "--num-iter", "40", "--samples", "200").stdout.splitlines()
    assert out[0].startswith("LR range test (adam, ")
    assert re.fullmatch(r"Suggested lr: [\d.e+-]+", out[1]), out[1]
    _png(tmp_path / "runs" / "lr-find-1" / "lr_find.png")


def test_without_matplotlib_a_one_line_hint_replaces_the_plot(tmp_path, monkeypatch, capsys):
    from minigrad.cli import main
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    assert main(["train", "--epochs", "2", "--samples", "64", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "(no plot: matplotlib is not installed; install it for PNG plots: " \
        "pip install 'minigrad[plot]')"
    assert not (tmp_path / "r" / "loss.png").exists()
    assert (tmp_path / "r" / "history.json").exists()


def test_non_finite_loss_is_a_one_line_error(tmp_path):
    # Adam with an absurd lr: weights ~1e30, the second layer overflows to inf - inf = nan.
    proc = _cli(tmp_path, "train", "--optimizer", "adam", "--lr", "1e30", "--epochs", "3",
                "--dataset", "moons", "--hidden", "10,10", "--samples", "64", "--quiet",
                "--out", "r", ok=False)
    assert proc.returncode == 2
    assert "loss is nan" in proc.stderr.lower() and "epoch 1, step" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "r" / "history.json").exists()
    assert not (tmp_path / "r" / "last.safetensors").exists()
