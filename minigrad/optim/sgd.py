"""SGD: the update rule as one function over arrays, and the torch-shaped class around it."""
from minigrad.optim.optimizer import (Optimizer, array_module, check_lr, check_nonneg,
                                      effective_grad, grad_of, sub_scaled_)
from minigrad.tensor import Tensor


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay,
               nesterov, maximize, record=None):
    """One SGD step on ``param`` in place; returns the momentum buffer (new on the first step).

    ``momentum_buffer`` is None before the first momentum step (and always when momentum = 0).
    ``record``: a dict to fill with the intermediates ('g' after maximize and weight decay,
    'd' the direction applied), or None to do no extra work.
    """
    xp = array_module(param)
    g = effective_grad(xp, param, grad, weight_decay, maximize)
    d = g
    if momentum != 0:
        if momentum_buffer is None:
            # NOTE: the first step starts the buffer at g, with no dampening (torch's rule).
            momentum_buffer = g.copy() if g is grad else g
        else:
            momentum_buffer *= momentum
            if dampening == 0:
                momentum_buffer += g
            else:
                momentum_buffer += xp.multiply(g, 1 - dampening)
        if nesterov:
            d = xp.multiply(momentum_buffer, momentum)
            d += g
        else:
            d = momentum_buffer
    if record is not None:
        record["g"] = g.copy()
        record["d"] = d.copy()
    # θ ← θ − γ d; γ d is written over d when d is a scratch array of ours
    if d is grad or d is momentum_buffer:
        sub_scaled_(xp, param, d, lr)
    else:
        param -= xp.multiply(d, lr, out=d)
    return momentum_buffer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    ::

        if λ ≠ 0:  g ← g + λ θ
        if μ ≠ 0:  b ← g                      on the first step (no dampening then)
                   b ← μ b + (1 − τ) g        afterwards          (τ = dampening)
                   g ← g + μ b   if nesterov  else  g ← b
        θ ← θ − γ g

    ``maximize=True`` flips the gradient first. The learning rate stays outside the momentum
    buffer (PyTorch's convention), so changing lr mid-training rescales the next step at once.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group["lr"])
        check_nonneg("momentum", group["momentum"])
        check_nonneg("dampening", group["dampening"])
        check_nonneg("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        records = self._records
        for group in self.param_groups:
            # read at every step: a scheduler may have changed them since the last one
            lr, momentum = float(group["lr"]), float(group["momentum"])
            dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = grad_of(p)  # checked before any state changes
                state = self.state[p]
                buf = state.get("momentum_buffer")
                new_buf = sgd_update(
                    p._data, grad, None if buf is None else buf._data,
                    lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                    nesterov=nesterov, maximize=maximize,
                    record=None if records is None else records.setdefault(p, {}))
                if momentum != 0 and buf is None:
                    state["momentum_buffer"] = Tensor._wrap(new_buf)
                p._version += 1
        return loss
