"""LRScheduler: the base every epoch-driven schedule shares (torch.optim.lr_scheduler semantics).

A scheduler owns one optimizer. Its constructor records each group's ``initial_lr`` (the base lr
B of the spec) and performs step 0; every later ``step()`` advances ``last_epoch`` by one and
writes the new lr into each param group. Subclasses implement ``get_lr()``: the lr at
``last_epoch``, computed in PyTorch's own *chainable* form (from the group's current lr) so that
the sequences agree with torch to float rounding, and where torch has one, ``_get_closed_form_lr``
(the spec's formula, used by the deprecated ``step(epoch)``).
"""
import copy
import math
import numbers
import operator
import types
import warnings

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
    "where possible. Please use `scheduler.step()` to step the scheduler. During the "
    "deprecation, if epoch is different from None, the closed form is used instead of the new "
    "chainable form, where available.")

STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later (and in minigrad), you should call them in the opposite order: `optimizer.step()` "
    "before `lr_scheduler.step()`. Failure to do this will result in skipping the first value "
    "of the learning rate schedule.")


def check_optimizer(optimizer):
    """TypeError unless ``optimizer`` is a minigrad Optimizer (imported late: optim imports us)."""
    from minigrad.optim.optimizer import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer


def per_group(name, optimizer, value):
    """One value per param group: a list/tuple must match the group count, a scalar is repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have one value per param group: got {len(value)} "
                             f"values {list(value)} for {n} param groups")
        return list(value)
    return [value] * n


def check_real(name, value, low=None, high=None, low_open=False, high_open=False):
    """ValueError unless ``value`` is a finite real number in the given (open or closed)
    interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"Expected a finite real number {name}, but got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"Expected {name} {bound}, but got {value}")
    if high is not None and (value >= high if high_open else value > high):
        bound = f"< {high}" if high_open else f"<= {high}"
        raise ValueError(f"Expected {name} {bound}, but got {value}")
    return value


def check_int(name, value, low=None):
    """ValueError unless ``value`` is an integer (not a bool) >= ``low``."""
    if isinstance(value, bool):
        raise ValueError(f"Expected an integer {name}, but got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"Expected an integer {name}, but got {value!r}") from None
    if low is not None and value < low:
        raise ValueError(f"Expected integer {name} >= {low}, but got {value}")
    return value


def check_milestones(name, milestones):
    """Non-negative integers in non-decreasing order (a repeated milestone applies twice)."""
    try:
        values = list(milestones)
    except TypeError:
        raise ValueError(f"Expected a list of integer {name}, but got {milestones!r}") from None
    values = [check_int(name, m, low=0) for m in values]
    if any(b < a for a, b in zip(values, values[1:])):
        raise ValueError(f"Expected {name} in increasing order, but got {values}")
    return values


def lambdas_state(lr_lambdas):
    """What of each lr_lambda a state_dict can hold: the __dict__ of a callable object; plain
    functions (and lambdas) are code, not state, and are stored as None, as torch does."""
    return [None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
            else copy.deepcopy(fn.__dict__) for fn in lr_lambdas]


def load_lambdas_state(lr_lambdas, saved):
    for fn, state in zip(lr_lambdas, saved):
        if state is not None:
            fn.__dict__.update(state)


def group_lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


class LRScheduler:
    """Base class: records ``initial_lr``, performs step 0, and writes ``get_lr()`` into the
    optimizer's param groups on every ``step()``.

    last_epoch = -1 starts fresh; any other value resumes a schedule and requires each group to
    carry ``initial_lr`` already (a KeyError otherwise, as in torch).
    """

    # NOTE: class-level defaults; the instance attributes of the same names (set during step)
    # make state_dict() hold the same keys as torch's.
    _get_lr_called_within_step = False
    _is_initial = False
    # step(epoch) is deprecated in torch except where a fractional epoch means something
    _epoch_deprecated = True

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = check_optimizer(optimizer)
        last_epoch = check_int("last_epoch", last_epoch, low=-1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Step 0: the constructor's step, which neither warns nor counts as a user step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The lr of every param group at ``last_epoch`` (call ``get_last_lr()`` to read it)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The lrs the last ``step()`` wrote, one per param group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance the schedule by one (call after ``optimizer.step()``).

        ``epoch`` (deprecated, as in torch) jumps to that epoch, using the closed form where the
        scheduler has one.
        """
        if self._step_count == 1 and getattr(self.optimizer, "_step_count", 1) == 0:
            warnings.warn(STEP_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None and self._epoch_deprecated:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            self._write_lrs(self.get_lr)
        else:
            self.last_epoch = epoch
            self._write_lrs(getattr(self, "_get_closed_form_lr", self.get_lr))

    def _write_lrs(self, compute):
        """Set each group's lr to ``compute()`` (flagged as called from a step)."""
        self._get_lr_called_within_step = True
        try:
            values = compute()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = group_lrs(self.optimizer)

    def _warn_get_lr_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    # attributes state_dict() leaves out besides the optimizer: user code, or other schedulers
    _not_state = ()

    def state_dict(self):
        """Everything but the optimizer (a deep copy, so later steps cannot change it)."""
        skip = ("optimizer",) + self._not_state
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in skip})

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (the dict passed in is left untouched)."""
        self.__dict__.update(copy.deepcopy(dict(state_dict)))
