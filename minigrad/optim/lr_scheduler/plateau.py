"""ReduceLROnPlateau: cut the lr when a validation metric stops improving."""
import math
import warnings

from minigrad.optim.lr_scheduler.base import (EPOCH_DEPRECATION_WARNING, LRScheduler,
                                              check_int, check_optimizer, check_real,
                                              group_lrs)


class ReduceLROnPlateau(LRScheduler):
    """Stepped with a metric once per epoch::

        better(a, best): min/rel a < best·(1 − thr) · min/abs a < best − thr
                         max/rel a > best·(1 + thr) · max/abs a > best + thr
        if better: best ← a, bad ← 0   else bad ← bad + 1
        if in cooldown: cooldown_counter −= 1, bad ← 0
        if bad > patience: new = max(old · factor, min_lr), applied only if old − new > eps;
                           cooldown_counter ← cooldown; bad ← 0

    Unlike the epoch schedulers it does not record initial_lr nor step at construction (as in
    torch); a NaN metric is never better.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        self.optimizer = check_optimizer(optimizer)
        self.factor = check_real("factor", factor, low=0, high=1, high_open=True)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs (one per param group), got "
                                 f"{len(min_lr)}: {list(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = [check_real("min_lr", v, low=0) for v in min_lr]
        else:
            self.default_min_lr = check_real("min_lr", min_lr, low=0)
            self.min_lrs = [min_lr] * n
        self.patience = check_int("patience", patience, low=0)
        self.cooldown = check_int("cooldown", cooldown, low=0)
        self.eps = check_real("eps", eps, low=0)
        self.last_epoch = 0
        self._last_lr = group_lrs(optimizer)
        self._init_is_better(mode, check_real("threshold", threshold, low=0), threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', but got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', but got "
                             f"{threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None):
        """Record this epoch's metric; cut the lr after more than ``patience`` bad epochs."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step expects a number (the metric), but got "
                            f"{metrics!r}") from None
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = group_lrs(self.optimizer)

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The optimizer has {len(groups)} param groups but "
                                   f"ReduceLROnPlateau was given {len(self.min_lrs)} min_lrs; "
                                   f"set scheduler.min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:  # NOTE: a cut smaller than eps is not worth applying
                group["lr"] = new

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
