"""Schedules vs the spec's closed forms (written out here, independently of the library), and the
properties the spec promises. Pure Python: the optimizers hold one dummy parameter each."""
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minigrad.optim import lr_scheduler as S
from test_lr_scheduler_helpers import assert_seq_close, close, make_opt, run

lr_st = st.floats(1e-4, 1.0)
lrs_st = st.lists(lr_st, min_size=1, max_size=3)
gamma_st = st.floats(0.5, 0.999)
steps_st = st.integers(0, 120)


def check_closed_form(make, lrs, n, formula, kind="sgd"):
    """Step ``make(opt)`` n times; lr_e of group g must equal formula(B_g, e)."""
    opt = make_opt(lrs, kind)
    sched = make(opt)
    got, _ = run(opt, sched, n)
    for g, base in enumerate(lrs):
        assert_seq_close([row[g] for row in got], [formula(base, e) for e in range(n + 1)], base)
    assert sched.get_last_lr() == got[-1]
    if not isinstance(sched, S.ChainedScheduler):  # (which, as in torch, has no epoch of its own)
        assert sched.last_epoch == n
        assert sched.base_lrs == list(lrs)


# ----- each scheduler against its formula ---------------------------------------------------
@given(lrs_st, st.integers(1, 20), gamma_st, steps_st)
def test_steplr_is_seed_step_decay(lrs, step_size, gamma, n):
    # the seed's step decay: η · γ^⌊e/s⌋
    check_closed_form(lambda o: S.StepLR(o, step_size=step_size, gamma=gamma), lrs, n,
                      lambda eta, e: eta * gamma ** math.floor(e / step_size))


@given(lrs_st, gamma_st, steps_st)
def test_exponentiallr_is_seed_exponential_decay(lrs, gamma, n):
    # the seed's exponential decay: η · γ^e
    check_closed_form(lambda o: S.ExponentialLR(o, gamma=gamma), lrs, n,
                      lambda eta, e: eta * gamma ** e)


@given(lrs_st, st.lists(st.integers(0, 100), max_size=5), gamma_st, steps_st)
def test_multisteplr(lrs, milestones, gamma, n):
    milestones = sorted(milestones)
    check_closed_form(lambda o: S.MultiStepLR(o, milestones=milestones, gamma=gamma), lrs, n,
                      lambda B, e: B * gamma ** sum(1 for m in milestones if m <= e))


@given(lrs_st, st.floats(0.01, 1.0), st.integers(1, 50), steps_st)
def test_constantlr(lrs, factor, total, n):
    check_closed_form(lambda o: S.ConstantLR(o, factor=factor, total_iters=total), lrs, n,
                      lambda B, e: B * factor if e < total else B)


@given(lrs_st, st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 50), steps_st)
def test_linearlr(lrs, start, end, total, n):
    check_closed_form(
        lambda o: S.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), lrs, n,
        lambda B, e: B * (start + (end - start) * min(total, e) / total))


@given(lrs_st, st.integers(1, 60), st.floats(0.0, 3.0), steps_st)
def test_polynomiallr(lrs, total, power, n):
    check_closed_form(lambda o: S.PolynomialLR(o, total_iters=total, power=power), lrs, n,
                      lambda B, e: B * (1 - min(total, e) / total) ** power)


@given(lrs_st, st.integers(1, 50), st.floats(0.0, 1e-4), steps_st)
def test_cosineannealinglr(lrs, T_max, eta_min, n):
    # torch computes it recursively; it still equals the closed form, past T_max too
    check_closed_form(lambda o: S.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min), lrs, n,
                      lambda B, e: eta_min + (B - eta_min) * (1 + math.cos(math.pi * e / T_max))
                      / 2)


def cawr_formula(T_0, T_mult, eta_min):
    def lr(B, e):
        T_i, T_cur = T_0, e
        while T_cur >= T_i:  # walk the restarts
            T_cur -= T_i
            T_i *= T_mult
        return eta_min + (B - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2
    return lr


@given(lrs_st, st.integers(1, 10), st.integers(1, 3), st.floats(0.0, 1e-4), steps_st)
def test_cosine_warm_restarts(lrs, T_0, T_mult, eta_min, n):
    check_closed_form(
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=eta_min),
        lrs, n, cawr_formula(T_0, T_mult, eta_min))


@given(st.integers(1, 10), st.integers(1, 3), st.floats(0.0, 60.0))
def test_cosine_warm_restarts_fractional_epoch(T_0, T_mult, epoch):
    opt = make_opt([0.1])
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult)
    opt.step()
    sched.step(epoch)  # torch allows (and documents) a float epoch here
    assert close(opt.param_groups[0]["lr"], cawr_formula(T_0, T_mult, 0.0)(0.1, epoch), 0.1,
                 rel=1e-7)
    assert sched.last_epoch == math.floor(epoch)


@given(lrs_st, st.floats(0.5, 1.0), steps_st)
def test_lambdalr_and_multiplicativelr(lrs, q, n):
    check_closed_form(lambda o: S.LambdaLR(o, lambda e: q ** e + 1 / (1 + e)), lrs, n,
                      lambda B, e: B * (q ** e + 1 / (1 + e)))
    check_closed_form(lambda o: S.MultiplicativeLR(o, lambda e: q + 0.01 * (e % 3)), lrs, n,
                      lambda B, e: B * math.prod(q + 0.01 * (k % 3) for k in range(1, e + 1)))


def cyclic_formula(base, high, up, down, mode, gamma=1.0):
    total = up + down
    r = up / total

    def lr(_, e):
        cycle = math.floor(1 + e / total)
        x = 1 + e / total - cycle
        s = x / r if x <= r else (x - 1) / (r - 1)
        f = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1),
             "exp_range": gamma ** e}[mode]
        return base + (high - base) * s * f
    return lr


@given(st.floats(1e-4, 1e-2), st.floats(1.5, 20), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from(["triangular", "triangular2", "exp_range"]), st.floats(0.9, 1.0),
       steps_st)
def test_cycliclr(base, ratio, up, down, mode, gamma, n):
    high = base * ratio
    opt = make_opt([0.5])
    sched = S.CyclicLR(opt, base_lr=base, max_lr=high, step_size_up=up, step_size_down=down,
                       mode=mode, gamma=gamma)
    got, moms = run(opt, sched, n)
    want = cyclic_formula(base, high, up, down, mode, gamma)
    assert_seq_close([row[0] for row in got], [want(None, e) for e in range(n + 1)], high)
    # momentum goes the other way: max_m − (max_m − base_m) · s · f
    want_m = cyclic_formula(0.9, 0.8, up, down, mode, gamma)
    assert_seq_close([row[0] for row in moms], [want_m(None, e) for e in range(n + 1)], 1)


def onecycle_formula(max_lr, T, pct, strategy, div, final_div, three_phase):
    initial = max_lr / div
    low = initial / final_div
    anneal = ((lambda a, b, p: b + (a - b) / 2 * (1 + math.cos(math.pi * p)))
              if strategy == "cos" else (lambda a, b, p: a + (b - a) * p))
    if three_phase:
        phases = [(pct * T - 1, initial, max_lr), (2 * pct * T - 2, max_lr, initial),
                  (T - 1, initial, low)]
    else:
        phases = [(pct * T - 1, initial, max_lr), (T - 1, max_lr, low)]

    def lr(e):
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if e <= end or i == len(phases) - 1:
                return anneal(a, b, (e - start) / (end - start))
            start = end
    return lr


@given(st.floats(1e-3, 1.0), st.integers(10, 200), st.floats(0.15, 0.45),
       st.sampled_from(["cos", "linear"]), st.floats(5, 50), st.floats(10, 1e4), st.booleans())
def test_onecyclelr(max_lr, T, pct, strategy, div, final_div, three_phase):
    assume(pct * T >= 2)  # phase 1 is at least one step long
    opt = make_opt([0.1], momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=max_lr, total_steps=T, pct_start=pct,
                         anneal_strategy=strategy, div_factor=div, final_div_factor=final_div,
                         three_phase=three_phase)
    got, _ = run(opt, sched, T - 1)
    want = onecycle_formula(max_lr, T, pct, strategy, div, final_div, three_phase)
    assert_seq_close([row[0] for row in got], [want(e) for e in range(T)], max_lr)


@given(st.floats(1e-3, 1.0), st.integers(2, 30), st.integers(10, 80))
def test_warmup_recipe(base, W, extra):
    N = W + extra
    opt = make_opt([base])
    sched = S.warmup_cosine(opt, W, N)
    got, _ = run(opt, sched, N - 1)

    def want(e):
        if e < W:
            return base * (0.1 + 0.9 * e / W)
        return base * (1 + math.cos(math.pi * (e - W) / (N - W))) / 2
    assert_seq_close([row[0] for row in got], [want(e) for e in range(N)], base)


@given(lrs_st, gamma_st, st.integers(1, 10), st.floats(0.1, 0.9), steps_st)
def test_chained_factors_compose(lrs, gamma, step_size, gamma2, n):
    check_closed_form(lambda o: S.ChainedScheduler([S.ExponentialLR(o, gamma),
                                                    S.StepLR(o, step_size, gamma2)]), lrs, n,
                      lambda B, e: B * gamma ** e * gamma2 ** (e // step_size))


@given(lrs_st, st.integers(1, 10), gamma_st, st.integers(0, 100))
def test_step_with_epoch_jumps_with_the_closed_form(lrs, step_size, gamma, epoch):
    opt = make_opt(lrs)
    sched = S.StepLR(opt, step_size=step_size, gamma=gamma)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(epoch)
    for g, base in enumerate(lrs):
        assert close(opt.param_groups[g]["lr"], base * gamma ** (epoch // step_size), base)


# ----- properties -------------------------------------------------------------------------
@given(st.floats(1e-4, 1e-2), st.floats(1.5, 20), st.integers(1, 15), st.integers(1, 15),
       st.sampled_from(["triangular", "triangular2", "exp_range"]))
def test_cycliclr_bounds_and_period(base, ratio, up, down, mode):
    high = base * ratio
    opt = make_opt([0.5], momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=base, max_lr=high, step_size_up=up, step_size_down=down,
                       mode=mode, gamma=0.99)
    got, moms = run(opt, sched, 3 * (up + down))
    lrs = [row[0] for row in got]
    tol = 1e-12 * high
    assert all(base - tol <= v <= high + tol for v in lrs)
    assert all(0.8 - 1e-12 <= m[0] <= 0.9 + 1e-12 for m in moms)
    amplitude = 0.99 ** up if mode == "exp_range" else 1.0
    assert close(lrs[up], base + (high - base) * amplitude, high)  # rises for `up` steps ...
    assert close(lrs[up + down], base, high)  # ... and falls back to base in `down`
    if mode == "triangular":  # period up + down
        for e in range(up + down, len(lrs)):
            assert close(lrs[e], lrs[e - up - down], high)


@given(st.floats(1e-4, 1e-2), st.floats(1.5, 20), st.integers(1, 10), st.integers(1, 10))
def test_triangular2_halves_amplitude_each_cycle(base, ratio, up, down):
    high = base * ratio
    opt = make_opt([0.5])
    sched = S.CyclicLR(opt, base_lr=base, max_lr=high, step_size_up=up, step_size_down=down,
                       mode="triangular2", cycle_momentum=False)
    got, _ = run(opt, sched, 4 * (up + down))
    peaks = [got[k * (up + down) + up][0] - base for k in range(4)]
    for k in range(1, 4):
        assert close(peaks[k], peaks[k - 1] / 2, high)


@given(lrs_st, st.floats(0.01, 1.0), st.integers(1, 50))
def test_linear_warmup_monotone_reaches_base_lr(lrs, start, total):
    opt = make_opt(lrs)
    sched = S.LinearLR(opt, start_factor=start, total_iters=total)
    got, _ = run(opt, sched, total + 10)
    for g, base in enumerate(lrs):
        seq = [row[g] for row in got]
        assert all(b >= a * (1 - 1e-12) for a, b in zip(seq, seq[1:]))
        assert close(seq[total], base, base)
        assert all(close(v, base, base) for v in seq[total:])


@given(st.floats(1e-2, 1.0), st.integers(1, 30), st.floats(0.0, 1e-3), st.integers(1, 3))
def test_cosine_never_below_eta_min(base, T, eta_min, T_mult):
    for make in (lambda o: S.CosineAnnealingLR(o, T_max=T, eta_min=eta_min),
                 lambda o: S.CosineAnnealingWarmRestarts(o, T_0=T, T_mult=T_mult,
                                                         eta_min=eta_min)):
        opt = make_opt([base])
        got, _ = run(opt, make(opt), 5 * T)
        assert min(row[0] for row in got) >= eta_min


@given(st.floats(1e-3, 1.0), st.integers(10, 300), st.integers(1, 9),
       st.sampled_from(["cos", "linear"]), st.floats(5, 50), st.floats(10, 1e4))
def test_onecycle_peak_and_end(max_lr, T, tenths, strategy, div, final_div):
    pct = tenths / 10
    opt = make_opt([0.1], kind="adam")
    sched = S.OneCycleLR(opt, max_lr=max_lr, total_steps=T, pct_start=pct,
                         anneal_strategy=strategy, div_factor=div, final_div_factor=final_div)
    got, moms = run(opt, sched, T - 1)
    lrs = [row[0] for row in got]
    peak = math.ceil(pct * T) - 1
    assert max(lrs) <= max_lr * (1 + 1e-12)
    # the peak sits where phase 1 ends (pct·T − 1); on an integer end it is max_lr exactly
    assert lrs.index(max(lrs)) in (math.floor(pct * T - 1), math.ceil(pct * T - 1))
    if float(pct * T).is_integer():
        assert close(lrs[peak], max_lr, max_lr)
        assert lrs.index(max(lrs)) == peak
        assert close(moms[peak][0], 0.85, 1)  # beta1 at its lowest at the lr peak
    if pct * T > 1:  # (with pct·T = 1, phase 1 is over at once: step 0 is the peak)
        assert close(lrs[0], max_lr / div, max_lr)
    assert close(lrs[-1], max_lr / div / final_div, max_lr / div / final_div)


def plateau_reference(lr, metrics, mode, factor, patience, threshold, threshold_mode,
                      cooldown, min_lr, eps=1e-8):
    """The spec's ReduceLROnPlateau, line by line: lr after each metric."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = []
    for a in metrics:
        if mode == "min":
            better = a < best * (1 - threshold) if threshold_mode == "rel" else a < best - threshold
        else:
            better = a > best * (1 + threshold) if threshold_mode == "rel" else a > best + threshold
        if better:
            best, bad = a, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool = cooldown
            bad = 0
        out.append(lr)
    return out


metric_seq_st = st.lists(st.floats(0.1, 2.0), min_size=1, max_size=80)


@given(metric_seq_st, st.sampled_from(["min", "max"]), st.floats(0.1, 0.9), st.integers(0, 5),
       st.floats(0.0, 0.1), st.sampled_from(["rel", "abs"]), st.integers(0, 4),
       st.floats(0.0, 1e-2))
def test_plateau_matches_spec_and_properties(metrics, mode, factor, patience, threshold,
                                             threshold_mode, cooldown, min_lr):
    opt = make_opt([0.1, 0.05])
    sched = S.ReduceLROnPlateau(opt, mode=mode, factor=factor, patience=patience,
                                threshold=threshold, threshold_mode=threshold_mode,
                                cooldown=cooldown, min_lr=[min_lr, 0.0])
    got, _ = run(opt, sched, len(metrics), metrics=metrics)
    ref = plateau_reference(0.1, metrics, mode, factor, patience, threshold, threshold_mode,
                            cooldown, min_lr)
    assert [row[0] for row in got[1:]] == ref
    lrs = [row[0] for row in got]
    assert all(v >= min(min_lr, 0.1) for v in lrs)
    cuts = [e for e in range(1, len(lrs)) if lrs[e] < lrs[e - 1]]
    # the first cut needs patience + 1 bad epochs; later ones also wait out the cooldown
    if cuts:
        assert cuts[0] >= patience + 1
    for a, b in zip(cuts, cuts[1:]):
        assert b - a >= cooldown + patience + 1


def test_plateau_waits_patience_then_cools_down():
    opt = make_opt([1.0])
    sched = S.ReduceLROnPlateau(opt, patience=2, cooldown=2, factor=0.5)
    metrics = [1.0] + [1.0] * 12  # one best, then nothing improves
    got, _ = run(opt, sched, len(metrics), metrics=metrics)
    lrs = [row[0] for row in got[1:]]
    # bad epochs 1, 2 wait; the third (> patience) cuts at epoch 3; epochs 4, 5 cool down
    # (not counted), then 6, 7 wait and 8 cuts again
    assert lrs == [1.0] * 3 + [0.5] * 5 + [0.25] * 5


@pytest.mark.parametrize("mode,threshold_mode,metrics,cut", [
    ("min", "rel", [1.0, 0.9995, 0.9992], True),   # < 0.1 % better each: bad epochs
    ("min", "rel", [1.0, 0.99, 0.98], False),
    ("min", "abs", [1.0, 0.95, 0.90], True),        # threshold 0.1 absolute
    ("min", "abs", [1.0, 0.8, 0.6], False),
    ("max", "rel", [1.0, 1.0005, 1.0008], True),
    ("max", "abs", [1.0, 1.2, 1.4], False),
])
def test_plateau_threshold_modes(mode, threshold_mode, metrics, cut):
    opt = make_opt([1.0])
    threshold = 1e-3 if threshold_mode == "rel" else 0.1
    sched = S.ReduceLROnPlateau(opt, mode=mode, threshold=threshold, patience=1,
                                threshold_mode=threshold_mode)
    run(opt, sched, len(metrics), metrics=metrics)
    assert (opt.param_groups[0]["lr"] < 1.0) == cut


def test_plateau_min_lr_and_eps():
    opt = make_opt([1e-3, 1.0])
    sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[1e-4, 0.5])
    run(opt, sched, 6, metrics=[1.0] * 6)
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 0.5]
    # a cut smaller than eps is skipped
    opt = make_opt([1e-8])
    sched = S.ReduceLROnPlateau(opt, patience=0, eps=1e-8)
    run(opt, sched, 3, metrics=[1.0] * 3)
    assert opt.param_groups[0]["lr"] == 1e-8
