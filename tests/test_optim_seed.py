"""The seed document's worked examples: one SGD step, the mini-batch mean gradient, updates per
epoch on a real DataLoader, and the linear scaling rule."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.utils.data import DataLoader, TensorDataset


def test_sgd_worked_example_0_995():
    # θ = 1.0, g = 0.5, η = 0.01 → 1.0 − 0.01·0.5 = 0.995
    theta = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([theta], lr=0.01)
    theta.grad = minigrad.tensor([0.5], dtype=minigrad.float64)
    opt.step()
    assert theta.item() == pytest.approx(0.995, abs=1e-15)


def _sample_loss(theta, x, y):
    """Per-sample squared error ½(θx − y)², whose gradient is (θx − y)·x."""
    r = theta * x - y
    return 0.5 * r * r


def test_minibatch_mean_gradient_gives_the_same_step():
    # Two samples with per-sample gradients 0.4 and 0.6 at θ = 1: (0.8 − 0.3)·0.8 = 0.4 and
    # (1.2 − 0.7)·1.2 = 0.6. The mean loss over the batch has the average gradient 0.5.
    x = minigrad.tensor([0.8, 1.2], dtype=minigrad.float64)
    y = minigrad.tensor([0.3, 0.7], dtype=minigrad.float64)
    per_sample = []
    for i in range(2):
        theta = minigrad.tensor(1.0, dtype=minigrad.float64, requires_grad=True)
        _sample_loss(theta, x[i], y[i]).backward()
        per_sample.append(theta.grad.item())
    assert per_sample == pytest.approx([0.4, 0.6], abs=1e-12)

    theta = minigrad.tensor(1.0, dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([theta], lr=0.01)
    _sample_loss(theta, x, y).mean().backward()
    assert theta.grad.item() == pytest.approx(0.5, abs=1e-12)
    opt.step()
    assert theta.item() == pytest.approx(0.995, abs=1e-12)


@pytest.mark.parametrize("n, batch, epochs, expected", [
    (1000, 100, 1, 10), (1000, 100, 5, 50), (1000, 32, 1, 32), (10, 3, 2, 8)])
def test_updates_per_epoch_is_ceil_n_over_b(n, batch, epochs, expected):
    assert math.ceil(n / batch) * epochs == expected
    rng = np.random.default_rng(0)
    X = minigrad.tensor(rng.normal(size=(n, 2)))
    y = minigrad.tensor(rng.normal(size=(n, 1)))
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True)
    W = minigrad.zeros((1, 2), requires_grad=True)
    opt = optim.SGD([W], lr=0.01)
    seen = 0
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((minigrad.linear(xb, W) - yb) ** 2).mean()
            loss.backward()
            opt.step()
            seen += xb.shape[0]
    assert opt._step_count == expected
    assert seen == n * epochs  # the last, smaller batch of each epoch is kept


def test_linear_scaling_rule():
    assert optim.scale_lr(0.1, 256, 256) == pytest.approx(0.1)
    assert optim.scale_lr(0.1, 1024, 256) == pytest.approx(0.4)
    assert optim.scale_lr(0.01, 32, 128) == pytest.approx(0.0025)


@pytest.mark.parametrize("args, exc", [
    ((0.0, 32, 256), ValueError), ((-0.1, 32, 256), ValueError), ((0.1, 0, 256), ValueError),
    ((0.1, 32, -1), ValueError), ((float("nan"), 32, 256), ValueError),
    (("0.1", 32, 256), TypeError), ((0.1, None, 256), TypeError), ((0.1, True, 256), TypeError)])
def test_scale_lr_rejects_bad_values(args, exc):
    with pytest.raises(exc, match="scale_lr"):
        optim.scale_lr(*args)
