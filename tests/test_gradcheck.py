"""gradcheck itself, and the test helpers: both must be able to fail."""
import numpy as np
import pytest

import minigrad
from minigrad.autograd import Function, gradcheck
from helpers import check_grad, check_torch, torch


class _WrongSquare(Function):
    """x² with a deliberately wrong backward (3x instead of 2x)."""
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * 3 * self.x


class _RightSquare(_WrongSquare):
    __slots__ = ()

    def backward(self, gy):
        return gy * 2 * self.x


def f64(values):
    return minigrad.tensor(values, dtype=minigrad.float64, requires_grad=True)


def test_gradcheck_passes_on_correct_ops():
    x, y = f64([[0.5, -1.0], [2.0, 0.3]]), f64([1.5, -0.7])
    assert gradcheck(lambda a, b: (a * b).tanh() @ b, [x, y]) is True
    assert gradcheck(_RightSquare.apply, [f64([1.0, -2.0])]) is True
    assert minigrad.autograd.gradcheck(lambda a: a.exp().sum(), f64([0.1, 0.2]))


def test_gradcheck_names_the_worst_element():
    x = f64([1.0, -2.0, 4.0])
    with pytest.raises(ValueError) as e:
        gradcheck(_WrongSquare.apply, [x])
    msg = str(e.value)
    # the worst element is index 2: |3x - 2x| is largest there (with v's weighting)
    assert "input 0" in msg and "analytic" in msg and "numeric" in msg
    idx = int(msg.split("at index (")[1].split(",")[0])
    assert idx == 2
    analytic = float(msg.split("analytic ")[1].split(",")[0])
    numeric = float(msg.split("numeric ")[1].split(" ")[0])
    assert analytic == pytest.approx(1.5 * numeric, rel=1e-5)


def test_gradcheck_second_input_wrong():
    x, y = f64([1.0, 2.0]), f64([3.0, -1.0])
    with pytest.raises(ValueError, match="input 1"):
        gradcheck(lambda a, b: a + _WrongSquare.apply(b), [x, y])


def test_gradcheck_validates_its_inputs():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda a: a * 2, [minigrad.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [minigrad.ones(2, dtype=minigrad.float64)])


def test_gradcheck_with_constant_inputs_and_unused_inputs():
    x = f64([1.0, 2.0])
    c = minigrad.tensor([3.0, 4.0], dtype=minigrad.float64)
    assert gradcheck(lambda a, k: a * k, [x, c])
    u = f64([5.0])
    assert gradcheck(lambda a, unused: a.sum() * 2, [x, u])


def test_gradcheck_leaves_inputs_unchanged():
    x = f64([0.25, 0.5])
    before = x.detach().numpy().copy()
    gradcheck(lambda a: a.sin(), [x])
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None


def test_helper_check_grad_fails_on_wrong_backward():
    with pytest.raises(ValueError):
        check_grad(_WrongSquare.apply, [np.array([1.0, 2.0])])


def test_helper_check_torch_fails_on_wrong_gradient():
    if torch is None:
        pytest.skip("torch is not installed")
    with pytest.raises(AssertionError, match="gradient"):
        check_torch(lambda t: _WrongSquare.apply(t) if isinstance(t, minigrad.Tensor) else t * t,
                    [np.array([1.0, 2.0])])
    with pytest.raises(AssertionError):
        check_torch(lambda t: t.exp() if isinstance(t, minigrad.Tensor) else t.exp() + 1e-9,
                    [np.array([1.0, 2.0])])
