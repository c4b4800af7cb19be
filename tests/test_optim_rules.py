"""Each optimizer's trajectory equals the spec's equations (spec/optimizers.md), written out here
independently in plain NumPy float64, for random θ₀, gradient sequences and hyperparameters."""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad import optim

SHAPE = (3,)
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)
vectors = hnp.arrays(np.float64, SHAPE, elements=finite)
grad_seqs = st.lists(vectors, min_size=1, max_size=20)
lrs = st.floats(0.0, 1.0)
unit = st.floats(0.0, 0.99)
small_nonneg = st.floats(0.0, 0.5)
epss = st.floats(1e-8, 1e-3)


def run_minigrad(cls, theta0, grads, **kw):
    """θ after each step, running minigrad's optimizer on a float64 parameter."""
    p = minigrad.tensor(theta0.copy(), dtype=minigrad.float64, requires_grad=True)
    opt = cls([p], **kw)
    out = []
    for g in grads:
        p.grad = minigrad.tensor(g.copy(), dtype=minigrad.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def assert_same_trajectory(got, want):
    scale = max(1.0, max(float(np.max(np.abs(w))) for w in want))
    for t, (a, b) in enumerate(zip(got, want), 1):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11 * scale, err_msg=f"step {t}")


# ----- the spec's equations, one function per optimizer ---------------------------------------
def spec_sgd(theta, grads, lr, momentum, dampening, weight_decay, nesterov, maximize):
    theta = theta.copy()
    b = None
    out = []
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            b = g if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta)
    return out


def spec_adam(theta, grads, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=False):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    v_max = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay != 0:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def spec_rmsprop(theta, grads, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    theta = theta.copy()
    v = np.zeros_like(theta)
    g_bar = np.zeros_like(theta)
    b = np.zeros_like(theta)
    out = []
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_bar = alpha * g_bar + (1 - alpha) * g
            v_tilde = v - g_bar ** 2
            # keep away from the kink: v − ḡ² cancelling to rounding noise (sign undefined)
            assume(np.all((v == 0) | (v_tilde > 1e-6 * v)))
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(theta)
    return out


def spec_adagrad(theta, grads, lr, lr_decay, weight_decay, initial_accumulator_value, eps,
                 maximize):
    theta = theta.copy()
    S = np.full_like(theta, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * theta
        S = S + g ** 2
        theta = theta - lr_t * g / (np.sqrt(S) + eps)
        out.append(theta)
    return out


# ----- hypothesis: every option of every optimizer --------------------------------------------
@st.composite
def sgd_kwargs(draw):
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]) | unit)
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.3]) | unit)
    return dict(lr=draw(lrs), momentum=momentum, dampening=dampening,
                weight_decay=draw(st.sampled_from([0.0]) | small_nonneg), nesterov=nesterov,
                maximize=draw(st.booleans()))


@given(theta=vectors, grads=grad_seqs, kw=sgd_kwargs())
def test_sgd_matches_spec(theta, grads, kw):
    assert_same_trajectory(run_minigrad(optim.SGD, theta, grads, **kw),
                           spec_sgd(theta, grads, **kw))


@st.composite
def adam_kwargs(draw):
    return dict(lr=draw(lrs), betas=(draw(st.floats(0.0, 0.99)), draw(st.floats(0.0, 0.9999))),
                eps=draw(epss), weight_decay=draw(st.sampled_from([0.0]) | small_nonneg),
                amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))


@given(theta=vectors, grads=grad_seqs, kw=adam_kwargs())
def test_adam_matches_spec(theta, grads, kw):
    assert_same_trajectory(run_minigrad(optim.Adam, theta, grads, **kw),
                           spec_adam(theta, grads, **kw))


@given(theta=vectors, grads=grad_seqs, kw=adam_kwargs())
def test_adamw_matches_spec(theta, grads, kw):
    assert_same_trajectory(run_minigrad(optim.AdamW, theta, grads, **kw),
                           spec_adam(theta, grads, decoupled=True, **kw))


@st.composite
def rmsprop_kwargs(draw):
    return dict(lr=draw(st.floats(0.0, 0.1)), alpha=draw(unit), eps=draw(epss),
                weight_decay=draw(st.sampled_from([0.0]) | small_nonneg),
                momentum=draw(st.sampled_from([0.0]) | unit), centered=draw(st.booleans()),
                maximize=draw(st.booleans()))


@given(theta=vectors, grads=grad_seqs, kw=rmsprop_kwargs())
def test_rmsprop_matches_spec(theta, grads, kw):
    want = spec_rmsprop(theta, grads, **kw)
    assert_same_trajectory(run_minigrad(optim.RMSprop, theta, grads, **kw), want)


@st.composite
def adagrad_kwargs(draw):
    return dict(lr=draw(lrs), lr_decay=draw(st.sampled_from([0.0]) | st.floats(0.0, 1.0)),
                weight_decay=draw(st.sampled_from([0.0]) | small_nonneg),
                initial_accumulator_value=draw(st.sampled_from([0.0]) | st.floats(0.0, 1.0)),
                eps=draw(st.floats(1e-10, 1e-3)), maximize=draw(st.booleans()))


@given(theta=vectors, grads=grad_seqs, kw=adagrad_kwargs())
def test_adagrad_matches_spec(theta, grads, kw):
    assert_same_trajectory(run_minigrad(optim.Adagrad, theta, grads, **kw),
                           spec_adagrad(theta, grads, **kw))


# ----- the conventions the spec pins, by hand ---------------------------------------------------
def test_sgd_first_momentum_step_is_undampened():
    # b₁ = g (no dampening on the first step), then b₂ = μ b₁ + (1 − τ) g
    out = run_minigrad(optim.SGD, np.array([1.0]), [np.array([0.5])] * 2, lr=0.1,
                       momentum=0.9, dampening=0.5)
    assert out[0][0] == pytest.approx(1.0 - 0.1 * 0.5, abs=1e-15)
    assert out[1][0] == pytest.approx(out[0][0] - 0.1 * (0.9 * 0.5 + 0.5 * 0.5), abs=1e-15)


def test_sgd_lr_stays_outside_the_momentum_buffer():
    # PyTorch's convention: changing lr rescales the very next step (the buffer holds no lr)
    p = minigrad.tensor([0.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = minigrad.tensor([1.0], dtype=minigrad.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    b2 = 0.9 * 1.0 + 1.0
    assert p.item() == pytest.approx(-0.1 - 1.0 * b2, abs=1e-15)


def test_adam_eps_outside_root_after_bias_correction():
    # one step with a tiny gradient: ε added to √v̂ (= |g|), not to √v (= |g|·√(1 − β2))
    g, eps, lr = 1e-6, 1e-6, 1.0
    out = run_minigrad(optim.Adam, np.array([0.0]), [np.array([g])], lr=lr, eps=eps)
    assert out[0][0] == pytest.approx(-lr * g / (abs(g) + eps), rel=1e-12)
    chainer_style = -lr * math.sqrt(1 - 0.999) / (1 - 0.9) * 0.1 * g / (
        math.sqrt(0.001 * g * g) + eps)
    assert abs(out[0][0] - chainer_style) > 0.1


def test_amsgrad_keeps_max_of_raw_v():
    p = minigrad.tensor([0.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.0, 0.5), amsgrad=True)
    for g in (2.0, 0.1):
        p.grad = minigrad.tensor([g], dtype=minigrad.float64)
        opt.step()
    v = 0.5 * (0.5 * 0 + 0.5 * 4.0) + 0.5 * 0.01
    assert opt.state[p]["exp_avg_sq"].item() == pytest.approx(v, rel=1e-15)
    assert opt.state[p]["max_exp_avg_sq"].item() == pytest.approx(2.0, rel=1e-15)
