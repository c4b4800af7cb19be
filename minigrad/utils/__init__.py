"""minigrad.utils: data loading (``minigrad.utils.data``)."""
from minigrad.utils import data  # noqa: F401
