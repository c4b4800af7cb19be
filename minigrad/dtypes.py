"""minigrad's dtypes: thin named wrappers over NumPy dtypes, spelled as torch spells them."""
import numpy as np


class dtype:
    """A tensor element type (``minigrad.float32`` and friends)."""
    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype, is_floating_point):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"minigrad.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np.str,))


float16 = dtype("float16", np.float16, True)
float32 = dtype("float32", np.float32, True)
float64 = dtype("float64", np.float64, True)
uint8 = dtype("uint8", np.uint8, False)
int8 = dtype("int8", np.int8, False)
int16 = dtype("int16", np.int16, False)
int32 = dtype("int32", np.int32, False)
int64 = dtype("int64", np.int64, False)
bool_ = dtype("bool", np.bool_, False)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"half": float16, "float": float32, "double": float64, "short": int16,
                 "int": int32, "long": int64})

DEFAULT_FLOAT = float32


def from_numpy_dtype(np_dtype):
    """The minigrad dtype of a NumPy dtype; TypeError for ones minigrad does not support."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"Unsupported dtype {np_dtype!r}: minigrad supports "
                        + ", ".join(d.name for d in _ALL)) from None


def to_numpy_dtype(d):
    """Resolve a user-given dtype (minigrad dtype, NumPy dtype, name, or Python type)."""
    if isinstance(d, dtype):
        return d.np
    import builtins
    if d is builtins.float:  # Python's float is a double, as torch reads it
        return float64.np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool_.np
    if isinstance(d, str):
        name = d[len("minigrad."):] if d.startswith("minigrad.") else d
        if name in _BY_NAME:
            return _BY_NAME[name].np
        raise TypeError(f"Unknown dtype {d!r}")
    try:
        npd = np.dtype(d)
    except TypeError:
        raise TypeError(f"Unknown dtype {d!r}") from None
    return from_numpy_dtype(npd).np
