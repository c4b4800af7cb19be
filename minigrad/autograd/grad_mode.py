"""Gradient recording switches: no_grad, enable_grad, set_grad_enabled, inference of state."""
import functools

enabled = True  # read by Function.apply on every op


def is_grad_enabled():
    return enabled


class _GradMode:
    """Base for context managers that double as decorators (``@no_grad()`` or ``@no_grad``)."""
    mode = True

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)  # used as a bare decorator

    def __enter__(self):
        global enabled
        self._prev = enabled
        enabled = self.mode

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Record nothing inside: results do not require grad. Context manager or decorator."""
    mode = False


class enable_grad(_GradMode):
    """Re-enable recording inside a no_grad block."""
    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` behaves as no_grad; also usable as a plain call."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        global enabled
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled expects a bool, got {mode!r}")
        self._prev = enabled
        self.mode = mode
        enabled = mode  # takes effect at once, as torch's does when called without `with`

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def __call__(self, fn):
        global enabled
        enabled = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
