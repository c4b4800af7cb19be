"""EarlyStopping on constructed metric sequences, and the Checkpoint callback's files."""
import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.train import Callback, Checkpoint, EarlyStopping, fit
from minigrad.train.factory import load_data, make_mlp
from minigrad.utils.data import DataLoader, TensorDataset


def _feed(es, values):
    """Epoch at which es stops on ``values`` (1-based), or None."""
    for epoch, v in enumerate(values, 1):
        if es.update(v, epoch):
            return epoch
    return None


def test_patience_counts_epochs_without_improvement():
    es = EarlyStopping(patience=3)
    assert _feed(es, [1.0, 0.9, 0.95, 0.92, 0.91, 0.5]) == 5
    assert (es.best, es.best_epoch, es.stopped_epoch) == (0.9, 2, 5)


def test_improvement_resets_the_counter():
    es = EarlyStopping(patience=2)
    assert _feed(es, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.85]) == 7
    assert es.best_epoch == 5


def test_min_delta_requires_more_than_delta():
    # 0.75 is exactly min_delta below 1.0: not "more than min_delta" -> no improvement.
    es = EarlyStopping(patience=2, min_delta=0.25)
    assert _feed(es, [1.0, 0.75, 0.8]) == 3
    assert es.best == 1.0
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert _feed(es, [1.0, 0.89, 0.78, 0.7, 0.69]) == 5
    assert es.best == 0.78


def test_equal_value_is_not_an_improvement():
    es = EarlyStopping(patience=1)
    assert _feed(es, [0.5, 0.5]) == 2


def test_mode_max():
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=2, min_delta=0.01)
    assert _feed(es, [0.5, 0.6, 0.605, 0.7, 0.7, 0.69]) == 6
    assert (es.best, es.best_epoch) == (0.7, 4)


def test_nan_is_never_an_improvement():
    es = EarlyStopping(patience=2)
    assert _feed(es, [1.0, math.nan, math.nan]) == 3


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"mode": "up"}, {"min_delta": -1},
                                    {"patience": 1.5}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        EarlyStopping(**kwargs)


class _Scripted(Callback):
    """Overwrites the epoch's val_loss with a scripted sequence (runs before EarlyStopping)."""
    order = -1

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, run):
        run.history.val_loss[-1] = self.values[run.epoch - 1]


def _setup(n=64):
    X, y = load_data("moons", n=n)
    data = TensorDataset(minigrad.tensor(X), minigrad.tensor(y))
    model = make_mlp(2, [8], 1)
    return model, optim.SGD(model.parameters(), lr=0.5), DataLoader(data, batch_size=16,
                                                                      shuffle=True)


def test_fit_stops_and_restores_best_weights():
    model, opt, loader = _setup()
    snapshots = []

    class Snap(Callback):
        order = -2

        def on_epoch_end(self, run):
            snapshots.append({k: v.numpy().copy() for k, v in run.model.state_dict().items()})
    es = EarlyStopping(patience=2, restore_best_weights=True)
    hist = fit(model, nn.BCELoss(), opt, loader, epochs=20, val_loader=loader, verbose=False,
               callbacks=[es, _Scripted([0.9, 0.5, 0.6, 0.7, 0.1, 0.1]), Snap()])
    assert len(hist) == 4 and es.stopped_epoch == 4 and es.best_epoch == 2
    assert "early stopping at epoch 4" in hist.stop_reason
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snapshots[1][k])


def test_fit_falls_back_to_train_loss_without_val_loader():
    model, opt, loader = _setup()
    es = EarlyStopping(patience=1)
    with pytest.warns(RuntimeWarning, match="train_loss"):
        fit(model, nn.BCELoss(), opt, loader, epochs=3, callbacks=[es], verbose=False)
    assert es.best_epoch >= 1


def test_state_dict_round_trip():
    es = EarlyStopping(patience=3, restore_best_weights=True)
    es.update(1.0, 1, weights=lambda: {"w": minigrad.ones(2)})
    es.update(1.2, 2)
    clone = EarlyStopping(patience=3, restore_best_weights=True)
    clone.load_state_dict(minigrad.serialization.loads(minigrad.serialization.dumps(
        es.state_dict())))
    assert (clone.best, clone.best_epoch, clone.wait) == (1.0, 1, 1)
    np.testing.assert_array_equal(clone.best_weights["w"].numpy(), np.ones(2, np.float32))
    assert _feed(clone, [1.1, 1.1]) == 2


def test_checkpoint_writes_last_every_n_and_best_on_improvement(tmp_path):
    model, opt, loader = _setup()
    ck = Checkpoint(tmp_path / "ck", every_n_epochs=2)
    written = []
    from minigrad.train import checkpoint as ckmod
    orig = ckmod.save_checkpoint

    def spy(path, run, extra=None):
        written.append((run.epoch, str(path).rsplit("/", 1)[-1]))
        return orig(path, run, extra)
    ckmod.save_checkpoint = spy
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fit(model, nn.BCELoss(), opt, loader, epochs=5, val_loader=loader, verbose=False,
                callbacks=[ck, _Scripted([0.9, 0.5, 0.6, 0.4, 0.45])])
    finally:
        ckmod.save_checkpoint = orig
    last = [e for e, n in written if n == "last.safetensors"]
    best = [e for e, n in written if n == "best.safetensors"]
    assert last == [2, 4, 5] and best == [1, 2, 4]
    saved = minigrad.load(tmp_path / "ck" / "best.safetensors")
    assert saved["epoch"] == 4 and saved["callbacks"][1]["state"]["best"] == 0.4
