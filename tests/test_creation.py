"""Creation functions, default dtypes and seeded randomness."""
import json

import numpy as np
import pytest

import minigrad
from helpers import torch


@pytest.mark.parametrize("fn, fill", [(minigrad.zeros, 0.0), (minigrad.ones, 1.0),
                                      (minigrad.empty, None)])
def test_filled_shapes_and_dtypes(fn, fill, device):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = fn(*args, device=device)
        assert t.shape == (2, 3) and t.dtype == minigrad.float32
        assert t.device == minigrad.device(device)
        if fill is not None:
            assert (t.cpu().numpy() == fill).all()
    assert fn().shape == ()
    assert fn(2, dtype=minigrad.int64).dtype == minigrad.int64
    t = fn(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


@pytest.mark.parametrize("size", [(-1,), (2.5,), ("3",), (True,)])
def test_bad_sizes(size):
    with pytest.raises(ValueError, match="sizes"):
        minigrad.zeros(*size)


def test_full_infers_dtype_from_the_fill_value():
    assert minigrad.full((2,), 1.5).dtype == minigrad.float32
    assert minigrad.full((2,), 3).dtype == minigrad.int64
    assert minigrad.full((2,), True).dtype == minigrad.bool
    assert minigrad.full(3, 2.0).tolist() == [2.0, 2.0, 2.0]
    if torch is not None:
        assert str(torch.full((2,), 3).dtype) == "torch.int64"


def test_like_functions():
    x = minigrad.ones(2, 3, dtype=minigrad.float64)
    for f in (minigrad.zeros_like, minigrad.ones_like, minigrad.empty_like,
              minigrad.rand_like, minigrad.randn_like):
        y = f(x)
        assert y.shape == (2, 3) and y.dtype == minigrad.float64 and y is not x
    assert minigrad.zeros_like(x).tolist() == [[0.0] * 3] * 2
    assert minigrad.ones_like(x, dtype=minigrad.int64).dtype == minigrad.int64
    f = minigrad.full_like(x, 7)
    assert f.dtype == minigrad.float64 and (f.numpy() == 7).all()


@pytest.mark.parametrize("args, kwargs", [
    ((5,), {}), ((2, 7), {}), ((1, 2, 0.25), {}), ((0, 1, 0.1), {}), ((5, 0, -1), {}),
    ((3,), {"dtype": minigrad.float32}), ((0.5, 3.0), {}),
])
def test_arange_matches_torch(args, kwargs):
    t = minigrad.arange(*args, **kwargs)
    expected = np.arange(*args)
    assert t.shape == expected.shape
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)
    if torch is not None:
        tkw = {"dtype": torch.float32} if kwargs else {}
        tt = torch.arange(*args, **tkw)
        assert t.dtype.name == str(tt.dtype).replace("torch.", "")
        np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="step"):
        minigrad.arange(0, 1, 0)


def test_linspace_and_eye():
    np.testing.assert_allclose(minigrad.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert minigrad.linspace(0, 1, 5).dtype == minigrad.float32
    with pytest.raises(ValueError):
        minigrad.linspace(0, 1, -1)
    np.testing.assert_array_equal(minigrad.eye(3).numpy(), np.eye(3))
    assert minigrad.eye(2, 3).shape == (2, 3)


def test_manual_seed_reproduces_every_random_function():
    def draw():
        return [minigrad.rand(3).tolist(), minigrad.randn(2, 2).tolist(),
                minigrad.randint(0, 10, (4,)).tolist(), minigrad.randperm(6).tolist(),
                minigrad.ones(3).normal_().tolist(), minigrad.ones(3).uniform_(-1, 1).tolist()]
    minigrad.manual_seed(123)
    a = draw()
    minigrad.manual_seed(123)
    b = draw()
    minigrad.manual_seed(124)
    c = draw()
    assert a == b and a != c


def test_random_shapes_dtypes_and_ranges():
    r = minigrad.rand(1000)
    assert r.dtype == minigrad.float32 and 0 <= r.min().item() and r.max().item() < 1
    n = minigrad.randn(4000, dtype=minigrad.float64)
    assert n.dtype == minigrad.float64
    assert abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    i = minigrad.randint(3, 7, (2, 50))
    assert i.dtype == minigrad.int64 and i.shape == (2, 50)
    assert i.min().item() >= 3 and i.max().item() <= 6
    assert minigrad.randint(5, (3,)).shape == (3,)  # torch's randint(high, size)
    p = minigrad.randperm(10)
    assert p.dtype == minigrad.int64 and sorted(p.tolist()) == list(range(10))
    assert minigrad.rand(2, 3, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="high"):
        minigrad.randint(5, 5, (2,))
    with pytest.raises(ValueError):
        minigrad.randperm(-1)
    with pytest.raises(TypeError, match="size"):
        minigrad.randint(0, 5)


def test_generator_objects_are_independent_and_serialisable():
    g = minigrad.Generator().manual_seed(7)
    a = minigrad.randn(3, generator=g).tolist()
    minigrad.manual_seed(0)
    state = json.loads(json.dumps(minigrad.get_rng_state()))
    x = minigrad.rand(3).tolist()
    minigrad.set_rng_state(state)
    assert minigrad.rand(3).tolist() == x
    g2 = minigrad.Generator().manual_seed(7)
    assert minigrad.randn(3, generator=g2).tolist() == a
    assert g2.initial_seed() == 7
    with pytest.raises(TypeError):
        minigrad.manual_seed("7")
    with pytest.raises(ValueError, match="state"):
        minigrad.set_rng_state({"seed": 1})
    with pytest.raises(TypeError, match="generator"):
        minigrad.rand(2, generator=42)


def test_same_seed_same_values_on_every_device(device):
    minigrad.manual_seed(5)
    a = minigrad.randn(4).tolist()
    minigrad.manual_seed(5)
    b = minigrad.randn(4, device=device).cpu().tolist()
    assert a == b


def test_tensor_device_argument(device):
    t = minigrad.tensor([1.0, 2.0], device=device)
    assert t.device == minigrad.device(device)


def test_python_types_as_dtypes_follow_torch():
    import builtins
    assert minigrad.zeros(2, dtype=builtins.float).dtype == minigrad.float64
    assert minigrad.zeros(2, dtype=builtins.int).dtype == minigrad.int64
    assert minigrad.zeros(2, dtype=builtins.bool).dtype == minigrad.bool
    assert minigrad.ones(2).to(builtins.float).dtype == minigrad.float64
    if torch is not None:
        assert torch.zeros(2, dtype=builtins.float).dtype == torch.float64
