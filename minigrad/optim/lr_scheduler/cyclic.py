"""Cyclical schedules: CyclicLR (Smith's cyclical learning rates) and OneCycleLR (1cycle).

Both may cycle momentum opposite to the lr: the group's 'momentum' (SGD, RMSprop), or beta1 of
its 'betas' for Adam-family optimizers.
"""
import math

from minigrad.optim.lr_scheduler.base import (LRScheduler, check_int, check_optimizer,
                                              check_real, lambdas_state, load_lambdas_state,
                                              per_group)


def _momentum_setup(optimizer, base_momentum, max_momentum, last_epoch):
    """(use_beta1, base_momentums, max_momentums); a fresh schedule starts at max_momentum."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{type(optimizer).__name__} has neither 'momentum' nor 'betas': "
                         f"it cannot cycle momentum (pass cycle_momentum=False)")
    use_beta1 = "betas" in optimizer.defaults
    base_momentums = per_group("base_momentum", optimizer, base_momentum)
    max_momentums = per_group("max_momentum", optimizer, max_momentum)
    for name, values in (("base_momentum", base_momentums), ("max_momentum", max_momentums)):
        for v in values:
            check_real(name, v, low=0)
    if last_epoch == -1:
        for high, low, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, high, use_beta1)
            group["max_momentum"] = high
            group["base_momentum"] = low
    return use_beta1, base_momentums, max_momentums


def _set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    """Cyclical learning rate between base_lr and max_lr, stepped every batch.

    With total = up + down, r = up / total::

        cycle = ⌊1 + e / total⌋ ;  x = 1 + e / total − cycle
        s = x / r if x <= r else (x − 1) / (r − 1)
        lr = base + (max − base) · s · f
        f = 1 (triangular) · 1 / 2^(cycle − 1) (triangular2) · γ^e (exp_range)

    A custom ``scale_fn`` replaces f, called with the cycle ('cycle') or e ('iterations').
    Momentum, when cycled, is max_m − (max_m − base_m) · s · f.
    """

    _not_state = ("_scale_fn_custom",)

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        check_optimizer(optimizer)
        base_lrs = per_group("base_lr", optimizer, base_lr)
        self.max_lrs = per_group("max_lr", optimizer, max_lr)
        for name, values in (("base_lr", base_lrs), ("max_lr", self.max_lrs)):
            for v in values:
                check_real(name, v, low=0)
        up = float(check_real("step_size_up", step_size_up, low=0, low_open=True))
        down = up if step_size_down is None else float(
            check_real("step_size_down", step_size_down, low=0, low_open=True))
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"mode must be 'triangular', 'triangular2' or 'exp_range' "
                             f"(or pass a scale_fn), but got {mode!r}")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', but got "
                             f"{scale_mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"scale_fn should be a function, but got {type(scale_fn).__name__}")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = check_real("gamma", gamma, low=0, low_open=True)
        self._scale_fn_custom = scale_fn
        # the built-in modes fix their own scale_mode
        self.scale_mode = {"triangular": "cycle", "triangular2": "cycle",
                           "exp_range": "iterations"}.get(mode, scale_mode)
        if scale_fn is not None:
            self.scale_mode = scale_mode
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _momentum_setup(
                optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        # NOTE: set after step 0 on purpose: torch's step 0 uses the groups' initial_lr
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        """f: the amplitude's scale at cycle (or iteration) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        self._warn_get_lr_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            s = x / self.step_ratio
        else:
            s = (x - 1) / (self.step_ratio - 1)
        f = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (high - base) * s * f for base, high in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for low, high, group in zip(self.base_momentums, self.max_momentums,
                                        self.optimizer.param_groups):
                _set_momentum(group, high - (high - low) * s * f, self.use_beta1)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None else lambdas_state([fn])[0]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if self._scale_fn_custom is not None:
            load_lambdas_state([self._scale_fn_custom], [fn_state])


def _anneal_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped every batch for total_steps T (or epochs · steps_per_epoch).

    initial = max_lr / div_factor, min = initial / final_div_factor. Phase 1 anneals
    initial → max over steps 0 .. pct_start·T − 1, phase 2 max → min up to T − 1; three_phase
    inserts max → initial before the final initial → min. cos anneal:
    end + (start − end)/2 · (1 + cos(π p)); linear: start + (end − start) · p, p = phase fraction.
    Momentum moves max → base → max the opposite way. Stepping past T is a ValueError.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        check_optimizer(optimizer)
        if total_steps is not None:
            self.total_steps = check_int("total_steps", total_steps, low=1)
        elif epochs is not None and steps_per_epoch is not None:
            epochs = check_int("epochs", epochs, low=1)
            self.total_steps = epochs * check_int("steps_per_epoch", steps_per_epoch, low=1)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND "
                             f"steps_per_epoch); got total_steps={total_steps}, "
                             f"epochs={epochs}, steps_per_epoch={steps_per_epoch}")
        pct_start = float(check_real("pct_start", pct_start, low=0, high=1))
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', but got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        check_real("div_factor", div_factor, low=0, low_open=True)
        check_real("final_div_factor", final_div_factor, low=0, low_open=True)
        T = self.total_steps
        up_end = float(pct_start * T) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=up_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * T) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=T - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                dict(end_step=up_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=T - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        max_lrs = per_group("max_lr", optimizer, max_lr)
        for v in max_lrs:
            check_real("max_lr", v, low=0)
        if last_epoch == -1:
            for high, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = high / div_factor
                group["max_lr"] = high
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self.use_beta1 = _momentum_setup(optimizer, base_momentum, max_momentum,
                                             last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        anneal = _anneal_cos if self._anneal_func_type == "cos" else _anneal_linear
        return anneal(start, end, pct)

    def get_lr(self):
        self._warn_get_lr_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == last:
                    # NOTE: a phase of zero length (pct_start·T = 1) is already complete
                    pct = (step - start) / (end - start) if end != start else 1.0
                    break
                start = end
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]],
                                        group[phase["end_momentum"]], pct)
                _set_momentum(group, momentum, self.use_beta1)
        return lrs
