"""Named building blocks for experiments (the CLI and ``compare``): datasets, MLPs, optimizers
and schedules by name, so a run is fully described by a small JSON-able config."""
import numpy as np

DATASETS = ("linear2d", "moons", "circles", "spirals")
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
              "adagrad": "Adagrad"}
# The seed's advice: start at 0.01 for SGD, 0.001 for Adam; the others use torch's defaults.
DEFAULT_LR = {"sgd": 0.01, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.01, "adagrad": 0.01}
# The hyperparameters each optimizer takes besides lr (torch's names).
HYPERPARAMETERS = {"sgd": ("momentum", "nesterov", "weight_decay"),
                   "adam": ("betas", "eps", "weight_decay", "amsgrad"),
                   "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
                   "rmsprop": ("momentum", "eps", "alpha", "weight_decay"),
                   "adagrad": ("eps", "weight_decay")}
SCHEDULERS = ("none", "step", "exponential", "cosine", "cyclic", "onecycle", "plateau")
PER_BATCH_SCHEDULERS = ("cyclic", "onecycle")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")


def _choice(kind, name, options):
    if name not in options:
        raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(options)}")
    return name


def load_data(name="linear2d", n=1000, seed=42, classes=2):
    """(X, y) float32 arrays of one of the synthetic datasets."""
    from minigrad import datasets
    _choice("dataset", name, DATASETS)
    if name == "spirals":
        return datasets.spirals(n=n, seed=seed, classes=classes)
    if classes != 2:
        raise ValueError(f"--classes applies to spirals only ({name} has 2 classes)")
    return getattr(datasets, name)(n=n, seed=seed)


def split(X, y, val_split, seed):
    """Deterministic train/val split (a seeded permutation) or (X, y, None, None)."""
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"val_split must be in [0, 1), got {val_split!r}")
    if val_split == 0:
        return X, y, None, None
    n_val = max(1, int(round(len(X) * val_split)))
    if n_val >= len(X):
        raise ValueError(f"val_split {val_split} leaves no training samples")
    order = np.random.RandomState(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def make_mlp(in_features, hidden, out_features, activation="relu", dropout=0.0,
             sigmoid_output=True):
    """Linear → activation (→ Dropout) per hidden width, then Linear (→ Sigmoid for binary,
    as the seed's SimpleNN does)."""
    from minigrad import nn
    _choice("activation", activation, ACTIVATIONS)
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
           "leaky_relu": nn.LeakyReLU}[activation]
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    layers, width = [], in_features
    for h in hidden:
        if h < 1:
            raise ValueError(f"hidden sizes must be positive, got {list(hidden)}")
        layers += [nn.Linear(width, h), act()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    if out_features == 1 and sigmoid_output:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def make_optimizer(name, params, lr=None, **hyper):
    """``optim.<Name>(params, lr, **hyper)``; hyperparameters that are None are left out."""
    from minigrad import optim
    _choice("optimizer", name, tuple(OPTIMIZERS))
    lr = DEFAULT_LR[name] if lr is None else lr
    kwargs = {k: v for k, v in hyper.items() if v is not None}
    for k in kwargs:
        if k not in HYPERPARAMETERS[name]:
            users = [o for o, hp in HYPERPARAMETERS.items() if k in hp]
            raise ValueError(f"{k} does not apply to {name} (it applies to "
                             f"{', '.join(users) or 'no optimizer'})")
    try:
        return getattr(optim, OPTIMIZERS[name])(params, lr=lr, **kwargs)
    except TypeError as e:
        raise ValueError(f"optimizer {name}: {e}") from None


def make_scheduler(name, optimizer, *, epochs, steps_per_epoch, warmup=0, step_size=10,
                   gamma=None, max_lr=None, base_lr=None, factor=0.1, patience=10):
    """A schedule by name; ``warmup`` epochs of LinearLR (from 0.1·lr) go in front of an
    epoch-level schedule via SequentialLR (the spec's warmup recipe)."""
    from minigrad.optim import lr_scheduler as S
    _choice("scheduler", name, SCHEDULERS)
    if warmup and name in PER_BATCH_SCHEDULERS + ("plateau",):
        raise ValueError(f"--warmup combines with step, exponential, cosine or none, not {name}")
    if warmup and warmup >= epochs:
        raise ValueError(f"--warmup {warmup} must be shorter than --epochs {epochs}")
    lr = optimizer.param_groups[0]["lr"]
    rest = epochs - warmup
    # The warmup is built first, as in the recipe, so each constructor sees the base lr.
    warm = S.LinearLR(optimizer, start_factor=0.1, total_iters=warmup) if warmup else None
    if name == "none":
        main = None
    elif name == "step":
        main = S.StepLR(optimizer, step_size=step_size, gamma=0.1 if gamma is None else gamma)
    elif name == "exponential":
        main = S.ExponentialLR(optimizer, gamma=0.95 if gamma is None else gamma)
    elif name == "cosine":
        main = S.CosineAnnealingLR(optimizer, T_max=max(rest, 1))
    elif name == "cyclic":
        # NOTE: cycle_momentum=False: the CLI's cyclic schedule moves the lr only (torch's
        # default would also overwrite SGD's momentum with 0.8..0.9).
        main = S.CyclicLR(optimizer, base_lr=lr / 10 if base_lr is None else base_lr,
                          max_lr=lr * 10 if max_lr is None else max_lr,
                          step_size_up=max(1, 2 * steps_per_epoch), cycle_momentum=False)
    elif name == "onecycle":
        main = S.OneCycleLR(optimizer, max_lr=lr * 10 if max_lr is None else max_lr,
                            epochs=epochs, steps_per_epoch=steps_per_epoch,
                            cycle_momentum=False)
    else:
        main = S.ReduceLROnPlateau(optimizer, factor=factor, patience=patience)
    if warm is None or main is None:
        return warm or main
    return S.SequentialLR(optimizer, [warm, main], milestones=[warmup])
