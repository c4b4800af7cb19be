"""Datasets and the DataLoader (torch.utils.data's shape).

For a TensorDataset the loader gathers each batch with one index per tensor (a slice when
unshuffled, one fancy index when shuffled) instead of one Python call per sample; other datasets
go through ``__getitem__`` and ``default_collate``. Shuffling draws a fresh permutation per epoch
from the given ``minigrad.Generator`` or, when None, the global one that ``manual_seed`` seeds (so
a checkpoint of the RNG state resumes the same batch order).
"""
import math
from collections.abc import Mapping, Sequence

import numpy as np

from minigrad import backend
from minigrad.random import host_generator
from minigrad.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: ``dataset[i] == (t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} must be a minigrad Tensor, "
                                f"got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor (no samples)")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for ConcatDataset of length {n}")
        idx %= n
        k = int(np.searchsorted(self.cumulative_sizes, idx, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1).

    Fractions become floor(f·N) each, the remainder handed out one by one from the first split
    (torch's rule); the samples are assigned by one random permutation.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1 \
            and not all(isinstance(x, (int, np.integer)) for x in lengths):
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1: {frac}")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    for x in lengths:
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})!")
    perm = host_generator(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length
    return out


def default_collate(batch):
    """Stack a list of samples into a batch: tensors and arrays stacked along a new dim 0,
    numbers into a tensor, tuples/lists/dicts collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        xp = elem._xp()
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: samples have different shapes {sorted(shapes)}")
        return Tensor._wrap(xp.stack([b._data for b in batch]))
    if isinstance(elem, np.ndarray):
        return default_collate([Tensor._wrap(np.asarray(b)) for b in batch])
    if isinstance(elem, (bool, np.bool_)):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, (int, np.integer)):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, (float, np.floating)):
        # Python floats collate to float64, as torch's default_collate does.
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise ValueError("default_collate: each element in list of batch should be of "
                             "equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def _move(batch, dev):
    if isinstance(batch, Tensor):
        return batch.to(dev)
    if isinstance(batch, Mapping):
        return {k: _move(v, dev) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_move(v, dev) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_move(v, dev) for v in batch)
    return batch


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    ``len(loader)`` = ⌈N/B⌉ (⌊N/B⌋ with drop_last). With ``shuffle`` every epoch (every
    ``iter(loader)``) draws a fresh permutation from ``generator`` (the global generator when
    None). ``num_workers`` and ``pin_memory`` are accepted for torch compatibility; loading is
    always in-process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 collate_fn=None, num_workers=0, pin_memory=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(shuffle, bool):
            raise ValueError(f"shuffle should be a boolean value, but got shuffle={shuffle!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got {num_workers!r})")
        if generator is not None:
            host_generator(generator)  # TypeError now rather than at the first epoch
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self._device = None  # where batches are moved after collation (generic datasets)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        # The permutation is drawn here, when the epoch starts, not lazily at the first batch.
        n = len(self.dataset)
        order = host_generator(self.generator).permutation(n) if self.shuffle else None
        return self._batches(n, order)

    def _batches(self, n, order):
        B = self.batch_size
        stop = len(self) * B
        plan = _gather_plan(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        if plan is not None:
            arrays, rows = plan
            if order is not None and rows is not None:
                order, rows = rows[order], None  # compose once per epoch, not per batch
            elif order is None and rows is not None:
                order, rows = rows, None
            if order is not None and type(arrays[0]) is not np.ndarray:
                order = backend.to_device(order, backend.device_of(arrays[0]))
        for start in range(0, stop, B):
            end = min(start + B, n)
            if plan is None:
                idx = range(start, end) if order is None else order[start:end].tolist()
                batch = collate([self.dataset[i] for i in idx])
                yield batch if self._device is None else _move(batch, self._device)
            elif order is None:
                # A copy, not a view: an in-place edit of a batch must not reach the dataset.
                yield tuple(Tensor._wrap(a[start:end].copy()) for a in arrays)
            else:
                # take() is the one-fancy-index gather, without __getitem__'s dispatch.
                idx = order[start:end]
                yield tuple(Tensor._wrap(a.take(idx, 0)) for a in arrays)

    def to(self, device):
        """A loader over the same samples whose batches live on ``device``; a TensorDataset's
        tensors (also under Subsets) are moved once, here."""
        dev = backend.device(device)
        ds = _moved(self.dataset, dev)
        loader = DataLoader(self.dataset if ds is None else ds, self.batch_size, self.shuffle,
                            self.drop_last, self.generator, self.collate_fn, self.num_workers,
                            self.pin_memory)
        if ds is None or self.collate_fn is not None:
            loader._device = dev
        return loader


def _gather_plan(dataset):
    """``(arrays, rows)`` when every sample of ``dataset`` is a row of the same arrays: a
    TensorDataset, possibly under Subsets (``rows`` maps positions to rows, None for all rows
    in order). None for any other dataset, which goes through __getitem__ and collate."""
    rows = None
    while isinstance(dataset, Subset):
        sub = np.asarray(dataset.indices, dtype=np.int64)
        rows = sub if rows is None else sub[rows]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset):
        return None
    arrays = [t._data for t in dataset.tensors]
    if rows is not None and rows.size:
        n = arrays[0].shape[0]
        if rows.min() < -n or rows.max() >= n:
            raise IndexError(f"Subset index out of range for a dataset of {n} samples")
    return arrays, rows


def _moved(dataset, dev):
    """``dataset`` with its TensorDataset's tensors on ``dev`` (None if it has none)."""
    if isinstance(dataset, TensorDataset):
        return TensorDataset(*(t.to(dev) for t in dataset.tensors))
    if isinstance(dataset, Subset):
        inner = _moved(dataset.dataset, dev)
        return None if inner is None else Subset(inner, dataset.indices)
    return None
