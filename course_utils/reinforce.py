"""What lesson 07's training keeps around the episode a student plays and learns from (introduced in lesson 07).

The student writes one REINFORCE iteration: play an episode with the policy, compute
its returns to go and the advantages over the baseline, and update. ``ReinforceAgent``
is what that code talks to: sampling an action with a NumPy forward pass of the policy's
current weights, the baseline's values, and one compiled update of the policy (with the
student's loss) and of the baseline.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .acting import mlp_forward, sample_from_logits


class ReinforceAgent:
    """A policy network with a learned baseline, as lesson 07's episode code sees it.

    Args:
        obs_dim, n_actions: the environment's observation size and number of actions.
        rng: the run's ``numpy.random.Generator`` (actions are sampled with it).
        network: ``network(obs_dim, n_outputs, hidden_units) -> keras.Model`` (lesson 04's builder).
        loss: ``loss(logits, actions, weights)``, the policy-gradient loss (exercise 07.2).
        hidden_units, learning_rate, baseline_learning_rate: the networks' sizes and Adam's steps.
        use_baseline: False makes ``values`` return zeros and leaves the baseline untrained,
            so the same episode code runs REINFORCE without a baseline.
    """

    def __init__(self, obs_dim: int, n_actions: int, rng: np.random.Generator, *, network: Callable,
                 loss: Callable, hidden_units=(64, 64), learning_rate: float = 1e-3,
                 baseline_learning_rate: float = 3e-3, use_baseline: bool = True):
        import keras

        self.rng, self.n_actions, self.use_baseline, self._loss = rng, n_actions, use_baseline, loss
        self.policy = network(obs_dim, n_actions, hidden_units)
        self.baseline = network(obs_dim, 1, hidden_units)
        self._update = self._compiled_update(loss, keras.optimizers.Adam(learning_rate),
                                             keras.optimizers.Adam(baseline_learning_rate))
        self.weights, self.baseline_weights = self.policy.get_weights(), self.baseline.get_weights()
        self.updates = 0

    def sample_action(self, obs) -> int:
        """Return an action sampled from the policy's probabilities for one observation."""
        logits = mlp_forward(self.weights, np.asarray(obs, dtype=np.float32)[None])
        return int(sample_from_logits(logits, self.rng)[0])

    def values(self, observations) -> np.ndarray:
        """Return the baseline V(s) of each observation: NumPy float32, shape ``(T,)`` (zeros without a baseline)."""
        observations = np.asarray(observations, dtype=np.float32)
        if not self.use_baseline:
            return np.zeros(len(observations), np.float32)
        return mlp_forward(self.baseline_weights, observations)[:, 0].astype(np.float32)

    def update(self, observations, actions, weights, returns) -> float:
        """One gradient step of the policy on ``loss(policy(observations), actions, weights)``, and of the
        baseline towards ``returns`` (squared error); return the policy loss.

        ``observations``: ``(T, obs_dim)``; ``actions``: ints ``(T,)``; ``weights`` and ``returns``: ``(T,)``.
        """
        observations = np.asarray(observations, dtype=np.float32)
        T = len(observations)
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        weights = np.asarray(weights, dtype=np.float32).reshape(-1)
        returns = np.asarray(returns, dtype=np.float32).reshape(-1)
        if observations.ndim != 2 or not len(actions) == len(weights) == len(returns) == T:
            raise ValueError(
                f"agent.update: wanted observations (T, obs_dim) and actions, weights, returns of shape (T,); "
                f"got {observations.shape}, {actions.shape}, {weights.shape}, {returns.shape}")
        loss = self._update(observations, actions, weights, returns)
        self.weights = self.policy.get_weights()
        if self.use_baseline:
            self.baseline_weights = self.baseline.get_weights()
        self.updates += 1
        return float(loss)

    def _compiled_update(self, loss: Callable, optimizer, baseline_optimizer):
        import tensorflow as tf

        policy, baseline, use_baseline = self.policy, self.baseline, self.use_baseline

        @tf.function(reduce_retracing=True)
        def update(obs, actions, weights, returns):
            with tf.GradientTape(persistent=True) as tape:
                policy_loss = loss(policy(obs), actions, weights)
                baseline_loss = tf.reduce_mean(tf.square(returns - tf.squeeze(baseline(obs), axis=1)))
            optimizer.apply_gradients(zip(tape.gradient(policy_loss, policy.trainable_variables),
                                          policy.trainable_variables))
            if use_baseline:
                baseline_optimizer.apply_gradients(zip(tape.gradient(baseline_loss, baseline.trainable_variables),
                                                       baseline.trainable_variables))
            return policy_loss

        return update

    def gradient_variance(self, env, discounted_returns: Callable, gamma: float, episodes: int = 20) -> dict:
        """Measure what the baseline does to the policy-gradient estimate at the current policy.

        Plays ``episodes`` episodes of ``env`` with the policy; for each, computes the
        gradient of the loss weighted by ``G_t`` and by ``G_t - V(s_t)``; returns the total
        variance over the episodes of each (the sum over all parameters of the variance
        of that parameter's gradient): ``{"without baseline": ..., "with baseline": ...}``.
        """
        import tensorflow as tf

        estimates = {"without baseline": [], "with baseline": []}
        for _ in range(episodes):
            observations, actions, rewards = [], [], []
            obs, _ = env.reset()
            done = False
            while not done:
                action = self.sample_action(obs)
                observations.append(obs)
                actions.append(action)
                obs, reward, terminated, truncated, _ = env.step(action)
                rewards.append(reward)
                done = terminated or truncated
            observations = np.array(observations, np.float32)
            returns = np.asarray(discounted_returns(rewards, gamma), np.float32)
            baseline = mlp_forward(self.baseline_weights, observations)[:, 0].astype(np.float32)
            for name, weights in (("without baseline", returns), ("with baseline", returns - baseline)):
                with tf.GradientTape() as tape:
                    loss = self._loss(self.policy(observations), np.array(actions), weights)
                grads = tape.gradient(loss, self.policy.trainable_variables)
                estimates[name].append(np.concatenate([np.asarray(g).ravel() for g in grads]))
        return {name: float(np.var(np.stack(grads), axis=0).sum()) for name, grads in estimates.items()}
