"""The backward pass: one iterative graph walk shared by Tensor.backward and autograd.grad."""
import heapq

import numpy as np

from minigrad.autograd.function import OUTPUT_MODIFIED
from minigrad.backend import get_array_module
from minigrad.tensor import Tensor


def _as_array(g):
    # NOTE: NumPy returns 0-d results as scalars (np.float32), which are not arrays: a stored
    # gradient must be a real array (it has a device, supports `+=` in place, ...).
    return np.asarray(g) if isinstance(g, np.generic) else g


def _unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the one place broadcasting is undone for every op."""
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    if g.ndim == len(shape):
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:  # a gradient smaller than its input (e.g. a scalar) spreads out
        g = get_array_module(g).broadcast_to(g, shape)
    return g


def _check_versions(fn):
    versions = fn.versions
    if versions is OUTPUT_MODIFIED:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: the output of {type(fn).__name__}, which its backward reads")
    inputs = fn.inputs
    for i in (range(len(inputs)) if fn.saves is None else fn.saves):
        v = versions[i]
        if v is not None and inputs[i]._version != v:
            t = inputs[i]
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.dtype} tensor of shape {tuple(t.shape)}] is at version "
                f"{t._version}; expected version {v} instead "
                f"(input {i} of {type(fn).__name__})")


_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time.")


def _run_hooks(t, g):
    for hook in list(t._hooks.values()):
        r = hook(Tensor._wrap(_as_array(g)))
        if r is not None:
            r = r._data if isinstance(r, Tensor) else r
            if getattr(r, "shape", None) != g.shape:
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} changed the "
                                   f"gradient's shape from {tuple(g.shape)} to "
                                   f"{tuple(getattr(r, 'shape', ()))}")
            g = r
    return g


def _store_grad(t, g, owned):
    """Accumulate ``g`` into ``t.grad``; ``g`` is copied unless nothing else can hold it."""
    if t.grad is None:
        if type(g) is not np.ndarray:
            g = _as_array(g)
        t.grad = Tensor._wrap(g if owned else g.copy())
    else:
        t.grad._data += g


def run_backward(roots, grads, retain_graph=False, capture=None):
    """Backpropagate ``grads`` (arrays) from ``roots`` (tensors).

    With ``capture`` (a list of tensors) the gradients of those tensors are returned and no
    ``.grad`` is touched (autograd.grad); otherwise leaf gradients accumulate into ``.grad``.
    """
    node_grads = {}
    leaf_grads = {}  # id -> [tensor, grad, owned]
    root_fns = []
    for t, g in zip(roots, grads):
        if t.grad_fn is None:
            prev = leaf_grads.get(id(t))
            leaf_grads[id(t)] = [t, g, False] if prev is None else [t, prev[1] + g, True]
        else:
            prev = node_grads.get(t.grad_fn)
            node_grads[t.grad_fn] = g if prev is None else prev + g
            root_fns.append(t.grad_fn)
    capture_fns = {}
    if capture is not None:
        capture_fns = {t.grad_fn: i for i, t in enumerate(capture) if t.grad_fn is not None}
        captured = [None] * len(capture)

    direct = capture is None
    # NOTE: a node is always created after the nodes that produced its inputs, so popping the
    # newest node first (a max-heap on the creation number, as torch's engine does) visits every
    # consumer before its producers: by the time a node is popped its gradient is complete.
    # No separate topological sort, no recursion, any depth.
    heap = [(-fn.seq, fn) for fn in set(root_fns)]
    heapq.heapify(heap)
    while heap:
        fn = heapq.heappop(heap)[1]
        if fn.inputs is None:
            raise RuntimeError(_FREED)
        gy = node_grads.pop(fn)
        ref = fn.out_ref
        if ref is not None:
            out = ref()
            if out is not None:
                if out._hooks:
                    gy = _run_hooks(out, gy)
                if out._retains_grad and capture is None:
                    _store_grad(out, gy, False)
        if capture_fns and fn in capture_fns:
            captured[capture_fns[fn]] = gy
        if fn.saves != () or fn.versions is OUTPUT_MODIFIED:
            _check_versions(fn)
        gxs = fn.backward(gy)
        if type(gxs) is not tuple:
            gxs = (gxs,)
        for inp, gx, need in zip(fn.inputs, gxs, fn.needs_input_grad):
            if gx is None or not need:
                continue
            data = inp._data
            if gx.shape != data.shape:
                gx = _unbroadcast(gx, data.shape)
                owned = gx.base is None
            else:
                owned = gx is not gy and gx.base is None
            if gx.dtype != data.dtype:
                gx = gx.astype(data.dtype)
                owned = True
            parent = inp.grad_fn
            if parent is None and direct and not inp._hooks:
                # The common case: no hooks and no capture, so the leaf's .grad is updated now.
                g0 = inp.grad
                if g0 is None:
                    if type(gx) is not np.ndarray:
                        gx = _as_array(gx)
                    inp.grad = Tensor._wrap(gx if owned else gx.copy())
                else:
                    g0._data += gx
            elif parent is None:
                prev = leaf_grads.get(id(inp))
                if prev is None:
                    leaf_grads[id(inp)] = [inp, gx, owned]
                else:
                    prev[1] = prev[1] + gx
                    prev[2] = True
            else:
                prev = node_grads.get(parent)
                if prev is None:
                    node_grads[parent] = gx
                    heapq.heappush(heap, (-parent.seq, parent))
                else:
                    node_grads[parent] = prev + gx
        if not retain_graph:
            fn._free()

    if capture is not None:
        for i, t in enumerate(capture):
            if t.grad_fn is None:
                entry = leaf_grads.get(id(t))
                if entry is not None:
                    g = entry[1] if entry[2] else entry[1].copy()
                    captured[i] = _run_hooks(t, g) if t._hooks else g
        return [None if g is None else _as_array(g) for g in captured]

    for t, g, owned in leaf_grads.values():
        if t._hooks:
            g = _run_hooks(t, g)
            owned = False
        _store_grad(t, g, owned)
    return None
