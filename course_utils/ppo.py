"""What lesson 09's PPO loop keeps around the code a student writes (introduced in lesson 09).

The student writes generalised advantage estimation, the clipped surrogate loss and
the update loop over epochs and minibatches. ``PPOAgent`` is what that loop talks to:
it samples actions and gives values and log-probabilities with NumPy forward passes of
the networks' current weights (as ``cu.ActorCriticAgent`` does), and runs one compiled
gradient step per minibatch. ``RecordVectorRollout`` logs every finished episode, as
``cu.RecordVectorEpisodes`` does, and also keeps which environments were truncated at
each step, which lesson 08's rollout does not return and GAE needs.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from .acting import mlp_forward
from .actor_critic import RecordVectorEpisodes

MINIBATCH_FIELDS = ("obs", "actions", "old_log_probs", "advantages", "returns")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Return log softmax(logits) along the last axis, computed stably in NumPy."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class PPOAgent:
    """A PPO agent as the rollout, the update loop and the training loop see it.

    The rollout uses ``policy_logits`` and ``rng`` (lesson 08's ``collect_rollout``
    works unchanged); the loop uses ``values`` and ``log_probs``; the update loop uses
    ``train_step`` and ``rng``. Acting, values and log-probabilities are NumPy forward
    passes of the weights as they were after the last ``train_step``.

    Args:
        actor: a Dense-ReLU Keras model, observations -> one logit per action.
        critic: a Dense-ReLU Keras model, observations -> one value.
        step: ``step(obs, actions, old_log_probs, advantages, returns)``, one compiled
            gradient step on a minibatch (lesson 09's ``build_train_step``); it returns
            a tensor of statistics, which ``train_step`` returns as NumPy.
        rng: the run's ``numpy.random.Generator``, for sampling actions and shuffling.
    """

    def __init__(self, actor, critic, step: Callable, rng: np.random.Generator):
        self.actor, self.critic, self._step, self.rng = actor, critic, step, rng
        self.steps_taken = 0
        self._refresh()

    def _refresh(self):
        self._actor_weights, self._critic_weights = self.actor.get_weights(), self.critic.get_weights()
        self._stale = False

    @property
    def actor_weights(self) -> list:
        """The actor's weights after the last ``train_step`` (NumPy arrays)."""
        if self._stale:
            self._refresh()
        return self._actor_weights

    @property
    def critic_weights(self) -> list:
        """The critic's weights after the last ``train_step`` (NumPy arrays)."""
        if self._stale:
            self._refresh()
        return self._critic_weights

    def policy_logits(self, obs) -> np.ndarray:
        """Return the actor's logits for observations ``(n, obs_dim)``: NumPy, shape ``(n, n_actions)``."""
        return mlp_forward(self.actor_weights, obs)

    def values(self, obs) -> np.ndarray:
        """Return the critic's V(s) for observations ``(n, obs_dim)``: NumPy float32, shape ``(n,)``."""
        return mlp_forward(self.critic_weights, obs)[:, 0]

    def log_probs(self, obs, actions) -> np.ndarray:
        """Return log pi(a | s) of the current policy for each row: NumPy float32, shape ``(n,)``."""
        actions = np.asarray(actions, dtype=np.int64)
        logp = log_softmax(self.policy_logits(obs))
        return logp[np.arange(len(actions)), actions].astype(np.float32)

    def train_step(self, minibatch: Mapping) -> np.ndarray:
        """Take one gradient step on a minibatch: a dict with the keys ``obs`` ``(m, obs_dim)``,
        ``actions`` ``(m,)``, ``old_log_probs``, ``advantages`` and ``returns`` (each ``(m,)``).

        Raises ``ValueError`` naming the key when one is missing or its length differs.
        """
        if not isinstance(minibatch, Mapping) or set(MINIBATCH_FIELDS) - set(minibatch):
            got = sorted(minibatch) if isinstance(minibatch, Mapping) else type(minibatch).__name__
            raise ValueError(f"train_step: the minibatch must be a dict with the keys {', '.join(MINIBATCH_FIELDS)}; got {got}")
        m = len(minibatch["obs"])
        for key in MINIBATCH_FIELDS:
            if len(minibatch[key]) != m:
                raise ValueError(f"train_step: minibatch[{key!r}] has {len(minibatch[key])} rows, "
                                 f"minibatch['obs'] has {m}: take the same indices from every array")
        out = self._step(np.asarray(minibatch["obs"], dtype=np.float32),
                         np.asarray(minibatch["actions"], dtype=np.int64),
                         *(np.asarray(minibatch[k], dtype=np.float32) for k in MINIBATCH_FIELDS[2:]))
        self._stale = True
        self.steps_taken += 1
        return np.asarray(out)


class RecordVectorRollout(RecordVectorEpisodes):
    """``cu.RecordVectorEpisodes`` that also keeps each step's ``truncated`` flags.

    ``take_truncated()`` returns the flags of the steps since its last call, as a float32
    array ``(steps, n_envs)`` (1.0 where the time limit cut the episode), and forgets them.
    """

    def __init__(self, envs, log):
        super().__init__(envs, log)
        self._truncated: list = []

    def step(self, actions):
        result = super().step(actions)
        self._truncated.append(np.asarray(result[3], dtype=np.float32))
        return result

    def take_truncated(self) -> np.ndarray:
        flags = np.array(self._truncated, dtype=np.float32).reshape(len(self._truncated), self.num_envs)
        self._truncated = []
        return flags
