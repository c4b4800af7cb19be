"""Module/Parameter: registration, traversal order, state_dict, devices, repr, containers."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from helpers import SimpleNN
from minigrad.nn import Parameter


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.scale = Parameter(minigrad.ones(1))
        self.register_buffer("steps", minigrad.zeros(1))
        self.register_buffer("scratch", minigrad.zeros(2), persistent=False)
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_parameter_basics():
    p = Parameter(minigrad.zeros(2, 3))
    assert isinstance(p, minigrad.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not Parameter(np.ones(2, dtype=np.float32), requires_grad=False).requires_grad
    t = minigrad.ones(3)
    assert Parameter(t)._data is t._data  # shares storage, as torch's does


def test_registration_order_and_names():
    m = Nested()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "head.weight"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_children()] == ["body", "head"]
    assert [n for n, _ in m.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert len(list(m.parameters(recurse=False))) == 1
    assert m.head.bias is None and "bias" in m.head._parameters


def test_shared_parameters_appear_once():
    a = nn.Linear(3, 3)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2
    b = nn.Linear(3, 3)
    b.weight = a.weight
    m2 = nn.ModuleList([a, b])
    assert len(list(m2.parameters())) == 3


def test_seed_model_parameters_and_both_super_forms():
    m = SimpleNN()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]
    assert [tuple(p.shape) for p in m.parameters()] == [(10, 2), (10,), (1, 10), (1,)]
    assert m(minigrad.randn(5, 2)).shape == (5, 1)


def test_assign_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()

    class BadP(nn.Module):
        def __init__(self):
            self.w = Parameter(minigrad.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        BadP()


def test_setattr_replacement_and_delattr():
    m = nn.Module()
    m.w = Parameter(minigrad.ones(2))
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = minigrad.ones(2)
    m.w = None
    assert list(m.parameters()) == []
    m.sub = nn.Linear(1, 1)
    m.sub = nn.Identity()  # module replaced by module
    assert [n for n, _ in m.named_children()] == ["sub"]
    del m.sub
    assert not hasattr(m, "sub")
    m.plain = 3
    assert m.plain == 3 and "plain" not in m._parameters
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", minigrad.ones(1))
    with pytest.raises(TypeError):
        m.register_buffer("b", np.ones(1))
    with pytest.raises(TypeError):
        m.register_parameter("c", minigrad.ones(1))
    with pytest.raises(TypeError):
        m.add_module("d", 5)


def test_train_eval_recursive():
    m = Nested()
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train("yes")


def test_zero_grad_and_apply():
    m = SimpleNN()
    m(minigrad.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sigmoid", "SimpleNN"]


def test_state_dict_round_trip_shares_storage_and_loads_in_place():
    m = Nested()
    sd = m.state_dict()
    assert list(sd) == ["scale", "steps", "body.0.weight", "body.0.bias", "head.weight"]
    assert all(type(v) is minigrad.Tensor and not v.requires_grad for v in sd.values())
    assert sd["head.weight"]._data is m.head.weight._data
    other = Nested()
    params_before = list(other.parameters())
    arrays_before = [p._data for p in params_before]
    version = other.head.weight._version
    assert other.load_state_dict(sd) == ([], [])
    x = minigrad.randn(2, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), m(x).detach().numpy())
    # In place: same Parameter objects and arrays, so an optimizer holding them stays valid.
    assert list(other.parameters()) == params_before
    assert all(p._data is a for p, a in zip(other.parameters(), arrays_before))
    assert other.head.weight._version == version + 1


def test_load_state_dict_accepts_numpy_and_casts_dtype():
    m = SimpleNN()
    src = SimpleNN()
    sd = {k: v.numpy().astype(np.float64) for k, v in src.state_dict().items()}
    m.load_state_dict(sd)
    assert m.fc1.weight.dtype == minigrad.float32
    np.testing.assert_array_equal(m.fc1.weight.detach().numpy(), src.fc1.weight.detach().numpy())


def test_strict_loading_errors_name_the_keys_and_change_nothing():
    m = SimpleNN()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    good = {k: np.zeros(v.shape, np.float32) for k, v in before.items()}

    missing = dict(good)
    del missing["fc2.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc2.bias"'):
        m.load_state_dict(missing)

    extra = dict(good, **{"fc3.weight": np.zeros(1)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "fc3.weight"'):
        m.load_state_dict(extra)

    wrong = dict(good, **{"fc1.weight": np.zeros((10, 3), np.float32)})
    with pytest.raises(ValueError, match=r"size mismatch for fc1.weight.*\(10, 3\).*\(10, 2\)"):
        m.load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="size mismatch"):  # also a RuntimeError, as torch
        m.load_state_dict(wrong, strict=False)

    with pytest.raises(TypeError, match="fc1.bias"):
        m.load_state_dict(dict(good, **{"fc1.bias": ["a"] * 10}))

    for k, v in m.state_dict().items():  # nothing was partially applied
        np.testing.assert_array_equal(v.numpy(), before[k])

    partial = {k: v for k, v in extra.items() if k != "fc2.bias"}
    result = m.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["fc3.weight"]
    np.testing.assert_array_equal(m.fc1.weight.detach().numpy(), 0)


def test_non_persistent_buffer_not_saved():
    m = Nested()
    assert "scratch" not in m.state_dict()
    assert "steps" in m.state_dict()


def test_to_double_float_in_place_keeps_parameter_objects():
    m = SimpleNN()
    params = list(m.parameters())
    m(minigrad.randn(3, 2)).sum().backward()
    assert m.double() is m
    assert list(m.parameters()) == params
    assert all(p.dtype == minigrad.float64 and p.grad.dtype == minigrad.float64 for p in params)
    assert m(minigrad.randn(3, 2, dtype=minigrad.float64)).dtype == minigrad.float64
    m.float().to("cpu")
    assert all(p.dtype == minigrad.float32 for p in m.parameters())
    with pytest.raises(TypeError, match="floating point"):
        m.to(minigrad.int64)
    with pytest.raises(ValueError):
        m.to("tpu")


def test_to_device(device):
    m = SimpleNN()
    params = list(m.parameters())
    m.to(device)
    assert list(m.parameters()) == params
    assert all(p.device == minigrad.device(device) for p in params)
    out = m(minigrad.randn(4, 2, device=device))
    assert out.device == minigrad.device(device)
    sd = {k: v.cpu().numpy() for k, v in m.state_dict().items()}
    m.load_state_dict(sd)  # host values land on the parameters' device
    assert m.fc1.weight.device == minigrad.device(device)


def test_repr_matches_torch_layout():
    m = SimpleNN()
    assert repr(m) == ("SimpleNN(\n"
                       "  (fc1): Linear(in_features=2, out_features=10, bias=True)\n"
                       "  (relu): ReLU()\n"
                       "  (fc2): Linear(in_features=10, out_features=1, bias=True)\n"
                       "  (sigmoid): Sigmoid()\n"
                       ")")
    seq = nn.Sequential(nn.Sequential(nn.Linear(1, 2, bias=False)), nn.Dropout(0.2))
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Sequential(\n"
                         "    (0): Linear(in_features=1, out_features=2, bias=False)\n"
                         "  )\n"
                         "  (1): Dropout(p=0.2, inplace=False)\n"
                         ")")


def test_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(minigrad.ones(1, 2))
    assert calls == ["pre"] and np.all(out.detach().numpy() == 0)
    h1.remove()
    h2.remove()
    assert np.any(m(minigrad.ones(1, 2)).detach().numpy() != 0)


def test_deepcopy_and_pickle_are_independent():
    m = SimpleNN()
    c = copy.deepcopy(m)
    assert all(type(p) is Parameter for p in c.parameters())
    c.fc1.weight._data += 1
    assert not np.allclose(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    p = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(p.fc2.weight.detach().numpy(), m.fc2.weight.detach().numpy())
    assert p.fc2.weight.requires_grad


def test_sequential_indexing():
    a, b, c = nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    assert isinstance(s[1:], nn.Sequential) and list(s[1:]) == [b, c]
    with pytest.raises(IndexError):
        s[3]
    assert s[np.int64(1)] is b
    with pytest.raises(TypeError, match="str"):
        s["0"]
    named = nn.Sequential(OrderedDict(fc=a, act=b))
    assert [n for n, _ in named.named_children()] == ["fc", "act"]
    x = minigrad.randn(4, 1)
    np.testing.assert_allclose(s(x).detach().numpy(), c(b(a(x))).detach().numpy())
    s.append(nn.Sigmoid())
    assert len(s) == 4


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and isinstance(ml[-1], nn.ReLU)
    del ml[0]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md.keys()) == ["enc", "dec"] and "enc" in md
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                     "dec.bias"]


def test_identity_flatten():
    x = minigrad.randn(2, 3, 4)
    assert nn.Identity(5, k=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)


# ----- torch interop ---------------------------------------------------------------------------
def _torch_seed_model(torch):
    class TorchNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(2, 10)
            self.relu = torch.nn.ReLU()
            self.fc2 = torch.nn.Linear(10, 1)
            self.sigmoid = torch.nn.Sigmoid()

        def forward(self, x):
            return self.sigmoid(self.fc2(self.relu(self.fc1(x))))
    return TorchNN()


def test_torch_state_dict_loads_and_gives_same_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tm = _torch_seed_model(torch)
    m = SimpleNN()
    sd = {k: v.numpy() for k, v in tm.state_dict().items()}
    assert list(sd) == list(m.state_dict())
    m.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((16, 2)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m(minigrad.tensor(x)).detach().numpy(), expected,
                               rtol=1e-6, atol=1e-7)


def test_minigrad_state_dict_loads_into_torch():
    torch = pytest.importorskip("torch")
    m = SimpleNN()
    tm = _torch_seed_model(torch)
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                        for k, v in m.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((16, 2)).astype(np.float32)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m(minigrad.tensor(x)).detach().numpy(), expected,
                               rtol=1e-6, atol=1e-7)


def test_repr_equals_torch_repr():
    torch = pytest.importorskip("torch")
    assert repr(SimpleNN()) == repr(_torch_seed_model(torch)).replace("TorchNN", "SimpleNN")
