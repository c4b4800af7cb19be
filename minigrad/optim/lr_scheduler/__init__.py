"""Learning-rate schedules, with torch.optim.lr_scheduler's API and numbers.

A scheduler wraps an optimizer and rewrites each param group's 'lr' (and, for the cyclical ones,
'momentum' or beta1 of 'betas'). Per iteration call ``optimizer.step()`` and then
``scheduler.step()``; the constructor already performed step 0. e = last_epoch, B = base lr.

===============================  ======================================================
fixed                            no scheduler
StepLR (step decay)              B · γ^⌊e / step_size⌋
MultiStepLR                      B · γ^(number of milestones <= e)
ExponentialLR                    B · γ^e
ConstantLR, LinearLR             a constant / linear factor for total_iters (warmup)
PolynomialLR                     B · (1 − min(T, e) / T)^power
CosineAnnealingLR                η_min + (B − η_min)(1 + cos(π e / T_max)) / 2
CosineAnnealingWarmRestarts      the cosine, restarted every T_i = T_0 · T_mult^k steps
CyclicLR                         triangular / triangular2 / exp_range cycles (per batch)
OneCycleLR                       warm up to max_lr, anneal far below the start (per batch)
LambdaLR, MultiplicativeLR       B · f(e) / lr_{e−1} · f(e)
SequentialLR, ChainedScheduler   one after another / all composed
ReduceLROnPlateau                lr · factor after `patience` epochs without improvement
===============================  ======================================================

Warmup recipe (linear warmup for W steps, then cosine to the end at N)::

    warmup = LinearLR(opt, start_factor=0.1, total_iters=W)
    cosine = CosineAnnealingLR(opt, T_max=N - W)
    scheduler = SequentialLR(opt, [warmup, cosine], milestones=[W])

``warmup_cosine(opt, W, N)`` builds exactly that, and ``minigrad schedule warmup-cosine
--warmup W --steps N`` prints it. ``simulate(make_scheduler, steps)`` returns any schedule's lr
(and momentum) sequence without training, for plots and study::

    trace = simulate(lambda opt: warmup_cosine(opt, 10, 100), 100, lr=0.1)
    trace.lr   # 100 floats: the lr each optimizer step used
"""
from minigrad.optim.lr_scheduler.base import LRScheduler
from minigrad.optim.lr_scheduler.compose import ChainedScheduler, SequentialLR, warmup_cosine
from minigrad.optim.lr_scheduler.cyclic import CyclicLR, OneCycleLR
from minigrad.optim.lr_scheduler.decay import (ConstantLR, CosineAnnealingLR,
                                               CosineAnnealingWarmRestarts, ExponentialLR,
                                               LambdaLR, LinearLR, MultiplicativeLR,
                                               MultiStepLR, PolynomialLR, StepLR)
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigrad.optim.lr_scheduler.simulation import ScheduleTrace, simulate

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR",
           "ChainedScheduler", "ReduceLROnPlateau", "simulate", "ScheduleTrace", "warmup_cosine"]
