"""Gradient clipping and flattening parameters to one vector (torch.nn.utils)."""
import math

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    total = ‖(‖g_1‖, …, ‖g_k‖)‖_p; every g is multiplied by min(1, max_norm / (total + 1e-6)).
    Returns ``total`` (before clipping) as a scalar tensor.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    grads = [p.grad._data for p in _params(parameters) if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    xp = Tensor._wrap(grads[0])._xp()
    if norm_type == math.inf:
        norms = [xp.abs(g).max() for g in grads]
        total = xp.max(xp.stack(norms)) if len(norms) > 1 else norms[0]
    else:
        norms = [(xp.abs(g) ** norm_type).sum() ** (1.0 / norm_type) for g in grads]
        total = (xp.stack(norms) ** norm_type).sum() ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=grads[0].dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    # NOTE: the 1e-6 keeps the coefficient finite for zero gradients (torch's choice).
    coef = min(max_norm / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= coef
    for p in _params(parameters):
        if p.grad is not None:
            p.grad._version += 1
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            p.grad._xp().clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version += 1


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from minigrad import cat
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minigrad.Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec has shape {tuple(vec.shape)}, expected "
                         f"({total},) to fill parameters of {total} elements")
    pointer = 0
    with no_grad():
        for p in params:
            n = p.numel()
            chunk = vec._data[pointer:pointer + n].reshape(p.shape)
            p._data[...] = backend.to_device(chunk, p.device)
            p._version += 1
            pointer += n
