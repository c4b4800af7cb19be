"""RMSprop: the update rule as one function over arrays, and the torch-shaped class around it."""
from minigrad.optim.optimizer import (Optimizer, array_module, check_lr, check_nonneg,
                                      check_unit_interval, effective_grad, grad_of)
from minigrad.tensor import Tensor


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize, record=None):
    """One RMSprop step on ``param`` in place; ``square_avg`` (v), ``grad_avg`` (ḡ, when
    centered) and ``momentum_buffer`` (b, when momentum > 0) are updated in place.

    ``record``: a dict to fill with 'g', 'v_tilde' (ṽ) and 'denom' (√ṽ + ε), or None.
    """
    xp = array_module(param)
    g = effective_grad(xp, param, grad, weight_decay, maximize)
    # v ← α v + (1 − α) g²
    work = xp.multiply(g, g)
    work *= 1 - alpha
    square_avg *= alpha
    square_avg += work
    if centered:
        # ḡ ← α ḡ + (1 − α) g ;  ṽ ← v − ḡ²  (the variance of g instead of its raw 2nd moment)
        xp.multiply(g, 1 - alpha, out=work)
        grad_avg *= alpha
        grad_avg += work
        xp.multiply(grad_avg, grad_avg, out=work)
        v_tilde = xp.subtract(square_avg, work, out=work)
    else:
        v_tilde = square_avg
    if record is not None:
        record.update(g=g.copy(), v_tilde=v_tilde.copy())
    # NOTE: no bias correction, and ε sits outside the square root.
    denom = xp.sqrt(v_tilde, out=work)
    denom += eps
    if record is not None:
        record["denom"] = denom.copy()
    update = xp.divide(g, denom, out=work)
    if momentum > 0:
        # b ← μ b + g / (√ṽ + ε) ;  θ ← θ − γ b
        momentum_buffer *= momentum
        momentum_buffer += update
        update = xp.multiply(momentum_buffer, lr, out=work)
    else:
        update *= lr
    param -= update


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum.

    ::

        if λ ≠ 0:  g ← g + λ θ
        v ← α v + (1 − α) g²
        ṽ ← v ;  centered:  ḡ ← α ḡ + (1 − α) g ;  ṽ ← v − ḡ²
        if μ > 0:  b ← μ b + g / (√ṽ + ε) ;  θ ← θ − γ b
        else:      θ ← θ − γ g / (√ṽ + ε)

    No bias correction; ε outside the square root; ``maximize=True`` flips the gradient first.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group["lr"])
        check_nonneg("epsilon", group["eps"])
        check_nonneg("momentum", group["momentum"])
        check_nonneg("weight_decay", group["weight_decay"])
        check_unit_interval("alpha value", group["alpha"])

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        records = self._records
        for group in self.param_groups:
            momentum, centered = float(group["momentum"]), group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = grad_of(p)  # checked before any state changes
                state = self.state[p]
                xp = array_module(p._data)
                if not state:
                    state["step"] = 0.0
                    state["square_avg"] = Tensor._wrap(xp.zeros_like(p._data))
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = Tensor._wrap(xp.zeros_like(p._data))
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = Tensor._wrap(xp.zeros_like(p._data))
                state["step"] += 1
                rmsprop_update(
                    p._data, grad, state["square_avg"]._data,
                    state["grad_avg"]._data if centered else None,
                    state["momentum_buffer"]._data if momentum > 0 else None,
                    lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                    weight_decay=float(group["weight_decay"]), momentum=momentum, centered=centered,
                    maximize=group["maximize"],
                    record=None if records is None else records.setdefault(p, {}))
                p._version += 1
        return loss
