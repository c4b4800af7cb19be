"""The backward engine: accumulation, graph freeing, deep chains, grad modes, hooks, grad()."""
import time
import types

import numpy as np
import pytest

import minigrad
from minigrad.autograd import Function
from minigrad.tensor import Tensor
from helpers import torch


def leaf(values, dtype=minigrad.float64):
    return minigrad.tensor(values, dtype=dtype, requires_grad=True)


# ----- accumulation and graph lifetime --------------------------------------------------------
def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0, 9.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_accumulation_never_writes_into_caller_arrays():
    x = leaf([1.0, 2.0])
    g = minigrad.tensor([1.0, 1.0], dtype=minigrad.float64)
    (x + 0).backward(g)
    (x + 0).backward(g)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    x.backward(g)  # a leaf as the root: its grad must not be g's buffer
    x.grad.zero_()
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    # the saved arrays were dropped
    assert y.grad_fn.inputs is None


def test_freed_error_also_through_a_shared_subgraph():
    x = leaf([1.0, 2.0])
    h = x.sin()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


def test_chain_of_100000_ops_backpropagates_without_recursion(capsys):
    n = 100_000
    x = minigrad.tensor(1.0, dtype=minigrad.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    t0 = time.perf_counter()
    y.backward()
    dt = time.perf_counter() - t0
    assert x.grad.item() == 1.0
    with capsys.disabled():
        print(f"\n[100,000-op chain backward: {dt:.3f} s]")


def test_diamond_graph_accumulates_both_paths():
    x = leaf([0.5, -1.5])
    a = x * 2
    b = a.exp()   # two paths from a to the output
    c = a * a
    out = (b + c + a).sum()
    out.backward()
    xv = np.array([0.5, -1.5])
    expected = 2 * (np.exp(2 * xv) + 2 * (2 * xv) + 1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    if torch is not None:
        t = torch.tensor(xv, requires_grad=True)
        ta = t * 2
        (ta.exp() + ta * ta + ta).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_leaf_used_many_times_and_as_both_operands():
    x = leaf([3.0])
    y = x * x * x + x / x
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [27.0])


def test_non_leaf_grad_is_not_kept_without_retain_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.sum().backward()
    assert y.grad is None and not y.is_leaf and x.is_leaf


def test_retain_grad_keeps_non_leaf_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_backward_requires_a_graph_and_a_matching_gradient():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.ones(2).sum().backward()
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(minigrad.ones(3, dtype=minigrad.float64))
    (x * 2).backward(minigrad.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_one_element_non_scalar_output_gets_implicit_gradient():
    x = leaf([2.0])
    (x * 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0])


def test_backward_inputs_restricts_accumulation():
    x, w = leaf([1.0]), leaf([2.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0])


def test_autograd_backward_several_roots():
    x = leaf([1.0, 2.0])
    a, b = (x * 2).sum(), (x * x).sum()
    minigrad.autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])


def test_broadcast_gradients_are_summed_back_and_cast():
    x = minigrad.tensor([[1.0], [2.0]], dtype=minigrad.float32, requires_grad=True)
    b = minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    s = minigrad.tensor(2.0, requires_grad=True)
    y = (x * b + s).sum()
    y.backward()
    assert x.grad.shape == (2, 1) and x.grad.dtype == minigrad.float32
    assert b.grad.shape == (3,) and b.grad.dtype == minigrad.float64
    assert s.grad.shape == () and isinstance(s.grad._data, np.ndarray)
    np.testing.assert_allclose(x.grad.numpy(), [[6.0], [6.0]])
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 3.0, 3.0])
    assert s.grad.item() == 6.0


# ----- grad modes -----------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = leaf([1.0])
    with minigrad.no_grad():
        assert not minigrad.is_grad_enabled()
        y = x * 2
        z = y.exp().sum()
    assert minigrad.is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf


@pytest.mark.parametrize("bare", [False, True])
def test_no_grad_decorator(bare):
    def f(x):
        assert not minigrad.is_grad_enabled()
        return x * 2
    f = minigrad.no_grad(f) if bare else minigrad.no_grad()(f)
    assert f.__name__ == "f"
    y = f(leaf([1.0]))
    assert not y.requires_grad and y.grad_fn is None
    assert minigrad.is_grad_enabled()


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minigrad.no_grad():
            1 / 0
    assert minigrad.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with minigrad.no_grad():
        with minigrad.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad

    @minigrad.enable_grad()
    def f():
        return x * 3
    with minigrad.no_grad():
        assert f().requires_grad


def test_set_grad_enabled_as_context_call_and_decorator():
    x = leaf([1.0])
    with minigrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(False)
    try:
        assert not minigrad.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        minigrad.set_grad_enabled(True)
    assert (x * 2).requires_grad

    @minigrad.set_grad_enabled(False)
    def g():
        return minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled() and g() is False and minigrad.is_grad_enabled()
    with pytest.raises(TypeError):
        minigrad.set_grad_enabled("no")


# ----- hooks -----------------------------------------------------------------------------------
def test_hooks_see_and_replace_leaf_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h2 = x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    h1.remove()
    h2.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert len(seen) == 1


def test_hooks_see_and_replace_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 3 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), 3 * 2 * (2 * 3 * np.array([1.0, 2.0])))
    if torch is not None:
        t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        ty = t * 3
        ty.register_hook(lambda g: g * 2)
        (ty * ty).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_hook_on_a_tensor_used_twice_sees_the_total():
    x = leaf([1.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.item()))
    (y + y * 3).sum().backward()
    assert seen == [4.0]


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError):
        minigrad.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError):
        minigrad.ones(2).retain_grad()


# ----- autograd.grad ---------------------------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    h = x * w
    h.retain_grad()
    y = (h * h).sum()
    gx, gw = minigrad.autograd.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), 2 * (x * w * w).detach().numpy())
    np.testing.assert_allclose(gw.numpy(), 2 * (x * x * w).detach().numpy())
    assert x.grad is None and w.grad is None and h.grad is None
    assert not gx.requires_grad


def test_autograd_grad_of_a_non_leaf_and_grad_outputs():
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = h * 2
    (gh,) = minigrad.autograd.grad(y, h, grad_outputs=minigrad.tensor([1.0, 3.0],
                                                                      dtype=minigrad.float64))
    np.testing.assert_allclose(gh.numpy(), [2.0, 6.0])


def test_autograd_grad_unused_input_and_retain_graph():
    x, z = leaf([1.0]), leaf([1.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        minigrad.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = minigrad.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.item() == 2.0
    minigrad.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        minigrad.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.autograd.grad((x * 2).sum(), minigrad.ones(1))


def test_autograd_grad_result_is_a_private_copy():
    x = leaf([1.0, 2.0])
    (g,) = minigrad.autograd.grad((x + 0).sum(), x)
    g2 = minigrad.autograd.grad(x.sum(), x)[0]
    g2.zero_()
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


# ----- version counter ---------------------------------------------------------------------
def test_modifying_a_saved_tensor_raises_at_backward():
    w = leaf([1.0, 2.0])
    x = minigrad.tensor([3.0, 4.0], dtype=minigrad.float64)
    y = (x * w).sum()   # Mul saves x for w's gradient
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_modifying_a_saved_leaf_under_no_grad_raises_at_backward():
    w = leaf([1.0, 2.0])
    y = (w.exp() * w).sum()
    with minigrad.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="version"):
        y.backward()


def test_modifying_an_input_that_is_not_saved_is_fine():
    w = leaf([1.0, 2.0])
    x = minigrad.tensor([3.0, 4.0], dtype=minigrad.float64)
    y = (x + w).sum()   # Add needs no input values
    x.mul_(5)
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])


def test_inplace_on_a_leaf_that_requires_grad_raises():
    w = leaf([1.0, 2.0])
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.copy_(w),
               lambda: w.sub_(1), lambda: w.div_(2), lambda: w.fill_(1), lambda: w.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    with minigrad.no_grad():  # the optimizer's way of updating parameters
        w -= 0.5
        w.mul_(2)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 3.0])
    assert w.requires_grad and w.is_leaf


# ----- custom Functions, devices ---------------------------------------------------------
class _Cube(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return x ** 3

    def backward(self, gy):
        return gy * 3 * self.x ** 2


def test_custom_function():
    x = leaf([1.0, -2.0])
    y = _Cube.apply(x)
    assert y.grad_fn.name == "_Cube" and "_Cube" in repr(y.grad_fn)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert minigrad.autograd.gradcheck(_Cube.apply, [leaf([0.3, 1.7])])


class _FakeCudaArray(np.ndarray):
    """A host array that says it lives on cuda:0, to exercise the device check without a GPU."""

    @property
    def device(self):
        return types.SimpleNamespace(id=0)


def test_mixing_devices_raises_naming_both():
    cpu = leaf([1.0, 2.0])
    fake = Tensor._wrap(np.ones(2).view(_FakeCudaArray))
    assert str(fake.device) == "cuda:0"
    for op in (lambda: cpu + fake, lambda: fake * cpu, lambda: minigrad.cat([cpu, fake]),
               lambda: cpu.detach().add_(fake)):
        with pytest.raises(RuntimeError) as e:
            op()
        assert "cpu" in str(e.value) and "cuda:0" in str(e.value)


def test_mixing_real_devices_raises(device):
    if device == "cpu":
        pytest.skip("needs a GPU: the device check against a real CUDA tensor")
    a = minigrad.ones(2, device=device)
    with pytest.raises(RuntimeError, match="cpu"):
        a + minigrad.ones(2)


def test_numpy_on_a_tensor_that_requires_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_backward_on_device(device):
    x = minigrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.device == minigrad.device(device)
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2.0, 4.0])


def test_leaf_hooks_also_apply_in_autograd_grad():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    (g,) = minigrad.autograd.grad((x * 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), [6.0, 6.0])
    assert x.grad is None


# ----- random graphs -----------------------------------------------------------------------
_UN = {"tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(), "sin": lambda t: t.sin(),
       "half": lambda t: t * 0.5, "sq": lambda t: t * t, "sum_keep": lambda t: t.sum(-1, True),
       "mean0": lambda t: t.mean(0, keepdim=True)}
_BIN = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


def _program():
    import hypothesis.strategies as st
    step = st.one_of(
        st.tuples(st.just("u"), st.sampled_from(sorted(_UN)), st.integers(0, 100)),
        st.tuples(st.just("b"), st.sampled_from(sorted(_BIN)), st.integers(0, 100),
                  st.integers(0, 100)))
    return st.lists(step, min_size=1, max_size=12)


def _run_program(program, leaves):
    nodes = list(leaves)
    for step in program:
        if step[0] == "u":
            nodes.append(_UN[step[1]](nodes[step[2] % len(nodes)]))
        else:
            nodes.append(_BIN[step[1]](nodes[step[2] % len(nodes)], nodes[step[3] % len(nodes)]))
    # every node feeds the output, so shared subexpressions make diamonds
    out = nodes[-1].sum()
    for n in nodes[len(leaves):-1]:
        out = out + n.sum() * 0.1
    return out


def test_random_graphs_match_torch_and_finite_differences():
    from hypothesis import given, settings
    import hypothesis.extra.numpy as hnp
    import hypothesis.strategies as st

    @settings(max_examples=40)
    @given(program=_program(),
           a=hnp.arrays(np.float64, (2, 3), elements=st.floats(-2, 2)),
           b=hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2)))
    def check(program, a, b):
        x, y = leaf(a), leaf(b)
        out = _run_program(program, [x, y])
        out.backward()
        assert minigrad.autograd.gradcheck(lambda p, q: _run_program(program, [p, q]),
                                           [leaf(a), leaf(b)])
        if torch is not None:
            tx = torch.tensor(a, requires_grad=True)
            ty = torch.tensor(b, requires_grad=True)
            tout = _run_program(program, [tx, ty])
            tout.backward()
            np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
            for m, t in ((x, tx), (y, ty)):
                assert (m.grad is None) == (t.grad is None)  # an unused leaf gets no grad
                if m.grad is not None:
                    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10,
                                               atol=1e-12)
    check()


@pytest.mark.parametrize("op", [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(),
                                lambda t: t.sqrt(), lambda t: 2 ** t, lambda t: t.logsumexp(0),
                                lambda t: t.std()])
def test_modifying_a_saved_output_raises_at_backward(op):
    x = leaf([1.0, 2.0])
    y = op(x)
    with minigrad.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_modifying_an_output_that_is_not_saved_is_fine():
    x = leaf([1.0, 2.0])
    y = x * 3 + 1  # Add reads neither its inputs nor its output
    with minigrad.no_grad():
        y.zero_()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_create_graph_is_refused_clearly_and_signatures_follow_torch():
    x = leaf([1.0])
    y = (x * x).sum()
    with pytest.raises(NotImplementedError, match="create_graph"):
        y.backward(None, True, True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        minigrad.autograd.grad(y, x, None, True, True)
    (g,) = minigrad.autograd.grad(y, x, None, True, False, True)  # allow_unused 6th, as torch
    assert g.item() == 2.0
    y.backward(None, False, False, [x])
    assert x.grad.item() == 2.0


def test_autograd_backward_validates_roots():
    with pytest.raises(RuntimeError, match="element 1"):
        minigrad.autograd.backward([leaf([1.0]).sum(), minigrad.ones(1)])


def test_a_hook_may_not_change_the_gradient_shape():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"shape from \(2,\) to \(\)"):
        (x * 2).sum().backward()
