"""Batches: per-epoch seeded shuffling, drop_last, labels and one-hot, exact resumption, the backend."""

import numpy as np
import pytest

from minigan import backend
from minigan.data import Batches


def dataset(n: int = 10):
    """Images whose pixels all equal their index, labels equal to index % 10."""
    images = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, 2, 2, 1)).copy()
    return images, np.arange(n) % 10


def ids(batch) -> list[int]:
    return backend.as_numpy(batch)[:, 0, 0, 0].astype(int).tolist()


def epoch_ids(batches) -> list[list[int]]:
    return [ids(x) for x, _ in batches]


def test_len_and_drop_last():
    images, labels = dataset(10)
    assert len(Batches(images, batch_size=3)) == 3
    assert len(Batches(images, batch_size=3, drop_last=False)) == 4
    assert len(Batches(images, batch_size=5)) == 2
    assert [len(b) for b in Batches(images, batch_size=3, drop_last=False)] == [3, 3, 3, 1]
    assert [len(b) for b in Batches(images, batch_size=3)] == [3, 3, 3]


def test_each_epoch_is_a_permutation_and_images_stay_paired_with_labels():
    images, labels = dataset(10)
    batches = Batches(images, labels, batch_size=4, drop_last=False)
    for _ in range(3):
        seen = []
        for x, y in batches:
            assert x.dtype == np.float32 and y.dtype == np.int64
            np.testing.assert_array_equal(backend.as_numpy(y), np.array(ids(x)) % 10)
            seen += ids(x)
        assert sorted(seen) == list(range(10))
    assert batches.epoch == 3


def test_order_depends_only_on_seed_and_epoch():
    images, labels = dataset(50)
    a, b = Batches(images, labels, batch_size=5), Batches(images, labels, batch_size=5)
    first, second = epoch_ids(a), epoch_ids(a)
    assert first != second  # a new order every epoch
    assert epoch_ids(b) == first and epoch_ids(b) == second
    b.set_epoch(1)
    assert epoch_ids(b) == second
    assert epoch_ids(Batches(images, labels, batch_size=5, seed=1)) != first
    flat = [i for batch in first for i in batch]
    assert flat == Batches(images, batch_size=5).order(0).tolist()


def test_no_shuffle_keeps_the_stored_order():
    images, labels = dataset(6)
    assert epoch_ids(Batches(images, labels, batch_size=2, shuffle=False)) == [[0, 1], [2, 3], [4, 5]]


def test_state_dict_resumes_mid_epoch_with_the_remaining_batches():
    images, labels = dataset(40)
    reference = Batches(images, labels, batch_size=4)
    expected = epoch_ids(reference) + epoch_ids(reference)
    run = Batches(images, labels, batch_size=4)
    epoch_ids(run)
    for count, _ in enumerate(run, start=1):
        if count == 3:
            break
    state = run.state_dict()
    assert state == {"epoch": 1, "batch": 3, "seed": 0, "size": 40}
    resumed = Batches(images, labels, batch_size=4)
    resumed.load_state_dict(state)
    assert epoch_ids(resumed) == expected[10 + 3 :]
    fresh = Batches(images, labels, batch_size=4)
    fresh.set_epoch(2)
    assert resumed.epoch == 2 and epoch_ids(resumed) == epoch_ids(fresh)


def test_state_after_the_last_batch_points_at_the_next_epoch():
    images, _ = dataset(8)
    batches = Batches(images, batch_size=4)
    iterator = iter(batches)
    next(iterator), next(iterator)
    assert batches.state_dict()["epoch"] == 1 and batches.state_dict()["batch"] == 0


def test_a_state_from_another_dataset_or_seed_is_refused():
    images, _ = dataset(8)
    state = Batches(images, batch_size=4, seed=1).state_dict()
    with pytest.raises(ValueError, match="state is for seed 1 and 8 samples, these batches have seed 0 and 8"):
        Batches(images, batch_size=4).load_state_dict(state)


def test_one_hot_labels():
    images, labels = dataset(10)
    for x, y in Batches(images, labels, batch_size=5, one_hot=True, num_classes=10):
        y = backend.as_numpy(y)
        assert y.shape == (5, 10) and y.dtype == np.float32
        np.testing.assert_array_equal(y.argmax(axis=1), np.array(ids(x)) % 10)
        np.testing.assert_array_equal(y.sum(axis=1), 1)


def test_float64_images_are_handed_over_as_float32_and_uint8_stays_uint8():
    images, _ = dataset(4)
    assert next(iter(Batches(images.astype(np.float64), batch_size=2))).dtype == np.float32
    assert next(iter(Batches(images.astype(np.uint8), batch_size=2))).dtype == np.uint8


def test_a_lazy_dataset_is_indexed_once_per_batch():
    class Lazy:
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 9

        def __getitem__(self, index):
            self.calls.append(np.asarray(index).tolist())
            return dataset(9)[0][index]

    lazy = Lazy()
    got = [ids(x) for x in Batches(lazy, batch_size=3)]
    assert lazy.calls == got and sorted(sum(got, [])) == list(range(9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": np.zeros(9, int)}, r"labels: expected 10 integer labels shaped \(10,\), got int64 shaped \(9,\)"),
        ({"labels": np.full(10, 10), "one_hot": True}, r"expected values in \[0, 9\] for one_hot, got 10 to 10"),
        ({"one_hot": True}, "one_hot=True needs labels"),
        ({"batch_size": 11}, "10 images make no batch of 11 with drop_last=True"),
        ({"batch_size": 0}, "batch_size: expected a positive integer, got 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Batches(dataset(10)[0], **kwargs)


@pytest.mark.gpu
def test_batches_arrive_on_the_gpu_under_the_cupy_backend():
    cupy = pytest.importorskip("cupy")
    try:
        backend.set_backend("cupy")
    except backend.BackendError as exc:
        pytest.skip(str(exc))
    try:
        images, labels = dataset(10)
        x, y = next(iter(Batches(images, labels, batch_size=4, one_hot=True)))
        assert isinstance(x, cupy.ndarray) and isinstance(y, cupy.ndarray)
        assert x.dtype == cupy.float32 and y.shape == (4, 10)
        assert ids(x) == Batches(images, batch_size=4).order(0)[:4].tolist()
        on_device = Batches(backend.as_array(images), batch_size=4)
        assert ids(next(iter(on_device))) == ids(x)
    finally:
        backend.set_backend("numpy")
