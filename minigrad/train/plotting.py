"""PNG plots of training runs. matplotlib is optional (``pip install minigrad[plot]``): it is
imported only here, only when a plot is asked for, and only its Agg (file) canvas is used, so
no window and no global pyplot state is ever touched."""
import io

from minigrad.serialization import atomic_write_bytes

HINT = "matplotlib is not installed; install it for PNG plots: pip install 'minigrad[plot]'"


class PlotUnavailable(ImportError):
    """matplotlib is missing."""


def _figure(nrows=1, figsize=(8, 4.8)):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable(HINT) from None
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, squeeze=False)[:, 0]
    return fig, axes


def _save(fig, path):
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return path


def plot_histories(histories, path, title="Training Loss Over Epochs"):
    """Overlay the loss curves of several Histories ({name: History}); the lr curves go in a
    second panel when any lr changed during training."""
    show_lr = any(len({v for v in h.lr if v is not None}) > 1 for h in histories.values())
    fig, axes = _figure(2 if show_lr else 1, figsize=(8, 7.2 if show_lr else 4.8))
    ax = axes[0]
    single = len(histories) == 1
    for i, (name, h) in enumerate(histories.items()):
        # One run is drawn like the seed's chart: green line over a light green fill.
        color = "#4CAF50" if single else f"C{i}"
        prefix = f"{name} " if name else ""
        ax.plot(h.epoch, h.train_loss, color=color, marker="." if len(h) < 30 else None,
                label=f"{prefix}Training Loss" if single else f"{prefix}train")
        if single:
            ax.fill_between(h.epoch, h.train_loss, color=color, alpha=0.2)
            if min(h.train_loss, default=0) >= 0:
                ax.set_ylim(bottom=0)  # the seed's beginAtZero
        val = [(e, v) for e, v in zip(h.epoch, h.val_loss) if v is not None]
        if val:
            ax.plot(*zip(*val), color="#2196F3" if single else color, linestyle="--",
                    label=f"{prefix}Validation Loss" if single else f"{prefix}val")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    if show_lr:
        ax = axes[1]
        for i, (name, h) in enumerate(histories.items()):
            ax.plot(h.epoch, h.lr, color=f"C{i}", label=name or "lr")
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Learning rate")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


def plot_lr_find(lrs, losses, smoothed, suggestion, path, log_x=True):
    """The LR finder's loss-vs-lr curve with the suggested lr marked."""
    fig, (ax,) = _figure()
    ax.plot(lrs, losses, color="C0", alpha=0.3, label="loss")
    ax.plot(lrs, smoothed, color="C0", label="smoothed loss")
    if suggestion is not None:
        ax.axvline(suggestion, color="C3", linestyle="--", label=f"suggested lr {suggestion:.2e}")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("Learning rate")
    ax.set_ylabel("Loss")
    ax.set_title("LR finder")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)
