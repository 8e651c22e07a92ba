"""Experience replay with preallocated NumPy arrays (introduced in lesson 03)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import positive_int


class Batch(NamedTuple):
    """A batch of transitions; every field has ``batch_size`` rows.

    ``terminated`` is 1.0 where the episode really ended (no bootstrap) and 0.0
    otherwise, including where it was only truncated by a time limit.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray


class ReplayBuffer:
    """A fixed-size ring buffer of transitions ``(obs, action, reward, next_obs, terminated)``.

    Storage is allocated once; when full, the oldest transition is overwritten.

    Example:
        >>> buffer = ReplayBuffer(capacity=1000, obs_shape=(4,))
        >>> buffer.add(np.zeros(4), 1, 1.0, np.ones(4), False)
        >>> len(buffer)
        1
        >>> batch = buffer.sample(1, np.random.default_rng(0))
        >>> batch.obs.shape, batch.actions
        ((1, 4), array([1]))
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype=np.float32):
        self.capacity = positive_int("ReplayBuffer", "capacity", capacity)
        if isinstance(obs_shape, int):
            obs_shape = (obs_shape,)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self._next = 0  # where the next transition goes
        self._size = 0

    def __len__(self) -> int:
        """Return how many transitions are stored (at most ``capacity``)."""
        return self._size

    def _check_obs(self, name: str, value) -> np.ndarray:
        value = np.asarray(value)
        if value.shape != self.obs_shape:
            raise ValueError(
                f"ReplayBuffer.add: {name} has shape {value.shape}, expected {self.obs_shape} "
                f"(the obs_shape the buffer was created with). Store one transition per call; "
                f"for a vector env, call add once per sub-environment."
            )
        return value

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition, overwriting the oldest when the buffer is full.

        Pass ``terminated`` from ``env.step``, not ``terminated or truncated``:
        a truncated episode still bootstraps from ``next_obs``.
        """
        i = self._next
        self.obs[i] = self._check_obs("obs", obs)
        self.next_obs[i] = self._check_obs("next_obs", next_obs)
        self.actions[i] = action
        self.rewards[i] = reward
        self.terminated[i] = float(bool(terminated))
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Return ``batch_size`` transitions drawn uniformly (with replacement) using ``rng``."""
        batch_size = positive_int("ReplayBuffer.sample", "batch_size", batch_size)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                "ReplayBuffer.sample: rng must be a numpy.random.Generator, "
                f"e.g. np.random.default_rng(0); got {type(rng).__name__}"
            )
        if batch_size > self._size:
            raise ValueError(
                f"ReplayBuffer.sample: asked for {batch_size} transitions but the buffer holds "
                f"only {self._size}; start learning once len(buffer) >= batch_size."
            )
        idx = rng.integers(0, self._size, size=batch_size)
        return Batch(
            self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminated[idx]
        )

    def __repr__(self) -> str:
        return f"ReplayBuffer(capacity={self.capacity}, obs_shape={self.obs_shape}, len={self._size})"
