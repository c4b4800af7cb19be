"""The fused Functions behind nn.functional: softmax, dropout and the losses.

Each loss is one graph node whose backward is the closed-form gradient (e.g. σ(x) − y for
BCE-with-logits), which is both faster and more stable than chaining elementwise ops.
``reduction`` is applied inside forward; backward scales by 1/N for 'mean'.
"""
import numpy as np

from minigrad.autograd.function import Function

REDUCTIONS = ("mean", "sum", "none")
# NOTE: BCE's gradient denominator p(1 − p) never drops below this. torch spells it 1e-12 but
# stores it as a C float, so the value is float32(1e-12); the same here, to match it exactly.
BCE_EPS = float(np.float32(1e-12))


def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "sum":
        return s
    return s / (loss.size if denom is None else denom)


def _grad_scale(gy, reduction, n):
    """The upstream gradient as it reaches each element: gy/N for 'mean', gy otherwise."""
    return gy / n if reduction == "mean" else gy


class Softmax(Function):
    """y = e^(x − max) / Σ e^(x − max) along ``axis``; dx = y (gy − Σ gy·y)."""
    __slots__ = ("y", "axis")
    saves = ()

    def forward(self, x, axis):
        xp = self.xp
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.y, self.axis = e, axis
        return e

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x − logsumexp(x) along ``axis``; dx = gy − softmax(x) Σ gy."""
    __slots__ = ("y", "axis")
    saves = ()

    def forward(self, x, axis):
        self.y, self.axis = log_softmax(self.xp, x, axis), axis
        return self.y

    def backward(self, gy):
        return gy - self.xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def log_softmax(xp, x, axis):
    m = x.max(axis=axis, keepdims=True)
    z = x - xp.where(xp.isfinite(m), m, 0)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


class DropoutMask(Function):
    """y = x · mask, where mask holds 0 or 1/(1 − p) (drawn by the caller)."""
    __slots__ = ("mask",)
    saves = ()

    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, gy):
        return gy * self.mask


class BinaryCrossEntropy(Function):
    """ℓ = −w [y log p + (1 − y) log(1 − p)], each log clamped at −100 (torch's definition).

    dℓ/dp = w (p − y) / max(p (1 − p), ε): finite even at p = 0 or 1.
    dℓ/dy = w (log(1 − p) − log p), with the same clamped logs.
    ``d`` = p (1 − p) comes from the caller's range check (p ∈ [0, 1] ⟺ d ≥ 0) and is reused
    as the gradient's denominator; ``endpoints`` (some d == 0, i.e. p is 0 or 1) says whether a
    log can be −inf, so only then is NumPy's divide warning silenced.
    """
    __slots__ = ("p", "y", "w", "d", "reduction", "endpoints")

    def forward(self, p, y, w, d, endpoints, reduction):
        self.p, self.y, self.w, self.d = p, y, w, d
        self.reduction, self.endpoints = reduction, endpoints
        log_p, log_q = self._logs()
        # In place, this is y·log p + (1 − y)·log(1 − p); the sign is applied after reducing.
        log_q *= p.dtype.type(1) - y
        log_p *= y
        log_p += log_q
        if w is not None:
            log_p = _imul(log_p, w)
        if reduction == "none":
            return self.xp.negative(log_p, out=log_p)
        s = -log_p.sum()
        return s if reduction == "sum" else s / log_p.size

    def _logs(self):
        xp, p = self.xp, self.p
        if self.endpoints:
            with np.errstate(divide="ignore"):
                log_p, log_q = xp.log(p), xp.log1p(-p)
        else:
            log_p, log_q = xp.log(p), xp.log1p(-p)
        # NOTE: log(0) = −inf is clamped to −100 so a saturated sigmoid still gives a finite loss.
        floor = p.dtype.type(-100)
        xp.maximum(log_p, floor, out=log_p)
        xp.maximum(log_q, floor, out=log_q)
        return log_p, log_q

    def backward(self, gy):
        xp, p, y, w = self.xp, self.p, self.y, self.w
        g = _grad_scale(gy, self.reduction, p.size)
        if w is not None:
            g = g * w
        gp = gt = None
        if self.needs_input_grad[0]:
            gp = _imul(p - y, g)  # g (p − y) / max(d, ε): torch's order of operations
            gp /= xp.maximum(self.d, p.dtype.type(BCE_EPS))
        if self.needs_input_grad[1]:
            log_p, log_q = self._logs()
            log_q -= log_p
            gt = _imul(log_q, g)
        return gp, gt


def _imul(a, b):
    """a · b, in place in ``a`` when the product has a's shape (b broadcasts into it)."""
    if b.ndim <= a.ndim and all(m == 1 or m == n for m, n in zip(b.shape[::-1], a.shape[::-1])):
        a *= b
        return a
    return a * b


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = w [(1 − y) x + (1 + (pw − 1) y) softplus(−x)], softplus(−x) = log1p(e^−|x|) + max(−x, 0).

    dℓ/dx = w [(1 + (pw − 1) y) σ(x) − pw y]  (= w (σ(x) − y) without pos_weight).
    """
    __slots__ = ("x", "y", "w", "pw", "sp", "reduction")

    def forward(self, x, y, w, pw, reduction):
        xp = self.xp
        # exp only ever sees −|x|, so any logit (even ±1e4) is safe.
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        if pw is None:
            loss = (1 - y) * x + sp
        else:
            loss = (1 - y) * x + (1 + (pw - 1) * y) * sp
        if w is not None:
            loss = loss * w
        self.x, self.y, self.w, self.pw, self.sp, self.reduction = x, y, w, pw, sp, reduction
        return _reduce(loss, reduction)

    def backward(self, gy):
        from minigrad.ops.elementwise import stable_sigmoid
        xp, x, y, pw = self.xp, self.x, self.y, self.pw
        g = _grad_scale(gy, self.reduction, x.size)
        if self.w is not None:
            g = g * self.w
        gx = gt = None
        if self.needs_input_grad[0]:
            s = stable_sigmoid(xp, x)
            gx = g * (s - y) if pw is None else g * ((1 + (pw - 1) * y) * s - pw * y)
        if self.needs_input_grad[1]:
            gt = g * (-x) if pw is None else g * ((pw - 1) * self.sp - x)
        return gx, gt


class _Pointwise(Function):
    """Shared shape of MSE and L1: ℓ = f(x − y), dℓ/dx = f'(x − y), dℓ/dy = −f'(x − y)."""
    __slots__ = ("d", "reduction")

    def forward(self, x, y, reduction):
        self.d, self.reduction = x - y, reduction
        return _reduce(self.f(self.d), reduction)

    def backward(self, gy):
        g = _grad_scale(gy, self.reduction, self.d.size) * self.df(self.d)
        n0, n1 = self.needs_input_grad[:2]
        return (g if n0 else None), (-g if n1 else None), None


class MSE(_Pointwise):
    """ℓ = (x − y)², dℓ/dx = 2 (x − y)."""
    __slots__ = ()

    def f(self, d):
        return d * d

    def df(self, d):
        return 2 * d


class L1(_Pointwise):
    """ℓ = |x − y|, dℓ/dx = sign(x − y) (0 at the kink, as torch)."""
    __slots__ = ()

    def f(self, d):
        return self.xp.abs(d)

    def df(self, d):
        return self.xp.sign(d)


def class_coefficients(xp, x, axis, target, weight, ignore_index, label_smoothing):
    """A with ℓ_i = −Σ_c A_ic z_ic, for z = log-probabilities; and the 'mean' denominator.

    Class indices t: A_ic = (1 − ε) w_t [c = t] + ε w_c / C, zero where t = ignore_index, and
    the mean divides by Σ_i w_{t_i} over kept samples (torch's normalisation).
    Probabilities q (same shape as the input): A = w_c ((1 − ε) q + ε / C), mean over samples.
    """
    shape, dtype = x.shape, x.dtype
    C = shape[axis]
    bshape = [1] * len(shape)
    bshape[axis] = C
    w = None if weight is None else weight.reshape(bshape)
    eps = label_smoothing
    if target.dtype.kind == "f":
        a = target if eps == 0 else target * (1 - eps) + eps / C
        if w is not None:
            a = a * w
        return a.astype(dtype, copy=False), target.size // C
    keep = target != ignore_index
    t = xp.expand_dims(xp.where(keep, target, 0), axis)
    onehot = xp.arange(C).reshape(bshape) == t
    kept = xp.expand_dims(keep, axis)
    wt = 1 if w is None else (w * onehot).sum(axis=axis, keepdims=True)
    a = onehot * (wt * (1 - eps))
    if eps:
        a = a + (eps / C) * (1 if w is None else w)
    a = a * kept
    denom = (wt * kept).sum() if w is not None else kept.sum()
    return a.astype(dtype, copy=False), denom


class CrossEntropy(Function):
    """ℓ_i = −Σ_c A_ic log softmax(x)_ic (fused); dℓ_i/dx_i = softmax(x_i) Σ_c A_ic − A_i."""
    __slots__ = ("a", "y", "axis", "scale", "reduction")
    saves = ()

    def forward(self, x, a, denom, axis, reduction):
        z = log_softmax(self.xp, x, axis)
        loss = -(a * z).sum(axis=axis)
        self.a, self.y, self.axis, self.reduction = a, z, axis, reduction
        self.scale = denom
        return _reduce(loss, reduction, denom).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp, a, axis = self.xp, self.a, self.axis
        g = gy / self.scale if self.reduction == "mean" else gy
        if self.reduction == "none":
            g = xp.expand_dims(g, axis)
        return g * (xp.exp(self.y) * a.sum(axis=axis, keepdims=True) - a), None


class NLL(Function):
    """ℓ_i = −Σ_c A_ic z_ic for log-probabilities z; dℓ/dz = −A."""
    __slots__ = ("a", "axis", "scale", "reduction")
    saves = ()

    def forward(self, z, a, denom, axis, reduction):
        loss = -(a * z).sum(axis=axis)
        self.a, self.axis, self.reduction, self.scale = a, axis, reduction, denom
        return _reduce(loss, reduction, denom).astype(z.dtype, copy=False)

    def backward(self, gy):
        g = gy / self.scale if self.reduction == "mean" else gy
        if self.reduction == "none":
            g = self.xp.expand_dims(g, self.axis)
        return -g * self.a, None
