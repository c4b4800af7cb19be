"""Small synthetic datasets (no downloads) for 2-D classification.

Each function returns ``(X, y)``: ``X`` float32 of shape (n, 2), ``y`` float32 of shape (n, 1)
holding the class label (0., 1., ...), ready for BCELoss; use ``y[:, 0].astype(np.int64)`` for
CrossEntropyLoss. ``as_tensor=True`` returns minigrad Tensors instead of NumPy arrays. The same
``seed`` always gives the same data.
"""
import math
import numbers

import numpy as np

__all__ = ["linear2d", "moons", "circles", "spirals"]


def _check(n, noise=0.0):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) \
            or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _finish(X, y, as_tensor):
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if as_tensor:
        from minigrad.tensor import Tensor
        return Tensor(X), Tensor(y)
    return X, y


def linear2d(n=1000, seed=42, as_tensor=False):
    """The seed example's problem: X uniform in [0, 10)², y = [x1 + x2 > 10].

    Uses ``RandomState(seed).rand(n, 2) * 10``, the same values as the seed's
    ``np.random.seed(42); np.random.rand(1000, 2) * 10``; y is decided in float64 as there.
    """
    _check(n)
    X = np.random.RandomState(seed).rand(n, 2) * 10
    y = X[:, 0] + X[:, 1] > 10
    return _finish(X, y, as_tensor)


def moons(n=1000, noise=0.1, seed=0, as_tensor=False):
    """Two interleaving half circles (class 0 on top, class 1 below), Gaussian noise added."""
    _check(n, noise)
    rng = np.random.RandomState(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, math.pi, n_out)
    t_in = np.linspace(0, math.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + rng.normal(0.0, noise, X.shape) if noise else X
    perm = rng.permutation(n)
    return _finish(X[perm], y[perm], as_tensor)


def circles(n=1000, noise=0.05, factor=0.5, seed=0, as_tensor=False):
    """A circle of radius ``factor`` (class 1) inside one of radius 1 (class 0)."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor has to be between 0 and 1, got {factor!r}")
    rng = np.random.RandomState(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * math.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * math.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + rng.normal(0.0, noise, X.shape) if noise else X
    perm = rng.permutation(n)
    return _finish(X[perm], y[perm], as_tensor)


def spirals(n=1000, noise=0.2, classes=2, seed=0, as_tensor=False):
    """``classes`` interleaved spiral arms (CS231n's construction): arm k has radius r in [0, 1]
    and angle 4k + 4r plus Gaussian noise of std ``noise``."""
    _check(n, noise)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an int >= 2, got {classes!r}")
    rng = np.random.RandomState(seed)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    Xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(0.0, 1.0, m) * noise
        Xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(m, k))
    X, y = np.concatenate(Xs), np.concatenate(ys)
    perm = rng.permutation(n)
    return _finish(X[perm], y[perm], as_tensor)
