"""Run minigrad's benchmark suite and write the report.

    python benchmarks/run.py [--device cpu|cuda] [--quick] [--only NAME[,NAME]] [--out DIR]
                             [--repeats N] [--profile WORKLOAD]

Each workload trains the same network from the same weights with every contender (hand-written
NumPy/CuPy floor, minigrad, torch with its DataLoader, torch with index batching), interleaved in
this one process after a warm-up; then peak memory, the micro-benchmarks and the memory-flat check.
Writes results.json, results.md and (with matplotlib) results.png into --out.
"""
import argparse
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import measure  # noqa: E402
import report  # noqa: E402
from workloads import WORKLOADS, init_params, make_data  # noqa: E402

SECTIONS = ("micro", "memory")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--quick", action="store_true",
                   help="one step per workload and short micro-benchmarks (a smoke test)")
    p.add_argument("--only", default=None,
                   help=f"comma-separated subset of {', '.join(list(WORKLOADS) + list(SECTIONS))}")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="output folder")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats per contender (>= 1)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each timed run wait (up to SECONDS) until other processes "
                        "leave the CPUs idle; for shared machines")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--profile", default=None, metavar="WORKLOAD",
                   help="profile the minigrad contender on WORKLOAD with cProfile and exit")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error(f"--repeats must be >= 1, got {args.repeats}")
    names = list(WORKLOADS) + list(SECTIONS)
    if args.only is not None:
        args.only = [s.strip() for s in args.only.split(",") if s.strip()]
        bad = [s for s in args.only if s not in names]
        if bad or not args.only:
            p.error(f"--only: unknown name(s) {bad or args.only!r}; choose from {names}")
    else:
        args.only = names
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out: {args.out!r} exists and is not a folder")
    if args.profile is not None and args.profile not in WORKLOADS:
        p.error(f"--profile: unknown workload {args.profile!r}; choose from {list(WORKLOADS)}")
    return args


def load_torch(device, threads, disabled):
    """torch with its thread count matched to the BLAS's, or None."""
    if disabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    if device == "cuda" and not torch.cuda.is_available():
        print("note: torch has no CUDA here; torch contenders are left out", file=sys.stderr)
        return None
    return torch


def make_contenders(w, data, init, device, torch):
    from contenders_minigrad import MinigradContender
    from contenders_numpy import NumpyFloor
    xp = np
    if device == "cuda":
        import cupy as xp
    cs = [NumpyFloor(w, data, init, device, xp), MinigradContender(w, data, init, device)]
    if torch is not None:
        from contenders_torch import TorchContender
        cs.append(TorchContender(w, data, init, device, loader="dataloader"))
        cs.append(TorchContender(w, data, init, device, loader="index"))
    return cs


def _stats(times, n_steps):
    med = statistics.median(times)
    s = sorted(times)
    q1, q3 = (np.percentile(s, [25, 75]).tolist() if len(s) > 1 else (s[0], s[0]))
    return {"times_s": times, "median_s": med, "min_s": s[0], "max_s": s[-1],
            "iqr_s": q3 - q1, "spread_rel": (s[-1] - s[0]) / med if med else 0.0,
            "steps": n_steps, "steps_per_s": n_steps / med if med else float("inf"),
            "us_per_step": med / n_steps * 1e6}


def bench_workload(w, device, torch, repeats, quick, log, wait_quiet=0.0):
    data, init = make_data(w), init_params(w)
    cs = make_contenders(w, data, init, device, torch)
    n_steps = 1 if quick else w.steps
    warm = 1 if quick else min(w.steps_per_epoch, 10)
    for c in cs:
        c.setup()
        c.train(warm)
    times = {c.name: [] for c in cs}
    waits = []
    for r in range(repeats):
        # Rotate the order so that no contender always runs first (or after the heaviest one).
        for c in cs[r % len(cs):] + cs[:r % len(cs)]:
            c.setup()
            waited, busy = measure.wait_quiet(wait_quiet)
            waits.append({"contender": c.name, "waited_s": waited, "others_busy": busy})
            times[c.name].append(measure.timed(c, n_steps, collect=not quick))
    out = {"spec": w.spec(), "timed_steps": n_steps, "contenders": {}}
    if wait_quiet > 0:
        out["quiet_waits"] = waits
    for c in cs:
        out["contenders"][c.name] = _stats(times[c.name], n_steps)
    mem_steps = 1 if quick else min(w.steps_per_epoch, 20)
    for c in cs:
        row = out["contenders"][c.name]
        row["memory_steps"] = mem_steps
        if device == "cuda":
            row["peak_gpu_bytes"] = measure.peak_gpu(c, mem_steps)
        else:
            if c.memory_method == "tracemalloc":
                row["peak_traced_bytes"] = measure.peak_traced(c, mem_steps)
            row["peak_rss_bytes"] = measure.peak_rss(c, mem_steps)
    floor = cs[0].name
    for c in cs:
        row = out["contenders"][c.name]
        # Medians are the headline; best-of ratios are what survives a busy machine.
        row["ratio_to_floor"] = row["median_s"] / out["contenders"][floor]["median_s"]
        row["best_ratio_to_floor"] = row["min_s"] / out["contenders"][floor]["min_s"]
        for t in ("torch-dl", "torch-idx"):
            if t in out["contenders"]:
                row[f"ratio_to_{t}"] = row["median_s"] / out["contenders"][t]["median_s"]
                row[f"best_ratio_to_{t}"] = row["min_s"] / out["contenders"][t]["min_s"]
    for name, row in out["contenders"].items():
        log(f"  {w.name:9s} {name:9s} median {row['median_s'] * 1e3:9.2f} ms  "
            f"{row['us_per_step']:9.1f} µs/step  x floor {row['ratio_to_floor']:.2f}")
    return out


def memory_flat(quick, log):
    """minigrad on seed for 20,000 steps: does memory stay flat? (Always on the host.)"""
    from contenders_minigrad import MinigradContender
    w = WORKLOADS["seed"]
    c = MinigradContender(w, make_data(w), init_params(w), "cpu")
    steps, every = (200, 50) if quick else (20000, 1000)
    res = measure.memory_growth(c, steps, every)
    log(f"  memory over {steps} seed steps: growth {res['growth_bytes']} B")
    return res


def main(argv=None):
    args = parse_args(argv)
    import minigrad as mg
    if args.device == "cuda" and not mg.cuda.is_available():
        print("error: --device cuda: CUDA is not available (CuPy is not installed or sees no "
              "GPU); run with --device cpu", file=sys.stderr)
        return 2
    if args.profile:
        import profiling
        return profiling.profile(args.profile, args.out, args.device)

    def log(msg):
        print(msg, flush=True)

    t_start = time.perf_counter()
    meta = measure.machine_info(args.device)
    torch = load_torch(args.device, meta["blas_threads"], args.no_torch)
    if torch is not None:
        meta["torch_threads"] = torch.get_num_threads()
    else:
        meta["torch"] = None
    # NOTE: torch's import leaves ~10^5 long-lived objects that every full collection would
    # walk; a user's minigrad process has none of them. Freezing them keeps the GC cost each
    # contender pays its own.
    gc.collect()
    gc.freeze()
    meta.update(repeats=args.repeats, quick=args.quick, only=args.only,
                wait_quiet_s=args.wait_quiet,
                started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    res = {"meta": meta, "workloads": {}}
    log(f"minigrad benchmarks on {args.device} ({meta['cpu']}, BLAS "
        f"{(meta['blas'].get('openblas') or {}).get('corename', '?')}, "
        f"{meta['blas_threads']} threads); torch: {meta['torch'] or 'not installed'}")
    for name, w in WORKLOADS.items():
        if name in args.only:
            res["workloads"][name] = bench_workload(w, args.device, torch, args.repeats,
                                                    args.quick, log, args.wait_quiet)
    if "micro" in args.only:
        import micro
        wq = args.wait_quiet
        res["micro"] = {
            "per_op": micro.per_op(args.device, torch, args.quick, args.repeats, wq),
            "optimizer_step": micro.optimizer_step(args.device, torch, args.quick,
                                                   args.repeats, wq),
            "gemm": micro.gemm(args.device, torch, args.quick, args.repeats, wq)}
        log(f"  per-op add fwd+bwd: minigrad "
            f"{res['micro']['per_op']['minigrad']['add_fwd_bwd']['median_us']:.2f} µs")
    if "memory" in args.only:
        res["memory_flat"] = memory_flat(args.quick, log)
    res["targets"] = report.targets(res)
    res["meta"]["elapsed_s"] = time.perf_counter() - t_start
    res["meta"]["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    os.makedirs(args.out, exist_ok=True)
    report.write_json(res, os.path.join(args.out, "results.json"))
    report.write_markdown(res, os.path.join(args.out, "results.md"))
    png = report.write_chart(res, os.path.join(args.out, "results.png")) \
        if res["workloads"] else None
    log(report.markdown(res))
    log(f"wrote {os.path.join(args.out, 'results.json')}, results.md"
        + (", results.png" if png else "") + f" in {res['meta']['elapsed_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
