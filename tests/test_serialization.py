"""minigrad.save / minigrad.load: round trips, atomic writes, and hostile files."""
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad import serialization
from minigrad.serialization import SerializationError


def _same(a, b):
    """Deep equality that also checks types, dtypes and shapes of arrays."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _optimizer_like_state():
    return {
        "state": {0: {"step": minigrad.tensor(3.0), "exp_avg": minigrad.randn(2, 3)},
                  1: {"step": minigrad.tensor(3.0), "exp_avg": minigrad.zeros(3)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "foreach": None, "params": [0, 1]}],
    }


def test_round_trip_nested_state(tmp_path):
    obj = {
        "model": {"fc1.weight": minigrad.randn(4, 2), "fc1.bias": minigrad.zeros(4),
                  "count": minigrad.tensor([1, 2, 3]), "mask": minigrad.tensor([True, False])},
        "optimizer": _optimizer_like_state(),
        "numbers": [1, -2, 2**80, 0.1, float("inf"), float("-inf"), float("nan"), True, None],
        "array64": np.arange(6, dtype=np.float64).reshape(2, 3),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "scalar": minigrad.tensor(2.5),
        "looks_like_marker": {"__tensor__": "model/fc1.weight"},
        "mixed_keys": {1: "a", "1": "b", None: 3, 2.5: [], True: ()},
        "slash": {"a/b": minigrad.ones(1), "a": {"b": minigrad.zeros(1)}},
        "text": "héllo ✓",
    }
    path = tmp_path / "state.safetensors"
    minigrad.save(obj, path)
    _same(obj, minigrad.load(path))
    assert os.listdir(tmp_path) == ["state.safetensors"]  # no temp file left behind


def test_shared_tensor_is_stored_once_and_stays_shared(tmp_path):
    t = minigrad.randn(3)
    minigrad.save({"a": t, "b": [t]}, tmp_path / "x")
    out = minigrad.load(tmp_path / "x")
    assert out["a"] is out["b"][0]


def test_non_contiguous_and_transposed_arrays(tmp_path):
    a = np.arange(12.0).reshape(3, 4)[:, ::2]
    minigrad.save({"a": a, "t": minigrad.randn(3, 4).transpose(0, 1)}, tmp_path / "x")
    out = minigrad.load(tmp_path / "x")
    np.testing.assert_array_equal(out["a"], a)
    assert out["t"].shape == (4, 3)


def test_map_location_cpu(tmp_path):
    minigrad.save({"w": minigrad.ones(2)}, tmp_path / "x")
    out = minigrad.load(tmp_path / "x", map_location="cpu")
    assert out["w"].device == minigrad.device("cpu")


def test_file_objects(tmp_path):
    with open(tmp_path / "x", "wb") as f:
        minigrad.save({"w": minigrad.ones(2)}, f)
    with open(tmp_path / "x", "rb") as f:
        np.testing.assert_array_equal(minigrad.load(f)["w"].numpy(), np.ones(2, np.float32))


@pytest.mark.parametrize("bad", [object(), {"f": len}, {1j: 1}, [np.array(["a"])]])
def test_unsavable_objects_raise_before_writing(tmp_path, bad):
    with pytest.raises(SerializationError, match="cannot save"):
        minigrad.save(bad, tmp_path / "x")
    assert os.listdir(tmp_path) == []


@settings(max_examples=20)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4) | st.integers(), c,
                                                        max_size=3),
    max_leaves=10))
def test_round_trip_property(obj):
    _same(obj, serialization.loads(serialization.dumps(obj)))


@settings(max_examples=30)
@given(st.lists(hnp.arrays(st.sampled_from([np.float32, np.float64, np.float16, np.int64,
                                            np.int32, np.int8, np.uint8, np.bool_]),
                           hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
                max_size=4),
       st.booleans())
def test_arrays_and_tensors_of_every_dtype_round_trip_exactly(arrays, as_tensors):
    obj = [minigrad.tensor(a) if as_tensors and a.dtype != np.int8 else a for a in arrays]
    back = serialization.loads(serialization.dumps(obj))
    for a, b in zip(obj, back):
        assert type(a) is type(b)
        raw_a = a.numpy() if isinstance(a, minigrad.Tensor) else a
        raw_b = b.numpy() if isinstance(b, minigrad.Tensor) else b
        assert raw_a.dtype == raw_b.dtype and raw_a.shape == raw_b.shape
        assert raw_a.tobytes() == raw_b.tobytes()  # bit-exact, NaN payloads included


# ----- hostile files ------------------------------------------------------------------------

class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_raw_pickle_payload_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    with pytest.raises(SerializationError, match="pickle"):
        minigrad.load(path)
    assert not marker.exists()


def test_torch_save_file_is_refused_and_runs_nothing(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2), "x": _Payload(str(marker))}, path)
    assert not marker.exists()
    with pytest.raises(SerializationError, match=r"evil\.pt.*(zip|torch\.save)"):
        minigrad.load(path)
    assert not marker.exists()


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    minigrad.save({"w": minigrad.randn(64, 64), "step": 7, "opt": _optimizer_like_state()}, path)
    return path


def _header_len(data):
    return struct.unpack("<Q", data[:8])[0]


def test_truncated_files_are_rejected(good_file):
    data = good_file.read_bytes()
    for cut in (0, 4, 8, 20, _header_len(data) + 8, len(data) - 1, len(data) // 2):
        good_file.write_bytes(data[:cut])
        with pytest.raises(SerializationError, match=str(good_file.name)):
            minigrad.load(good_file)


def test_every_flipped_data_byte_region_is_detected(good_file):
    data = bytearray(good_file.read_bytes())
    start = 8 + _header_len(data)
    rng = np.random.default_rng(0)
    for pos in rng.integers(start, len(data), size=20):
        bad = bytearray(data)
        bad[pos] ^= 0x10
        good_file.write_bytes(bytes(bad))
        with pytest.raises(SerializationError, match="checksum|corrupt"):
            minigrad.load(good_file)


def test_flipped_header_bytes_are_detected(good_file):
    data = good_file.read_bytes()
    n = _header_len(data)
    rejected = 0
    for pos in range(8, 8 + n, 7):
        bad = bytearray(data)
        if bad[pos] == 0x20:  # safetensors pads its header with spaces: no meaning to change
            continue
        bad[pos] ^= 0x01
        good_file.write_bytes(bytes(bad))
        with pytest.raises(SerializationError, match=good_file.name):
            minigrad.load(good_file)
        rejected += 1
    assert rejected > 20


def test_flipped_length_prefix_and_appended_bytes(good_file):
    data = good_file.read_bytes()
    for pos in range(8):
        bad = bytearray(data)
        bad[pos] ^= 0x01
        good_file.write_bytes(bytes(bad))
        with pytest.raises(SerializationError, match=good_file.name):
            minigrad.load(good_file)
    good_file.write_bytes(data + b"junk")
    with pytest.raises(SerializationError, match=good_file.name):
        minigrad.load(good_file)


def test_wrong_magic_and_garbage(tmp_path):
    path = tmp_path / "x"
    for payload in (b"", b"\xff" * 100, b"{\"a\": 1}", b"\x93NUMPY\x01\x00", os.urandom(300)):
        path.write_bytes(payload)
        with pytest.raises(SerializationError, match="x"):
            minigrad.load(path)


def _forge(path, doc, arrays, version=serialization.FORMAT_VERSION, fix_sum=True):
    from safetensors.numpy import save as st_save
    text = json.dumps(doc)
    meta = {"format": "minigrad", "format_version": str(version), "minigrad": text,
            "sha256": serialization._checksum(text, arrays) if fix_sum else "0" * 64}
    path.write_bytes(st_save(arrays, metadata=meta))


def test_document_referencing_a_missing_tensor(tmp_path):
    _forge(tmp_path / "x", {"w": {"__tensor__": "nope"}}, {"w": np.zeros(2, np.float32)})
    with pytest.raises(SerializationError, match="nope"):
        minigrad.load(tmp_path / "x")


@pytest.mark.parametrize("doc", [{"__tuple__": 5}, {"__dict__": [[1]]}, {"__float__": "x"},
                                 {"__dict__": [[[1, 2], 3]]}, {"a": {"__tensor__": 7}}])
def test_forged_documents_with_valid_checksum_are_rejected(tmp_path, doc):
    _forge(tmp_path / "x", doc, {})
    with pytest.raises(SerializationError, match="corrupted"):
        minigrad.load(tmp_path / "x")


def test_deeply_nested_document_is_rejected(tmp_path):
    from safetensors.numpy import save as st_save
    text = "[" * 100_000 + "]" * 100_000
    meta = {"format": "minigrad", "format_version": "1", "minigrad": text,
            "sha256": serialization._checksum(text, {})}
    (tmp_path / "x").write_bytes(st_save({}, metadata=meta))
    with pytest.raises(SerializationError, match="x"):
        minigrad.load(tmp_path / "x")


def test_tampered_document_fails_checksum(tmp_path):
    _forge(tmp_path / "x", {"lr": 0.1}, {"w": np.zeros(2, np.float32)}, fix_sum=False)
    with pytest.raises(SerializationError, match="checksum"):
        minigrad.load(tmp_path / "x")


def test_newer_format_version_is_refused(tmp_path):
    _forge(tmp_path / "x", {"lr": 0.1}, {}, version=serialization.FORMAT_VERSION + 1)
    with pytest.raises(SerializationError, match="format version 2 is not supported"):
        minigrad.load(tmp_path / "x")


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "x"))
    with pytest.raises(SerializationError, match="not one minigrad wrote"):
        minigrad.load(tmp_path / "x")


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        minigrad.load(tmp_path / "nope")


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        minigrad.save({}, tmp_path / "no" / "x")


# ----- atomic writes ------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys, numpy as np, minigrad
    path = sys.argv[1]
    i = 0
    while True:
        i += 1
        minigrad.save({"version": i, "w": np.full(2_000_000, i, dtype=np.float32)}, path)
        print(i, flush=True)
""")


def _check_consistent(path):
    obj = minigrad.load(path)
    assert (obj["w"] == obj["version"]).all()
    return obj["version"]


def test_writer_killed_mid_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    seen_temp = False
    for delay in (0.05, 0.13, 0.29):
        proc = subprocess.Popen([sys.executable, str(script), str(path)],
                                stdout=subprocess.PIPE, text=True)
        try:
            proc.stdout.readline()  # at least one complete save exists
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        _check_consistent(path)
        seen_temp |= any(".tmp-" in n for n in os.listdir(tmp_path))
    # The next save into the directory removes the dead writers' temp files.
    minigrad.save({"version": 0, "w": np.zeros(1, np.float32)}, path)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors", "writer.py"], seen_temp
    assert _check_consistent(path) == 0


def test_stale_temp_of_live_process_is_kept(tmp_path):
    mine = tmp_path / f".x.tmp-{os.getpid()}-0123abcd"
    dead = tmp_path / ".x.tmp-999999999-0123abcd"
    unrelated = tmp_path / ".x.tmp-notes"
    for p in (mine, dead, unrelated):
        p.write_bytes(b"partial")
    minigrad.save({}, tmp_path / "x")
    assert mine.exists() and unrelated.exists() and not dead.exists()
    old = time.time() - 3600
    os.utime(mine, (old, old))
    minigrad.save({}, tmp_path / "x")
    assert not mine.exists()


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "x"
    minigrad.save({"v": 1}, path)

    def boom(*a):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        minigrad.save({"v": 2}, path)
    monkeypatch.undo()
    assert minigrad.load(path) == {"v": 1}
    assert os.listdir(tmp_path) == ["x"]


def test_a_saved_state_dict_is_a_plain_safetensors_file_torch_can_read(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    from minigrad.train.factory import make_mlp
    model = make_mlp(2, [10], 1)
    minigrad.save(model.state_dict(), tmp_path / "w.safetensors")
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 10), torch.nn.ReLU(),
                                 torch.nn.Linear(10, 1), torch.nn.Sigmoid())
    tmodel.load_state_dict(load_file(str(tmp_path / "w.safetensors")))
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(),
                               model(minigrad.tensor(x)).detach().numpy(), rtol=1e-6)


def test_header_lengths_that_look_like_magic_bytes_still_load():
    """The 8-byte length prefix can start with 0x80 (pickle), 'PK' (zip)...: a valid file must
    load whatever its header length (regression: a checkpoint was refused as a 'pickle')."""
    def data_for(pad):
        return serialization.dumps({"s": "x" * pad, "w": minigrad.ones(2)})
    n0 = _header_len(data_for(0))
    firsts = set()
    # Every low byte of the length, plus the length whose bytes spell 'PK'.
    for pad in list(range(256)) + [0x4B50 - n0 + k for k in range(-8, 9)]:
        data = data_for(pad)
        firsts.add(data[:2])
        assert serialization.loads(data)["s"] == "x" * pad
    assert b"PK" in firsts and any(f[:1] == b"\x80" for f in firsts)
