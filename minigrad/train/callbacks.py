"""Callbacks: hooks ``fit`` calls at the start, after every epoch, and at the end.

A callback sees the running fit through ``run`` (a :class:`minigrad.train.fit.FitState`: model,
optimizer, scheduler, history, epoch, global_step, ...) and asks training to stop with
``run.request_stop(reason)``. Its ``state_dict()`` goes into full training checkpoints, so a
resumed run continues exactly where the saved one was.
"""
import math
import os
import warnings

from minigrad.train.state import clone_state


class Callback:
    # Callbacks run in ascending ``order``: checkpoints (order 100) see the others' new state.
    order = 0

    def on_fit_start(self, run):
        pass

    def on_epoch_end(self, run):
        pass

    def on_fit_end(self, run):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def _check_mode(mode):
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return mode


def _improved(value, best, mode, min_delta):
    """True when ``value`` beats ``best`` by more than ``min_delta`` in the direction of mode."""
    if value is None or math.isnan(value):
        return False
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(run, monitor, owner):
    """The monitored value of the last epoch; a val_* metric without a val loader falls back to
    its training counterpart (warned once at fit start)."""
    rec = run.history.last()
    if monitor not in rec and monitor not in run.history.metrics:
        raise ValueError(f"{owner}: unknown monitor {monitor!r}; the history has "
                         f"{sorted(k for k in rec if k not in ('epoch', 'time'))}")
    return rec.get(monitor)


def _fallback_monitor(run, monitor, owner):
    if monitor.startswith("val_") and run.val_loader is None:
        train_name = "train_loss" if monitor == "val_loss" else monitor[len("val_"):]
        warnings.warn(f"{owner}: no val_loader, monitoring {train_name!r} instead of "
                      f"{monitor!r}", RuntimeWarning, stacklevel=3)
        return train_name
    return monitor


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    An epoch improves when value < best - min_delta (mode "min") or value > best + min_delta
    (mode "max"). With ``restore_best_weights`` the model gets the best epoch's weights back when
    training is stopped. After fit, ``stopped_epoch``, ``best`` and ``best_epoch`` say what
    happened (``stopped_epoch`` is 0 when patience never ran out)."""

    def __init__(self, monitor="val_loss", mode="min", patience=5, min_delta=0.0,
                 restore_best_weights=False):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive int, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.mode = _check_mode(mode)
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self._active_monitor = monitor
        self.reset()

    def reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None

    def update(self, value, epoch, weights=None):
        """Feed one epoch's value; returns True when training should stop. ``weights`` is a
        zero-argument callable giving the model's state (called only on improvement)."""
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = float(value), int(epoch), 0
            if self.restore_best_weights and weights is not None:
                self.best_weights = clone_state(weights())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = int(epoch)
            return True
        return False

    def on_fit_start(self, run):
        self._active_monitor = _fallback_monitor(run, self.monitor, "EarlyStopping")

    def on_epoch_end(self, run):
        value = _monitored(run, self._active_monitor, "EarlyStopping")
        if self.update(value, run.epoch, weights=run.model.state_dict):
            if self.restore_best_weights and self.best_weights is not None:
                run.model.load_state_dict(clone_state(self.best_weights))
            run.request_stop(f"early stopping at epoch {self.stopped_epoch}: "
                             f"{self._active_monitor} did not improve for {self.patience} "
                             f"epochs (best {self.best:.4f} at epoch {self.best_epoch})")

    def state_dict(self):
        return {"monitor": self.monitor, "mode": self.mode, "patience": self.patience,
                "min_delta": self.min_delta, "best": self.best, "best_epoch": self.best_epoch,
                "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        for key in ("best", "best_epoch", "wait", "stopped_epoch", "best_weights"):
            setattr(self, key, state[key])


class Checkpoint(Callback):
    """Write full training checkpoints into ``dirpath``: ``last.safetensors`` every
    ``every_n_epochs`` epochs (and at the final epoch) and ``best.safetensors`` whenever
    ``monitor`` improves. Files are written atomically; non-finite weights are never saved."""
    order = 100
    LAST, BEST = "last.safetensors", "best.safetensors"

    def __init__(self, dirpath, monitor="val_loss", mode="min", save_last=True, save_best=True,
                 every_n_epochs=1, extra=None):
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) \
                or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be a positive int, got {every_n_epochs!r}")
        self.dirpath = os.fspath(dirpath)
        self.monitor = monitor
        self.mode = _check_mode(mode)
        self.save_last = bool(save_last)
        self.save_best = bool(save_best)
        self.every_n_epochs = every_n_epochs
        self.extra = extra  # stored in every file (the CLI keeps its run config here)
        self._active_monitor = monitor
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0

    @property
    def last_path(self):
        return os.path.join(self.dirpath, self.LAST)

    @property
    def best_path(self):
        return os.path.join(self.dirpath, self.BEST)

    def on_fit_start(self, run):
        os.makedirs(self.dirpath, exist_ok=True)
        self._active_monitor = _fallback_monitor(run, self.monitor, "Checkpoint")

    def on_epoch_end(self, run):
        from minigrad.train.checkpoint import save_checkpoint
        from minigrad.train.fit import is_finite_model
        value = _monitored(run, self._active_monitor, "Checkpoint")
        improved = _improved(value, self.best, self.mode, 0.0)
        if improved:
            self.best, self.best_epoch = float(value), int(run.epoch)
        due = run.epoch % self.every_n_epochs == 0 or run.epoch == run.epochs or run.stopping
        if (self.save_last and due or self.save_best and improved) \
                and not is_finite_model(run.model):
            warnings.warn(f"Checkpoint: epoch {run.epoch} has NaN/Inf weights; keeping the "
                          "previous checkpoint files", RuntimeWarning, stacklevel=2)
            return
        if self.save_last and due:
            save_checkpoint(self.last_path, run, self.extra)
        if self.save_best and improved:
            save_checkpoint(self.best_path, run, self.extra)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
