"""``minigrad.cuda``: is a GPU usable here?"""
from minigrad import backend


def is_available():
    return backend.cuda_is_available()


def device_count():
    return backend.cuda_device_count()


def synchronize():
    backend.synchronize()
