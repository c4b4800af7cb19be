"""``minigrad lr-find``: the LR range test on the ``train`` command's model and data. Raises
the lr from --start-lr to --end-lr over --num-iter steps, prints the suggested lr (steepest
descent of the smoothed loss) and writes the loss-vs-lr plot; the model is left untouched."""
import os

from minigrad.cli import CLIError
from minigrad.cli.train import (add_data_model_args, add_optimizer_args, add_output_args,
                                build, check_device, resolve, run_dir, write_json, write_plot)


_DESCRIPTION = __doc__.split("\n\n")[0].replace("``", "")


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="LR range test: loss vs learning rate and a "
                              "suggested lr", description=_DESCRIPTION)
    add_data_model_args(p)
    add_optimizer_args(p, with_lr=False)
    p.add_argument("--start-lr", type=float, default=1e-7)
    p.add_argument("--end-lr", type=float, default=10.0)
    p.add_argument("--num-iter", type=int, default=100)
    p.add_argument("--step-mode", choices=("exp", "linear"), default="exp")
    p.add_argument("--smooth-f", type=float, default=0.05)
    p.add_argument("--diverge-th", type=float, default=5.0)
    p.add_argument("--device", default="cpu")
    add_output_args(p)
    return p


def run(args):
    from minigrad.train import lr_find
    device = check_device(args.device)
    args.lr = None
    config = resolve(args)
    try:
        parts = build(config, device)
        result = lr_find(parts["model"], parts["loss_fn"], parts["optimizer"], parts["train"],
                         start_lr=args.start_lr, end_lr=args.end_lr, num_iter=args.num_iter,
                         step_mode=args.step_mode, smooth_f=args.smooth_f,
                         diverge_th=args.diverge_th)
    except ValueError as e:
        raise CLIError(str(e)) from None
    ran = f"{len(result.lrs)} steps"
    if result.diverged:
        ran += f", stopped at lr {result.lrs[-1]:.3g} (loss diverged)"
    print(f"LR range test ({config['optimizer']}, {ran})")
    if result.suggestion is None:
        print("No suggestion: the curve is too short; raise --num-iter or --end-lr")
    else:
        print(f"Suggested lr: {result.suggestion:.3g}")
    out = run_dir(args.out, "lr-find")
    write_json(os.path.join(out, "lr_find.json"), result.to_dict())
    write_plot(result.plot, os.path.join(out, "lr_find.png"))
    print(f"Results saved to {out}")
    return 0
