"""minigrad.nn.functional: the stateless form of every layer and loss (torch's ``F``).

The functions validate their arguments and call one Function from ``minigrad.ops`` or
``minigrad.nn._ops``; the math lives there, next to its gradient.
"""
import numbers
import warnings

import numpy as np

from minigrad import ops
from minigrad.nn import _ops
from minigrad.ops.linalg import ShapeError
from minigrad.random import host_generator
from minigrad.tensor import Tensor

__all__ = ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
           "dropout", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "l1_loss", "cross_entropy", "nll_loss", "softplus", "logsigmoid"]


def _tensor(x, name, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be a Tensor, not {type(x).__name__}")
    return x


def _check_reduction(reduction):
    if reduction not in _ops.REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction "
                         f"(expected one of {', '.join(_ops.REDUCTIONS)})")


def _array_like(value, ref, name, broadcast=False):
    """An optional weight as an array on ``ref``'s device, in ``ref``'s dtype; with
    ``broadcast`` it must broadcast to ``ref``'s shape (as torch's BCE weights do)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        arr = value._data
    else:
        try:
            arr = np.asarray(value, dtype=ref._data.dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name} must be a Tensor or numbers, got {type(value).__name__}: "
                            f"{e}") from None
    if broadcast:
        try:
            ok = np.broadcast_shapes(arr.shape, ref.shape) == tuple(ref.shape)
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"{name} of shape {tuple(arr.shape)} does not broadcast to the "
                             f"input shape {tuple(ref.shape)}")
    if type(arr) is np.ndarray and arr.dtype == ref._data.dtype and ref._xp() is np:
        return arr
    from minigrad import backend
    return backend.to_device(arr, ref.device).astype(ref._data.dtype, copy=False)


# ----- layers and activations ------------------------------------------------------------------
def linear(input, weight, bias=None):
    """y = x Wᵀ + b (one fused node)."""
    return ops.Linear.apply(input, weight, bias)


def relu(input, inplace=False):
    return ops.Relu.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return ops.LeakyRelu.apply(input, negative_slope)


def sigmoid(input):
    return ops.Sigmoid.apply(input)


def tanh(input):
    return ops.Tanh.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    return ops.Softplus.apply(input, beta, threshold)


def logsigmoid(input):
    return ops.LogSigmoid.apply(input)


def _softmax_axis(input, dim, fn):
    nd = input.ndim
    if dim is None:
        # torch's legacy implicit choice, with its warning.
        warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        dim = 0 if nd in (0, 1, 3) else 1
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}(): dim must be an int, got {dim!r}")
    lo, hi = -max(nd, 1), max(nd, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {dim})")
    return int(dim) % nd if nd else None


def softmax(input, dim=None, dtype=None):
    """e^x / Σ e^x along ``dim``, computed from x − max so it never overflows."""
    if dtype is not None:
        input = input.to(dtype)
    return _ops.Softmax.apply(input, _softmax_axis(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """x − logsumexp(x) along ``dim`` (stable for any logits)."""
    if dtype is not None:
        input = input.to(dtype)
    return _ops.LogSoftmax.apply(input, _softmax_axis(input, dim, "log_softmax"))


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1 − p) (when training).

    The mask is drawn on the host from the seeded generator, so a seed gives the same mask on
    every device.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        mask = np.zeros(input.shape, dtype=dt)
    else:
        keep = host_generator(generator).random(input.shape) >= p
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    xp = input._xp()
    if xp is not np:
        from minigrad import backend
        mask = backend.to_device(mask, input.device)
    return _ops.DropoutMask.apply(input, mask)


# ----- losses ----------------------------------------------------------------------------------
def _same_shape(input, target, fn):
    if input._data.shape != target._data.shape:
        raise ShapeError(f"{fn}: Using a target size ({tuple(target.shape)}) that is different "
                         f"to the input size ({tuple(input.shape)}) is not supported. Please "
                         f"ensure they have the same size.")


def _float_target(target, input, fn):
    _tensor(target, "target", fn)
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return target


def _out_of_unit_range(a, what, fn):
    bad = a[~((a >= 0) & (a <= 1))].ravel()[0]
    raise ValueError(f"{fn}: all elements of {what} should be between 0 and 1 "
                     f"(found {float(bad)!r})")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """−w [y log p + (1 − y) log(1 − p)], logs clamped at −100 (torch's definition)."""
    fn = "binary_cross_entropy"
    _tensor(input, "input", fn)
    _check_reduction(reduction)
    target = _float_target(target, input, fn)
    _same_shape(input, target, fn)
    p, y = input._data, target._data
    one = p.dtype.type(1)
    # One reduction validates the range: p ∈ [0, 1] ⟺ p(1 − p) ≥ 0, and NaN fails the test.
    # d = p(1 − p) is also the gradient's denominator, so the Function keeps it.
    d = (one - p) * p
    m = d.min() if d.size else one
    if not m >= 0:
        _out_of_unit_range(p, "input", fn)
    if y.size and not ((one - y) * y).min() >= 0:  # torch checks the target too
        _out_of_unit_range(y, "target", fn)
    w = _array_like(weight, input, "weight", broadcast=True)
    return _ops.BinaryCrossEntropy.apply(input, target, w, d, bool(m == 0), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE on σ(input), computed from the logits without ever forming log σ (stable)."""
    fn = "binary_cross_entropy_with_logits"
    _tensor(input, "input", fn)
    _check_reduction(reduction)
    target = _float_target(target, input, fn)
    _same_shape(input, target, fn)
    return _ops.BinaryCrossEntropyWithLogits.apply(
        input, target, _array_like(weight, input, "weight", broadcast=True),
        _array_like(pos_weight, input, "pos_weight", broadcast=True), reduction)


def _pointwise(op, input, target, reduction, fn):
    _tensor(input, "input", fn)
    _check_reduction(reduction)
    target = _float_target(target, input, fn)
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ShapeError(f"{fn}: input shape {tuple(input.shape)} and target shape "
                             f"{tuple(target.shape)} cannot be broadcast together") from None
    return op.apply(input, target, reduction)


def mse_loss(input, target, reduction="mean"):
    """(x − y)², reduced."""
    return _pointwise(_ops.MSE, input, target, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|x − y|, reduced."""
    return _pointwise(_ops.L1, input, target, reduction, "l1_loss")


def _class_setup(input, target, weight, ignore_index, label_smoothing, reduction, fn):
    """Validate a (N, C, ...) input against class-index or probability targets; returns the
    coefficient array A, the 'mean' denominator and the class axis."""
    _tensor(input, "input", fn)
    _tensor(target, "target", fn)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ShapeError(f"{fn}: input must have at least 1 dimension (got a scalar)")
    if not input.is_floating_point():
        raise TypeError(f"{fn}: input must be floating point, got {input.dtype}")
    axis = 0 if input.ndim == 1 else 1
    C = input.shape[axis]
    t = target._data
    if t.dtype.kind == "f":
        if tuple(t.shape) != tuple(input.shape):
            raise ShapeError(f"{fn}: probability targets must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(t.shape)}")
        t = t.astype(input._data.dtype, copy=False)
    elif t.dtype.kind in "iu":
        expected = input.shape[:axis] + input.shape[axis + 1:]
        if tuple(t.shape) != tuple(expected):
            raise ShapeError(f"{fn}: expected target of shape {tuple(expected)} for input of "
                             f"shape {tuple(input.shape)}, got {tuple(t.shape)}")
        bad = (t != ignore_index) & ((t < 0) | (t >= C))
        if t.size and bool(bad.any()):
            raise _TargetError(f"{fn}: Target {int(t[bad].ravel()[0])} is out of bounds "
                               f"(expected class indices in [0, {C}))")
    else:
        raise TypeError(f"{fn}: target must hold class indices (int64) or class probabilities "
                        f"(float), got {target.dtype}")
    w = _array_like(weight, input, "weight")
    if w is not None and tuple(w.shape) != (C,):
        raise ShapeError(f"{fn}: weight should be a 1D tensor of size {C} (one per class), "
                         f"got shape {tuple(w.shape)}")
    a, denom = _ops.class_coefficients(input._xp(), input._data, axis, t, w, ignore_index,
                                       label_smoothing)
    return a, denom, axis


class _TargetError(IndexError, ValueError):
    """A class index outside [0, C): an IndexError as in torch, and a ValueError."""


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """−log softmax(x)[target] (class indices) or −Σ q log softmax(x) (probabilities), fused.

    The gradient flows to ``input`` only; targets (indices or probabilities) are constants.
    """
    a, denom, axis = _class_setup(input, target, weight, ignore_index, label_smoothing,
                                  reduction, "cross_entropy")
    return _ops.CrossEntropy.apply(input, a, denom, axis, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """−input[target] for log-probabilities ``input`` (pair it with log_softmax)."""
    a, denom, axis = _class_setup(input, target, weight, ignore_index, 0.0, reduction,
                                  "nll_loss")
    return _ops.NLL.apply(input, a, denom, axis, reduction)
