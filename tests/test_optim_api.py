"""The Optimizer shell: validation (the spec's error table), param groups, zero_grad, closures,
step hooks and counting, and state_dict save/load with bit-identical resume."""
import copy

import numpy as np
import pytest

import minigrad
from minigrad import optim

ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad]


def _param(shape=(3,), seed=0):
    rng = np.random.default_rng(seed)
    return minigrad.tensor(rng.normal(size=shape), requires_grad=True)


# ----- the error table ---------------------------------------------------------------------------
BAD_HYPERPARAMETERS = [
    (optim.SGD, dict(lr=-0.1), "-0.1"),
    (optim.SGD, dict(lr=float("nan")), "nan"),
    (optim.SGD, dict(momentum=-0.5), "-0.5"),
    (optim.SGD, dict(weight_decay=-1e-4), "-0.0001"),
    (optim.SGD, dict(dampening=-0.1), "-0.1"),
    (optim.SGD, dict(nesterov=True), "momentum=0"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1"),
    (optim.Adam, dict(lr=-1e-3), "-0.001"),
    (optim.Adam, dict(eps=-1e-8), "-1e-08"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "index 0: 1.0"),
    (optim.Adam, dict(betas=(0.9, 1.5)), "index 1: 1.5"),
    (optim.Adam, dict(betas=(-0.1, 0.999)), "index 0: -0.1"),
    (optim.Adam, dict(betas=(0.9,)), "2 values"),
    (optim.Adam, dict(weight_decay=-0.1), "-0.1"),
    (optim.AdamW, dict(lr=-1.0), "-1.0"),
    (optim.AdamW, dict(eps=-1.0), "-1.0"),
    (optim.AdamW, dict(betas=(0.9, 1.0)), "index 1: 1.0"),
    (optim.AdamW, dict(weight_decay=-0.01), "-0.01"),
    (optim.RMSprop, dict(lr=-0.01), "-0.01"),
    (optim.RMSprop, dict(alpha=1.0), "1.0"),
    (optim.RMSprop, dict(alpha=-0.1), "-0.1"),
    (optim.RMSprop, dict(eps=-1e-8), "-1e-08"),
    (optim.RMSprop, dict(momentum=-0.9), "-0.9"),
    (optim.RMSprop, dict(weight_decay=-0.9), "-0.9"),
    (optim.Adagrad, dict(lr=-0.01), "-0.01"),
    (optim.Adagrad, dict(lr_decay=-0.1), "-0.1"),
    (optim.Adagrad, dict(weight_decay=-0.1), "-0.1"),
    (optim.Adagrad, dict(initial_accumulator_value=-0.5), "-0.5"),
    (optim.Adagrad, dict(eps=-1e-10), "-1e-10"),
]


@pytest.mark.parametrize("cls, kw, shown", BAD_HYPERPARAMETERS,
                         ids=[f"{c.__name__}-{k}" for c, k, _ in BAD_HYPERPARAMETERS])
def test_invalid_hyperparameter_is_value_error_with_the_value(cls, kw, shown):
    with pytest.raises(ValueError) as info:
        cls([_param()], **kw)
    assert shown in str(info.value)


@pytest.mark.parametrize("cls", ALL)
def test_non_numeric_lr_is_type_error(cls):
    with pytest.raises(TypeError, match="'fast'"):
        cls([_param()], lr="fast")


@pytest.mark.parametrize("cls", ALL)
def test_bad_hyperparameter_in_a_group_is_rejected(cls):
    with pytest.raises(ValueError, match="-1"):
        cls([{"params": [_param()]}, {"params": [_param(seed=1)], "lr": -1}])


def test_bad_parameter_lists():
    p, q = _param(), _param(seed=1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD(iter([]), lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([{"params": []}], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [q, p]}], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD([{"params": p}], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD({p, q}, lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(ValueError, match="'params'"):
        optim.SGD([{"lr": 0.1}])


def test_add_param_group_checks_duplicates_and_fills_defaults():
    p, q = _param(), _param(seed=1)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [p]})
    opt.add_param_group({"params": [q], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.defaults["lr"] == 0.1
    assert set(opt.param_groups[0]) == {"params", "lr", "momentum", "dampening",
                                        "weight_decay", "nesterov", "maximize"}


# ----- stepping ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_params_without_grad_are_skipped(cls):
    p, q = _param(), _param(seed=1)
    before = q.detach().numpy().copy()
    opt = cls([p, q], lr=0.1)
    p.grad = minigrad.ones(3, dtype=minigrad.float64)
    opt.step()
    np.testing.assert_array_equal(q.detach().numpy(), before)
    assert "step" not in opt.state[q] or opt.state[q]["step"] == 0


def test_zero_grad():
    p = _param()
    opt = optim.SGD([p], lr=0.1)
    p.grad = minigrad.ones(3, dtype=minigrad.float64)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(g.numpy() == 0)
    opt.zero_grad()
    assert p.grad is None


def test_closure_loss_is_returned_and_its_grad_used():
    p = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = (p * 0.5).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 0.5
    assert p.item() == pytest.approx(0.995, abs=1e-15)


def test_step_count_and_hooks():
    p = _param()
    opt = optim.Adam([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o._step_count)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o._step_count)))
    assert opt._step_count == 0
    opt.step()  # no grads: still a step call
    p.grad = minigrad.ones(3, dtype=minigrad.float64)
    opt.step()
    assert calls == [("pre", 0), ("post", 1), ("pre", 1), ("post", 2)]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(calls) == 4 and opt._step_count == 3


def test_subclass_calling_super_step_runs_hooks_once():
    class Clipped(optim.SGD):
        def step(self, closure=None):
            for g in self.param_groups:
                for p in g["params"]:
                    p.grad._data.clip(-1, 1, out=p.grad._data)
            return super().step(closure)

    p = _param()
    opt = Clipped([p], lr=0.1)
    seen = []
    opt.register_step_post_hook(lambda o, a, k: seen.append(1))
    p.grad = minigrad.tensor([5.0, -5.0, 0.5], dtype=minigrad.float64)
    before = p.detach().numpy().copy()
    opt.step()
    assert seen == [1] and opt._step_count == 1
    np.testing.assert_allclose(before - p.detach().numpy(), [0.1, -0.1, 0.05])


def test_pre_hook_may_replace_args():
    p = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.01)
    p.grad = minigrad.tensor([0.5], dtype=minigrad.float64)
    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": lambda: "replaced"}))
    assert opt.step() == "replaced"


def test_lr_scheduler_is_reachable_lazily():
    import importlib.util
    if importlib.util.find_spec("minigrad.optim.lr_scheduler") is None:
        pytest.skip("minigrad.optim.lr_scheduler is not written yet")
    assert hasattr(optim.lr_scheduler, "StepLR")
    with pytest.raises(AttributeError):
        optim.no_such_thing


# ----- state_dict ----------------------------------------------------------------------------
RESUME_CASES = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def _train(opt, params, grads):
    traj = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = minigrad.tensor(g.astype(p._data.dtype))
        opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    return traj


def _make(cls, kw, params):
    return cls([{"params": params[:1]}, {"params": params[1:], "lr": kw["lr"] / 2}], **kw)


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
@pytest.mark.parametrize("via", ["tensors", "numpy", "deepcopy"])
@pytest.mark.parametrize("cls, kw", RESUME_CASES, ids=[c.__name__ for c, _ in RESUME_CASES])
def test_state_dict_resume_is_bit_identical(cls, kw, via, dtype):
    rng = np.random.default_rng(0)
    init = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=(3, 2)), rng.normal(size=4)] for _ in range(12)]
    k = 5

    params = [minigrad.tensor(a, dtype=dtype, requires_grad=True) for a in init]
    opt = _make(cls, kw, params)
    _train(opt, params, grads[:k])
    saved = opt.state_dict()
    saved_params = [p.detach().numpy().copy() for p in params]
    uninterrupted = _train(opt, params, grads[k:])

    if via == "numpy":
        saved = {"param_groups": saved["param_groups"],
                 "state": {i: {n: (v.numpy() if isinstance(v, minigrad.Tensor) else v)
                               for n, v in s.items()} for i, s in saved["state"].items()}}
    elif via == "deepcopy":
        saved = copy.deepcopy(saved)
    fresh = [minigrad.tensor(a, requires_grad=True) for a in saved_params]
    opt2 = _make(cls, dict(kw, lr=123.0), fresh)  # lr comes back from the state_dict
    opt2.load_state_dict(saved)
    resumed = _train(opt2, fresh, grads[k:])
    for a, b in zip(uninterrupted, resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert opt2.param_groups[0]["lr"] == kw["lr"]


def test_state_dict_is_a_snapshot_and_load_copies():
    p = _param()
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.ones(3, dtype=minigrad.float64)
    opt.step()
    sd = opt.state_dict()
    m_saved = sd["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), m_saved)

    q = _param()
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[q]["exp_avg"]._data is not sd["state"][0]["exp_avg"]._data
    sd["state"][0]["exp_avg"]._data[...] = 99.0
    np.testing.assert_array_equal(opt2.state[q]["exp_avg"].numpy(), m_saved)
    assert isinstance(opt2.state[q]["step"], float) and opt2.state[q]["step"] == 1.0


def test_load_state_dict_validates_before_changing_anything():
    p, q = _param((3,)), _param((2, 2), seed=1)
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad = minigrad.ones(3, dtype=minigrad.float64)
    q.grad = minigrad.ones((2, 2), dtype=minigrad.float64)
    opt.step()
    good = opt.state_dict()

    other = optim.SGD([_param((3,))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="group 0 with 2 parameters"):
        other.load_state_dict(good)
    two_groups = optim.SGD([{"params": [_param((3,))]}, {"params": [_param((2, 2))]}], lr=0.1)
    with pytest.raises(ValueError, match="2 parameter groups, but the optimizer has 1|1 "
                                         "parameter groups, but the optimizer has 2"):
        two_groups.load_state_dict(good)
    swapped = optim.SGD([_param((2, 2)), _param((3,))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2, 2\)"):
        swapped.load_state_dict(good)
    assert not swapped.state  # nothing half-loaded
    bad = copy.deepcopy(good)
    bad["state"][7] = {"momentum_buffer": np.zeros(3)}
    with pytest.raises(ValueError, match="7"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="'state'"):
        opt.load_state_dict({"param_groups": []})
    bad = copy.deepcopy(good)
    bad["state"][0]["step"] = "three"
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)


def test_loaded_state_follows_param_dtype():
    p = minigrad.randn(3, requires_grad=True)  # float32
    opt = optim.Adam([p])
    sd = {"state": {0: {"step": np.array(2.0), "exp_avg": np.ones(3),
                        "exp_avg_sq": np.ones(3)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0], betas=[0.8, 0.9])]}
    opt.load_state_dict(sd)
    st = opt.state[p]
    assert st["step"] == 2.0 and st["exp_avg"]._data.dtype == np.float32
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt.param_groups[0]["params"] == [p]


def test_repr_lists_groups():
    text = repr(optim.SGD([_param()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "lr: 0.1" in text and "momentum: 0.9" in text


def test_state_on_device(device):
    p = minigrad.randn(4, 3, requires_grad=True).detach().to(device).requires_grad_()
    for cls in ALL:
        opt = cls([p], lr=0.01)
        p.grad = minigrad.randn(4, 3).to(device)
        opt.step()
        for v in opt.state[p].values():
            if isinstance(v, minigrad.Tensor):
                assert v.device == p.device
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        assert all(v.device == p.device for v in opt.state[p].values()
                   if isinstance(v, minigrad.Tensor))


@pytest.mark.parametrize("cls", ALL)
def test_numpy_scalar_hyperparameters(cls):
    # np.float32 / np.float64 values (from a scheduler or a config) work and keep the dtype
    p = minigrad.randn(5, requires_grad=True)
    opt = cls([p], lr=np.float32(0.01), weight_decay=np.float64(0.01))
    p.grad = minigrad.randn(5)
    opt.step()
    opt.param_groups[0]["lr"] = np.float64(0.02)
    opt.step()
    assert p._data.dtype == np.float32 and np.all(np.isfinite(p._data))


@pytest.mark.parametrize("cls, kw", RESUME_CASES, ids=[c.__name__ for c, _ in RESUME_CASES])
def test_device_trajectory_matches_cpu(device, cls, kw):
    rng = np.random.default_rng(0)
    init = rng.normal(size=(4, 3))
    grads = rng.normal(size=(6, 4, 3))
    results = []
    for dev in ("cpu", device):
        p = minigrad.tensor(init, requires_grad=True).detach().to(dev).requires_grad_()
        opt = cls([p], **kw)
        with optim.trace(opt) as tr:
            for g in grads:
                p.grad = minigrad.tensor(g).to(dev)
                opt.step()
        assert p.device == minigrad.device(dev)
        assert isinstance(tr.arrays(0)["update"], np.ndarray)
        results.append(p.detach().cpu().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", ALL)
def test_grad_of_the_wrong_shape_is_a_shape_error(cls):
    p = _param((3,))
    opt = cls([p], lr=0.1)
    p.grad = minigrad.ones(1, dtype=minigrad.float64)  # would broadcast silently
    before = p.detach().numpy().copy()
    with pytest.raises(minigrad.ShapeError, match=r"\(3,\).*\(1,\)"):
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), before)


def test_hyperparameters_are_checked_before_params():
    with pytest.raises(ValueError, match="learning rate: -1"):
        optim.SGD([], lr=-1)
