"""course_utils.actor_critic: what lesson 08's loop keeps around the student's rollout."""
import gymnasium as gym
import numpy as np
import pytest

import course_utils as cu
from course_utils.checks import lesson08 as checks


def _rollout(steps=3, n=2, dim=4):
    rng = np.random.default_rng(0)
    return {"obs": rng.normal(size=(steps, n, dim)).astype(np.float32), "actions": rng.integers(2, size=(steps, n)),
            "rewards": rng.normal(size=(steps, n)), "next_obs": rng.normal(size=(steps, n, dim)).astype(np.float32),
            "terminated": rng.random((steps, n)) < 0.5}


def test_flatten_rollout_keeps_the_order_of_the_steps_and_gives_the_update_s_dtypes():
    batch = _rollout()
    flat = cu.flatten_rollout(batch, 3, 2)
    for key in batch:   # what concatenating the per-step arrays gives: step 0's environments, then step 1's ...
        assert np.array_equal(flat[key], np.concatenate(list(batch[key])).astype(flat[key].dtype)), key
    assert flat["obs"].shape == (6, 4) and flat["actions"].shape == (6,)
    assert {k: v.dtype for k, v in flat.items()} == {"obs": np.float32, "actions": np.int64, "rewards": np.float32,
                                                      "next_obs": np.float32, "terminated": np.float32}


@pytest.mark.parametrize("bad, message", [
    (lambda b: {k: v for k, v in b.items() if k != "terminated"}, "with the keys obs, actions"),
    (lambda b: [b], "got list"),
    (lambda b: {**b, "rewards": b["rewards"].reshape(-1)}, "batch['rewards'] has shape (6,), expected (3, 2, ...)"),
    (lambda b: {**b, "obs": b["obs"].swapaxes(0, 1)}, "batch['obs'] has shape (2, 3, 4), expected (3, 2, ...)"),
])
def test_flatten_rollout_refuses_what_is_not_a_rollout(bad, message):
    with pytest.raises(ValueError, match="^flatten_rollout: ") as err:
        cu.flatten_rollout(bad(_rollout()), 3, 2)
    assert message in str(err.value)


def _scripted_envs(log):
    scripted = checks._scripted_env_class()
    inner = gym.vector.SyncVectorEnv([lambda i=i: scripted(i) for i in range(checks.N_SCRIPTED)],
                                     autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    return cu.RecordVectorEpisodes(inner, log)


def test_record_vector_episodes_logs_each_finished_episode_with_its_return_and_step():
    log = cu.TrainingLog()
    envs = _scripted_envs(log)
    envs.reset(seed=0)
    for _ in range(10):
        envs.step(np.zeros(checks.N_SCRIPTED, np.int64))
    # the scripts: env 0 ends at its steps 4 and 10, env 1 at 5 and 10, env 2 at 7 and 9; 3 environments per step
    reward = lambda i, length: sum(1.0 + t / 10 + i / 100 for t in range(1, length + 1))  # noqa: E731
    want = [(reward(0, 4), 12), (reward(1, 5), 15), (reward(2, 7), 21), (reward(2, 2), 27),
            (reward(0, 6), 30), (reward(1, 5), 30)]
    assert log.steps == [s for _, s in want] and envs.steps == 30
    assert np.allclose(log.returns, [r for r, _ in want])


def test_an_agent_acts_with_the_weights_of_its_last_update():
    import keras
    import tensorflow as tf

    from course_utils.lessons.lesson04 import build_q_network

    keras.utils.set_random_seed(0)
    actor, critic = build_q_network(4, 2), build_q_network(4, 1)
    optimizer = keras.optimizers.SGD(0.1)

    def update(obs, actions, advantages, targets):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.squeeze(critic(obs), 1) - targets)) + tf.reduce_mean(actor(obs))
        variables = actor.trainable_variables + critic.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    agent = cu.ActorCriticAgent(actor, critic, update, np.random.default_rng(0))
    obs = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    assert np.allclose(agent.policy_logits(obs), actor(obs), atol=1e-5)
    assert agent.values(obs).shape == (5,) and np.allclose(agent.values(obs), critic(obs)[:, 0], atol=1e-5)
    before = agent.policy_logits(obs)
    agent.update(obs, np.zeros(5), np.ones(5, np.float32), np.full(5, 10.0, np.float32))
    assert not np.allclose(agent.policy_logits(obs), before)
    assert np.allclose(agent.policy_logits(obs), actor(obs), atol=1e-5)
    assert np.allclose(agent.values(obs), critic(obs)[:, 0], atol=1e-5)


def _linear_policy(w):
    """Weights of a 4-2-2 Dense-ReLU network whose greedy action is 1 exactly when w . obs > 0."""
    kernel = np.array([w, [-x for x in w]], np.float32).T
    return [kernel, np.zeros(2, np.float32), np.array([[0, 1], [1, 0]], np.float32), np.zeros(2, np.float32)]


def test_the_stop_test_passes_a_balancing_policy_and_fails_one_that_always_pushes_left():
    assert cu.greedy_stop_test(_linear_policy([0.0, 0.0, 10.0, 1.0]), "CartPole-v1", 475, seed=600_000)
    assert not cu.greedy_stop_test(_linear_policy([0.0, 0.0, 0.0, 0.0]), "CartPole-v1", 475, seed=600_000)
