"""``minigrad compare``: train the same MLP from the same initial weights on the same batches
with several optimizers, learning rates or batch sizes; print a table and write an overlay plot
of the loss (and lr) curves."""
import itertools
import os

from minigrad.cli import CLIError
from minigrad.cli.train import (add_data_model_args, add_optimizer_args,
                                add_output_args, check_device, resolve, run_dir, write_json,
                                write_plot)
from minigrad.train import factory


def _names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise CLIError("--optimizers: expected a comma-separated list")
    for n in names:
        if n not in factory.OPTIMIZERS:
            raise CLIError(f"--optimizers: unknown optimizer {n!r}; choose from "
                           f"{', '.join(factory.OPTIMIZERS)}")
    return names


def _numbers(text, flag, kind):
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"{flag}: expected comma-separated numbers, got {text!r}") from None
    if not values or any(not v > 0 for v in values):
        raise CLIError(f"{flag}: expected positive numbers, got {text!r}")
    return values


_DESCRIPTION = __doc__.split("\n\n")[0].replace("``", "")


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="compare optimizers / learning rates / batch sizes on "
                              "one model", description=_DESCRIPTION)
    p.add_argument("--optimizers", default="sgd,adam,rmsprop,adagrad",
                   help="comma-separated (default sgd,adam,rmsprop,adagrad)")
    p.add_argument("--lrs", help="comma-separated learning rates (default: each optimizer's)")
    p.add_argument("--batch-sizes", help="comma-separated batch sizes (default 32)")
    p.add_argument("--scale-lr", action="store_true",
                   help="linear scaling rule: lr · batch / base batch (the first batch size)")
    p.add_argument("--scheduler", choices=factory.SCHEDULERS, help="same schedule for all")
    p.add_argument("--epochs", type=int, default=None, help="default 50")
    p.add_argument("--val-split", type=float, default=None, help="default 0.2")
    p.add_argument("--device", default="cpu")
    add_data_model_args(p)
    add_optimizer_args(p, with_lr=False)
    add_output_args(p)
    return p


def run(args):
    from minigrad.train.compare import compare
    device = check_device(args.device)
    if args.val_split is None:
        args.val_split = 0.2
    args.optimizer = None
    args.lr = None
    config = resolve(args)
    optimizers = _names(args.optimizers)
    lrs = _numbers(args.lrs, "--lrs", float) if args.lrs else [None]
    sizes = _numbers(args.batch_sizes, "--batch-sizes", int) if args.batch_sizes \
        else [config["batch_size"]]
    X, y = factory.load_data(config["dataset"], config["samples"], config["seed"],
                             config["classes"])
    Xt, yt, Xv, yv = factory.split(X, y, config["val_split"], config["seed"])
    multi = config["classes"] > 2
    if multi:
        yt, yv = yt[:, 0].astype("int64"), None if yv is None else yv[:, 0].astype("int64")

    def make_model():
        return factory.make_mlp(X.shape[1], config["hidden"], config["classes"] if multi else 1,
                                config["activation"], config["dropout"])
    hyper = {k: config[k] for k in ("momentum", "nesterov", "weight_decay", "betas", "eps",
                                    "alpha", "amsgrad") if config[k] is not None}
    configs = {}
    for opt, lr, bs in itertools.product(optimizers, lrs, sizes):
        label = [opt]
        if len(lrs) > 1:
            label.append(f"lr={lr:g}")
        if len(sizes) > 1:
            label.append(f"bs={bs}")
        kw = {k: v for k, v in hyper.items() if k in factory.HYPERPARAMETERS[opt]}
        configs[" ".join(label)] = {
            "optimizer": opt, "lr": lr if lr is not None else factory.DEFAULT_LR[opt],
            "batch_size": bs, "scale_lr": args.scale_lr, "base_batch_size": sizes[0],
            "optimizer_kwargs": kw, "scheduler": args.scheduler}
    from minigrad import nn
    try:
        result = compare(make_model, (Xt, yt), configs, config["epochs"],
                         loss_fn=nn.CrossEntropyLoss() if multi else nn.BCELoss(),
                         val_data=None if Xv is None else (Xv, yv), seed=config["seed"],
                         device=device, verbose=False)
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(result.table())
    out = run_dir(args.out, "compare")
    write_json(os.path.join(out, "histories.json"),
               {name: h.to_dict() for name, h in result.items()})
    write_plot(result.plot, os.path.join(out, "compare.png"))
    print(f"Results saved to {out}")
    return 0

