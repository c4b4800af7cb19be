"""``minigrad explain OPTIMIZER``: each step's equations with the numbers substituted.

The numbers come from running the real optimizer on a one-element float64 parameter under
``minigrad.optim.trace``: this module only formats what the update function recorded.
"""
import math

import minigrad
from minigrad import optim
from minigrad.cli import CLIError

# name -> (class, hyperparameter flags that apply to it)
OPTIMIZERS = {
    "sgd": ("SGD", ("momentum", "dampening", "nesterov", "weight_decay", "maximize")),
    "adam": ("Adam", ("beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize")),
    "adamw": ("AdamW", ("beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize")),
    "rmsprop": ("RMSprop", ("alpha", "eps", "weight_decay", "momentum", "centered",
                            "maximize")),
    "adagrad": ("Adagrad", ("lr_decay", "weight_decay", "initial_accumulator_value", "eps",
                            "maximize")),
}
_FLOAT_FLAGS = ("momentum", "dampening", "weight_decay", "beta1", "beta2", "eps", "alpha",
                "lr_decay", "initial_accumulator_value")
_BOOL_FLAGS = ("nesterov", "amsgrad", "centered", "maximize")
_MAX_STEPS = 1000


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="print an optimizer's update equations step by step, numbers substituted",
        description="Run the real optimizer on one float64 parameter and print each step's "
                    "equations with the values it used.")
    p.add_argument("optimizer", metavar="OPTIMIZER", help="one of: " + ", ".join(OPTIMIZERS))
    p.add_argument("--param", type=float, default=1.0, help="initial θ (default 1.0)")
    grads = p.add_mutually_exclusive_group()
    grads.add_argument("--grad", type=float, default=None,
                       help="the gradient at every step (default 0.5)")
    grads.add_argument("--grads", default=None, metavar="G1,G2,...",
                       help="one gradient per step, comma-separated")
    p.add_argument("--lr", type=float, default=0.01,
                   help="learning rate η (default 0.01, the seed's example)")
    p.add_argument("--steps", type=int, default=None,
                   help="number of steps (default: 1, or the number of --grads)")
    for flag in _FLOAT_FLAGS + _BOOL_FLAGS:
        users = ", ".join(k for k, (_, allowed) in OPTIMIZERS.items() if flag in allowed)
        kind = dict(type=float) if flag in _FLOAT_FLAGS else dict(action="store_true")
        p.add_argument("--" + flag.replace("_", "-"), dest=flag, default=None,
                       help=f"for {users} (omitted: the optimizer's default)", **kind)
    return p


def run(args):
    key = args.optimizer.lower()
    if key not in OPTIMIZERS:
        raise CLIError(f"unknown optimizer {args.optimizer!r} (choose from "
                       f"{', '.join(OPTIMIZERS)})")
    cls_name, allowed = OPTIMIZERS[key]
    grads = _gradients(args)
    theta0 = _finite("--param", args.param)
    kwargs = {"lr": _finite("--lr", args.lr)}
    for flag in _FLOAT_FLAGS + _BOOL_FLAGS:
        value = getattr(args, flag)
        if value is None:
            continue
        if flag not in allowed:
            raise CLIError(f"--{flag.replace('_', '-')} does not apply to {cls_name}")
        if flag in _FLOAT_FLAGS:
            _finite("--" + flag.replace("_", "-"), value)
        if flag not in ("beta1", "beta2"):
            kwargs[flag] = value
    if "beta1" in allowed:
        b1 = 0.9 if args.beta1 is None else args.beta1
        b2 = 0.999 if args.beta2 is None else args.beta2
        kwargs["betas"] = (b1, b2)
    p = minigrad.tensor([theta0], dtype=minigrad.float64, requires_grad=True)
    try:
        opt = getattr(optim, cls_name)([p], **kwargs)
    except (ValueError, TypeError) as e:
        raise CLIError(str(e)) from None
    with optim.trace(opt) as tr:
        for g in grads:
            p.grad = minigrad.tensor([g], dtype=minigrad.float64)
            opt.step()
    hyper = tr.steps[0]["params"][0]["hyper"]
    print(f"{cls_name}({_hyper_text(hyper)})   θ₀ = {fmt(theta0)}")
    render = _RENDER[key]
    for t, entry in tr.entries(0):
        print(f"step {t}:  g = {fmt(float(entry['grad'][0]))}")
        for line in render(t, _scalars(entry), hyper):
            print("  " + line)
    return 0


def _gradients(args):
    if args.grads is not None:
        try:
            grads = [float(s) for s in args.grads.split(",") if s.strip()]
        except ValueError:
            raise CLIError(f"--grads must be comma-separated numbers, got {args.grads!r}") \
                from None
        if not grads:
            raise CLIError("--grads needs at least one number")
        if args.steps is not None and args.steps != len(grads):
            raise CLIError(f"--steps {args.steps} does not match the {len(grads)} values "
                           f"given by --grads")
    else:
        steps = 1 if args.steps is None else args.steps
        if not 1 <= steps <= _MAX_STEPS:
            raise CLIError(f"--steps must be between 1 and {_MAX_STEPS}, got {steps}")
        grads = [0.5 if args.grad is None else args.grad] * steps
    if len(grads) > _MAX_STEPS:
        raise CLIError(f"at most {_MAX_STEPS} steps, got {len(grads)} gradients")
    for g in grads:
        _finite("gradient", g)
    return grads


def _finite(what, value):
    if not math.isfinite(value):
        raise CLIError(f"{what} must be a finite number, got {value}")
    return value


def _hyper_text(hyper):
    return ", ".join(f"{k}={fmt(v) if isinstance(v, float) else v}" for k, v in hyper.items())


def _scalars(entry):
    """The traced entry with every one-element array turned into a Python float."""
    def scalar(v):
        return float(v.reshape(-1)[0]) if hasattr(v, "reshape") else v
    out = {k: scalar(entry[k]) for k in ("grad", "param_before", "param_after")}
    out.update({"before." + k: scalar(v) for k, v in entry["state_before"].items()})
    out.update({"after." + k: scalar(v) for k, v in entry["state_after"].items()})
    out.update({k: scalar(v) for k, v in entry["intermediates"].items()})
    return out


# ----- number formatting --------------------------------------------------------------------
def fmt(x):
    """Short and exact-looking: 1.0, 0.01, 0.995, 1e-08 (up to 6 significant digits)."""
    if isinstance(x, bool):
        return str(x)
    x = float(x)
    if x == 0:
        return "0.0"
    s = f"{x:.6g}"
    if not any(c in s for c in ".eninf"):
        s += ".0"
    return s


def _o(x):
    """A number as an operand: negative numbers in parentheses."""
    return f"({fmt(x)})" if x < 0 else fmt(x)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sub(n):
    return str(n).translate(_SUB)


def _sup(n):
    return str(n).translate(_SUP)


def _zero(v, key):
    """A state value before the step; state the optimizer creates lazily starts at zero."""
    return v.get(key, 0.0)


def _grad_lines(v, hyper, theta="θ", theta_val=None):
    """maximize and (coupled) weight-decay lines; ``v['g']`` is what the rule used."""
    lines = []
    g = v["grad"]
    if hyper.get("maximize"):
        g = -g
        lines.append(f"g ← −g = {fmt(g)}")
    lam = hyper.get("weight_decay", 0)
    if lam:
        th = v["param_before"] if theta_val is None else theta_val
        lines.append(f"g ← g + λ·{theta} = {fmt(g)} + {_o(lam)}·{_o(th)} = {fmt(v['g'])}")
    return lines


# ----- one renderer per optimizer: (step t, traced values, hyperparameters) -> lines ----------
def _sgd(t, v, h):
    s, s0 = _sub(t), _sub(t - 1)
    lines = _grad_lines(v, h, theta=f"θ{s0}")
    g = v["g"]
    mu = h["momentum"]
    direction = "g"
    if mu != 0:
        b = v["after.momentum_buffer"]
        if "before.momentum_buffer" not in v:
            lines.append(f"b{s} = g = {fmt(b)}   (first step: no dampening)")
        else:
            tau = h["dampening"]
            lines.append(f"b{s} = μ·b{s0} + (1 − τ)·g = {_o(mu)}·{_o(v['before.momentum_buffer'])}"
                         f" + {_o(1 - tau)}·{_o(g)} = {fmt(b)}")
        if h["nesterov"]:
            lines.append(f"g ← g + μ·b{s} = {fmt(g)} + {_o(mu)}·{_o(b)} = {fmt(v['d'])}")
        else:
            direction = f"b{s}"
    lines.append(f"θ{s} = θ{s0} − η·{direction} = {fmt(v['param_before'])} − "
                 f"{_o(h['lr'])}·{_o(v['d'])} = {fmt(v['param_after'])}")
    return lines


def _adam(t, v, h):
    s, s0 = _sub(t), _sub(t - 1)
    b1, b2 = h["betas"]
    lines = []
    theta = f"θ{s0}"
    theta_val = v["param_before"]
    if "decay" in v and h["weight_decay"]:  # AdamW: decoupled decay first
        lines.append(f"θ' = θ{s0} − η·λ·θ{s0} = {fmt(theta_val)} − {_o(h['lr'])}·"
                     f"{_o(h['weight_decay'])}·{_o(theta_val)} = {fmt(v['theta_decayed'])}")
        theta, theta_val = "θ'", v["theta_decayed"]
        h = dict(h, weight_decay=0)
    lines += _grad_lines(v, h, theta=theta, theta_val=theta_val)
    g = v["g"]
    lines.append(f"m{s} = β₁·m{s0} + (1 − β₁)·g = {_o(b1)}·{_o(_zero(v, 'before.exp_avg'))} + "
                 f"{_o(1 - b1)}·{_o(g)} = {fmt(v['after.exp_avg'])}")
    lines.append(f"v{s} = β₂·v{s0} + (1 − β₂)·g² = {_o(b2)}·{_o(_zero(v, 'before.exp_avg_sq'))} + "
                 f"{_o(1 - b2)}·{_o(g)}² = {fmt(v['after.exp_avg_sq'])}")
    lines.append(f"m̂{s} = m{s} / (1 − β₁{_sup(t)}) = {fmt(v['after.exp_avg'])} / "
                 f"{fmt(v['bias_correction1'])} = {fmt(v['m_hat'])}")
    vname = f"v{s}"
    if h["amsgrad"]:
        vmax0 = _zero(v, "before.max_exp_avg_sq")
        lines.append(f"v_max{s} = max(v_max{s0}, v{s}) = max({fmt(vmax0)}, "
                     f"{fmt(v['after.exp_avg_sq'])}) = {fmt(v['after.max_exp_avg_sq'])}")
        vname = f"v_max{s}"
    vraw = v["after.max_exp_avg_sq"] if h["amsgrad"] else v["after.exp_avg_sq"]
    lines.append(f"v̂{s} = {vname} / (1 − β₂{_sup(t)}) = {fmt(vraw)} / "
                 f"{fmt(v['bias_correction2'])} = {fmt(v['v_hat'])}")
    lines.append(f"θ{s} = {theta} − η·m̂{s} / (√v̂{s} + ε) = {fmt(theta_val)} − {_o(h['lr'])}·"
                 f"{_o(v['m_hat'])} / (√{fmt(v['v_hat'])} + {fmt(h['eps'])}) = "
                 f"{fmt(v['param_after'])}")
    return lines


def _rmsprop(t, v, h):
    s, s0 = _sub(t), _sub(t - 1)
    a = h["alpha"]
    lines = _grad_lines(v, h, theta=f"θ{s0}")
    g = v["g"]
    lines.append(f"v{s} = α·v{s0} + (1 − α)·g² = {_o(a)}·{_o(_zero(v, 'before.square_avg'))} + "
                 f"{_o(1 - a)}·{_o(g)}² = {fmt(v['after.square_avg'])}")
    vt = f"v{s}"
    if h["centered"]:
        lines.append(f"ḡ{s} = α·ḡ{s0} + (1 − α)·g = {_o(a)}·{_o(_zero(v, 'before.grad_avg'))} + "
                     f"{_o(1 - a)}·{_o(g)} = {fmt(v['after.grad_avg'])}")
        lines.append(f"ṽ{s} = v{s} − ḡ{s}² = {fmt(v['after.square_avg'])} − "
                     f"{_o(v['after.grad_avg'])}² = {fmt(v['v_tilde'])}")
        vt = f"ṽ{s}"
    frac = f"{_o(g)} / (√{fmt(v['v_tilde'])} + {fmt(h['eps'])})"
    if h["momentum"] > 0:
        lines.append(f"b{s} = μ·b{s0} + g / (√{vt} + ε) = {_o(h['momentum'])}·"
                     f"{_o(_zero(v, 'before.momentum_buffer'))} + {frac} = "
                     f"{fmt(v['after.momentum_buffer'])}")
        lines.append(f"θ{s} = θ{s0} − η·b{s} = {fmt(v['param_before'])} − {_o(h['lr'])}·"
                     f"{_o(v['after.momentum_buffer'])} = {fmt(v['param_after'])}")
    else:
        lines.append(f"θ{s} = θ{s0} − η·g / (√{vt} + ε) = {fmt(v['param_before'])} − "
                     f"{_o(h['lr'])}·{frac} = {fmt(v['param_after'])}")
    return lines


def _adagrad(t, v, h):
    s, s0 = _sub(t), _sub(t - 1)
    lines = [f"η̃{s} = η / (1 + (t − 1)·δ) = {_o(h['lr'])} / (1 + {t - 1}·{_o(h['lr_decay'])}) "
             f"= {fmt(v['clr'])}   (δ = lr_decay)"]
    lines += _grad_lines(v, h, theta=f"θ{s0}")
    g = v["g"]
    lines.append(f"S{s} = S{s0} + g² = {fmt(v['before.sum'])} + {_o(g)}² = {fmt(v['after.sum'])}")
    lines.append(f"θ{s} = θ{s0} − η̃{s}·g / (√S{s} + ε) = {fmt(v['param_before'])} − "
                 f"{_o(v['clr'])}·{_o(g)} / (√{fmt(v['after.sum'])} + {fmt(h['eps'])}) = "
                 f"{fmt(v['param_after'])}")
    return lines


_RENDER = {"sgd": _sgd, "adam": _adam, "adamw": _adam, "rmsprop": _rmsprop, "adagrad": _adagrad}
