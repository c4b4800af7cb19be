"""Tensor's in-place ops and the version counter that makes them safe for autograd.

An in-place change bumps ``_version``; a recorded op compares the versions of the inputs (and,
with ``saves_output``, its output) that its backward reads, so a stale value is an error at
backward time instead of a silently wrong gradient.

Outside no_grad, an in-place op on a tensor that is part of a graph (or that writes a tensor
requiring grad) is recorded as torch records it: the out-of-place op is applied to the old
value, and the tensor takes the result and the new node as its own (``_rebase``).
"""
import weakref

import numpy as np

from minigrad import backend, ops
from minigrad.autograd import grad_mode
from minigrad.autograd.function import OUTPUT_MODIFIED, Function
from minigrad.tensor import Tensor, _index


def _modified(self):
    """Record an in-place change: bump the version; if this tensor is the saved output of
    a recorded op (changed under no_grad), that op's backward must now refuse to run."""
    self._version += 1
    fn = self.grad_fn
    if fn is not None and fn.saves_output:
        fn.versions = OUTPUT_MODIFIED


def _check_inplace(self, other=None):
    """True when the change must be recorded in the graph; raises for a leaf that requires
    grad (its value is what the gradient is taken with respect to)."""
    if not grad_mode.enabled:
        return False
    if self._requires_grad:
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return True
    return isinstance(other, Tensor) and other._requires_grad


def _rebase(self, make):
    """Record an in-place op: ``make(old)`` builds the out-of-place result from a stand-in for
    the old value; this tensor then holds that result and its node."""
    old = Tensor._wrap(self._data)
    old.grad_fn, old._requires_grad = self.grad_fn, self._requires_grad
    out = make(old)
    if out.shape != self.shape:
        from minigrad.ops import ShapeError
        raise ShapeError(f"output with shape {tuple(self.shape)} doesn't match the broadcast "
                         f"shape {tuple(out.shape)}")
    if out._data.dtype != self._data.dtype:
        out = out.to(self.dtype)
    fn = self.grad_fn
    if fn is not None and fn.out_ref is not None and fn.out_ref() is self:
        fn.out_ref = None  # hooks and retain_grad follow the tensor to its new node
        if out.grad_fn is not None:
            out.grad_fn.out_ref = weakref.ref(self)
    # Nodes that saved this tensor (or, with saves_output, produced it) see the change and
    # refuse to run, as torch's do. NOTE: the result is a new buffer, not a write into the old
    # one, so no saved array is ever silently stale.
    self._modified()
    self._data = out._data
    self.grad_fn = out.grad_fn
    self._requires_grad = out._requires_grad
    return self


def _inplace(self, ufunc, other, op=None):
    o = other._data if isinstance(other, Tensor) else other
    if isinstance(other, Tensor) and not backend.same_device(self._data, o):
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                           f"least two devices, {self.device} and {other.device}")
    if self._check_inplace(other):
        return _rebase(self, lambda old: op.apply(old, other))
    ufunc(self._data, o, out=self._data)
    self._modified()
    return self


def _scaled(other, alpha):
    if alpha == 1:
        return other
    return other * alpha if isinstance(other, Tensor) else np.multiply(other, alpha)


def add_(self, other, alpha=1):
    return self._inplace(self._xp().add, _scaled(other, alpha), ops.Add)


def sub_(self, other, alpha=1):
    return self._inplace(self._xp().subtract, _scaled(other, alpha), ops.Sub)


def mul_(self, other):
    return self._inplace(self._xp().multiply, other, ops.Mul)


def div_(self, other):
    return self._inplace(self._xp().true_divide, other, ops.Div)


class _Fill(Function):
    """x[idx] = src (broadcast, cast to x's dtype), recorded: x keeps the gradient outside
    idx, src gets the gradient inside it."""
    __slots__ = ("idx",)
    saves = ()

    def forward(self, x, src, idx=Ellipsis):
        self.idx = idx
        y = x.copy()
        y[idx] = src
        return y

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        gx = None
        if n0:
            gx = gy.copy()
            gx[self.idx] = 0
        return gx, (gy[self.idx] if n1 else None)


def zero_(self):
    return self.fill_(0)


def fill_(self, value):
    if self._check_inplace(value):
        return _rebase(self, lambda old: _Fill.apply(old, _src(old, value)))
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._modified()
    return self


def _src(like, value):
    return value if isinstance(value, Tensor) else like._xp().asarray(value,
                                                                      dtype=like._data.dtype)


def copy_(self, src):
    s = src._data if isinstance(src, Tensor) else src
    if tuple(np.broadcast_shapes(np.shape(s), self.shape)) != self.shape:
        from minigrad.ops import ShapeError
        raise ShapeError(f"copy_: source shape {tuple(np.shape(s))} cannot be broadcast "
                         f"to {self.shape}")
    if self._check_inplace(src):
        return _rebase(self, lambda old: _Fill.apply(old, _src(old, src)))
    self._data[...] = backend.to_device(s, self.device) if backend.is_array(s) else s
    self._modified()
    return self


def clamp_(self, min=None, max=None):
    if self._check_inplace():
        return _rebase(self, lambda old: old.clamp(min, max))
    self._xp().clip(self._data, min, max, out=self._data)
    self._modified()
    return self


def normal_(self, mean=0.0, std=1.0, generator=None):
    from minigrad import random
    return self.copy_(random.host_generator(generator).normal(mean, std, self.shape)
                      .astype(self._data.dtype))


def uniform_(self, a=0.0, b=1.0, generator=None):
    from minigrad import random
    return self.copy_(random.host_generator(generator).uniform(a, b, self.shape)
                      .astype(self._data.dtype))


def __setitem__(self, idx, value):
    idx = _index(idx)
    if self._check_inplace(value):
        _rebase(self, lambda old: _Fill.apply(old, _src(old, value), idx=idx))
        return
    self._data[idx] = value._data if isinstance(value, Tensor) else value
    self._modified()


clip_ = clamp_

for _name in ("_modified", "_check_inplace", "_inplace", "add_", "sub_", "mul_", "div_", "zero_",
              "fill_", "copy_", "clamp_", "clip_", "normal_", "uniform_", "__setitem__"):
    setattr(Tensor, _name, globals()[_name])
