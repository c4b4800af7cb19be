"""Compare analytic gradients with central finite differences in float64."""
import numpy as np


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True when autograd's gradients of ``fn(*inputs)`` match central differences.

    The output is projected on a fixed random direction v, so one backward gives the whole
    vector-Jacobian product vᵀJ, which is compared element by element with
    (f(x + ε e_i) − f(x − ε e_i))·v / 2ε. Raises ValueError naming the worst element otherwise.
    """
    from minigrad.autograd import grad as autograd_grad
    from minigrad.autograd.grad_mode import no_grad
    from minigrad.tensor import Tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype.name != "float64":
            raise ValueError(f"gradcheck: input {i} is {t.dtype}; use float64 for finite "
                             "differences to be meaningful")
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    out = fn(*inputs)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(out.shape)
    vt = Tensor(v.astype(np.float64))
    analytic = autograd_grad([out], [inputs[i] for i in diff], [vt.to(out.device)],
                             allow_unused=True)

    def project(o):
        return float((np.asarray(o.detach().cpu().numpy(), dtype=np.float64) * v).sum())

    for k, i in enumerate(diff):
        x = inputs[i]
        host = x.detach().cpu().numpy()
        numeric = np.zeros(host.shape)
        with no_grad():
            for j in np.ndindex(*host.shape):
                orig = x._data[j].item()
                x._data[j] = orig + eps
                fp = project(fn(*inputs))
                x._data[j] = orig - eps
                fm = project(fn(*inputs))
                x._data[j] = orig
                numeric[j] = (fp - fm) / (2 * eps)
        a = np.zeros(host.shape) if analytic[k] is None else analytic[k].cpu().numpy()
        err = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            w = np.unravel_index(int(err.argmax()), err.shape)
            raise ValueError(
                f"gradcheck failed for input {i} (shape {host.shape}) at index "
                f"{tuple(map(int, w))}: analytic {float(a[w])!r}, numeric {float(numeric[w])!r} "
                f"(atol={atol}, rtol={rtol})")
    return True
