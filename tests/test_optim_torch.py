"""Against torch.optim: the same 2-layer MLP, same init, same batches, 50 steps, every option
combination, float64; the largest relative deviation must stay within 1e-5."""
import itertools

import numpy as np
import pytest

import minigrad
from minigrad import optim

torch = pytest.importorskip("torch")

STEPS = 50
TOL = 1e-5


def _combos(base, **options):
    names = list(options)
    for values in itertools.product(*(options[n] for n in names)):
        yield {**base, **dict(zip(names, values))}


def _sgd_combos():
    for kw in _combos({"lr": 0.1}, momentum=[0, 0.9], dampening=[0, 0.5],
                      nesterov=[False, True], weight_decay=[0, 0.01], maximize=[False, True]):
        if kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue  # invalid in both libraries
        yield "SGD", kw


CASES = list(itertools.chain(
    _sgd_combos(),
    (("Adam", kw) for kw in _combos({"lr": 0.01}, weight_decay=[0, 0.01], amsgrad=[False, True],
                                    maximize=[False, True])),
    (("AdamW", kw) for kw in _combos({"lr": 0.01, "betas": (0.8, 0.99)},
                                     weight_decay=[0, 0.1], amsgrad=[False, True],
                                     maximize=[False, True])),
    (("RMSprop", kw) for kw in _combos({"lr": 0.01}, momentum=[0, 0.9], centered=[False, True],
                                       weight_decay=[0, 0.01], maximize=[False, True])),
    (("Adagrad", kw) for kw in _combos({"lr": 0.1}, lr_decay=[0, 0.05],
                                       weight_decay=[0, 0.01],
                                       initial_accumulator_value=[0, 0.1],
                                       maximize=[False, True])),
))


def _case_id(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items() if k not in ("lr", "betas"))


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.1, 6), rng.normal(0, 0.5, (2, 6)),
            rng.normal(0, 0.1, 2)]
    X = rng.normal(size=(32, 4))
    Y = rng.normal(size=(32, 2))
    batches = [(X[i:i + 8], Y[i:i + 8]) for i in range(0, 32, 8)]
    return init, batches


def _mlp_loss(lib, params, x, y):
    W1, b1, W2, b2 = params
    if lib is torch:
        h = torch.tanh(torch.nn.functional.linear(x, W1, b1))
        return ((torch.nn.functional.linear(h, W2, b2) - y) ** 2).mean()
    h = minigrad.linear(x, W1, b1).tanh()
    return ((minigrad.linear(h, W2, b2) - y) ** 2).mean()


def max_rel_deviation(ours, theirs):
    """max |a − b| / max(|b|, 1e-6) over all elements of all tensors."""
    worst = 0.0
    for a, b in zip(ours, theirs):
        a = a.detach().numpy()
        b = b.detach().numpy()
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-6))))
    return worst


def run_both(name, kw, steps=STEPS, groups=None, schedule=None):
    """Train the same network with minigrad and torch; returns the per-step max deviation."""
    init, batches = _problem()
    if kw.get("maximize"):
        kw = dict(kw, lr=kw["lr"] / 10)  # climbing the loss: keep the run from exploding
    ours = [minigrad.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    if groups is None:
        opt = getattr(optim, name)(ours, **kw)
        topt = getattr(torch.optim, name)(theirs, **kw)
    else:
        opt = getattr(optim, name)([dict(g, params=[ours[i] for i in g["params"]])
                                    for g in groups], **kw)
        topt = getattr(torch.optim, name)([dict(g, params=[theirs[i] for i in g["params"]])
                                           for g in groups], **kw)
    devs = []
    for t in range(steps):
        x, y = batches[t % len(batches)]
        if schedule is not None:
            for o in (opt, topt):
                schedule(t, o.param_groups)
        for lib, o, params in ((minigrad, opt, ours), (torch, topt, theirs)):
            o.zero_grad()
            _mlp_loss(lib, params, lib.tensor(x), lib.tensor(y)).backward()
            o.step()
        devs.append(max_rel_deviation(ours, theirs))
    # the state the two keep agrees as well (same keys, same values)
    for p, tp in zip(ours, theirs):
        assert sorted(opt.state[p]) == sorted(topt.state[tp])
        for k, v in opt.state[p].items():
            tv = topt.state[tp][k]
            if k == "step":
                assert v == float(tv)
            else:
                tv = tv.numpy()
                np.testing.assert_allclose(v.numpy(), tv, rtol=1e-6,
                                           atol=1e-9 * max(1.0, float(np.abs(tv).max())))
    return devs


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_for_50_steps(case):
    name, kw = case
    devs = run_both(name, kw)
    assert max(devs) <= TOL, f"max relative deviation {max(devs):.3g} (step {np.argmax(devs)})"


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_param_groups_and_mid_run_hyperparameter_changes_match_torch(name):
    # per-group lr, and lr (and momentum or betas) changed between steps as a scheduler would
    groups = [{"params": [0, 1], "lr": 0.02}, {"params": [2, 3]}]
    kw = {"lr": 0.05}
    if name in ("SGD", "RMSprop"):
        kw["momentum"] = 0.9

    def schedule(t, param_groups):
        for g in param_groups:
            g["lr"] = g["lr"] * 0.95
            if "momentum" in g:
                g["momentum"] = 0.8 + 0.1 * (t % 2)
            if "betas" in g:
                g["betas"] = (0.85 + 0.05 * (t % 2), 0.999)

    devs = run_both(name, kw, steps=20, groups=groups, schedule=schedule)
    assert max(devs) <= TOL


def test_state_dict_layout_matches_torch():
    init, _ = _problem()
    ours = [minigrad.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt = optim.Adam([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.1}], amsgrad=True)
    topt = torch.optim.Adam([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.1}],
                            amsgrad=True)
    for o, ps in ((opt, ours), (topt, theirs)):
        for p in ps:
            p.grad = p.detach() * 0 + 1
        o.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        for k, v in g.items():
            assert tg[k] == v, k
    for i in sd["state"]:
        assert sorted(sd["state"][i]) == sorted(tsd["state"][i])


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                      ("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                      ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_resume_from_a_torch_state_dict(name, kw):
    # torch trains 5 steps; minigrad loads torch's state_dict and both continue identically
    init, batches = _problem()
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(theirs, **kw)
    for t in range(5):
        topt.zero_grad()
        _mlp_loss(torch, theirs, torch.tensor(batches[t % 4][0]),
                  torch.tensor(batches[t % 4][1])).backward()
        topt.step()
    ours = [minigrad.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt = getattr(optim, name)(ours, lr=123.0)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == kw["lr"]
    for t in range(5, 15):
        x, y = batches[t % 4]
        for lib, o, params in ((minigrad, opt, ours), (torch, topt, theirs)):
            o.zero_grad()
            _mlp_loss(lib, params, lib.tensor(x), lib.tensor(y)).backward()
            o.step()
    assert max_rel_deviation(ours, theirs) <= TOL
