"""Shared op checker for the test suite.

``check_op(fn, ref, arrays)`` runs one op three ways:

1. forward: ``fn`` on minigrad tensors equals ``ref`` (written with NumPy) on the same arrays,
   same shape and dtype, to that dtype's rounding;
2. backward: ``minigrad.autograd.gradcheck`` (central differences, float64) accepts ``fn``;
3. torch: when torch is importable, ``torch_fn`` (default: ``fn`` itself, since the API is
   torch's) gives the same output and the same vector-Jacobian product in float64.

``lib(t)`` returns the module that owns tensor ``t`` (minigrad or torch), so one lambda such as
``lambda a, b: lib(a).maximum(a, b)`` serves both libraries.
"""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np

import minigrad
from minigrad.autograd import gradcheck

try:
    import torch
except ImportError:  # torch is only an oracle: every check still runs against NumPy without it
    torch = None

FLOATS = (np.float32, np.float64)
# Forward tolerances per dtype: float32 results may differ from NumPy's in the last bits because
# the same formula can be evaluated in a different order.
TOL = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-13)}
TORCH_TOL = dict(rtol=1e-10, atol=1e-12)


def lib(t):
    """The module that owns tensor ``t``: ``torch`` for torch tensors, else ``minigrad``."""
    if torch is not None and isinstance(t, torch.Tensor):
        return torch
    return minigrad


# ----- strategies -------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Tuples of ``num_shapes`` mutually broadcastable shapes."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda b: b.input_shapes)


def away_from(x, points=(), margin=0.1):
    """``x`` with every value closer than ``margin`` to a kink in ``points`` pushed out to
    ``margin`` away, so finite differences never straddle the kink."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        d = x - p
        near = np.abs(d) < margin
        x = np.where(near, p + np.where(d < 0, -margin, margin), x)
    return x


@st.composite
def arrays(draw, shape, lo=-3.0, hi=3.0, away=(), margin=0.1, dtype=np.float64):
    """A float array of ``shape`` with values in [lo, hi], kept ``margin`` away from ``away``."""
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)
    x = draw(hnp.arrays(np.float64, shape, elements=elements))
    return away_from(x, away, margin).astype(dtype)


float_dtypes = st.sampled_from(FLOATS)


# ----- checks -----------------------------------------------------------------------------
def _mg(arrays, requires_grad=False, dtype=None):
    out = []
    for a in arrays:
        a = np.asarray(a)
        if dtype is not None and a.dtype.kind == "f":
            a = a.astype(dtype)
        out.append(minigrad.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f"))
    return out


def check_forward(fn, ref, arrays, dtype=None, rtol=None, atol=None):
    """``fn`` on minigrad tensors equals ``ref`` on the arrays (shape, dtype and values)."""
    arrays = [np.asarray(a) if dtype is None or np.asarray(a).dtype.kind != "f"
              else np.asarray(a).astype(dtype) for a in arrays]
    out = fn(*_mg(arrays))
    expected = np.asarray(ref(*arrays))
    assert isinstance(out, minigrad.Tensor), f"expected a Tensor, got {type(out).__name__}"
    assert tuple(out.shape) == expected.shape, f"shape {tuple(out.shape)} != {expected.shape}"
    assert out.dtype.np == expected.dtype, f"dtype {out.dtype} != {expected.dtype}"
    tol = dict(TOL.get(expected.dtype, dict(rtol=0, atol=0)))
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    np.testing.assert_allclose(out.numpy(), expected, **tol)
    return out


def check_grad(fn, arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """gradcheck (float64 central differences) accepts ``fn`` at ``arrays``."""
    ts = _mg(arrays, requires_grad=True, dtype=np.float64)
    assert gradcheck(fn, ts, eps=eps, atol=atol, rtol=rtol)


def check_torch(fn, arrays, torch_fn=None, rtol=None, atol=None, seed=0):
    """Forward and vector-Jacobian product equal torch's in float64 (skipped without torch)."""
    if torch is None:
        return
    tol = dict(TORCH_TOL)
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    ms = _mg(arrays, requires_grad=True, dtype=np.float64)
    out = fn(*ms)
    tts = []
    for a in arrays:
        a = np.asarray(a)
        a = a.astype(np.float64) if a.dtype.kind == "f" else a
        tts.append(torch.tensor(a, requires_grad=a.dtype.kind == "f"))
    tout = (torch_fn or fn)(*tts)
    assert tuple(out.shape) == tuple(tout.shape), f"{tuple(out.shape)} vs torch {tout.shape}"
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **tol)
    if not out.requires_grad:
        return
    v = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(minigrad.tensor(v))
    tout.backward(torch.tensor(v))
    for i, (m, t) in enumerate(zip(ms, tts)):
        if not t.requires_grad:
            continue
        tg = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        mgrad = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        assert mgrad.shape == tg.shape, f"grad {i}: shape {mgrad.shape} vs torch {tg.shape}"
        np.testing.assert_allclose(mgrad, tg, err_msg=f"gradient of input {i}", **tol)


def check_op(fn, ref, arrays, torch_fn=None, dtype=None, grad=True, torch_check=True,
             rtol=None, atol=None):
    """Forward vs NumPy (in ``dtype``), backward vs gradcheck, both vs torch."""
    check_forward(fn, ref, arrays, dtype=dtype, rtol=rtol, atol=atol)
    if dtype is not None and np.dtype(dtype) != np.float64:
        check_forward(fn, ref, arrays, dtype=np.float64)
    if grad:
        check_grad(fn, arrays)
    if torch_check:
        check_torch(fn, arrays, torch_fn)


class SimpleNN(minigrad.nn.Module):
    """The seed document's SimpleNN (2-10-1, ReLU, Sigmoid), with its old-style super() call."""

    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = minigrad.nn.Linear(2, 10)
        self.relu = minigrad.nn.ReLU()
        self.fc2 = minigrad.nn.Linear(10, 1)
        self.sigmoid = minigrad.nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc2(self.relu(self.fc1(x))))
