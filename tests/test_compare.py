"""compare: identical initial weights and batches per config, the table, the overlay plot."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.train import compare
from minigrad.train.factory import load_data, make_mlp


def _data(n=96):
    return load_data("moons", n=n)


def test_every_config_starts_from_the_same_weights():
    calls = []

    def make_model():  # a different random init on every call
        calls.append(1)
        return make_mlp(2, [8], 1)
    frozen = {name: {"optimizer": opt, "lr": 0.0} for name, opt in
              (("a", "sgd"), ("b", "rmsprop"), ("c", "adagrad"))}
    result = compare(make_model, _data(), frozen, epochs=1)
    assert len(calls) == 4  # one draw for the initial weights, one model per config
    first = {k: v.numpy() for k, v in result.models["a"].state_dict().items()}
    for name in ("b", "c"):
        for k, v in result.models[name].state_dict().items():
            np.testing.assert_array_equal(v.numpy(), first[k])
    # lr=0 everywhere: identical weights and batches -> identical losses.
    assert result["a"].train_loss == result["b"].train_loss == result["c"].train_loss


def test_same_config_twice_gives_identical_histories_with_dropout():
    def make_model():
        return make_mlp(2, [8], 1, dropout=0.3)
    cfg = {"optimizer": "adam", "lr": 0.01, "batch_size": 16}
    result = compare(make_model, _data(), [dict(cfg, name="x"), dict(cfg, name="y")],
                     epochs=3, val_data=_data(32))
    hx, hy = result["x"].to_dict(), result["y"].to_dict()
    hx.pop("time"), hy.pop("time")
    assert hx == hy
    assert result["x"].val_loss[-1] is not None


def test_linear_scaling_rule_and_callable_optimizer():
    result = compare(lambda: make_mlp(2, [4], 1), _data(),
                     {"small": {"optimizer": "sgd", "lr": 0.01, "batch_size": 16},
                      "big": {"optimizer": "sgd", "lr": 0.01, "batch_size": 64,
                              "scale_lr": True, "base_batch_size": 16},
                      "own": {"optimizer": lambda p: optim.SGD(p, lr=0.2), "batch_size": 32,
                              "scheduler": "step", "scheduler_kwargs": {"step_size": 1}}},
                     epochs=2)
    assert result["big"].lr[0] == pytest.approx(0.04)
    assert result.configs["own"]["lr"] == 0.2 and result["own"].lr == pytest.approx([0.2, 0.02])


def test_table_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from test_train_history import assert_png
    result = compare(lambda: make_mlp(2, [4], 1), _data(),
                     {"sgd": {"optimizer": "sgd", "lr": 0.1},
                      "adam": {"optimizer": "adam", "lr": 0.01}}, epochs=3, val_data=_data(32))
    table = result.table().splitlines()
    assert table[0].split()[:3] == ["config", "optimizer", "lr"]
    assert table[2].startswith("sgd") and table[3].startswith("adam")
    assert f"{result['adam'].train_loss[-1]:.4f}" in table[3]
    result.plot(tmp_path / "c.png")
    assert_png(tmp_path / "c.png")


@pytest.mark.parametrize("configs,match", [({}, "no configs"),
                                           ([{"optimizer": "sgd", "momentun": 0.9}], "unknown"),
                                           ([{"name": "a"}, {"name": "a"}], "two configs"),
                                           ([{"optimizer": "lion"}], "unknown optimizer")])
def test_bad_configs(configs, match):
    with pytest.raises(ValueError, match=match):
        compare(lambda: make_mlp(2, [4], 1), _data(), configs, epochs=1)


def test_global_rng_draws_do_not_leak_between_configs():
    minigrad.manual_seed(0)
    r1 = compare(lambda: make_mlp(2, [4], 1, dropout=0.5), _data(),
                 [{"name": "a", "optimizer": "sgd", "lr": 0.1}], epochs=2, seed=5)
    minigrad.randn(10)  # the caller's own draws must not change a comparison
    r2 = compare(lambda: make_mlp(2, [4], 1, dropout=0.5), _data(),
                 [{"name": "a", "optimizer": "sgd", "lr": 0.1}], epochs=2, seed=5)
    assert r1["a"].train_loss == r2["a"].train_loss
