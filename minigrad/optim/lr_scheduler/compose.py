"""Schedulers built from schedulers: SequentialLR (one after another) and ChainedScheduler
(all at once), plus ``warmup_cosine``, the warmup recipe."""
from bisect import bisect_right

from minigrad.optim.lr_scheduler.base import (LRScheduler, check_int, check_milestones,
                                              check_optimizer, group_lrs)
from minigrad.optim.lr_scheduler.decay import CosineAnnealingLR, LinearLR
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau


def _check_schedulers(owner, schedulers, optimizer):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{owner} expects at least one scheduler, but got none")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{owner}: the scheduler at index {i} ({type(s).__name__}) has "
                            f"no `optimizer` attribute")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support ReduceLROnPlateau (its step needs a "
                             f"metric), but got one at index {i}")
        if s.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but the {type(s).__name__} at index {i} has another one")
    return schedulers


class _Composite(LRScheduler):
    """state_dict nests each sub-scheduler's own state_dict under '_schedulers'."""

    _not_state = ("_schedulers",)

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        super().load_state_dict(state)
        if len(saved) != len(self._schedulers):
            raise ValueError(f"state_dict holds {len(saved)} schedulers, this "
                             f"{type(self).__name__} has {len(self._schedulers)}")
        for s, sd in zip(self._schedulers, saved):
            s.load_state_dict(sd)


class SequentialLR(_Composite):
    """Runs ``schedulers[i]`` for e in [milestones[i−1], milestones[i]): the active one is
    ``schedulers[bisect_right(milestones, e)]``, restarted from its step 0 at its milestone."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        check_optimizer(optimizer)
        schedulers = _check_schedulers("SequentialLR", schedulers, optimizer)
        milestones = check_milestones("milestones", milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, but "
                             f"got {len(schedulers)} schedulers and milestones {milestones}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = check_int("last_epoch", last_epoch, low=-1) + 1
        self.optimizer = optimizer
        # Each sub-scheduler already performed its own step 0: undo that, and start over from
        # the first one, as if only it had been constructed.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_steps(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @classmethod
    def _undo_initial_steps(cls, scheduler):
        if hasattr(scheduler, "_schedulers"):
            for s in scheduler._schedulers:
                cls._undo_initial_steps(s)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)  # its step 0, from its base lrs
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Steps every scheduler each time, so their multiplicative factors compose."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if optimizer is None and schedulers:
            optimizer = schedulers[0].optimizer
        if optimizer is not None:
            check_optimizer(optimizer)
        self._schedulers = _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self.optimizer = optimizer
        self._last_lr = group_lrs(optimizer)

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = group_lrs(self.optimizer)


def warmup_cosine(optimizer, warmup, total, start_factor=0.1, eta_min=0.0):
    """The warmup recipe: linear warmup from ``start_factor · lr`` over ``warmup`` steps, then
    cosine annealing to ``eta_min`` over the remaining ``total − warmup`` steps::

        SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.1, total_iters=W),
                                 CosineAnnealingLR(optimizer, T_max=N − W)], milestones=[W])
    """
    warmup = check_int("warmup", warmup, low=1)
    total = check_int("total", total, low=1)
    if total <= warmup:
        raise ValueError(f"warmup_cosine needs total > warmup, but got total={total}, "
                         f"warmup={warmup}")
    return SequentialLR(optimizer, [
        LinearLR(optimizer, start_factor=start_factor, total_iters=warmup),
        CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=eta_min)],
        milestones=[warmup])
