"""minigrad.datasets: the seed's data exactly, shapes/dtypes, seeding, validation."""
import numpy as np
import pytest

import minigrad
from minigrad import datasets


def test_linear2d_reproduces_the_seed_exactly():
    np.random.seed(42)
    X = np.random.rand(1000, 2) * 10
    y = (X[:, 0] + X[:, 1] > 10).astype(np.float32)
    Xd, yd = datasets.linear2d()
    np.testing.assert_array_equal(Xd, X.astype(np.float32))
    np.testing.assert_array_equal(yd, y.reshape(-1, 1))
    assert Xd.dtype == yd.dtype == np.float32 and yd.shape == (1000, 1)


@pytest.mark.parametrize("fn", [datasets.linear2d, datasets.moons, datasets.circles,
                                datasets.spirals])
def test_shapes_dtypes_seeding_and_tensors(fn):
    X, y = fn(n=101, seed=3)
    assert X.shape == (101, 2) and y.shape == (101, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    X2, y2 = fn(n=101, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(fn(n=101, seed=4)[0], X)
    Xt, yt = fn(n=101, seed=3, as_tensor=True)
    assert isinstance(Xt, minigrad.Tensor) and Xt.dtype == minigrad.float32
    np.testing.assert_array_equal(Xt.numpy(), X)
    assert set(np.unique(y)) <= {0.0, 1.0} and len(np.unique(y)) == 2


def test_geometry_without_noise():
    X, y = datasets.circles(n=200, noise=0.0, factor=0.3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y[:, 0] == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y[:, 0] == 1], 0.3, rtol=1e-6)
    X, y = datasets.moons(n=200, noise=0.0)
    top = X[y[:, 0] == 0]
    np.testing.assert_allclose(np.linalg.norm(top, axis=1), 1.0, rtol=1e-6)
    X, y = datasets.spirals(n=300, noise=0.0, classes=3)
    assert sorted(np.unique(y)) == [0.0, 1.0, 2.0]
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-6)


@pytest.mark.parametrize("fn", [datasets.linear2d, datasets.moons, datasets.circles,
                                datasets.spirals])
def test_validation(fn):
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n must be"):
            fn(n=n)
    if fn is not datasets.linear2d:
        for noise in (-0.1, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="noise"):
                fn(noise=noise)
