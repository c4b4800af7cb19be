"""Devices and array modules: the one place that knows about CuPy.

Everything else asks for ``xp`` (NumPy or CuPy) through :func:`get_array_module` and writes the
same array expressions for both. CuPy is imported lazily, so importing minigrad never needs it.
"""
import numpy as np

_cupy = None          # the cupy module once imported, False if it is not usable
_ARRAY_TYPES = (np.ndarray,)


def _load_cupy():
    global _cupy, _ARRAY_TYPES
    if _cupy is None:
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device")
            _cupy = cupy
            _ARRAY_TYPES = (np.ndarray, cupy.ndarray)
        except Exception:  # ImportError, CUDA driver errors: all mean "no GPU here"
            _cupy = False
    return _cupy


def cuda_is_available():
    """True when CuPy imports and sees at least one GPU."""
    return bool(_load_cupy())


def cuda_device_count():
    cp = _load_cupy()
    return cp.cuda.runtime.getDeviceCount() if cp else 0


class Device:
    """A device: ``cpu`` (NumPy) or ``cuda:N`` (CuPy)."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))


CPU = Device("cpu")


def device(spec=None):
    """Parse ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or a Device; ValueError for anything else."""
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        return Device("cuda", spec)
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    s = spec.strip().lower()
    if s == "cpu":
        return CPU
    if s == "cuda":
        return Device("cuda", 0)
    if s.startswith("cuda:") and s[5:].isdigit():
        return Device("cuda", int(s[5:]))
    raise ValueError(f"Unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def _require_cuda(dev):
    cp = _load_cupy()
    if not cp:
        raise RuntimeError(
            f"Device {dev} requested but CUDA is not available "
            "(install minigrad[gpu] and check that CuPy sees a GPU)")
    n = cp.cuda.runtime.getDeviceCount()
    if dev.index >= n:
        raise RuntimeError(f"Device {dev} requested but only {n} CUDA device(s) exist")
    return cp


def get_array_module(arr):
    """NumPy for host arrays, CuPy for device arrays."""
    if type(arr) is np.ndarray or _cupy is None or _cupy is False:
        return np
    return _cupy if isinstance(arr, _cupy.ndarray) else np


def xp_for(dev):
    """The array module that holds data for ``dev``."""
    dev = device(dev)
    return np if dev.type == "cpu" else _require_cuda(dev)


def is_array(x):
    return isinstance(x, _ARRAY_TYPES)


def device_of(arr):
    if type(arr) is np.ndarray:
        return CPU
    dev = getattr(arr, "device", "cpu")
    if isinstance(dev, str):  # NumPy scalars and ndarray subclasses say "cpu"
        return CPU
    return Device("cuda", dev.id)


def to_device(arr, dev):
    """``arr`` on ``dev`` (the same array when it is already there)."""
    dev = device(dev)
    if dev.type == "cpu":
        return to_host(arr)
    cp = _require_cuda(dev)
    if isinstance(arr, cp.ndarray) and arr.device.id == dev.index:
        return arr
    with cp.cuda.Device(dev.index):
        return cp.asarray(arr)


def to_host(arr):
    """A NumPy array (the same one for host arrays)."""
    if type(arr) is np.ndarray:
        return arr
    if isinstance(arr, np.generic):
        return np.asarray(arr)
    return arr.get()


def on_device(dev):
    """Context that makes ``dev`` current for CuPy allocations (a no-op on CPU)."""
    dev = device(dev)
    if dev.type == "cpu":
        import contextlib
        return contextlib.nullcontext()
    return _require_cuda(dev).cuda.Device(dev.index)


def same_device(a, b):
    """True when arrays ``a`` and ``b`` live on one device."""
    ta, tb = type(a), type(b)
    if ta is tb is np.ndarray:
        return True
    if (ta is np.ndarray) != (tb is np.ndarray):
        return False
    return a.device.id == b.device.id


def synchronize():
    """Wait for queued GPU work (for timing); a no-op without CUDA."""
    cp = _load_cupy()
    if cp:
        cp.cuda.Device().synchronize()


def memory_pool_bytes():
    """Bytes held by CuPy's default memory pool (0 without CUDA).

    The pool keeps freed blocks for reuse, so after ``free_all_blocks()`` and a run this is
    the run's high-water mark; it is not a peak counter by itself.
    """
    cp = _load_cupy()
    return cp.get_default_memory_pool().total_bytes() if cp else 0


def index_add(target, idx, values):
    """``target[idx] += values`` with repeated indices each adding (np.add.at / scatter_add)."""
    if type(target) is np.ndarray:
        np.add.at(target, idx, values)
    else:
        import cupyx
        cupyx.scatter_add(target, idx, values)
