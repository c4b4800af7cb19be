"""utils.data: TensorDataset, Subset, random_split, default_collate and DataLoader properties."""
from collections import namedtuple

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import minigrad
from minigrad.utils.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset,
                                 default_collate, random_split)


def indexed_dataset(n):
    """Sample i is (i, 2i) so every batch says which samples it holds."""
    idx = minigrad.arange(n)
    return TensorDataset(idx, idx * 2)


class ListDataset(Dataset):
    """A generic (non-tensor) dataset: exercises __getitem__ + default_collate."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": minigrad.tensor([float(i), -float(i)]), "i": i}


@given(n=st.integers(1, 70), b=st.integers(1, 20), drop_last=st.booleans(),
       shuffle=st.booleans(), generic=st.booleans(), seed=st.integers(0, 2**31))
def test_loader_properties(n, b, drop_last, shuffle, generic, seed):
    ds = ListDataset(n) if generic else indexed_dataset(n)
    loader = DataLoader(ds, batch_size=b, shuffle=shuffle, drop_last=drop_last,
                        generator=minigrad.Generator().manual_seed(seed))
    expected_batches = n // b if drop_last else -(-n // b)
    assert len(loader) == expected_batches

    def epoch():
        out = []
        for batch in loader:
            ids = batch["i"].numpy() if generic else batch[0].numpy()
            if not generic:
                np.testing.assert_array_equal(batch[1].numpy(), 2 * ids)  # rows stay aligned
            else:
                np.testing.assert_array_equal(batch["x"].numpy()[:, 0], ids)
            out.append(ids.tolist())
        return out

    first = epoch()
    assert len(first) == expected_batches
    sizes = [len(x) for x in first]
    assert all(s == b for s in sizes[:-1]) and (not sizes or 1 <= sizes[-1] <= b)
    if drop_last:
        assert all(s == b for s in sizes)
    seen = [i for batch in first for i in batch]
    assert len(seen) == len(set(seen))  # each sample at most once
    if not drop_last:
        assert sorted(seen) == list(range(n))  # ... and exactly once
    if not shuffle:
        assert seen == list(range(len(seen)))
    # Same seed, same order; the next epoch draws a fresh permutation.
    again = DataLoader(ds, batch_size=b, shuffle=shuffle, drop_last=drop_last,
                       generator=minigrad.Generator().manual_seed(seed))
    assert [list(map(int, (x["i"] if generic else x[0]).numpy())) for x in again] == first
    second = epoch()
    if shuffle and n >= 10 and not drop_last:  # equal orders: odds 1 in 10! at most
        assert second != first


def test_shuffle_without_generator_uses_the_global_seed():
    ds = indexed_dataset(50)

    def order():
        return np.concatenate([x.numpy() for x, _ in DataLoader(ds, 8, shuffle=True)])

    minigrad.manual_seed(3)
    a = order()
    minigrad.manual_seed(3)
    b = order()
    np.testing.assert_array_equal(a, b)
    state = minigrad.get_rng_state()
    c = order()
    minigrad.set_rng_state(state)
    np.testing.assert_array_equal(order(), c)  # resuming from a saved RNG state
    assert not np.array_equal(a, c)


def test_batches_are_copies_not_views_of_the_dataset():
    x = minigrad.arange(10).float()
    for shuffle in (False, True):
        for (batch,) in DataLoader(TensorDataset(x), 4, shuffle=shuffle):
            batch.add_(100)
    np.testing.assert_array_equal(x.numpy(), np.arange(10))


def test_seed_loader_shapes_and_dtypes():
    X = minigrad.rand(1000, 2)
    y = minigrad.rand(1000, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 32
    assert batches[0][0].shape == (32, 2) and batches[0][1].shape == (32, 1)
    assert batches[-1][0].shape == (8, 2)
    assert batches[0][0].dtype == minigrad.float32


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", None, True])
def test_batch_size_validation(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(indexed_dataset(3), batch_size=bad)


def test_loader_argument_validation():
    with pytest.raises(TypeError, match="generator"):
        DataLoader(indexed_dataset(3), generator=42)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(indexed_dataset(3), shuffle=1)


def test_tensor_dataset():
    ds = TensorDataset(minigrad.ones(4, 2), minigrad.zeros(4))
    assert len(ds) == 4
    x, y = ds[1]
    assert x.shape == (2,) and y.shape == ()
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        TensorDataset(minigrad.ones(4, 2), minigrad.zeros(3))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(minigrad.ones(4), np.ones(4))
    with pytest.raises(ValueError):
        TensorDataset()


def test_subset_and_concat():
    ds = indexed_dataset(10)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and int(sub[0][0]) == 7
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 13 and int(both[11][0]) == 2
    with pytest.raises(IndexError):
        both[13]


@given(n=st.integers(0, 60), k=st.integers(1, 5), seed=st.integers(0, 1000))
def test_random_split_partitions(n, k, seed):
    cuts = sorted(np.random.default_rng(seed).integers(0, n + 1, k - 1).tolist())
    lengths = np.diff([0] + cuts + [n]).tolist()
    parts = random_split(indexed_dataset(max(n, 1)) if n else [], lengths,
                         generator=minigrad.Generator().manual_seed(seed))
    assert [len(p) for p in parts] == lengths
    allidx = [i for p in parts for i in p.indices]
    assert sorted(allidx) == list(range(n))
    again = random_split(indexed_dataset(max(n, 1)) if n else [], lengths,
                         generator=minigrad.Generator().manual_seed(seed))
    assert [p.indices for p in again] == [p.indices for p in parts]


def test_random_split_fractions_and_errors():
    parts = random_split(indexed_dataset(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(indexed_dataset(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]  # torch's rule: the remainder goes round-robin
    with pytest.raises(ValueError, match=r"\(9\).*\(10\)"):
        random_split(indexed_dataset(10), [4, 5])
    with pytest.raises(ValueError):
        random_split(indexed_dataset(10), [-1, 11])


def test_random_split_fractions_match_torch_sizes():
    torch = pytest.importorskip("torch")
    for n, fracs in [(11, [0.5, 0.5]), (10, [0.7, 0.2, 0.1]), (7, [0.34, 0.33, 0.33])]:
        ours = [len(p) for p in random_split(indexed_dataset(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs


def test_default_collate():
    Point = namedtuple("Point", "x y")
    batch = default_collate([Point(minigrad.ones(2), 1.5), Point(minigrad.zeros(2), 2.5)])
    assert isinstance(batch, Point) and batch.x.shape == (2, 2)
    assert batch.y.dtype == minigrad.float64  # python floats collate to float64, as in torch
    out = default_collate([(np.ones(3, np.float32), 1, "a"), (np.zeros(3, np.float32), 2, "b")])
    assert out[0].shape == (2, 3) and out[1].dtype == minigrad.int64 and out[2] == ["a", "b"]
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([minigrad.ones(2), minigrad.ones(3)])
    with pytest.raises(TypeError):
        default_collate([object(), object()])


def test_collate_fn_is_used():
    loader = DataLoader(indexed_dataset(5), batch_size=2,
                        collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_loader_to_device(device):
    ds = TensorDataset(minigrad.arange(6).float(), minigrad.arange(6))
    moved = DataLoader(ds, batch_size=4, shuffle=True).to(device)
    for x, y in moved:
        assert x.device == minigrad.device(device) and y.device == minigrad.device(device)
    generic = DataLoader(ListDataset(3), batch_size=2).to(device)
    for batch in generic:
        assert batch["x"].device == minigrad.device(device)
    assert len(moved) == 2


@given(n=st.integers(1, 40), b=st.integers(1, 9), shuffle=st.booleans(),
       seed=st.integers(0, 100))
def test_subset_of_tensor_dataset_gathers_like_the_per_sample_path(n, b, shuffle, seed):
    base = indexed_dataset(n)
    inner = Subset(base, np.random.default_rng(seed).permutation(n)[: max(1, n - 2)])
    ds = Subset(inner, list(range(len(inner)))[::-1])  # nested subsets compose

    def batches(**kw):
        loader = DataLoader(ds, b, shuffle=shuffle,
                            generator=minigrad.Generator().manual_seed(seed), **kw)
        return [tuple(t.numpy().tolist() for t in batch) for batch in loader]

    # An explicit collate_fn takes the generic __getitem__ + collate path: the reference.
    assert batches() == batches(collate_fn=default_collate)


def test_subset_with_bad_index_is_an_index_error():
    with pytest.raises(IndexError, match="out of range"):
        list(DataLoader(Subset(indexed_dataset(3), [0, 5]), 2))
