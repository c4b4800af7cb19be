"""Optimizers (one file per update rule), ``trace`` to watch them work, and the LR schedulers.

``minigrad.optim.lr_scheduler`` is imported on first use.
"""
import importlib

from minigrad.optim.optimizer import Optimizer, required  # noqa: F401
from minigrad.optim.sgd import SGD, sgd_update  # noqa: F401
from minigrad.optim.adam import Adam, adam_update  # noqa: F401
from minigrad.optim.adamw import AdamW, adamw_update  # noqa: F401
from minigrad.optim.rmsprop import RMSprop, rmsprop_update  # noqa: F401
from minigrad.optim.adagrad import Adagrad, adagrad_update  # noqa: F401
from minigrad.optim.trace import trace  # noqa: F401


def scale_lr(lr, batch_size, base_batch_size):
    """The linear scaling rule: ``lr · batch_size / base_batch_size``.

    A batch B times larger averages B times more samples per step, so with B times fewer steps
    per epoch the learning rate grows in proportion (Goyal et al., 2017).
    """
    for name, value in (("lr", lr), ("batch_size", batch_size),
                        ("base_batch_size", base_batch_size)):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"scale_lr: {name} must be a number, got {value!r}")
        if not value > 0:
            raise ValueError(f"scale_lr: {name} must be positive, got {value}")
    return lr * batch_size / base_batch_size


def __getattr__(name):
    # The schedulers live in their own module; loading it lazily keeps this import light and
    # lets `optim.lr_scheduler.StepLR` work after a plain `import minigrad.optim`.
    if name == "lr_scheduler":
        return importlib.import_module("minigrad.optim.lr_scheduler")
    raise AttributeError(f"module 'minigrad.optim' has no attribute {name!r}")
