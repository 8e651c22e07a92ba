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


def _adder(n, gamma=0.5):
    from course_utils.replay import NStepAdder

    buffer = ReplayBuffer(100, obs_shape=(1,))
    return buffer, NStepAdder(buffer, n, gamma)


def test_n_step_of_one_stores_exactly_what_it_is_given():
    buffer, adder = _adder(1)
    for t in range(4):
        adder.add([t], t % 2, 1.0 + t, [t + 1], terminated=False, truncated=(t == 3))
    assert len(buffer) == 4
    assert buffer.rewards[:4].tolist() == [1.0, 2.0, 3.0, 4.0] and buffer.next_obs[:4, 0].tolist() == [1, 2, 3, 4]
    assert buffer.actions[:4].tolist() == [0, 1, 0, 1] and buffer.terminated[:4].tolist() == [0, 0, 0, 0]


def test_n_step_sums_discounted_rewards_and_bootstraps_n_steps_later():
    buffer, adder = _adder(3, gamma=0.5)
    for t in range(5):
        adder.add([t], 0, 2.0 ** t, [t + 1], terminated=False, truncated=False)
    # s_0: 1 + 0.5*2 + 0.25*4 = 3, next s_3; s_1: 2 + 2 + 2 = 6, next s_4; s_2: 4 + 4 + 4 = 12, next s_5
    assert len(buffer) == 3 and buffer.obs[:3, 0].tolist() == [0, 1, 2]
    assert buffer.rewards[:3].tolist() == [3.0, 6.0, 12.0] and buffer.next_obs[:3, 0].tolist() == [3, 4, 5]


def test_n_step_at_termination_stores_the_shorter_sums_as_terminal():
    buffer, adder = _adder(3, gamma=0.5)
    for t in range(4):
        adder.add([t], 0, 1.0, [t + 1], terminated=(t == 3), truncated=False)
    assert buffer.obs[:4, 0].tolist() == [0, 1, 2, 3]
    assert buffer.rewards[:4].tolist() == [1.75, 1.75, 1.5, 1.0]
    assert buffer.next_obs[:4, 0].tolist() == [3, 4, 4, 4] and buffer.terminated[:4].tolist() == [0, 1, 1, 1]


def test_n_step_at_truncation_drops_what_would_need_a_shorter_bootstrap_and_starts_afresh():
    buffer, adder = _adder(3)
    for t in range(4):
        adder.add([t], 0, 1.0, [t + 1], terminated=False, truncated=(t == 3))
    assert len(buffer) == 2 and buffer.next_obs[:2, 0].tolist() == [3, 4]  # s_2 and s_3 dropped
    for t in range(10, 13):  # the next episode does not mix with the last
        adder.add([t], 0, 1.0, [t + 1], terminated=False, truncated=False)
    assert len(buffer) == 3 and buffer.obs[2, 0] == 10 and buffer.next_obs[2, 0] == 13


def test_n_step_adder_says_what_it_needs():
    from course_utils.replay import NStepAdder

    with pytest.raises(TypeError, match="NStepAdder: buffer must be a cu.ReplayBuffer, got list"):
        NStepAdder([], 3, 0.99)
    with pytest.raises(ValueError, match="NStepAdder: n must be >= 1, got 0"):
        NStepAdder(ReplayBuffer(10, 1), 0, 0.99)
    with pytest.raises(TypeError, match="NStepAdder: gamma must be a number"):
        NStepAdder(ReplayBuffer(10, 1), 3, "0.99")
