"""Function: the base of every differentiable op, and the one place a graph edge is recorded."""
import itertools

import numpy as np

from minigrad import backend
from minigrad.autograd import grad_mode


# Marks a node whose saved output was changed in place after it was recorded (see
# Tensor._modified); the engine then raises instead of using the stale value.
_sequence = itertools.count()
OUTPUT_MODIFIED = ("output modified",)


class Function:
    """An op with ``forward`` over arrays and ``backward`` returning one gradient per input.

    Subclasses declare the arrays they keep for backward in ``__slots__``; ``saves`` lists the
    input positions whose *values* backward reads (``None``: all of them), so that an in-place
    change to one of those inputs is caught at backward time by the version counters;
    ``saves_output = True`` does the same for an op whose backward reads its own output.
    ``backward`` works on raw arrays and never mutates ``gy``; it returns ``None`` for an input
    that needs no gradient (``self.needs_input_grad[i]`` is False), and a distinct array per
    input (or ``gy`` itself): the engine may accumulate into a fresh array it is handed.
    """
    __slots__ = ("inputs", "needs_input_grad", "versions", "xp", "out_ref", "seq")
    saves = None
    saves_output = False  # True when backward reads the op's own output (exp, tanh, ...)
    _saved_slots = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        names = []
        for klass in cls.__mro__:
            if klass is Function:
                break
            names.extend(klass.__dict__.get("__slots__", ()))
        cls._saved_slots = tuple(names)
        # NOTE: a straight-line `_free` per class (generated once, here) drops the saved arrays
        # with plain attribute stores; a setattr loop costs about 1 µs per node on every backward.
        body = "".join(f"    self.{n} = None\n" for n in ("inputs",) + cls._saved_slots)
        namespace = {}
        exec(f"def _free(self):\n{body}", namespace)
        namespace["_free"].__doc__ = Function._free.__doc__
        cls._free = namespace["_free"]

    def forward(self, *arrays, **kwargs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run forward on the inputs' arrays; record the node when a gradient can flow."""
        fn = object.__new__(cls)
        arrays = []
        needs = []
        first = None
        for t in inputs:
            if isinstance(t, Tensor):
                a = t._data
                if first is None:
                    first = a
                elif (type(a) is not np.ndarray or type(first) is not np.ndarray) \
                        and not backend.same_device(first, a):
                    raise RuntimeError(
                        f"Expected all tensors to be on the same device, but found at least two "
                        f"devices, {backend.device_of(first)} and {backend.device_of(a)} "
                        f"(in {cls.__name__})")
                arrays.append(a)
                needs.append(t._requires_grad)
            else:
                arrays.append(t)
                needs.append(False)
        fn.xp = np if type(first) is np.ndarray else backend.get_array_module(first)
        # (one loop above serves forward and recording: this is the per-op hot path)
        record = grad_mode.enabled and True in needs
        if record:
            fn.needs_input_grad = tuple(needs)
        try:
            out = fn.forward(*arrays, **kwargs)
        except ValueError as e:
            if isinstance(e, ShapeError):
                raise
            # NumPy's broadcasting errors, re-raised at the op with every input's shape.
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
            raise ShapeError(f"{cls.__name__}: {e} (input shapes: {shapes})") from None
        if type(out) is not np.ndarray and isinstance(out, np.generic):
            out = np.asarray(out)
        t = Tensor._wrap(out)
        if record:
            fn.inputs = inputs
            # Versions matter only for inputs whose values backward reads (``saves``).
            fn.versions = None if cls.saves == () else tuple(
                [x._version if isinstance(x, Tensor) else None for x in inputs])
            fn.out_ref = None
            # Creation order is a topological order: backward visits nodes newest first.
            fn.seq = next(_sequence)
            t.grad_fn = fn
            t._requires_grad = True
        return t

    def _free(self):
        """Drop what backward needed; the node can no longer be backpropagated through."""
        self.inputs = None
        for name in self._saved_slots:
            setattr(self, name, None)

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


from minigrad.ops.linalg import ShapeError  # noqa: E402
from minigrad.tensor import Tensor  # noqa: E402  (tensor.py imports this module's users lazily)
