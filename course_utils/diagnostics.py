"""Measurements that tell whether an agent's values mean what they should (lesson 05)."""
from __future__ import annotations

import numpy as np

from .acting import mlp_forward
from .envs import make_env


def greedy_q_vs_returns(weights, gamma: float = 0.99, episodes: int = 5, seed: int = 0,
                        env_id: str = "CartPole-v1", horizon: int = 250):
    """Measure overestimation: run greedy episodes; return (predicted, obtained) per visited state.

    ``predicted`` is ``max_a Q(s_t, a)`` of the network with NumPy acting ``weights``
    (``cu.acting_weights``); ``obtained`` is the discounted return
    ``sum_k gamma^k r_{t+k}`` the same greedy policy then collected. An episode cut off
    by the time limit has no rewards after the cut, so only its states with at least
    ``horizon`` steps still to go count (the missing tail is then at most
    ``gamma^horizon / (1 - gamma)``, about 8 for 0.99 and 250). Returns two 1-D arrays
    of the same length.
    """
    from .lessons.lesson06 import discounted_returns  # lesson 06's exercise, as its solution wrote it

    env = make_env(env_id)
    predicted, obtained = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        q_values, rewards, done = [], [], False
        while not done:
            q = mlp_forward(weights, obs[None])[0]
            obs, reward, terminated, truncated, _ = env.step(int(q.argmax()))
            q_values.append(q.max())
            rewards.append(reward)
            done = terminated or truncated
        returns = discounted_returns(rewards, gamma)
        keep = len(rewards) - horizon if truncated else len(rewards)
        predicted.extend(q_values[:max(keep, 0)])
        obtained.extend(returns[:max(keep, 0)])
    env.close()
    return np.asarray(predicted, dtype=float), np.asarray(obtained, dtype=float)
