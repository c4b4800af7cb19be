"""Optimizer: param_groups, per-parameter state, step hooks and torch-layout state_dict.

Subclasses validate their hyperparameters, then implement ``step`` as a loop that reads each
group's hyperparameters *at every step* (schedulers change them between steps) and calls one pure
update function over arrays. Every subclass ``step`` is wrapped once (``__init_subclass__``) so
that the step hooks run and ``_step_count`` counts calls, whatever the subclass does.
"""
import functools
import numbers
from collections import OrderedDict, defaultdict

import numpy as np

from minigrad import backend
from minigrad.ops.linalg import ShapeError
from minigrad.tensor import Tensor


class _RequiredParameter:
    """Marks a hyperparameter that has no default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Returned by the register_*_hook methods; ``remove()`` unregisters."""
    __slots__ = ("hooks", "key")

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _hooked_step(step):
    """Wrap a subclass ``step``: pre hooks, the step, ``_step_count += 1``, post hooks."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._in_step:  # a subclass step calling super().step(): hooks run once
            return step(self, *args, **kwargs)
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"a step pre-hook must return None or (args, kwargs), "
                                       f"got {result!r}")
                args, kwargs = result
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._step_count += 1
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper._minigrad_hooked = True
    return wrapper


def array_module(arr):
    """NumPy for host arrays (the fast, common case), else what the backend says."""
    return np if type(arr) is np.ndarray else backend.get_array_module(arr)


_CHUNK = 1 << 14  # elements per block: the scratch stays in cache


def sub_scaled_(xp, param, d, alpha):
    """θ ← θ − α·d in place, without a full-size temporary for α·d.

    Large contiguous CPU arrays are updated block by block through a small scratch buffer
    (memory traffic, not arithmetic, is the cost there); small ones take one fused call pair.
    """
    n = param.size
    if xp is not np or n <= 4 * _CHUNK or not (param.flags.c_contiguous and
                                                d.flags.c_contiguous):
        param -= xp.multiply(d, alpha)
        return
    p_flat, d_flat = param.reshape(-1), d.reshape(-1)
    buf = np.empty(_CHUNK, dtype=np.result_type(d.dtype, param.dtype))
    for i in range(0, n, _CHUNK):
        j = min(i + _CHUNK, n)
        b = buf[:j - i]
        np.multiply(d_flat[i:j], alpha, out=b)
        p_flat[i:j] -= b


def grad_of(p):
    """``p``'s gradient array, checked against ``p``'s shape: a broadcastable mismatch (a grad
    of shape (1,) for a (3,) parameter) would otherwise update with the wrong values silently."""
    g = p.grad._data
    if g.shape != p._data.shape:
        raise ShapeError(f"parameter of shape {tuple(p.shape)} has a gradient of shape "
                         f"{tuple(g.shape)}")
    return g


def effective_grad(xp, param, grad, weight_decay, maximize):
    """The gradient a rule works with: ``g ← −g`` when maximizing, then ``g ← g + λθ``.

    Returns ``grad`` itself when neither applies (callers never write into it: it is the
    parameter's ``.grad``), else one new array.
    """
    if weight_decay == 0:
        return xp.negative(grad) if maximize else grad
    g = xp.multiply(param, weight_decay)
    if maximize:
        g -= grad
    else:
        g += grad
    return g


def _check_group_params(params, where):
    """The list of tensors in one group: TypeError for a bare Tensor or a set, ValueError for
    a non-leaf tensor or a parameter listed twice."""
    if isinstance(params, Tensor):
        raise TypeError(f"{where} should be an iterable of Tensors or dicts, but got a single "
                        f"Tensor of shape {tuple(params.shape)}; wrap it in a list")
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{where} should be an ordered iterable (list or tuple) of Tensors; a "
                        f"set is unordered, so saved state could not be matched by position")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{where} should be an iterable of Tensors, got "
                        f"{type(params).__name__}") from None
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but {where}[{i}] is a "
                            f"{type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"can't optimize a non-leaf Tensor ({where}[{i}] of shape "
                             f"{tuple(p.shape)} has grad_fn={p.grad_fn!r})")
        if id(p) in seen:
            raise ValueError(f"{where} contains the same parameter twice (index {i}, shape "
                             f"{tuple(p.shape)})")
        seen.add(id(p))
    return params


def check_lr(lr):
    if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
        raise TypeError(f"Invalid learning rate: {lr!r} (expected a number)")
    if not lr >= 0.0:  # also rejects NaN
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonneg(name, value):
    """``value`` must be a real number >= 0 (NaN rejected); the message names the setting."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"Invalid {name} value: {value!r} (expected a number)")
    if not value >= 0.0:
        raise ValueError(f"Invalid {name} value: {value}")


def check_unit_interval(name, value):
    """``value`` must lie in [0, 1) (betas, alpha)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"Invalid {name}: {value!r} (expected a number)")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {name}: {value} (must be in [0, 1))")


def check_betas(betas):
    try:
        b = tuple(betas)
    except TypeError:
        raise TypeError(f"Invalid betas: {betas!r} (expected a pair of numbers)") from None
    if len(b) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected 2 values, got {len(b)})")
    for i, beta in enumerate(b):
        check_unit_interval(f"beta parameter at index {i}", beta)


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with 'params' and the hyperparameters),
    ``defaults`` and ``state`` (parameter -> dict of tensors and numbers)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_minigrad_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        self._step_count = 0
        self._in_step = False
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        self._records = None  # parameter -> dict, filled with intermediates while traced
        self._validate_group(self.defaults)  # bad hyperparameters first, as torch reports them
        if isinstance(params, (Tensor, set, frozenset)):
            _check_group_params(params, "params")
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(f"params should be an iterable of Tensors or dicts, got "
                            f"{type(params).__name__}") from None
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- parameter groups ---------------------------------------------------------------
    def _validate_group(self, group):
        """Subclasses check a group's hyperparameters here (ValueError with the value)."""

    def add_param_group(self, param_group):
        """Add a group (a dict with 'params'); missing hyperparameters come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param group must have a 'params' key")
        where = f"param_groups[{len(self.param_groups)}]['params']"
        group = dict(param_group)
        group["params"] = _check_group_params(group["params"], where)
        if not group["params"]:
            raise ValueError(f"optimizer got an empty parameter list ({where})")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(group["params"]):
            if id(p) in taken:
                raise ValueError(f"some parameters appear in more than one parameter group "
                                 f"({where}[{i}], shape {tuple(p.shape)})")
        self._validate_group(group)
        self.param_groups.append(group)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    # ----- gradients and steps -----------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Drop every gradient (``set_to_none``) or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data.fill(0)
                    p.grad._version += 1

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _closure_loss(closure):
        if closure is None:
            return None
        from minigrad.autograd import enable_grad
        with enable_grad():
            return closure()

    # ----- hooks ----------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each step; it may return new
        ``(args, kwargs)``. Returns a handle with ``remove()``."""
        key = object()
        self._step_pre_hooks[key] = hook
        return _HookHandle(self._step_pre_hooks, key)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each step."""
        key = object()
        self._step_post_hooks[key] = hook
        return _HookHandle(self._step_post_hooks, key)

    # ----- state_dict -------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are saved by position across all groups (as torch does). Array state is
        returned as copies, so the snapshot does not change when training continues.
        """
        index = {}
        groups = []
        for g in self.param_groups:
            saved = {k: v for k, v in g.items() if k != "params"}
            saved["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                saved["params"].append(index[id(p)])
            groups.append(saved)
        state = {}
        for p in self._params():
            if p in self.state and self.state[p]:
                state[index[id(p)]] = {
                    k: (Tensor._wrap(v._data.copy()) if isinstance(v, Tensor) else v)
                    for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` saved: the groups' hyperparameters and each parameter's
        state, copied onto that parameter's device and dtype. Validates before changing anything.
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and "
                             "'param_groups' keys")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"but the optimizer has {len(self.param_groups)}")
        id_to_param = {}
        for gi, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"loaded state dict contains a parameter group {gi} with "
                                 f"{len(saved['params'])} parameters, which doesn't match the "
                                 f"size of optimizer's group ({len(mine['params'])})")
            for idx, p in zip(saved["params"], mine["params"]):
                id_to_param[int(idx)] = p
        new_state = {}
        for key, values in state_dict["state"].items():
            try:
                p = id_to_param[int(key)]
            except (KeyError, ValueError, TypeError):
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which "
                                 f"is not in any parameter group") from None
            if not isinstance(values, dict):
                raise ValueError(f"state for parameter {key!r} must be a dict, got "
                                 f"{type(values).__name__}")
            new_state[p] = {name: _load_value(name, v, p, key) for name, v in values.items()}
        # Validation passed: only now mutate the optimizer.
        self.state = defaultdict(dict, new_state)
        for mine, saved in zip(self.param_groups, saved_groups):
            params = mine["params"]
            mine.clear()
            mine.update({k: v for k, v in saved.items() if k != "params"})
            if isinstance(mine.get("betas"), list):
                mine["betas"] = tuple(mine["betas"])
            mine["params"] = params

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _load_value(name, value, p, key):
    """One saved state value as this optimizer keeps it: arrays become copies on ``p``'s
    device (floating arrays in ``p``'s dtype); 'step' becomes a Python float."""
    if isinstance(value, Tensor):
        value = value._data
    is_array = backend.is_array(value) or type(value).__module__.split(".")[0] == "cupy"
    if not is_array and hasattr(value, "__array__"):  # e.g. a CPU torch tensor
        value = np.asarray(value)
        is_array = True
    if name == "step":
        if is_array:
            if value.size != 1:
                raise ValueError(f"state['step'] of parameter {key!r} must be a scalar, got "
                                 f"shape {tuple(value.shape)}")
            value = value.reshape(()).item()
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
            raise ValueError(f"state['step'] of parameter {key!r} must be a number, got "
                             f"{value!r}")
        return float(value)
    if not is_array:
        if value is None or isinstance(value, (int, float)):
            return value
        raise ValueError(f"state[{name!r}] of parameter {key!r} must be an array or a number, "
                         f"got {type(value).__name__}")
    if tuple(value.shape) != tuple(p.shape):
        raise ValueError(f"state[{name!r}] of parameter {key!r} has shape {tuple(value.shape)}, "
                         f"but the parameter has shape {tuple(p.shape)}")
    arr = backend.to_device(value, p.device)
    dtype = p._data.dtype if arr.dtype.kind == "f" else arr.dtype
    return Tensor._wrap(arr.astype(dtype, copy=True))
