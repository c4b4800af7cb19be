"""Adam: the update rule as one function over arrays, and the torch-shaped class around it."""
import math

from minigrad.optim.optimizer import (Optimizer, array_module, check_betas, check_lr, check_nonneg,
                                      effective_grad, grad_of)
from minigrad.tensor import Tensor


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, record=None):
    """One Adam step on ``param`` in place; ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq`` (v_max) are updated in place. ``step`` is t, counted from 1.

    ``record``: a dict to fill with the intermediates ('g', 'm_hat', 'v_hat', 'denom' = √v̂ + ε,
    'bias_correction1', 'bias_correction2', 'step_size' = γ / (1 − β1^t)), or None.
    """
    xp = array_module(param)
    g = effective_grad(xp, param, grad, weight_decay, maximize)
    # m ← β1 m + (1 − β1) g ; v ← β2 v + (1 − β2) g²   (one scratch array serves both)
    work = xp.multiply(g, 1 - beta1)
    exp_avg *= beta1
    exp_avg += work
    xp.multiply(g, g, out=work)
    work *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += work
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    v = exp_avg_sq
    if amsgrad:
        # NOTE: the running max is of the raw v, bias-corrected afterwards (PyTorch's code).
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    # √v̂ + ε = √v / √(1 − β2^t) + ε.  NOTE: ε goes after the bias correction, outside the root.
    denom = xp.sqrt(v, out=work)
    denom /= math.sqrt(bias_correction2)
    denom += eps
    step_size = lr / bias_correction1
    if record is not None:
        record.update(g=g.copy(), m_hat=exp_avg / bias_correction1,
                      v_hat=v / bias_correction2, denom=denom.copy(),
                      bias_correction1=bias_correction1, bias_correction2=bias_correction2,
                      step_size=step_size)
    # θ ← θ − γ m̂ / (√v̂ + ε), with m̂ = m / (1 − β1^t) folded into the step size
    update = xp.divide(exp_avg, denom, out=work)
    update *= step_size
    param -= update


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional AMSGrad and coupled L2 weight decay.

    ::

        if λ ≠ 0:  g ← g + λ θ                      (coupled L2)
        m ← β1 m + (1 − β1) g
        v ← β2 v + (1 − β2) g²
        m̂ ← m / (1 − β1^t) ;  v̂ ← v / (1 − β2^t)
        amsgrad:  v_max ← max(v_max, v) ;  v̂ ← v_max / (1 − β2^t)
        θ ← θ − γ m̂ / (√v̂ + ε)

    t counts this parameter's steps from 1; ``maximize=True`` flips the gradient first.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group["lr"])
        check_nonneg("epsilon", group["eps"])
        check_betas(group["betas"])
        check_nonneg("weight_decay", group["weight_decay"])

    def _update(self, p, grad, state, group, record):
        beta1, beta2 = map(float, group["betas"])
        adam_update(p._data, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                    state["max_exp_avg_sq"]._data if group["amsgrad"] else None,
                    step=state["step"], lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                    eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                    amsgrad=group["amsgrad"], maximize=group["maximize"], record=record)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._closure_loss(closure)
        records = self._records
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = grad_of(p)  # checked before any state changes
                state = self.state[p]
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = Tensor._wrap(array_module(p._data).zeros_like(p._data))
                    state["exp_avg_sq"] = Tensor._wrap(array_module(p._data).zeros_like(p._data))
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = Tensor._wrap(
                        array_module(p._data).zeros_like(p._data))
                state["step"] += 1
                self._update(p, grad, state, group,
                             None if records is None else records.setdefault(p, {}))
                p._version += 1
        return loss
