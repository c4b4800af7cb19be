"""The report: targets checked against one run's numbers, JSON, a Markdown table, a bar chart."""
import json
import os
import tempfile

MiB = 1024 * 1024
FLAT_LIMIT_BYTES = 64 * 1024   # growth over the whole run that still counts as flat


def _time(res, workload, contender, key="median_s"):
    c = res["workloads"].get(workload, {}).get("contenders", {}).get(contender)
    return None if c is None else c.get(key)


def _target(name, value, limit, how, note="", best=None):
    met = None if value is None else bool(value <= limit)
    return {"target": name, "value": value, "limit": limit, "how": how, "met": met,
            "note": note, "best_of_value": best,
            "met_best_of": None if best is None else bool(best <= limit)}


def targets(res):
    """Every target of the issue, as value <= limit (None when the run lacks the numbers)."""
    out = []

    def ratio(w, a, b, key="median_s"):
        x, y = _time(res, w, a, key), _time(res, w, b, key)
        return None if x is None or y is None or y == 0 else x / y

    def best(w, a, b):
        return ratio(w, a, b, "min_s")

    floor = "cupy" if res["meta"]["device"] == "cuda" else "numpy"
    out.append(_target("seed: minigrad / floor", ratio("seed", "minigrad", floor), 2.5,
                       "median time ratio", best=best("seed", "minigrad", floor)))
    out.append(_target("seed: minigrad / torch-dl (>= 3x faster)",
                       ratio("seed", "minigrad", "torch-dl"), 1 / 3, "median time ratio",
                       best=best("seed", "minigrad", "torch-dl")))
    out.append(_target("wide: minigrad / floor", ratio("wide", "minigrad", floor),
                       1.15 if floor == "cupy" else 1.10, "median time ratio",
                       best=best("wide", "minigrad", floor)))

    def slowest_ratio(f):
        rs = [f("wide", "minigrad", t) for t in ("torch-dl", "torch-idx")]
        rs = [r for r in rs if r is not None]
        return max(rs) if rs else None
    r_dl, r_idx = ratio("wide", "minigrad", "torch-dl"), ratio("wide", "minigrad", "torch-idx")
    out.append(_target("wide: minigrad / fastest torch", slowest_ratio(ratio),
                       1.2 if floor == "cupy" else 1.0, "median time ratio",
                       f"torch-dl {r_dl and round(r_dl, 3)}, torch-idx {r_idx and round(r_idx, 3)}",
                       best=slowest_ratio(best)))
    out.append(_target("deep: minigrad / floor", ratio("deep", "minigrad", floor), 1.5,
                       "median time ratio", best=best("deep", "minigrad", floor)))
    op = res.get("micro", {}).get("per_op", {})
    out.append(_target("per-op overhead: minigrad / torch", op.get("ratio_fwd_bwd"), 1.0,
                       "add forward+backward on 1-element tensors"))
    mem = res["workloads"].get("wide", {}).get("contenders", {})
    key = "peak_gpu_bytes" if floor == "cupy" else "peak_traced_bytes"
    m_mg = mem.get("minigrad", {}).get(key)
    m_fl = mem.get(floor, {}).get(key)
    out.append(_target("wide: peak memory minigrad / floor",
                       None if not m_mg or not m_fl else m_mg / m_fl, 1.3, key))
    flat = res.get("memory_flat")
    out.append(_target(f"seed: memory growth over {flat['steps'] if flat else '?'} steps (bytes)",
                       None if flat is None else flat["growth_bytes"], FLAT_LIMIT_BYTES,
                       "tracemalloc current, last sample minus first"))
    return out


# -- files -----------------------------------------------------------------------------------
def write_atomic(path, text):
    """Write through a temporary file and a rename: a killed run never leaves half a report."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json(res, path):
    write_atomic(path, json.dumps(res, indent=1, sort_keys=False) + "\n")


def _fmt(x, spec, none="–"):
    return none if x is None else format(x, spec)


def _load(la):
    return "–" if not la else " ".join(f"{x:.2f}" for x in la)


def _mib(b):
    return None if b is None else b / MiB


def markdown(res):
    meta = res["meta"]
    ob = (meta["blas"].get("openblas") or {})
    lines = [f"# minigrad benchmarks ({meta['device']})", "",
             f"Machine: {meta['cpu']}, {meta['cpu_count']} CPUs"
             + (f", GPU {meta.get('gpu')}" if meta.get("gpu") else "")
             + f"; Python {meta['python']}, NumPy {meta['numpy']}, torch {meta['torch'] or '–'}"
             + (f", CuPy {meta['cupy']}" if meta.get("cupy") else "") + ".",
             f"BLAS: {ob.get('config', 'unknown')} (kernel {ob.get('corename', '?')}), "
             f"{meta['blas_threads']} threads; torch threads {meta.get('torch_threads', '–')}; "
             f"OPENBLAS_CORETYPE={meta['env'].get('OPENBLAS_CORETYPE')}, "
             f"OPENBLAS_L2_SIZE={meta['env'].get('OPENBLAS_L2_SIZE')}.",
             f"Load average at start/end: {_load(meta.get('loadavg_start'))} / "
             f"{_load(meta.get('loadavg_end'))} (other work on the machine makes numbers noisy).",
             f"Repeats: {meta['repeats']} (median, min–max), interleaved after a warm-up"
             + (" — QUICK run: one step per workload, numbers are not meaningful" if
                meta["quick"] else "") + ".", "",
             "| workload | contender | median ms | min–max ms | steps/s | µs/step | peak MiB "
             "| × floor | × torch-dl | × torch-idx |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for wname, w in res["workloads"].items():
        for cname, c in w["contenders"].items():
            peak = c.get("peak_gpu_bytes") or c.get("peak_traced_bytes") \
                or c.get("peak_rss_bytes")
            how = ("gpu" if c.get("peak_gpu_bytes") else
                   "tm" if c.get("peak_traced_bytes") else "rss")
            lines.append(
                f"| {wname} | {cname} | {c['median_s'] * 1e3:.1f} | "
                f"{c['min_s'] * 1e3:.1f}–{c['max_s'] * 1e3:.1f} | {c['steps_per_s']:.0f} | "
                f"{c['us_per_step']:.0f} | {_fmt(_mib(peak), '.2f')} ({how}) | "
                f"{_fmt(c.get('ratio_to_floor'), '.2f')} | "
                f"{_fmt(c.get('ratio_to_torch-dl'), '.2f')} | "
                f"{_fmt(c.get('ratio_to_torch-idx'), '.2f')} |")
    lines += ["", "Peak memory: tm = tracemalloc peak over model/optimizer set-up and training "
              "(data excluded); rss = resident-set high-water growth (torch, whose allocator "
              "tracemalloc cannot see); gpu = CuPy pool / torch.cuda.max_memory_allocated."]
    micro = res.get("micro")
    if micro:
        op = micro.get("per_op")
        if op:
            lines += ["", "## Per-op overhead (µs per call, median)", "",
                      "| what | minigrad | torch |", "|---|---:|---:|"]
            for k in ("add_fwd_bwd", "add_fwd_graph", "add_fwd_nograd"):
                lines.append(f"| {k} | {op['minigrad'][k]['median_us']:.2f} | "
                             f"{_fmt(op['torch'].get(k, {}).get('median_us'), '.2f')} |")
            lines.append(f"| numpy add (reference) | {op['numpy']['add']['median_us']:.2f} | |")
        opt = micro.get("optimizer_step")
        if opt:
            lines += ["", "## Optimizer step on 1M float32 parameters (µs per step, median)", "",
                      "| optimizer | minigrad | torch | NumPy floor | × torch | × floor |",
                      "|---|---:|---:|---:|---:|---:|"]
            for label, row in opt["cases"].items():
                lines.append(
                    f"| {label} | {row['minigrad']['median_us']:.0f} | "
                    f"{_fmt(row.get('torch', {}).get('median_us'), '.0f')} | "
                    f"{_fmt(row.get('numpy', {}).get('median_us'), '.0f')} | "
                    f"{_fmt(row.get('ratio_to_torch'), '.2f')} | "
                    f"{_fmt(row.get('ratio_to_floor'), '.2f')} |")
        gm = micro.get("gemm")
        if gm:
            lines += ["", f"GEMM {gm['what']}: NumPy "
                      f"{_fmt(gm.get('numpy', {}).get('median_us'), '.0f')}, torch "
                      f"{_fmt(gm.get('torch', {}).get('median_us'), '.0f')} "
                      f"(NumPy / torch {_fmt(gm.get('ratio_numpy_to_torch'), '.2f')})."]
    flat = res.get("memory_flat")
    if flat:
        lines += ["", f"## Memory over {flat['steps']} steps of seed (minigrad, tracemalloc)", "",
                  f"Current traced bytes every {flat['every']} steps: first "
                  f"{flat['samples_bytes'][0]}, last {flat['samples_bytes'][-1]}, growth "
                  f"{flat['growth_bytes']} B, largest rise {flat['max_minus_first_bytes']} B."]
    lines += ["", "## Targets", "",
              "| target | value (medians) | limit | met | best-of value | met best-of | note |",
              "|---|---:|---:|---|---:|---|---|"]

    def yes(m):
        return "–" if m is None else ("yes" if m else "**no**")

    def val(v):
        return _fmt(v, ".3f") if isinstance(v, float) else ("–" if v is None else str(v))
    for t in res.get("targets", []):
        lines.append(f"| {t['target']} | {val(t['value'])} | {t['limit']:.3g} | {yes(t['met'])} "
                     f"| {val(t.get('best_of_value'))} | {yes(t.get('met_best_of'))} "
                     f"| {t['note']} |")
    return "\n".join(lines) + "\n"


def write_markdown(res, path):
    write_atomic(path, markdown(res))


def write_chart(res, path):
    """Bar chart of each contender's time relative to the floor; None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    wl = list(res["workloads"])
    names = []
    for w in wl:
        for c in res["workloads"][w]["contenders"]:
            if c not in names:
                names.append(c)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(names), 1)
    for k, c in enumerate(names):
        vals = [res["workloads"][w]["contenders"].get(c, {}).get("ratio_to_floor") or 0
                for w in wl]
        ax.bar([i + k * width for i in range(len(wl))], vals, width, label=c)
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(wl))])
    ax.set_xticklabels(wl)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_ylabel("time / hand-written floor")
    ax.set_title(f"minigrad benchmarks ({res['meta']['device']}): lower is faster")
    ax.legend()
    fig.tight_layout()
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
