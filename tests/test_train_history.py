"""History: JSON round trip, the seed-shaped Chart.js config, and PNG plots."""
import json
import math

import pytest

from minigrad.train import History
from minigrad.train.plotting import plot_histories

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _history(n=5, val=True):
    h = History()
    for e in range(1, n + 1):
        h.append(e, 1.0 / e, 1.2 / e if val else None, lr=0.1 * 0.5 ** e, time=0.01,
                 metrics={"accuracy": 0.5 + e / 20})
    return h


def assert_png(path, min_bytes=5000):
    """A real, non-trivial PNG: the signature, an IHDR of sane size, and enough drawn data."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 300 and height >= 200
    assert len(data) > min_bytes  # an empty canvas compresses to a few hundred bytes


def test_json_round_trip():
    h = _history()
    h.step_losses = [[1.0, 0.9]] * 5
    h.stop_reason = "early stopping at epoch 5"
    back = History.from_json(h.to_json())
    assert back.to_dict() == h.to_dict()


def test_json_keeps_non_finite_values():
    h = History()
    h.append(1, math.inf, None, lr=0.1, time=0.0)
    assert History.from_json(h.to_json()).train_loss == [math.inf]


def test_metric_appearing_late_is_padded():
    h = History()
    h.append(1, 1.0)
    h.append(2, 0.5, metrics={"val_accuracy": 0.9})
    assert h.metrics["val_accuracy"] == [None, 0.9]


@pytest.mark.parametrize("bad", ['{"epoch": [1]}', "not json",
                                 '{"epoch": [1, 2], "train_loss": [1], "val_loss": [1], '
                                 '"lr": [1], "time": [1]}'])
def test_invalid_json_is_a_value_error(bad):
    with pytest.raises(ValueError, match="History"):
        History.from_json(bad)


def test_chartjs_matches_the_seed_shape():
    cfg = _history(3).to_chartjs()
    assert cfg["type"] == "line"
    assert cfg["data"]["labels"] == [1, 2, 3]
    train = cfg["data"]["datasets"][0]
    assert train["label"] == "Training Loss"
    assert train["data"] == [1.0, 0.5, 0.3333]
    assert (train["borderColor"], train["backgroundColor"]) == ("#4CAF50",
                                                               "rgba(76, 175, 80, 0.2)")
    assert train["fill"] is True and train["tension"] == 0.4
    assert cfg["options"]["scales"]["x"]["title"] == {"display": True, "text": "Epoch"}
    assert cfg["options"]["scales"]["y"]["title"]["text"] == "Loss"
    assert cfg["options"]["scales"]["y"]["beginAtZero"] is True
    assert cfg["options"]["plugins"]["title"]["text"] == "Training Loss Over Epochs"
    assert cfg["data"]["datasets"][1]["label"] == "Validation Loss"
    json.dumps(cfg)
    assert len(_history(3, val=False).to_chartjs()["data"]["datasets"]) == 1


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    _history(20).plot(tmp_path / "loss.png")
    assert_png(tmp_path / "loss.png")
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_overlay_plot_of_several_histories(tmp_path):
    pytest.importorskip("matplotlib")
    plot_histories({"a": _history(10), "b": _history(10, val=False)}, tmp_path / "c.png")
    assert_png(tmp_path / "c.png")


def test_best_epoch():
    h = History()
    for e, v in enumerate([0.5, 0.3, 0.4, 0.3], 1):
        h.append(e, 1.0, v, metrics={"val_accuracy": 1 - v})
    assert h.best_epoch("val_loss") == 2
    assert h.best_epoch("val_accuracy", "max") == 2
