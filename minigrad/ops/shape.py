"""Shape ops: reshape, transpose/permute, expand, indexing, cat and stack."""
from minigrad import backend
from minigrad.autograd.function import Function

__all__ = ["Reshape", "Transpose", "Permute", "Expand", "GetItem", "Cat", "Stack", "Cast"]


class Reshape(Function):
    __slots__ = ("shape",)
    saves = ()

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return gy.reshape(self.shape)


class Transpose(Function):
    __slots__ = ("d0", "d1")
    saves = ()

    def forward(self, x, d0, d1):
        self.d0, self.d1 = d0, d1
        return self.xp.swapaxes(x, d0, d1)

    def backward(self, gy):
        return self.xp.swapaxes(gy, self.d0, self.d1)


class Permute(Function):
    __slots__ = ("dims",)
    saves = ()

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, gy):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return gy.transpose(inv)


class Expand(Function):
    """Broadcast to a larger shape; the engine's unbroadcast sums the gradient back."""
    __slots__ = ()
    saves = ()

    def forward(self, x, shape):
        return self.xp.broadcast_to(x, shape)

    def backward(self, gy):
        return gy


class Cast(Function):
    """dtype conversion; the engine casts the gradient back to the input's dtype."""
    __slots__ = ()
    saves = ()

    def forward(self, x, np_dtype):
        return x.astype(np_dtype)

    def backward(self, gy):
        return gy


def _is_basic(idx):
    """True for int/slice/None/Ellipsis indexing, which never repeats an element."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    __slots__ = ("shape", "idx", "dtype")
    saves = ()

    def forward(self, x, idx):
        self.shape, self.idx, self.dtype = x.shape, idx, x.dtype
        return x[idx]

    def backward(self, gy):
        g = self.xp.zeros(self.shape, dtype=self.dtype)
        if _is_basic(self.idx):
            g[self.idx] = gy
        else:
            # NOTE: integer-array indices may repeat; scatter-*add* so each use counts.
            backend.index_add(g, self.idx, gy)
        return g


class Cat(Function):
    __slots__ = ("axis", "sizes")
    saves = ()

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, gy):
        out, start = [], 0
        index = [slice(None)] * gy.ndim
        for n, need in zip(self.sizes, self.needs_input_grad):
            if need:
                index[self.axis] = slice(start, start + n)
                out.append(gy[tuple(index)])
            else:
                out.append(None)
            start += n
        return tuple(out)


class Stack(Function):
    __slots__ = ("axis",)
    saves = ()

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return self.xp.stack(arrays, axis=axis)

    def backward(self, gy):
        return tuple(self.xp.take(gy, i, axis=self.axis) if need else None
                     for i, need in enumerate(self.needs_input_grad))
