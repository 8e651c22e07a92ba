"""Lesson 02's epsilon-greedy rule, the reference version later lessons act with."""
from __future__ import annotations

import numpy as np


def epsilon_greedy(q_values, epsilon: float, rng: np.random.Generator) -> int:
    """Return a uniformly random action with probability epsilon, else a greedy one (ties at random)."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    q_values = np.asarray(q_values)
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))
