"""simulate: the lr (and momentum) sequence a schedule produces, without training."""
from dataclasses import dataclass, field

from minigrad.optim.lr_scheduler.base import check_int
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
               "adagrad": "Adagrad"}


@dataclass
class ScheduleTrace:
    """What ``simulate`` saw: ``lr[i]`` (first param group) is the lr optimizer step i used;
    ``momentum[i]`` likewise (momentum, or beta1 for Adam-family) when the schedule cycles it,
    else None; ``group_lr`` / ``group_momentum`` hold one such list per param group."""
    lr: list
    momentum: list = None
    group_lr: list = field(default_factory=list)
    group_momentum: list = None

    def __getitem__(self, key):  # dict-style access: trace["lr"]
        return getattr(self, key)

    def __len__(self):
        return len(self.lr)


def _make_optimizer(optimizer, lrs, momentum, betas):
    import minigrad
    from minigrad import optim
    from minigrad.optim.optimizer import Optimizer
    if isinstance(optimizer, str):
        name = _OPTIMIZERS.get(optimizer.lower())
        cls = getattr(optim, name, None) if name else None
        if cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of "
                             f"{sorted(k for k, v in _OPTIMIZERS.items() if hasattr(optim, v))}")
    elif isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        cls = optimizer
    else:
        raise TypeError(f"optimizer must be a name or an Optimizer class, got {optimizer!r}")
    kwargs = {}
    if momentum is not None:
        kwargs["momentum"] = momentum
    if betas is not None:
        kwargs["betas"] = tuple(betas)
    # one dummy parameter per group; it never gets a gradient, so steps leave it alone
    groups = [{"params": [minigrad.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **kwargs)


def _cycles_momentum(scheduler):
    if getattr(scheduler, "cycle_momentum", False):
        return True
    return any(_cycles_momentum(s) for s in getattr(scheduler, "_schedulers", ()))


def _momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def simulate(make_scheduler, steps, lr=0.1, optimizer="sgd", momentum=None, betas=None,
             metrics=None):
    """Run ``steps`` iterations of optimizer.step() then scheduler.step() on a throwaway
    optimizer (``optimizer``: 'sgd', 'adam', ... or a class; ``lr`` a float, or a list for one
    param group each) and return the :class:`ScheduleTrace`.

    ``make_scheduler(optimizer)`` builds the schedule. ReduceLROnPlateau needs ``metrics``: at
    least ``steps`` values, one per scheduler.step(metrics[i]).

    >>> from minigrad.optim.lr_scheduler import StepLR, simulate
    >>> simulate(lambda opt: StepLR(opt, step_size=2, gamma=0.5), 5, lr=1.0).lr
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    steps = check_int("steps", steps, low=0)
    lrs = list(lr) if isinstance(lr, (list, tuple)) else [lr]
    if not lrs:
        raise ValueError("simulate needs at least one lr")
    opt = _make_optimizer(optimizer, lrs, momentum, betas)
    scheduler = make_scheduler(opt)
    if getattr(scheduler, "optimizer", None) is not opt:
        raise ValueError("make_scheduler(optimizer) must return a scheduler of that optimizer, "
                         f"but returned {scheduler!r}")
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if plateau:
        if metrics is None:
            raise ValueError("ReduceLROnPlateau needs metrics: one value per step")
        metrics = list(metrics)
        if len(metrics) < steps:
            raise ValueError(f"got {len(metrics)} metrics for {steps} steps")
    track_momentum = _cycles_momentum(scheduler)
    group_lr = [[] for _ in opt.param_groups]
    group_momentum = [[] for _ in opt.param_groups] if track_momentum else None
    for i in range(steps):
        for g, group in enumerate(opt.param_groups):
            group_lr[g].append(group["lr"])
            if track_momentum:
                group_momentum[g].append(_momentum_of(group))
        opt.step()
        if plateau:
            scheduler.step(metrics[i])
        else:
            scheduler.step()
    return ScheduleTrace(lr=group_lr[0], momentum=group_momentum[0] if track_momentum else None,
                         group_lr=group_lr, group_momentum=group_momentum)
