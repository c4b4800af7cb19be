"""Activation layers: each forwards straight to its op's ``apply`` (no extra graph nodes)."""
from minigrad import ops
from minigrad.nn import _ops
from minigrad.nn import functional as F
from minigrad.nn.module import Module


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted for torch compatibility; the result is a new tensor."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return ops.Relu.apply(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return ops.LeakyRelu.apply(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e^−x), computed without overflow."""

    def forward(self, input):
        return ops.Sigmoid.apply(input)


class Tanh(Module):
    def forward(self, input):
        return ops.Tanh.apply(input)


class Softmax(Module):
    """e^x / Σ e^x along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return _ops.Softmax.apply(input, F._softmax_axis(input, self.dim, "Softmax"))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x − logsumexp(x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return _ops.LogSoftmax.apply(input, F._softmax_axis(input, self.dim, "LogSoftmax"))

    def extra_repr(self):
        return f"dim={self.dim}"
