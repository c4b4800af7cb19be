"""nn.functional: forward vs NumPy, gradients vs finite differences (float64), torch parity."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
import minigrad.nn.functional as F
from minigrad.autograd import gradcheck


def t64(a, grad=False):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def away_from_zero(x, margin=0.1):
    return np.where(np.abs(x) < margin, np.where(x < 0, -margin, margin), x)


shaped = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
values = st.floats(-5, 5, allow_nan=False)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@given(hnp.arrays(np.float64, shaped, elements=values), st.data())
def test_softmax_and_log_softmax_forward(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    s = F.softmax(t64(x), dim=dim).numpy()
    np.testing.assert_allclose(s, np_softmax(x, dim), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(t64(x), dim=dim).numpy(),
                               np.log(np_softmax(x, dim)), rtol=1e-10, atol=1e-12)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=3),
                  elements=values), st.data())
def test_softmax_gradcheck(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda a: F.softmax(a, dim=dim), (t64(x, True),))
    assert gradcheck(lambda a: F.log_softmax(a, dim=dim), (t64(x, True),))


def test_softmax_stable_for_huge_logits():
    x = t64([[1e4, -1e4, 0.0], [1000.0, 1000.0, 1000.0]])
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), [[1, 0, 0], [1 / 3] * 3])
    ls = F.log_softmax(x, dim=1).numpy()
    np.testing.assert_allclose(ls, [[0, -2e4, -1e4], [-np.log(3)] * 3])


def test_softmax_matches_torch_and_implicit_dim_warns():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(0, 3, (2, 3, 4))
    for dim in (0, 1, -1):
        np.testing.assert_allclose(F.softmax(t64(x), dim).numpy(),
                                   torch.softmax(torch.tensor(x), dim).numpy(), rtol=1e-12)
        np.testing.assert_allclose(F.log_softmax(t64(x), dim).numpy(),
                                   torch.log_softmax(torch.tensor(x), dim).numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(t64(x))
    np.testing.assert_allclose(out.numpy(), np_softmax(x, 0))  # torch's legacy choice for 3-D
    with pytest.raises(IndexError, match="out of range"):
        F.softmax(t64(x), dim=3)


def test_tensor_softmax_methods_route_here():
    x = t64([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(x.softmax(-1).numpy(), np_softmax(x.numpy(), -1))
    np.testing.assert_allclose(x.log_softmax(dim=1).numpy(), np.log(np_softmax(x.numpy(), 1)))


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=values))
def test_activations_forward_and_gradcheck(x):
    x = away_from_zero(x)  # relu/leaky_relu kinks
    cases = [
        (F.relu, np.maximum(x, 0)),
        (lambda a: F.leaky_relu(a, 0.2), np.where(x > 0, x, 0.2 * x)),
        (F.sigmoid, 1 / (1 + np.exp(-x))),
        (F.tanh, np.tanh(x)),
        (F.softplus, np.log1p(np.exp(x))),
        (F.logsigmoid, -np.log1p(np.exp(-x))),
    ]
    for fn, expected in cases:
        np.testing.assert_allclose(fn(t64(x)).numpy(), expected, rtol=1e-10, atol=1e-12)
        assert gradcheck(fn, (t64(x, True),))


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.booleans())
def test_linear_forward_and_gradcheck(n, i, o, bias):
    rng = np.random.default_rng(n * 100 + i * 10 + o)
    x, w, b = rng.normal(size=(n, i)), rng.normal(size=(o, i)), rng.normal(size=o)
    expected = x @ w.T + (b if bias else 0)
    args = (t64(x, True), t64(w, True)) + ((t64(b, True),) if bias else ())
    np.testing.assert_allclose(F.linear(*args).detach().numpy(), expected, rtol=1e-12)
    assert gradcheck(F.linear, args)


def test_dropout_functional():
    x = minigrad.ones(1000, 10)
    minigrad.manual_seed(5)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), y)  # seeded
    g = minigrad.Generator().manual_seed(1)
    a = F.dropout(x, 0.5, generator=g).numpy()
    g.manual_seed(1)
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=g).numpy(), a)
    assert F.dropout(x, 0.3, training=False) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    for bad in (-0.1, 1.1, "0.5"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)


def test_dropout_gradient_uses_the_same_mask():
    x = t64(np.random.default_rng(0).normal(size=(4, 5)), True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask)


def test_functional_inputs_are_type_checked():
    with pytest.raises(TypeError, match="Tensor"):
        F.binary_cross_entropy(np.ones(3), minigrad.ones(3))
    with pytest.raises(TypeError, match="Tensor"):
        F.cross_entropy(minigrad.ones(2, 3), [0, 1])


def test_dropout_gradcheck_with_a_fixed_mask():
    g = minigrad.Generator()
    x = t64(np.random.default_rng(1).normal(size=(3, 4)), True)
    # Reseeding inside fn gives every finite-difference evaluation the same mask.
    assert gradcheck(lambda a: F.dropout(a, 0.3, generator=g.manual_seed(2)), (x,))
