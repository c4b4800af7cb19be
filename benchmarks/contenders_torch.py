"""PyTorch, written as its users write it: nn.Sequential, BCELoss, torch.optim, and either its
DataLoader(shuffle=True) ("torch-dl") or a randperm and plain indexing ("torch-idx").

Only imported when torch is installed; the suite runs without it.
"""
import numpy as np

from workloads import build_model


def available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class TorchContender:
    kind = "torch"
    memory_method = "torch"

    def __init__(self, workload, data, init, device="cpu", loader="dataloader"):
        import torch
        self.torch = torch
        self.w = workload
        self.init = init
        self.loader_kind = loader
        self.name = "torch-dl" if loader == "dataloader" else "torch-idx"
        self.device = torch.device(device)
        # Host tensors share memory with the NumPy data; on GPU the index variant keeps a copy on
        # the device (what a user does), the DataLoader variant moves each batch (also usual).
        self.X_host = torch.from_numpy(data[0])
        self.Y_host = torch.from_numpy(data[1])
        if self.device.type == "cuda":
            self.X, self.Y = self.X_host.to(self.device), self.Y_host.to(self.device)
        else:
            self.X, self.Y = self.X_host, self.Y_host
        self.setup()

    def setup(self):
        torch = self.torch
        torch.manual_seed(1)
        model = build_model(torch.nn, self.w).to(self.device)
        with torch.no_grad():
            for p, a in zip(model.parameters(), self.init):
                p.copy_(torch.from_numpy(a))
        self.model = model
        self.loss_fn = torch.nn.BCELoss()
        self.opt = getattr(torch.optim, self.w.optimizer)(model.parameters(), **self.w.opt_kwargs)
        if self.loader_kind == "dataloader":
            ds = torch.utils.data.TensorDataset(self.X_host, self.Y_host)
            self.loader = torch.utils.data.DataLoader(ds, batch_size=self.w.batch_size,
                                                      shuffle=True)

    def host_params(self):
        return [p.detach().cpu().numpy().copy() for p in self.model.parameters()]

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def step_batch(self, x, y):
        """One step on a batch given as NumPy arrays (for the cross-check)."""
        t = self.torch
        return self._step(t.from_numpy(np.ascontiguousarray(x)).to(self.device),
                          t.from_numpy(np.ascontiguousarray(y)).to(self.device))

    def _step(self, xb, yb):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.opt.step()
        return loss.item()

    def train(self, n_steps):
        torch = self.torch
        steps, total = 0, 0.0
        dev = self.device
        on_gpu = dev.type == "cuda"
        bs = self.w.batch_size
        n = self.X.shape[0]
        while steps < n_steps:
            if self.loader_kind == "dataloader":
                batches = self.loader
            else:
                perm = torch.randperm(n, device=dev)
                batches = ((self.X[perm[s:s + bs]], self.Y[perm[s:s + bs]])
                           for s in range(0, n, bs))
            for xb, yb in batches:
                if on_gpu and xb.device != dev:
                    xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
                total += self._step(xb, yb)
                steps += 1
                if steps == n_steps:
                    break
        return total
