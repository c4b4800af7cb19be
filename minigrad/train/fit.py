"""``fit``: the training loop of the seed (zero_grad, forward, loss, backward, step, per-epoch
average loss), plus validation, schedules, gradient accumulation and clipping, callbacks,
checkpoints and exact resume."""
import io
import os
import sys
import time

import numpy as np

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.train.history import History
from minigrad.train.metrics import check_metrics, correct_count, uses_logits

# Schedulers whose schedule is defined per optimizer step rather than per epoch.
_PER_BATCH = ("CyclicLR", "OneCycleLR")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or Inf. ``epoch``/``step`` locate the first bad batch (1-based);
    ``history`` holds the completed epochs. No checkpoint is written for the failed epoch."""

    def __init__(self, epoch, step, value, history):
        super().__init__(f"loss is {value} at epoch {epoch}, step {step}: training stopped "
                         "(lower the learning rate or clip gradients); no checkpoint was "
                         "written for this epoch")
        self.epoch, self.step, self.value, self.history = epoch, step, value, history


class FitState:
    """What callbacks and checkpoints see of a running fit."""

    def __init__(self, model, optimizer, scheduler, train_loader, val_loader, callbacks,
                 epochs, history):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.callbacks = callbacks
        self.epochs = epochs
        self.history = history
        self.epoch = 0          # completed epochs
        self.global_step = 0    # optimizer steps taken
        self.stopping = False
        self.stop_reason = None

    def request_stop(self, reason):
        self.stopping = True
        self.stop_reason = reason


def _has_class(obj, names):
    return obj is not None and any(c.__name__ in names for c in type(obj).__mro__)


def _to(t, dev):
    return t if dev is None or not hasattr(t, "to") or t.device == dev else t.to(dev)


def _split_batch(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError("fit expects the loader to yield (inputs, targets) pairs, got "
                         f"{type(batch).__name__}"
                         + (f" of length {len(batch)}" if hasattr(batch, "__len__") else ""))
    return batch


def _clipper(clip_grad_norm, params):
    if clip_grad_norm is None:
        return None
    if not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be positive, got {clip_grad_norm!r}")
    from minigrad.nn.utils import clip_grad_norm_
    return lambda: clip_grad_norm_(params, clip_grad_norm)


def _group_sizes(n_batches, k):
    """Micro-batches in the group of each batch index: k, except a shorter trailing group."""
    if n_batches is None:
        return None
    return [min(k, n_batches - (i // k) * k) for i in range(n_batches)]


def _bar_size(file):
    """tqdm sizing: follow the terminal, unless it reports 0x0 (some ptys), which would make
    tqdm draw nothing at all."""
    try:
        size = os.get_terminal_size(file.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return {"dynamic_ncols": True}
    if size.columns >= 20 and size.lines >= 2:
        return {"dynamic_ncols": True}
    return {"ncols": 80, "nrows": 24}


def _epoch_line(epoch, epochs, loss, val_loss, val_acc, lr):
    parts = [f"Epoch [{epoch}/{epochs}], Loss: {loss:.4f}"]
    if val_loss is not None:
        parts.append(f"Val Loss: {val_loss:.4f}")
    if val_acc is not None:
        parts.append(f"Accuracy: {val_acc:.4f}")
    if lr is not None:
        parts.append(f"LR: {lr:.6g}")
    return ", ".join(parts)


def evaluate(model, loss_fn, loader, *, metrics=("accuracy",), device=None):
    """Mean loss over ``loader`` (weighted by batch size) and the metrics, in eval mode."""
    metrics = check_metrics(metrics)
    dev = None if device is None else backend.device(device)
    was_training = model.training
    model.eval()
    logits = uses_logits(loss_fn)
    loss_sum, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                x, y = _to(x, dev), _to(y, dev)
                out = model(x)
                n = out.shape[0] if out.ndim else 1
                loss_sum += float(loss_fn(out, y)._data) * n
                if metrics:
                    correct += int(correct_count(out._xp(), out._data, y._data, logits))
                count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    result = {"loss": loss_sum / count}
    if "accuracy" in metrics:
        result["accuracy"] = correct / count
    return result


def fit(model, loss_fn, optimizer, train_loader, *, epochs, val_loader=None, scheduler=None,
        callbacks=(), accumulate=1, clip_grad_norm=None, metrics=("accuracy",), device=None,
        progress=True, log_every_step=False, resume=None, verbose=True, file=None):
    """Train ``model`` for ``epochs`` epochs (in total, counting resumed ones) and return the
    :class:`History`.

    Each optimizer step follows the seed: zero_grad, forward, loss, backward, step. With
    ``accumulate=k`` the gradients of k consecutive batches are summed, each loss scaled by 1/k
    (by 1/m for a trailing group of m < k batches; by 1/k throughout when the loader has no
    len()), before one step. ``scheduler`` is stepped per
    optimizer step for CyclicLR/OneCycleLR, per epoch otherwise, and with the monitored loss
    (val_loss, or train_loss without a val_loader) for ReduceLROnPlateau. ``resume`` is a
    checkpoint path (or loaded checkpoint) to continue from, exactly.

    Output goes to ``file`` (stdout): a tqdm bar per epoch in a terminal when ``progress``,
    otherwise one line per epoch in the seed's format ``Epoch [k/N], Loss: 0.6923`` (plus val
    loss, val accuracy and lr when present); nothing when ``verbose`` is False.

    Raises :class:`NonFiniteLossError` (a RuntimeError) when a loss is NaN or Inf.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if isinstance(accumulate, bool) or not isinstance(accumulate, int) or accumulate < 1:
        raise ValueError(f"accumulate must be a positive int, got {accumulate!r}")
    metrics = check_metrics(metrics)
    dev = None if device is None else backend.device(device)
    if dev is not None:
        model.to(dev)
    file = sys.stdout if file is None else file
    callbacks = sorted(callbacks, key=lambda c: c.order)
    run = FitState(model, optimizer, scheduler, train_loader, val_loader, callbacks, epochs,
                   History())
    if resume is not None:
        from minigrad.train.checkpoint import load_checkpoint
        load_checkpoint(resume, run)
    for cb in callbacks:
        cb.on_fit_start(run)

    params = [p for g in optimizer.param_groups for p in g["params"]]
    clip = _clipper(clip_grad_norm, params)
    per_batch = _has_class(scheduler, _PER_BATCH)
    plateau = _has_class(scheduler, ("ReduceLROnPlateau",))
    logits = uses_logits(loss_fn)
    try:
        n_batches = len(train_loader)
    except TypeError:
        n_batches = None
    group_sizes = _group_sizes(n_batches, accumulate)
    use_bar = verbose and progress and getattr(file, "isatty", lambda: False)()
    group0 = optimizer.param_groups[0]

    while run.epoch < epochs and not run.stopping:
        epoch = run.epoch + 1
        t0 = time.perf_counter()
        model.train()
        bar = None
        if use_bar:
            from tqdm import tqdm
            bar = tqdm(total=n_batches, desc=f"Epoch {epoch}/{epochs}", file=file,
                       leave=True, **_bar_size(file))
        losses, correct, count, step_lrs = [], [], 0, []
        lr_used = group0["lr"]
        pending = 0  # micro-batches whose gradients wait for a step

        def update():
            """One optimizer step (clipping first, per-batch schedules after); the lr used."""
            if clip is not None:
                clip()
            lr = group0["lr"]
            optimizer.step()
            run.global_step += 1
            if log_every_step:
                step_lrs.append(lr)
            if per_batch:
                scheduler.step()
            return lr
        for i, batch in enumerate(train_loader):
            x, y = _split_batch(batch)
            x, y = _to(x, dev), _to(y, dev)
            if pending == 0:
                optimizer.zero_grad()
            out = model(x)
            try:
                loss = loss_fn(out, y)
            except (ValueError, RuntimeError) as e:
                # A loss that validates its input (BCELoss) rejects NaN outputs itself.
                if bool(out._xp().isfinite(out._data).all()):
                    raise
                raise NonFiniteLossError(epoch, i + 1, float("nan"), run.history) from e
            # NOTE: raw 0-d arrays are kept, not floats: no device sync in the loop.
            losses.append(loss._data)
            if metrics:
                correct.append(correct_count(out._xp(), out._data, y._data, logits))
                count += out.shape[0] if out.ndim else 1
            # A loader that yields more batches than its len() gets full groups past the end.
            group = group_sizes[i] if group_sizes and i < len(group_sizes) else accumulate
            (loss if group == 1 else loss * (1.0 / group)).backward()
            pending += 1
            if pending == group:
                pending = 0
                lr_used = update()
            if bar is not None:
                bar.update(1)
        if pending:  # a trailing partial group (a loader without len()) still steps
            lr_used = update()
        if not losses:
            raise ValueError("fit: the training loader yielded no batches")

        xp = backend.get_array_module(losses[0])
        step_losses = backend.to_host(xp.stack([xp.asarray(v) for v in losses])).astype(
            np.float64)
        bad = np.flatnonzero(~np.isfinite(step_losses))
        if bad.size:
            if bar is not None:
                bar.close()
            run.history.stop_reason = f"non-finite loss at epoch {epoch}, step {bad[0] + 1}"
            raise NonFiniteLossError(epoch, int(bad[0]) + 1, step_losses[bad[0]], run.history)
        train_loss = sum(step_losses.tolist()) / len(step_losses)
        epoch_metrics = {}
        if "accuracy" in metrics and count:
            epoch_metrics["accuracy"] = int(xp.stack([xp.asarray(c) for c in correct]).sum()) \
                / count
        val_loss = val_acc = None
        if val_loader is not None:
            ev = evaluate(model, loss_fn, val_loader, metrics=metrics, device=dev)
            val_loss = ev["loss"]
            if "accuracy" in ev:
                val_acc = epoch_metrics["val_accuracy"] = ev["accuracy"]
        if scheduler is not None and not per_batch:
            if plateau:
                scheduler.step(val_loss if val_loss is not None else train_loss)
            else:
                scheduler.step()
        run.history.append(epoch, train_loss, val_loss, lr_used, time.perf_counter() - t0,
                           epoch_metrics)
        if log_every_step:
            run.history.step_losses.append(step_losses.tolist())
            run.history.step_lrs.append(step_lrs)
        run.epoch = epoch
        shown_lr = lr_used if scheduler is not None else None
        if bar is not None:
            post = {"loss": f"{train_loss:.4f}"}
            if val_loss is not None:
                post["val_loss"] = f"{val_loss:.4f}"
            if val_acc is not None:
                post["acc"] = f"{val_acc:.4f}"
            bar.set_postfix(post)
            bar.close()
        elif verbose:
            print(_epoch_line(epoch, epochs, train_loss, val_loss, val_acc, shown_lr),
                  file=file, flush=True)
        for cb in callbacks:
            cb.on_epoch_end(run)

    if run.stop_reason is not None:
        run.history.stop_reason = run.stop_reason
        if verbose:
            print(run.stop_reason[0].upper() + run.stop_reason[1:], file=file, flush=True)
    for cb in callbacks:
        cb.on_fit_end(run)
    return run.history


def is_finite_model(model):
    """True when every parameter and buffer is finite (checked before writing a checkpoint)."""
    for t in model.state_dict().values():
        arr = t._data
        if arr.dtype.kind == "f" and not bool(t._xp().isfinite(arr).all()):
            return False
    return True


__all__ = ["fit", "evaluate", "FitState", "NonFiniteLossError", "is_finite_model"]
