"""The scheduler API around the formulas: state_dict resume, every optimizer, several param
groups, the step-order warning, step(epoch), bad arguments, and simulate()."""
import json
import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.optim import lr_scheduler as S
from test_lr_scheduler_helpers import make_opt, momentum_of, run


class Halving:
    """A callable object: its __dict__ (the state) goes into state_dict, unlike a lambda."""

    def __init__(self):
        self.calls = 0

    def __call__(self, e):
        self.calls += 1
        return 0.5 ** (e // 4)


class Shrinking:
    """A scale_fn whose output depends on its own state: resuming must restore that state."""

    def __init__(self):
        self.scale = 1.0

    def __call__(self, x):
        self.scale *= 0.97
        return self.scale


FACTORIES = {
    "StepLR": lambda o: S.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[2, 7, 7, 11], gamma=0.5),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.25, total_iters=6),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=9),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=15, power=2.0),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "CyclicLR": lambda o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                     step_size_down=5, mode="triangular2"),
    "CyclicLR(scale_fn)": lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                               scale_fn=Shrinking(), scale_mode="iterations"),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=30, pct_start=0.25,
                                         three_phase=True),
    "LambdaLR": lambda o: S.LambdaLR(o, Halving()),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, [lambda e: 0.9, Halving()]),
    "SequentialLR": lambda o: S.warmup_cosine(o, 5, 30),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.95),
                                                      S.StepLR(o, 4, 0.5)]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5),
}
METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.85, 0.86, 0.87, 0.9] * 4


def _metrics(name, start, n):
    return METRICS[start:start + n] if name == "ReduceLROnPlateau" else None


@pytest.mark.parametrize("through_json", [False, True])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_state_dict_round_trip_resumes_identically(name, through_json):
    make = FACTORIES[name]
    opt = make_opt([0.1, 0.05], momentum=0.9)
    sched = make(opt)
    run(opt, sched, 7, metrics=_metrics(name, 0, 7))
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    if through_json:  # e.g. a checkpoint's JSON metadata
        saved_sched = json.loads(json.dumps(saved_sched))
    want, want_m = run(opt, sched, 20, metrics=_metrics(name, 7, 20))
    # resume: a fresh optimizer and scheduler, then both states (torch's documented order)
    opt2 = make_opt([0.1, 0.05], momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    got, got_m = run(opt2, sched2, 20, metrics=_metrics(name, 7, 20))
    assert got == want
    assert got_m == want_m
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_state_dict_is_a_snapshot_and_skips_plain_functions():
    opt = make_opt([0.1, 0.1])
    fn = Halving()
    sched = S.LambdaLR(opt, [lambda e: 1.0, fn])
    run(opt, sched, 5)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    assert sd["lr_lambdas"][0] is None and sd["lr_lambdas"][1] == {"calls": fn.calls}
    calls = fn.calls
    run(opt, sched, 5)
    assert sd["last_epoch"] == 5 and sd["lr_lambdas"][1] == {"calls": calls}
    fn.calls = -1
    sched.load_state_dict(sd)
    assert fn.calls == calls and sched.last_epoch == 5
    assert sd["lr_lambdas"][1] == {"calls": calls}  # load_state_dict left its input alone


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_works_with_every_optimizer(kind):
    p = minigrad.tensor([1.0, -2.0], dtype=minigrad.float64, requires_grad=True)
    q = minigrad.tensor([0.5], dtype=minigrad.float64, requires_grad=True)
    opt = getattr(optim, {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                          "adagrad": "Adagrad"}[kind])([{"params": [p]},
                                                        {"params": [q], "lr": 0.01}], lr=0.1)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    seen = []
    for _ in range(6):
        before = p.detach().numpy().copy()
        opt.zero_grad()
        ((p * p).sum() + (q * q).sum()).backward()
        opt.step()
        seen.append([g["lr"] for g in opt.param_groups])
        if kind == "sgd":  # the step really used the scheduled lr: θ ← θ − lr · 2θ
            np.testing.assert_allclose(p.detach().numpy(), before - seen[-1][0] * 2 * before)
        sched.step()
    assert seen == [[0.1 * 0.5 ** (i // 2), 0.01 * 0.5 ** (i // 2)] for i in range(6)]
    # momentum cycling uses momentum or beta1, and refuses optimizers that have neither
    if kind == "adagrad":
        with pytest.raises(ValueError, match="momentum"):
            S.OneCycleLR(opt, max_lr=0.1, total_steps=10)
        S.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)
    else:
        S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2)
        key = "betas" if kind.startswith("adam") else "momentum"
        assert momentum_of(opt.param_groups[0]) == 0.9 and key in opt.param_groups[0]
        opt.step()  # and the optimizer still steps with the cycled momentum


def test_adam_betas_keep_beta2():
    opt = make_opt([0.1], kind="adam", betas=(0.9, 0.995))
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=20)
    _, moms = run(opt, sched, 19)
    assert opt.param_groups[0]["betas"][1] == 0.995
    assert moms[0][0] == 0.95 and min(m[0] for m in moms) < 0.86


def test_initial_lr_and_resume_with_last_epoch():
    opt = make_opt([0.1, 0.2])
    S.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(make_opt([0.1]), step_size=2, last_epoch=4)
    opt = make_opt([0.1])
    opt.param_groups[0]["initial_lr"] = 1.0
    sched = S.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert sched.base_lrs == [1.0] and sched.last_epoch == 5
    opt.step()
    sched.step()
    # resuming keeps the group's current lr and continues the recursion from it, as torch does
    ratio = (1 + math.cos(math.pi * 6 / 10)) / (1 + math.cos(math.pi * 5 / 10))
    assert math.isclose(opt.param_groups[0]["lr"], 0.1 * ratio)


def test_warns_once_when_scheduler_steps_before_optimizer():
    opt = make_opt([0.1])
    sched = S.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # once only
    opt = make_opt([0.1])
    sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right order never warns
        run(opt, sched, 9)


def test_get_lr_outside_step_and_epoch_argument_warn():
    opt = make_opt([1.0])
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)  # jumps, with the closed form
    assert sched.get_last_lr() == [0.25] and sched.last_epoch == 7


def test_sequential_restarts_next_scheduler_at_milestone():
    opt = make_opt([1.0])
    sched = S.SequentialLR(opt, [S.ConstantLR(opt, factor=0.5, total_iters=10),
                                 S.ExponentialLR(opt, gamma=0.5)], milestones=[3])
    got, _ = run(opt, sched, 6)
    assert [row[0] for row in got] == [0.5, 0.5, 0.5, 1.0, 0.5, 0.25, 0.125]


def test_simulate():
    trace = S.simulate(lambda o: S.StepLR(o, step_size=2, gamma=0.5), 5, lr=1.0)
    assert trace.lr == [1.0, 1.0, 0.5, 0.5, 0.25] and trace["lr"] is trace.lr
    assert trace.momentum is None and len(trace) == 5
    trace = S.simulate(lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=2), 5, optimizer="adam")
    assert trace.lr == pytest.approx([0.1, 0.55, 1.0, 0.55, 0.1])
    assert trace.momentum == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])
    trace = S.simulate(lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=8), 8,
                       lr=[0.1, 0.1], momentum=0.9)
    assert len(trace.group_lr) == 2 and trace.group_lr[1] == pytest.approx(
        [2 * v for v in trace.group_lr[0]])
    trace = S.simulate(lambda o: S.ReduceLROnPlateau(o, patience=0), 3, lr=1.0,
                       metrics=[1.0, 1.0, 1.0])
    assert trace.lr == pytest.approx([1.0, 1.0, 0.1])
    with pytest.raises(ValueError, match="metrics"):
        S.simulate(lambda o: S.ReduceLROnPlateau(o), 3)
    with pytest.raises(ValueError, match="lbfgs"):
        S.simulate(lambda o: S.StepLR(o, 2), 3, optimizer="lbfgs")
    with pytest.raises(ValueError, match="steps"):
        S.simulate(lambda o: S.StepLR(o, 2), -1)


def test_onecycle_past_total_steps_is_a_value_error():
    opt = make_opt([0.1], momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5)
    run(opt, sched, 10)  # 10 steps: e reaches total_steps, allowed (as in torch)
    with pytest.raises(ValueError, match="Tried to step 11 times.*total steps is 10"):
        sched.step()


def _opt():
    return make_opt([0.1, 0.2], momentum=0.9)


BAD = [
    (lambda o: S.StepLR(o, step_size=0), "step_size >= 1, but got 0"),
    (lambda o: S.StepLR(o, step_size=2.5), "integer step_size, but got 2.5"),
    (lambda o: S.StepLR(o, step_size=2, gamma=0), "gamma > 0, but got 0"),
    (lambda o: S.ExponentialLR(o, gamma=-0.5), "gamma > 0, but got -0.5"),
    (lambda o: S.MultiStepLR(o, milestones=[5, 3]), r"increasing order, but got \[5, 3\]"),
    (lambda o: S.MultiStepLR(o, milestones=[-1]), "milestones >= 0, but got -1"),
    (lambda o: S.ConstantLR(o, factor=1.5), "factor <= 1, but got 1.5"),
    (lambda o: S.LinearLR(o, start_factor=0), "start_factor > 0, but got 0"),
    (lambda o: S.LinearLR(o, total_iters=0), "total_iters >= 1, but got 0"),
    (lambda o: S.PolynomialLR(o, total_iters=-3), "total_iters >= 1, but got -3"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), "T_max > 0, but got 0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=-1), "T_0 >= 1, but got -1"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "T_mult >= 1, but got 0"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up > 0, but got 0"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="square"), "'square'"),
    (lambda o: S.CyclicLR(o, [0.01], 0.1), r"base_lr.*got 1 values \[0.01\] for 2"),
    (lambda o: S.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), "max_lr.*got 3 values"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, scale_fn=abs, scale_mode="epochs"), "'epochs'"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=0), "total_steps >= 1, but got 0"),
    (lambda o: S.OneCycleLR(o, 0.1), "total_steps OR"),
    (lambda o: S.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3), "epochs >= 1, but got 0"),
    (lambda o: S.OneCycleLR(o, 0.1, 10, pct_start=1.5), "pct_start <= 1, but got 1.5"),
    (lambda o: S.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), "'exp'"),
    (lambda o: S.OneCycleLR(o, [0.1], 10), "max_lr.*got 1 values"),
    (lambda o: S.OneCycleLR(o, 0.1, 10, max_momentum=[0.9]), "max_momentum.*got 1 values"),
    (lambda o: S.ExponentialLR(o, gamma=math.inf), "finite real number gamma, but got inf"),
    (lambda o: S.CyclicLR(o, 0.01, [0.1, math.nan]), "max_lr, but got nan"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, base_momentum=-0.1), "base_momentum >= 0, but got -0.1"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), "factor < 1, but got 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, mode="maximum"), "'maximum'"),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="relative"), "'relative'"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), r"expected 2 min_lrs.*\[0.1\]"),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), "patience >= 0, but got -1"),
    (lambda o: S.LambdaLR(o, [lambda e: 1.0]), "Expected 2 lr_lambdas.*but got 1"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]), r"milestones \[3\]"),
    (lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []), "ReduceLROnPlateau"),
    (lambda o: S.SequentialLR(o, [S.StepLR(_opt(), 2)], []), "same optimizer"),
    (lambda o: S.ChainedScheduler([]), "at least one scheduler"),
    (lambda o: S.warmup_cosine(o, 10, 10), "total > warmup"),
]


@pytest.mark.parametrize("make,match", BAD, ids=[m for _, m in BAD])
def test_bad_arguments_are_value_errors_naming_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make(_opt())


@pytest.mark.parametrize("cls", [S.StepLR, S.ExponentialLR, S.CosineAnnealingLR, S.LinearLR,
                                 S.ReduceLROnPlateau, S.CyclicLR, S.OneCycleLR, S.LambdaLR])
def test_non_optimizer_is_a_type_error(cls):
    class Fake:
        param_groups = [{"lr": 0.1}]
        defaults = {"lr": 0.1, "momentum": 0.9}
    args = {S.StepLR: (2,), S.ExponentialLR: (0.9,), S.CosineAnnealingLR: (5,),
            S.CyclicLR: (0.01, 0.1), S.OneCycleLR: (0.1, 10), S.LambdaLR: (lambda e: 1,)}
    with pytest.raises(TypeError, match="Fake is not an Optimizer"):
        cls(Fake(), *args.get(cls, ()))


def test_plateau_rejects_a_non_number_metric():
    sched = S.ReduceLROnPlateau(make_opt([0.1]))
    with pytest.raises(TypeError, match="'loss'"):
        sched.step("loss")
    sched.step(minigrad.tensor(0.5))  # a 1-element tensor is fine
    assert sched.best == 0.5


def test_docstring_examples_run():
    import doctest
    from minigrad.optim.lr_scheduler import simulation as module
    failures, tried = doctest.testmod(module)
    assert tried >= 2 and failures == 0
    # the package docstring's warmup recipe, as written there
    trace = S.simulate(lambda opt: S.warmup_cosine(opt, 10, 100), 100, lr=0.1)
    assert len(trace.lr) == 100 and trace.lr[0] == pytest.approx(0.01)
    assert max(trace.lr) == pytest.approx(0.1) and trace.lr.index(max(trace.lr)) == 10
