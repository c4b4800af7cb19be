"""Snapshots of training state (model/optimizer/scheduler state dicts, RNG states): deep copies
that share no storage with the live objects, so they can be restored bit for bit."""
import numpy as np

from minigrad.random import default_generator
from minigrad.tensor import Tensor


def clone_state(obj):
    """A deep copy of nested dicts/lists/tuples whose tensors and arrays are copied."""
    if isinstance(obj, Tensor):
        return Tensor._wrap(obj._data.copy())
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: clone_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clone_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(clone_state(v) for v in obj)
    return obj


def loader_generator(loader):
    """The loader's own minigrad.Generator, or None when it shuffles with the global one."""
    gen = getattr(loader, "generator", None)
    return gen if gen is not None and hasattr(gen, "get_state") else None


def rng_state(loader=None):
    """The global generator's state (dropout, init, unseeded shuffling) and the loader's."""
    gen = loader_generator(loader)
    return {"global": default_generator.get_state(),
            "loader": None if gen is None else gen.get_state()}


def set_rng_state(state, loader=None):
    default_generator.set_state(state["global"])
    gen = loader_generator(loader)
    if gen is not None and state.get("loader") is not None:
        gen.set_state(state["loader"])
