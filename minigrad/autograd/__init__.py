"""Reverse-mode automatic differentiation: grad modes, Function, backward, grad, gradcheck."""
from minigrad.autograd.grad_mode import (enable_grad, is_grad_enabled, no_grad,  # noqa: F401
                                         set_grad_enabled)
# NOTE: bound eagerly: importing the submodule minigrad.autograd.gradcheck would otherwise make
# `minigrad.autograd.gradcheck` the module instead of the function (gradcheck.py imports only
# NumPy at load time, so this is cycle-free).
from minigrad.autograd.gradcheck import gradcheck  # noqa: E402,F401


def __getattr__(name):
    # Function needs Tensor, which itself imports this package: load it late.
    if name == "Function":
        from minigrad.autograd.function import Function
        return Function
    raise AttributeError(f"module 'minigrad.autograd' has no attribute {name!r}")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of tensors, without touching any ``.grad``."""
    if create_graph:
        raise NotImplementedError("minigrad does not record the backward pass "
                                  "(create_graph=True, higher-order gradients)")
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import Tensor, _initial_grad
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
    gs = [_initial_grad(o, g) for o, g in zip(outputs, grad_outputs)]
    result = run_backward(outputs, gs, bool(retain_graph), capture=inputs)
    out = []
    for t, g in zip(inputs, result):
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
        out.append(None if g is None else Tensor._wrap(g))
    return tuple(out)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Backpropagate from several outputs at once."""
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import Tensor, _initial_grad
    if create_graph:
        raise NotImplementedError("minigrad does not record the backward pass "
                                  "(create_graph=True, higher-order gradients)")
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    gs = [_initial_grad(t, g) for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, gs, bool(retain_graph))
