import numpy as np
import pytest

from course_utils.replay import Batch, ReplayBuffer


def filled(n, capacity=10):
    buffer = ReplayBuffer(capacity, obs_shape=(2,))
    for i in range(n):
        buffer.add([i, i], i % 2, float(i), [i + 1, i + 1], i % 3 == 0)
    return buffer


def test_add_and_len():
    buffer = filled(4)
    assert len(buffer) == 4
    np.testing.assert_array_equal(buffer.obs[:4, 0], [0, 1, 2, 3])


def test_sample_returns_named_batch_of_consistent_transitions():
    buffer = filled(8)
    batch = buffer.sample(8, np.random.default_rng(0))
    assert isinstance(batch, Batch)
    assert batch._fields == ("obs", "actions", "rewards", "next_obs", "terminated")
    assert batch.obs.shape == (8, 2) and batch.next_obs.shape == (8, 2)
    assert batch.actions.shape == batch.rewards.shape == batch.terminated.shape == (8,)
    i = batch.obs[:, 0]
    np.testing.assert_array_equal(batch.rewards, i)
    np.testing.assert_array_equal(batch.actions, i.astype(int) % 2)
    np.testing.assert_array_equal(batch.next_obs[:, 0], i + 1)
    np.testing.assert_array_equal(batch.terminated, (i.astype(int) % 3 == 0).astype(np.float32))
    assert set(np.unique(i)) <= set(range(8))


def test_sample_is_reproducible_with_same_rng_seed():
    buffer = filled(8)
    a = buffer.sample(5, np.random.default_rng(1))
    b = buffer.sample(5, np.random.default_rng(1))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_wraps_around_at_capacity_overwriting_oldest():
    buffer = filled(13, capacity=10)
    assert len(buffer) == 10
    stored = sorted(buffer.obs[:, 0].astype(int))
    assert stored == list(range(3, 13))
    rng = np.random.default_rng(0)
    seen = np.concatenate([buffer.sample(10, rng).obs[:, 0] for _ in range(30)])
    assert set(seen.astype(int)) == set(range(3, 13))


def test_storage_is_preallocated():
    buffer = ReplayBuffer(100, obs_shape=(4,))
    before = buffer.obs
    for _ in range(150):
        buffer.add(np.ones(4), 0, 1.0, np.ones(4), False)
    assert buffer.obs is before and buffer.obs.shape == (100, 4)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda b: b.sample(10, np.random.default_rng(0)), ValueError, "asked for 10 transitions but the buffer holds only 3"),
        (lambda b: b.sample(0, np.random.default_rng(0)), ValueError, "batch_size must be >= 1"),
        (lambda b: b.sample(2, 42), TypeError, "rng must be a numpy.random.Generator"),
        (lambda b: b.add(np.zeros(3), 0, 0.0, np.zeros(2), False), ValueError, r"obs has shape \(3,\), expected \(2,\)"),
        (lambda b: b.add(np.zeros(2), 0, 0.0, np.zeros((4, 2)), False), ValueError, r"next_obs has shape \(4, 2\), expected \(2,\)"),
    ],
)
def test_bad_use_says_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call(filled(3))


def test_bad_capacity():
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        ReplayBuffer(0, obs_shape=(4,))
