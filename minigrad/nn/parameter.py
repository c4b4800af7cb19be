"""Parameter: a Tensor that a Module registers as trainable state."""
import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor, _to_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable state (``requires_grad=True`` by default).

    Built from a Tensor it shares that tensor's storage, as torch's does.
    """
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data._data if isinstance(data, Tensor) else _to_array(data)
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # Tensor keeps its state in __slots__; rebuild through __init__ so pickle/deepcopy give
        # a Parameter with the same values and requires_grad.
        return (Parameter, (backend.to_host(self._data).copy(), self._requires_grad))

    def __deepcopy__(self, memo):
        p = Parameter(self._data.copy(), self._requires_grad)
        if self.grad is not None:
            p.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = p
        return p
