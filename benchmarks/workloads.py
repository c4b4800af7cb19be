"""The benchmark workloads: data, model shape, batch, epochs and optimizer, drawn once per run.

Every contender trains the same network from the same initial weights on the same data, so the
only thing that differs between them is how the training step is computed.
"""
from dataclasses import dataclass, field

import numpy as np

DATA_SEED = 42   # the seed document's np.random.seed(42)
INIT_SEED = 0


@dataclass(frozen=True)
class Workload:
    """One row of the benchmark table."""
    name: str
    sizes: tuple            # layer widths: input, hidden..., 1
    n: int                  # samples
    batch_size: int
    epochs: int
    optimizer: str          # "SGD" or "Adam"
    opt_kwargs: dict = field(default_factory=dict)
    data: str = "gaussian"  # how the inputs are drawn (see make_data)
    description: str = ""

    @property
    def steps_per_epoch(self):
        return -(-self.n // self.batch_size)

    @property
    def steps(self):
        return self.epochs * self.steps_per_epoch

    def layer_shapes(self):
        """(out, in) of each Linear, in order: the PyTorch weight layout."""
        return [(o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:])]

    def n_params(self):
        return sum(o * i + o for o, i in self.layer_shapes())

    def spec(self):
        return {"sizes": list(self.sizes), "n": self.n, "batch_size": self.batch_size,
                "epochs": self.epochs, "steps": self.steps, "optimizer": self.optimizer,
                "opt_kwargs": dict(self.opt_kwargs), "params": self.n_params(),
                "data": self.data, "description": self.description}


WORKLOADS = {
    w.name: w for w in [
        Workload("seed", (2, 10, 1), 1000, 32, 50, "SGD", {"lr": 0.01}, "linear2d",
                 "the seed document's example: 2-10-1, ReLU, Sigmoid, BCE, SGD lr 0.01"),
        Workload("seed-adam", (2, 10, 1), 1000, 32, 50, "Adam", {"lr": 1e-3}, "linear2d",
                 "seed with Adam lr 1e-3"),
        Workload("wide", (256, 1024, 1024, 1), 8192, 256, 3, "SGD", {"lr": 0.01}, "gaussian",
                 "256-1024-1024-1: dominated by matrix products"),
        Workload("deep", (64,) + (128,) * 8 + (1,), 4096, 64, 2, "SGD", {"lr": 0.01},
                 "gaussian", "64, then 8 x Linear(128)+ReLU, then 1: many small nodes"),
    ]
}


def make_data(w):
    """(X, y) as float32 host arrays; y has shape (n, 1) as BCELoss wants."""
    rng = np.random.RandomState(DATA_SEED)
    d = w.sizes[0]
    if w.data == "linear2d":
        # Exactly the seed document's data: points in [0, 10)^2, label x0 + x1 > 10.
        x = rng.rand(w.n, d) * 10
        y = (x[:, 0] + x[:, 1] > 10)
    else:
        # Label from the first two features; the rest is noise the net has to ignore.
        x = rng.randn(w.n, d)
        y = (x[:, 0] + x[:, 1] > 0)
    return (np.ascontiguousarray(x, dtype=np.float32),
            y.astype(np.float32).reshape(-1, 1))


def init_params(w):
    """[W1, b1, W2, b2, ...] float32, drawn like torch.nn.Linear: U(-1/sqrt(in), 1/sqrt(in))."""
    rng = np.random.RandomState(INIT_SEED)
    out = []
    for o, i in w.layer_shapes():
        bound = 1.0 / np.sqrt(i)
        out.append(rng.uniform(-bound, bound, size=(o, i)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, size=(o,)).astype(np.float32))
    return out


def build_model(nn, workload):
    """The workload's MLP from ``nn`` (minigrad.nn or torch.nn: the same API builds both)."""
    layers = []
    shapes = workload.layer_shapes()
    for k, (o, i) in enumerate(shapes):
        layers.append(nn.Linear(i, o))
        layers.append(nn.ReLU() if k < len(shapes) - 1 else nn.Sigmoid())
    return nn.Sequential(*layers)
