"""``minigrad train``: the seed's experiment by default (linear2d, 2-10-1 MLP with ReLU and
Sigmoid, SGD lr 0.01, batch 32, 50 epochs, BCE), every knob a flag, every run saved to a run
directory (history, Chart.js config, loss plot, last/best checkpoints).

The shared flags (data, model, optimizer) are defined here and reused by ``compare`` and
``lr-find``.
"""
import json
import os
import sys

import numpy as np

from minigrad.cli import CLIError
from minigrad.train import factory

# Defaults of the seed's experiment. Flags default to None so that a resumed run can tell
# "given on the command line" from "not given" (then the checkpoint's value is used).
DEFAULTS = {
    "dataset": "linear2d", "samples": 1000, "classes": 2, "seed": 42, "hidden": [10],
    "activation": "relu", "dropout": 0.0, "optimizer": "sgd", "lr": None, "momentum": None,
    "nesterov": None, "weight_decay": None, "betas": None, "eps": None, "alpha": None,
    "amsgrad": None, "batch_size": 32, "epochs": 50, "scheduler": "none", "warmup": 0,
    "step_size": 10, "gamma": None, "max_lr": None, "base_lr": None, "factor": 0.1,
    "plateau_patience": 10, "val_split": 0.0, "early_stopping": None, "accumulate": 1,
    "clip_grad_norm": None,
}
# What defines the model and the data: a resumed run may not change these.
_FIXED_ON_RESUME = ("dataset", "samples", "classes", "seed", "hidden", "activation", "dropout",
                    "optimizer", "scheduler", "val_split", "batch_size", "warmup")


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ValueError(f"expected positive integers, got {text!r}")
    return values


def _float_pair(text):
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected two comma-separated numbers, got {text!r}") from None
    return (a, b)


def _typed(fn, name):
    """An argparse type whose errors read '--flag: message'."""
    import argparse

    def parse(text):
        try:
            return fn(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    parse.__name__ = name
    return parse


def add_data_model_args(p):
    g = p.add_argument_group("data and model")
    g.add_argument("--dataset", choices=factory.DATASETS,
                   help="synthetic 2-D dataset (default linear2d, the seed's)")
    g.add_argument("--samples", type=int, metavar="N", help="number of points (default 1000)")
    g.add_argument("--classes", type=int, help="spiral arms for --dataset spirals (default 2)")
    g.add_argument("--seed", type=int, help="seed for the data, the weights and shuffling "
                   "(default 42)")
    g.add_argument("--hidden", type=_typed(_int_list, "hidden"), metavar="W1,W2,...",
                   help="hidden layer widths (default 10)")
    g.add_argument("--activation", choices=factory.ACTIVATIONS, help="default relu")
    g.add_argument("--dropout", type=float, metavar="P", help="dropout after each hidden layer")


def add_optimizer_args(p, with_lr=True):
    g = p.add_argument_group("optimizer")
    g.add_argument("--optimizer", choices=tuple(factory.OPTIMIZERS), help="default sgd")
    if with_lr:
        g.add_argument("--lr", type=float, help="learning rate (default 0.01 for sgd, rmsprop, "
                       "adagrad; 0.001 for adam, adamw)")
    g.add_argument("--momentum", type=float, help="sgd, rmsprop")
    g.add_argument("--nesterov", action="store_true", default=None, help="sgd")
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--betas", type=_typed(_float_pair, "betas"), metavar="B1,B2",
                   help="adam, adamw")
    g.add_argument("--eps", type=float, help="adam, adamw, rmsprop, adagrad")
    g.add_argument("--alpha", type=float, help="rmsprop smoothing constant")
    g.add_argument("--amsgrad", action="store_true", default=None, help="adam, adamw")
    g.add_argument("--batch-size", type=int, help="default 32")


def add_output_args(p):
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="DIR", help="write the results here (default "
                   "runs/<name>-<n>/)")
    g.add_argument("--quiet", action="store_true", help="no per-epoch output")
    g.add_argument("--no-progress", action="store_true",
                   help="plain per-epoch lines even in a terminal (no progress bar)")


_DESCRIPTION = __doc__.split("\n\n")[0].replace("``", "")


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="train an MLP on a 2-D dataset (default: the seed's "
                              "experiment)", description=_DESCRIPTION)
    add_data_model_args(p)
    add_optimizer_args(p)
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, help="total epochs (default 50)")
    g.add_argument("--scheduler", choices=factory.SCHEDULERS, help="lr schedule (default none)")
    g.add_argument("--warmup", type=int, metavar="N", help="epochs of linear lr warmup")
    g.add_argument("--step-size", type=int, help="step: epochs between decays (default 10)")
    g.add_argument("--gamma", type=float, help="step/exponential: decay factor")
    g.add_argument("--max-lr", type=float, help="cyclic/onecycle: peak lr (default 10·lr)")
    g.add_argument("--base-lr", type=float, help="cyclic: lowest lr (default lr/10)")
    g.add_argument("--factor", type=float, help="plateau: lr multiplier (default 0.1)")
    g.add_argument("--plateau-patience", type=int, help="plateau: epochs (default 10)")
    g.add_argument("--val-split", type=float, metavar="F", help="fraction held out for "
                   "validation (default 0)")
    g.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without improvement")
    g.add_argument("--accumulate", type=int, metavar="K", help="gradient accumulation steps")
    g.add_argument("--clip-grad-norm", type=float, metavar="MAX")
    g.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    g.add_argument("--resume", metavar="PATH", help="continue from a checkpoint "
                   "(last.safetensors of an earlier run)")
    g.add_argument("--name", help="run name (default: the dataset)")
    add_output_args(p)
    return p


# ----- shared helpers (also used by compare and lr-find) ------------------------------------

def resolve(args, base=None):
    """The run config: DEFAULTS, then ``base`` (a resumed run's), then the flags given."""
    config = dict(DEFAULTS)
    config.update(base or {})
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            if base and key in _FIXED_ON_RESUME and base.get(key) != value \
                    and not (key == "hidden" and list(base.get(key)) == list(value)):
                raise CLIError(f"--{key.replace('_', '-')} {value} differs from the "
                               f"checkpoint's {base.get(key)}; a resumed run keeps its model, "
                               "data and optimizer")
            config[key] = value
    check_config(config)
    return config


def check_config(c):
    for key in ("samples", "batch_size", "epochs", "accumulate", "step_size",
                "plateau_patience"):
        if c[key] < 1:
            raise CLIError(f"--{key.replace('_', '-')} must be >= 1, got {c[key]}")
    if c["warmup"] < 0:
        raise CLIError(f"--warmup must be >= 0, got {c['warmup']}")
    if c["early_stopping"] is not None and c["early_stopping"] < 1:
        raise CLIError(f"--early-stopping must be >= 1, got {c['early_stopping']}")
    for key in ("lr", "max_lr", "base_lr", "clip_grad_norm"):
        if c[key] is not None and not c[key] > 0:
            raise CLIError(f"--{key.replace('_', '-')} must be > 0, got {c[key]}")
    if not 0 <= c["val_split"] < 1:
        raise CLIError(f"--val-split must be in [0, 1), got {c['val_split']}")


def check_device(spec):
    import minigrad
    if spec not in ("cpu", "cuda") and not spec.startswith("cuda:"):
        raise CLIError(f"--device must be cpu or cuda, got {spec!r}")
    if spec.startswith("cuda") and not minigrad.cuda.is_available():
        raise CLIError(f"--device {spec}: no CUDA GPU is available (CuPy is not installed or "
                       "sees no device); use --device cpu")
    return spec


def build(config, device="cpu"):
    """Data loaders, model, loss, optimizer and scheduler for a config, seeded from it."""
    import minigrad
    from minigrad import nn
    from minigrad.utils.data import DataLoader, TensorDataset
    c = config
    X, y = factory.load_data(c["dataset"], c["samples"], c["seed"], c["classes"])
    Xt, yt, Xv, yv = factory.split(X, y, c["val_split"], c["seed"])
    multi = c["classes"] > 2

    def tensors(X_, y_):
        target = y_[:, 0].astype("int64") if multi else y_
        return minigrad.tensor(X_).to(device), minigrad.tensor(target).to(device)
    minigrad.manual_seed(c["seed"])
    gen = minigrad.Generator().manual_seed(c["seed"])
    train = DataLoader(TensorDataset(*tensors(Xt, yt)), batch_size=c["batch_size"],
                       shuffle=True, generator=gen)
    val = None if Xv is None else DataLoader(TensorDataset(*tensors(Xv, yv)),
                                             batch_size=max(c["batch_size"], 256))
    model = factory.make_mlp(X.shape[1], c["hidden"], c["classes"] if multi else 1,
                             c["activation"], c["dropout"]).to(device)
    loss_fn = nn.CrossEntropyLoss() if multi else nn.BCELoss()
    opt = factory.make_optimizer(c["optimizer"], model.parameters(), c["lr"],
                                 momentum=c["momentum"], nesterov=c["nesterov"],
                                 weight_decay=c["weight_decay"], betas=c["betas"],
                                 eps=c["eps"], alpha=c["alpha"], amsgrad=c["amsgrad"])
    sched = factory.make_scheduler(c["scheduler"], opt, epochs=c["epochs"],
                                   steps_per_epoch=-(-len(train) // c["accumulate"]),
                                   warmup=c["warmup"], step_size=c["step_size"],
                                   gamma=c["gamma"], max_lr=c["max_lr"], base_lr=c["base_lr"],
                                   factor=c["factor"], patience=c["plateau_patience"])
    return {"train": train, "val": val, "model": model, "loss_fn": loss_fn, "optimizer": opt,
            "scheduler": sched, "X": tensors(X, y)}


def run_dir(out, name):
    """``out`` (created), or the first free ``runs/<name>-<n>``."""
    if out:
        os.makedirs(out, exist_ok=True)
        return out
    os.makedirs("runs", exist_ok=True)
    n = 1
    while True:
        path = os.path.join("runs", f"{name}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1


def write_plot(plot_fn, path, out=None):
    """Call ``plot_fn(path)``; without matplotlib print the one-line hint instead."""
    from minigrad.train.plotting import PlotUnavailable
    try:
        plot_fn(path)
        return True
    except PlotUnavailable as e:
        print(f"(no plot: {e})", file=sys.stdout if out is None else out)
        return False


def write_json(path, obj):
    from minigrad.serialization import atomic_write_text
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def _read_resume(path):
    from minigrad.train import read_checkpoint
    if not os.path.isfile(path):
        raise CLIError(f"--resume {path}: no such file")
    ckpt = read_checkpoint(path)
    config = (ckpt.get("extra") or {}).get("config")
    if not isinstance(config, dict):
        raise CLIError(f"--resume {path}: the checkpoint was not written by `minigrad train` "
                       "(no run config inside)")
    return ckpt, config


# ----- the command --------------------------------------------------------------------------

def run(args):
    from minigrad.train import Checkpoint, EarlyStopping, NonFiniteLossError, evaluate, fit
    device = check_device(args.device)
    ckpt, base = _read_resume(args.resume) if args.resume else (None, None)
    config = resolve(args, base)
    try:
        parts = build(config, device)
    except ValueError as e:
        raise CLIError(str(e)) from None
    name = args.name or config["dataset"]
    out = run_dir(args.out, name)
    monitor = "val_loss" if parts["val"] is not None else "train_loss"
    callbacks = []
    if config["early_stopping"]:
        callbacks.append(EarlyStopping(monitor=monitor, patience=config["early_stopping"]))
    callbacks.append(Checkpoint(out, monitor=monitor, extra={"config": config}))
    try:
        # NOTE: numpy's overflow warnings would add lines to stderr; a NaN/Inf loss is
        # reported by fit instead, as one clear error.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                history = fit(parts["model"], parts["loss_fn"], parts["optimizer"],
                          parts["train"], epochs=config["epochs"], val_loader=parts["val"],
                          scheduler=parts["scheduler"], callbacks=callbacks,
                          accumulate=config["accumulate"],
                          clip_grad_norm=config["clip_grad_norm"], device=device,
                          progress=not args.no_progress, verbose=not args.quiet,
                          resume=ckpt)
    except NonFiniteLossError as e:
        # Keep what was learned about the failure: the completed epochs' history.
        write_json(os.path.join(out, "history.json"), e.history.to_dict())
        raise CLIError(f"{e} (history so far in {out})") from None
    from minigrad.utils.data import DataLoader, TensorDataset
    everything = DataLoader(TensorDataset(*parts["X"]), batch_size=4096)
    final = evaluate(parts["model"], parts["loss_fn"], everything, device=device)
    print(f"Final Accuracy: {final['accuracy']:.4f}")
    if parts["val"] is not None:
        val = evaluate(parts["model"], parts["loss_fn"], parts["val"], device=device)
        print(f"Val Accuracy: {val['accuracy']:.4f}")
    write_json(os.path.join(out, "history.json"), history.to_dict())
    write_json(os.path.join(out, "loss.chartjs.json"), history.to_chartjs())
    write_json(os.path.join(out, "config.json"), config)
    write_plot(history.plot, os.path.join(out, "loss.png"))
    print(f"Run saved to {out}")
    return 0
