"""History: what happened in each epoch of a ``fit`` (losses, metrics, lr, wall time)."""
import json

# The seed's Chart.js colours for the training curve; validation gets a second colour.
_TRAIN_STYLE = {"borderColor": "#4CAF50", "backgroundColor": "rgba(76, 175, 80, 0.2)"}
_VAL_STYLE = {"borderColor": "#2196F3", "backgroundColor": "rgba(33, 150, 243, 0.2)"}
_FIELDS = ("epoch", "train_loss", "val_loss", "lr", "time")


class History:
    """Per-epoch records. ``train_loss`` is the mean of the epoch's batch losses (the seed's
    ``total_loss / len(dataloader)``); ``val_loss`` the sample-weighted mean over the validation
    set (None without one); ``metrics`` maps a name ("accuracy" on the training batches,
    "val_accuracy" on the validation set) to one value per epoch; ``lr`` is the first group's lr
    in the epoch's last optimizer step; ``time`` the epoch's wall time in seconds.
    ``step_losses``/``step_lrs`` hold one list per epoch when fit ran with log_every_step."""

    def __init__(self):
        self.epoch = []
        self.train_loss = []
        self.val_loss = []
        self.lr = []
        self.time = []
        self.metrics = {}
        self.step_losses = []
        self.step_lrs = []
        self.stop_reason = None  # e.g. "early stopping at epoch 12 (best val_loss 0.31...)"

    def __len__(self):
        return len(self.epoch)

    def append(self, epoch, train_loss, val_loss=None, lr=None, time=None, metrics=None):
        self.epoch.append(int(epoch))
        self.train_loss.append(train_loss)
        self.val_loss.append(val_loss)
        self.lr.append(lr)
        self.time.append(time)
        for name, value in (metrics or {}).items():
            # A metric that appears late is padded so every list lines up with `epoch`.
            self.metrics.setdefault(name, [None] * (len(self.epoch) - 1)).append(value)
        for values in self.metrics.values():
            if len(values) < len(self.epoch):
                values.append(None)

    def last(self):
        """The latest epoch's record as one flat dict (what callbacks monitor)."""
        if not self.epoch:
            return {}
        rec = {f: getattr(self, f)[-1] for f in _FIELDS}
        rec.update({k: v[-1] for k, v in self.metrics.items()})
        return rec

    def best_epoch(self, monitor="val_loss", mode="min"):
        values = self.metrics.get(monitor) if monitor in self.metrics else getattr(
            self, monitor, None)
        pairs = [(v, e) for v, e in zip(values or [], self.epoch) if v is not None and v == v]
        if not pairs:
            return None
        return (min(pairs) if mode == "min" else max(pairs, key=lambda p: (p[0], -p[1])))[1]

    # ----- (de)serialisation -------------------------------------------------------------
    def to_dict(self):
        d = {f: list(getattr(self, f)) for f in _FIELDS}
        d["metrics"] = {k: list(v) for k, v in self.metrics.items()}
        d["step_losses"] = [list(s) for s in self.step_losses]
        d["step_lrs"] = [list(s) for s in self.step_lrs]
        d["stop_reason"] = self.stop_reason
        return d

    @classmethod
    def from_dict(cls, d):
        h = cls()
        try:
            for f in _FIELDS:
                setattr(h, f, list(d[f]))
            h.metrics = {str(k): list(v) for k, v in d.get("metrics", {}).items()}
            h.step_losses = [list(s) for s in d.get("step_losses", [])]
            h.step_lrs = [list(s) for s in d.get("step_lrs", [])]
            h.stop_reason = d.get("stop_reason")
        except (KeyError, TypeError) as e:
            raise ValueError(f"Invalid History record: missing or malformed {e}") from None
        n = len(h.epoch)
        bad = [f for f in _FIELDS if len(getattr(h, f)) != n]
        bad += [k for k, v in h.metrics.items() if len(v) != n]
        if bad:
            raise ValueError(f"Invalid History record: {bad} do not have {n} entries")
        return h

    def to_json(self, indent=None):
        # NaN/inf are written as JSON's nonstandard NaN/Infinity: Python and JS's JSON5 read them.
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text):
        try:
            d = json.loads(text)
        except ValueError as e:
            raise ValueError(f"Invalid History JSON: {e}") from None
        return cls.from_dict(d)

    def to_chartjs(self, title="Training Loss Over Epochs"):
        """A Chart.js line-chart config shaped like the seed's ("Training Loss" per epoch)."""
        def dataset(label, values, style):
            return {"label": label, "data": [None if v is None else round(v, 4) for v in values],
                    **style, "fill": True, "tension": 0.4}
        datasets = [dataset("Training Loss", self.train_loss, _TRAIN_STYLE)]
        if any(v is not None for v in self.val_loss):
            datasets.append(dataset("Validation Loss", self.val_loss, _VAL_STYLE))
        return {
            "type": "line",
            "data": {"labels": list(self.epoch), "datasets": datasets},
            "options": {
                "scales": {"x": {"title": {"display": True, "text": "Epoch"}},
                           "y": {"title": {"display": True, "text": "Loss"},
                                 "beginAtZero": True}},
                "plugins": {"title": {"display": True, "text": title}},
            },
        }

    def plot(self, path, title="Training Loss Over Epochs"):
        """Write a PNG of the loss curves (and the lr when it changed) to ``path``."""
        from minigrad.train.plotting import plot_histories
        plot_histories({"": self}, path, title=title)
        return path

    def __repr__(self):
        if not self.epoch:
            return "History(empty)"
        last = self.last()
        return (f"History({len(self)} epochs, train_loss={last['train_loss']:.4f}"
                + (f", val_loss={last['val_loss']:.4f}" if last["val_loss"] is not None else "")
                + ")")
