"""Matrix products: matmul (1-D, 2-D and batched) and the fused linear layer."""
from minigrad.autograd.function import Function

__all__ = ["MatMul", "Linear", "ShapeError"]


class ShapeError(ValueError, RuntimeError):
    """Incompatible shapes. Both a ValueError and a RuntimeError (what torch raises)."""


class MatMul(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != kb:
            raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                             f"multiplied ({a.shape[-1]} != {kb})")
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        xp = self.xp
        a, b = self.a, self.b
        n0, n1 = self.needs_input_grad
        # Treat 1-D operands as a row (left) or a column (right) matrix, then undo that.
        A = a[None, :] if a.ndim == 1 else a
        B = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            gy = xp.expand_dims(gy, -2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            gy = xp.expand_dims(gy, -1)
        ga = gb = None
        if n0:
            ga = gy @ xp.swapaxes(B, -1, -2)
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if n1:
            gb = xp.swapaxes(A, -1, -2) @ gy
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


class Linear(Function):
    """y = x Wᵀ + b in one node: one matmul forward, at most three products backward."""
    __slots__ = ("x", "w")
    saves = (0, 1)

    def forward(self, x, w, b=None):
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
            raise ShapeError(f"linear: input shape {tuple(x.shape)} does not match weight shape "
                             f"{tuple(w.shape)} (expected a 2-D weight (out_features, "
                             f"in_features) whose in_features is the input's last dim)")
        self.x, self.w = x, w
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        needs = self.needs_input_grad
        x, w = self.x, self.w
        gx = gy @ w if needs[0] else None
        gw = gb = None
        if x.ndim > 2:
            x = x.reshape(-1, x.shape[-1])
            gy = gy.reshape(-1, gy.shape[-1])
        if needs[1]:
            gw = self.xp.outer(gy, x) if x.ndim == 1 else gy.T @ x
        if len(needs) > 2 and needs[2]:
            gb = gy.sum(axis=0) if gy.ndim > 1 else gy.copy()
        return gx, gw, gb
