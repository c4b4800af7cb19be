"""matmul (1-D, 2-D, batched, broadcast batch dims) and the fused linear op."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
from helpers import arrays, broadcastable_shapes, check_op, float_dtypes, lib, torch

sides = st.integers(1, 4)


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) valid for a @ b: each operand 1-D, 2-D or batched (broadcast batches)."""
    m, k, n = draw(sides), draw(sides), draw(sides)
    ba, bb = draw(broadcastable_shapes(max_dims=2, max_side=3))
    ka, kb = draw(st.sampled_from(["1d", "2d", "batched"])), draw(st.sampled_from(
        ["1d", "2d", "batched"]))
    sa = (k,) if ka == "1d" else (m, k) if ka == "2d" else ba + (m, k)
    sb = (k,) if kb == "1d" else (k, n) if kb == "2d" else bb + (k, n)
    return sa, sb


@given(sh=matmul_shapes(), dtype=float_dtypes, data=st.data())
def test_matmul(sh, dtype, data):
    a, b = data.draw(arrays(sh[0])), data.draw(arrays(sh[1]))
    # float32 matmul: BLAS may sum in another order than NumPy's reference
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    check_op(lambda x, y: x @ y, np.matmul, [a, b], dtype=dtype, **tol)
    check_op(lambda x, y: x.matmul(y), np.matmul, [a, b])
    check_op(lambda x, y: lib(x).matmul(x, y), np.matmul, [a, b])


def test_matmul_with_a_numpy_operand():
    w = minigrad.ones(3, 2, requires_grad=True)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = x @ w
    assert isinstance(y, minigrad.Tensor) and y.shape == (2, 2)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), x.T @ np.ones((2, 2), np.float32))


@pytest.mark.parametrize("sa, sb", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (2, 4)),
                                    ((5,), (4, 2))])
def test_matmul_shape_mismatch_names_both_shapes(sa, sb):
    with pytest.raises(ValueError) as e:
        minigrad.ones(*sa) @ minigrad.ones(*sb)
    assert str(sa) in str(e.value) and str(sb) in str(e.value)
    assert isinstance(e.value, RuntimeError)  # torch raises RuntimeError; both catch it


def test_matmul_of_0d_raises():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        minigrad.tensor(2.0) @ minigrad.ones(2)


@st.composite
def linear_case(draw):
    lead = draw(st.sampled_from([(), (2,), (3,), (2, 3)]))
    fin, fout = draw(sides), draw(sides)
    return lead + (fin,), (fout, fin), draw(st.booleans())


@given(case=linear_case(), dtype=float_dtypes, data=st.data())
def test_linear(case, dtype, data):
    sx, sw, bias = case
    x, w = data.draw(arrays(sx)), data.draw(arrays(sw))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}

    def fn(*ts):
        if isinstance(ts[0], minigrad.Tensor):
            return minigrad.linear(*ts)
        return torch.nn.functional.linear(*ts)
    if bias:
        b = data.draw(arrays((sw[0],)))
        check_op(fn, lambda x, w, b: x @ w.T + b, [x, w, b], dtype=dtype, **tol)
    else:
        check_op(fn, lambda x, w: x @ w.T, [x, w], dtype=dtype, **tol)


def test_linear_is_one_node_with_one_backward():
    x = minigrad.randn(4, 3, requires_grad=True)
    w = minigrad.randn(2, 3, requires_grad=True)
    b = minigrad.randn(2, requires_grad=True)
    y = minigrad.linear(x, w, b)
    assert type(y.grad_fn).__name__ == "Linear"
    assert all(i.grad_fn is None for i in y.grad_fn.inputs)


def test_linear_only_some_inputs_need_grad():
    x = minigrad.randn(4, 3)
    w = minigrad.randn(2, 3, requires_grad=True)
    b = minigrad.randn(2)
    minigrad.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 2)).T @ x.numpy(), rtol=1e-6)
    assert x.grad is None and b.grad is None


def test_linear_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 5\)"):
        minigrad.linear(minigrad.ones(4, 3), minigrad.ones(2, 5))


def test_linear_needs_a_2d_weight():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        minigrad.linear(minigrad.ones(2, 3), minigrad.ones(3))
