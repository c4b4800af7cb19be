"""lr_find: the lr schedule, smoothing, divergence stop, suggestion, and exact restoration."""
import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.train import lr_find
from minigrad.train.factory import load_data, make_mlp
from minigrad.train.lr_finder import lr_schedule, suggest
from minigrad.utils.data import DataLoader, TensorDataset


def _setup(n=128, gen=True, sigmoid=True):
    X, y = load_data("moons", n=n)
    g = minigrad.Generator().manual_seed(3) if gen else None
    loader = DataLoader(TensorDataset(minigrad.tensor(X), minigrad.tensor(y)), batch_size=16,
                        shuffle=True, generator=g)
    model = make_mlp(2, [16], 1, dropout=0.1, sigmoid_output=sigmoid)
    return model, loader


def _state(model, opt, loader):
    w = {k: v.numpy().tobytes() for k, v in model.state_dict().items()}
    o = opt.state_dict()
    o_state = {i: {k: (v.numpy().tobytes() if hasattr(v, "numpy") else v)
                   for k, v in s.items()} for i, s in o["state"].items()}
    gen = loader.generator.get_state() if loader.generator is not None else None
    return w, o_state, o["param_groups"], minigrad.random.get_rng_state(), gen


def test_restores_model_optimizer_and_rng_exactly():
    model, loader = _setup()
    opt = optim.Adam(model.parameters(), lr=0.003)
    # Give the optimizer some state first, so restoring it is not trivially "empty".
    loss = nn.BCELoss()(model(next(iter(loader))[0]), next(iter(loader))[1])
    loss.backward()
    opt.step()
    model.eval()
    before = _state(model, opt, loader)
    result = lr_find(model, nn.BCELoss(), opt, loader, num_iter=50)
    assert _state(model, opt, loader) == before
    assert not model.training
    assert len(result.lrs) >= 10 and all(p.grad is None for p in model.parameters())


def test_restores_even_when_the_loss_blows_up():
    model, loader = _setup(gen=False, sigmoid=False)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = _state(model, opt, loader)
    result = lr_find(model, nn.MSELoss(), opt, loader, start_lr=1e-3, end_lr=1e6,
                     num_iter=100)
    assert result.diverged and len(result.lrs) < 100
    assert _state(model, opt, loader) == before


def test_lr_schedule_exp_and_linear():
    np.testing.assert_allclose(lr_schedule(1e-4, 1.0, 5, "exp"), [1e-4, 1e-3, 1e-2, 1e-1, 1])
    np.testing.assert_allclose(lr_schedule(0.0 + 1, 3.0, 3, "linear"), [1, 2, 3])


def test_recorded_lrs_and_smoothing():
    model, loader = _setup()
    opt = optim.SGD(model.parameters(), lr=0.1)
    r = lr_find(model, nn.BCELoss(), opt, loader, start_lr=1e-5, end_lr=1e-2, num_iter=20,
                smooth_f=0.2, diverge_th=1e9)
    np.testing.assert_allclose(r.lrs, lr_schedule(1e-5, 1e-2, 20, "exp"))
    s = [r.losses[0]]
    for v in r.losses[1:]:
        s.append(0.2 * v + 0.8 * s[-1])
    np.testing.assert_allclose(r.smoothed, s)


def test_suggestion_is_the_steepest_descent_ignoring_the_ends():
    lrs = np.logspace(-6, 1, 60).tolist()
    x = np.log10(lrs)
    # A smooth curve falling fastest at lr = 1e-2, with junk at both ends to be ignored.
    loss = (1 - np.tanh(3 * (x + 2))).tolist()
    loss[:5] = [-10.0, 10.0, -10.0, 10.0, -10.0]
    loss[-3:] = [-50.0, 50.0, -50.0]
    s = suggest(lrs, loss, "exp")
    assert 10 ** -2.2 < s < 10 ** -1.8
    assert suggest(lrs[:2], loss[:2]) is None
    assert suggest(lrs, [float("nan")] * 60) is None


@pytest.mark.parametrize("kwargs", [{"start_lr": 1.0, "end_lr": 0.1}, {"num_iter": 1},
                                    {"step_mode": "cos"}, {"smooth_f": 1.0},
                                    {"diverge_th": 1.0}])
def test_bad_arguments(kwargs):
    model, loader = _setup()
    with pytest.raises(ValueError):
        lr_find(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.1), loader, **kwargs)


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from test_train_history import assert_png
    model, loader = _setup()
    r = lr_find(model, nn.BCELoss(), optim.SGD(model.parameters(), lr=0.1), loader,
                num_iter=40)
    r.plot(tmp_path / "lr.png")
    assert_png(tmp_path / "lr.png")
