"""The benchmark suite as an instrument: it runs, its report is well formed, its floor computes
the same numbers as minigrad and torch, and its memory check can tell a leak from none.

Speed is never asserted here: the targets are checked by the benchmark itself.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import measure  # noqa: E402
import report  # noqa: E402
from contenders_minigrad import MinigradContender  # noqa: E402
from contenders_numpy import NumpyFloor  # noqa: E402
from workloads import WORKLOADS, init_params, make_data  # noqa: E402

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

# Runs benchmarks/run.py with `import torch` failing, as on a machine without torch.
NO_TORCH = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")


def _run(args, block_torch=False, timeout=120):
    cmd = [sys.executable]
    cmd += ["-c", NO_TORCH] if block_torch else []
    cmd += [os.path.join(BENCH, "run.py")] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _finite_positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check_report(out_dir, with_torch):
    with open(os.path.join(out_dir, "results.json")) as f:
        res = json.load(f)
    meta = res["meta"]
    assert meta["device"] == "cpu" and meta["quick"] is True
    assert meta["numpy"] == np.__version__
    assert meta["blas_threads"] >= 1
    assert "OPENBLAS_CORETYPE" in meta["env"] and "OPENBLAS_L2_SIZE" in meta["env"]
    assert (meta["torch"] is not None) == with_torch
    expected = {"numpy", "minigrad"} | ({"torch-dl", "torch-idx"} if with_torch else set())
    assert set(res["workloads"]) == set(WORKLOADS)
    for wname, w in res["workloads"].items():
        assert w["timed_steps"] == 1
        assert w["spec"]["steps"] == WORKLOADS[wname].steps
        assert set(w["contenders"]) == expected
        for cname, c in w["contenders"].items():
            assert len(c["times_s"]) == 2, (wname, cname)
            assert all(_finite_positive(t) for t in c["times_s"])
            assert c["min_s"] <= c["median_s"] <= c["max_s"]
            assert math.isclose(c["steps_per_s"], 1 / c["median_s"])
            floor = w["contenders"]["numpy"]["median_s"]
            assert math.isclose(c["ratio_to_floor"], c["median_s"] / floor)
            assert ("ratio_to_torch-dl" in c) == with_torch
            if cname in ("numpy", "minigrad"):
                assert _finite_positive(c["peak_traced_bytes"])
        assert w["contenders"]["numpy"]["ratio_to_floor"] == 1.0
    op = res["micro"]["per_op"]
    assert _finite_positive(op["minigrad"]["add_fwd_bwd"]["median_us"])
    assert ("ratio_fwd_bwd" in op) == with_torch
    cases = res["micro"]["optimizer_step"]["cases"]
    assert {"SGD", "Adam"} <= set(cases)
    for row in cases.values():
        assert _finite_positive(row["minigrad"]["median_us"])
        assert ("torch" in row) == with_torch
    flat = res["memory_flat"]
    assert len(flat["samples_bytes"]) == flat["steps"] // flat["every"] + 1
    targets = {t["target"]: t for t in res["targets"]}
    assert len(targets) == 8
    for t in targets.values():
        assert t["met"] in (True, False, None)
        assert (t["met"] is None) == (t["value"] is None)
    assert (targets["seed: minigrad / torch-dl (>= 3x faster)"]["met"] is None) != with_torch

    with open(os.path.join(out_dir, "results.md")) as f:
        md = f.read()
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln.count("|") == 11]
    body = [ln for ln in rows if not ln.startswith("| workload")]
    assert len(body) == len(WORKLOADS) * len(expected)
    for wname in WORKLOADS:
        for cname in expected:
            assert any(ln.startswith(f"| {wname} | {cname} |") for ln in body), (wname, cname)
    assert "## Targets" in md and "## Per-op overhead" in md
    try:
        import matplotlib  # noqa: F401
        with open(os.path.join(out_dir, "results.png"), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    except ImportError:
        assert not os.path.exists(os.path.join(out_dir, "results.png"))
    assert not [n for n in os.listdir(out_dir) if n.startswith(".tmp-")]


def test_quick_run_writes_a_well_formed_report(tmp_path):
    r = _run(["--quick", "--repeats", "2", "--out", str(tmp_path)])
    assert r.returncode == 0, r.stderr[-3000:]
    _check_report(str(tmp_path), HAVE_TORCH)


def test_quick_run_without_torch(tmp_path):
    r = _run(["--quick", "--repeats", "2", "--out", str(tmp_path)], block_torch=True)
    assert r.returncode == 0, r.stderr[-3000:]
    _check_report(str(tmp_path), with_torch=False)


def test_bad_arguments_are_one_line_errors(tmp_path):
    r = _run(["--only", "nope", "--out", str(tmp_path)])
    assert r.returncode == 2 and "nope" in r.stderr
    r = _run(["--repeats", "0", "--out", str(tmp_path)])
    assert r.returncode == 2 and "--repeats" in r.stderr
    assert not os.listdir(tmp_path)
    f = tmp_path / "a-file"
    f.write_text("x")
    r = _run(["--quick", "--out", str(f)])
    assert r.returncode == 2 and "a-file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(mg.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_unavailable_is_a_clear_error(tmp_path):
    r = _run(["--device", "cuda", "--quick", "--out", str(tmp_path)])
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "CUDA is not available" in lines[0]


@pytest.mark.parametrize("wname", sorted(WORKLOADS))
def test_floor_computes_what_minigrad_computes(wname):
    """Same weights, same batches: the hand-written floor and minigrad agree step by step."""
    w = WORKLOADS[wname]
    data, init = make_data(w), init_params(w)
    floor = NumpyFloor(w, data, init)
    mgc = MinigradContender(w, data, init)
    rng = np.random.RandomState(3)
    for _ in range(3):
        idx = rng.permutation(w.n)[:w.batch_size]
        x, y = data[0][idx], data[1][idx]
        assert math.isclose(floor.step_batch(x, y), mgc.step_batch(x, y), rel_tol=1e-5)
    for a, b in zip(floor.host_params(), mgc.host_params()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # and the parameters did move: a floor that skipped the update would fail here
    assert any(not np.array_equal(a, b) for a, b in zip(init, floor.host_params()))


@pytest.mark.parametrize("wname", ["seed", "seed-adam", "deep"])
def test_floor_computes_what_torch_computes(wname):
    pytest.importorskip("torch")
    from contenders_torch import TorchContender
    w = WORKLOADS[wname]
    data, init = make_data(w), init_params(w)
    floor = NumpyFloor(w, data, init)
    tc = TorchContender(w, data, init, loader="index")
    rng = np.random.RandomState(4)
    for _ in range(3):
        idx = rng.permutation(w.n)[:w.batch_size]
        x, y = data[0][idx], data[1][idx]
        assert math.isclose(floor.step_batch(x, y), tc.step_batch(x, y), rel_tol=1e-5)
    for a, b in zip(floor.host_params(), tc.host_params()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


class _Leaky(MinigradContender):
    """Keeps every loss tensor, and with it every step's graph: what the flat check must see."""

    def setup(self):
        super().setup()
        self.kept = []

    def _step(self, xb, yb):
        loss = self.loss_fn(self.model(xb), yb)
        self.kept.append(loss)  # no backward: the graph and its saved arrays stay alive
        return 0.0


def test_memory_check_tells_a_leak_from_none():
    w = WORKLOADS["seed"]
    data, init = make_data(w), init_params(w)
    clean = measure.memory_growth(MinigradContender(w, data, init), 200, 50)
    leaky = measure.memory_growth(_Leaky(w, data, init), 200, 50)
    assert leaky["growth_bytes"] > 200 * 1000  # several saved arrays per step
    assert clean["growth_bytes"] < report.FLAT_LIMIT_BYTES
    assert len(clean["samples_bytes"]) == 5


def test_targets_compare_the_right_numbers():
    def wl(**medians):
        return {"contenders": {k.replace("_", "-"): {"median_s": v} for k, v in medians.items()}}
    res = {"meta": {"device": "cpu"},
           "workloads": {"seed": wl(numpy=1.0, minigrad=2.0, torch_dl=7.0, torch_idx=5.0),
                         "wide": wl(numpy=1.0, minigrad=1.2, torch_dl=1.3, torch_idx=1.1),
                         "deep": wl(numpy=2.0, minigrad=2.9)},
           "micro": {"per_op": {"ratio_fwd_bwd": 0.5}}}
    res["workloads"]["wide"]["contenders"]["minigrad"]["peak_traced_bytes"] = 140
    res["workloads"]["wide"]["contenders"]["numpy"]["peak_traced_bytes"] = 100
    t = {x["target"].split(" over ")[0]: x for x in report.targets(res)}
    assert t["seed: minigrad / floor"]["value"] == 2.0 and t["seed: minigrad / floor"]["met"]
    assert t["seed: minigrad / torch-dl (>= 3x faster)"]["met"]       # 2/7 <= 1/3
    assert not t["wide: minigrad / floor"]["met"]                      # 1.2 > 1.1
    assert t["wide: minigrad / fastest torch"]["value"] == pytest.approx(1.2 / 1.1)
    assert t["deep: minigrad / floor"]["met"]                          # 1.45
    assert t["per-op overhead: minigrad / torch"]["met"]
    assert t["wide: peak memory minigrad / floor"]["value"] == pytest.approx(1.4)
    assert not t["wide: peak memory minigrad / floor"]["met"]
    assert t["seed: memory growth"]["met"] is None
