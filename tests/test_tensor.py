"""Tensor attributes, conversions, Python protocols, in-place ops and bad input."""
import numpy as np
import pytest

import minigrad
from helpers import torch


# ----- attributes ------------------------------------------------------------------------------
def test_basic_attributes():
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3
    assert x.numel() == 6 and len(x) == 2
    assert x.dtype == minigrad.float32 and x.device == minigrad.device("cpu")
    assert x.is_leaf and x.grad is None and x.grad_fn is None and not x.requires_grad
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert not x.is_cuda and x.is_floating_point()
    with pytest.raises(IndexError):
        x.size(2)


def test_item_and_scalar_conversions():
    t = minigrad.tensor([2.5])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(t) == 2.5 and int(minigrad.tensor(7)) == 7
    assert isinstance(minigrad.tensor(3).item(), int)
    assert bool(minigrad.tensor([1.0])) is True
    with pytest.raises(RuntimeError, match="3 elements"):
        minigrad.ones(3).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(minigrad.ones(3))
    assert [0, 1, 2][minigrad.tensor(1)] == 1  # __index__
    with pytest.raises(TypeError):
        len(minigrad.tensor(1.0))


def test_tolist_of_0d_is_a_python_number():
    assert minigrad.tensor(1.5).tolist() == 1.5


def test_detach_shares_data_and_leaves_the_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y._data)
    assert x.data.requires_grad is False and np.shares_memory(x.data.numpy(), x._data)


def test_clone_copies_and_is_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c._data, x._data)
    (c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    d = minigrad.tensor([1.0]).clone()
    d.add_(1)
    assert d.item() == 2.0


def test_requires_grad_and_is_leaf():
    x = minigrad.ones(2)
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    x.requires_grad_(False)
    assert not x.requires_grad


@pytest.mark.parametrize("make", [
    lambda: minigrad.tensor([1, 2], requires_grad=True),
    lambda: minigrad.arange(3).requires_grad_(),
    lambda: minigrad.zeros(2, dtype=minigrad.int64, requires_grad=True),
    lambda: minigrad.tensor([True]).requires_grad_(),
])
def test_int_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="floating point"):
        make()


def test_hash_is_by_identity_and_eq_is_elementwise():
    a, b = minigrad.ones(2), minigrad.ones(2)
    assert len({a, b}) == 2 and {a: 1}[a] == 1
    assert (a == b).tolist() == [True, True]


# ----- repr and format ------------------------------------------------------------------------
REPRS = [
    (lambda m: m.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda m: m.tensor([0.1, 2.5]), "tensor([0.1000, 2.5000])"),
    (lambda m: m.tensor(1.5), "tensor(1.5000)"),
    (lambda m: m.tensor([1, 2]), "tensor([1, 2])"),
    (lambda m: m.tensor([True, False]), "tensor([ True, False])"),
    (lambda m: m.tensor([1.5], requires_grad=True), "tensor([1.5000], requires_grad=True)"),
    (lambda m: m.tensor([[1.0, 2.0], [3.0, 4.5]]),
     "tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]])"),
    (lambda m: m.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
]


@pytest.mark.parametrize("k", range(len(REPRS)))
def test_repr_is_torch_like(k):
    make, expected = REPRS[k]
    assert repr(make(minigrad)) == expected
    if torch is not None:
        assert repr(make(torch)) == expected


def test_repr_names_dtype_and_grad_fn():
    assert repr(minigrad.tensor([1.0], dtype=minigrad.float64)) == \
        "tensor([1.], dtype=minigrad.float64)"
    y = minigrad.tensor([1.5], requires_grad=True) * 2
    assert repr(y) == "tensor([3.], grad_fn=<MulBackward>)"


def test_format_spec_on_one_element_tensors():
    loss = minigrad.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{minigrad.tensor([2.0]):.1f}" == "2.0"
    assert f"{minigrad.tensor(3):d}" == "3"
    assert f"{minigrad.ones(2)}" == repr(minigrad.ones(2))
    with pytest.raises((TypeError, ValueError)):
        f"{minigrad.ones(2):.2f}"


# ----- conversions ------------------------------------------------------------------------
@pytest.mark.parametrize("method, dtype", [("float", "float32"), ("double", "float64"),
                                           ("half", "float16"), ("long", "int64"),
                                           ("int", "int32"), ("bool", "bool")])
def test_dtype_conversion_methods(method, dtype):
    x = minigrad.tensor([0.0, 1.5, -2.0])
    y = getattr(x, method)()
    assert y.dtype == getattr(minigrad, dtype) and y.dtype.name == dtype
    np.testing.assert_array_equal(y.numpy(), np.array([0.0, 1.5, -2.0]).astype(y.dtype.np))
    assert x.to(getattr(minigrad, dtype)).dtype == y.dtype


def test_to_device_and_dtype_forms():
    x = minigrad.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(minigrad.float32) is x
    assert x.to("cpu", minigrad.float64).dtype == minigrad.float64
    assert x.to(dtype=minigrad.float64, device="cpu").dtype == minigrad.float64
    other = minigrad.zeros(1, dtype=minigrad.float64)
    assert x.to(other).dtype == minigrad.float64
    assert x.type_as(other).dtype == minigrad.float64
    with pytest.raises(TypeError, match="unexpected"):
        x.to(blocking=True)


def test_unknown_device_and_dtype():
    x = minigrad.ones(2)
    with pytest.raises(ValueError, match="gpu"):
        x.to("gpu")
    with pytest.raises(ValueError, match="tpu:0"):
        minigrad.ones(2, device="tpu:0")
    with pytest.raises(TypeError, match="float128"):
        x.to(np.longdouble(0).dtype if np.longdouble != np.float64 else "float128")
    for bad in ("complex64", "banana", np.complex64, object):
        with pytest.raises(TypeError):
            minigrad.zeros(2, dtype=bad)
    for bad in (np.array([1 + 2j]), np.array(["a"]), np.array([None])):
        with pytest.raises(TypeError):
            minigrad.tensor(bad)
        with pytest.raises(TypeError):
            minigrad.Tensor(bad)


def test_cuda_without_a_gpu_raises_clearly():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        minigrad.ones(2).cuda()
    with pytest.raises(RuntimeError, match="CUDA"):
        minigrad.ones(2).to("cuda:0")


def test_to_and_back_on_device(device):
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(device)
    assert y.device == minigrad.device(device)
    (y * 2).sum().backward()
    assert x.grad.device == minigrad.device("cpu")
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [1.0, 2.0])


def test_numpy_shares_memory_on_cpu_and_array_protocol():
    x = minigrad.tensor([1.0, 2.0])
    assert np.shares_memory(x.numpy(), x._data)
    assert np.asarray(x).tolist() == [1.0, 2.0]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


# ----- iteration and indexing assignment -----------------------------------------------------
def test_iteration_and_setitem():
    x = minigrad.zeros(3, 2)
    rows = list(x)
    assert len(rows) == 3 and rows[0].shape == (2,)
    x[1] = 5.0
    x[0, 1] = minigrad.tensor(2.0)
    x[minigrad.tensor([False, False, True])] = 7.0
    assert x.tolist() == [[0.0, 2.0], [5.0, 5.0], [7.0, 7.0]]
    w = minigrad.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 1.0


# ----- in-place ops ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, args, expected", [
    ("add_", (2.0,), [3.0, -1.0, 5.0]),
    ("add_", ("T",), [2.0, -6.0, 6.0]),
    ("sub_", (1.0,), [0.0, -4.0, 2.0]),
    ("mul_", (2.0,), [2.0, -6.0, 6.0]),
    ("mul_", ("T",), [1.0, 9.0, 9.0]),
    ("div_", (2.0,), [0.5, -1.5, 1.5]),
    ("zero_", (), [0.0, 0.0, 0.0]),
    ("fill_", (4.0,), [4.0, 4.0, 4.0]),
    ("copy_", ("T",), [1.0, -3.0, 3.0]),
    ("clamp_", (-1.0, 2.0), [1.0, -1.0, 2.0]),
])
def test_inplace_ops(name, args, expected):
    x = minigrad.tensor([1.0, -3.0, 3.0])
    args = tuple(minigrad.tensor([1.0, -3.0, 3.0]) if a == "T" else a for a in args)
    data = x._data
    v = x._version
    assert getattr(x, name)(*args) is x
    assert x._data is data  # really in place
    assert x._version == v + 1
    np.testing.assert_array_equal(x.numpy(), expected)
    if torch is not None:
        t = torch.tensor([1.0, -3.0, 3.0])
        targs = tuple(torch.tensor(a.numpy()) if isinstance(a, minigrad.Tensor) else a
                      for a in args)
        getattr(t, name)(*targs)
        np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_add_sub_alpha():
    x = minigrad.ones(2)
    x.add_(minigrad.ones(2), alpha=3)
    x.sub_(1.0, alpha=0.5)
    np.testing.assert_array_equal(x.numpy(), [3.5, 3.5])


@pytest.mark.parametrize("op, expected", [("+=", 3.0), ("-=", -1.0), ("*=", 2.0), ("/=", 0.5)])
def test_augmented_assignment_is_in_place(op, expected):
    x = minigrad.ones(3)
    alias = x
    data = x._data
    exec(f"x {op} 2", {}, {"x": x})
    ns = {"x": x}
    exec(f"x {op} 2", {}, ns)
    assert ns["x"] is alias and alias._data is data
    np.testing.assert_allclose(alias.numpy(), [{"+=": 5, "-=": -3, "*=": 4, "/=": 0.25}[op]] * 3)
    y = minigrad.ones(3)
    exec(f"y {op} minigrad.full((3,), 2.0)", {"minigrad": minigrad}, {"y": y})
    np.testing.assert_allclose(y.numpy(), [expected] * 3)


def test_augmented_assignment_inside_a_graph_is_in_place_and_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    alias = y
    y += x      # recorded in place, as torch does: every alias sees it
    y *= 3
    assert alias is y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    c = minigrad.zeros(2)
    c += x      # a constant accumulating a tensor that requires grad joins the graph
    assert c.requires_grad and not c.is_leaf


INPLACE_PROGRAMS = {
    "add_sub_mul_div": lambda x, a: (a.add_(1), a.mul_(2.0), a.sub_(x, alpha=2), a.div_(x)),
    "clamp": lambda x, a: a.clamp_(1.0, 5.0),
    "setitem_tensor": lambda x, a: a.__setitem__(0, x[1] * 5),
    "setitem_slice_scalar": lambda x, a: a.__setitem__(slice(1, None), 7.0),
    "setitem_mask": lambda x, a: a.__setitem__(a > 3, x[0]),
    "copy": lambda x, a: a.copy_(x * x),
    "fill_zero": lambda x, a: (a.fill_(2.0), a.mul_(x), a.zero_()),
    "augmented": lambda x, a: (a.__iadd__(x), a.__imul__(x), a.__isub__(1), a.__itruediv__(x)),
}


@pytest.mark.parametrize("name", sorted(INPLACE_PROGRAMS))
def test_inplace_on_a_non_leaf_is_recorded_like_torch(name):
    prog = INPLACE_PROGRAMS[name]

    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        a = x * 2
        alias = a
        prog(x, a)
        assert alias is a
        (a * a).sum().backward()
        return a.detach().numpy().copy(), x.grad.numpy().copy(), a.requires_grad, a.is_leaf
    out = run(minigrad)
    assert out[2] and not out[3]
    if torch is not None:
        ref = run(torch)
        np.testing.assert_allclose(out[0], ref[0], rtol=1e-12)
        np.testing.assert_allclose(out[1], ref[1], rtol=1e-12)


@pytest.mark.parametrize("op", [
    lambda t, w: t.add_(w), lambda t, w: t.add_(w, alpha=2), lambda t, w: t.mul_(w),
    lambda t, w: t.copy_(w), lambda t, w: t.__setitem__(0, w[0]), lambda t, w: t.sub_(w),
    lambda t, w: t.__setitem__(slice(None), w * 3), lambda t, w: t.fill_(w[1]),
])
def test_writing_a_tensor_that_requires_grad_into_a_constant_is_recorded(op):
    def run(m):
        t = m.tensor([1.0, -2.0], dtype=m.float64)
        w = m.tensor([3.0, 4.0], dtype=m.float64, requires_grad=True)
        op(t, w)
        assert t.requires_grad and not t.is_leaf
        (t * t).sum().backward()
        return t.detach().numpy().copy(), w.grad.numpy().copy()
    got = run(minigrad)
    if torch is not None:
        ref = run(torch)
        np.testing.assert_allclose(got[0], ref[0])
        np.testing.assert_allclose(got[1], ref[1])
    t, w = minigrad.zeros(2), minigrad.ones(2, requires_grad=True)
    with minigrad.no_grad():  # an explicit no_grad write stays a plain write
        op(t, w)
    assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("make", [lambda x: x.exp(), lambda x: x.sigmoid()])
def test_inplace_on_a_saved_output_raises_at_backward_like_torch(make):
    for m in ([minigrad] + ([torch] if torch is not None else [])):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = make(x)
        y.zero_()   # recorded, but the op that made y needs its old value
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_on_a_saved_non_leaf_raises_at_backward_like_torch():
    for m in ([minigrad] + ([torch] if torch is not None else [])):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * y   # saves y
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_hooks_and_retain_grad_follow_a_tensor_changed_in_place():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.add_(1)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])


def test_inplace_device_mismatch_and_shape_errors():
    x = minigrad.ones(2, 3)
    with pytest.raises(ValueError, match=r"\(4,\).*\(2, 3\)"):
        x.copy_(minigrad.ones(4))
    x.copy_(minigrad.full((3,), 2.0))  # broadcasts
    assert x.tolist() == [[2.0] * 3] * 2


# ----- construction from data -------------------------------------------------------------
@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1.0], [2.0, 3.0]], [1, [2, 3]]])
def test_ragged_input_raises_value_error(data):
    with pytest.raises(ValueError, match="list"):
        minigrad.tensor(data)


@pytest.mark.parametrize("data", ["abc", [object()], {"a": 1}, None])
def test_non_numeric_input_raises_type_error(data):
    with pytest.raises(TypeError):
        minigrad.tensor(data)


def test_default_dtypes_follow_torch():
    assert minigrad.tensor(1.0).dtype == minigrad.float32
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.tensor([1, 2.5]).dtype == minigrad.float32
    assert minigrad.tensor(True).dtype == minigrad.bool
    assert minigrad.tensor(np.zeros(2)).dtype == minigrad.float64  # NumPy dtypes are kept
    assert minigrad.tensor(np.zeros(2, np.int32)).dtype == minigrad.int32
    assert minigrad.tensor([1, 2], dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.tensor([minigrad.tensor(1.0), minigrad.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert minigrad.Tensor([1.0, 2.0]).dtype == minigrad.float32


def test_tensor_copies_but_from_numpy_and_as_tensor_share():
    a = np.zeros(3, dtype=np.float32)
    t, f, s = minigrad.tensor(a), minigrad.from_numpy(a), minigrad.as_tensor(a)
    a[0] = 1
    assert t.tolist()[0] == 0 and f.tolist()[0] == 1 and s.tolist()[0] == 1
    with pytest.raises(TypeError):
        minigrad.from_numpy([1, 2])


def test_float32_tensor_op_python_scalar_stays_float32():
    x = minigrad.ones(2)
    for y in (x + 1, x * 2.5, x / 3, 1 - x, x ** 2, 2 ** x, -x, x.clamp(0.5, 1.5)):
        assert y.dtype == minigrad.float32


def test_deepcopy_and_pickle():
    import copy
    import pickle
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    c = copy.deepcopy(x)
    assert c is not x and c.requires_grad and c.is_leaf
    assert not np.shares_memory(c._data, x._data) and c.tolist() == x.tolist()
    assert c.grad.tolist() == [2.0, 2.0] and c.grad is not x.grad
    p = pickle.loads(pickle.dumps(x))
    assert p.tolist() == [1.0, 2.0] and p.requires_grad and p.grad is None
    assert pickle.loads(pickle.dumps(minigrad.arange(3))).dtype == minigrad.int64
    y = x * 2
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(y)
    assert pickle.loads(pickle.dumps(y)).tolist() == [2.0, 4.0]
    shared = [x, x]
    a, b = copy.deepcopy(shared)
    assert a is b


def test_functional_forms_and_comparison_methods():
    a, b = minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 3.0])
    assert minigrad.eq(a, b).tolist() == [True, False] and a.ne(b).tolist() == [False, True]
    assert a.lt(b).tolist() == [False, True] and a.le(b).tolist() == [True, True]
    assert minigrad.gt(b, a).tolist() == [False, True] and b.ge(a).tolist() == [True, True]
    assert minigrad.equal(a, a.clone()) is True and minigrad.equal(a, b) is False
    assert minigrad.equal(a, minigrad.ones(3)) is False
    assert minigrad.allclose(a, a + 1e-9) is True and minigrad.allclose(a, b) is False
    assert minigrad.is_tensor(a) and not minigrad.is_tensor(1.0) and minigrad.numel(a) == 2
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert minigrad.exp(x).grad_fn is not None and minigrad.sum(x).item() == 3.0
    assert minigrad.max(a, b).tolist() == [1.0, 3.0]  # torch.max(a, b) is maximum
    assert not minigrad.detach(x).requires_grad
