"""What lesson 11's soft actor-critic loop keeps around the code a student writes (introduced in lesson 11).

The student writes the squashed-Gaussian sample and its log-probability, the critics'
soft targets, the actor and temperature losses, and one step of the loop. ``SACAgent``
is what that step talks to: it acts with a NumPy forward pass of the actor's current
weights (uniformly at random before ``learning_starts``), keeps the replay buffer of
continuous actions, and runs ``train_every`` gradient steps of the actor, both critics
and the temperature in one compiled call (the lesson's ``build_update``), drawing the
Gaussian noise of every sample from the run's generator. ``TwinCritics`` holds the two
critics and their Polyak-averaged target copies. ``deterministic_policy`` and
``scale_actions`` give the policy that evaluation and video use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .acting import mlp_forward
from .replay import ReplayBuffer

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0   # the actor's log standard deviations are clipped to this range


def scale_actions(actions, low, high) -> np.ndarray:
    """Map actions in [-1, 1] onto the box [low, high] (-1 to low, +1 to high), element-wise.

    Example:
        >>> scale_actions(np.array([[-1.0], [0.0], [1.0]]), np.array([-2.0]), np.array([2.0])).ravel().tolist()
        [-2.0, 0.0, 2.0]
    """
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    return low + (np.asarray(actions, np.float32) + 1.0) * 0.5 * (high - low)


def policy_mean_and_log_std(weights, obs) -> tuple[np.ndarray, np.ndarray]:
    """Return the actor's Gaussian means and clipped log standard deviations for a batch, each ``(n, act_dim)``."""
    out = mlp_forward(weights, obs)
    mean, log_std = np.split(out, 2, axis=1)
    return mean, np.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)


def deterministic_policy(weights, low, high) -> Callable:
    """Return the policy that acts with tanh of the Gaussian's mean, scaled to [low, high] (batched, NumPy).

    This is the policy SAC is evaluated with: the mean action, without the exploration noise.
    """
    frozen = [np.array(w, copy=True) for w in weights]
    return lambda obs: scale_actions(np.tanh(policy_mean_and_log_std(frozen, obs)[0]), low, high)


class Critic:
    """A Keras critic of ``(observation, action)`` pairs, called as ``critic(obs, actions)`` -> ``(batch,)``."""

    def __init__(self, model):
        self.model = model

    def __call__(self, obs, actions):
        import tensorflow as tf

        return tf.squeeze(self.model(tf.concat([obs, actions], axis=1)), axis=1)


class TwinCritics:
    """Two critics and a target copy of each: ``q1``, ``q2``, ``target_q1``, ``target_q2``.

    Each is a ``Critic``: ``critics.target_q1(obs, actions)`` gives float32 ``(batch,)``. The
    targets start as copies of the online critics; ``update_targets(soft, tau)`` moves them
    with ``soft(target_model, online_model, tau)`` (lesson 05's soft update).

    Args:
        build: ``build() -> keras.Model`` from ``obs_dim + act_dim`` inputs to one output; called four times.
    """

    def __init__(self, build: Callable):
        self.q1, self.q2, self.target_q1, self.target_q2 = (Critic(build()) for _ in range(4))
        self.target_q1.model.set_weights(self.q1.model.get_weights())
        self.target_q2.model.set_weights(self.q2.model.get_weights())

    @property
    def trainable_variables(self) -> list:
        """The online critics' trainable variables (the targets are never trained)."""
        return self.q1.model.trainable_variables + self.q2.model.trainable_variables

    def update_targets(self, soft: Callable, tau: float) -> None:
        """Move both target critics a fraction ``tau`` towards their online critic."""
        soft(self.target_q1.model, self.q1.model, tau)
        soft(self.target_q2.model, self.q2.model, tau)


class SACAgent:
    """A SAC agent as the loop step sees it: ``act``, ``store``, ``train``, ``rng``, ``settings``.

    Args:
        actor: a Dense-ReLU Keras model, observations -> ``2 * act_dim`` outputs (means, then log standard deviations).
        update: ``update(obs, actions, rewards, next_obs, terminated, noise, next_noise)``, ``settings.train_every``
            gradient steps in one compiled call on stacked batches (lesson 11's ``build_update``); it returns
            ``(critic_loss, alpha, entropy)``.
        settings: lesson 11's ``SACSettings`` (or anything with its fields).
        rng: the run's ``numpy.random.Generator``: acting, sampling the buffer and the noise all draw from it.
    """

    def __init__(self, actor, update: Callable, settings, rng: np.random.Generator):
        self.actor, self._update, self.settings, self.rng = actor, update, settings, rng
        obs_dim, outputs = int(actor.inputs[0].shape[-1]), int(actor.outputs[0].shape[-1])
        if outputs % 2:
            raise ValueError(f"SACAgent: the actor has {outputs} outputs; it needs two per action dimension "
                             f"(means, then log standard deviations)")
        self.act_dim = outputs // 2
        self.buffer = ReplayBuffer(settings.buffer_size, obs_shape=(obs_dim,), action_shape=(self.act_dim,))
        self.actor_weights = actor.get_weights()
        self.history: list = []   # (env step of the call, critic loss, temperature alpha, policy entropy) per train()
        self.steps = 0

    def act(self, obs, step: int) -> np.ndarray:
        """Return the action for one observation at environment step ``step``: float32 ``(act_dim,)`` in [-1, 1].

        Uniformly random up to ``settings.learning_starts``; after it, tanh of a sample of the actor's Gaussian.
        """
        self.steps = step
        if step <= self.settings.learning_starts:
            return self.rng.uniform(-1.0, 1.0, self.act_dim).astype(np.float32)
        mean, log_std = policy_mean_and_log_std(self.actor_weights, np.asarray(obs, np.float32)[None])
        return np.tanh(mean[0] + np.exp(log_std[0]) * self.rng.standard_normal(self.act_dim)).astype(np.float32)

    def store(self, obs, action, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition; ``action`` is the one ``act`` gave, in [-1, 1], before any scaling."""
        action = np.asarray(action, np.float32)
        if action.shape == (self.act_dim,) and np.any(np.abs(action) > 1.0 + 1e-6):
            raise ValueError(f"SACAgent.store: the action {np.round(action.astype(float), 3).tolist()} lies outside "
                             f"[-1, 1]; store the action agent.act gave, before scaling it to the environment's "
                             f"bounds (the policy's tanh and the critics work in [-1, 1])")
        self.buffer.add(obs, action, reward, next_obs, terminated)

    def train(self) -> float:
        """Run ``settings.train_every`` gradient steps on batches drawn from the buffer; return the critic loss."""
        s = self.settings
        k, b = s.train_every, s.batch_size
        batches = [self.buffer.sample(b, self.rng) for _ in range(k)]
        noise = self.rng.standard_normal((2, k, b, self.act_dim)).astype(np.float32)
        critic_loss, alpha, entropy = self._update(*(np.stack(field) for field in zip(*batches)), noise[0], noise[1])
        self.actor_weights = self.actor.get_weights()
        self.history.append((self.steps, float(critic_loss), float(alpha), float(entropy)))
        return float(critic_loss)
