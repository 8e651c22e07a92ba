"""REINFORCE with a normalised-return baseline, as lesson 06 builds it (reference version)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..envs import CountSteps, make_env, seed_everything
from ..evaluation import passes_with_margin
from ..networks import build_mlp, mlp_forward, sample_from_logits


def discounted_returns(rewards, gamma: float) -> np.ndarray:
    """Return the return to go ``G_t = r_t + gamma * G_{t+1}`` of every step of one episode."""
    returns, future = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def normalize_returns(returns) -> np.ndarray:
    """Return ``(returns - mean) / (std + 1e-8)``."""
    returns = np.asarray(returns, dtype=float)
    return (returns - returns.mean()) / (returns.std() + 1e-8)


def policy_gradient_loss(logits, actions, weights):
    """Return the mean of ``-log pi(a|s) * weight`` with no gradient into the weights."""
    import tensorflow as tf

    taken = tf.gather(tf.nn.log_softmax(logits), actions, axis=1, batch_dims=1)
    return -tf.reduce_mean(taken * tf.stop_gradient(tf.cast(weights, taken.dtype)))


build_policy_network = build_mlp  # observations -> action logits


@dataclass
class TrainingLog:
    """What a training run did: per-episode return, env steps and seconds at the episode's end."""

    returns: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    weights: list | None = None
    solved: bool = False


def train_reinforce(seed: int = 0, gamma: float = 0.99, learning_rate: float = 1e-3, max_episodes: int = 2000,
                    threshold: float = 475, eval_every: int = 20, env_id: str = "CartPole-v1") -> TrainingLog:
    """Train REINFORCE until the greedy policy passes ``passes_with_margin`` at ``threshold``."""
    import keras
    import tensorflow as tf

    rng = seed_everything(seed, keras=True)
    env = CountSteps(make_env(env_id, seed=seed))
    policy = build_policy_network(int(env.observation_space.shape[0]), int(env.action_space.n))
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function(reduce_retracing=True)
    def train_step(obs, actions, weights):
        with tf.GradientTape() as tape:
            loss = policy_gradient_loss(policy(obs), actions, weights)
        optimizer.apply_gradients(zip(tape.gradient(loss, policy.trainable_variables), policy.trainable_variables))

    log, weights, start = TrainingLog(), policy.get_weights(), time.perf_counter()
    for episode in range(max_episodes):
        obs, _ = env.reset()
        observations, actions, rewards, done = [], [], [], False
        while not done:
            action = int(sample_from_logits(mlp_forward(weights, obs[None]), rng)[0])
            observations.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
        step_weights = normalize_returns(discounted_returns(rewards, gamma)).astype(np.float32)
        train_step(np.array(observations, np.float32), np.array(actions), step_weights)
        weights = policy.get_weights()
        log.returns.append(sum(rewards))
        log.steps.append(env.steps)
        log.seconds.append(time.perf_counter() - start)
        if (episode + 1) % eval_every == 0 and np.mean(log.returns[-eval_every:]) >= 0.8 * threshold:
            frozen = [w.copy() for w in weights]
            if passes_with_margin(lambda o: mlp_forward(frozen, o).argmax(axis=1), env_id, threshold,
                                  seed=500_000 + episode):
                log.solved = True
                break
    log.weights = weights
    return log
