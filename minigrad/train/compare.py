"""``compare``: one model, several training configs, a fair race.

Every config starts from the same initial weights (one draw of ``make_model`` copied into each
run), sees the same shuffled order of samples (a loader generator seeded identically; batch
sizes only cut it differently) and the same dropout draws (the global generator is reseeded).
So the curves differ only by what the configs change: optimizer, lr, batch size, schedule.
"""
import numpy as np

from minigrad.train.fit import fit
from minigrad.train.state import clone_state

_CONFIG_KEYS = {"name", "optimizer", "lr", "batch_size", "scale_lr", "base_batch_size",
                "scheduler", "optimizer_kwargs", "scheduler_kwargs", "accumulate",
                "clip_grad_norm"}


class CompareResult(dict):
    """name -> History, plus the trained ``models``, the resolved ``configs``, ``table()`` and
    ``plot(path)``."""

    def __init__(self, histories, models, configs):
        super().__init__(histories)
        self.models = models
        self.configs = configs

    def rows(self):
        rows = []
        for name, h in self.items():
            acc = h.metrics.get("val_accuracy") or h.metrics.get("accuracy") or [None]
            monitor = "val_loss" if any(v is not None for v in h.val_loss) else "train_loss"
            c = self.configs[name]
            rows.append({"name": name, "optimizer": c["optimizer_name"], "lr": c["lr"],
                         "batch_size": c["batch_size"], "train_loss": h.train_loss[-1],
                         "val_loss": h.val_loss[-1], "accuracy": acc[-1],
                         "best_epoch": h.best_epoch(monitor),
                         "time": float(sum(t for t in h.time if t is not None))})
        return rows

    def table(self):
        """A plain-text table: final train/val loss, accuracy, best epoch, time."""
        def fmt(v, spec):
            return "-" if v is None else format(v, spec)
        head = ["config", "optimizer", "lr", "batch", "train loss", "val loss", "accuracy",
                "best epoch", "time (s)"]
        body = [[r["name"], r["optimizer"], fmt(r["lr"], ".3g"), str(r["batch_size"]),
                 fmt(r["train_loss"], ".4f"), fmt(r["val_loss"], ".4f"),
                 fmt(r["accuracy"], ".4f"), fmt(r["best_epoch"], "d"), fmt(r["time"], ".2f")]
                for r in self.rows()]
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(row, widths)))
                 for row in [head] + body]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def plot(self, path, title="Loss by config"):
        from minigrad.train.plotting import plot_histories
        return plot_histories(dict(self), path, title=title)


def _normalise(configs):
    if isinstance(configs, dict):
        configs = [dict(c, name=c.get("name", n)) for n, c in configs.items()]
    out = {}
    for i, c in enumerate(configs):
        unknown = set(c) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"compare: unknown config keys {sorted(unknown)}; allowed: "
                             f"{sorted(_CONFIG_KEYS)}")
        name = c.get("name") or (f"{c.get('optimizer', 'sgd')} lr={c.get('lr')} "
                                 f"bs={c.get('batch_size', 32)}")
        if name in out:
            raise ValueError(f"compare: two configs are named {name!r}")
        out[name] = c
    if not out:
        raise ValueError("compare: no configs given")
    return out


def _as_tensor(a):
    import minigrad
    return a if isinstance(a, minigrad.Tensor) else minigrad.tensor(np.asarray(a))


def compare(make_model, data, configs, epochs, *, loss_fn=None, val_data=None, seed=0,
            metrics=("accuracy",), device=None, verbose=False):
    """Train ``make_model()`` once per config and return a :class:`CompareResult`.

    ``data`` is ``(X, y)`` (arrays or Tensors); ``val_data`` optionally the same for
    validation. Each config is a dict: ``optimizer`` (a name such as "adam", or a callable
    ``params -> Optimizer``), ``lr``, ``batch_size`` (default 32), ``scale_lr`` (apply the
    linear scaling rule ``lr · batch_size / base_batch_size``, base default 32),
    ``optimizer_kwargs``, ``scheduler`` (a name from ``factory.SCHEDULERS`` or a callable
    ``(optimizer, steps_per_epoch, epochs) -> scheduler``), ``scheduler_kwargs``, ``accumulate``,
    ``clip_grad_norm``; ``name`` labels it (configs may also be a dict name -> config).
    """
    import minigrad
    from minigrad import nn
    from minigrad.optim import scale_lr
    from minigrad.train import factory
    from minigrad.utils.data import DataLoader, TensorDataset
    configs = _normalise(configs)
    X, y = (_as_tensor(a) for a in data)
    val = None
    if val_data is not None:
        val = DataLoader(TensorDataset(*(_as_tensor(a) for a in val_data)), batch_size=256)
    loss_fn = nn.BCELoss() if loss_fn is None else loss_fn
    minigrad.manual_seed(seed)
    initial = clone_state(make_model().state_dict())

    histories, models, resolved = {}, {}, {}
    for name, c in configs.items():
        bs = c.get("batch_size", 32)
        opt_spec = c.get("optimizer", "sgd")
        lr = c.get("lr", factory.DEFAULT_LR.get(opt_spec) if isinstance(opt_spec, str) else None)
        if c.get("scale_lr"):
            lr = scale_lr(lr, bs, c.get("base_batch_size", 32))
        minigrad.manual_seed(seed)
        model = make_model()
        model.load_state_dict(clone_state(initial))
        if callable(opt_spec):
            opt = opt_spec(model.parameters())
            lr = opt.param_groups[0]["lr"]
        else:
            opt = factory.make_optimizer(opt_spec, model.parameters(), lr,
                                         **c.get("optimizer_kwargs", {}))
        loader = DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=True,
                            generator=minigrad.Generator().manual_seed(seed))
        steps = -(-len(loader) // c.get("accumulate", 1))
        sched_spec = c.get("scheduler")
        if callable(sched_spec):
            sched = sched_spec(opt, steps, epochs)
        elif sched_spec is not None:
            sched = factory.make_scheduler(sched_spec, opt, epochs=epochs,
                                           steps_per_epoch=steps,
                                           **c.get("scheduler_kwargs", {}))
        else:
            sched = None
        minigrad.manual_seed(seed)  # dropout draws identical across configs
        histories[name] = fit(model, loss_fn, opt, loader, epochs=epochs, val_loader=val,
                              scheduler=sched, accumulate=c.get("accumulate", 1),
                              clip_grad_norm=c.get("clip_grad_norm"), metrics=metrics,
                              device=device, verbose=verbose, progress=False)
        models[name] = model
        resolved[name] = {"optimizer_name": opt_spec if isinstance(opt_spec, str)
                          else type(opt).__name__, "lr": lr, "batch_size": bs}
    return CompareResult(histories, models, resolved)
