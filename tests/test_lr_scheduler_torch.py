"""Every scheduler against torch.optim.lr_scheduler: the same kwargs to both, random
hyperparameters, two param groups, 300 steps; lr and momentum (beta1) must agree to 1e-9
relative in float64 (they agree bit for bit: the same float operations in the same order)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.optim import lr_scheduler as S
from test_lr_scheduler_helpers import make_opt, momentum_of

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler

STEPS = 300
TOL = 1e-9
WORST = {}  # scheduler case -> worst relative deviation seen (printed at the end with -s)


def torch_opt(lrs, kind, **kwargs):
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}[kind]
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **kwargs)


def rel_dev(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def compare(case, build, lrs=(0.1, 0.03), kind="sgd", opt_kwargs=None, metrics=None,
            epochs=None, steps=STEPS):
    """Build the schedule in both libraries and step both; assert and record the deviation."""
    opt_kwargs = opt_kwargs or {}
    mine_opt, torch_o = make_opt(lrs, kind, **opt_kwargs), torch_opt(lrs, kind, **opt_kwargs)
    mine, theirs = build(S, mine_opt), build(T, torch_o)
    worst = 0.0
    for i in range(steps):
        for g, h in zip(mine_opt.param_groups, torch_o.param_groups):
            worst = max(worst, rel_dev(g["lr"], h["lr"]))
            if momentum_of(h) is not None:
                worst = max(worst, rel_dev(momentum_of(g), momentum_of(h)))
        assert mine.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=TOL, abs=0)
        if i == 0:  # one optimizer step marks both as stepped (the schedules ignore the rest)
            mine_opt.step()
            torch_o.step()
        args = () if metrics is None else (metrics[i],)
        args = args if epochs is None else (epochs[i],)
        mine.step(*args)
        theirs.step(*args)
    WORST[case] = max(WORST.get(case, 0.0), worst)
    assert worst <= TOL, f"{case}: worst relative deviation {worst:.3e}"


def teardown_module():
    if WORST:
        print("\nworst relative deviation from torch per scheduler:")
        for case, dev in sorted(WORST.items()):
            print(f"  {case:28s} {dev:.3e}")
        print(f"  {'overall':28s} {max(WORST.values()):.3e}")


lr_pair = st.tuples(st.floats(1e-4, 1.0), st.floats(1e-4, 1.0))
gamma_st = st.floats(0.9, 0.999)
fast = settings(max_examples=15)


@fast
@given(lr_pair, st.integers(1, 40), gamma_st)
def test_steplr(lrs, step_size, gamma):
    compare("StepLR", lambda L, o: L.StepLR(o, step_size=step_size, gamma=gamma), lrs)


@fast
@given(lr_pair, st.lists(st.integers(0, 299), max_size=6), gamma_st)
def test_multisteplr(lrs, milestones, gamma):
    compare("MultiStepLR",
            lambda L, o: L.MultiStepLR(o, milestones=sorted(milestones), gamma=gamma), lrs)


@fast
@given(lr_pair, st.floats(0.01, 1.0), st.integers(1, 299))
def test_constantlr(lrs, factor, total):
    compare("ConstantLR", lambda L, o: L.ConstantLR(o, factor=factor, total_iters=total), lrs)


@fast
@given(lr_pair, st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 299))
def test_linearlr(lrs, start, end, total):
    compare("LinearLR", lambda L, o: L.LinearLR(o, start_factor=start, end_factor=end,
                                                total_iters=total), lrs)


@fast
@given(lr_pair, st.floats(0.95, 1.01))
def test_exponentiallr(lrs, gamma):
    compare("ExponentialLR", lambda L, o: L.ExponentialLR(o, gamma=gamma), lrs)


@fast
@given(lr_pair, st.integers(1, 299), st.floats(0.1, 3.0))
def test_polynomiallr(lrs, total, power):
    compare("PolynomialLR", lambda L, o: L.PolynomialLR(o, total_iters=total, power=power), lrs)


@fast
@given(lr_pair, st.integers(1, 200), st.floats(0.0, 1e-4))
def test_cosineannealinglr(lrs, T_max, eta_min):
    compare("CosineAnnealingLR",
            lambda L, o: L.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), lrs)


@fast
@given(lr_pair, st.integers(1, 50), st.integers(1, 3), st.floats(0.0, 1e-4), st.booleans())
def test_cosine_warm_restarts(lrs, T_0, T_mult, eta_min, fractional):
    # fractional: the documented per-batch use, step(epoch + i / iters)
    epochs = [(i + 1) / 7 for i in range(STEPS)] if fractional else None
    compare("CosineAnnealingWarmRestarts", lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=T_0, T_mult=T_mult, eta_min=eta_min), lrs, epochs=epochs)


@fast
@given(lr_pair, st.floats(0.9, 0.999))
def test_lambda_and_multiplicative(lrs, q):
    compare("LambdaLR", lambda L, o: L.LambdaLR(o, [lambda e: q ** e, lambda e: 1 / (1 + e)]),
            lrs)
    compare("MultiplicativeLR", lambda L, o: L.MultiplicativeLR(o, lambda e: q), lrs)


@fast
@given(st.tuples(st.floats(1e-4, 1e-2), st.floats(1e-4, 1e-2)), st.floats(1.5, 20),
       st.integers(1, 60), st.one_of(st.none(), st.integers(1, 60)),
       st.sampled_from(["triangular", "triangular2", "exp_range"]), st.floats(0.99, 1.0),
       st.sampled_from(["sgd", "adam", "adamw", "rmsprop"]))
def test_cycliclr(base, ratio, up, down, mode, gamma, kind):
    base = list(base)
    high = [b * ratio for b in base]
    extra = {"momentum": 0.9} if kind in ("sgd", "rmsprop") else {}
    compare("CyclicLR", lambda L, o: L.CyclicLR(
        o, base_lr=base, max_lr=high, step_size_up=up, step_size_down=down, mode=mode,
        gamma=gamma, base_momentum=[0.8, 0.85], max_momentum=0.9), kind=kind,
        opt_kwargs=extra)


class Decay:
    """A callable object as scale_fn (its __dict__ is what a state_dict keeps)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return 1 / (1 + self.rate * x)


@fast
@given(st.floats(1e-4, 1e-2), st.integers(1, 30), st.sampled_from(["cycle", "iterations"]),
       st.floats(0.0, 0.5))
def test_cycliclr_custom_scale_fn(base, up, scale_mode, rate):
    compare("CyclicLR(scale_fn)", lambda L, o: L.CyclicLR(
        o, base_lr=base, max_lr=10 * base, step_size_up=up, scale_fn=Decay(rate),
        scale_mode=scale_mode, cycle_momentum=False))


@fast
@given(st.tuples(st.floats(1e-3, 1.0), st.floats(1e-3, 1.0)), st.integers(50, STEPS),
       st.floats(0.15, 0.45), st.sampled_from(["cos", "linear"]), st.floats(5, 50),
       st.floats(10, 1e4), st.booleans(), st.sampled_from(["sgd", "adam"]))
def test_onecyclelr(max_lr, total, pct, strategy, div, final_div, three_phase, kind):
    extra = {"momentum": 0.9} if kind == "sgd" else {}
    compare("OneCycleLR", lambda L, o: L.OneCycleLR(
        o, max_lr=list(max_lr), total_steps=total, pct_start=pct, anneal_strategy=strategy,
        div_factor=div, final_div_factor=final_div, three_phase=three_phase,
        base_momentum=[0.85, 0.8], max_momentum=0.95), kind=kind, opt_kwargs=extra,
        steps=total)


@fast
@given(lr_pair, st.integers(1, 100), st.integers(101, 400))
def test_sequential_warmup_cosine(lrs, W, N):
    compare("SequentialLR", lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=W), L.CosineAnnealingLR(o, T_max=N - W)],
        milestones=[W]), lrs)


@fast
@given(lr_pair, st.lists(st.integers(1, 299), min_size=2, max_size=2), gamma_st)
def test_sequential_three(lrs, milestones, gamma):
    milestones = sorted(milestones)
    compare("SequentialLR", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, gamma=gamma),
            L.StepLR(o, step_size=17, gamma=0.5)], milestones=milestones), lrs)


@fast
@given(lr_pair, gamma_st, st.integers(1, 100))
def test_chained(lrs, gamma, T_max):
    compare("ChainedScheduler", lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.3, total_iters=20), L.ExponentialLR(o, gamma=gamma),
         L.CosineAnnealingLR(o, T_max=T_max)]), lrs)


@fast
@given(st.integers(0, 2**32 - 1), st.sampled_from(["min", "max"]), st.floats(0.1, 0.9),
       st.integers(0, 10), st.floats(0.0, 0.05), st.sampled_from(["rel", "abs"]),
       st.integers(0, 5), st.floats(0.0, 1e-3))
def test_reduce_on_plateau(seed, mode, factor, patience, threshold, threshold_mode, cooldown,
                           min_lr):
    # a noisy random walk: stretches of progress and of plateau
    rng = np.random.default_rng(seed)
    metrics = (1.0 + np.cumsum(rng.normal(0.0, 0.01, STEPS))).tolist()
    compare("ReduceLROnPlateau", lambda L, o: L.ReduceLROnPlateau(
        o, mode=mode, factor=factor, patience=patience, threshold=threshold,
        threshold_mode=threshold_mode, cooldown=cooldown, min_lr=[min_lr, min_lr / 2]),
        metrics=metrics)


SCHEDULERS_FOR_KEYS = [
    lambda L, o: L.StepLR(o, 3), lambda L, o: L.MultiStepLR(o, [2, 5]),
    lambda L, o: L.ConstantLR(o), lambda L, o: L.LinearLR(o), lambda L, o: L.ExponentialLR(o, .9),
    lambda L, o: L.PolynomialLR(o), lambda L, o: L.CosineAnnealingLR(o, 10),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, 5, 2),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, 5), lambda L, o: L.OneCycleLR(o, 0.1, 100),
    lambda L, o: L.LambdaLR(o, lambda e: 1.0), lambda L, o: L.MultiplicativeLR(o, lambda e: .9),
    lambda L, o: L.ReduceLROnPlateau(o),
    lambda L, o: L.SequentialLR(o, [L.ConstantLR(o), L.ExponentialLR(o, .9)], [3]),
    lambda L, o: L.ChainedScheduler([L.ConstantLR(o), L.ExponentialLR(o, .9)]),
]


@pytest.mark.parametrize("build", SCHEDULERS_FOR_KEYS)
def test_state_dict_keys_match_torch(build):
    mine, theirs = build(S, make_opt([0.1], momentum=0.9)), build(T, torch_opt([0.1], "sgd",
                                                                              momentum=0.9))
    assert type(mine).__name__ == type(theirs).__name__
    assert sorted(mine.state_dict()) == sorted(theirs.state_dict())
    assert mine.state_dict().get("last_epoch") == theirs.state_dict().get("last_epoch")


def test_worst_deviation_is_tiny():
    """A deterministic spot check with fixed hyperparameters (the hypothesis tests vary them)."""
    compare("fixed: OneCycleLR", lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=STEPS,
                                                           pct_start=0.3), steps=STEPS)
    assert math.isfinite(WORST["fixed: OneCycleLR"])


def test_compare_detects_a_difference():
    """The harness is not vacuous: a gamma off by 1e-8 relative is caught."""
    with pytest.raises(AssertionError):
        compare("harness self-check", lambda L, o: L.ExponentialLR(
            o, gamma=0.99 if L is T else 0.99 * (1 + 1e-8)), steps=50)
    WORST.pop("harness self-check", None)
