"""Tiny scripted environments the checks use to see exactly what student code does."""
from __future__ import annotations

import gymnasium as gym
import numpy as np


class SteppedAfterEnd(RuntimeError):
    """Raised when code calls ``step`` on an episode that already ended."""


class SteppedBeforeReset(RuntimeError):
    """Raised when code calls ``step`` before the first ``reset``."""


class ScriptedEnv(gym.Env):
    """An episode with given rewards that ends (terminated or truncated) after the last one.

    The observation at step ``t`` is ``[t, 0, 0, 0]``. It records the seeds given to
    ``reset``, the observations passed in and the actions taken.
    """

    metadata = {"render_modes": []}

    def __init__(self, rewards, end: str = "terminated"):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.rewards, self.end = list(rewards), end
        self.seeds, self.actions, self.t, self.done = [], [], 0, True

    def _obs(self):
        return np.array([self.t, 0, 0, 0], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seeds.append(seed)
        self.t, self.done = 0, False
        return self._obs(), {}

    def step(self, action):
        if not self.seeds:
            raise SteppedBeforeReset("step() was called before reset()")
        if self.done:
            raise SteppedAfterEnd("step() was called after the episode had ended")
        self.actions.append(action)
        reward = self.rewards[self.t]
        self.t += 1
        last = self.t == len(self.rewards)
        self.done = last
        return self._obs(), reward, last and self.end == "terminated", last and self.end == "truncated", {}


class TargetEnv(gym.Env):
    """Reward 1 per step while the action matches a hidden linear rule; ends on the first miss.

    Observations come from fixed lists, so an episode's return depends only on the
    policy and on which of ``variants`` lists the episode uses (episode ``j`` uses
    list ``j % variants``): a deterministic stand-in for CartPole whose episodes can
    differ, when checking a search. It records every episode's return and the seed
    given to each ``reset``.
    """

    metadata = {"render_modes": []}

    def __init__(self, seed: int = 0, horizon: int = 20, variants: int = 1):
        rng = np.random.default_rng(seed)
        self.target = rng.normal(size=4)
        self.variants = rng.normal(size=(variants, horizon + 1, 4)).astype(np.float32)
        self.observations = self.variants[0]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.horizon, self.returns, self.seeds, self.t, self.total = horizon, [], [], 0, 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.observations = self.variants[len(self.seeds) % len(self.variants)]
        self.seeds.append(seed)
        self.t, self.total = 0, 0.0
        return self.observations[0], {}

    def step(self, action):
        right = int(self.target @ self.observations[self.t] > 0)
        hit = int(action) == right
        self.t += 1
        self.total += float(hit)
        terminated, truncated = not hit, hit and self.t == self.horizon
        if terminated or truncated:
            self.returns.append(self.total)
        return self.observations[self.t], float(hit), terminated, truncated, {}
