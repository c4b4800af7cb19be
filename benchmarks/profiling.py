"""Where a minigrad training step spends its time (``run.py --profile WORKLOAD``).

Two views, written to ``profile-WORKLOAD.txt`` (and ``.prof`` for snakeviz/pstats):
- phases: the user's loop taken apart (next batch, zero_grad, model forward, loss, backward,
  optimizer step, loss.item()) and timed with perf_counter, no profiler attached, next to the
  hand-written floor's forward+loss / backward / update for the same batch size;
- cProfile, sorted by own time and by cumulative time (its overhead inflates Python-heavy code, so
  read its shares, not its absolute µs).
"""
import cProfile
import io
import os
import pstats
import statistics
import time

import numpy as np

from workloads import WORKLOADS, init_params, make_data

PHASES = ("next batch", "zero_grad", "model(x)", "loss", "backward", "step", "item")


def minigrad_phases(c, n_steps):
    """Median µs of each phase of the minigrad loop over ``n_steps`` steps."""
    t = {p: [] for p in PHASES}
    pc = time.perf_counter
    steps = 0
    while steps < n_steps:
        it = iter(c.loader)
        while steps < n_steps:
            t0 = pc()
            try:
                xb, yb = next(it)
            except StopIteration:
                break
            t1 = pc()
            c.optimizer.zero_grad()
            t2 = pc()
            out = c.model(xb)
            t3 = pc()
            loss = c.loss_fn(out, yb)
            t4 = pc()
            loss.backward()
            t5 = pc()
            c.optimizer.step()
            t6 = pc()
            loss.item()
            t7 = pc()
            for p, a, b in zip(PHASES, (t0, t1, t2, t3, t4, t5, t6), (t1, t2, t3, t4, t5, t6, t7)):
                t[p].append((b - a) * 1e6)
            steps += 1
    return {p: statistics.median(v) for p, v in t.items()}


def floor_phases(f, n_steps):
    """The floor's step split the same way (gather / forward+loss+backward / update)."""
    pc = time.perf_counter
    n, bs = f.X.shape[0], f.w.batch_size
    gather, compute, update = [], [], []
    upd = f._update
    f._update = lambda: None  # time the update separately
    try:
        rng = np.random.default_rng(0)
        perm = rng.permutation(n)
        for k in range(n_steps):
            t0 = pc()
            s = (k * bs) % (n - bs + 1)
            idx = perm[s:s + bs]
            x, y = f.X[idx], f.Y[idx]
            t1 = pc()
            f.step_batch(x, y)
            t2 = pc()
            upd()
            t3 = pc()
            gather.append((t1 - t0) * 1e6)
            compute.append((t2 - t1) * 1e6)
            update.append((t3 - t2) * 1e6)
    finally:
        f._update = upd
    return {"gather": statistics.median(gather), "fwd+loss+bwd": statistics.median(compute),
            "update": statistics.median(update)}


def profile(wname, out_dir, device):
    from contenders_minigrad import MinigradContender
    from contenders_numpy import NumpyFloor
    w = WORKLOADS[wname]
    data, init = make_data(w), init_params(w)
    c = MinigradContender(w, data, init, device)
    f = NumpyFloor(w, data, init)
    n = min(w.steps, 2000)
    c.train(min(w.steps_per_epoch, 10))
    mph = minigrad_phases(c, n)
    fph = floor_phases(f, n)
    buf = io.StringIO()
    total = sum(mph.values())
    print(f"minigrad on {wname}: phases, median µs over {n} steps (no profiler)", file=buf)
    for p, v in mph.items():
        print(f"  {p:12s} {v:10.1f} µs  {v / total * 100:5.1f} %", file=buf)
    print(f"  {'sum':12s} {total:10.1f} µs", file=buf)
    ftot = sum(fph.values())
    print(f"hand-written NumPy floor on {wname}: median µs", file=buf)
    for p, v in fph.items():
        print(f"  {p:12s} {v:10.1f} µs  {v / ftot * 100:5.1f} %", file=buf)
    print(f"  {'sum':12s} {ftot:10.1f} µs   (minigrad / floor: {total / ftot:.2f})\n", file=buf)

    c.setup()
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    c.train(w.steps)
    pr.disable()
    dt = time.perf_counter() - t0
    print(f"cProfile of minigrad on {wname}: {w.steps} steps, {dt:.3f} s "
          f"({dt / w.steps * 1e6:.0f} µs/step with the profiler's overhead)", file=buf)
    st = pstats.Stats(pr, stream=buf)
    st.sort_stats("tottime").print_stats(30)
    st.sort_stats("cumulative").print_stats(30)
    os.makedirs(out_dir, exist_ok=True)
    pr.dump_stats(os.path.join(out_dir, f"profile-{wname}.prof"))
    import report
    report.write_atomic(os.path.join(out_dir, f"profile-{wname}.txt"), buf.getvalue())
    print(buf.getvalue())
    return 0
