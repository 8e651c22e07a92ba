"""What lesson 08's training loop keeps around the rollout a student writes (introduced in lesson 08).

The student writes the rollout: sample actions from the actor, step the vector
environment, gather the transitions (with the real last observation of each episode
that ended). ``ActorCriticAgent`` is what the rollout and the loop talk to, and holds
what is not the point of that exercise: acting with a NumPy forward pass of the
actor's current weights, the critic's values, and the compiled update.
``RecordVectorEpisodes`` logs every finished episode whatever the rollout does;
``flatten_rollout`` turns a rollout into one batch. (The stop test is
``cu.greedy_stop_test``, shared with lesson 07.)
"""
from __future__ import annotations

from typing import Callable, Mapping

import gymnasium as gym
import numpy as np

from .acting import mlp_forward

ROLLOUT_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")


class ActorCriticAgent:
    """An actor-critic agent as the rollout and the loop see it.

    The rollout uses ``policy_logits`` and ``rng``; the loop uses ``values``, ``update``
    and the weights. Acting and values are NumPy forward passes of the networks'
    weights as they were after the last ``update``.

    Args:
        actor: a Dense-ReLU Keras model, observations -> one logit per action.
        critic: a Dense-ReLU Keras model, observations -> one value.
        update: ``update(obs, actions, advantages, targets)``, one compiled gradient step of both
            networks (lesson 08's ``build_update``); what it returns, ``update`` returns.
        rng: the run's ``numpy.random.Generator``, for sampling actions.
    """

    def __init__(self, actor, critic, update: Callable, rng: np.random.Generator):
        self.actor, self.critic, self._update, self.rng = actor, critic, update, rng
        self.actor_weights, self.critic_weights = actor.get_weights(), critic.get_weights()

    def policy_logits(self, obs) -> np.ndarray:
        """Return the actor's logits for a batch of observations ``(n, obs_dim)``: NumPy, shape ``(n, n_actions)``."""
        return mlp_forward(self.actor_weights, obs)

    def values(self, obs) -> np.ndarray:
        """Return the critic's V(s) for a batch of observations ``(n, obs_dim)``: NumPy float32, shape ``(n,)``."""
        return mlp_forward(self.critic_weights, obs)[:, 0]

    def update(self, obs, actions, advantages, targets):
        """Take one gradient step of the actor and one of the critic; refresh the weights acting uses."""
        out = self._update(obs, np.asarray(actions, dtype=np.int64), advantages, targets)
        self.actor_weights, self.critic_weights = self.actor.get_weights(), self.critic.get_weights()
        return out


def flatten_rollout(batch: Mapping, steps: int, n_envs: int) -> dict:
    """Return a rollout's arrays ``(steps, n_envs, ...)`` as one batch ``(steps * n_envs, ...)``, step by step.

    Observations, rewards and ``terminated`` become float32, actions int64. Raises
    ``ValueError`` naming the field when a field is missing or of another shape.

    Example:
        >>> b = {"obs": np.zeros((2, 3, 4)), "actions": np.zeros((2, 3), int), "rewards": np.ones((2, 3)),
        ...      "next_obs": np.zeros((2, 3, 4)), "terminated": np.zeros((2, 3))}
        >>> {k: v.shape for k, v in flatten_rollout(b, 2, 3).items()}["obs"]
        (6, 4)
    """
    if not isinstance(batch, Mapping) or set(ROLLOUT_FIELDS) - set(batch):
        raise ValueError(f"flatten_rollout: the rollout must be a dict with the keys {', '.join(ROLLOUT_FIELDS)}, "
                         f"got {type(batch).__name__}" + (f" with {sorted(batch)}" if isinstance(batch, Mapping) else ""))
    flat = {}
    for key in ROLLOUT_FIELDS:
        value = np.asarray(batch[key])
        if value.shape[:2] != (steps, n_envs):
            raise ValueError(f"flatten_rollout: batch[{key!r}] has shape {value.shape}, expected ({steps}, {n_envs}, ...) "
                             f"(steps, environments, ...)")
        flat[key] = value.reshape((steps * n_envs,) + value.shape[2:]).astype(
            np.int64 if key == "actions" else np.float32, copy=False)
    return flat


class RecordVectorEpisodes(gym.vector.VectorWrapper):
    """Add each finished episode of a vector environment to ``log`` (a ``cu.TrainingLog``).

    Counts every environment step taken through it (``steps``, all environments
    together), so the log is right whatever the rollout does.
    """

    def __init__(self, envs: gym.vector.VectorEnv, log):
        super().__init__(envs)
        self.log, self.steps, self._running = log, 0, np.zeros(envs.num_envs)

    def reset(self, **kwargs):
        self._running[:] = 0.0
        return self.env.reset(**kwargs)

    def step(self, actions):
        result = self.env.step(actions)
        self.steps += self.num_envs
        self._running += result[1]
        for i in np.flatnonzero(np.logical_or(result[2], result[3])):
            self.log.add(self._running[i], self.steps)
            self._running[i] = 0.0
        return result
