"""Dropout: a seeded, scaled random mask while training; the identity in eval mode."""
import numbers

from minigrad.nn import functional as F
from minigrad.nn.module import Module


class Dropout(Module):
    """Zero each element with probability p, scale the survivors by 1/(1 − p) (training only)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
