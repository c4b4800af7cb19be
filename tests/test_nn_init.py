"""nn.init: torch's gains and fans, the drawn distributions, seeding, in-place writes."""
import math

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.nn import init


@pytest.mark.parametrize("nl,param,expected", [
    ("linear", None, 1), ("sigmoid", None, 1), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))), ("leaky_relu", math.sqrt(5),
                                                          math.sqrt(2 / 6)), ("selu", None, 0.75)])
def test_calculate_gain(nl, param, expected):
    assert init.calculate_gain(nl, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nl, param in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("conv2d", None)]:
        assert init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param), rel=1e-15)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swishy")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(minigrad.empty(4, 3)) == (3, 4)
    assert init._calculate_fan_in_and_fan_out(minigrad.empty(8, 2, 3, 3)) == (18, 72)
    with pytest.raises(ValueError, match="fewer than 2"):
        init._calculate_fan_in_and_fan_out(minigrad.empty(5))


def _stats(t):
    a = t.detach().numpy()
    return a, a.mean(), a.std()


@pytest.mark.parametrize("fn,kw,lo_hi,std", [
    (init.uniform_, dict(a=-2.0, b=3.0), (-2, 3), 5 / math.sqrt(12)),
    (init.normal_, dict(mean=1.0, std=0.5), None, 0.5),
    (init.xavier_uniform_, dict(gain=2.0), (-2 * math.sqrt(6 / 500), 2 * math.sqrt(6 / 500)),
     2 * math.sqrt(6 / 500) / math.sqrt(3)),
    (init.xavier_normal_, {}, None, math.sqrt(2 / 500)),
    (init.kaiming_uniform_, dict(nonlinearity="relu"), (-math.sqrt(6 / 200), math.sqrt(6 / 200)),
     math.sqrt(2 / 200)),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), None,
     math.sqrt(2 / 300)),
])
def test_distributions(fn, kw, lo_hi, std):
    w = nn.Parameter(minigrad.empty(300, 200))
    params_before = w._data
    assert fn(w, **kw) is w
    assert w._data is params_before and w.requires_grad  # in place, still a leaf
    a, _, s = _stats(w)
    if lo_hi:
        assert a.min() >= lo_hi[0] and a.max() <= lo_hi[1]
    assert abs(s - std) < 0.02 * std


def test_init_is_seeded_and_writes_outside_the_graph():
    w = nn.Parameter(minigrad.empty(3, 3))
    minigrad.manual_seed(9)
    init.xavier_uniform_(w)
    first = w.detach().numpy().copy()
    minigrad.manual_seed(9)
    init.xavier_uniform_(w)
    np.testing.assert_array_equal(w.detach().numpy(), first)
    assert w.grad_fn is None
    g = minigrad.Generator().manual_seed(1)
    init.normal_(w, generator=g)
    a = w.detach().numpy().copy()
    init.normal_(w, generator=g.manual_seed(1))
    np.testing.assert_array_equal(w.detach().numpy(), a)


def test_constant_fills():
    w = nn.Parameter(minigrad.empty(2, 3))
    assert np.all(init.ones_(w).detach().numpy() == 1)
    assert np.all(init.zeros_(w).detach().numpy() == 0)
    assert np.all(init.constant_(w, 0.25).detach().numpy() == 0.25)
    np.testing.assert_array_equal(init.eye_(w).detach().numpy(), np.eye(2, 3))


def test_trunc_normal_stays_in_bounds():
    w = minigrad.empty(100, 100)
    a = init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5).numpy()
    assert a.min() >= -0.5 and a.max() <= 0.5 and a.std() > 0.2


def test_validation():
    with pytest.raises(ValueError, match="fan_sideways"):
        init.kaiming_uniform_(minigrad.empty(2, 2), mode="fan_sideways")
    with pytest.raises(ValueError, match="std"):
        init.normal_(minigrad.empty(2), std=-1.0)
    with pytest.raises(TypeError):
        init.zeros_(np.ones(3))
