"""Tensor: an array (NumPy or CuPy) plus what reverse-mode autograd needs to know about it."""
import weakref

import numpy as np

from minigrad import backend, dtypes


def _to_array(data, np_dtype=None):
    """Host array from Python data; Python floats default to float32, as in torch."""
    if isinstance(data, Tensor):
        return data._data if np_dtype is None else data._data.astype(np_dtype)
    if backend.is_array(data):
        if np_dtype is None:
            dtypes.from_numpy_dtype(data.dtype)  # rejects complex, object, strings...
            return data
        return data.astype(np_dtype, copy=False)
    if type(data).__module__.split(".")[0] == "cupy":
        backend.cuda_is_available()  # registers CuPy's array type
        return data if np_dtype is None else data.astype(np_dtype, copy=False)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d.item() if isinstance(d, Tensor) and d.numel() == 1 else
                (d.tolist() if isinstance(d, Tensor) else d) for d in data]
    try:
        arr = np.asarray(data, dtype=np_dtype)
    except ValueError as e:
        raise ValueError(f"Cannot build a tensor from {type(data).__name__} data: {e}") from None
    if arr.dtype == object or arr.dtype.kind in "USVMmc":
        raise TypeError(f"Cannot build a tensor from {type(data).__name__} of "
                        f"{arr.dtype} elements (expected numbers)")
    if np_dtype is None:
        if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.int64)
        else:
            dtypes.from_numpy_dtype(arr.dtype)  # rejects dtypes minigrad lacks
    return arr


class _Handle:
    """Returned by register_hook; ``remove()`` unregisters."""
    __slots__ = ("hooks", "key")

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class Tensor:
    """An n-dimensional array that can record the ops applied to it for backpropagation."""
    __slots__ = ("_data", "grad", "_requires_grad", "grad_fn", "_version", "_hooks",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, data, requires_grad=False):
        self._data = _to_array(data)
        self.grad = None
        self._requires_grad = False
        self.grad_fn = None
        self._version = 0
        self._hooks = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr):
        """A new graph-free tensor around ``arr`` (no checks: the hot path)."""
        t = object.__new__(Tensor)
        t._data = arr
        t.grad = None
        t._requires_grad = False
        t.grad_fn = None
        t._version = 0
        t._hooks = None
        t._retains_grad = False
        return t

    # ----- attributes ---------------------------------------------------------------------
    @property
    def data(self):
        """A tensor sharing this one's storage, outside the graph (torch's ``.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else _to_array(value)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and not self.is_floating_point():
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if not value and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def size(self, dim=None):
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def numel(self):
        return int(self._data.size)

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def element_size(self):
        return self._data.dtype.itemsize

    @property
    def T(self):
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    # ----- conversion -----------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return backend.to_host(self._data).tolist()

    def numpy(self):
        """The values as a NumPy array (shared on CPU, copied from a GPU)."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_host(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def detach(self):
        return Tensor._wrap(self._data)

    def detach_(self):
        if self.grad_fn is not None:
            self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        from minigrad.ops import Cast
        return Cast.apply(self, self._data.dtype)  # astype copies

    def contiguous(self):
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        dev = kwargs.pop("device", None)
        dt = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, (str, backend.Device)):
                dev = a
            elif a is not None:
                dt = a
        out = self
        if dt is not None:
            npd = dtypes.to_numpy_dtype(dt)
            if npd != self._data.dtype:
                from minigrad.ops import Cast
                if npd.kind == "f":
                    out = Cast.apply(out, npd)
                else:  # integer/bool results carry no gradient (as in torch)
                    out = Tensor._wrap(out._data.astype(npd))
        if dev is not None:
            dev = backend.device(dev)
            if dev != out.device:
                out = _ToDevice.apply(out, dev)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(backend.device("cuda" if device is None else device))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    # ----- autograd -------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        run_backward = _engine().run_backward
        if create_graph:
            raise NotImplementedError("minigrad does not record the backward pass "
                                      "(create_graph=True, higher-order gradients)")
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        g = _initial_grad(self, gradient)
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = run_backward([self], [g], bool(retain_graph), capture=inputs)
            for t, gi in zip(inputs, grads):
                if gi is not None:
                    if t.grad is None:
                        t.grad = Tensor._wrap(gi)
                    else:
                        t.grad._data += gi
            return
        run_backward([self], [g], bool(retain_graph))

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True
            self.grad_fn.out_ref = weakref.ref(self)

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new
        gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = {}
        key = object()
        self._hooks[key] = hook
        if self.grad_fn is not None:
            self.grad_fn.out_ref = weakref.ref(self)
        return _Handle(self._hooks, key)

    def _xp(self):
        return np if type(self._data) is np.ndarray else backend.get_array_module(self._data)

    # ----- Python protocol ------------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol; detach() first")
        t = Tensor._wrap(self._data.copy())
        t._requires_grad = self._requires_grad
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        return t

    def __reduce_ex__(self, protocol):
        # Values, dtype, device and requires_grad travel; the graph, grad and hooks do not.
        return (_rebuild, (backend.to_host(self._data), self._requires_grad, str(self.device)))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous")
        return bool(self._data.reshape(()).item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __format__(self, spec):
        if self._data.size == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        arr = backend.to_host(self._data)
        if arr.dtype.kind == "f":
            finite = arr[np.isfinite(arr)]
            integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
            body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4,
                                   floatmode="maxprec" if integral else "fixed")
        else:
            body = np.array2string(arr, separator=", ", prefix="tensor(")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if arr.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _rebuild(arr, requires_grad, device):
    t = Tensor._wrap(arr if device == "cpu" else backend.to_device(arr, device))
    t._requires_grad = bool(requires_grad)
    return t


def _engine():
    # engine.py imports this module, so it is bound on first use (a cached module lookup).
    global _ENGINE
    if _ENGINE is None:
        from minigrad.autograd import engine
        _ENGINE = engine
    return _ENGINE


_ENGINE = None


def _initial_grad(t, gradient):
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return t._xp().ones(t._data.shape, t._data.dtype)  # (ones_like is 3x slower)
    g = gradient._data if isinstance(gradient, Tensor) else _to_array(gradient)
    if g.shape != t.shape:
        from minigrad.ops import ShapeError
        raise ShapeError(f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and "
                         f"output has a shape of {tuple(t.shape)}")
    return backend.to_device(g, t.device).astype(t._data.dtype, copy=False)


def _index(idx):
    """Tensors inside an index become their arrays."""
    if isinstance(idx, Tensor):
        return idx._data
    if isinstance(idx, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in idx)
    if isinstance(idx, list):
        return np.asarray([i.item() if isinstance(i, Tensor) else i for i in idx])
    return idx


from minigrad.autograd.function import Function  # noqa: E402


class _ToDevice(Function):
    """Copy between devices; the gradient travels back to the source device."""
    __slots__ = ("src",)
    saves = ()

    def forward(self, x, dev):
        self.src = backend.device_of(x)
        return backend.to_device(x, dev)

    def backward(self, gy):
        return backend.to_device(gy, self.src)

    @classmethod
    def apply(cls, x, dev):
        # The generic apply would pick the source's array module; that is fine for forward.
        return super().apply(x, dev)


from minigrad import tensor_inplace, tensor_methods  # noqa: E402,F401  (attach the methods)
