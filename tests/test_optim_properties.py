"""Properties every user relies on: lr = 0 is a no-op, maximize mirrors minimize, Adam's first
step has size ≈ lr, Adagrad's rate never grows, SGD weight decay is L2 in the loss, and AdamW's
decoupled decay is not Adam + L2."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad import optim

vectors = hnp.arrays(np.float64, (4,), elements=st.floats(-3, 3, allow_subnormal=False))
grad_seqs = st.lists(vectors, min_size=1, max_size=12)

# Option sets covering every switch of every optimizer (lr is set by each test).
OPTION_SETS = [
    (optim.SGD, {}), (optim.SGD, dict(momentum=0.9)),
    (optim.SGD, dict(momentum=0.9, dampening=0.5, weight_decay=0.1)),
    (optim.SGD, dict(momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.Adam, {}), (optim.Adam, dict(amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, {}), (optim.AdamW, dict(amsgrad=True, weight_decay=0.5)),
    (optim.RMSprop, {}), (optim.RMSprop, dict(momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, dict(centered=True, momentum=0.5)),
    (optim.Adagrad, {}),
    (optim.Adagrad, dict(lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.3)),
]
IDS = [f"{c.__name__}-{'-'.join(kw) or 'plain'}" for c, kw in OPTION_SETS]


def trajectory(cls, theta0, grads, **kw):
    p = minigrad.tensor(theta0.copy(), dtype=minigrad.float64, requires_grad=True)
    opt = cls([p], **kw)
    out = []
    for g in grads:
        p.grad = minigrad.tensor(np.asarray(g, dtype=np.float64).copy())
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


@pytest.mark.parametrize("cls, kw", OPTION_SETS, ids=IDS)
@settings(max_examples=10)
@given(theta=vectors, grads=grad_seqs)
def test_lr_zero_never_moves_theta(cls, kw, theta, grads):
    for th in trajectory(cls, theta, grads, lr=0.0, **kw):
        np.testing.assert_array_equal(th, theta)


@pytest.mark.parametrize("cls, kw", OPTION_SETS, ids=IDS)
@settings(max_examples=10)
@given(theta=vectors, grads=grad_seqs)
def test_maximize_mirrors_minimize(cls, kw, theta, grads):
    # maximizing with gradients g takes exactly the steps minimizing takes with −g
    up = trajectory(cls, theta, grads, lr=0.05, maximize=True, **kw)
    down = trajectory(cls, theta, [-g for g in grads], lr=0.05, **kw)
    for a, b in zip(up, down):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls, kw", OPTION_SETS, ids=IDS)
def test_maximize_climbs_and_minimize_descends(cls, kw):
    # f(θ) = ½‖θ‖²: minimizing shrinks ‖θ‖, maximizing grows it. Weight decay stays off:
    # AdamW's decoupled decay shrinks θ whatever the direction of the gradient step.
    kw = dict(kw, weight_decay=0)
    theta = np.array([1.0, -2.0, 0.5, 3.0])
    for maximize, sign in ((False, -1), (True, 1)):
        p = minigrad.tensor(theta.copy(), requires_grad=True)
        opt = cls([p], lr=0.01, maximize=maximize, **kw)
        for _ in range(3):
            opt.zero_grad()
            (0.5 * (p * p).sum()).backward()
            opt.step()
        change = np.linalg.norm(p.detach().numpy()) - np.linalg.norm(theta)
        assert sign * change > 0


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@given(g=st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6), lr=st.floats(1e-4, 1.0),
       eps=st.floats(0.0, 1e-7))
def test_adam_first_step_is_lr_g_over_abs_g_plus_eps(cls, g, lr, eps):
    # bias correction makes m̂₁ = g and v̂₁ = g², so Δθ = −lr·g / (|g| + ε): size ≈ lr for any |g|
    p = minigrad.tensor([0.0], dtype=minigrad.float64, requires_grad=True)
    opt = cls([p], lr=lr, eps=eps, weight_decay=0)
    p.grad = minigrad.tensor([g], dtype=minigrad.float64)
    opt.step()
    step = p.item()
    assert step == pytest.approx(-lr * g / (abs(g) + eps), rel=1e-12)
    assert abs(step) == pytest.approx(lr, rel=0.1)


# gradients on a 1e-3 grid: no update so small that it vanishes below θ's last bit
grid_vectors = hnp.arrays(np.float64, (4,), elements=st.integers(-3000, 3000).map(lambda k: k / 1e3))


@settings(max_examples=20)
@given(grads=st.lists(grid_vectors, min_size=1, max_size=12), lr_decay=st.sampled_from([0.0, 0.5]) | st.floats(0, 1),
       wd=st.sampled_from([0.0, 0.1]), init=st.floats(0, 1))
def test_adagrad_effective_rate_never_increases(grads, lr_decay, wd, init):
    p = minigrad.tensor(np.ones(4), dtype=minigrad.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, lr_decay=lr_decay, weight_decay=wd,
                        initial_accumulator_value=init)
    with optim.trace(opt) as tr:
        for g in grads:
            p.grad = minigrad.tensor(g.copy())
            opt.step()
    rates = [e["intermediates"]["clr"] / e["intermediates"]["denom"] for _, e in tr.entries(0)]
    for before, after in zip(rates, rates[1:]):
        assert np.all(after <= before)
    if wd == 0:
        # without decay the observed |Δθ / g| is that rate
        for (_, e), rate in zip(tr.entries(0), rates):
            ok = e["grad"] != 0
            # (Δθ is a difference of two θ values: relative rounding grows as Δθ shrinks)
            np.testing.assert_allclose(-e["effective_step"][ok], rate[ok], rtol=1e-8)


def _regression_problem():
    rng = np.random.default_rng(1)
    X = minigrad.tensor(rng.normal(size=(16, 3)))
    y = minigrad.tensor(rng.normal(size=(16, 1)))
    W0 = rng.normal(size=(1, 3))
    return X, y, W0


@pytest.mark.parametrize("kw", [{}, dict(momentum=0.9), dict(momentum=0.9, nesterov=True)])
def test_sgd_weight_decay_equals_l2_term_in_loss(kw):
    # SGD(weight_decay=λ) on L  ≡  SGD on L + λ/2·‖θ‖²
    X, y, W0 = _regression_problem()
    lam = 0.1
    runs = []
    for decay_in_optimizer in (True, False):
        W = minigrad.tensor(W0.copy(), requires_grad=True)
        opt = optim.SGD([W], lr=0.05, weight_decay=lam if decay_in_optimizer else 0, **kw)
        traj = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((minigrad.linear(X, W) - y) ** 2).mean()
            if not decay_in_optimizer:
                loss = loss + lam / 2 * (W * W).sum()
            loss.backward()
            opt.step()
            traj.append(W.detach().numpy().copy())
        runs.append(traj)
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_adamw_decay_is_decoupled_not_adam_l2():
    # With a zero gradient AdamW only decays: θ_t = (1 − γλ)^t θ₀ exactly as the spec says,
    # while Adam's coupled λθ is normalised by √v̂ and moves θ by ≈ lr per step instead.
    lr, lam, theta0 = 0.01, 0.1, np.array([2.0, -0.5, 1.5, 4.0])
    zeros = [np.zeros(4)] * 10
    adamw = trajectory(optim.AdamW, theta0, zeros, lr=lr, weight_decay=lam)
    adam = trajectory(optim.Adam, theta0, zeros, lr=lr, weight_decay=lam)
    for t, (a, b) in enumerate(zip(adamw, adam), 1):
        np.testing.assert_allclose(a, theta0 * (1 - lr * lam) ** t, rtol=1e-13)
        np.testing.assert_allclose(np.abs(theta0 - b), lr * t, rtol=0.02)  # ≈ lr per step
    assert not np.allclose(adamw[-1], adam[-1], rtol=1e-3)


def test_adamw_equals_adam_when_no_decay():
    rng = np.random.default_rng(3)
    theta0 = rng.normal(size=4)
    grads = list(rng.normal(size=(8, 4)))
    for a, b in zip(trajectory(optim.AdamW, theta0, grads, lr=0.01, weight_decay=0),
                    trajectory(optim.Adam, theta0, grads, lr=0.01, weight_decay=0)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls, kw", OPTION_SETS, ids=IDS)
def test_float32_params_stay_float32_and_in_place(cls, kw):
    p = minigrad.randn(3, 2, requires_grad=True)
    data = p._data
    opt = cls([p], lr=0.01, **kw)
    v0 = p._version
    p.grad = minigrad.randn(3, 2)
    opt.step()
    assert p._data is data and p._data.dtype == np.float32
    assert p._version == v0 + 1
    for value in opt.state[p].values():
        if isinstance(value, minigrad.Tensor):
            assert value._data.dtype == np.float32 and value.shape == p.shape
