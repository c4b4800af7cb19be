"""The training toolkit: ``fit`` with callbacks and checkpoints, the LR finder, and optimizer
comparisons, each recording a :class:`History` that can be saved, charted and plotted.
(matplotlib, for the PNGs, is imported only when a plot is written.)"""
from minigrad.train.history import History  # noqa: F401
from minigrad.train.callbacks import Callback, Checkpoint, EarlyStopping  # noqa: F401
from minigrad.train.fit import FitState, NonFiniteLossError, evaluate, fit  # noqa: F401
from minigrad.train.checkpoint import (CheckpointMismatch, load_checkpoint,  # noqa: F401
                                       read_checkpoint, save_checkpoint)
from minigrad.train.lr_finder import LRFinderResult, lr_find  # noqa: F401
# NOTE: binds the name `compare` to the function, shadowing the submodule of the same name.
from minigrad.train.compare import CompareResult, compare  # noqa: F401
