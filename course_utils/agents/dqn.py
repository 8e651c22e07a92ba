"""DQN as lesson 03 builds it (reference version), with the switches lessons 04 and 05 add.

``train_dqn`` runs lesson 03's loop: NumPy acting, 16 gradient steps per compiled
call, greedy evaluation every ``eval_every`` steps, stop at the threshold. Its
``target_update`` chooses no target network, hard copies or soft (Polyak) updates.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..envs import make_env, seed_everything
from ..evaluation import evaluate
from ..networks import build_mlp, mlp_forward
from ..replay import Batch, ReplayBuffer
from ..schedules import LinearSchedule
from .tabular import epsilon_greedy


build_q_network = build_mlp  # observations -> one Q-value per action (lesson 03's exercise 03.1)


def td_targets(rewards, next_q_values, terminated, gamma):
    """Return ``r + gamma * (1 - terminated) * max_a' Q(s', a')``."""
    import tensorflow as tf

    return rewards + gamma * (1.0 - terminated) * tf.reduce_max(next_q_values, axis=1)


def dqn_loss(q_network, batch, targets):
    """Return the mean Huber error between Q(s, a) of the taken actions and the constant targets."""
    import keras
    import tensorflow as tf

    q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
    return keras.losses.Huber()(tf.stop_gradient(targets), q_taken)


def dqn_train_step(q_network, optimizer, batch, gamma, target_network=None):
    """Take one gradient step towards the TD targets (from ``target_network`` if given); return the loss."""
    import tensorflow as tf

    bootstrap = q_network if target_network is None else target_network
    targets = td_targets(batch.rewards, bootstrap(batch.next_obs), batch.terminated, gamma)
    with tf.GradientTape() as tape:
        loss = dqn_loss(q_network, batch, targets)
    optimizer.apply_gradients(zip(tape.gradient(loss, q_network.trainable_variables), q_network.trainable_variables))
    return loss


def hard_update(target, online) -> None:
    """Copy every weight of ``online`` into ``target``."""
    target.set_weights(online.get_weights())


def soft_update(target, online, tau: float) -> None:
    """Move every weight of ``target`` a fraction ``tau`` towards ``online`` (traceable in tf.function)."""
    for t, o in zip(target.weights, online.weights):
        t.assign(tau * o + (1.0 - tau) * t)


@dataclass
class DQNSettings:
    """Lesson 03's settings; one place to change them."""

    hidden_units: tuple = (64, 64)
    gamma: float = 0.99
    learning_rate: float = 1e-3
    buffer_size: int = 100_000
    batch_size: int = 64
    learning_starts: int = 1_000
    train_every: int = 16           # env steps per compiled call = gradient steps per call
    hard_copy_every: int = 6        # compiled calls between hard copies (96 gradient steps)
    tau: float = 0.01               # soft update after every gradient step
    epsilon_steps: int = 10_000
    max_steps: int = 100_000
    eval_every: int = 1_000
    threshold: float = 475.0


@dataclass
class DQNLog:
    """A run: episode returns and their end steps, greedy evaluations, time, the kept network."""

    returns: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    evals: list = field(default_factory=list)    # (env step, greedy mean over 10 episodes)
    seconds: float = 0.0
    env_steps: int = 0
    weights: list | None = None
    solved: bool = False


def train_dqn(seed: int = 0, target_update: str = "hard", settings: DQNSettings | None = None,
              hard: Callable = hard_update, soft: Callable = soft_update, stop_when_solved: bool = True,
              env_id: str = "CartPole-v1") -> DQNLog:
    """Train DQN; ``target_update`` is ``"none"``, ``"hard"`` or ``"soft"``.

    ``hard(target, online)`` and ``soft(target, online, tau)`` do the updates. The kept
    network is the one that passed the 100-episode test, else the best 10-episode evaluation.
    """
    import keras
    import tensorflow as tf

    if target_update not in ("none", "hard", "soft"):
        raise ValueError(f"train_dqn: target_update must be 'none', 'hard' or 'soft', got {target_update!r}")
    s = settings or DQNSettings()
    rng = seed_everything(seed, keras=True)
    env = make_env(env_id, seed=seed)
    obs_dim, n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)
    online = build_q_network(obs_dim, n_actions, s.hidden_units)
    target = build_q_network(obs_dim, n_actions, s.hidden_units)
    target.set_weights(online.get_weights())
    bootstrap = None if target_update == "none" else target
    optimizer = keras.optimizers.Adam(s.learning_rate, clipnorm=10.0)
    epsilon = LinearSchedule(1.0, 0.05, s.epsilon_steps)

    @tf.function(jit_compile=True)
    def train_many(obs, actions, rewards, next_obs, terminated):
        total = tf.constant(0.0)
        for i in tf.range(s.train_every):
            batch = Batch(obs[i], actions[i], rewards[i], next_obs[i], terminated[i])
            total += dqn_train_step(online, optimizer, batch, s.gamma, bootstrap)
            if target_update == "soft":
                soft(target, online, s.tau)
        return total / s.train_every

    buffer = ReplayBuffer(s.buffer_size, (obs_dim,))
    log, weights, calls, running, best = DQNLog(), online.get_weights(), 0, 0.0, -np.inf
    obs, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for step in range(1, s.max_steps + 1):
        action = epsilon_greedy(mlp_forward(weights, obs[None])[0], epsilon(step), rng)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)
        obs, running = next_obs, running + reward
        if terminated or truncated:
            log.returns.append(running)
            log.steps.append(step)
            obs, running = env.reset()[0], 0.0
        if step >= s.learning_starts and step % s.train_every == 0:
            batches = [buffer.sample(s.batch_size, rng) for _ in range(s.train_every)]
            train_many(*(np.stack(f) for f in zip(*batches)))
            weights, calls = online.get_weights(), calls + 1
            if target_update == "hard" and calls % s.hard_copy_every == 0:
                hard(target, online)
        if step >= s.learning_starts and step % s.eval_every == 0:
            frozen = [w.copy() for w in weights]
            policy = lambda o, w=frozen: mlp_forward(w, o).argmax(axis=1)  # noqa: E731
            quick = evaluate(policy, env_id, 10, seed=100_000 + step).mean()
            log.evals.append((step, quick))
            if quick > best:
                best, log.weights = quick, frozen
            if (stop_when_solved and quick >= s.threshold
                    and evaluate(policy, env_id, 100, seed=200_000 + step).mean() >= s.threshold):
                log.weights, log.solved = frozen, True
                break
    log.seconds, log.env_steps = time.perf_counter() - start, step
    return log
