"""Adagrad: the update rule as one function over arrays, and the torch-shaped class around it."""
from minigrad.optim.optimizer import (Optimizer, array_module, check_lr, check_nonneg,
                                      effective_grad, grad_of)
from minigrad.tensor import Tensor


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize,
                   record=None):
    """One Adagrad step on ``param`` in place; ``state_sum`` (S) grows in place. ``step`` is t,
    counted from 1.

    ``record``: a dict to fill with 'g', 'clr' (the decayed lr γ̃) and 'denom' (√S + ε), or None.
    """
    xp = array_module(param)
    # γ̃ ← γ / (1 + (t − 1) η)
    clr = lr / (1 + (step - 1) * lr_decay)
    g = effective_grad(xp, param, grad, weight_decay, maximize)
    # S ← S + g²
    work = xp.multiply(g, g)
    state_sum += work
    denom = xp.sqrt(state_sum, out=work)
    denom += eps
    if record is not None:
        record.update(g=g.copy(), clr=clr, denom=denom.copy())
    # θ ← θ − γ̃ g / (√S + ε)
    update = xp.divide(g, denom, out=work)
    update *= clr
    param -= update


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-element rates that shrink with the summed squared gradients.

    ::

        γ̃ ← γ / (1 + (t − 1) η)                (η = lr_decay)
        if λ ≠ 0:  g ← g + λ θ
        S ← S + g²                              (S starts at initial_accumulator_value)
        θ ← θ − γ̃ g / (√S + ε)

    ``maximize=True`` flips the gradient first. As in torch, the state (step = 0 and S) exists
    from construction on.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _validate_group(self, group):
        check_lr(group["lr"])
        check_nonneg("lr_decay", group["lr_decay"])
        check_nonneg("weight_decay", group["weight_decay"])
        check_nonneg("initial_accumulator_value", group["initial_accumulator_value"])
        check_nonneg("epsilon", group["eps"])

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = 0.0
        state["sum"] = Tensor._wrap(array_module(p._data).full_like(
            p._data, group["initial_accumulator_value"]))

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        records = self._records
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = grad_of(p)  # checked before any state changes
                state = self.state[p]
                if not state:  # a parameter added by add_param_group after construction
                    self._init_state(p, group)
                state["step"] += 1
                adagrad_update(
                    p._data, grad, state["sum"]._data, step=state["step"],
                    lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                    weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                    maximize=group["maximize"],
                    record=None if records is None else records.setdefault(p, {}))
                p._version += 1
        return loss
