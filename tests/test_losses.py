"""Loss functions and modules: the formulas written out here, finite differences, and torch."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def t64(a, grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def value_and_grad(fn, x, *args, **kw):
    """fn(x, ...) and d(sum of its output)/dx, as NumPy."""
    x = t64(x, grad=True)
    out = fn(x, *args, **kw)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def torch_value_and_grad(name, x, *args, **kw):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    targs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out = getattr(torch.nn.functional, name)(xt, *targs, **tkw)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


# ----- BCE -------------------------------------------------------------------------------------
def bce_formula(p, y):
    with np.errstate(divide="ignore"):
        return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


probs = hnp.arrays(np.float64, st.integers(1, 12),
                   elements=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)))


@given(probs, st.data(), st.sampled_from(REDUCTIONS))
def test_bce_matches_formula_including_endpoints(p, data, reduction):
    y = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(0, 1)))
    loss, grad = value_and_grad(F.binary_cross_entropy, p, t64(y), reduction=reduction)
    per = bce_formula(p, y)
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)
    scale = 1 / p.size if reduction == "mean" else 1.0
    eps = float(np.float32(1e-12))  # torch's EPSILON is a C float
    np.testing.assert_allclose(grad, scale * (p - y) / np.maximum(p * (1 - p), eps),
                               rtol=1e-12)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))


def test_bce_saturated_values_are_finite():
    loss, grad = value_and_grad(F.binary_cross_entropy, [0.0, 1.0, 0.0, 1.0],
                                t64([1.0, 0.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss, [100, 100, 0, 0])
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction):
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 1, 10), [0.0, 1.0, 1e-9, 1 - 1e-9]])
    y = np.concatenate([rng.uniform(0, 1, 10), [1.0, 0.0, 0.0, 1.0]])
    w = rng.uniform(0.5, 2, p.shape)
    ours = value_and_grad(F.binary_cross_entropy, p, t64(y), weight=t64(w), reduction=reduction)
    theirs = torch_value_and_grad("binary_cross_entropy", p, y, weight=w, reduction=reduction)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bce_float32_module_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 1, (32, 1)).astype(np.float32)
    y = (rng.uniform(0, 1, (32, 1)) > 0.5).astype(np.float32)
    x = minigrad.tensor(p, requires_grad=True)
    loss = nn.BCELoss()(x, minigrad.tensor(y))
    loss.backward()
    xt = torch.tensor(p, requires_grad=True)
    lt = torch.nn.BCELoss()(xt, torch.tensor(y))
    lt.backward()
    assert loss.dtype == minigrad.float32
    np.testing.assert_allclose(loss.item(), lt.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_bce_gradcheck():
    rng = np.random.default_rng(5)
    p = t64(rng.uniform(0.05, 0.95, (3, 2)), grad=True)
    y = t64(rng.uniform(0, 1, (3, 2)), grad=True)
    w = t64(rng.uniform(0.5, 2, (3, 2)))
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction), (p, y))


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bce_rejects_values_outside_unit_interval(bad):
    p = minigrad.tensor([0.5, bad, 0.2])
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(p, minigrad.zeros(3))


@pytest.mark.parametrize("bad", [-0.5, 2.0, float("nan")])
def test_bce_rejects_targets_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"target should be between 0 and 1 \(found"):
        nn.BCELoss()(minigrad.full((3,), 0.5), minigrad.tensor([0.0, bad, 1.0]))


def test_bce_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(32,\).*\(32, 1\)"):
        nn.BCELoss()(minigrad.rand(32, 1), minigrad.rand(32))


def test_weights_must_broadcast_to_the_input():
    with pytest.raises(ValueError, match=r"weight of shape \(3,\).*\(4, 2\)"):
        F.binary_cross_entropy(minigrad.rand(4, 2), minigrad.rand(4, 2), weight=minigrad.ones(3))
    with pytest.raises(ValueError, match="pos_weight"):
        nn.BCEWithLogitsLoss(pos_weight=minigrad.ones(5))(minigrad.rand(4, 2), minigrad.rand(4, 2))
    out = F.binary_cross_entropy(minigrad.rand(4, 2), minigrad.rand(4, 2), weight=[1.0, 2.0],
                                 reduction="none")
    assert out.shape == (4, 2)


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="'avg'"):
        nn.BCELoss(reduction="avg")
    with pytest.raises(ValueError, match="'avg'"):
        F.mse_loss(minigrad.ones(2), minigrad.ones(2), reduction="avg")


# ----- BCE with logits -------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_matches_torch(reduction, with_pos_weight):
    rng = np.random.default_rng(6)
    x = rng.normal(0, 3, (5, 3))
    y = rng.uniform(0, 1, (5, 3))
    kw = dict(weight=rng.uniform(0.5, 2, (3,)), reduction=reduction)
    if with_pos_weight:
        kw["pos_weight"] = rng.uniform(0.5, 3, (3,))
    ours = value_and_grad(F.binary_cross_entropy_with_logits, x, t64(y),
                          **{k: (t64(v) if isinstance(v, np.ndarray) else v)
                             for k, v in kw.items()})
    theirs = torch_value_and_grad("binary_cross_entropy_with_logits", x, y, **kw)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bce_with_logits_gradient_is_sigmoid_minus_target():
    x = np.array([-3.0, 0.0, 0.5, 4.0])
    y = np.array([0.0, 1.0, 0.3, 1.0])
    _, g = value_and_grad(F.binary_cross_entropy_with_logits, x, t64(y), reduction="sum")
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x)) - y, rtol=1e-12)


def test_bce_with_logits_stable_at_huge_logits():
    x = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss, g = value_and_grad(F.binary_cross_entropy_with_logits, x, t64(y), reduction="none")
    np.testing.assert_allclose(loss, [1e4, 1e4, 0, 0])
    np.testing.assert_allclose(g, [1, -1, 0, 0])
    torch = pytest.importorskip("torch")
    lt, gt = torch_value_and_grad("binary_cross_entropy_with_logits", x, y, reduction="none")
    np.testing.assert_allclose(loss, lt)
    np.testing.assert_allclose(g, gt)


def test_bce_with_logits_gradcheck():
    rng = np.random.default_rng(7)
    x = t64(rng.normal(0, 2, (3, 2)), grad=True)
    y = t64(rng.uniform(0, 1, (3, 2)), grad=True)
    pw = t64(rng.uniform(0.5, 2, (2,)))
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw),
                     (x, y))
    assert gradcheck(lambda a, b: nn.BCEWithLogitsLoss(reduction="none")(a, b), (x, y))


# ----- cross entropy and NLL ---------------------------------------------------------------
def log_softmax_np(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2)])
def test_cross_entropy_matches_torch(reduction, smoothing, weighted, shape):
    rng = np.random.default_rng(8)
    x = rng.normal(0, 2, shape)
    tshape = (shape[0],) + shape[2:]
    t = rng.integers(0, shape[1], tshape)
    t.flat[0] = -100  # ignored
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2, shape[1])
    ours = value_and_grad(F.cross_entropy, x, minigrad.tensor(t),
                          **{k: (t64(v) if isinstance(v, np.ndarray) else v)
                             for k, v in kw.items()})
    theirs = torch_value_and_grad("cross_entropy", x, t, **kw)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_cross_entropy_formula_unweighted():
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, (5, 3))
    t = rng.integers(0, 3, 5)
    loss, g = value_and_grad(F.cross_entropy, x, minigrad.tensor(t))
    z = log_softmax_np(x, 1)
    np.testing.assert_allclose(loss, -z[np.arange(5), t].mean(), rtol=1e-12)
    onehot = np.eye(3)[t]
    np.testing.assert_allclose(g, (np.exp(z) - onehot) / 5, rtol=1e-12, atol=1e-15)


def test_cross_entropy_probability_targets_match_torch():
    rng = np.random.default_rng(10)
    x = rng.normal(0, 1, (4, 3))
    q = rng.dirichlet(np.ones(3), 4)
    ours = value_and_grad(F.cross_entropy, x, t64(q), label_smoothing=0.1)
    theirs = torch_value_and_grad("cross_entropy", x, q, label_smoothing=0.1)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_cross_entropy_stable_at_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    t = np.array([1, 1])
    loss, g = value_and_grad(F.cross_entropy, x, minigrad.tensor(t), reduction="none")
    np.testing.assert_allclose(loss, [2e4, 0.0])
    np.testing.assert_allclose(g, [[1, -1, 0], [0, 0, 0]], atol=1e-300)
    torch = pytest.importorskip("torch")
    lt, gt = torch_value_and_grad("cross_entropy", x, t, reduction="none")
    np.testing.assert_allclose(loss, lt)
    np.testing.assert_allclose(g, gt)


def test_cross_entropy_gradcheck():
    rng = np.random.default_rng(11)
    x = t64(rng.normal(0, 1, (4, 3)), grad=True)
    t = minigrad.tensor(np.array([0, 2, 1, -100]))
    w = t64([1.0, 2.0, 0.5])
    for reduction in REDUCTIONS:
        assert gradcheck(lambda a: F.cross_entropy(a, t, w, reduction=reduction,
                                                   label_smoothing=0.1), (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_matches_torch_and_composes_to_cross_entropy(reduction):
    rng = np.random.default_rng(12)
    x = rng.normal(0, 1, (6, 5))
    t = rng.integers(0, 5, 6)
    w = rng.uniform(0.5, 2, 5)
    z = log_softmax_np(x, 1)
    ours = value_and_grad(F.nll_loss, z, minigrad.tensor(t), t64(w), reduction=reduction)
    theirs = torch_value_and_grad("nll_loss", z, t, w, reduction=reduction)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    xt = t64(x)
    composed = nn.NLLLoss(reduction=reduction)(nn.LogSoftmax(dim=1)(xt), minigrad.tensor(t))
    direct = nn.CrossEntropyLoss(reduction=reduction)(xt, minigrad.tensor(t))
    np.testing.assert_allclose(composed.numpy(), direct.numpy(), rtol=1e-12)


def test_nll_gradcheck():
    x = t64(np.random.default_rng(13).normal(0, 1, (3, 4)), grad=True)
    t = minigrad.tensor(np.array([3, 0, 1]))
    assert gradcheck(lambda a: F.nll_loss(a, t, reduction="sum"), (x,))


def test_class_target_validation():
    x = minigrad.randn(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, minigrad.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="out of bounds"):
        nn.NLLLoss()(x, minigrad.tensor([-1, 0, 1]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        F.cross_entropy(x, minigrad.tensor([0, 1]))
    with pytest.raises(ValueError, match="size 4"):
        F.cross_entropy(x, minigrad.tensor([0, 1, 2]), weight=minigrad.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


# ----- MSE and L1 ------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn", [("mse_loss", F.mse_loss), ("l1_loss", F.l1_loss)])
def test_pointwise_losses_match_formula_and_torch(name, fn, reduction):
    rng = np.random.default_rng(14)
    x, y = rng.normal(0, 1, (4, 3)), rng.normal(0, 1, (4, 3))
    loss, g = value_and_grad(fn, x, t64(y), reduction=reduction)
    d = x - y
    per, dper = (d * d, 2 * d) if name == "mse_loss" else (np.abs(d), np.sign(d))
    scale = 1 / d.size if reduction == "mean" else 1.0
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(g, scale * dper, rtol=1e-12)
    theirs = torch_value_and_grad(name, x, y, reduction=reduction)
    np.testing.assert_allclose(loss, theirs[0], rtol=1e-12)
    np.testing.assert_allclose(g, theirs[1], rtol=1e-12)


def test_pointwise_gradcheck_both_inputs():
    rng = np.random.default_rng(15)
    x = t64(rng.normal(0, 1, (3, 2)), grad=True)
    y = t64(rng.normal(0, 1, (3, 2)) + 3, grad=True)  # |x − y| stays away from the L1 kink
    assert gradcheck(lambda a, b: nn.MSELoss()(a, b), (x, y))
    assert gradcheck(lambda a, b: nn.L1Loss(reduction="sum")(a, b), (x, y))


def test_mse_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(minigrad.ones(4, 1), minigrad.ones(4))


@settings(max_examples=20)
@given(st.integers(1, 5), st.integers(2, 5), st.sampled_from(REDUCTIONS))
def test_losses_match_torch_in_float32(n, c, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n * 10 + c)
    x = rng.normal(0, 1, (n, c)).astype(np.float32)
    t = rng.integers(0, c, n)
    ours = nn.CrossEntropyLoss(reduction=reduction)(minigrad.tensor(x), minigrad.tensor(t))
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction)(torch.tensor(x), torch.tensor(t))
    assert ours.dtype == minigrad.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
