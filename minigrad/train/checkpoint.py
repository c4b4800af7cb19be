"""Full training checkpoints: everything needed to continue a fit bit for bit.

A checkpoint is one ``minigrad.save`` file holding the model and optimizer state dicts, the
scheduler's state, each callback's state, the epoch and global step, the History, and the RNG
states (the global generator, which drives dropout and unseeded shuffling, and the train
loader's own generator when it has one). Loading checks every piece against the live objects
before applying any of them, and rolls back if applying still fails: a bad file changes nothing.
"""
import os

from minigrad.random import Generator
from minigrad.serialization import SerializationError, load, save
from minigrad.train.history import History
from minigrad.train.state import clone_state, rng_state, set_rng_state

KIND = "minigrad.training_checkpoint"


class CheckpointMismatch(SerializationError):
    """The checkpoint does not fit the model/optimizer/scheduler/callbacks it is loaded into."""


def checkpoint_state(run, extra=None):
    """The checkpoint dict of a running fit (a :class:`~minigrad.train.fit.FitState`)."""
    sched = run.scheduler
    return {
        "kind": KIND,
        "epoch": run.epoch,
        "global_step": run.global_step,
        "model": run.model.state_dict(),
        "optimizer": {"class": type(run.optimizer).__name__,
                      "state": run.optimizer.state_dict()},
        "scheduler": None if sched is None else {"class": type(sched).__name__,
                                                 "state": sched.state_dict()},
        "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()}
                      for cb in run.callbacks],
        "history": run.history.to_dict(),
        "rng": rng_state(run.train_loader),
        "extra": extra or {},
    }


def save_checkpoint(path, run, extra=None):
    """Write a full checkpoint of ``run`` to ``path`` atomically. Refuses non-finite weights."""
    from minigrad.train.fit import is_finite_model
    if not is_finite_model(run.model):
        raise ValueError(f"refusing to write checkpoint {path}: the model has NaN/Inf weights")
    save(checkpoint_state(run, extra), path)
    return path


def read_checkpoint(source):
    """A loaded checkpoint dict from a path (or the dict itself), checked to be one."""
    name = "<checkpoint>"
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        source = load(source)
    if not isinstance(source, dict) or source.get("kind") != KIND:
        raise SerializationError(f"{name}: not a training checkpoint (a model state_dict? "
                                 "use model.load_state_dict(minigrad.load(path)) for those)")
    return source


# ----- validation: collect every problem before touching anything --------------------------

def _shape(v):
    return tuple(v.shape) if hasattr(v, "shape") else None


def _check_model(saved, model, problems):
    own = model.state_dict()
    if not isinstance(saved, dict):
        problems.append("model: not a state dict")
        return
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    if missing:
        problems.append(f"model: missing keys {missing}")
    if unexpected:
        problems.append(f"model: unexpected keys {unexpected}")
    for k, t in own.items():
        if k not in saved:
            continue
        v = saved[k]
        if _shape(v) != tuple(t.shape):
            problems.append(f"model: {k} has shape {_shape(v)} in the checkpoint, "
                            f"{tuple(t.shape)} in the model")
        elif getattr(v, "dtype", None) != t.dtype:
            problems.append(f"model: {k} has dtype {getattr(v, 'dtype', None)} in the "
                            f"checkpoint, {t.dtype} in the model")


def _check_optimizer(saved, optimizer, problems):
    if not isinstance(saved, dict) or "state" not in saved:
        problems.append("optimizer: missing")
        return
    if saved.get("class") != type(optimizer).__name__:
        problems.append(f"optimizer: the checkpoint is for {saved.get('class')}, not "
                        f"{type(optimizer).__name__}")
        return
    sd = saved["state"]
    groups = sd.get("param_groups", []) if isinstance(sd, dict) else []
    if len(groups) != len(optimizer.param_groups):
        problems.append(f"optimizer: {len(groups)} param groups in the checkpoint, "
                        f"{len(optimizer.param_groups)} in the optimizer")
        return
    params = {}
    for gi, (g, mine) in enumerate(zip(groups, optimizer.param_groups)):
        if len(g.get("params", [])) != len(mine["params"]):
            problems.append(f"optimizer: group {gi} has {len(g.get('params', []))} params in "
                            f"the checkpoint, {len(mine['params'])} in the optimizer")
            return
        params.update(zip(g["params"], mine["params"]))
    for idx, st in sd.get("state", {}).items():
        p = params.get(idx)
        if p is None:
            problems.append(f"optimizer: state for unknown parameter index {idx}")
            continue
        for name, v in st.items():
            shape = _shape(v)
            if shape not in (None, (), (1,)) and shape != tuple(p.shape):
                problems.append(f"optimizer: state[{idx}][{name!r}] has shape {shape}, the "
                                f"parameter has {tuple(p.shape)}")


def _check_named(what, saved, live, problems):
    if live is None:
        return
    if saved is None or saved.get("class") != type(live).__name__:
        found = None if saved is None else saved.get("class")
        problems.append(f"{what}: the checkpoint has {found}, the run has {type(live).__name__}")


def _check_rng(saved, problems):
    try:
        Generator().set_state(saved["global"])
        if saved.get("loader") is not None:
            Generator().set_state(saved["loader"])
    except (KeyError, TypeError, ValueError) as e:
        problems.append(f"rng: invalid state ({e})")


def validate_checkpoint(ckpt, run, name="<checkpoint>"):
    """Raise :class:`CheckpointMismatch` listing every mismatch between ``ckpt`` and ``run``."""
    problems = []
    _check_model(ckpt.get("model"), run.model, problems)
    _check_optimizer(ckpt.get("optimizer"), run.optimizer, problems)
    _check_named("scheduler", ckpt.get("scheduler"), run.scheduler, problems)
    saved_cbs = ckpt.get("callbacks") or []
    if [c.get("class") for c in saved_cbs] != [type(c).__name__ for c in run.callbacks]:
        problems.append(f"callbacks: the checkpoint has {[c.get('class') for c in saved_cbs]}, "
                        f"the run has {[type(c).__name__ for c in run.callbacks]}")
    _check_rng(ckpt.get("rng") or {}, problems)
    try:
        History.from_dict(ckpt.get("history") or {})
    except ValueError as e:
        problems.append(f"history: {e}")
    for key in ("epoch", "global_step"):
        if isinstance(ckpt.get(key), bool) or not isinstance(ckpt.get(key), int):
            problems.append(f"{key}: expected an int, got {ckpt.get(key)!r}")
    if problems:
        raise CheckpointMismatch(f"{name}: checkpoint does not match this run: "
                                 + "; ".join(problems))


# ----- applying ------------------------------------------------------------------------------

def _snapshot(run):
    return {"model": clone_state(run.model.state_dict()),
            "optimizer": clone_state(run.optimizer.state_dict()),
            "scheduler": None if run.scheduler is None else clone_state(
                run.scheduler.state_dict()),
            "callbacks": [clone_state(cb.state_dict()) for cb in run.callbacks],
            "rng": rng_state(run.train_loader)}


def _apply(run, model, optimizer, scheduler, callbacks, rng, strict=True):
    """Load each part; with strict=False (rolling back) try every part and return failures."""
    steps = [("model", lambda: run.model.load_state_dict(model)),
             ("optimizer", lambda: run.optimizer.load_state_dict(optimizer))]
    if run.scheduler is not None:
        steps.append(("scheduler", lambda: run.scheduler.load_state_dict(scheduler)))
    for i, (cb, st) in enumerate(zip(run.callbacks, callbacks)):
        steps.append((f"callback {i}", lambda cb=cb, st=st: cb.load_state_dict(st)))
    steps.append(("rng", lambda: set_rng_state(rng, run.train_loader)))
    failed = []
    for what, step in steps:
        if strict:
            step()
            continue
        try:
            step()
        except Exception:
            failed.append(what)
    return failed


def load_checkpoint(source, run):
    """Validate ``source`` (a path or loaded checkpoint) against ``run`` and restore it: weights,
    optimizer, scheduler, callbacks, RNG states, epoch, global step and History. Nothing is
    changed when validation or any restore step fails. Returns the checkpoint's ``extra``."""
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<checkpoint>"
    ckpt = read_checkpoint(source)
    try:
        validate_checkpoint(ckpt, run, name)
    except CheckpointMismatch:
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise CheckpointMismatch(f"{name}: malformed training checkpoint ({e!r})") from None
    before = _snapshot(run)
    try:
        _apply(run, ckpt["model"], ckpt["optimizer"]["state"],
               None if ckpt["scheduler"] is None else ckpt["scheduler"]["state"],
               [c["state"] for c in ckpt["callbacks"]], ckpt["rng"])
    except Exception as e:
        failed = _apply(run, before["model"], before["optimizer"], before["scheduler"],
                        before["callbacks"], before["rng"], strict=False)
        outcome = (f"rolling back failed for {', '.join(failed)}" if failed
                   else "nothing was changed")
        raise CheckpointMismatch(f"{name}: could not restore the checkpoint ({e}); "
                                 f"{outcome}") from e
    run.history = History.from_dict(ckpt["history"])
    run.epoch = ckpt["epoch"]
    run.global_step = ckpt["global_step"]
    return ckpt.get("extra") or {}
