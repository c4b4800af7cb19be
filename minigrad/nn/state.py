"""Loading a state_dict into a Module: validate everything, then write in place.

Values may be minigrad Tensors or NumPy arrays (a torch state_dict after ``.numpy()``); they are
cast to each parameter's dtype and moved to its device, as torch's ``copy_`` does. Nothing is
written until every key and shape has been checked, so an error leaves the module as it was, and
the writes go into the existing arrays so an optimizer holding the Parameters stays valid.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.ops.linalg import ShapeError
from minigrad.tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_array(value, key):
    """A state_dict value (minigrad Tensor, NumPy array, anything array-like) as an array."""
    if isinstance(value, Tensor):
        return value._data
    if backend.is_array(value):
        return value
    try:
        arr = np.asarray(value)
    except Exception as e:  # e.g. a torch tensor that requires grad
        raise TypeError(f"state_dict value for '{key}' cannot be read as an array "
                        f"({type(value).__name__}): {e}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"state_dict value for '{key}' is not numeric "
                        f"(got {type(value).__name__} of {arr.dtype})")
    return arr


def load_state_dict(module, state_dict, strict=True):
    """Copy ``state_dict`` into ``module``'s parameters and persistent buffers; returns
    ``(missing_keys, unexpected_keys)``. See ``Module.load_state_dict``."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    own = OrderedDict(module._state_items())
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict.keys() if k not in own]
    errors = []
    if strict:
        if unexpected:
            errors.append("Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if missing:
            errors.append("Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
    staged = []
    size_errors = []
    for key, t in own.items():
        if key not in state_dict:
            continue
        arr = _as_array(state_dict[key], key)
        if tuple(arr.shape) != tuple(t.shape):
            size_errors.append(f"size mismatch for {key}: copying a param with shape "
                               f"{tuple(arr.shape)} from checkpoint, the shape in current "
                               f"model is {tuple(t.shape)}.")
            continue
        # NOTE: values are cast to the parameter's dtype and moved to its device, as
        # torch's copy_ does; the cast happens here so that writing cannot fail later.
        arr = backend.to_device(arr, t.device)
        staged.append((t, arr.astype(t._data.dtype, copy=False)))
    if size_errors:
        raise ShapeError(f"Error(s) in loading state_dict for {module._get_name()}:\n\t"
                         + "\n\t".join(errors + size_errors))
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {module._get_name()}:\n\t"
                           + "\n\t".join(errors))
    with no_grad():
        for t, arr in staged:
            if arr is not t._data:
                t._data[...] = arr
                t._version += 1
    return _IncompatibleKeys(missing, unexpected)
