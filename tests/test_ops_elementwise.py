"""Elementwise ops: forward vs NumPy, backward vs finite differences, both vs torch."""
import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
from helpers import (arrays, broadcastable_shapes, check_forward, check_op, float_dtypes, lib,
                     shapes, torch)


def _tF():
    return torch.nn.functional


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name: (minigrad fn, NumPy reference, torch fn or None for "same as minigrad", lo, hi, kinks)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, None, -3, 3, ()),
    "exp": (lambda x: x.exp(), np.exp, None, -3, 3, ()),
    "log": (lambda x: x.log(), np.log, None, 0.2, 5, ()),
    "log1p": (lambda x: x.log1p(), np.log1p, None, -0.8, 3, ()),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, None, 0.2, 5, ()),
    "abs": (lambda x: x.abs(), np.abs, None, -3, 3, (0,)),
    "sin": (lambda x: x.sin(), np.sin, None, -3, 3, ()),
    "cos": (lambda x: x.cos(), np.cos, None, -3, 3, ()),
    "tanh": (lambda x: x.tanh(), np.tanh, None, -3, 3, ()),
    "sigmoid": (lambda x: x.sigmoid(), _sigmoid, None, -6, 6, ()),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0), None, -3, 3, (0,)),
    "softplus": (lambda x: x.softplus(), lambda x: np.logaddexp(0, x),
                 lambda x: _tF().softplus(x), -6, 6, ()),
    "logsigmoid": (lambda x: x.logsigmoid(), lambda x: -np.logaddexp(0, -x),
                   lambda x: _tF().logsigmoid(x), -6, 6, ()),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   lambda x: _tF().leaky_relu(x, 0.1), -3, 3, (0,)),
    "square": (lambda x: x.square(), np.square, None, -3, 3, ()),
    "rsqrt": (lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), None, 0.2, 5, ()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data(), dtype=float_dtypes)
def test_unary(name, data, dtype):
    fn, ref, tfn, lo, hi, kinks = UNARY[name]
    x = data.draw(arrays(data.draw(shapes()), lo, hi, away=kinks))
    check_op(fn, ref, [x], torch_fn=tfn, dtype=dtype)


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 3.0), (0.5, 1.0)])
@given(data=st.data())
def test_softplus_beta_threshold(beta, threshold, data):
    # values on both sides of the linear threshold, away from it (a kink of the definition)
    x = data.draw(arrays(data.draw(shapes()), -8, 8, away=(threshold / beta,), margin=0.2))
    check_op(lambda t: t.softplus(beta, threshold),
             lambda a: np.where(a * beta > threshold, a, np.logaddexp(0, a * beta) / beta), [x],
             torch_fn=lambda t: _tF().softplus(t, beta, threshold))


@given(data=st.data(), dtype=float_dtypes)
def test_clamp(data, dtype):
    lo = data.draw(st.floats(-2, 0.5))
    hi = lo + data.draw(st.floats(0.5, 2))
    x = data.draw(arrays(data.draw(shapes()), -3, 3, away=(lo, hi), margin=0.05))
    check_op(lambda t: t.clamp(lo, hi), lambda a: np.clip(a, lo, hi).astype(a.dtype), [x],
             dtype=dtype)
    check_op(lambda t: t.clip(min=lo), lambda a: np.maximum(a, lo).astype(a.dtype), [x])
    check_op(lambda t: t.clamp(max=hi), lambda a: np.minimum(a, hi).astype(a.dtype), [x])


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="clamp"):
        minigrad.ones(2).clamp()


BINARY = {
    "add": (lambda a, b: a + b, np.add, ()),
    "sub": (lambda a, b: a - b, np.subtract, ()),
    "mul": (lambda a, b: a * b, np.multiply, ()),
    "div": (lambda a, b: a / b, np.divide, (0,)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data(), dtype=float_dtypes)
def test_binary_broadcasting(name, data, dtype):
    fn, ref, kinks = BINARY[name]
    sa, sb = data.draw(broadcastable_shapes())
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb, away=kinks, margin=0.5))
    check_op(fn, ref, [a, b], dtype=dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data(), dtype=float_dtypes)
def test_binary_with_python_scalar_both_sides(name, data, dtype):
    fn, ref, kinks = BINARY[name]
    c = float(away_scalar(data.draw(st.floats(-3, 3)), kinks))
    x = data.draw(arrays(data.draw(shapes()), away=kinks, margin=0.5))
    # a Python scalar never upcasts: float32 op float stays float32 (checked by dtype)
    check_op(lambda t: fn(t, c), lambda a: ref(a, c), [x], dtype=dtype)
    check_op(lambda t: fn(c, t), lambda a: ref(c, a), [x], dtype=dtype)


def away_scalar(c, kinks, margin=0.5):
    for k in kinks:
        if abs(c - k) < margin:
            c = k + (margin if c >= k else -margin)
    return c


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 1.7, 0, 1, -2])
@given(data=st.data(), dtype=float_dtypes)
def test_pow_tensor_scalar(exponent, data, dtype):
    x = data.draw(arrays(data.draw(shapes()), 0.3, 3))
    check_op(lambda t: t ** exponent, lambda a: a ** exponent, [x], dtype=dtype)


@pytest.mark.parametrize("exponent", [2, 3])
@given(data=st.data())
def test_pow_negative_base_integer_exponent(exponent, data):
    x = data.draw(arrays(data.draw(shapes()), -3, 3))
    check_op(lambda t: t ** exponent, lambda a: a ** exponent, [x])


@pytest.mark.parametrize("base", [0.5, 2.0, np.e, 3])
@given(data=st.data(), dtype=float_dtypes)
def test_pow_scalar_tensor(base, data, dtype):
    x = data.draw(arrays(data.draw(shapes()), -2, 2))
    check_op(lambda t: base ** t, lambda a: np.power(base, a), [x], dtype=dtype)


@given(data=st.data(), dtype=float_dtypes)
def test_pow_tensor_tensor(data, dtype):
    sa, sb = data.draw(broadcastable_shapes())
    a = data.draw(arrays(sa, 0.3, 3))
    b = data.draw(arrays(sb, -2, 2))
    check_op(lambda x, y: x ** y, np.power, [a, b], dtype=dtype)
    check_op(lambda x, y: x.pow(y), np.power, [a, b])


@st.composite
def _separated_pair(draw):
    """Two broadcastable arrays whose elements never tie: a ∈ k+0.25±0.1, b ∈ k+0.75±0.1."""
    sa, sb = draw(broadcastable_shapes())
    ints = st.integers(-3, 3)
    import hypothesis.extra.numpy as hnp
    a = draw(hnp.arrays(np.int64, sa, elements=ints)) + 0.25
    b = draw(hnp.arrays(np.int64, sb, elements=ints)) + 0.75
    a = a + draw(arrays(sa, -0.1, 0.1))
    b = b + draw(arrays(sb, -0.1, 0.1))
    return a, b


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(pair=_separated_pair(), dtype=float_dtypes)
def test_maximum_minimum(name, pair, dtype):
    a, b = pair
    check_op(lambda x, y: getattr(lib(x), name)(x, y), getattr(np, name), [a, b], dtype=dtype)
    check_op(lambda x, y: getattr(x, name)(y), getattr(np, name), [a, b])


def test_maximum_tie_splits_gradient_like_torch():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([1.0, 3.0], requires_grad=True)
    minigrad.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0])


@given(data=st.data(), dtype=float_dtypes)
def test_where(data, dtype):
    import hypothesis.extra.numpy as hnp
    sc, sa, sb = data.draw(broadcastable_shapes(3))
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    check_op(lambda c, x, y: lib(x).where(c, x, y), np.where, [cond, a, b], dtype=dtype)


def test_where_with_scalar_and_list_condition():
    x = minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = minigrad.where(x > 0, x, 0.0)
    assert y.dtype == minigrad.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])
    z = minigrad.where([True, False, True], x.detach(), 5.0)
    np.testing.assert_array_equal(z.numpy(), [1.0, 5.0, 3.0])


# ----- numerical stability -------------------------------------------------------------------
@pytest.mark.parametrize("name, ref", [
    ("sigmoid", lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                   np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))),
    ("softplus", lambda x: np.logaddexp(0, x)),
    ("logsigmoid", lambda x: -np.logaddexp(0, -x)),
])
@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_stable_at_large_inputs(name, ref, dtype):
    vals = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])
    x = minigrad.tensor(vals, dtype=dtype, requires_grad=True)
    # Overflow, invalid (NaN) and divide-by-zero raise; underflow to 0 is the correctly rounded
    # answer (sigmoid(-1e4) is 0 in any float), so it is left at NumPy's default (ignored).
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        y = getattr(x, name)()
        y.sum().backward()
    out, g = y.detach().numpy(), x.grad.numpy()
    assert not np.isnan(out).any() and not np.isnan(g).any()
    with np.errstate(all="ignore"):
        expected = ref(vals)
    np.testing.assert_allclose(out, expected.astype(dtype.np), rtol=1e-6, atol=1e-30)
    # the derivative of each is a sigmoid-shaped function: within [0, 1], and 0/1 at the ends
    assert ((g >= 0) & (g <= 1)).all()
    assert g[0] == pytest.approx(0.0 if name != "logsigmoid" else 1.0, abs=1e-30)
    assert g[-1] == pytest.approx(0.0 if name == "logsigmoid" else
                                  (1.0 if name == "softplus" else 0.0), abs=1e-30)


def test_stable_sigmoid_helper_matches_reference():
    x = np.linspace(-50, 50, 101)
    np.testing.assert_allclose(minigrad.ops.stable_sigmoid(np, x), _sigmoid(x), rtol=1e-12)


# ----- dtypes of mixed operands ----------------------------------------------------------------
@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), True])
def test_python_and_numpy_scalars_keep_float32(scalar):
    x = minigrad.ones(3)
    for y in (x + scalar, scalar + x, x * scalar, x / scalar if scalar else x, x - scalar,
              scalar - x, x ** scalar, minigrad.maximum(x, scalar)):
        assert y.dtype == minigrad.float32


def test_int_tensor_with_float_scalar_becomes_float32():
    x = minigrad.arange(3)
    assert (x * 0.5).dtype == minigrad.float32
    assert (x / 2).dtype == minigrad.float32
    assert (2 / (x + 1)).dtype == minigrad.float32
    assert (x + 1).dtype == minigrad.int64


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "maximum"])
def test_int_tensor_with_float_tensor_keeps_float_dtype(op):
    i = minigrad.arange(1, 4)
    f = minigrad.ones(3, requires_grad=True)
    for a, b in ((i, f), (f, i)):
        y = getattr(minigrad, op)(a, b) if op == "maximum" else getattr(a, f"__{op}__")(b)
        assert y.dtype == minigrad.float32, (op, a.dtype, b.dtype)
    if torch is not None:
        ti, tf = torch.arange(1, 4), torch.ones(3)
        assert (ti * tf).dtype == torch.float32


# ----- non-differentiable ------------------------------------------------------------------
@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
@given(sh=broadcastable_shapes(), data=st.data())
def test_comparisons_return_bool(op, sh, data):
    import hypothesis.extra.numpy as hnp
    a = data.draw(hnp.arrays(np.int64, sh[0], elements=st.integers(-2, 2))).astype(np.float32)
    b = data.draw(hnp.arrays(np.int64, sh[1], elements=st.integers(-2, 2))).astype(np.float32)
    x = minigrad.tensor(a, requires_grad=True)
    for other, ref_other in ((minigrad.tensor(b), b), (1.0, 1.0)):
        out = getattr(x, op)(other)
        expected = getattr(a, op)(ref_other)
        assert out.dtype == minigrad.bool and not out.requires_grad
        assert out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), expected)


def test_comparison_of_0d_tensor_is_a_tensor_on_cpu():
    t = minigrad.tensor(1.0) == 1
    assert isinstance(t._data, np.ndarray) and t.device == "cpu" and bool(t)


def test_isnan_isinf():
    x = minigrad.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    np.testing.assert_array_equal(x.isnan().numpy(), [False, True, False, False])
    np.testing.assert_array_equal(x.isinf().numpy(), [False, False, True, True])
    np.testing.assert_array_equal(minigrad.isnan(x).numpy(), x.isnan().numpy())
    assert x.isnan().dtype == minigrad.bool
    assert minigrad.tensor(float("nan")).isnan().item() is True


def test_elementwise_ops_on_0d_and_empty_tensors():
    s = minigrad.tensor(2.0, requires_grad=True)
    y = (s * 3).exp()
    y.backward()
    assert s.grad.shape == () and s.grad.device == "cpu"
    np.testing.assert_allclose(s.grad.numpy(), 3 * np.exp(6.0), rtol=1e-6)
    e = minigrad.zeros(0, 3, requires_grad=True)
    (e.exp() * 2).sum().backward()
    assert e.grad.shape == (0, 3)


def test_forward_helper_detects_a_wrong_op():
    # the checker itself must be able to fail
    with pytest.raises(AssertionError):
        check_forward(lambda t: t.exp(), np.expm1, [np.ones(3)])


def test_pow_zero_exponent_gradient_is_zero_even_at_zero():
    x = minigrad.tensor([0.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    if torch is not None:
        t = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
        (t ** 0).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# dtype of a binary op on two tensors, as torch promotes: (a, b) -> result
PROMOTIONS = [
    (("float32", 1), ("int64", 1), "float32"),
    (("int32", 1), ("float16", 1), "float16"),
    (("float32", 1), ("float64", 0), "float32"),   # a 0-d tensor does not widen
    (("float64", 0), ("float16", 1), "float16"),
    (("int32", 1), ("int64", 0), "int32"),
    (("int64", 1), ("float64", 0), "float64"),     # higher category: the 0-d dtype
    (("float32", 1), ("float64", 1), "float64"),
    (("bool", 1), ("int32", 1), "int32"),
]


@pytest.mark.parametrize("a, b, expected", PROMOTIONS)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum", "where"])
def test_dtype_promotion_follows_torch(a, b, expected, op):
    if op == "sub" and a[0] == "bool":
        pytest.skip("torch does not subtract bool tensors")
    def make(m, spec):
        name, nd = spec
        vals = [1, 2] if nd else 1
        return m.tensor(vals, dtype=getattr(m, name))

    def run(m):
        x, y = make(m, a), make(m, b)
        if op == "where":
            return m.where(m.tensor([True, False]), x, y)
        return getattr(m, op)(x, y)
    assert run(minigrad).dtype.name == expected
    if torch is not None:
        assert str(run(torch).dtype) == "torch." + expected


def test_where_with_a_float_scalar_promotes_an_int_tensor():
    y = minigrad.where(minigrad.tensor([True, False]), minigrad.tensor([1, 2]), 0.5)
    assert y.dtype == minigrad.float32 and y.tolist() == [1.0, 0.5]


def test_comparison_with_non_numbers_is_not_elementwise():
    t = minigrad.ones(2)
    assert (t == None) is False and (t != None) is True  # noqa: E711
    assert t not in [None, "a"]


def test_broadcast_mismatch_is_a_shape_error_naming_both_shapes():
    with pytest.raises(minigrad.ShapeError) as info:
        minigrad.ones(2, 3) + minigrad.ones(4)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    msg = str(info.value)
    assert "Add" in msg and "(2, 3)" in msg and "(4,)" in msg
