"""minigrad: a from-scratch reverse-mode autograd engine over NumPy (CPU) and CuPy (GPU)."""
__version__ = "0.1.0"

import builtins as _builtins  # noqa: E402  (the names any/max/sum/float... are ours below)

from minigrad.tensor import Tensor  # noqa: E402  (loads the ops and the methods)
from minigrad import autograd, cuda, ops  # noqa: E402,F401
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa
from minigrad.backend import Device, device  # noqa: E402,F401
from minigrad.dtypes import (bool_ as bool, double, dtype, float, float16, float32,  # noqa
                             float64, half, int, int8, int16, int32, int64, long, short, uint8)
from minigrad.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy,  # noqa
                               full, full_like, linspace, ones, ones_like, rand, rand_like,
                               randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from minigrad.random import (Generator, get_rng_state, initial_seed, manual_seed,  # noqa
                             seed, set_rng_state)
from minigrad.ops.linalg import ShapeError  # noqa: E402,F401
from minigrad import ops as _ops  # noqa: E402

# Functional forms of the tensor methods: minigrad.exp(x) is x.exp(), as torch.exp(x).
for _name in ("exp log log1p sqrt abs sin cos tanh sigmoid relu sum mean max min var std "
              "logsumexp reshape flatten squeeze unsqueeze transpose permute matmul clamp clip "
              "maximum minimum argmax argmin isnan isinf isfinite all any norm sign "
              "softmax log_softmax broadcast_to add sub mul div pow neg square rsqrt "
              "amax amin masked_fill eq ne lt le gt ge clone detach").split():
    globals()[_name] = getattr(Tensor, _name)


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (differentiable)."""
    from minigrad.tensor_methods import _operand
    if not isinstance(condition, Tensor):
        dev = input.device if isinstance(input, Tensor) else getattr(other, "device", None)
        condition = tensor(condition, dtype=bool, device=dev)
    if condition._data.dtype.kind != "b":
        condition = condition.bool()
    if isinstance(input, Tensor):
        input, other = _operand(input, other)
    elif isinstance(other, Tensor):
        other, input = _operand(other, input)
    else:
        raise TypeError("where: at least one of input/other must be a Tensor")
    if input is None:
        raise TypeError("where: input and other must be tensors or numbers")
    ref = input if isinstance(input, Tensor) else other

    def val(v):  # a Python number takes the tensor's dtype, as in torch
        return v if isinstance(v, Tensor) else ref._xp().asarray(v, dtype=ref._data.dtype)
    return _ops.Where.apply(condition, val(input), val(other))


def _tensors(tensors, what):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{what}: expected a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: expected Tensors, got {type(t).__name__}")
    return tensors


def cat(tensors, dim=0):
    """Join tensors along an existing dim."""
    tensors = _tensors(tensors, "cat")
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated (use stack)")
    (axis,) = _ops.normalize_dims(dim, nd)
    for t in tensors:
        # NOTE: `any`, `max`, `sum`... in this module are the tensor functions; use builtins.
        if t.ndim != nd or _builtins.any(a != b for i, (a, b) in
                                         enumerate(zip(t.shape, tensors[0].shape)) if i != axis):
            raise ShapeError(f"cat: sizes of tensors must match except in dimension {dim}; "
                             f"got shapes {[tuple(x.shape) for x in tensors]}")
    return _ops.Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join same-shape tensors along a new dim."""
    tensors = _tensors(tensors, "stack")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack expects each tensor to be equal size, got shapes "
                         f"{[tuple(t.shape) for t in tensors]}")
    (axis,) = _ops.normalize_dims(dim, tensors[0].ndim + 1)
    return _ops.Stack.apply(*tensors, axis=axis)


def equal(a, b):
    """True when ``a`` and ``b`` have the same shape and elements (torch.equal)."""
    return tuple(a.shape) == tuple(b.shape) and _builtins.bool((a == b).all())


def numel(t):
    return t.numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def linear(x, weight, bias=None):
    """x Wᵀ + b as one fused node."""
    if bias is None:
        return _ops.Linear.apply(x, weight)
    return _ops.Linear.apply(x, weight, bias)


def allclose(a, b, rtol=1e-5, atol=1e-8):
    import numpy as _np
    return _builtins.bool(_np.allclose(_np.asarray(a), _np.asarray(b), rtol=rtol, atol=atol))


def _lazy(name):
    import importlib
    return importlib.import_module(f"minigrad.{name}")


def __getattr__(name):
    # nn, optim, utils, datasets, train, viz load on first use to keep `import minigrad` light.
    if name in ("nn", "optim", "utils", "datasets", "train", "viz", "serialization"):
        return _lazy(name)
    if name in ("save", "load"):
        return getattr(_lazy("serialization"), name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
