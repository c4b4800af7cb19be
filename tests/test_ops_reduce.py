"""Reductions with dim/keepdim: forward vs NumPy, backward vs finite differences and torch."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import assume, given

import minigrad
from helpers import arrays, check_op, float_dtypes, shapes, torch


@st.composite
def shape_and_dim(draw, min_dims=1, allow_none=True, single=False):
    """A shape and a ``dim`` for it: None, an int (maybe negative) or a tuple of distinct axes."""
    shape = draw(shapes(min_dims=min_dims))
    nd = len(shape)
    kinds = ["int"] + ([] if single else ["tuple"]) + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-nd, nd - 1))
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return shape, tuple(axes)


def np_axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


@st.composite
def distinct(draw, shape):
    """Values at least 0.3 apart (no ties for max/min), in a drawn order."""
    n = int(np.prod(shape))
    perm = np.array(draw(st.permutations(range(n))), dtype=np.float64).reshape(shape)
    return perm * 0.5 - n / 4 + draw(arrays(shape, -0.1, 0.1))


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(sd=shape_and_dim(), keepdim=st.booleans(), dtype=float_dtypes, data=st.data())
def test_sum_mean(name, sd, keepdim, dtype, data):
    shape, dim = sd
    x = data.draw(arrays(shape))
    check_op(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
             lambda a: getattr(np, name)(a, axis=np_axis(dim), keepdims=keepdim), [x],
             dtype=dtype)


@given(x=arrays(st.just((2, 3))), dtype=float_dtypes)
def test_sum_mean_without_arguments(x, dtype):
    check_op(lambda t: t.sum(), np.sum, [x], dtype=dtype)
    check_op(lambda t: t.mean(), np.mean, [x], dtype=dtype)
    check_op(lambda t: minigrad.sum(t, 1) if isinstance(t, minigrad.Tensor) else t.sum(1),
             lambda a: a.sum(1), [x])


@pytest.mark.parametrize("name", ["max", "min"])
@given(sd=shape_and_dim(allow_none=False, single=True), keepdim=st.booleans(),
       dtype=float_dtypes, data=st.data())
def test_max_min_along_dim(name, sd, keepdim, dtype, data):
    shape, dim = sd
    x = data.draw(distinct(shape))
    check_op(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)[0],
             lambda a: getattr(np, name)(a, axis=dim, keepdims=keepdim), [x], dtype=dtype)
    check_op(lambda t: getattr(t, name)(dim, keepdim).values,
             lambda a: getattr(np, name)(a, axis=dim, keepdims=keepdim), [x])
    arg = "argmax" if name == "max" else "argmin"
    res = getattr(minigrad.tensor(x), name)(dim, keepdim)
    expected = getattr(np, arg)(x, axis=dim, keepdims=keepdim)
    assert res.indices.dtype == minigrad.int64
    np.testing.assert_array_equal(res.indices.numpy(), expected)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), dtype=float_dtypes)
def test_max_min_all(name, data, dtype):
    x = data.draw(distinct(data.draw(shapes())))
    check_op(lambda t: getattr(t, name)(), getattr(np, name), [x], dtype=dtype)


def test_max_over_all_splits_ties_evenly_like_torch():
    x = minigrad.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])
    if torch is not None:
        t = torch.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
        t.max().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("name", ["var", "std"])
@given(sd=shape_and_dim(), keepdim=st.booleans(), correction=st.sampled_from([0, 1]),
       dtype=float_dtypes, data=st.data())
def test_var_std(name, sd, keepdim, correction, dtype, data):
    shape, dim = sd
    axes = range(len(shape)) if dim is None else np.atleast_1d(dim)
    count = int(np.prod([shape[a] for a in axes]))
    assume(count > correction)
    # a spread along every axis keeps the variance away from 0, where std has a kink
    spread = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) * 0.7
    x = data.draw(arrays(shape, -0.3, 0.3)) + spread
    check_op(lambda t: getattr(t, name)(dim=dim, correction=correction, keepdim=keepdim),
             lambda a: getattr(np, name)(a, axis=np_axis(dim), ddof=correction,
                                         keepdims=keepdim), [x], dtype=dtype,
             rtol=1e-4 if dtype == np.float32 else None)


def test_var_unbiased_flag_and_default():
    x = minigrad.tensor([1.0, 2.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 4], ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(np.var([1, 2, 4]))
    assert x.var(False).item() == pytest.approx(np.var([1, 2, 4]))
    assert x.std(0).item() == pytest.approx(np.std([1, 2, 4], ddof=1))


def test_var_without_degrees_of_freedom_is_nan():
    y = minigrad.tensor([3.0]).var()
    assert np.isnan(y.item())


@given(sd=shape_and_dim(allow_none=False), keepdim=st.booleans(), dtype=float_dtypes,
       data=st.data())
def test_logsumexp(sd, keepdim, dtype, data):
    shape, dim = sd
    x = data.draw(arrays(shape, -5, 5))

    def ref(a):
        m = np.max(a, axis=np_axis(dim), keepdims=True)
        out = np.log(np.sum(np.exp(a - m), axis=np_axis(dim), keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=np_axis(dim))
    check_op(lambda t: t.logsumexp(dim=dim, keepdim=keepdim), ref, [x], dtype=dtype)


def test_logsumexp_is_stable_for_large_values():
    x = minigrad.tensor([1000.0, 1000.0, -1000.0], dtype=minigrad.float64, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        y = x.logsumexp(0)
        y.backward()
    assert y.item() == pytest.approx(1000.0 + np.log(2.0))
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 0.0])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert minigrad.tensor([-float("inf")] * 2).logsumexp(0).item() == -float("inf")


def test_logsumexp_over_all_elements():
    x = np.random.default_rng(0).standard_normal((2, 3))
    y = minigrad.tensor(x).logsumexp()
    assert y.shape == ()
    assert y.item() == pytest.approx(np.log(np.exp(x).sum()), rel=1e-6)


def test_sum_of_ints_and_bools_is_int64():
    assert minigrad.tensor([1, 2, 3]).sum().dtype == minigrad.int64
    b = minigrad.tensor([True, True, False]).sum()
    assert b.dtype == minigrad.int64 and b.item() == 2
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1, 2]).mean()


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
def test_reduction_dim_errors(dim):
    x = minigrad.ones(2, 3)
    x.sum(dim)  # valid
    with pytest.raises(IndexError, match="out of range"):
        x.sum(5)
    with pytest.raises(TypeError):
        x.sum(1.5)


# ----- non-differentiable reductions --------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(sd=shape_and_dim(single=True), keepdim=st.booleans(), data=st.data())
def test_argmax_argmin(name, sd, keepdim, data):
    shape, dim = sd
    x = data.draw(distinct(shape))
    out = getattr(minigrad.tensor(x, requires_grad=True), name)(dim=dim, keepdim=keepdim)
    expected = getattr(np, name)(x, axis=dim, keepdims=keepdim)
    if dim is None and keepdim:
        expected = expected.reshape((1,) * x.ndim)
    assert out.dtype == minigrad.int64 and not out.requires_grad
    assert out.shape == np.shape(expected)
    np.testing.assert_array_equal(out.numpy(), expected)
    if torch is not None:
        t = getattr(torch.tensor(x), name)(dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(out.numpy(), t.numpy())


def test_argmax_is_a_cpu_tensor_with_an_item():
    x = minigrad.tensor([[1.0, 5.0], [7.0, 0.0]])
    assert x.argmax().item() == 2 and x.argmin().item() == 3
    assert x.argmax().device == "cpu"
    np.testing.assert_array_equal(minigrad.argmax(x, 1).numpy(), [1, 0])
    np.testing.assert_array_equal(minigrad.tensor([3, 1, 2], dtype=minigrad.uint8).argmin()
                                  .numpy(), 1)


@pytest.mark.parametrize("name", ["all", "any"])
@given(sd=shape_and_dim(), keepdim=st.booleans(), data=st.data())
def test_all_any(name, sd, keepdim, data):
    shape, dim = sd
    b = data.draw(hnp.arrays(np.bool_, shape))
    out = getattr(minigrad.tensor(b), name)(dim=dim, keepdim=keepdim)
    expected = getattr(np, name)(b, axis=np_axis(dim), keepdims=keepdim)
    assert out.dtype == minigrad.bool
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.shape == np.shape(expected)


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(sd=shape_and_dim(), keepdim=st.booleans(), dtype=float_dtypes, data=st.data())
def test_amax_amin(name, sd, keepdim, dtype, data):
    shape, dim = sd
    x = data.draw(distinct(shape))
    dim_t = tuple(range(len(shape))) if dim is None else dim  # torch.amax needs dims
    check_op(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)
             if isinstance(t, minigrad.Tensor) else getattr(t, name)(dim=dim_t, keepdim=keepdim),
             lambda a: getattr(np, name)(a, axis=np_axis(dim), keepdims=keepdim), [x],
             dtype=dtype)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_share_ties_like_torch(name):
    vals = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    x = minigrad.tensor(vals, requires_grad=True)
    getattr(x, name)(1).sum().backward()
    if torch is not None:
        t = torch.tensor(vals, requires_grad=True)
        getattr(t, name)(1).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    assert x.grad.numpy().sum() == pytest.approx(3.0)


def test_empty_dim_tuple_reduces_everything_like_torch():
    x = minigrad.ones(2, 3)
    assert x.sum(dim=()).shape == () and x.sum(dim=()).item() == 6
    assert x.mean(()).shape == ()
    assert x.squeeze(()).shape == (2, 3)


def test_max_min_of_a_0d_tensor_along_dim_0():
    s = minigrad.tensor(2.0, requires_grad=True)
    values, indices = s.max(0)
    assert values.item() == 2.0 and indices.item() == 0 and indices.dtype == minigrad.int64
    assert s.min(-1).values.item() == 2.0
    assert s.argmax(0).item() == 0 and s.argmin().item() == 0
    values.backward()
    assert s.grad.item() == 1.0
