"""Functions that make tensors: from data, filled, ranges and random draws."""
import numpy as np

from minigrad import backend, dtypes
from minigrad.random import host_generator
from minigrad.tensor import Tensor, _to_array


def _finish(arr, dtype, device, requires_grad):
    if dtype is not None:
        npd = dtypes.to_numpy_dtype(dtype)
        if arr.dtype != npd:
            arr = arr.astype(npd)
    if device is not None:
        arr = backend.to_device(arr, device)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (lists, scalars, NumPy arrays, tensors)."""
    npd = None if dtype is None else dtypes.to_numpy_dtype(dtype)
    arr = _to_array(data, npd)
    if arr is data or isinstance(data, Tensor) and arr is data._data:
        arr = arr.copy()  # tensor() always copies, as torch's does
    return _finish(arr, None, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor() but shares memory with ``data`` where it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    npd = None if dtype is None else dtypes.to_numpy_dtype(dtype)
    return _finish(_to_array(data, npd), None, device, False)


def from_numpy(arr):
    """A tensor sharing memory with the NumPy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    dtypes.from_numpy_dtype(arr.dtype)
    return Tensor._wrap(arr)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _filled(fill, size, dtype, device, requires_grad):
    npd = dtypes.to_numpy_dtype(dtype or dtypes.DEFAULT_FLOAT)
    xp = backend.xp_for(device or "cpu")
    with backend.on_device(device or "cpu"):
        arr = xp.full(_size(size), fill, dtype=npd)
    return _finish(arr, None, None, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _filled(0, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else
                 dtypes.int64 if isinstance(fill_value, int) else dtypes.DEFAULT_FLOAT)
    return _filled(fill_value, _as_tuple(size), dtype, device, requires_grad)


def _as_tuple(size):
    return (size,) if isinstance(size, int) else tuple(size)


def _like(t, dtype, device):
    return dtype or t.dtype, device or t.device


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    vals = (start, end, step)
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, int) for v in vals) else dtypes.DEFAULT_FLOAT
    arr = np.arange(start, end, step, dtype=np.float64 if dtypes.to_numpy_dtype(dtype).kind
                    == "f" else None).astype(dtypes.to_numpy_dtype(dtype))
    return _finish(arr, None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    arr = np.linspace(start, end, steps).astype(dtypes.to_numpy_dtype(dtype or
                                                                      dtypes.DEFAULT_FLOAT))
    return _finish(arr, None, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    arr = np.eye(n, m, dtype=dtypes.to_numpy_dtype(dtype or dtypes.DEFAULT_FLOAT))
    return _finish(arr, None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) draws from the (seeded) host generator."""
    npd = dtypes.to_numpy_dtype(dtype or dtypes.DEFAULT_FLOAT)
    arr = host_generator(generator).random(_size(size)).astype(npd)
    return _finish(arr, None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal draws from the (seeded) host generator."""
    npd = dtypes.to_numpy_dtype(dtype or dtypes.DEFAULT_FLOAT)
    arr = host_generator(generator).standard_normal(_size(size)).astype(npd)
    return _finish(arr, None, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None):
    """Integers in [low, high); ``randint(high, size)`` as torch spells it too."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    arr = host_generator(generator).integers(low, high, _size((size,) if isinstance(size, int)
                                                              else tuple(size)))
    return _finish(arr.astype(dtypes.to_numpy_dtype(dtype or dtypes.int64)), None, device, False)


def randperm(n, *, generator=None, dtype=None, device=None):
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    arr = host_generator(generator).permutation(int(n))
    return _finish(arr.astype(dtypes.to_numpy_dtype(dtype or dtypes.int64)), None, device, False)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return rand(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return randn(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)
