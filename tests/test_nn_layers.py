"""Layers: Linear (shape, torch's default init, torch parity), activations, Dropout."""
import math

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.autograd import gradcheck


def t64(a, grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_linear_shapes_and_default_init_bounds():
    m = nn.Linear(50, 40)
    assert m.weight.shape == (40, 50) and m.bias.shape == (40,)
    assert m.weight.dtype == minigrad.float32 and m.weight.requires_grad
    bound = 1 / math.sqrt(50)
    for p in (m.weight, m.bias):
        a = p.detach().numpy()
        assert np.all(np.abs(a) <= bound)
    w = m.weight.detach().numpy()
    # U(±b) has std b/√3; 2000 draws pin it to a few percent.
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_init_is_seeded():
    minigrad.manual_seed(11)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    minigrad.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.detach().numpy(), a)
    assert not np.array_equal(nn.Linear(4, 3).weight.detach().numpy(), a)


def test_linear_default_init_matches_torch_distribution():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tw = torch.nn.Linear(64, 64).weight.detach().numpy()
    ow = nn.Linear(64, 64).weight.detach().numpy()
    # Same law U(±1/8): equal range and equal spread (a two-sample check on moments).
    assert abs(tw.max() - ow.max()) < 0.01 and abs(tw.min() - ow.min()) < 0.01
    assert abs(tw.std() - ow.std()) < 0.005


def test_linear_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(5, 3)
    m = nn.Linear(5, 3)
    m.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    tl(xt).sum().backward()
    xm = minigrad.tensor(x, requires_grad=True)
    out = m(xm)
    out.sum().backward()
    with torch.no_grad():
        np.testing.assert_allclose(out.detach().numpy(), tl(xt).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(m.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=1e-5)


def test_linear_gradcheck_in_float64():
    m = nn.Linear(3, 2).double()
    x = t64(np.random.default_rng(1).normal(size=(4, 3)), True)
    assert gradcheck(lambda a, w, b: nn.functional.linear(a, w, b), (x, m.weight, m.bias))
    assert gradcheck(m, (x,))
    assert m(minigrad.randn(2, 5, 3, dtype=minigrad.float64)).shape == (2, 5, 2)


def test_linear_rejects_bad_shapes_and_features():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 2\)"):
        nn.Linear(2, 2)(minigrad.randn(4, 3))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(2, 1.5)
    assert nn.Linear(np.int64(3), np.int32(2)).weight.shape == (2, 3)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh(),
                                   nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Identity(),
                                   nn.Flatten(0)])
def test_activation_modules_gradcheck(layer):
    x = np.random.default_rng(2).normal(size=(3, 4))
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # away from the relu kink
    assert gradcheck(layer, (t64(x, True),))


@pytest.mark.parametrize("name,kw", [("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.3}),
                                     ("Sigmoid", {}), ("Tanh", {}), ("Softmax", {"dim": 1}),
                                     ("LogSoftmax", {"dim": 0})])
def test_activation_modules_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(0, 3, (4, 5))
    ours = getattr(nn, name)(**kw)(t64(x)).numpy()
    theirs = getattr(torch.nn, name)(**kw)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert repr(getattr(nn, name)(**kw)) == repr(getattr(torch.nn, name)(**kw))


def test_dropout_module_train_and_eval():
    d = nn.Dropout(0.25)
    x = minigrad.ones(200, 50)
    y = d(x).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.05  # scaling keeps the expectation
    d.eval()
    assert d(x) is x
    assert repr(d) == "Dropout(p=0.25, inplace=False)"
    for bad in (-0.5, 1.5, float("nan"), "0.5", None):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
    assert nn.Dropout(np.float32(0.5)).p == 0.5


def test_dropout_is_seeded_and_gradient_flows():
    x = t64(np.ones((5, 6)), True)
    minigrad.manual_seed(4)
    a = nn.Dropout(0.5)(x)
    minigrad.manual_seed(4)
    b = nn.Dropout(0.5)(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a.detach().numpy())
