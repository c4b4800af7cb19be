"""Differentiable ops: each a Function with forward and backward side by side."""
from minigrad.ops.elementwise import *  # noqa: F401,F403
from minigrad.ops.reduce import *  # noqa: F401,F403
from minigrad.ops.shape import *  # noqa: F401,F403
from minigrad.ops.linalg import *  # noqa: F401,F403
