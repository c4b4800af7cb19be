"""AdamW: Adam with decoupled weight decay, as one function over arrays plus the class."""
from minigrad.optim.adam import Adam, adam_update


def adamw_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                 eps, weight_decay, amsgrad, maximize, record=None):
    """One AdamW step on ``param`` in place: decay θ, then the Adam rule with λ = 0.

    ``record`` additionally gets 'decay' (the factor 1 − γλ) and 'theta_decayed'.
    """
    if weight_decay != 0:
        # θ ← θ − γλθ: the decay acts on θ directly and never enters m or v (decoupled).
        param *= 1 - lr * weight_decay
    if record is not None:
        record.update(decay=1 - lr * weight_decay, theta_decayed=param.copy())
    adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                beta1=beta1, beta2=beta2, eps=eps, weight_decay=0, amsgrad=amsgrad,
                maximize=maximize, record=record)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter): decoupled weight decay first, then Adam with no λ in g.

    ::

        θ ← θ − γ λ θ
        m ← β1 m + (1 − β1) g
        v ← β2 v + (1 − β2) g²
        m̂ ← m / (1 − β1^t) ;  v̂ ← v / (1 − β2^t)
        amsgrad:  v_max ← max(v_max, v) ;  v̂ ← v_max / (1 − β2^t)
        θ ← θ − γ m̂ / (√v̂ + ε)

    Unlike Adam's coupled L2, the decay is not divided by √v̂, so every weight shrinks by the
    same factor 1 − γλ per step.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _update(self, p, grad, state, group, record):
        beta1, beta2 = map(float, group["betas"])
        adamw_update(p._data, grad, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                     state["max_exp_avg_sq"]._data if group["amsgrad"] else None,
                     step=state["step"], lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     amsgrad=group["amsgrad"], maximize=group["maximize"], record=record)
