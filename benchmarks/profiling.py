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

from workloads import WORKLOADS, init_params, make_data

PHASES = ("next batch", "zero_grad", "model(x)", "loss", "backward", "step", "item")
FLOOR_PHASES = ("gather", "fwd+loss+bwd", "update")


def _minigrad_steps(c):
    """Yield the phase durations (s) of one minigrad step at a time, forever."""
    pc = time.perf_counter
    while True:
        it = iter(c.loader)
        while True:
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
            yield (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6)


def _floor_steps(f):
    """The floor's step split the same way: gather / forward+loss+backward / update."""
    pc = time.perf_counter
    n, bs = f.X.shape[0], f.w.batch_size
    upd = f._update
    f._update = lambda: None  # so that step_batch stops before the update, timed apart
    try:
        while True:
            perm = f.rng.permutation(n)
            for s in range(0, n, bs):
                t0 = pc()
                idx = perm[s:s + bs]
                x, y = f.X[idx], f.Y[idx]
                t1 = pc()
                f.step_batch(x, y)
                t2 = pc()
                upd()
                t3 = pc()
                yield (t1 - t0, t2 - t1, t3 - t2)
    finally:
        f._update = upd


def phases(c, f, n_steps):
    """Median µs per phase, minigrad and floor steps alternating so both see the same load."""
    mg_t = {p: [] for p in PHASES}
    fl_t = {p: [] for p in FLOOR_PHASES}
    mg_it, fl_it = _minigrad_steps(c), _floor_steps(f)
    for _ in range(n_steps):
        for p, v in zip(FLOOR_PHASES, next(fl_it)):
            fl_t[p].append(v * 1e6)
        for p, v in zip(PHASES, next(mg_it)):
            mg_t[p].append(v * 1e6)
    fl_it.close()
    return ({p: statistics.median(v) for p, v in mg_t.items()},
            {p: statistics.median(v) for p, v in fl_t.items()})


def profile(wname, out_dir, device):
    from contenders_minigrad import MinigradContender
    from contenders_numpy import NumpyFloor
    w = WORKLOADS[wname]
    data, init = make_data(w), init_params(w)
    c = MinigradContender(w, data, init, device)
    f = NumpyFloor(w, data, init)
    n = min(w.steps, 2000)
    c.train(min(w.steps_per_epoch, 10))
    f.train(min(w.steps_per_epoch, 10))
    mph, fph = phases(c, f, n)
    buf = io.StringIO()
    total = sum(mph.values())
    print(f"minigrad on {wname}: phases, median µs over {n} steps (no profiler; a floor step "
          f"before each minigrad step, so that both see the same machine)", file=buf)
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
