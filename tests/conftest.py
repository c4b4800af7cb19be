"""Shared fixtures: hypothesis profiles and the device fixture (CPU always, CUDA when present)."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Run the test on CPU, and on CUDA where CuPy sees a GPU."""
    if request.param == "cuda" and not minigrad.cuda.is_available():
        pytest.skip("CUDA not available: CuPy is not installed or sees no GPU")
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global seed: no test depends on another's draws."""
    minigrad.manual_seed(0)
    np.random.seed(0)
    yield
