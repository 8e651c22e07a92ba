"""Experience replay with preallocated NumPy arrays (introduced in lesson 04)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import positive_int, real


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

    Storage is allocated once; when full, the oldest transition is overwritten. Actions are
    one int each (discrete), or float32 arrays of ``action_shape`` when it is given (lesson 11).

    Example:
        >>> buffer = ReplayBuffer(capacity=1000, obs_shape=(4,))
        >>> buffer.add(np.zeros(4), 1, 1.0, np.ones(4), False)
        >>> len(buffer)
        1
        >>> batch = buffer.sample(1, np.random.default_rng(0))
        >>> batch.obs.shape, batch.actions
        ((1, 4), array([1]))
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype=np.float32, action_shape=None):
        self.capacity = positive_int("ReplayBuffer", "capacity", capacity)
        if isinstance(obs_shape, int):
            obs_shape = (obs_shape,)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        # discrete actions (one int each) unless action_shape is given: continuous actions, float32 (lesson 11)
        self.action_shape = None if action_shape is None else tuple(int(d) for d in np.atleast_1d(action_shape))
        self.actions = (np.zeros(self.capacity, dtype=np.int64) if self.action_shape is None
                        else np.zeros((self.capacity, *self.action_shape), dtype=np.float32))
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
        obs, next_obs = self._check_obs("obs", obs), self._check_obs("next_obs", next_obs)
        if self.action_shape is not None and np.shape(action) != self.action_shape:
            raise ValueError(f"ReplayBuffer.add: action has shape {np.shape(action)}, expected {self.action_shape} "
                             f"(the action_shape the buffer was created with)")
        i = self._next   # written only once all of it is checked: a refused transition leaves the buffer as it was
        self.obs[i], self.next_obs[i] = obs, next_obs
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


class NStepAdder:
    """Turn one-step transitions into n-step ones on their way into a replay buffer (lesson 04).

    Each stored transition starts at ``s_t`` and bootstraps ``n`` steps later: its reward is
    ``r_t + gamma r_{t+1} + ... + gamma^(n-1) r_{t+n-1}`` and its ``next_obs`` is ``s_{t+n}``,
    so a TD target computed with ``gamma ** n`` in place of ``gamma`` is the n-step target.

    At the end of an episode the transitions still waiting are handled exactly:

    - **terminated**: each is stored with the rewards up to the end and ``terminated``
      set (nothing to bootstrap, so the shorter sum is the whole return);
    - **truncated** by a time limit: they would need a bootstrap ``gamma^m`` with
      ``m < n``, which one ``gamma ** n`` cannot give, so they are dropped (the last
      ``n - 1`` states of a cut-off episode; their information reaches the buffer
      through the transitions before them). With ``n = 1`` nothing is ever dropped.

    Example:
        >>> buffer = ReplayBuffer(100, obs_shape=(1,))
        >>> adder = NStepAdder(buffer, n=2, gamma=0.5)
        >>> for t in range(3):
        ...     adder.add([t], 0, 1.0, [t + 1], terminated=(t == 2), truncated=False)
        >>> len(buffer), buffer.rewards[:3].tolist(), buffer.next_obs[:3, 0].tolist()
        (3, [1.5, 1.5, 1.0], [2.0, 3.0, 3.0])
    """

    def __init__(self, buffer: ReplayBuffer, n: int, gamma: float):
        if not isinstance(buffer, ReplayBuffer):
            raise TypeError(f"NStepAdder: buffer must be a cu.ReplayBuffer, got {type(buffer).__name__}")
        self.buffer = buffer
        self.n = positive_int("NStepAdder", "n", n)
        self.gamma = real("NStepAdder", "gamma", gamma)
        self._waiting: list[tuple] = []  # (obs, action, reward) of the last steps, oldest first

    def _store(self, next_obs, terminated: bool) -> None:
        total = sum(self.gamma ** k * reward for k, (_, _, reward) in enumerate(self._waiting))
        obs, action, _ = self._waiting.pop(0)
        self.buffer.add(obs, action, total, next_obs, terminated)

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool, truncated: bool) -> None:
        """Take one environment step; store every transition whose n steps are complete.

        Pass ``terminated`` and ``truncated`` as ``env.step`` returns them.
        """
        self._waiting.append((np.array(obs, copy=True), action, float(reward)))
        if terminated:
            while self._waiting:
                self._store(next_obs, True)
        elif len(self._waiting) == self.n:
            self._store(next_obs, False)
        if truncated and not terminated:
            self._waiting.clear()

    def __repr__(self) -> str:
        return f"NStepAdder(n={self.n}, gamma={self.gamma}, waiting={len(self._waiting)}, buffer={self.buffer!r})"
