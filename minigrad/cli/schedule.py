"""``minigrad schedule NAME --steps N [flags]``: print (and plot) a learning-rate schedule.

Each NAME is a torch scheduler under a short name, with that scheduler's arguments as flags::

    minigrad schedule step --steps 30 --step-size 10 --gamma 0.5
    minigrad schedule cyclic --steps 20 --base-lr 0.001 --max-lr 0.01 --step-size-up 5
    minigrad schedule warmup-cosine --steps 100 --warmup 10 --plot lr.png
    minigrad schedule plateau --steps 40 --patience 3 --metrics 1 .9 .8 .8 .8 ...

The table shows the lr (and the momentum, when the schedule cycles it) that optimizer step i
uses; ``--plot FILE.png`` also draws it (needs matplotlib).
"""
import math
import os
import sys
import tempfile

from minigrad.cli import CLIError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def _momentum_flags(p, base, high):
    p.add_argument("--no-cycle-momentum", dest="cycle_momentum", action="store_false",
                   help="leave the momentum (beta1) alone")
    p.add_argument("--base-momentum", type=float, default=base, help=f"(default {base})")
    p.add_argument("--max-momentum", type=float, default=high, help=f"(default {high})")


def _flags_step(p):
    p.add_argument("--step-size", type=int, required=True, help="epochs between decays")
    p.add_argument("--gamma", type=float, default=0.1, help="decay factor (default 0.1)")


def _flags_multistep(p):
    p.add_argument("--milestones", type=int, nargs="+", required=True,
                   help="epochs at which to decay, increasing")
    p.add_argument("--gamma", type=float, default=0.1, help="decay factor (default 0.1)")


def _flags_constant(p):
    p.add_argument("--factor", type=float, default=1 / 3, help="(default 1/3)")
    p.add_argument("--total-iters", type=int, default=5, help="(default 5)")


def _flags_linear(p):
    p.add_argument("--start-factor", type=float, default=1 / 3, help="(default 1/3)")
    p.add_argument("--end-factor", type=float, default=1.0, help="(default 1)")
    p.add_argument("--total-iters", type=int, default=5, help="(default 5)")


def _flags_exponential(p):
    p.add_argument("--gamma", type=float, required=True, help="per-epoch decay factor")


def _flags_polynomial(p):
    p.add_argument("--total-iters", type=int, default=5, help="(default 5)")
    p.add_argument("--power", type=float, default=1.0, help="(default 1)")


def _flags_cosine(p):
    p.add_argument("--t-max", type=int, help="half period (default: --steps)")
    p.add_argument("--eta-min", type=float, default=0.0, help="lowest lr (default 0)")


def _flags_restarts(p):
    p.add_argument("--t0", type=int, required=True, help="length of the first period")
    p.add_argument("--t-mult", type=int, default=1, help="period growth factor (default 1)")
    p.add_argument("--eta-min", type=float, default=0.0, help="lowest lr (default 0)")


def _flags_cyclic(p):
    p.add_argument("--base-lr", type=float, required=True, help="lower lr bound")
    p.add_argument("--max-lr", type=float, required=True, help="upper lr bound")
    p.add_argument("--step-size-up", type=int, default=2000, help="(default 2000)")
    p.add_argument("--step-size-down", type=int, help="(default: --step-size-up)")
    p.add_argument("--mode", choices=("triangular", "triangular2", "exp_range"),
                   default="triangular")
    p.add_argument("--gamma", type=float, default=1.0, help="exp_range decay (default 1)")
    _momentum_flags(p, 0.8, 0.9)


def _flags_onecycle(p):
    p.add_argument("--max-lr", type=float, required=True, help="peak lr")
    p.add_argument("--total-steps", type=int, help="cycle length (default: --steps)")
    p.add_argument("--pct-start", type=float, default=0.3, help="(default 0.3)")
    p.add_argument("--anneal-strategy", choices=("cos", "linear"), default="cos")
    p.add_argument("--div-factor", type=float, default=25.0, help="(default 25)")
    p.add_argument("--final-div-factor", type=float, default=1e4, help="(default 1e4)")
    p.add_argument("--three-phase", action="store_true")
    _momentum_flags(p, 0.85, 0.95)


def _flags_warmup_cosine(p):
    p.add_argument("--warmup", type=int, required=True, help="warmup steps W")
    p.add_argument("--start-factor", type=float, default=0.1, help="(default 0.1)")
    p.add_argument("--eta-min", type=float, default=0.0, help="final lr (default 0)")


def _flags_plateau(p):
    p.add_argument("--metrics", type=float, nargs="+",
                   help="one validation metric per step (default: a synthetic plateau)")
    p.add_argument("--mode", choices=("min", "max"), default="min")
    p.add_argument("--factor", type=float, default=0.1, help="(default 0.1)")
    p.add_argument("--patience", type=int, default=10, help="(default 10)")
    p.add_argument("--threshold", type=float, default=1e-4, help="(default 1e-4)")
    p.add_argument("--threshold-mode", choices=("rel", "abs"), default="rel")
    p.add_argument("--cooldown", type=int, default=0, help="(default 0)")
    p.add_argument("--min-lr", type=float, default=0.0, help="(default 0)")
    p.add_argument("--eps", type=float, default=1e-8, help="(default 1e-8)")


def _build(name, a, opt):
    """The scheduler NAME on ``opt`` from the parsed flags ``a``."""
    from minigrad.optim import lr_scheduler as S
    if name == "step":
        return S.StepLR(opt, step_size=a.step_size, gamma=a.gamma)
    if name == "multistep":
        return S.MultiStepLR(opt, milestones=a.milestones, gamma=a.gamma)
    if name == "constant":
        return S.ConstantLR(opt, factor=a.factor, total_iters=a.total_iters)
    if name == "linear":
        return S.LinearLR(opt, start_factor=a.start_factor, end_factor=a.end_factor,
                          total_iters=a.total_iters)
    if name == "exponential":
        return S.ExponentialLR(opt, gamma=a.gamma)
    if name == "polynomial":
        return S.PolynomialLR(opt, total_iters=a.total_iters, power=a.power)
    if name == "cosine":
        return S.CosineAnnealingLR(opt, T_max=a.t_max or a.steps, eta_min=a.eta_min)
    if name == "cosine-restarts":
        return S.CosineAnnealingWarmRestarts(opt, T_0=a.t0, T_mult=a.t_mult, eta_min=a.eta_min)
    if name == "cyclic":
        return S.CyclicLR(opt, base_lr=a.base_lr, max_lr=a.max_lr, step_size_up=a.step_size_up,
                          step_size_down=a.step_size_down, mode=a.mode, gamma=a.gamma,
                          cycle_momentum=a.cycle_momentum, base_momentum=a.base_momentum,
                          max_momentum=a.max_momentum)
    if name == "onecycle":
        return S.OneCycleLR(opt, max_lr=a.max_lr, total_steps=a.total_steps or a.steps,
                            pct_start=a.pct_start, anneal_strategy=a.anneal_strategy,
                            div_factor=a.div_factor, final_div_factor=a.final_div_factor,
                            three_phase=a.three_phase, cycle_momentum=a.cycle_momentum,
                            base_momentum=a.base_momentum, max_momentum=a.max_momentum)
    if name == "warmup-cosine":
        return S.warmup_cosine(opt, a.warmup, a.steps, start_factor=a.start_factor,
                               eta_min=a.eta_min)
    assert name == "plateau", name
    return S.ReduceLROnPlateau(opt, mode=a.mode, factor=a.factor, patience=a.patience,
                               threshold=a.threshold, threshold_mode=a.threshold_mode,
                               cooldown=a.cooldown, min_lr=a.min_lr, eps=a.eps)


# short name -> (torch class it shows, what it is, its flags)
SCHEDULES = {
    "step": ("StepLR", "step decay: lr·gamma every --step-size epochs", _flags_step),
    "multistep": ("MultiStepLR", "lr·gamma at each milestone", _flags_multistep),
    "constant": ("ConstantLR", "lr·factor for --total-iters, then lr", _flags_constant),
    "linear": ("LinearLR", "linear ramp of the lr factor (warmup)", _flags_linear),
    "exponential": ("ExponentialLR", "exponential decay: lr·gamma^e", _flags_exponential),
    "polynomial": ("PolynomialLR", "lr·(1 − e/T)^power", _flags_polynomial),
    "cosine": ("CosineAnnealingLR", "cosine annealing to --eta-min", _flags_cosine),
    "cosine-restarts": ("CosineAnnealingWarmRestarts", "cosine annealing with warm restarts",
                        _flags_restarts),
    "cyclic": ("CyclicLR", "cyclical lr between --base-lr and --max-lr", _flags_cyclic),
    "onecycle": ("OneCycleLR", "the 1cycle policy", _flags_onecycle),
    "warmup-cosine": ("SequentialLR", "linear warmup for --warmup steps, then cosine",
                      _flags_warmup_cosine),
    "plateau": ("ReduceLROnPlateau", "lr·factor when the metric stops improving",
                _flags_plateau),
}


def add_parser(subparsers, name):
    parser = subparsers.add_parser(
        name, help="print (and plot) a learning-rate schedule",
        description="Print the lr (and momentum) each optimizer step uses under a schedule.")
    names = parser.add_subparsers(dest="schedule", metavar="NAME", parser_class=type(parser))
    names.required = True
    for short, (cls, what, add_flags) in SCHEDULES.items():
        p = names.add_parser(short, help=f"{cls}: {what}", description=f"{cls}: {what}")
        p.add_argument("--steps", type=int, required=True, help="optimizer steps to show")
        p.add_argument("--lr", type=float, default=0.1, help="the optimizer's lr (default 0.1)")
        p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                       help="the optimizer the schedule drives (default sgd)")
        p.add_argument("--every", type=int, default=1, help="print every k-th step (default 1)")
        p.add_argument("--plot", metavar="FILE.png", help="also draw the schedule (matplotlib)")
        add_flags(p)
    return parser


def synthetic_plateau(steps):
    """A loss that improves over the first third of the run, then stays flat."""
    knee = max(steps // 3, 1)
    return [1.0 - 0.5 * min(i, knee) / knee for i in range(steps)]


def run(args):
    from minigrad.optim.lr_scheduler import simulate
    name = args.schedule
    if args.steps < 1:
        raise CLIError(f"--steps must be at least 1, got {args.steps}")
    if args.every < 1:
        raise CLIError(f"--every must be at least 1, got {args.every}")
    if args.lr <= 0 or not math.isfinite(args.lr):
        raise CLIError(f"--lr must be a positive number, got {args.lr}")
    if args.plot:
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):
            raise CLIError(f"--plot: folder {folder} does not exist")
    metrics = None
    if name == "plateau":
        metrics = args.metrics if args.metrics is not None else synthetic_plateau(args.steps)
        if len(metrics) < args.steps:
            raise CLIError(f"--metrics has {len(metrics)} values for --steps {args.steps}")
    try:
        trace = simulate(lambda opt: _build(name, args, opt), args.steps, lr=args.lr,
                         optimizer=args.optimizer, metrics=metrics)
    except (ValueError, TypeError) as e:
        raise CLIError(f"schedule {name}: {e}") from None
    cls = SCHEDULES[name][0]
    # cyclic and onecycle set the lr themselves (--base-lr / --max-lr)
    lr_note = "" if name in ("cyclic", "onecycle") else f", lr {args.lr:g}"
    print(f"# {cls} ({name}) on {args.optimizer}{lr_note}, {args.steps} steps")
    if name == "plateau" and args.metrics is None:
        print("# metric: synthetic, improving over the first third of the steps, then flat")
    columns = ["step", "lr"] + (["momentum"] if trace.momentum is not None else []) + (
        ["metric"] if metrics is not None else [])
    print("  ".join(f"{c:>14s}" if c != "step" else f"{c:>6s}" for c in columns))
    for i in range(0, args.steps, args.every):
        row = [f"{i:6d}", f"{trace.lr[i]:14.8g}"]
        if trace.momentum is not None:
            row.append(f"{trace.momentum[i]:14.8g}")
        if metrics is not None:
            row.append(f"{metrics[i]:14.8g}")
        print("  ".join(row))
    if args.plot:
        plot(trace, args.plot, f"{cls} ({name})")
    return 0


def plot(trace, path, title):
    """Draw lr (and momentum) against step into ``path``, written atomically."""
    try:
        import matplotlib
    except ImportError:
        print("hint: --plot needs matplotlib (pip install 'minigrad[plot]'); table printed only",
              file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        ax.plot(range(len(trace.lr)), trace.lr, color="tab:blue", label="lr")
        ax.set_xlabel("step")
        ax.set_ylabel("lr")
        ax.set_title(title)
        if trace.momentum is not None:
            ax2 = ax.twinx()
            ax2.plot(range(len(trace.momentum)), trace.momentum, color="tab:orange",
                     linestyle="--", label="momentum")
            ax2.set_ylabel("momentum")
        fig.tight_layout()
        # write beside the target, then rename: never a half-written image at `path`
        ext = os.path.splitext(path)[1].lstrip(".").lower() or "png"
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                fig.savefig(f, format=ext)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except ValueError as e:  # e.g. an image format matplotlib does not know
        raise CLIError(f"--plot {path}: {e}") from None
    finally:
        plt.close(fig)
    print(f"wrote {path}", file=sys.stderr)  # stderr: stdout stays a clean table
