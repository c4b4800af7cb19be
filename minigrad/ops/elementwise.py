"""Elementwise ops. Gradients come back in the broadcast shape; the engine sums them down."""
from minigrad.autograd.function import Function

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "Pow", "RPow", "PowT", "Exp", "Log", "Log1p",
           "Sqrt", "Abs", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "LeakyRelu", "Softplus",
           "LogSigmoid", "Clamp", "Maximum", "Minimum", "Where", "stable_sigmoid"]


class Add(Function):
    __slots__ = ()
    saves = ()

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    __slots__ = ()
    saves = ()

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        return gy, (-gy if n1 else None)


class Mul(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        return (gy * self.b if n0 else None), (gy * self.a if n1 else None)


class Div(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        n0, n1 = self.needs_input_grad
        ga = gy / self.b if n0 else None
        gb = -gy * self.a / (self.b * self.b) if n1 else None
        return ga, gb


class Neg(Function):
    __slots__ = ()
    saves = ()

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """x ** c for a constant exponent c."""
    __slots__ = ("x", "c")

    def forward(self, x, c):
        self.x, self.c = x, c
        if c == 2:
            return x * x
        return x ** c

    def backward(self, gy):
        c = self.c
        if c == 2:
            return gy * (self.x + self.x), None
        if c == 0:  # NOTE: d/dx x**0 is 0 everywhere, also at x = 0 (where c·x**-1 is NaN)
            return self.xp.zeros_like(gy * self.x), None
        return gy * (c * self.x ** (c - 1)), None


class RPow(Function):
    """c ** x for a constant base c."""
    __slots__ = ("y", "c")
    saves_output = True
    saves = (1,)

    def forward(self, c, x):
        self.c = c
        self.y = self.xp.power(c, x)
        return self.y

    def backward(self, gy):
        return None, gy * self.y * self.xp.log(self.xp.asarray(self.c, dtype=self.y.dtype))


class PowT(Function):
    """a ** b for two tensors."""
    __slots__ = ("a", "b", "y")
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, gy):
        xp = self.xp
        n0, n1 = self.needs_input_grad
        ga = gy * self.b * self.a ** (self.b - 1) if n0 else None
        gb = None
        if n1:
            # NOTE: d/db a**b = a**b log a, taken as 0 where a <= 0 (as torch does for a == 0);
            # log only ever sees positive values, so no warnings.
            pos = self.a > 0
            loga = xp.where(pos, xp.log(xp.where(pos, self.a, 1)), 0)
            gb = gy * self.y * loga
        return ga, gb


class Exp(Function):
    __slots__ = ("y",)
    saves_output = True
    saves = ()

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        return gy / self.x


class Log1p(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return self.xp.log1p(x)

    def backward(self, gy):
        return gy / (1 + self.x)


class Sqrt(Function):
    __slots__ = ("y",)
    saves_output = True
    saves = ()

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Abs(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, gy):
        return gy * self.xp.sign(self.x)


class Sin(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return self.xp.sin(x)

    def backward(self, gy):
        return gy * self.xp.cos(self.x)


class Cos(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return self.xp.cos(x)

    def backward(self, gy):
        return -gy * self.xp.sin(self.x)


class Tanh(Function):
    __slots__ = ("y",)
    saves_output = True
    saves = ()

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def stable_sigmoid(xp, x):
    """1 / (1 + e^-x) without overflow: exp only ever sees −|x|.

    σ(x) = r for x ≥ 0 and e·r for x < 0, with e = exp(−|x|) and r = 1 / (1 + e); the
    temporaries are reused in place (the large-array cost is memory traffic).
    """
    if x.ndim == 0:  # NumPy returns 0-d results as scalars, which cannot be written in place
        return stable_sigmoid(xp, x.reshape(1)).reshape(())
    e = xp.abs(x)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    r = e + 1
    xp.reciprocal(r, out=r)
    e *= r
    return xp.where(x >= 0, r, e)


class Sigmoid(Function):
    __slots__ = ("y",)
    saves_output = True
    saves = ()

    def forward(self, x):
        self.y = stable_sigmoid(self.xp, x)
        return self.y

    def backward(self, gy):
        y = self.y
        return gy * (y * (1 - y))


class Relu(Function):
    __slots__ = ("mask",)
    saves = ()

    def forward(self, x):
        self.mask = x > 0
        # NOTE: maximum(x, 0) is one pass; x * mask would be a second full-size product.
        return self.xp.maximum(x, x.dtype.type(0))

    def backward(self, gy):
        return gy * self.mask


class LeakyRelu(Function):
    __slots__ = ("mask", "slope")
    saves = ()

    def forward(self, x, negative_slope=0.01):
        self.mask = x > 0
        self.slope = negative_slope
        return self.xp.where(self.mask, x, x * negative_slope)

    def backward(self, gy):
        return self.xp.where(self.mask, gy, gy * self.slope)


class Softplus(Function):
    """log(1 + e^(βx)) / β, linear above ``threshold`` as torch's is."""
    __slots__ = ("x", "beta", "threshold")

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = self.xp
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * beta
        soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / beta
        return xp.where(bx > threshold, x, soft)

    def backward(self, gy):
        bx = self.x * self.beta
        return gy * self.xp.where(bx > self.threshold, 1, stable_sigmoid(self.xp, bx))


class LogSigmoid(Function):
    """log σ(x) = −softplus(−x), stable for any x."""
    __slots__ = ("x",)

    def forward(self, x):
        xp = self.xp
        self.x = x
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * stable_sigmoid(self.xp, -self.x)


class Clamp(Function):
    __slots__ = ("mask",)
    saves = ()

    def forward(self, x, lo=None, hi=None):
        xp = self.xp
        y = x
        mask = None
        if lo is not None:
            mask = x >= lo
            y = xp.maximum(y, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            m = x <= hi
            mask = m if mask is None else mask & m
            y = xp.minimum(y, xp.asarray(hi, dtype=x.dtype))
        self.mask = mask
        return y if y is not x else x.copy()

    def backward(self, gy):
        return gy if self.mask is None else gy * self.mask


class Maximum(Function):
    """Elementwise max; at ties the gradient is split evenly, as torch does."""
    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        w = (a > b) + 0.5 * (a == b)
        n0, n1 = self.needs_input_grad
        return (gy * w if n0 else None), (gy * (1 - w) if n1 else None)


class Minimum(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.minimum(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        w = (a < b) + 0.5 * (a == b)
        n0, n1 = self.needs_input_grad
        return (gy * w if n0 else None), (gy * (1 - w) if n1 else None)


class Where(Function):
    __slots__ = ("cond",)
    saves = (0,)

    def forward(self, cond, a, b):
        self.cond = cond
        return self.xp.where(cond, a, b)

    def backward(self, gy):
        n0, n1, n2 = self.needs_input_grad
        xp = self.xp
        zero = xp.zeros((), dtype=gy.dtype)
        return (None, xp.where(self.cond, gy, zero) if n1 else None,
                xp.where(self.cond, zero, gy) if n2 else None)
