"""Tensor's in-place ops and the version counter that makes them safe for autograd.

An in-place change bumps ``_version``; a recorded op compares the versions of the inputs (and,
with ``saves_output``, its output) that its backward reads, so a stale value is an error at
backward time instead of a silently wrong gradient.
"""
import numpy as np

from minigrad import backend
from minigrad.autograd import grad_mode
from minigrad.autograd.function import OUTPUT_MODIFIED
from minigrad.tensor import Tensor, _index


def _modified(self):
    """Record an in-place change: bump the version; if this tensor is the saved output of
    a recorded op (changed under no_grad), that op's backward must now refuse to run."""
    self._version += 1
    fn = self.grad_fn
    if fn is not None and fn.saves_output:
        fn.versions = OUTPUT_MODIFIED


def _check_inplace(self, other=None):
    if not grad_mode.enabled:
        return
    if self._requires_grad:
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("minigrad does not record in-place operations on tensors that "
                           "are part of a graph; use the out-of-place op instead")
    if isinstance(other, Tensor) and other._requires_grad:
        # NOTE: torch would record this; silently dropping the graph would lose gradients.
        raise RuntimeError("minigrad does not record in-place operations: writing a tensor "
                           "that requires grad into one that does not would lose its "
                           "gradient; use an out-of-place op (y = y + x, cat, stack, where) "
                           "or wrap the update in no_grad()")


def _inplace(self, ufunc, other):
    self._check_inplace(other)
    o = other._data if isinstance(other, Tensor) else other
    if isinstance(other, Tensor) and not backend.same_device(self._data, o):
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                           f"least two devices, {self.device} and {other.device}")
    ufunc(self._data, o, out=self._data)
    self._modified()
    return self


def add_(self, other, alpha=1):
    if alpha != 1:
        self._check_inplace(other)
        other = (other._data if isinstance(other, Tensor) else other) * alpha
    return self._inplace(self._xp().add, other)


def sub_(self, other, alpha=1):
    if alpha != 1:
        self._check_inplace(other)
        other = (other._data if isinstance(other, Tensor) else other) * alpha
    return self._inplace(self._xp().subtract, other)


def mul_(self, other):
    return self._inplace(self._xp().multiply, other)


def div_(self, other):
    return self._inplace(self._xp().true_divide, other)


def zero_(self):
    return self.fill_(0)


def fill_(self, value):
    self._check_inplace(value)
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._modified()
    return self


def copy_(self, src):
    self._check_inplace(src)
    s = src._data if isinstance(src, Tensor) else src
    if tuple(np.broadcast_shapes(np.shape(s), self.shape)) != self.shape:
        from minigrad.ops import ShapeError
        raise ShapeError(f"copy_: source shape {tuple(np.shape(s))} cannot be broadcast "
                         f"to {self.shape}")
    self._data[...] = backend.to_device(s, self.device) if backend.is_array(s) else s
    self._modified()
    return self


def clamp_(self, min=None, max=None):
    self._check_inplace()
    self._xp().clip(self._data, min, max, out=self._data)
    self._modified()
    return self

clip_ = clamp_


def normal_(self, mean=0.0, std=1.0, generator=None):
    from minigrad import random
    return self.copy_(random.host_generator(generator).normal(mean, std, self.shape)
                      .astype(self._data.dtype))


def uniform_(self, a=0.0, b=1.0, generator=None):
    from minigrad import random
    return self.copy_(random.host_generator(generator).uniform(a, b, self.shape)
                      .astype(self._data.dtype))


def __setitem__(self, idx, value):
    self._check_inplace(value)
    v = value._data if isinstance(value, Tensor) else value
    self._data[_index(idx)] = v
    self._modified()

clip_ = clamp_

for _name in ("_modified", "_check_inplace", "_inplace", "add_", "sub_", "mul_", "div_", "zero_",
              "fill_", "copy_", "clamp_", "clip_", "normal_", "uniform_", "__setitem__"):
    setattr(Tensor, _name, globals()[_name])
