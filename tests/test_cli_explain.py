"""``minigrad explain``: the equations with the numbers the real optimizer used."""
import math
import re
import subprocess
import sys

import pytest

from minigrad.cli import main
from minigrad.cli.explain import fmt


def explain(capsys, *args):
    rc = main(["explain", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _value(out, prefix):
    """The number at the end of the line starting with ``prefix``."""
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith(prefix)]
    assert lines, f"no line starting with {prefix!r} in:\n{out}"
    return float(lines[0].rsplit("=", 1)[1])


def test_seed_example_line(capsys):
    rc, out, _ = explain(capsys, "sgd", "--param", "1.0", "--grad", "0.5", "--lr", "0.01")
    assert rc == 0
    assert "θ₁ = θ₀ − η·g = 1.0 − 0.01·0.5 = 0.995" in out.splitlines()[-1]
    assert out.rstrip().endswith("0.995")


def test_python_dash_m_and_console_script():
    res = subprocess.run([sys.executable, "-m", "minigrad", "explain", "sgd", "--param", "1.0",
                          "--grad", "0.5", "--lr", "0.01"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith("= 0.995")


def test_adam_three_steps_show_every_quantity(capsys):
    rc, out, _ = explain(capsys, "adam", "--steps", "3", "--lr", "0.01")
    assert rc == 0
    for t, sub in ((1, "₁"), (2, "₂"), (3, "₃")):
        for sym in ("m", "v", "m̂", "v̂", "θ"):
            assert any(line.strip().startswith(f"{sym}{sub} =") for line in out.splitlines()), \
                (sym, t, out)
    # the spec by hand, constant g = 0.5
    m = v = 0.0
    theta = 1.0
    for t, sub in ((1, "₁"), (2, "₂"), (3, "₃")):
        m = 0.9 * m + 0.1 * 0.5
        v = 0.999 * v + 0.001 * 0.25
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        theta -= 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
        assert _value(out, f"m{sub} =") == pytest.approx(m, rel=1e-5)
        assert _value(out, f"v{sub} =") == pytest.approx(v, rel=1e-5)
        assert _value(out, f"m̂{sub} =") == pytest.approx(m_hat, rel=1e-5)
        assert _value(out, f"v̂{sub} =") == pytest.approx(v_hat, rel=1e-5)
        assert _value(out, f"θ{sub} =") == pytest.approx(theta, rel=1e-5)
    assert "θ₁ = θ₀ − η·m̂₁ / (√v̂₁ + ε) = 1.0 − 0.01·0.5 / (√0.25 + 1e-08) = 0.99" in out


def test_grads_list_drives_the_steps(capsys):
    rc, out, _ = explain(capsys, "sgd", "--grads", "0.5,-0.25,1", "--lr", "0.1",
                         "--momentum", "0.9")
    assert rc == 0
    assert [line for line in out.splitlines() if line.startswith("step")] == [
        "step 1:  g = 0.5", "step 2:  g = -0.25", "step 3:  g = 1.0"]
    b1, b2 = 0.5, 0.9 * 0.5 - 0.25
    b3 = 0.9 * b2 + 1
    assert _value(out, "b₃ =") == pytest.approx(b3)
    assert _value(out, "θ₃ =") == pytest.approx(1.0 - 0.1 * (b1 + b2 + b3))


@pytest.mark.parametrize("args, first, final", [
    (["sgd", "--weight-decay", "0.1", "--maximize"], "g ← −g = -0.5",
     1.0 - 0.01 * (-0.5 + 0.1)),
    (["sgd", "--momentum", "0.9", "--nesterov"], "b₁ = g = 0.5", 1.0 - 0.01 * (0.5 + 0.45)),
    (["adamw", "--weight-decay", "0.1"], "θ' = θ₀ − η·λ·θ₀", 0.999 - 0.01),
    (["adam", "--amsgrad"], "v_max₁ = max(v_max₀, v₁)", 0.99),
    (["rmsprop", "--centered", "--momentum", "0.5"], "ṽ₁ = v₁ − ḡ₁²",
     1.0 - 0.01 * 0.5 / math.sqrt(0.0025 - 0.005 ** 2)),
    (["rmsprop", "--alpha", "0.9"], "v₁ = α·v₀", 1.0 - 0.01 * 0.5 / math.sqrt(0.025)),
    (["adagrad", "--lr-decay", "0.5", "--initial-accumulator-value", "0.75"], "S₁ = S₀ + g²",
     1.0 - 0.01 * 0.5 / 1.0),
])
def test_every_optimizer_and_option_explains(capsys, args, first, final):
    rc, out, _ = explain(capsys, *args)
    assert rc == 0
    assert first in out
    assert _value(out, "θ₁ =") == pytest.approx(final, rel=1e-5)


@pytest.mark.parametrize("args, message", [
    (["lion"], "unknown optimizer 'lion'"),
    (["sgd", "--beta1", "0.5"], "--beta1 does not apply to SGD"),
    (["adam", "--beta2", "1.0"], "index 1"),
    (["sgd", "--lr", "-1"], "Invalid learning rate: -1.0"),
    (["sgd", "--nesterov"], "Nesterov"),
    (["sgd", "--lr", "abc"], "invalid float value"),
    (["sgd", "--grad", "inf"], "finite"),
    (["sgd", "--grads", "0.5,x"], "comma-separated"),
    (["sgd", "--grads", ","], "at least one"),
    (["sgd", "--grads", "1,2", "--steps", "3"], "does not match"),
    (["sgd", "--grad", "1", "--grads", "1,2"], "not allowed with"),
    (["sgd", "--steps", "0"], "between 1 and"),
    (["adagrad", "--initial-accumulator-value", "-1"], "-1.0"),
])
def test_user_errors_are_one_line_exit_2(capsys, args, message):
    rc, out, err = explain(capsys, *args)
    assert rc == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("x, text", [
    (1.0, "1.0"), (0.01, "0.01"), (0.995, "0.995"), (1e-8, "1e-08"), (0.0, "0.0"),
    (-0.5, "-0.5"), (0.1 + 0.2, "0.3"), (123456789.0, "1.23457e+08"), (2, "2.0"),
    (1 / 3, "0.333333")])
def test_number_format(x, text):
    assert fmt(x) == text


def test_printed_values_come_from_the_optimizer(capsys, monkeypatch):
    # change the real rule: the printed result follows it (nothing recomputed by the formatter)
    import minigrad.optim.sgd as sgd_module
    real = sgd_module.sgd_update

    def doubled(param, grad, buf, **kw):
        kw["lr"] *= 2
        return real(param, grad, buf, **kw)

    monkeypatch.setattr(sgd_module, "sgd_update", doubled)
    rc, out, _ = explain(capsys, "sgd")
    assert rc == 0 and re.search(r"= 0\.99$", out.strip())
