"""Seeded randomness. Every random number comes from a host-side NumPy Generator, so one seed
gives the same values on CPU and GPU."""
import numpy as np

DEFAULT_SEED = 67280421310721  # torch's default, so an unseeded process is still reproducible


class Generator:
    """A seedable random source (torch.Generator's shape) over ``numpy.random.Generator``."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed & (2**64 - 1)))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & (2**63 - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """A JSON-serialisable snapshot of the generator (for checkpoints)."""
        state = self.rng.bit_generator.state
        return {"seed": self._seed, "bit_generator": state["bit_generator"],
                "state": {k: int(v) for k, v in state["state"].items()},
                "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}

    def set_state(self, state):
        try:
            self._seed = int(state["seed"])
            self.rng.bit_generator.state = {
                "bit_generator": state["bit_generator"],
                "state": {k: int(v) for k, v in state["state"].items()},
                "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Invalid generator state: {e}") from None
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the global generator (weights init, dropout, rand/randn, unseeded shuffling)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def host_generator(generator=None):
    """The numpy Generator behind ``generator`` (the global one when None)."""
    if generator is None:
        return default_generator.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a minigrad.Generator, got {type(generator).__name__}")
