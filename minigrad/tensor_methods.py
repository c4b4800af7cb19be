"""Tensor's math methods and operators: each a thin call into one op from ``minigrad.ops``."""
import numpy as np

from minigrad import backend, dtypes, ops
from minigrad.ops.reduce import normalize_dims
from minigrad.tensor import Tensor, _index

_SCALARS = (int, float, bool, np.number, np.bool_)


def _operand(self, other):
    """(self, other) ready for a binary op, or (None, None) when ``other`` is not a number.

    Python scalars stay scalars (NumPy's NEP 50 then keeps float32 float32); an integer tensor
    meeting a float scalar becomes float32 first, as torch promotes it.
    """
    if isinstance(other, Tensor):
        if self._data.dtype is not other._data.dtype:
            return _promote(self, other)
        return self, other
    if isinstance(other, _SCALARS):
        if isinstance(other, np.generic):
            other = other.item()  # a NumPy float64 scalar must not upcast a float32 tensor
        if isinstance(other, float) and self._data.dtype.kind != "f":
            self = self.to(dtypes.DEFAULT_FLOAT)
        return self, other
    if backend.is_array(other) or isinstance(other, (list, tuple)):
        return self, Tensor(other)
    return None, None


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a, b):
    """torch's promotion where it differs from NumPy's (only reached when dtypes differ):
    a floating tensor meeting an integer/bool one keeps its float dtype (NumPy: int64 + float32
    is float64), and a 0-d tensor does not widen a dimensioned one of its category."""
    ca, cb = _CATEGORY.get(a._data.dtype.kind, 3), _CATEGORY.get(b._data.dtype.kind, 3)
    if ca != cb:
        if ca == 2:
            return a, b.to(a.dtype)
        if cb == 2:
            return a.to(b.dtype), b
        return a, b
    if a._data.ndim == 0 and b._data.ndim:
        return a.to(b.dtype), b
    if b._data.ndim == 0 and a._data.ndim:
        return a, b.to(a.dtype)
    return a, b


def _result(r):
    """``r`` as an array: NumPy hands back 0-d results as scalars."""
    return r if type(r) is np.ndarray or not isinstance(r, np.generic) else np.asarray(r)


def _binary(op, swap=False):
    def method(self, other):
        a, b = _operand(self, other)
        if a is None:
            return NotImplemented
        return op.apply(b, a) if swap else op.apply(a, b)
    return method


def _true_div(a, b):
    # Integer division in torch gives float32, not NumPy's float64.
    if isinstance(a, Tensor) and a._data.dtype.kind != "f" and \
            (not isinstance(b, Tensor) or b._data.dtype.kind != "f"):
        a = a.to(dtypes.DEFAULT_FLOAT)
    if isinstance(b, Tensor) and b._data.dtype.kind != "f" and isinstance(a, Tensor) \
            and a._data.dtype.kind == "f":
        b = b.to(a.dtype)
    return ops.Div.apply(a, b)


def __truediv__(self, other):
    a, b = _operand(self, other)
    return NotImplemented if a is None else _true_div(a, b)


def __rtruediv__(self, other):
    a, b = _operand(self, other)
    if a is None:
        return NotImplemented
    if not isinstance(b, Tensor) and a._data.dtype.kind != "f":
        a = a.to(dtypes.DEFAULT_FLOAT)
    return ops.Div.apply(b, a)


def __pow__(self, other):
    a, b = _operand(self, other)
    if a is None:
        return NotImplemented
    if isinstance(b, Tensor):
        return ops.PowT.apply(a, b)
    return ops.Pow.apply(a, b)


def __rpow__(self, other):
    a, b = _operand(self, other)
    if a is None:
        return NotImplemented
    if isinstance(b, Tensor):
        return ops.PowT.apply(b, a)
    return ops.RPow.apply(b, a)


def __matmul__(self, other):
    if not isinstance(other, Tensor):
        if backend.is_array(other):
            other = Tensor(other)
        else:
            return NotImplemented
    return ops.MatMul.apply(self, other)


def __rmatmul__(self, other):
    if not backend.is_array(other):
        return NotImplemented
    return ops.MatMul.apply(Tensor(other), self)


def _inplace_operator(name, ufunc_name):
    """``a += b``: in place, recorded in the graph when one is being built (as torch does);
    sequences and arrays on the right fall back to the out-of-place op."""
    out_of_place = getattr(Tensor, name)
    op = {"add": ops.Add, "subtract": ops.Sub, "multiply": ops.Mul, "true_divide": ops.Div}[
        ufunc_name]

    def method(self, other):
        if isinstance(other, _SCALARS) or isinstance(other, Tensor):
            return self._inplace(getattr(self._xp(), ufunc_name), other, op)
        return out_of_place(self, other)
    return method


def _compare(ufunc_name):
    def method(self, other):
        o = other._data if isinstance(other, Tensor) else other
        if not isinstance(other, (Tensor,) + _SCALARS) and not backend.is_array(other):
            try:
                o = np.asarray(other)
            except Exception:
                return NotImplemented
            if o.dtype.kind not in "biuf":  # None, strings, objects: not comparable
                return NotImplemented
        return Tensor._wrap(_result(getattr(self._xp(), ufunc_name)(self._data, o)))
    return method


def _unary(op):
    def method(self):
        return op.apply(self)
    method.__name__ = op.__name__.lower()
    return method


# ----- reductions ------------------------------------------------------------------------
def _dims(self, dim):
    return normalize_dims(dim, self._data.ndim)


def sum(self, dim=None, keepdim=False, dtype=None):
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind in "ub" and dtype is None:
        x = x.long()
    return ops.Sum.apply(x, _dims(self, dim), keepdim)


def mean(self, dim=None, keepdim=False, dtype=None):
    x = self if dtype is None else self.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                           f"point, but got {x.dtype}")
    return ops.Mean.apply(x, _dims(self, dim), keepdim)


class _MaxResult(tuple):
    """(values, indices), as torch.return_types.max."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _extreme(self, dim, keepdim, is_max):
    if dim is None:
        return ops.MaxMin.apply(self, None, False, is_max)
    if isinstance(dim, Tensor):  # torch.max(a, b) spelled as a.max(b)
        return maximum(self, dim) if is_max else minimum(self, dim)
    if self._data.ndim == 0:  # a 0-d tensor is its own max along dim 0 (or -1)
        _dims(self, dim)
        values = ops.MaxMin.apply(self, None, False, is_max)
        return _MaxResult((values, Tensor._wrap(self._xp().zeros((), dtype=np.int64))))
    (axis,) = _dims(self, dim)
    values = ops.MaxMin.apply(self, axis, keepdim, is_max)
    arg = self._data.argmax(axis=axis) if is_max else self._data.argmin(axis=axis)
    if keepdim:
        arg = self._xp().expand_dims(arg, axis)
    return _MaxResult((values, Tensor._wrap(arg.astype(np.int64))))


def max(self, dim=None, keepdim=False):
    return _extreme(self, dim, keepdim, True)


def min(self, dim=None, keepdim=False):
    return _extreme(self, dim, keepdim, False)


def amax(self, dim=None, keepdim=False):
    """Max over one or several dims; tied maxima share the gradient (torch.amax)."""
    return ops.MaxMin.apply(self, _dims(self, dim), keepdim, True)


def amin(self, dim=None, keepdim=False):
    return ops.MaxMin.apply(self, _dims(self, dim), keepdim, False)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # torch's var(unbiased) positional form
        dim, unbiased = None, dim
    return ops.Var.apply(self, _dims(self, dim), _correction(unbiased, correction), keepdim)


def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return ops.Std.apply(self, _dims(self, dim), _correction(unbiased, correction), keepdim)


def logsumexp(self, dim=None, keepdim=False):
    return ops.LogSumExp.apply(self, _dims(self, dim), keepdim)


def norm(self, p=2, dim=None, keepdim=False):
    if p != 2:
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)
    return (self * self).sum(dim, keepdim).sqrt()


def _arg_extreme(self, dim, keepdim, is_max):
    x = self._data
    if dim is None:
        out = x.argmax() if is_max else x.argmin()
        shape = (1,) * x.ndim if keepdim else ()
        return Tensor._wrap(self._xp().asarray(out, dtype=np.int64).reshape(shape))
    if x.ndim == 0:
        _dims(self, dim)
        return Tensor._wrap(self._xp().zeros((), dtype=np.int64))
    (axis,) = _dims(self, dim)
    out = x.argmax(axis=axis) if is_max else x.argmin(axis=axis)
    if keepdim:
        out = self._xp().expand_dims(out, axis)
    return Tensor._wrap(_result(out).astype(np.int64))


def argmax(self, dim=None, keepdim=False):
    return _arg_extreme(self, dim, keepdim, True)


def argmin(self, dim=None, keepdim=False):
    return _arg_extreme(self, dim, keepdim, False)


def all(self, dim=None, keepdim=False):
    return Tensor._wrap(self._xp().asarray(self._data.all(axis=_dims(self, dim),
                                                          keepdims=keepdim)))


def any(self, dim=None, keepdim=False):
    return Tensor._wrap(self._xp().asarray(self._data.any(axis=_dims(self, dim),
                                                          keepdims=keepdim)))


# ----- shape -----------------------------------------------------------------------------
def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def reshape(self, *shape):
    shape = _shape_args(shape)
    try:
        return ops.Reshape.apply(self, shape)
    except ValueError:
        from minigrad.ops import ShapeError
        raise ShapeError(f"shape {list(shape)} is invalid for input of size "
                         f"{self._data.size} (shape {tuple(self.shape)})") from None


def flatten(self, start_dim=0, end_dim=-1):
    nd = self._data.ndim
    if nd == 0:
        return reshape(self, 1)
    (s,), (e,) = _dims(self, start_dim), _dims(self, end_dim)
    if s > e:
        raise ValueError(f"flatten() has invalid args: start_dim {start_dim} cannot come after "
                         f"end_dim {end_dim}")
    shape = self.shape
    return reshape(self, shape[:s] + (-1,) + shape[e + 1:])


def squeeze(self, dim=None):
    if dim is None:
        return reshape(self, tuple(n for n in self.shape if n != 1))
    axes = _dims(self, dim) or ()
    return reshape(self, tuple(n for i, n in enumerate(self.shape)
                               if not (i in axes and n == 1)))


def unsqueeze(self, dim):
    nd = self._data.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                         f"but got {dim})")
    d = dim % nd
    return reshape(self, self.shape[:d] + (1,) + self.shape[d:])


def transpose(self, dim0, dim1):
    d0, d1 = (normalize_dims(d, self._data.ndim)[0] for d in (dim0, dim1))
    return ops.Transpose.apply(self, d0, d1)


def t(self):
    if self._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{self._data.ndim}D")
    return self.T if self._data.ndim == 2 else self


def permute(self, *dims):
    dims = _shape_args(dims)
    nd = self.ndim
    # NOTE: this module defines its own max/any (tensor methods), hence the explicit checks.
    if len(dims) != nd or sorted(d % nd if -nd <= d < nd else -1 for d in dims) != \
            list(range(nd)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {nd} dims")
    return ops.Permute.apply(self, tuple(d % nd for d in dims))


def expand(self, *sizes):
    sizes = _shape_args(sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes {len(sizes)} must be at least the number "
                         f"of dimensions {self.ndim}")
    shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        return ops.Expand.apply(self, shape)
    except ValueError:
        from minigrad.ops import ShapeError
        raise ShapeError(f"expand: shape {tuple(self.shape)} cannot be expanded to "
                         f"{sizes}") from None


def broadcast_to(self, shape):
    return expand(self, *shape)


def expand_as(self, other):
    return expand(self, *other.shape)


def view_as(self, other):
    return reshape(self, other.shape)


def __getitem__(self, idx):
    idx = _index(idx)
    try:
        return ops.GetItem.apply(self, idx)
    except IndexError as e:
        raise IndexError(f"{e} (tensor of shape {tuple(self.shape)})") from None


# ----- elementwise with arguments ----------------------------------------------------------
def clamp(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    return ops.Clamp.apply(self, min, max)


def maximum(self, other):
    a, b = _operand(self, other)
    return ops.Maximum.apply(a, b)


def minimum(self, other):
    a, b = _operand(self, other)
    return ops.Minimum.apply(a, b)


def leaky_relu(self, negative_slope=0.01):
    return ops.LeakyRelu.apply(self, negative_slope)


def softplus(self, beta=1.0, threshold=20.0):
    return ops.Softplus.apply(self, beta, threshold)


def softmax(self, dim=-1):
    from minigrad.nn import functional as F
    return F.softmax(self, dim)


def log_softmax(self, dim=-1):
    from minigrad.nn import functional as F
    return F.log_softmax(self, dim)


def masked_fill(self, mask, value):
    m = mask._data if isinstance(mask, Tensor) else mask
    return ops.Where.apply(Tensor._wrap(m), self._xp().asarray(value, dtype=self._data.dtype),
                           self)


def _nondiff(fname):
    def method(self):
        return Tensor._wrap(_result(getattr(self._xp(), fname)(self._data)))
    method.__name__ = fname
    return method


_METHODS = dict(
    __add__=_binary(ops.Add), __radd__=_binary(ops.Add, swap=True),
    __sub__=_binary(ops.Sub), __rsub__=_binary(ops.Sub, swap=True),
    __mul__=_binary(ops.Mul), __rmul__=_binary(ops.Mul, swap=True),
    __truediv__=__truediv__, __rtruediv__=__rtruediv__,
    __pow__=__pow__, __rpow__=__rpow__, __matmul__=__matmul__, __rmatmul__=__rmatmul__,
    __neg__=_unary(ops.Neg), __pos__=lambda self: self, __abs__=_unary(ops.Abs),
    __eq__=_compare("equal"), __ne__=_compare("not_equal"), __lt__=_compare("less"),
    __le__=_compare("less_equal"), __gt__=_compare("greater"),
    __ge__=_compare("greater_equal"), __getitem__=__getitem__,
    __and__=_compare("logical_and"), __or__=_compare("logical_or"),
    __xor__=_compare("logical_xor"), __invert__=_nondiff("logical_not"),
    eq=_compare("equal"), ne=_compare("not_equal"), lt=_compare("less"),
    le=_compare("less_equal"), gt=_compare("greater"), ge=_compare("greater_equal"),
    add=lambda self, other, alpha=1: self + (other * alpha if alpha != 1 else other),
    sub=lambda self, other, alpha=1: self - (other * alpha if alpha != 1 else other),
    mul=_binary(ops.Mul), div=__truediv__, pow=__pow__, matmul=__matmul__,
    neg=_unary(ops.Neg),
    exp=_unary(ops.Exp), log=_unary(ops.Log), log1p=_unary(ops.Log1p), sqrt=_unary(ops.Sqrt),
    abs=_unary(ops.Abs), sin=_unary(ops.Sin), cos=_unary(ops.Cos), tanh=_unary(ops.Tanh),
    sigmoid=_unary(ops.Sigmoid), relu=_unary(ops.Relu), logsigmoid=_unary(ops.LogSigmoid),
    rsqrt=lambda self: 1 / ops.Sqrt.apply(self), square=lambda self: ops.Pow.apply(self, 2),
    leaky_relu=leaky_relu, softplus=softplus, softmax=softmax, log_softmax=log_softmax,
    clamp=clamp, clip=clamp, maximum=maximum, minimum=minimum, masked_fill=masked_fill,
    sum=sum, mean=mean, max=max, min=min, amax=amax, var=var, std=std, logsumexp=logsumexp,
    amin=amin, norm=norm, argmax=argmax, argmin=argmin, all=all, any=any,
    reshape=reshape, view=reshape, flatten=flatten, squeeze=squeeze, unsqueeze=unsqueeze,
    transpose=transpose, swapaxes=transpose, t=t, permute=permute, expand=expand,
    broadcast_to=broadcast_to, expand_as=expand_as, view_as=view_as, reshape_as=view_as,
    isnan=_nondiff("isnan"), isinf=_nondiff("isinf"), isfinite=_nondiff("isfinite"),
    sign=_nondiff("sign"), floor=_nondiff("floor"), ceil=_nondiff("ceil"),
    round=_nondiff("round"), logical_not=_nondiff("logical_not"),
)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; hashing stays by identity

for _name, _ufunc in (("__iadd__", "add"), ("__isub__", "subtract"), ("__imul__", "multiply"),
                      ("__itruediv__", "true_divide")):
    setattr(Tensor, _name, _inplace_operator(_name.replace("__i", "__"), _ufunc))
