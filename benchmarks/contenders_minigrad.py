"""minigrad exactly as its users write it: an nn.Module, DataLoader(shuffle=True), BCELoss, an
optimizer, and the zero_grad / forward / loss / backward / step / loss.item() loop."""
import numpy as np

import minigrad as mg
from minigrad import nn
from workloads import build_model


class MinigradContender:
    name = "minigrad"
    kind = "minigrad"
    memory_method = "tracemalloc"

    def __init__(self, workload, data, init, device="cpu"):
        self.w = workload
        self.init = init
        self.device = device
        # Built once, before any measurement (a copy, as torch.tensor makes; moved once on GPU).
        self.X = mg.tensor(data[0], device=device)
        self.Y = mg.tensor(data[1], device=device)
        self.setup()

    def setup(self):
        mg.manual_seed(1)
        model = build_model(nn, self.w).to(self.device)
        with mg.no_grad():
            for p, a in zip(model.parameters(), self.init):
                p.copy_(mg.tensor(a, device=self.device))
        self.model = model
        self.loss_fn = nn.BCELoss()
        self.optimizer = getattr(mg.optim, self.w.optimizer)(model.parameters(),
                                                             **self.w.opt_kwargs)
        dataset = mg.utils.data.TensorDataset(self.X, self.Y)
        self.loader = mg.utils.data.DataLoader(dataset, batch_size=self.w.batch_size,
                                               shuffle=True)

    def host_params(self):
        return [mg.backend.to_host(p._data).copy() for p in self.model.parameters()]

    def sync(self):
        if self.device != "cpu":
            mg.backend.synchronize()

    def step_batch(self, x, y):
        """One step on a batch given as NumPy arrays (for the cross-check)."""
        return self._step(mg.tensor(np.ascontiguousarray(x), device=self.device),
                          mg.tensor(np.ascontiguousarray(y), device=self.device))

    def _step(self, xb, yb):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def train(self, n_steps):
        steps, total = 0, 0.0
        while steps < n_steps:
            for xb, yb in self.loader:
                total += self._step(xb, yb)
                steps += 1
                if steps == n_steps:
                    break
        return total
