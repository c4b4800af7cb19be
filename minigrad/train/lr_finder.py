"""The LR range test (Smith, 2015; fastai / torch-lr-finder): train for ``num_iter`` steps while
the lr grows from ``start_lr`` to ``end_lr``, record the loss, and suggest the lr where the
smoothed loss falls fastest. Model, optimizer and RNG states are restored afterwards."""
import math

import numpy as np

from minigrad.train.fit import _split_batch
from minigrad.train.state import clone_state, rng_state, set_rng_state

# Points ignored at each end of the curve when looking for the steepest descent: the start is
# flat noise and the end is divergence (torch-lr-finder's skip_start/skip_end).
SKIP_START, SKIP_END = 10, 5


class LRFinderResult:
    """``lrs``, raw ``losses`` and ``smoothed`` losses (one per iteration run), the
    ``suggestion`` (None when the curve is too short to judge) and whether it ``diverged``."""

    def __init__(self, lrs, losses, smoothed, suggestion, diverged, step_mode):
        self.lrs, self.losses, self.smoothed = lrs, losses, smoothed
        self.suggestion, self.diverged, self.step_mode = suggestion, diverged, step_mode

    def plot(self, path):
        from minigrad.train.plotting import plot_lr_find
        return plot_lr_find(self.lrs, self.losses, self.smoothed, self.suggestion, path,
                            log_x=self.step_mode == "exp")

    def to_dict(self):
        return {"lrs": self.lrs, "losses": self.losses, "smoothed": self.smoothed,
                "suggestion": self.suggestion, "diverged": self.diverged,
                "step_mode": self.step_mode}

    def __repr__(self):
        s = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        return f"LRFinderResult({len(self.lrs)} points, suggestion={s}, diverged={self.diverged})"


def lr_schedule(start_lr, end_lr, num_iter, step_mode):
    """The lr of each iteration: geometric ("exp") or arithmetic ("linear") from start to end."""
    t = np.arange(num_iter) / max(num_iter - 1, 1)
    if step_mode == "exp":
        return (start_lr * (end_lr / start_lr) ** t).tolist()
    return (start_lr + (end_lr - start_lr) * t).tolist()


def suggest(lrs, smoothed, step_mode="exp"):
    """The lr at the steepest descent of the smoothed loss, ends ignored (None if too short)."""
    lo, hi = SKIP_START, len(smoothed) - SKIP_END
    if hi - lo < 3:
        lo, hi = 0, len(smoothed)
    if hi - lo < 3:
        return None
    x = np.log(lrs[lo:hi]) if step_mode == "exp" else np.asarray(lrs[lo:hi])
    y = np.asarray(smoothed[lo:hi])
    if not np.all(np.isfinite(y)):
        return None
    return float(lrs[lo + int(np.gradient(y, x).argmin())])


def _check(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th):
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, "
                         f"end_lr={end_lr}")
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"num_iter must be an int >= 2, got {num_iter!r}")
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"step_mode must be 'exp' or 'linear', got {step_mode!r}")
    if not 0 <= smooth_f < 1:
        raise ValueError(f"smooth_f must be in [0, 1), got {smooth_f!r}")
    if not diverge_th > 1:
        raise ValueError(f"diverge_th must be > 1, got {diverge_th!r}")


def lr_find(model, loss_fn, optimizer, loader, start_lr=1e-7, end_lr=10, num_iter=100,
            step_mode="exp", smooth_f=0.05, diverge_th=5):
    """Run the range test and restore everything; returns an :class:`LRFinderResult`.

    The smoothed loss is the exponential moving average s_i = smooth_f·loss_i +
    (1 − smooth_f)·s_{i−1}; the test stops once s_i > diverge_th · min(s) (or a loss is
    NaN/Inf). The loader is cycled when it runs out before ``num_iter`` batches.
    """
    _check(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th)
    saved_model = clone_state(model.state_dict())
    saved_opt = clone_state(optimizer.state_dict())
    saved_rng = rng_state(loader)
    was_training = model.training
    lrs_planned = lr_schedule(start_lr, end_lr, num_iter, step_mode)
    lrs, losses, smoothed = [], [], []
    best = math.inf
    diverged = False
    try:
        model.train()
        batches = iter(loader)
        for lr in lrs_planned:
            try:
                batch = next(batches)
            except StopIteration:
                batches = iter(loader)
                batch = next(batches, None)
                if batch is None:
                    raise ValueError("lr_find: the loader yielded no batches") from None
            x, y = _split_batch(batch)
            for g in optimizer.param_groups:
                g["lr"] = lr
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            value = float(loss.item())  # the test needs each value now: one sync per step
            s = value if not smoothed else smooth_f * value + (1 - smooth_f) * smoothed[-1]
            lrs.append(lr)
            losses.append(value)
            smoothed.append(s)
            if not math.isfinite(s) or s > diverge_th * best:
                diverged = True
                break
            best = min(best, s)
    finally:
        # NOTE: restore even on error/KeyboardInterrupt: the user's model must not keep the
        # weights of a deliberately exploding lr.
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_opt)
        optimizer.zero_grad()
        set_rng_state(saved_rng, loader)
        model.train(was_training)
    return LRFinderResult(lrs, losses, smoothed, suggest(lrs, smoothed, step_mode), diverged,
                          step_mode)
