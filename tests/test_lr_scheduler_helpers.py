"""Helpers shared by the lr_scheduler test modules (no tests here): optimizers, stepping."""
import math

import minigrad
from minigrad import optim


def make_opt(lrs=(0.1,), kind="sgd", **kwargs):
    """An optimizer with one dummy parameter per group, group i at lrs[i]."""
    cls = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
           "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[kind]
    groups = [{"params": [minigrad.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **kwargs)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def run(opt, sched, n, metrics=None):
    """lrs[e][g] and momentums[e][g] for e = 0 .. n: optimizer.step() then scheduler.step()."""
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [[momentum_of(g) for g in opt.param_groups]]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([momentum_of(g) for g in opt.param_groups])
    return lrs, moms


def close(a, b, scale, rel=1e-9):
    """Equal to float rounding, relative to the schedule's scale where the value is near 0."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12 * abs(scale))


def assert_seq_close(got, want, scale, rel=1e-9):
    for e, (g, w) in enumerate(zip(got, want)):
        assert close(g, w, scale, rel), f"e={e}: got {g!r}, expected {w!r}"
    assert len(got) == len(want)
