"""optim.trace: what it records is what the real update used, and it converts to plain data."""
import numpy as np
import pytest

import minigrad
from minigrad import optim


def _run(opt, params, grads):
    with optim.trace(opt) as tr:
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = None if g is None else minigrad.tensor(np.asarray(g, np.float64))
            opt.step()
    return tr


def test_adam_trace_records_the_intermediates_of_the_spec():
    p = minigrad.tensor([1.0, -2.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-6, amsgrad=True)
    grads = [[[0.5, 1.0]], [[-0.25, 0.0]], [[1.5, -3.0]]]
    tr = _run(opt, [p], grads)
    m = v = v_max = np.zeros(2)
    theta = np.array([1.0, -2.0])
    for t, ((g,), (step, e)) in enumerate(zip(grads, tr.entries(0)), 1):
        g = np.array(g)
        assert step == t
        np.testing.assert_array_equal(e["grad"], g)
        np.testing.assert_array_equal(e["param_before"], theta)
        np.testing.assert_allclose(e["state_before"].get("exp_avg", 0.0), m, rtol=1e-15)
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        v_max = np.maximum(v_max, v)
        m_hat, v_hat = m / (1 - 0.8 ** t), v_max / (1 - 0.9 ** t)
        new = theta - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-6)
        rec = e["intermediates"]
        np.testing.assert_allclose(rec["m_hat"], m_hat, rtol=1e-13)
        np.testing.assert_allclose(rec["v_hat"], v_hat, rtol=1e-13)
        np.testing.assert_allclose(rec["denom"], np.sqrt(v_hat) + 1e-6, rtol=1e-13)
        np.testing.assert_allclose(e["state_after"]["exp_avg"], m, rtol=1e-13)
        np.testing.assert_allclose(e["state_after"]["max_exp_avg_sq"], v_max, rtol=1e-13)
        np.testing.assert_allclose(e["param_after"], new, rtol=1e-13)
        np.testing.assert_array_equal(e["update"], e["param_after"] - e["param_before"])
        with np.errstate(invalid="ignore", divide="ignore"):
            want = np.where(g != 0, e["update"] / np.where(g != 0, g, 1), np.nan)
        np.testing.assert_array_equal(e["effective_step"], want)  # NaN where g == 0
        theta = new
    assert np.isnan(tr.entries(0)[1][1]["effective_step"][1])


def test_trace_values_are_copies_in_plain_numpy():
    p = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    tr = _run(opt, [p], [[[1.0]], [[1.0]]])
    first, second = tr.entries(0)[0][1], tr.entries(0)[1][1]
    assert type(first["grad"]) is np.ndarray
    assert first["state_after"]["momentum_buffer"][0] == 1.0  # not changed by step 2
    assert second["state_before"]["momentum_buffer"][0] == 1.0
    assert second["state_after"]["momentum_buffer"][0] == pytest.approx(1.9)
    assert first["state_before"] == {}


def test_params_without_grad_have_no_entry_and_indices_follow_state_dict():
    a = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    b = minigrad.tensor([2.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    tr = _run(opt, [a, b], [[[1.0], None], [[1.0], [1.0, 2.0]]])
    assert list(tr[0]["params"]) == [0]
    assert list(tr[1]["params"]) == [0, 1]
    e = tr[1]["params"][1]
    assert e["group"] == 1 and e["hyper"]["lr"] == 1.0
    np.testing.assert_allclose(e["update"], [-1.0, -2.0])


def test_arrays_and_table():
    p = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    tr = _run(opt, [p], [[[1.0, 0.0]], [[0.5, 2.0]], [[0.0, 1.0]]])
    arr = tr.arrays(0)
    assert arr["grad"].shape == (3, 2) and arr["step"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(arr["update"], arr["param_after"] - arr["param_before"])
    assert np.isnan(arr["before.momentum_buffer"][0]).all()  # no buffer before the first step
    np.testing.assert_array_equal(arr["after.momentum_buffer"][0], [1.0, 0.0])
    assert arr["lr"].tolist() == [0.1] * 3
    rows = tr.table()
    assert len(rows) == 3 * 2
    row = rows[1]
    assert (row["step"], row["param"], row["element"]) == (1, 0, 1)
    assert row["grad"] == 0.0 and np.isnan(row["effective_step"])
    assert row["param_after"] == 2.0 and row["lr"] == 0.1
    assert all(isinstance(v, (int, float)) for r in rows for v in r.values())


@pytest.mark.parametrize("cls, kw, keys", [
    (optim.SGD, dict(momentum=0.9, nesterov=True), {"g", "d"}),
    (optim.Adam, {}, {"g", "m_hat", "v_hat", "denom", "step_size"}),
    (optim.AdamW, {}, {"decay", "theta_decayed", "m_hat", "v_hat"}),
    (optim.RMSprop, dict(centered=True), {"g", "v_tilde", "denom"}),
    (optim.Adagrad, dict(lr_decay=0.5), {"g", "clr", "denom"}),
])
def test_each_optimizer_records_its_intermediates(cls, kw, keys):
    p = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = cls([p], lr=0.1, **kw)
    tr = _run(opt, [p], [[[0.5]], [[0.25]]])
    assert keys <= set(tr[1]["params"][0]["intermediates"])
    if cls is optim.Adagrad:
        assert tr[1]["params"][0]["intermediates"]["clr"] == pytest.approx(0.1 / 1.5)


def test_trace_with_closure_and_stops_recording_after_exit():
    p = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = (0.5 * p).sum()
        loss.backward()
        return loss

    opt.zero_grad()
    with optim.trace(opt) as tr:
        opt.step(closure)
    assert tr[0]["params"][0]["grad"].tolist() == [0.5]  # read after the closure ran
    assert tr[0]["params"][0]["param_after"].tolist() == [0.995]
    opt.step(closure)
    assert len(tr) == 1 and opt._records is None and not opt._step_pre_hooks


def test_nested_trace_is_refused():
    p = minigrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.01)
    with optim.trace(opt):
        with pytest.raises(RuntimeError, match="already"):
            with optim.trace(opt):
                pass
    with optim.trace(opt):  # usable again after exit
        pass


def test_untraced_step_fills_no_records():
    p = minigrad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    p.grad = minigrad.tensor([1.0])
    opt.step()
    assert opt._records is None
