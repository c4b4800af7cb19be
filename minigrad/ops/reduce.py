"""Reductions over all elements or chosen dims (``dim``/``keepdim`` as torch spells them)."""
import numpy as np

from minigrad.autograd.function import Function

__all__ = ["Sum", "Mean", "MaxMin", "Var", "Std", "LogSumExp", "normalize_dims"]


def normalize_dims(dim, ndim):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:  # dim=() means every dim, as in torch
        return None
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    out = []
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool):
            raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
        if d < lo or d > hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                             f"but got {d})")
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"dim {dim!r} names a dimension twice")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape, axes):
    """The reduced shape with the reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    __slots__ = ("shape", "axes")
    saves = ()

    def forward(self, x, axes=None, keepdim=False):
        self.shape, self.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, gy):
        gy = gy.reshape(_keep_shape(self.shape, self.axes))
        return self.xp.broadcast_to(gy, self.shape)


class Mean(Function):
    __slots__ = ("shape", "axes", "n")
    saves = ()

    def forward(self, x, axes=None, keepdim=False):
        self.shape, self.axes = x.shape, axes
        self.n = x.size if axes is None else _count(x.shape, axes)
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, gy):
        gy = gy.reshape(_keep_shape(self.shape, self.axes)) / self.n
        return self.xp.broadcast_to(gy, self.shape)


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class MaxMin(Function):
    """max/min. ``axis`` None or a tuple (amax/amin): tied extremes share the gradient evenly;
    an int axis (max(dim)): the gradient goes to the index returned (the first extreme), as
    torch does."""
    __slots__ = ("x", "y", "axis", "is_max")
    saves_output = True

    def forward(self, x, axis=None, keepdim=False, is_max=True):
        self.x, self.axis, self.is_max = x, axis, is_max
        if x.size == 0:
            raise RuntimeError(f"{'max' if is_max else 'min'}(): cannot reduce an empty tensor")
        y = x.max(axis=axis, keepdims=True) if is_max else x.min(axis=axis, keepdims=True)
        self.y = y
        return y if keepdim else (y.reshape(()) if axis is None else y.squeeze(axis))

    def backward(self, gy):
        xp, x, axis = self.xp, self.x, self.axis
        if not isinstance(axis, int):
            mask = x == self.y
            return gy.reshape(self.y.shape) * mask / mask.sum(axis=axis, keepdims=True,
                                                              dtype=x.dtype)
        idx = x.argmax(axis=axis) if self.is_max else x.argmin(axis=axis)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        onehot = xp.arange(x.shape[axis]).reshape(shape) == xp.expand_dims(idx, axis)
        return xp.expand_dims(gy, axis) * onehot if gy.ndim < x.ndim else gy * onehot


class Var(Function):
    """Variance with ``correction`` (1: unbiased, torch's default)."""
    __slots__ = ("diff", "axes", "denom", "shape")

    def forward(self, x, axes=None, correction=1, keepdim=False):
        n = x.size if axes is None else _count(x.shape, axes)
        self.axes, self.shape = axes, x.shape
        self.denom = max(n - correction, 0)
        self.diff = x - x.mean(axis=axes, keepdims=True)
        s = (self.diff * self.diff).sum(axis=axes, keepdims=keepdim)
        # NOTE: with no degrees of freedom left the variance is NaN (as torch's), not a warning.
        return s / self.denom if self.denom else s * self.xp.nan

    def backward(self, gy):
        gy = gy.reshape(_keep_shape(self.shape, self.axes))
        return gy * (2 / self.denom) * self.diff if self.denom else gy * self.diff * self.xp.nan


class Std(Var):
    """√var. NOTE: where the std is 0 the gradient is taken as 0 (as torch does), not the
    0 · ∞ = NaN that sqrt's chain rule would give."""
    __slots__ = ("y",)
    saves_output = True

    def forward(self, x, axes=None, correction=1, keepdim=False):
        y = self.xp.sqrt(Var.forward(self, x, axes, correction, keepdim))
        self.y = y
        return y

    def backward(self, gy):
        xp = self.xp
        keep = _keep_shape(self.shape, self.axes)
        y = self.y.reshape(keep)
        if not self.denom:
            return gy.reshape(keep) * self.diff * xp.nan
        safe = xp.where(y == 0, 1, y)
        return xp.where(y == 0, 0, gy.reshape(keep) / (self.denom * safe)) * self.diff


class LogSumExp(Function):
    __slots__ = ("x", "y", "axes")
    saves_output = True

    def forward(self, x, axes=None, keepdim=False):
        xp = self.xp
        self.x, self.axes = x, axes
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows give -inf, not NaN
        with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf row, silently
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        self.y = y
        if keepdim:
            return y
        return y.reshape(()) if axes is None else y.squeeze(axis=axes)

    def backward(self, gy):
        gy = gy.reshape(_keep_shape(self.x.shape, self.axes))
        return gy * self.xp.exp(self.x - self.y)
