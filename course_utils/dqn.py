"""What lesson 04's training loop keeps around the step a student writes (introduced in lesson 04).

The student writes one step of the DQN loop: act, step the environment, store the
transition, reset at an episode's end, train when it is due. ``DQNAgent`` is what
that step talks to, and holds what is not the point of that exercise: acting with a
NumPy forward pass of the network's current weights, the n-step replay buffer, and
the compiled update (``train_every`` gradient steps in one XLA call) with the target
network's updates. ``GreedyEvaluator`` is the periodic greedy evaluation and stop
test (``cu.RecordEpisodes`` logs every finished episode, whatever the step does).
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .acting import acting_weights, mlp_forward
from .evaluation import evaluate, passes_with_margin
from .replay import NStepAdder, ReplayBuffer
from .schedules import LinearSchedule

TARGET_UPDATES = ("none", "hard", "soft")


class DQNAgent:
    """A DQN agent as the loop step sees it: ``q_values``, ``epsilon``, ``store``, ``train``.

    Args:
        obs_dim, n_actions: the environment's observation size and number of actions.
        settings: lesson 04's ``DQNSettings`` (or anything with its fields).
        rng: the run's ``numpy.random.Generator`` (acting and sampling draw from it).
        network: ``network(obs_dim, n_actions, hidden_units) -> keras.Model``.
        train_step: ``train_step(q_network, optimizer, batch, gamma, target_network)``.
        target_update: ``"hard"`` copies the online network into the frozen one every
            ``settings.target_copy_every`` calls of ``train`` (with ``hard(target, online)``
            if given), ``"soft"`` calls ``soft(target, online, tau)`` after every gradient
            step (lesson 05), ``"none"`` bootstraps from the online network itself.
    """

    def __init__(self, obs_dim: int, n_actions: int, settings, rng: np.random.Generator, *,
                 network: Callable, train_step: Callable, target_update: str = "hard",
                 hard: Callable | None = None, soft: Callable | None = None):
        if target_update not in TARGET_UPDATES:
            raise ValueError(f"train_dqn: target_update must be 'none', 'hard' or 'soft', got {target_update!r}")
        if target_update == "soft" and soft is None:
            raise ValueError("train_dqn: target_update='soft' needs soft=, a function soft(target, online, tau)")
        import keras

        self.settings, self.rng, self.n_actions = settings, rng, n_actions
        self.online = network(obs_dim, n_actions, settings.hidden_units)
        self.target = network(obs_dim, n_actions, settings.hidden_units)
        self.target.set_weights(self.online.get_weights())
        self.target_update, self._hard, self._soft = target_update, hard, soft
        self.optimizer = keras.optimizers.Adam(settings.learning_rate, clipnorm=10.0)
        self.buffer = ReplayBuffer(settings.buffer_size, obs_shape=(obs_dim,))
        self._adder = NStepAdder(self.buffer, settings.n_step, settings.gamma)
        self._epsilon = LinearSchedule(1.0, 0.05, duration=settings.epsilon_steps)
        self._train_many = self._compiled_update(train_step)
        self.weights = acting_weights(self.online)   # what q_values acts with; refreshed by train
        self.calls, self.loss, self.max_q, self._summarized = 0, None, None, 0

    def q_values(self, obs) -> np.ndarray:
        """Return the online network's Q-values of one observation, shape ``(n_actions,)`` (NumPy)."""
        return mlp_forward(self.weights, np.asarray(obs, dtype=np.float32)[None])[0]

    def epsilon(self, step: int) -> float:
        """Return the exploration rate at environment step ``step``: 1 falling linearly to 0.05."""
        return self._epsilon(step)

    def store(self, obs, action: int, reward: float, next_obs, terminated: bool, truncated: bool) -> None:
        """Store one transition as ``env.step`` returned it (n-step returns are formed on the way in)."""
        self._adder.add(obs, action, reward, next_obs, terminated, truncated)

    def train(self) -> float:
        """Run ``settings.train_every`` gradient steps on batches sampled from the buffer; return the mean loss."""
        s = self.settings
        batches = [self.buffer.sample(s.batch_size, self.rng) for _ in range(s.train_every)]
        loss, max_q = self._train_many(*(np.stack(field) for field in zip(*batches)))
        self.weights, self.calls = acting_weights(self.online), self.calls + 1
        if self.target_update == "hard" and self.calls % s.target_copy_every == 0:
            if self._hard is None:
                self.target.set_weights(self.online.get_weights())
            else:
                self._hard(self.target, self.online)
        self.loss, self.max_q = float(loss), float(max_q)
        return self.loss

    def summarize(self, step: int) -> None:
        """Write the TD loss, mean max-Q and epsilon to TensorBoard after every 10th call of ``train``."""
        if self.calls % 10 or self.calls == self._summarized:
            return
        import tensorflow as tf

        self._summarized = self.calls
        tf.summary.scalar("losses/td_loss", self.loss, step=step)
        tf.summary.scalar("charts/mean_max_q", self.max_q, step=step)
        tf.summary.scalar("charts/epsilon", self.epsilon(step), step=step)

    def _compiled_update(self, train_step: Callable):
        """Return one XLA-compiled call running ``train_every`` gradient steps, one per stacked batch."""
        import tensorflow as tf

        from .replay import Batch

        s, online, target = self.settings, self.online, self.target
        bootstrap = None if self.target_update == "none" else target
        soft = self._soft if self.target_update == "soft" else None

        @tf.function(jit_compile=True)
        def train_many(obs, actions, rewards, next_obs, terminated):
            total = tf.constant(0.0)
            for i in tf.range(s.train_every):
                batch = Batch(obs[i], actions[i], rewards[i], next_obs[i], terminated[i])
                total += train_step(online, self.optimizer, batch, s.gamma ** s.n_step, bootstrap)  # n steps: gamma^n
                if soft is not None:
                    soft(target, online, s.tau)
            return total / s.train_every, tf.reduce_mean(tf.reduce_max(online(obs[0]), axis=1))

        return train_many


class GreedyEvaluator:
    """The periodic greedy evaluation of a DQN run, and its stop test.

    Each ``evaluate(step, weights)`` plays 10 greedy episodes (logged in ``log.evals``);
    the best so far is kept in ``log.weights``; when they average ``threshold`` or
    more, ``cu.passes_with_margin`` on fresh episodes decides, and a pass marks the log
    solved with that network.
    """

    def __init__(self, env_id: str, threshold: float, log, on_eval: Callable | None = None):
        self.env_id, self.threshold, self.log, self.on_eval = env_id, threshold, log, on_eval
        self.best, self.started = -np.inf, time.perf_counter()

    @staticmethod
    def greedy(weights) -> Callable:
        """Return the greedy policy of a Q-network's weights (observations -> actions, batched)."""
        return lambda obs: mlp_forward(weights, obs).argmax(axis=1)

    def evaluate(self, step: int, weights) -> bool:
        """Evaluate the network ``weights`` at env step ``step``; return True when it passed the stop test."""
        import tensorflow as tf

        log, frozen = self.log, [w.copy() for w in weights]
        quick = evaluate(self.greedy(frozen), self.env_id, 10, seed=100_000 + step).mean()
        log.evals.append((step, quick))
        tf.summary.scalar("charts/greedy_return_10", quick, step=step)
        if self.on_eval is not None:
            self.on_eval(step, frozen)
        if log.solved:
            return False
        if quick > self.best:
            self.best, log.weights = quick, frozen
        if quick >= self.threshold and passes_with_margin(self.greedy(frozen), self.env_id, self.threshold,
                                                          seed=200_000 + step):
            log.weights, log.solved, log.solved_at = frozen, True, step
            log.solved_seconds = time.perf_counter() - self.started
            return True
        return False
