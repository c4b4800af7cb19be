"""The floor: the same training step written by hand in NumPy (CuPy on GPU), no autograd.

Forward, backward and the optimizer update are spelled out with PyTorch's equations (nn.Linear,
ReLU, a Sigmoid then BCELoss with its log clamp at -100 and its 1e-12 denominator guard, SGD and
Adam as torch.optim writes them). Gradients land in preallocated buffers and parameters are
updated in place, so this is about as fast as a NumPy engine can go: minigrad's time over this
one is the price of autograd and of the PyTorch-shaped API.
"""
import math

import numpy as np

BCE_EPS = 1e-12      # torch's binary_cross_entropy_backward guard on p (1 - p)
LOG_CLAMP = -100.0   # torch's BCELoss clamps each log term at -100


class NumpyFloor:
    """Hand-written forward/backward for Linear/ReLU stacks ending in Sigmoid + BCE."""
    kind = "floor"
    memory_method = "tracemalloc"

    def __init__(self, workload, data, init, device="cpu", xp=np):
        self.w = workload
        self.xp = xp
        self.name = "numpy" if xp is np else "cupy"
        self.device = device
        self.init = init
        self.X = xp.asarray(data[0])
        self.Y = xp.asarray(data[1])
        self.setup()

    # -- state ------------------------------------------------------------------------------
    def setup(self):
        """Fresh parameters (the shared initial weights), zero optimizer state, a new shuffle."""
        xp = self.xp
        self.params = [xp.array(a) for a in self.init]
        self.grads = [xp.empty_like(p) for p in self.params]
        self.lr = float(self.w.opt_kwargs.get("lr", 1e-3))
        if self.w.optimizer == "Adam":
            self.betas = self.w.opt_kwargs.get("betas", (0.9, 0.999))
            self.eps = self.w.opt_kwargs.get("eps", 1e-8)
            self.m = [xp.zeros_like(p) for p in self.params]
            self.v = [xp.zeros_like(p) for p in self.params]
            self.buf = [xp.empty_like(p) for p in self.params]
            self.t = 0
        self.rng = np.random.default_rng(1)  # host-side shuffling, as minigrad does

    def host_params(self):
        return [np.asarray(p.get() if hasattr(p, "get") else p) for p in self.params]

    def sync(self):
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()

    # -- the step -----------------------------------------------------------------------------
    def _sigmoid(self, z):
        # NOTE: exp only ever sees -|z|, so nothing overflows; the value is 1/(1+e^-z).
        xp = self.xp
        e = xp.exp(-xp.abs(z))
        r = 1 / (1 + e)
        return xp.where(z >= 0, r, e * r)

    def step_batch(self, x, y):
        """One SGD/Adam step on the batch (x, y); returns the loss as a Python float."""
        xp = self.xp
        P, G = self.params, self.grads
        n_layers = len(P) // 2
        hs = [x]
        h = x
        for i in range(n_layers):
            z = h @ P[2 * i].T
            z += P[2 * i + 1]
            if i < n_layers - 1:
                xp.maximum(z, 0, out=z)  # ReLU in place: z is not needed again
            hs.append(z)
            h = z
        p = self._sigmoid(h)
        # BCELoss (mean): -(y max(log p, -100) + (1 - y) max(log(1 - p), -100))
        lp = xp.maximum(xp.log(p), LOG_CLAMP)
        l1p = xp.maximum(xp.log1p(-p), LOG_CLAMP)
        loss = -(y * lp + (1 - y) * l1p).mean()

        # BCE backward (torch): (p - y) / max(p (1 - p), 1e-12) / n; then Sigmoid: g p (1 - p).
        q = p * (1 - p)
        gz = (p - y) / xp.maximum(q, BCE_EPS)
        gz *= 1.0 / p.size
        gz *= q
        for i in range(n_layers - 1, -1, -1):
            xp.matmul(gz.T, hs[i], out=G[2 * i])
            xp.sum(gz, axis=0, out=G[2 * i + 1])
            if i:
                gh = gz @ P[2 * i]
                xp.multiply(gh, hs[i] > 0, out=gh)  # ReLU backward
                gz = gh
        self._update()
        return float(loss)

    def _update(self):
        if self.w.optimizer == "SGD":
            for p, g in zip(self.params, self.grads):
                g *= self.lr
                p -= g
            return
        # Adam, as torch's _single_tensor_adam: m, v in place, eps after the bias correction.
        xp = self.xp
        b1, b2 = self.betas
        self.t += 1
        bc1 = 1 - b1 ** self.t
        bc2_sqrt = math.sqrt(1 - b2 ** self.t)
        step_size = self.lr / bc1
        for p, g, m, v, buf in zip(self.params, self.grads, self.m, self.v, self.buf):
            m *= b1
            xp.multiply(g, 1 - b1, out=buf)
            m += buf
            v *= b2
            xp.multiply(g, g, out=buf)
            buf *= 1 - b2
            v += buf
            xp.sqrt(v, out=buf)
            buf /= bc2_sqrt
            buf += self.eps
            xp.divide(m, buf, out=buf)
            buf *= step_size
            p -= buf

    # -- the loop -----------------------------------------------------------------------------
    def train(self, n_steps):
        """``n_steps`` steps over shuffled mini-batches (epochs repeat as needed)."""
        xp, X, Y = self.xp, self.X, self.Y
        n, bs = X.shape[0], self.w.batch_size
        steps, total = 0, 0.0
        while steps < n_steps:
            perm = self.rng.permutation(n)
            if xp is not np:
                perm = xp.asarray(perm)
            for s in range(0, n, bs):
                idx = perm[s:s + bs]
                total += self.step_batch(X[idx], Y[idx])
                steps += 1
                if steps == n_steps:
                    break
        return total
