"""The training toolkit: ``fit`` with callbacks and checkpoints, the LR finder, and optimizer
comparisons, each recording a :class:`History` that can be saved, charted and plotted."""
from minigrad.train.history import History  # noqa: F401
from minigrad.train.callbacks import Callback, Checkpoint, EarlyStopping  # noqa: F401
from minigrad.train.fit import FitState, NonFiniteLossError, evaluate, fit  # noqa: F401
from minigrad.train.checkpoint import (CheckpointMismatch, load_checkpoint,  # noqa: F401
                                       read_checkpoint, save_checkpoint)


def __getattr__(name):
    # lr_find and compare pull in more (plots, data); load them on first use.
    if name in ("lr_find", "LRFinderResult"):
        from minigrad.train import lr_finder
        return getattr(lr_finder, name)
    if name in ("compare", "CompareResult"):
        from minigrad.train import compare as _compare
        return getattr(_compare, name)
    raise AttributeError(f"module 'minigrad.train' has no attribute {name!r}")
