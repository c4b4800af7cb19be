"""Micro-benchmarks: what one autograd node costs, and what one optimizer step costs.

- per-op overhead: ``c = a + b; c.backward(g)`` on 1-element tensors, in µs per forward+backward,
  plus the forward alone (with and without a graph) to split the cost;
- optimizer step: ``optimizer.step()`` on one 1000 x 1000 parameter (1M floats) for every
  optimizer that minigrad and torch both have, with a hand-written in-place NumPy update as the
  floor for SGD and Adam.
"""
import math
import statistics
import time

import numpy as np

import measure
import minigrad as mg

OPT_SHAPE = (1000, 1000)


def _best_of(fn, n, repeats):
    """Median over ``repeats`` of the per-call time of ``fn(n)`` (n calls), in µs."""
    fn(max(1, n // 10))  # warm
    per = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(n)
        per.append((time.perf_counter() - t0) / n * 1e6)
    return {"median_us": statistics.median(per), "min_us": min(per), "max_us": max(per),
            "repeats": repeats, "calls": n}


# -- per-op overhead ---------------------------------------------------------------------------
def _ops(lib, device):
    """The three timed loops; ``lib`` is minigrad or torch (the same API spells both)."""
    a = lib.tensor([1.0], device=device, requires_grad=True)
    b = lib.tensor([2.0], device=device, requires_grad=True)
    g = lib.ones(1, device=device)
    x = lib.tensor([1.0], device=device)

    def fwd_bwd(n):
        for _ in range(n):
            c = a + b
            c.backward(g)

    def fwd_graph(n):
        for _ in range(n):
            a + b

    def fwd_nograd(n):
        for _ in range(n):
            x + x
    return fwd_bwd, fwd_graph, fwd_nograd


def per_op(device, torch=None, quick=False, repeats=5, wait_quiet=0.0):
    n = 500 if quick else 20000
    names = ("add_fwd_bwd", "add_fwd_graph", "add_fwd_nograd")
    out = {"what": "c = a + b; c.backward(g) on 1-element float32 tensors; µs per call",
           "minigrad": {}, "torch": {}}
    libs = [("minigrad", _ops(mg, device))]
    if torch is not None:
        libs.append(("torch", _ops(torch, device)))
    # Interleave the libraries so that a noisy neighbour hurts both alike.
    measure.wait_quiet(wait_quiet)
    for name, k in zip(names, range(3)):
        for lib, fns in libs:
            out[lib][name] = _best_of(fns[k], n, repeats)
    xa, xb = np.ones(1, np.float32), np.ones(1, np.float32)

    def np_add(n):
        for _ in range(n):
            np.add(xa, xb)
    out["numpy"] = {"add": _best_of(np_add, n, repeats)}
    if torch is not None:
        out["ratio_fwd_bwd"] = (out["minigrad"]["add_fwd_bwd"]["median_us"]
                                / out["torch"]["add_fwd_bwd"]["median_us"])
    return out


# -- optimizer step --------------------------------------------------------------------------
def _floor_sgd(p, g, lr=1e-3):
    buf = np.empty_like(p)

    def step():
        np.multiply(g, lr, out=buf)
        p.__isub__(buf)
    return step


def _floor_adam(p, g, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    m, v, buf = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
    t = [0]

    def step():
        t[0] += 1
        m.__imul__(b1)
        np.multiply(g, 1 - b1, out=buf)
        m.__iadd__(buf)
        v.__imul__(b2)
        np.multiply(g, g, out=buf)
        buf.__imul__(1 - b2)
        v.__iadd__(buf)
        np.sqrt(v, out=buf)
        buf.__itruediv__(math.sqrt(1 - b2 ** t[0]))
        buf.__iadd__(eps)
        np.divide(m, buf, out=buf)
        buf.__imul__(lr / (1 - b1 ** t[0]))
        p.__isub__(buf)
    return step


def optimizer_cases(torch):
    """(label, class name, kwargs) for every optimizer minigrad has (and torch, when present)."""
    names = [n for n in dir(mg.optim)
             if isinstance(getattr(mg.optim, n), type)
             and issubclass(getattr(mg.optim, n), mg.optim.Optimizer)
             and n != "Optimizer"]
    cases = []
    for n in sorted(names):
        cases.append((n, n, {"lr": 1e-3}))
        if n == "SGD":
            cases.append(("SGD(momentum=0.9)", n, {"lr": 1e-3, "momentum": 0.9}))
    return cases


def gemm(device, torch=None, quick=False, repeats=5, wait_quiet=0.0):
    """One float32 (256 x 1024) @ (1024 x 1024) product, NumPy's BLAS vs torch's: the kernel
    that bounds the wide workload for every contender."""
    n = 2 if quick else 20
    rng = np.random.RandomState(0)
    a = rng.randn(256, 1024).astype(np.float32)
    b = rng.randn(1024, 1024).astype(np.float32)
    out = {"what": "(256 x 1024) @ (1024 x 1024) float32; µs per product"}
    if device == "cpu":
        measure.wait_quiet(wait_quiet)
        out["numpy"] = _best_of(lambda k: [a @ b for _ in range(k)], n, repeats)
    if torch is not None:
        ta, tb = torch.from_numpy(a).to(device), torch.from_numpy(b).to(device)

        def tmm(k):
            for _ in range(k):
                ta @ tb
            if device != "cpu":
                torch.cuda.synchronize()
        measure.wait_quiet(wait_quiet)
        out["torch"] = _best_of(tmm, n, repeats)
        if "numpy" in out:
            out["ratio_numpy_to_torch"] = out["numpy"]["median_us"] / out["torch"]["median_us"]
    return out


def optimizer_step(device, torch=None, quick=False, repeats=5, wait_quiet=0.0):
    n = 2 if quick else 20
    rng = np.random.RandomState(0)
    p0 = rng.randn(*OPT_SHAPE).astype(np.float32)
    g0 = rng.randn(*OPT_SHAPE).astype(np.float32) * 0.01
    out = {"what": f"optimizer.step() on one {OPT_SHAPE} float32 parameter (1M); µs per step",
           "cases": {}}
    for label, cls, kw in optimizer_cases(torch):
        row = {}
        p = mg.tensor(p0, device=device, requires_grad=True)
        p.grad = mg.tensor(g0, device=device)
        opt = getattr(mg.optim, cls)([p], **kw)

        def mstep(k):
            for _ in range(k):
                opt.step()
            if device != "cpu":
                mg.backend.synchronize()
        measure.wait_quiet(wait_quiet)
        row["minigrad"] = _best_of(mstep, n, repeats)
        if torch is not None and hasattr(torch.optim, cls):
            tp = torch.tensor(p0, device=device, requires_grad=True)
            tp.grad = torch.tensor(g0, device=device)
            topt = getattr(torch.optim, cls)([tp], **kw)

            def tstep(k):
                for _ in range(k):
                    topt.step()
                if device != "cpu":
                    torch.cuda.synchronize()
            measure.wait_quiet(wait_quiet)
            row["torch"] = _best_of(tstep, n, repeats)
            row["ratio_to_torch"] = row["minigrad"]["median_us"] / row["torch"]["median_us"]
        if device == "cpu" and label in ("SGD", "Adam"):
            floor = (_floor_sgd if label == "SGD" else _floor_adam)(p0.copy(), g0)
            measure.wait_quiet(wait_quiet)
            row["numpy"] = _best_of(lambda k: [floor() for _ in range(k)], n, repeats)
            row["ratio_to_floor"] = row["minigrad"]["median_us"] / row["numpy"]["median_us"]
        out["cases"][label] = row
    return out
