"""fit: learning on each dataset, the seed's output format, accumulation, schedules, NaN."""
import io
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad
from minigrad import nn, optim
from minigrad.optim import lr_scheduler
from minigrad.train import Checkpoint, NonFiniteLossError, evaluate, fit
from minigrad.train.factory import load_data, make_mlp
from minigrad.utils.data import DataLoader, TensorDataset


def _loader(X, y, batch_size=32, shuffle=True, seed=0):
    gen = minigrad.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(minigrad.tensor(X), minigrad.tensor(y)),
                      batch_size=batch_size, shuffle=shuffle, generator=gen)


@pytest.mark.parametrize("dataset,epochs,target", [
    ("linear2d", 30, 0.9), ("moons", 30, 0.85), ("circles", 60, 0.9), ("spirals", 80, 0.7)])
def test_fit_learns_each_dataset(dataset, epochs, target):
    X, y = load_data(dataset, n=400, seed=1)
    if dataset == "linear2d":
        X = (X - 5) / 3  # the seed's raw [0, 10) inputs learn slowly; scale for a short test
    model = make_mlp(2, [16, 16], 1)
    opt = optim.Adam(model.parameters(), lr=0.02)
    hist = fit(model, nn.BCELoss(), opt, _loader(X, y), epochs=epochs, verbose=False)
    assert len(hist) == epochs and hist.train_loss[-1] < hist.train_loss[0]
    acc = evaluate(model, nn.BCELoss(), _loader(X, y, 512, shuffle=False))["accuracy"]
    assert acc >= target, acc


def test_multiclass_with_cross_entropy_and_val():
    X, y = load_data("spirals", n=300, seed=0, classes=3)
    yi = y[:, 0].astype(np.int64)
    model = make_mlp(2, [32], 3)
    opt = optim.Adam(model.parameters(), lr=0.02)
    hist = fit(model, nn.CrossEntropyLoss(), opt, _loader(X, yi), epochs=40,
               val_loader=_loader(X, yi, 100, shuffle=False), verbose=False)
    assert hist.metrics["val_accuracy"][-1] > 0.6
    assert hist.val_loss[-1] < hist.val_loss[0]


def test_seed_format_lines_in_a_non_terminal():
    X, y = load_data("linear2d", n=200)
    out = io.StringIO()
    model = make_mlp(2, [10], 1)
    fit(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.01), _loader(X, y), epochs=3,
        file=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(rf"Epoch \[{k}/3\], Loss: \d\.\d{{4}}", line), line


def test_line_has_val_loss_accuracy_and_lr_when_present():
    X, y = load_data("moons", n=200)
    out = io.StringIO()
    model = make_mlp(2, [10], 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.BCELoss(), opt, _loader(X, y), epochs=2, file=out,
        val_loader=_loader(X, y, 64, False), scheduler=lr_scheduler.StepLR(opt, 1, gamma=0.5))
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"Epoch \[2/2\], Loss: \d\.\d{4}, Val Loss: \d\.\d{4}, "
                        r"Accuracy: \d\.\d{4}, LR: 0\.05", lines[1]), lines[1]


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_in_a_terminal():
    X, y = load_data("moons", n=64)
    out = _TTY()
    model = make_mlp(2, [4], 1)
    fit(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.1), _loader(X, y, 16), epochs=2,
        file=out)
    text = out.getvalue()
    assert "Epoch 1/2" in text and "4/4" in text and "Epoch [1/2]" not in text
    out = _TTY()
    fit(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.1), _loader(X, y, 16), epochs=1,
        file=out, progress=False)
    assert out.getvalue().startswith("Epoch [1/1], Loss: ")


def test_train_loss_is_the_seeds_mean_of_batch_losses():
    X, y = load_data("moons", n=100)
    model = make_mlp(2, [4], 1)
    opt = optim.SGD(model.parameters(), lr=0.0)  # weights never move: recompute by hand
    hist = fit(model, nn.BCELoss(), opt, _loader(X, y, 32, shuffle=False), epochs=1,
               verbose=False, log_every_step=True)
    expected = [nn.BCELoss()(model(minigrad.tensor(X[i:i + 32])),
                             minigrad.tensor(y[i:i + 32])).item() for i in range(0, 100, 32)]
    np.testing.assert_allclose(hist.step_losses[0], expected, rtol=1e-6)
    assert hist.train_loss[0] == pytest.approx(sum(expected) / 4, rel=1e-6)
    pred = model(minigrad.tensor(X)).detach().numpy() >= 0.5
    assert hist.metrics["accuracy"][0] == pytest.approx(np.mean(pred == (y >= 0.5)))


# ----- gradient accumulation ----------------------------------------------------------------

def _linear_model(seed):
    minigrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


@settings(max_examples=15, deadline=None)
@given(k=st.integers(1, 4), per=st.integers(1, 5), batches=st.integers(1, 3),
       seed=st.integers(0, 100))
def test_accumulating_k_micro_batches_equals_one_big_batch(k, per, batches, seed):
    B = k * per
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B * batches, 3)).astype(np.float32)
    y = rng.normal(size=(B * batches, 1)).astype(np.float32)
    big, small = _linear_model(seed), _linear_model(seed)
    for model, bs, acc in ((big, B, 1), (small, per, k)):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        fit(model, nn.MSELoss(), opt, _loader(X, y, bs, shuffle=False), epochs=2,
            accumulate=acc, verbose=False, metrics=())
    for (name, a), b in zip(big.state_dict().items(), small.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=2e-6, err_msg=name)


def test_trailing_partial_group_still_steps_with_its_own_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3)).astype(np.float32)
    y = rng.normal(size=(12, 1)).astype(np.float32)
    # 3 micro-batches of 4 with accumulate=2: one step over 8 samples, one over the last 4.
    acc_model, ref = _linear_model(1), _linear_model(1)
    from minigrad.train import FitState  # noqa: F401  (public)
    opt = optim.SGD(acc_model.parameters(), lr=0.1)
    hist_steps = []

    def count(_opt, *a):
        hist_steps.append(1)
    opt.register_step_post_hook(count)
    fit(acc_model, nn.MSELoss(), opt, _loader(X, y, 4, shuffle=False), epochs=1, accumulate=2,
        verbose=False, metrics=())
    assert len(hist_steps) == 2
    opt_ref = optim.SGD(ref.parameters(), lr=0.1)
    for sl in (slice(0, 8), slice(8, 12)):
        opt_ref.zero_grad()
        nn.MSELoss()(ref(minigrad.tensor(X[sl])), minigrad.tensor(y[sl])).backward()
        opt_ref.step()
    for a, b in zip(acc_model.state_dict().values(), ref.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


# ----- schedulers ---------------------------------------------------------------------------

def test_onecycle_is_stepped_per_batch_and_steplr_per_epoch():
    X, y = load_data("moons", n=96)
    model = make_mlp(2, [4], 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=3, steps_per_epoch=3)
    hist = fit(model, nn.BCELoss(), opt, _loader(X, y, 32), epochs=3, scheduler=sched,
               verbose=False, log_every_step=True)
    assert sched.last_epoch == 9  # 9 steps: stepping past total_steps would have raised
    flat = [lr for epoch in hist.step_lrs for lr in epoch]
    ref_opt = optim.SGD(make_mlp(2, [4], 1).parameters(), lr=0.1, momentum=0.9)
    ref = lr_scheduler.OneCycleLR(ref_opt, max_lr=0.5, total_steps=9)
    expected = []
    for _ in range(9):
        expected.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()
    np.testing.assert_allclose(flat, expected)

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    hist = fit(model, nn.BCELoss(), opt, _loader(X, y, 32), epochs=3, scheduler=sched,
               verbose=False)
    assert hist.lr == [0.1, 0.05, 0.025]


def test_plateau_gets_the_monitored_loss():
    X, y = load_data("moons", n=64)
    model = make_mlp(2, [4], 1)
    opt = optim.SGD(model.parameters(), lr=0.0)  # loss never changes -> plateau
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    seen = []
    orig = sched.step
    sched.step = lambda metrics=None, *a: (seen.append(metrics), orig(metrics))
    opt.param_groups[0]["lr"] = 0.0
    hist = fit(model, nn.BCELoss(), opt, _loader(X, y, 32, shuffle=False), epochs=3,
               scheduler=sched, val_loader=_loader(X, y, 64, False), verbose=False)
    assert seen == hist.val_loss


# ----- failures -----------------------------------------------------------------------------

def test_nan_loss_stops_with_epoch_and_step_and_keeps_old_checkpoint(tmp_path):
    X, y = load_data("moons", n=64)
    y_bad = y.copy()
    model = make_mlp(2, [4], 1, sigmoid_output=False)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ck = Checkpoint(tmp_path, monitor="train_loss")
    fit(model, nn.MSELoss(), opt, _loader(X, y, 16, shuffle=False), epochs=1, callbacks=[ck],
        verbose=False)
    before = (tmp_path / "last.safetensors").read_bytes()
    y_bad[37] = np.nan  # batch 3 (samples 32..47) of the first epoch of a fresh fit
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 3") as info:
        fit(model, nn.MSELoss(), opt, _loader(X, y_bad, 16, shuffle=False), epochs=2,
            callbacks=[ck], verbose=False)
    assert info.value.epoch == 1 and info.value.step == 3
    assert isinstance(info.value, RuntimeError)
    assert (tmp_path / "last.safetensors").read_bytes() == before


def test_bad_arguments():
    X, y = load_data("moons", n=16)
    model = make_mlp(2, [4], 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loader = _loader(X, y, 8)
    with pytest.raises(ValueError, match="accumulate"):
        fit(model, nn.BCELoss(), opt, loader, epochs=1, accumulate=0)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.BCELoss(), opt, loader, epochs=-1)
    with pytest.raises(ValueError, match="metric"):
        fit(model, nn.BCELoss(), opt, loader, epochs=1, metrics=("f1",))
    with pytest.raises(ValueError, match="clip_grad_norm"):
        fit(model, nn.BCELoss(), opt, loader, epochs=1, clip_grad_norm=0)


def test_clip_grad_norm_bounds_the_update():
    X, y = load_data("moons", n=32)
    model = make_mlp(2, [4], 1)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=1.0)
    fit(model, nn.BCELoss(), opt, _loader(X, y, 32), epochs=1, clip_grad_norm=1e-3,
        verbose=False)
    moved = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum()
                        for p, b in zip(model.parameters(), before)))
    assert 0 < moved <= 1e-3 * (1 + 1e-4)


def test_matches_the_seed_loop_in_torch():
    """The seed's experiment, same initial weights and batch order, replayed in torch: every
    epoch's average loss agrees to float rounding."""
    torch = pytest.importorskip("torch")
    X, y = load_data("linear2d", n=320)
    model = make_mlp(2, [10], 1)
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 10), torch.nn.ReLU(),
                                 torch.nn.Linear(10, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        for (name, p), tp in zip(model.state_dict().items(), tmodel.state_dict().values()):
            tp.copy_(torch.from_numpy(p.numpy().copy()))
    hist = fit(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.01),
               _loader(X, y, 32, shuffle=False), epochs=3, verbose=False)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
    crit = torch.nn.BCELoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for epoch in range(3):
        total = 0.0
        for i in range(0, 320, 32):
            topt.zero_grad()
            loss = crit(tmodel(Xt[i:i + 32]), yt[i:i + 32])
            loss.backward()
            topt.step()
            total += loss.item()
        assert hist.train_loss[epoch] == pytest.approx(total / 10, rel=1e-5)
    for p, tp in zip(model.state_dict().values(), tmodel.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), tp.numpy(), rtol=1e-4, atol=1e-6)


def test_fit_evaluate_and_checkpoint_on_device(device, tmp_path):
    X, y = load_data("moons", n=96)
    dev = minigrad.device(device)
    train = DataLoader(TensorDataset(minigrad.tensor(X), minigrad.tensor(y)), batch_size=32,
                       shuffle=True).to(dev)
    model = make_mlp(2, [8], 1, dropout=0.1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    hist = fit(model, nn.BCELoss(), opt, train, epochs=2, val_loader=train, device=device,
               callbacks=[Checkpoint(tmp_path)], verbose=False)
    assert len(hist) == 2 and next(model.parameters()).device == dev
    assert np.isfinite(hist.val_loss).all() and 0 <= hist.metrics["val_accuracy"][-1] <= 1
    saved = minigrad.load(tmp_path / "last.safetensors", map_location=device)
    assert saved["model"]["0.weight"].device == dev
    np.testing.assert_array_equal(saved["model"]["0.weight"].numpy(),
                                  model.state_dict()["0.weight"].numpy())


def test_loader_without_len_still_steps_the_trailing_group():
    rng = np.random.default_rng(0)
    batches = [(minigrad.tensor(rng.normal(size=(4, 3)).astype(np.float32)),
                minigrad.tensor(rng.normal(size=(4, 1)).astype(np.float32))) for _ in range(5)]

    class NoLen:
        def __iter__(self):
            return iter(batches)
    model = _linear_model(0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    steps = []
    opt.register_step_post_hook(lambda *a: steps.append(1))
    hist = fit(model, nn.MSELoss(), opt, NoLen(), epochs=2, accumulate=2, verbose=False,
               log_every_step=True, metrics=())
    assert len(steps) == 6 and [len(s) for s in hist.step_lrs] == [3, 3]
