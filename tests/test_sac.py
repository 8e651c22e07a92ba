"""What lesson 11's loop keeps around the student's code: scaling, the continuous buffer, the agent's acting and storing."""
from types import SimpleNamespace

import numpy as np
import pytest

from course_utils import ReplayBuffer
from course_utils.sac import deterministic_policy, policy_mean_and_log_std, scale_actions


def test_scale_actions_maps_the_ends_and_the_middle_of_each_dimension():
    low, high = np.array([-2.0, 0.0]), np.array([2.0, 4.0])
    got = scale_actions(np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]), low, high)
    assert got.tolist() == [[-2.0, 0.0], [0.0, 2.0], [2.0, 4.0]]


def test_a_buffer_of_continuous_actions_keeps_them_as_float32_rows():
    buffer = ReplayBuffer(10, obs_shape=(3,), action_shape=(2,))
    buffer.add(np.zeros(3), np.array([0.25, -0.5]), -1.0, np.ones(3), False)
    batch = buffer.sample(1, np.random.default_rng(0))
    assert batch.actions.dtype == np.float32 and batch.actions.shape == (1, 2)
    assert batch.actions[0].tolist() == [0.25, -0.5]
    with pytest.raises(ValueError, match=r"action has shape \(3,\), expected \(2,\)"):
        buffer.add(np.zeros(3), np.zeros(3), -1.0, np.ones(3), False)


def _actor_weights(obs_dim=3, act_dim=1, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(obs_dim, 8)).astype(np.float32), np.zeros(8, np.float32),
            rng.normal(size=(8, 2 * act_dim)).astype(np.float32), np.zeros(2 * act_dim, np.float32)]


def test_the_deterministic_policy_is_the_scaled_tanh_of_the_mean():
    weights, obs = _actor_weights(), np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    mean, log_std = policy_mean_and_log_std(weights, obs)
    assert mean.shape == log_std.shape == (5, 1) and log_std.min() >= -5.0 and log_std.max() <= 2.0
    got = deterministic_policy(weights, np.array([-2.0]), np.array([2.0]))(obs)
    assert np.allclose(got, 2.0 * np.tanh(mean))


@pytest.fixture
def agent():
    keras = pytest.importorskip("keras")
    from course_utils.sac import SACAgent

    inputs = keras.Input((3,))
    actor = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inputs)))
    settings = SimpleNamespace(buffer_size=100, batch_size=4, train_every=2, learning_starts=5)
    calls = []

    def update(*arrays):
        calls.append([a.shape for a in arrays])
        made.arrays = arrays
        return 1.0, 0.5, -0.3

    made = SACAgent(actor, update, settings, np.random.default_rng(0))
    made.calls = calls
    return made


def test_the_agent_acts_at_random_then_from_the_policy_within_bounds(agent):
    obs = np.zeros(3, np.float32)
    early = [agent.act(obs, step) for step in range(1, 6)]
    later = [agent.act(obs, step) for step in range(6, 200)]
    assert all(a.shape == (1,) and a.dtype == np.float32 and -1 <= a[0] <= 1 for a in early + later)
    # at a zero observation the random actor's outputs are its biases, 0: mean 0, spread exp(0) = 1, so the samples
    # differ, each within tanh's bounds
    assert len({float(a[0]) for a in later}) > 100


def test_the_agent_refuses_a_scaled_action_and_trains_on_stacked_batches(agent):
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]; store the action agent.act gave, before scaling"):
        agent.store(np.zeros(3), np.array([1.7]), -1.0, np.zeros(3), False)
    for k in range(6):   # transition k: obs k, action k / 10, reward -k, next obs k + 1, terminated on the last
        agent.store(np.full(3, k), np.array([k / 10]), -float(k), np.full(3, k + 1), k == 5)
    agent.act(np.zeros(3), 7)
    assert agent.train() == 1.0
    assert agent.calls == [[(2, 4, 3), (2, 4, 1), (2, 4), (2, 4, 3), (2, 4), (2, 4, 1), (2, 4, 1)]]
    obs, actions, rewards, next_obs, terminated, noise, next_noise = agent.arrays
    k = obs[..., 0].astype(int)   # which transition each row is: every field of a row comes from that transition
    assert np.allclose(actions[..., 0], k / 10) and np.array_equal(rewards, -k) and np.array_equal(next_obs[..., 0], k + 1)
    assert np.array_equal(terminated, (k == 5).astype(np.float32))
    assert all(a.dtype == np.float32 for a in agent.arrays) and not np.array_equal(noise, next_noise)
    assert agent.history == [(7, 1.0, 0.5, -0.3)]   # the step of the call, the critic loss, alpha, entropy


def test_a_refused_transition_leaves_a_full_buffer_as_it_was():
    buffer = ReplayBuffer(2, obs_shape=(3,), action_shape=(1,))
    for k in range(2):
        buffer.add(np.full(3, k), np.array([0.1 * k]), -1.0, np.full(3, k + 1), False)
    before = [a.copy() for a in (buffer.obs, buffer.next_obs, buffer.actions, buffer.rewards)]
    with pytest.raises(ValueError, match="action has shape"):
        buffer.add(np.full(3, 9), np.array([0.5, 0.5]), -9.0, np.full(3, 9), True)
    assert all(np.array_equal(a, b) for a, b in zip(before, (buffer.obs, buffer.next_obs, buffer.actions, buffer.rewards)))
