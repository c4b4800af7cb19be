"""How the suite measures: wall time, peak memory, and what machine the numbers came from.

Memory methods (documented in the README and recorded per number in the JSON):
- ``tracemalloc``: peak bytes traced by Python's tracemalloc while the contender builds its model
  and optimizer and trains (the data arrays exist before and are not counted). NumPy reports its
  array buffers to tracemalloc, so this sees every array NumPy and minigrad allocate. Torch's
  allocator is invisible to it.
- ``rss``: the process's resident-set high-water mark (VmHWM, reset through
  /proc/self/clear_refs after gc and malloc_trim) minus the resident set just before. It sees
  torch's allocations too; it counts pages, so small numbers are coarse.
- GPU: CuPy's default pool after ``free_all_blocks`` before the run (the pool keeps every block
  it handed out, so what it holds afterwards is the peak it needed) and
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.
"""
import ctypes
import gc
import glob
import os
import platform
import sys
import time
import tracemalloc

import numpy as np


def timed(contender, n_steps, collect=True):
    """Seconds for ``n_steps`` training steps, with the device synchronised on both ends."""
    if collect:
        gc.collect()
    contender.sync()
    t0 = time.perf_counter()
    contender.train(n_steps)
    contender.sync()
    return time.perf_counter() - t0


def _jiffies():
    """(all CPUs' busy jiffies, this process's jiffies), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(v) - v[3] - v[4], int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def others_busy(interval=0.5):
    """CPUs kept busy by *other* processes over ``interval`` s (1.0 = one full core)."""
    a = _jiffies()
    if a is None:
        return None
    time.sleep(interval)
    b = _jiffies()
    hz = os.sysconf("SC_CLK_TCK")
    return max((b[0] - a[0]) - (b[1] - a[1]), 0) / hz / interval


def wait_quiet(max_wait, threshold=0.25):
    """Sleep until other processes use < ``threshold`` of a core, for at most ``max_wait`` s.

    On a shared machine a multi-threaded BLAS slows down many times over when another process
    takes a core, and that would land on whichever contender happened to be running. Returns
    (seconds waited, the last busy reading).
    """
    if max_wait <= 0:
        return 0.0, None
    t0 = time.perf_counter()
    busy = others_busy()
    while busy is not None and busy >= threshold and time.perf_counter() - t0 < max_wait:
        busy = others_busy()
    return time.perf_counter() - t0, busy


# -- memory -------------------------------------------------------------------------------------
def peak_traced(contender, n_steps):
    """tracemalloc peak over setup + ``n_steps`` steps, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        contender.setup()
        contender.train(n_steps)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _proc_status(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _malloc_trim():
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rss(contender, n_steps):
    """Resident-set growth (high-water mark minus start) over setup + steps; None if unknown."""
    gc.collect()
    _malloc_trim()
    if not _reset_hwm():
        return None
    base = _proc_status("VmRSS")
    contender.setup()
    contender.train(n_steps)
    peak = _proc_status("VmHWM")
    if base is None or peak is None:
        return None
    return max(peak - base, 0)


def peak_gpu(contender, n_steps):
    """Peak device bytes: torch's allocator statistics, or CuPy's pool (see module docstring)."""
    if contender.kind == "torch":
        torch = contender.torch
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        contender.setup()
        contender.train(n_steps)
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated())
    import cupy
    from minigrad import backend
    gc.collect()
    contender.setup()  # drop the previous run's arrays before emptying the pool
    gc.collect()
    cupy.get_default_memory_pool().free_all_blocks()
    contender.setup()
    contender.train(n_steps)
    contender.sync()
    return int(backend.memory_pool_bytes())


def memory_growth(contender, n_steps, every):
    """tracemalloc's current bytes every ``every`` steps over ``n_steps`` steps of training.

    The first ``every`` steps run traced but unsampled, so that whatever a run keeps for good
    (gradients, optimizer state, an iterator) exists before the first sample. After that a graph
    kept alive from step to step (a loss summed as a tensor, a hook that stores its argument)
    shows as steady growth; a flat series means each step frees what it built.
    """
    contender.setup()
    contender.train(every)
    gc.collect()
    tracemalloc.start()
    try:
        contender.train(every)
        gc.collect()
        samples = [tracemalloc.get_traced_memory()[0]]
        done = 0
        while done < n_steps:
            k = min(every, n_steps - done)
            contender.train(k)
            done += k
            gc.collect()  # count what is still reachable, not garbage awaiting a collection
            samples.append(tracemalloc.get_traced_memory()[0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"steps": n_steps, "every": every, "samples_bytes": samples,
            "growth_bytes": samples[-1] - samples[0],
            "max_minus_first_bytes": max(samples) - samples[0], "peak_bytes": peak}


# -- the machine ----------------------------------------------------------------------------------
def _openblas():
    """OpenBLAS's own report (core kernel, config, threads) from NumPy's bundled library."""
    libdir = os.path.join(os.path.dirname(np.__file__) + ".libs")
    for lib in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
        try:
            L = ctypes.CDLL(lib)
        except OSError:
            continue
        out = {"library": os.path.basename(lib)}
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                               ("openblas_", "64_"), ("openblas_", "")):
            try:
                core = getattr(L, f"{prefix}get_corename{suffix}")
                conf = getattr(L, f"{prefix}get_config{suffix}")
                nthr = getattr(L, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            core.restype = conf.restype = ctypes.c_char_p
            nthr.restype = ctypes.c_int
            out.update(corename=core().decode(), config=conf().decode(), num_threads=nthr())
            return out
    return None


def blas_info():
    info = {}
    try:
        import threadpoolctl
        info["threadpoolctl"] = threadpoolctl.threadpool_info()
    except ImportError:
        info["threadpoolctl"] = None
    try:
        cfg = np.show_config(mode="dicts")
        info["numpy_config"] = cfg.get("Build Dependencies", {}).get("blas")
    except (TypeError, ValueError):  # NumPy < 1.25 only prints
        info["numpy_config"] = None
    info["openblas"] = _openblas()
    return info


def blas_threads(info):
    tp = info.get("threadpoolctl")
    if tp:
        blas = [d for d in tp if d.get("user_api") == "blas"]
        if blas:
            return int(blas[0]["num_threads"])
    ob = info.get("openblas")
    if ob and ob.get("num_threads"):
        return int(ob["num_threads"])
    return os.cpu_count() or 1


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_state():
    """The commit the numbers belong to, and whether minigrad/ had uncommitted edits."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "minigrad"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head or None, "minigrad_dirty": bool(dirty)}


def machine_info(device):
    import minigrad
    info = {
        "device": device,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine shows here: numbers taken under load are noisy.
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "minigrad": getattr(minigrad, "__version__", "?"),
        "torch": None,
        "cupy": None,
        "env": {k: os.environ.get(k) for k in (
            "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS")},
        "blas": blas_info(),
        "git": _git_state(),
    }
    info["blas_threads"] = blas_threads(info["blas"])
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_config"] = torch.__config__.parallel_info().splitlines()[:6]
    except ImportError:
        pass
    if device == "cuda":
        import cupy
        info["cupy"] = cupy.__version__
        props = cupy.cuda.runtime.getDeviceProperties(0)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) \
            else props["name"]
    return info
