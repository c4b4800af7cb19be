"""``minigrad.save`` / ``minigrad.load``: nested state (dicts, lists, tensors, numbers) in one
safetensors file, written atomically.

File layout: a standard safetensors file. Every tensor or NumPy array in the object becomes one
safetensors entry; the structure around them (dicts, lists, numbers, strings) is one JSON document
in the safetensors ``__metadata__`` block, next to a format name, a format version and a SHA-256
over the document and every tensor's bytes. Nothing is ever pickled, so loading a file cannot run
code; a pickle (or ``torch.save``) file is refused before any of it is interpreted.

Writes go to ``.<name>.tmp-<pid>-<hex>`` in the target directory, are flushed and fsynced, then
``os.replace``d over the target and the directory is fsynced: a crash at any instant leaves either
the old file or the new one. Temporary files left by a killed writer are removed by the next save
into that directory.
"""
import hashlib
import json
import math
import os
import re
import secrets
import struct
import time

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor

FORMAT_NAME = "minigrad"
FORMAT_VERSION = 1
# The JSON document and checksum live under these keys of the safetensors metadata.
_DOC_KEY, _SUM_KEY = "minigrad", "sha256"
# A temp file whose writer died (or is older than this) is garbage.
_STALE_AFTER_S = 600
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-(?P<rand>[0-9a-f]{8})$")
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header

# Marker keys of the JSON encoding; a user dict that could be mistaken for one is stored as pairs.
_MARKERS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__float__")


class SerializationError(ValueError, RuntimeError):
    """A file that is not a valid minigrad file, or an object that cannot be saved."""


# ----- encoding: object tree <-> (JSON document, flat dict of arrays) -----------------------

class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.memo = {}  # id(tensor) -> key, so a tensor shared twice is stored once

    def key_for(self, path):
        key = "/".join(path) or "root"
        if key in self.arrays:  # paths can collide when dict keys contain "/"
            n = 1
            while f"{key}#{n}" in self.arrays:
                n += 1
            key = f"{key}#{n}"
        return key

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, (Tensor, np.ndarray)):
            return self.encode_array(obj, path)
        if isinstance(obj, np.generic):  # numpy scalars become Python numbers
            return self.encode(obj.item(), path)
        if isinstance(obj, list):
            return [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            return self.encode_dict(obj, path)
        where = "/".join(path) or "the root"
        raise SerializationError(f"cannot save {type(obj).__name__} at {where}: only tensors, "
                                 "numpy arrays, dicts, lists, tuples, numbers, strings, bools "
                                 "and None can be saved")

    def encode_array(self, obj, path):
        marker = "__tensor__" if isinstance(obj, Tensor) else "__ndarray__"
        if id(obj) in self.memo:
            return {marker: self.memo[id(obj)]}
        arr = backend.to_host(obj._data if isinstance(obj, Tensor) else obj)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise SerializationError(f"cannot save an array of dtype {arr.dtype} at "
                                     f"{'/'.join(path)}")
        key = self.key_for(path)
        # NOTE: not np.ascontiguousarray, which turns 0-d arrays into 1-d ones.
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.memo[id(obj)] = key
        return {marker: key}

    def encode_dict(self, obj, path):
        plain = all(isinstance(k, str) for k in obj) and not (len(obj) == 1
                                                             and next(iter(obj)) in _MARKERS)
        if plain:
            return {k: self.encode(v, path + (k,)) for k, v in obj.items()}
        pairs = []
        for k, v in obj.items():
            if k is not None and not isinstance(k, (str, int, float, bool)):
                raise SerializationError(f"cannot save a dict key of type {type(k).__name__} "
                                         f"at {'/'.join(path) or 'the root'}")
            pairs.append([self.encode(k, path), self.encode(v, path + (str(k),))])
        return {"__dict__": pairs}


def _decode(doc, arrays, to_tensor, memo):
    if isinstance(doc, list):
        return [_decode(v, arrays, to_tensor, memo) for v in doc]
    if not isinstance(doc, dict):
        return doc
    if len(doc) == 1:
        (marker, value), = doc.items()
        if marker in ("__tensor__", "__ndarray__"):
            if not isinstance(value, str) or value not in arrays:
                raise KeyError(f"the document references a tensor {value!r} that the file "
                               "does not contain")
            if (marker, value) not in memo:
                arr = arrays[value]
                memo[(marker, value)] = to_tensor(arr) if marker == "__tensor__" else arr
            return memo[(marker, value)]
        if marker == "__tuple__":
            return tuple(_decode(v, arrays, to_tensor, memo) for v in value)
        if marker == "__float__":
            return float(value)
        if marker == "__dict__":
            return {_decode(k, arrays, to_tensor, memo): _decode(v, arrays, to_tensor, memo)
                    for k, v in value}
    return {k: _decode(v, arrays, to_tensor, memo) for k, v in doc.items()}


def _checksum(doc_text, arrays):
    h = hashlib.sha256()
    h.update(doc_text.encode())
    for key in sorted(arrays):
        arr = arrays[key]
        h.update(f"\0{key}\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def dumps(obj):
    """The bytes of the file ``save(obj, path)`` writes."""
    from safetensors.numpy import save as st_save
    enc = _Encoder()
    doc = enc.encode(obj, ())
    doc_text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION),
                _DOC_KEY: doc_text, _SUM_KEY: _checksum(doc_text, enc.arrays)}
    return st_save(enc.arrays, metadata=metadata)


def _foreign_kind(data):
    """What a file that is not safetensors looks like, for the error message."""
    if data[:2] == b"PK":
        return "a zip archive (torch.save writes these)"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    if data[:6] == b"\x93NUMPY":
        return "a .npy file"
    return None


def _read_header(data, name):
    """The safetensors JSON header of ``data``, or a clear error about what the file is."""
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else None
    # NOTE: the safetensors structure is checked first: its 8-byte length prefix may well
    # start with 0x80 (pickle's first byte) or other magic-looking bytes.
    looks_safetensors = n is not None and n <= _MAX_HEADER and 8 + n <= len(data) \
        and data[8:9] == b"{"
    if not looks_safetensors:
        kind = _foreign_kind(data)
        if kind is not None:
            raise SerializationError(f"{name}: not a minigrad file: it looks like {kind}. "
                                     "minigrad never unpickles, because loading a pickle can "
                                     "run code")
        if n is None:
            raise SerializationError(f"{name}: file is truncated or empty ({len(data)} bytes)")
        if n > _MAX_HEADER or 8 + n > len(data):
            raise SerializationError(f"{name}: not a minigrad file, or truncated (header "
                                     f"length {n} does not fit a {len(data)}-byte file)")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SerializationError(f"{name}: corrupted file: the header is not valid JSON") \
            from None
    if not isinstance(header, dict):
        raise SerializationError(f"{name}: corrupted file: the header is not a JSON object")
    return header


def loads(data, map_location=None, name="<bytes>"):
    """Rebuild the object from file bytes (see :func:`load`)."""
    from safetensors.numpy import load as st_load
    header = _read_header(data, name)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise SerializationError(f"{name}: a safetensors file, but not one minigrad wrote (its "
                                 "metadata has no 'format': 'minigrad' entry)")
    try:
        version = int(meta.get("format_version"))
    except (TypeError, ValueError):
        raise SerializationError(f"{name}: corrupted file: format_version "
                                 f"{meta.get('format_version')!r} is not an integer") from None
    if version > FORMAT_VERSION or version < 1:
        raise SerializationError(f"{name}: format version {version} is not supported by this "
                                 f"minigrad (it reads versions 1..{FORMAT_VERSION}); upgrade "
                                 "minigrad to read it")
    doc_text, expected = meta.get(_DOC_KEY), meta.get(_SUM_KEY)
    if not isinstance(doc_text, str) or not isinstance(expected, str):
        raise SerializationError(f"{name}: corrupted file: the metadata lacks the document or "
                                 "its checksum")
    try:
        arrays = st_load(bytes(data))
    except Exception as e:  # safetensors raises its own SafetensorError
        raise SerializationError(f"{name}: corrupted or truncated tensor data: {e}") from None
    if _checksum(doc_text, arrays) != expected:
        raise SerializationError(f"{name}: checksum mismatch: the file was corrupted or "
                                 "modified after it was written")
    dev = None if map_location is None else backend.device(map_location)

    def to_tensor(arr):
        if not arr.flags.writeable:
            arr = arr.copy()
        return Tensor._wrap(arr if dev is None else backend.to_device(arr, dev))
    try:
        return _decode(json.loads(doc_text), arrays, to_tensor, {})
    except RecursionError:
        raise SerializationError(f"{name}: corrupted file: the document is nested too "
                                 "deeply") from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise SerializationError(f"{name}: corrupted file: {e}") from None


def save(obj, f):
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, numpy arrays, numbers, strings, bools,
    None) to the path ``f`` atomically, or to a binary file object."""
    data = dumps(obj)
    if hasattr(f, "write"):
        f.write(data)
        return
    atomic_write_bytes(f, data)


def load(f, map_location=None):
    """Read what :func:`save` wrote: tensors come back as Tensors (on ``map_location`` when given,
    else on the CPU), numpy arrays as numpy arrays. A damaged, truncated, tampered, foreign or
    newer-format file raises :class:`SerializationError` naming the file."""
    if hasattr(f, "read"):
        return loads(f.read(), map_location, name=getattr(f, "name", "<stream>"))
    path = os.fspath(f)
    with open(path, "rb") as fh:
        data = fh.read()
    return loads(data, map_location, name=path)


# ----- atomic writes ------------------------------------------------------------------------

def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but is someone else's
    return True


def clean_stale_temps(directory):
    """Remove temp files of writers that died (or that are older than ten minutes)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    for entry in names:
        m = _TMP_RE.match(entry)
        if m is None:
            continue
        full = os.path.join(directory, entry)
        try:
            old = now - os.stat(full).st_mtime > _STALE_AFTER_S
            pid = int(m["pid"])
            if old or (pid != os.getpid() and not _pid_alive(pid)):
                os.unlink(full)
        except OSError:
            pass  # someone else cleaned it, or it is not ours to remove


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # platforms without directory fds (Windows)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file."""
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: directory {directory} does not exist")
    clean_stale_temps(directory)
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            view = memoryview(data)
            fh.write(view)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode())

