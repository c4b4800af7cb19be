"""Exact resume: 10 epochs in one go == 4 epochs, checkpoint, a NEW process loads it, 6 more.

Shuffling, dropout and a schedule are all in play; weights and History (except wall times) must
be bit-identical.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import minigrad
    from minigrad import nn, optim
    from minigrad.optim import lr_scheduler
    from minigrad.utils.data import DataLoader, TensorDataset
    from minigrad.train import Checkpoint, EarlyStopping, fit

    mode, variant, ckdir, out = sys.argv[1:5]
    total = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    X, y = minigrad.datasets.moons(n=160, seed=3)
    Xv, yv = minigrad.datasets.moons(n=64, seed=4)
    # A resumed process starts from a different seed: everything must come from the file.
    minigrad.manual_seed(11 if mode == "resume" else 7)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    own_gen = variant == "own_generator"
    gen = minigrad.Generator().manual_seed(5 if mode != "resume" else 99) if own_gen else None
    train = DataLoader(TensorDataset(minigrad.tensor(X), minigrad.tensor(y)), batch_size=16,
                       shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(minigrad.tensor(Xv), minigrad.tensor(yv)), batch_size=32)
    if own_gen:
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.3, epochs=10, steps_per_epoch=len(train))
    else:
        opt = optim.Adam(model.parameters(), lr=0.02)
        sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    callbacks = [EarlyStopping(patience=50), Checkpoint(ckdir, every_n_epochs=2)]
    epochs = 4 if mode == "part" else total
    hist = fit(model, nn.BCEWithLogitsLoss(), opt, train, epochs=epochs, val_loader=val,
               scheduler=sched, callbacks=callbacks, log_every_step=True, verbose=False,
               resume=ckdir + "/last.safetensors" if mode == "resume" else None)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(out + ".npz", **state)
    d = hist.to_dict()
    d.pop("time")
    d["global_rng"] = minigrad.random.get_rng_state()
    with open(out + ".json", "w") as f:
        json.dump(d, f)
""")


def _run(tmp_path, *args):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    proc = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("variant", ["global_generator", "own_generator"])
def test_resume_in_a_new_process_is_bit_identical(tmp_path, variant):
    _run(tmp_path, "full", variant, tmp_path / "ck_full", tmp_path / "full")
    _run(tmp_path, "part", variant, tmp_path / "ck_part", tmp_path / "part")
    _run(tmp_path, "resume", variant, tmp_path / "ck_part", tmp_path / "resumed")

    full = np.load(tmp_path / "full.npz")
    resumed = np.load(tmp_path / "resumed.npz")
    part = np.load(tmp_path / "part.npz")
    assert sorted(full.files) == sorted(resumed.files)
    for k in full.files:
        assert full[k].tobytes() == resumed[k].tobytes(), k
    assert any(full[k].tobytes() != part[k].tobytes() for k in full.files)  # 6 epochs did work

    h_full = json.loads((tmp_path / "full.json").read_text())
    h_resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert h_full["epoch"] == list(range(1, 11))
    assert h_full == h_resumed
    # The checkpoint a full run writes at epoch 10 equals the resumed run's.
    import minigrad
    a = minigrad.load(tmp_path / "ck_full" / "last.safetensors")
    b = minigrad.load(tmp_path / "ck_part" / "last.safetensors")
    assert a["epoch"] == b["epoch"] == 10 and a["global_step"] == b["global_step"]
    assert a["rng"] == b["rng"]


def test_training_killed_at_a_random_moment_resumes_to_the_same_weights(tmp_path):
    """SIGKILL a fit that checkpoints every epoch (atomically, twice per epoch), then resume
    from whatever last.safetensors holds: the result equals an uninterrupted run."""
    import signal
    import time
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    ckdir = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), "full", "global_generator",
                             str(ckdir), str(tmp_path / "never"), "60"])
    try:
        deadline = time.time() + 60
        while not (ckdir / "last.safetensors").exists() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.15)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    import minigrad
    killed_at = minigrad.load(ckdir / "last.safetensors")["epoch"]
    assert 1 <= killed_at <= 60
    _run(tmp_path, "resume", "global_generator", ckdir, tmp_path / "resumed", 60)
    _run(tmp_path, "full", "global_generator", tmp_path / "ck_full", tmp_path / "full", 60)
    full, resumed = np.load(tmp_path / "full.npz"), np.load(tmp_path / "resumed.npz")
    for k in full.files:
        assert full[k].tobytes() == resumed[k].tobytes(), (k, killed_at)
    h_full = json.loads((tmp_path / "full.json").read_text())
    assert h_full == json.loads((tmp_path / "resumed.json").read_text())
