"""trace(optimizer): record what every step did to every parameter, as plain NumPy data.

Built on the step hooks: the pre-hook snapshots parameters and state, the update functions fill
the per-parameter ``record`` dicts with their intermediates (the values the real update used),
and the post-hook collects gradient, state after, Δθ and the effective per-element step Δθ / g.
"""
import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor


def _host(value):
    """A NumPy copy of an array or tensor; numbers and None as they are."""
    if isinstance(value, Tensor):
        value = value._data
    if backend.is_array(value) or type(value).__module__.split(".")[0] == "cupy":
        return np.array(backend.to_host(value), copy=True)
    return value


def _state_copy(state):
    return {k: _host(v) for k, v in state.items()}


class trace:
    """Context manager recording each ``optimizer.step()`` while active.

    ``steps`` holds one dict per step: ``{'step': n, 'params': {index: entry}}`` where
    ``index`` numbers the parameters across groups as ``state_dict`` does, and ``entry`` has
    'group', 'hyper' (the group's hyperparameters at that step), 'grad', 'param_before',
    'param_after', 'update' (Δθ), 'effective_step' (Δθ / g, NaN where g = 0), 'state_before',
    'state_after' and 'intermediates' (e.g. Adam's m_hat, v_hat, denom; Adagrad's clr). Parameters
    without a gradient were not updated and have no entry. Everything is plain NumPy or Python.

    >>> with minigrad.optim.trace(opt) as t:
    ...     loss.backward(); opt.step()
    >>> t.arrays(0)["update"], t.table()[0]
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.steps = []
        self._handles = []
        self._before = None

    # ----- recording ---------------------------------------------------------------------
    def __enter__(self):
        opt = self.optimizer
        if getattr(opt, "_tracer", None) is not None:
            raise RuntimeError("this optimizer is already being traced")
        opt._tracer = self
        self._handles = [opt.register_step_pre_hook(self._pre),
                         opt.register_step_post_hook(self._post)]
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        self.optimizer._records = None
        self.optimizer._tracer = None
        return False

    def _indexed(self):
        i = 0
        for gi, group in enumerate(self.optimizer.param_groups):
            for p in group["params"]:
                yield i, gi, group, p
                i += 1

    def _pre(self, opt, args, kwargs):
        # Gradients are read after the step: a closure passed to step() computes them inside.
        self._before = {i: (_host(p._data), _state_copy(opt.state.get(p, {})))
                        for i, _, _, p in self._indexed()}
        opt._records = {}

    def _post(self, opt, args, kwargs):
        records, opt._records = opt._records or {}, None
        params = {}
        for i, gi, group, p in self._indexed():
            if p.grad is None or i not in self._before:
                continue
            before, state_before = self._before[i]
            after = _host(p._data)
            grad = _host(p.grad._data)
            update = after - before
            with np.errstate(divide="ignore", invalid="ignore"):
                eff = np.where(grad != 0, update / np.where(grad != 0, grad, 1), np.nan)
            params[i] = {
                "group": gi,
                "hyper": {k: v for k, v in group.items() if k != "params"},
                "grad": grad, "param_before": before, "param_after": after,
                "update": update, "effective_step": eff,
                "state_before": state_before,
                "state_after": _state_copy(opt.state.get(p, {})),
                "intermediates": {k: _host(v) for k, v in records.get(p, {}).items()},
            }
        self._before = None
        self.steps.append({"step": opt._step_count, "params": params})

    # ----- views ----------------------------------------------------------------------------
    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def entries(self, param=0):
        """``(step number, entry)`` for every recorded step that updated parameter ``param``."""
        return [(s["step"], s["params"][param]) for s in self.steps if param in s["params"]]

    def arrays(self, param=0):
        """The record of one parameter as NumPy arrays stacked over its steps (axis 0).

        Keys: 'step', 'lr', 'grad', 'param_before', 'param_after', 'update', 'effective_step',
        'before.<state key>', 'after.<state key>' and each intermediate by name.
        """
        rows = [self._flat(n, e) for n, e in self.entries(param)]
        if not rows:
            return {}
        keys = list(rows[0])
        for r in rows[1:]:
            keys += [k for k in r if k not in keys]
        out = {}
        for k in keys:
            vals = [r.get(k) for r in rows]
            if any(v is None for v in vals):  # e.g. a momentum buffer absent before step 1
                like = next(v for v in vals if v is not None)
                vals = [np.full(np.shape(like), np.nan) if v is None else v for v in vals]
            out[k] = np.stack([np.asarray(v, dtype=np.float64) for v in vals])
        return out

    def table(self):
        """One row (a dict of floats) per step, parameter and element: ready for plotting."""
        rows = []
        for s in self.steps:
            for i, e in s["params"].items():
                flat = self._flat(s["step"], e)
                size = np.size(e["param_after"])
                cols = {k: np.broadcast_to(np.asarray(v, dtype=np.float64),
                                           np.shape(e["param_after"])).reshape(-1)
                        for k, v in flat.items() if v is not None}
                for j in range(size):
                    row = {"step": s["step"], "param": i, "element": j}
                    row.update({k: float(c[j]) for k, c in cols.items() if k != "step"})
                    rows.append(row)
        return rows

    @staticmethod
    def _flat(step, e):
        flat = {"step": step, "lr": e["hyper"].get("lr")}
        for k in ("grad", "param_before", "param_after", "update", "effective_step"):
            flat[k] = e[k]
        for k, v in e["state_before"].items():
            flat[f"before.{k}"] = v
        for k, v in e["state_after"].items():
            flat[f"after.{k}"] = v
        for k, v in e["intermediates"].items():
            if isinstance(v, (np.ndarray, int, float, np.number)):
                flat[k] = v
        return flat
