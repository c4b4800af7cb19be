"""nn.utils: gradient clipping (vs the formula and torch) and parameter <-> vector."""
import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                               vector_to_parameters)


def _model_with_grads(seed=0, scale=1.0):
    minigrad.manual_seed(seed)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    (m(minigrad.randn(5, 3)) * scale).sum().backward()
    return m


@pytest.mark.parametrize("max_norm,norm_type", [(0.1, 2.0), (100.0, 2.0), (0.5, 1.0),
                                                (0.05, float("inf"))])
def test_clip_grad_norm_formula(max_norm, norm_type):
    m = _model_with_grads(scale=3.0)
    grads = [p.grad.numpy().copy() for p in m.parameters()]
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    total = np.abs(flat).max() if norm_type == float("inf") else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    out = clip_grad_norm_(m.parameters(), max_norm, norm_type)
    np.testing.assert_allclose(out.item(), total, rtol=1e-5)
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p, g in zip(m.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-5)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    m = _model_with_grads(scale=2.0)
    tparams = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in m.parameters()]
    for tp, p in zip(tparams, m.parameters()):
        tp.grad = torch.tensor(p.grad.numpy().copy())
    ours = clip_grad_norm_(m.parameters(), 0.3)
    theirs = torch.nn.utils.clip_grad_norm_(tparams, 0.3)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    for tp, p in zip(tparams, m.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(minigrad.ones(3))
    assert clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients
    p.grad = minigrad.tensor([float("inf"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    m = _model_with_grads(scale=5.0)
    grads = [p.grad.numpy().copy() for p in m.parameters()]
    clip_grad_value_(m.parameters(), 0.2)
    for p, g in zip(m.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -0.2, 0.2))


def test_parameters_vector_round_trip():
    m = _model_with_grads()
    params = list(m.parameters())
    v = parameters_to_vector(params)
    assert v.shape == (sum(p.numel() for p in params),)
    np.testing.assert_array_equal(v.detach().numpy(), np.concatenate(
        [p.detach().numpy().ravel() for p in params]))
    vector_to_parameters(v * 0 + 2, params)
    assert all(np.all(p.detach().numpy() == 2) for p in params)
    assert list(m.parameters()) == params  # same objects, written in place
    with pytest.raises(ValueError, match=r"\(3,\)"):
        vector_to_parameters(minigrad.ones(3), params)
    with pytest.raises(TypeError):
        vector_to_parameters(np.ones(v.shape), params)


def test_parameters_to_vector_is_differentiable():
    m = nn.Linear(2, 2)
    (parameters_to_vector(m.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), 2 * m.weight.detach().numpy())
