"""The backend: device parsing, array modules, host copies, scatter-add, CuPy-free import."""
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad import backend


@pytest.mark.parametrize("spec, expected", [
    ("cpu", "cpu"), ("CPU", "cpu"), (" cpu ", "cpu"), ("cuda", "cuda:0"), ("cuda:0", "cuda:0"),
    ("cuda:3", "cuda:3"), (1, "cuda:1"), (None, "cpu"),
])
def test_device_parsing(spec, expected):
    d = minigrad.device(spec)
    assert str(d) == expected
    assert minigrad.device(d) is d
    assert d == expected and hash(d) == hash(minigrad.device(expected))


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "cuda:-1", "tpu", "", "cpu:0x"])
def test_unknown_device_strings_raise_value_error(spec):
    with pytest.raises(ValueError, match="Unknown device"):
        minigrad.device(spec)


def test_device_type_errors_and_repr():
    with pytest.raises(TypeError):
        minigrad.device(1.5)
    assert repr(minigrad.device("cpu")) == "device(type='cpu')"
    assert repr(minigrad.device("cuda:1")) == "device(type='cuda', index=1)"
    assert minigrad.device("cpu") != "banana"
    assert minigrad.device("cuda") == minigrad.device("cuda:0")


def test_cuda_queries_without_a_gpu():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    assert minigrad.cuda.device_count() == 0
    minigrad.cuda.synchronize()  # a no-op, not an error
    assert backend.memory_pool_bytes() == 0
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        backend.xp_for("cuda")


def test_import_needs_no_cupy():
    code = ("import sys; sys.modules['cupy'] = None; import minigrad; "
            "x = minigrad.ones(2, requires_grad=True); (x * 2).sum().backward(); "
            "assert not minigrad.cuda.is_available(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_array_module_and_host_copies():
    a = np.ones(3)
    assert backend.get_array_module(a) is np
    assert backend.xp_for("cpu") is np
    assert backend.to_host(a) is a
    assert backend.to_device(a, "cpu") is a
    assert isinstance(backend.to_host(np.float32(1.0)), np.ndarray)
    assert backend.is_array(a) and not backend.is_array([1.0])
    assert backend.device_of(a) == "cpu"
    assert backend.device_of(np.float32(2.0)) == "cpu"  # NumPy scalars live on the host
    assert backend.same_device(a, np.zeros(2))


def test_index_add_counts_repeated_indices(device):
    xp = backend.xp_for(device)
    target = xp.zeros(4)
    backend.index_add(target, xp.asarray([0, 2, 0, 0]), xp.asarray([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(backend.to_host(target), [8.0, 0.0, 2.0, 0.0])


def test_on_device_and_synchronize_on_cpu():
    with backend.on_device("cpu") as ctx:
        t = minigrad.ones(2)
    assert ctx is None and t.device == "cpu"
    assert backend.synchronize() is None


def test_tensor_on_device_keeps_array_module(device):
    t = minigrad.ones(2, device=device)
    assert t._xp() is backend.xp_for(device)
    assert (t * 2).device == minigrad.device(device)
