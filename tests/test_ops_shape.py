"""Shape ops and indexing: forward vs NumPy, backward vs finite differences and torch."""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
from helpers import arrays, check_forward, check_op, float_dtypes, lib, shapes, torch


@given(data=st.data(), dtype=float_dtypes)
def test_reshape_view_flatten(data, dtype):
    shape = data.draw(shapes())
    x = data.draw(arrays(shape))
    n = x.size
    new = data.draw(st.sampled_from([(n,), (1, n), (n, 1), (-1,), (1, -1, 1)]))
    check_op(lambda t: t.reshape(new), lambda a: a.reshape(new), [x], dtype=dtype)
    check_op(lambda t: t.view(*new), lambda a: a.reshape(new), [x])
    check_op(lambda t: t.flatten(), lambda a: a.reshape(-1), [x])
    if x.ndim >= 2:
        check_op(lambda t: t.flatten(1), lambda a: a.reshape(a.shape[0], -1), [x])
        check_op(lambda t: t.flatten(0, -2), lambda a: a.reshape(-1, a.shape[-1]), [x])


def test_reshape_bad_shape_names_shapes():
    with pytest.raises(ValueError, match=r"\[4, 2\].*size 6"):
        minigrad.ones(2, 3).reshape(4, 2)


@given(data=st.data())
def test_squeeze_unsqueeze(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    x = data.draw(arrays(shape))
    check_op(lambda t: t.squeeze(), lambda a: np.squeeze(a), [x])
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_op(lambda t: t.squeeze(d),
             lambda a: np.squeeze(a, d) if a.shape[d] == 1 else a, [x])
    u = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_op(lambda t: t.unsqueeze(u), lambda a: np.expand_dims(a, u), [x])


def test_unsqueeze_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        minigrad.ones(2).unsqueeze(3)


@given(data=st.data(), dtype=float_dtypes)
def test_transpose_permute_T(data, dtype):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape))
    nd = x.ndim
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check_op(lambda t: t.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), [x], dtype=dtype)
    perm = tuple(data.draw(st.permutations(range(nd))))
    check_op(lambda t: t.permute(*perm), lambda a: np.transpose(a, perm), [x], dtype=dtype)
    check_op(lambda t: t.permute(perm), lambda a: np.transpose(a, perm), [x])
    if nd == 2:  # torch deprecates .T on other ranks
        check_op(lambda t: t.T, lambda a: a.T, [x])
    if nd <= 2:
        check_op(lambda t: t.t(), lambda a: a.T, [x])


def test_permute_rejects_bad_dims():
    for dims in [(0, 0), (0, 3), (0,)]:
        with pytest.raises(ValueError, match="permut"):
            minigrad.ones(2, 3).permute(*dims)


@given(data=st.data(), dtype=float_dtypes)
def test_expand_broadcast_to(data, dtype):
    target = data.draw(shapes(min_dims=1))
    # a source shape that broadcasts to target: drop leading dims, set some sides to 1
    k = data.draw(st.integers(0, len(target)))
    src = tuple(1 if data.draw(st.booleans()) else n for n in target[k:])
    x = data.draw(arrays(src))
    check_op(lambda t: t.expand(*target), lambda a: np.broadcast_to(a, target), [x],
             dtype=dtype)
    check_op(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target), [x])
    check_op(lambda t: lib(t).broadcast_to(t, target), lambda a: np.broadcast_to(a, target), [x])


def test_expand_minus_one_and_errors():
    x = minigrad.ones(3, 1)
    assert x.expand(-1, 4).shape == (3, 4)
    with pytest.raises(ValueError, match=r"\(3, 1\)"):
        x.expand(2, 4)


# ----- indexing ------------------------------------------------------------------------------
BASIC = [
    lambda a: a[0],
    lambda a: a[-1],
    lambda a: a[1:],
    lambda a: a[::2],
    lambda a: a[::-1] if isinstance(a, np.ndarray) else a.flip(0),
    lambda a: a[..., 0],
    lambda a: a[None, :, 1:2],
    lambda a: a[1, ::2],
    lambda a: a[:, -2:],
]


@pytest.mark.parametrize("k", range(len(BASIC)))
@given(x=arrays(st.sampled_from([(3, 4), (4, 3, 2)])), dtype=float_dtypes)
def test_getitem_basic(k, x, dtype):
    f = BASIC[k]
    if k == 4:
        # negative steps: no torch equivalent (torch rejects them), so NumPy and gradcheck only
        check_op(lambda t: t[::-1], lambda a: a[::-1], [x], dtype=dtype, torch_check=False)
        return
    check_op(f, f, [x], dtype=dtype)


@given(data=st.data(), dtype=float_dtypes)
def test_getitem_integer_array_with_repeats_scatter_adds(data, dtype):
    shape = data.draw(shapes(min_dims=1, max_side=4))
    x = data.draw(arrays(shape))
    idx = np.array(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1,
                                      max_size=6)))
    check_op(lambda t: t[lib(t).tensor(idx)], lambda a: a[idx], [x], dtype=dtype)
    check_op(lambda t: t[idx.tolist()], lambda a: a[idx], [x])
    # the gradient counts each use of a repeated index
    t = minigrad.tensor(x, requires_grad=True)
    t[minigrad.tensor(idx)].sum().backward()
    counts = np.bincount(idx % shape[0], minlength=shape[0]).astype(np.float64)
    expected = np.broadcast_to(counts.reshape((-1,) + (1,) * (x.ndim - 1)), shape)
    np.testing.assert_array_equal(t.grad.numpy(), expected)


@given(x=arrays(st.just((3, 4))), rows=st.lists(st.integers(0, 2), min_size=1, max_size=5),
       data=st.data())
def test_getitem_advanced_pairs(x, rows, data):
    cols = data.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows)))
    r, c = np.array(rows), np.array(cols)
    check_op(lambda t: t[lib(t).tensor(r), lib(t).tensor(c)], lambda a: a[r, c], [x])
    check_op(lambda t: t[:, lib(t).tensor(c)], lambda a: a[:, c], [x])


@given(data=st.data(), dtype=float_dtypes)
def test_getitem_boolean_mask(data, dtype):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape))
    mask = data.draw(hnp.arrays(np.bool_, shape))
    check_op(lambda t, m: t[m], lambda a, m: a[m], [x, mask], dtype=dtype)
    row_mask = mask.reshape(-1)[:shape[0]] if mask.size >= shape[0] else np.ones(shape[0], bool)
    check_op(lambda t, m: t[m], lambda a, m: a[m], [x, row_mask])


def test_getitem_out_of_range_names_shape():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        minigrad.ones(2, 3)[5]


# ----- cat / stack ----------------------------------------------------------------------------
@given(data=st.data(), dtype=float_dtypes)
def test_cat(data, dtype):
    shape = data.draw(shapes(min_dims=1))
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xs = []
    for n in sizes:
        s = list(shape)
        s[dim] = n
        xs.append(data.draw(arrays(tuple(s))))
    check_op(lambda *ts: lib(ts[0]).cat(list(ts), dim),
             lambda *a: np.concatenate(a, axis=dim), xs, dtype=dtype)


@given(data=st.data(), dtype=float_dtypes)
def test_stack(data, dtype):
    shape = data.draw(shapes())
    n = data.draw(st.integers(1, 3))
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [data.draw(arrays(shape)) for _ in range(n)]
    check_op(lambda *ts: lib(ts[0]).stack(ts, dim=dim), lambda *a: np.stack(a, axis=dim), xs,
             dtype=dtype)


def test_cat_stack_with_a_constant_input():
    a = minigrad.ones(2, requires_grad=True)
    b = minigrad.zeros(3)
    minigrad.cat([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])
    assert b.grad is None


def test_cat_stack_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        minigrad.stack([minigrad.ones(2, 3), minigrad.ones(2, 4)])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 4\)"):
        minigrad.cat([minigrad.ones(2, 3), minigrad.ones(3, 4)], dim=0)
    with pytest.raises(ValueError, match="non-empty"):
        minigrad.cat([])
    with pytest.raises(TypeError):
        minigrad.stack([minigrad.ones(2), [1.0, 2.0]])


# ----- dtype casts are differentiable ------------------------------------------------------
@pytest.mark.parametrize("method", ["double", "float", "half"])
def test_cast_gradient_returns_in_source_dtype(method):
    x = minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float32, requires_grad=True)
    y = getattr(x, method)()
    if method == "float":
        assert y is x  # already float32: no copy, no node (as torch)
    else:
        assert y.requires_grad and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == minigrad.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


@given(x=arrays(shapes()))
def test_to_dtype_is_differentiable(x):
    # forward only: finite differences through a float32 round trip are too coarse
    check_forward(lambda t: (t.to(lib(t).float32) * 2).to(lib(t).float64), lambda a: (
        a.astype(np.float32) * 2).astype(np.float64), [x])
    check_op(lambda t: t.to(lib(t).float64) * 3, lambda a: a.astype(np.float64) * 3, [x])
    if torch is not None:
        m = minigrad.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        (m.float() ** 2).sum().backward()
        (t.float() ** 2).sum().backward()
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-6)
        assert m.grad.dtype == minigrad.float64


def test_cast_to_int_stops_the_gradient_flow():
    x = minigrad.tensor([1.5, 2.5], requires_grad=True)
    y = x.long()
    assert y.dtype == minigrad.int64 and not y.requires_grad


def test_dim_arguments_out_of_range_raise_index_error():
    x = minigrad.ones(2, 3)
    for f in (lambda: minigrad.cat([x, x], dim=2), lambda: minigrad.cat([x, x], dim=-3),
              lambda: minigrad.stack([x, x], dim=3), lambda: x.flatten(2),
              lambda: x.transpose(0, 2), lambda: x.squeeze(2)):
        with pytest.raises(IndexError, match="out of range"):
            f()
    with pytest.raises(ValueError, match="start_dim"):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match="zero-dimensional"):
        minigrad.cat([minigrad.tensor(1.0)])
    assert minigrad.stack([minigrad.tensor(1.0), minigrad.tensor(2.0)]).shape == (2,)
