"""Full training checkpoints: round trip, validation before applying, rollback, bad files."""
import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.optim import lr_scheduler
from minigrad.serialization import SerializationError
from minigrad.train import (CheckpointMismatch, EarlyStopping, FitState, History, fit,
                            load_checkpoint, read_checkpoint, save_checkpoint)
from minigrad.train.factory import load_data, make_mlp
from minigrad.utils.data import DataLoader, TensorDataset


def _setup(seed, hidden=8, opt_cls=optim.Adam):
    minigrad.manual_seed(seed)
    X, y = load_data("moons", n=64)
    gen = minigrad.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(minigrad.tensor(X), minigrad.tensor(y)), batch_size=16,
                        shuffle=True, generator=gen)
    model = make_mlp(2, [hidden], 1, dropout=0.2)
    opt = opt_cls(model.parameters(), lr=0.01)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
    es = EarlyStopping(monitor="train_loss", patience=10, restore_best_weights=True)
    run = FitState(model, opt, sched, loader, None, [es], 5, History())
    return run


def _trained(tmp_path):
    run = _setup(0)
    run.history = fit(run.model, nn.BCELoss(), run.optimizer, run.train_loader, epochs=2,
                      scheduler=run.scheduler, callbacks=run.callbacks, verbose=False)
    run.epoch, run.global_step = 2, 8
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, run, extra={"note": "hi"})
    return run, path


def _weights(run):
    return {k: v.numpy().copy() for k, v in run.model.state_dict().items()}


def _canon(obj):
    if isinstance(obj, minigrad.Tensor):
        return ("tensor", str(obj.dtype), obj.numpy().tolist())
    if isinstance(obj, dict):
        return {k: _canon(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_canon(v) for v in obj]
    return obj


def _everything(run):
    return (_weights(run), _canon(run.optimizer.state_dict()),
            {k: v for k, v in run.scheduler.state_dict().items() if not callable(v)},
            run.callbacks[0].state_dict()["best"],
            minigrad.random.get_rng_state(), run.train_loader.generator.get_state(),
            run.epoch, len(run.history))


def _assert_same(a, b):
    wa, *ra = a
    wb, *rb = b
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])
    assert ra == rb


def test_round_trip_restores_everything(tmp_path):
    src, path = _trained(tmp_path)
    dst = _setup(123)
    extra = load_checkpoint(path, dst)
    assert extra == {"note": "hi"}
    _assert_same(_everything(src), _everything(dst))
    assert dst.history.to_dict() == src.history.to_dict()
    assert dst.global_step == 8


def test_mismatched_model_is_refused_with_names_and_nothing_applied(tmp_path):
    _, path = _trained(tmp_path)
    dst = _setup(5, hidden=9)
    before = _everything(dst)
    with pytest.raises(CheckpointMismatch) as info:
        load_checkpoint(path, dst)
    msg = str(info.value)
    assert "ck.safetensors" in msg and "0.weight" in msg and "(8, 2)" in msg and "(9, 2)" in msg
    _assert_same(before, _everything(dst))


def test_wrong_optimizer_and_missing_keys_are_named(tmp_path):
    _, path = _trained(tmp_path)
    dst = _setup(5, opt_cls=optim.SGD)
    with pytest.raises(CheckpointMismatch, match="Adam, not SGD"):
        load_checkpoint(path, dst)
    ckpt = read_checkpoint(path)
    del ckpt["model"]["3.bias"]
    ckpt["model"]["extra.w"] = minigrad.ones(1)
    with pytest.raises(CheckpointMismatch, match=r"missing keys \['3.bias'\].*extra\.w"):
        load_checkpoint(ckpt, _setup(5))


def test_dtype_mismatch_is_named(tmp_path):
    _, path = _trained(tmp_path)
    ckpt = read_checkpoint(path)
    ckpt["model"]["0.bias"] = ckpt["model"]["0.bias"].double()
    with pytest.raises(CheckpointMismatch, match="0.bias has dtype"):
        load_checkpoint(ckpt, _setup(5))


def test_failure_while_applying_rolls_back(tmp_path, monkeypatch):
    _, path = _trained(tmp_path)
    dst = _setup(5)
    before = _everything(dst)

    real = dst.scheduler.load_state_dict
    calls = []

    def boom(state):  # fails on the checkpoint's state, works on the rollback
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("scheduler exploded")
        real(state)
    monkeypatch.setattr(dst.scheduler, "load_state_dict", boom)
    with pytest.raises(CheckpointMismatch, match="scheduler exploded.*nothing was changed"):
        load_checkpoint(path, dst)
    _assert_same(before, _everything(dst))


def test_corrupted_checkpoint_names_the_file_and_changes_nothing(tmp_path):
    _, path = _trained(tmp_path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    dst = _setup(5)
    before = _everything(dst)
    with pytest.raises(SerializationError, match="ck.safetensors"):
        load_checkpoint(path, dst)
    _assert_same(before, _everything(dst))
    path.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(SerializationError, match="ck.safetensors.*truncated"):
        load_checkpoint(path, dst)


def test_plain_state_dict_is_not_a_training_checkpoint(tmp_path):
    run = _setup(0)
    minigrad.save(run.model.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(SerializationError, match="not a training checkpoint"):
        read_checkpoint(tmp_path / "w.safetensors")
    # ...but it loads into a model as a state dict.
    other = _setup(1)
    other.model.load_state_dict(minigrad.load(tmp_path / "w.safetensors"))
    _assert_same((_weights(run),), (_weights(other),))


def test_non_finite_weights_are_never_saved(tmp_path):
    run = _setup(0)
    next(iter(run.model.parameters()))._data[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN/Inf"):
        save_checkpoint(tmp_path / "ck", run)
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("field,value", [("callbacks", [1, 2]), ("optimizer", {"state": 3}),
                                         ("rng", None), ("history", {"epoch": 5}),
                                         ("epoch", "four"), ("model", [])])
def test_malformed_parts_are_refused_before_anything_changes(tmp_path, field, value):
    _, path = _trained(tmp_path)
    ckpt = read_checkpoint(path)
    ckpt[field] = value
    dst = _setup(5)
    before = _everything(dst)
    with pytest.raises(CheckpointMismatch):
        load_checkpoint(ckpt, dst)
    _assert_same(before, _everything(dst))
