"""Epoch-indexed decay schedules: lambda, multiplicative, step, multistep, constant, linear,
exponential, polynomial, cosine and cosine with warm restarts.

Each ``get_lr`` follows torch's chainable update (new lr from the group's current lr) so the
sequences match torch to the last bit; each ``_get_closed_form_lr`` is the spec's formula, and the
tests check that the two agree to float rounding. e = last_epoch, B = base lr (initial_lr).
"""
import math
from bisect import bisect_right
from collections import Counter

from minigrad.optim.lr_scheduler.base import (LRScheduler, check_int, check_milestones,
                                              check_optimizer, check_real, group_lrs,
                                              lambdas_state, load_lambdas_state)


def _lr_lambdas(optimizer, lr_lambda):
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ValueError(f"Expected {n} lr_lambdas (one per param group), "
                             f"but got {len(lr_lambda)}")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * n
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
    return fns


class _LambdaState:
    """state_dict/load_state_dict that keep user callables out (only their __dict__ goes in)."""

    _not_state = ("lr_lambdas",)

    def state_dict(self):
        state = LRScheduler.state_dict(self)
        state["lr_lambdas"] = lambdas_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None)
        LRScheduler.load_state_dict(self, state)
        if saved is not None:
            load_lambdas_state(self.lr_lambdas, saved)


class LambdaLR(_LambdaState, LRScheduler):
    """lr = B · f(e), one f for all groups or one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        check_optimizer(optimizer)
        self.lr_lambdas = _lr_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """lr_e = lr_{e-1} · f(e) for e > 0."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        check_optimizer(optimizer)
        self.lr_lambdas = _lr_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self._is_initial:
            return group_lrs(self.optimizer)
        return [group["lr"] * f(self.last_epoch)
                for f, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Step decay: lr = B · γ^⌊e / step_size⌋ (chainable: multiply by γ every step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        check_optimizer(optimizer)
        self.step_size = check_int("step_size", step_size, low=1)
        self.gamma = check_real("gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = B · γ^(number of milestones <= e); a repeated milestone counts twice, as in torch."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        check_optimizer(optimizer)
        # a Counter, as torch stores it: milestone -> how many times it was given
        self.milestones = Counter(check_milestones("milestones", milestones))
        self.gamma = check_real("gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self.last_epoch not in self.milestones:
            return group_lrs(self.optimizer)
        times = self.milestones[self.last_epoch]
        return [group["lr"] * self.gamma ** times for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base in self.base_lrs]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        # a state_dict that went through JSON has string keys
        self.milestones = Counter({int(k): v for k, v in self.milestones.items()})


class ConstantLR(LRScheduler):
    """lr = B · factor while e < total_iters, then B."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_optimizer(optimizer)
        # NOTE: factor 0 is refused (torch takes it, then divides by it at total_iters)
        self.factor = check_real("factor", factor, low=0, high=1, low_open=True)
        self.total_iters = check_int("total_iters", total_iters, low=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return group_lrs(self.optimizer)
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        done = self.last_epoch >= self.total_iters
        return [base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Warmup: lr = B · (s + (end − s) · min(T, e) / T), s = start_factor, T = total_iters."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        check_optimizer(optimizer)
        self.start_factor = check_real("start_factor", start_factor, low=0, high=1,
                                       low_open=True)
        self.end_factor = check_real("end_factor", end_factor, low=0, high=1)
        self.total_iters = check_int("total_iters", total_iters, low=1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_lrs(self.optimizer)
        # ratio of consecutive factors: (s + d·e/T) / (s + d·(e−1)/T), d = end − s
        d = self.end_factor - self.start_factor
        ratio = 1.0 + d / (self.total_iters * self.start_factor + (self.last_epoch - 1) * d)
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        d = self.end_factor - self.start_factor
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + d * frac) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Exponential decay: lr = B · γ^e (chainable: multiply by γ every step)."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_optimizer(optimizer)
        self.gamma = check_real("gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self._is_initial:
            return group_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = B · (1 − min(T, e) / T)^power, T = total_iters."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        check_optimizer(optimizer)
        self.total_iters = check_int("total_iters", total_iters, low=1)
        self.power = check_real("power", power, low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_lrs(self.optimizer)
        T, e = self.total_iters, self.last_epoch
        ratio = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (1.0 - frac) ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (B − η_min)(1 + cos(π e / T_max)) / 2 (periodic in 2·T_max, as in torch)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        check_optimizer(optimizer)
        self.T_max = check_real("T_max", T_max, low=0, low_open=True)
        self.eta_min = check_real("eta_min", eta_min, low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return group_lrs(self.optimizer)
        if (e - 1 - T) % (2 * T) == 0:
            # NOTE: the previous lr sat at η_min, where the ratio below is 0/0: add the increment
            return [group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]

    def _get_closed_form_lr(self):
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T)) / 2
                for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """lr = η_min + (B − η_min)(1 + cos(π T_cur / T_i)) / 2; at each restart T_cur ← 0 and
    T_i ← T_i · T_mult. ``step(epoch)`` takes a fractional epoch (e.g. epoch + i / iters)."""

    _epoch_deprecated = False

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        check_optimizer(optimizer)
        self.T_0 = check_int("T_0", T_0, low=1)
        self.T_i = self.T_0
        self.T_mult = check_int("T_mult", T_mult, low=1)
        self.eta_min = check_real("eta_min", eta_min, low=0)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        cos_term = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * cos_term / 2 for base in self.base_lrs]

    def _update_lr(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = check_real("epoch", epoch, low=0)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # restarts so far: the n with T_0 (T_mult^n − 1) / (T_mult − 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._write_lrs(self.get_lr)
