"""DQN's training loop, as lesson 03 runs it, with the switches lessons 04 and 05 add.

The pieces are the lessons' own (``course_utils.lessons``: lesson 03's targets, loss
and step, lesson 04's target updates, lesson 05's double targets and dueling network);
this module puts them in a loop and re-exports them, so ``dqn.td_targets`` is
``lesson03.td_targets``.

``train_dqn`` runs lesson 03's loop: NumPy acting, 16 gradient steps per compiled
call, greedy evaluation every ``eval_every`` steps, stop at the threshold. Its
``target_update`` chooses no target network, hard copies or soft (Polyak) updates
(lesson 04); ``double_targets`` and ``network`` switch on double and dueling DQN
(lesson 05).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..acting import acting_weights, mlp_forward
from ..envs import make_env, seed_everything
from ..evaluation import evaluate, passes_with_margin
from ..lessons import lesson03
from ..lessons.lesson02 import epsilon_greedy
from ..lessons.lesson03 import build_q_network, dqn_loss, td_targets
from ..lessons.lesson04 import hard_update, soft_update
from ..lessons.lesson05 import build_dueling_q_network, double_dqn_targets, dueling_q_values
from ..lessons.lesson06 import discounted_returns
from ..replay import Batch, ReplayBuffer
from ..schedules import LinearSchedule

__all__ = ["DQNLog", "DQNSettings", "build_dueling_q_network", "build_q_network", "discounted_returns",
           "double_dqn_targets", "dqn_loss", "dqn_train_step", "dueling_q_values", "epsilon_greedy",
           "greedy_q_vs_returns", "hard_update", "soft_update", "td_targets", "train_dqn"]


def dqn_train_step(q_network, optimizer, batch, gamma, target_network=None, double_targets=None):
    """Take one gradient step towards the TD targets (from ``target_network`` if given); return the loss.

    Without ``double_targets`` this is lesson 03's own step (exercise 03.4). With it
    (lesson 05's ``double_dqn_targets``, or a function with its signature) the online
    network picks the next action and the target network values it; the rest is the
    same step.
    """
    import tensorflow as tf

    if double_targets is None:
        return lesson03.dqn_train_step(q_network, optimizer, batch, gamma, target_network)
    bootstrap = q_network if target_network is None else target_network
    targets = double_targets(batch.rewards, q_network(batch.next_obs), bootstrap(batch.next_obs),
                             batch.terminated, gamma)
    with tf.GradientTape() as tape:
        loss = dqn_loss(q_network, batch, targets)
    optimizer.apply_gradients(zip(tape.gradient(loss, q_network.trainable_variables), q_network.trainable_variables))
    return loss


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
    weights: list | None = None                  # NumPy acting weights (acting.acting_weights)
    solved: bool = False
    solved_at: int | None = None                 # env step of the passed stop test
    solved_seconds: float | None = None


def train_dqn(seed: int = 0, target_update: str = "hard", settings: DQNSettings | None = None,
              hard: Callable = hard_update, soft: Callable = soft_update, stop_when_solved: bool = True,
              env_id: str = "CartPole-v1", double_targets: Callable | None = None,
              network: Callable = build_q_network, on_eval: Callable | None = None,
              wrappers: Sequence[Callable] = ()) -> DQNLog:
    """Train DQN; ``target_update`` is ``"none"``, ``"hard"`` or ``"soft"``.

    Args:
        hard, soft: ``hard(target, online)`` and ``soft(target, online, tau)`` do the updates.
        stop_when_solved: stop at the first passed stop test (``passes_with_margin``); else train on to
            ``max_steps`` (the log still records when it passed).
        double_targets: ``None`` for DQN's max targets; ``double_dqn_targets`` (or a
            function with its signature) for double DQN, which needs a target network.
        network: ``network(obs_dim, n_actions, hidden_units) -> keras.Model``;
            ``build_dueling_q_network`` for dueling DQN.
        on_eval: called as ``on_eval(step, weights)`` after each greedy evaluation, with
            the NumPy acting weights of that moment.
        wrappers: applied in order to the training environment only (e.g. reward
            noise); the greedy evaluations use the plain ``env_id``.

    The kept network is the one that passed the stop test, else the best
    10-episode evaluation.
    """
    import keras
    import tensorflow as tf

    if target_update not in ("none", "hard", "soft"):
        raise ValueError(f"train_dqn: target_update must be 'none', 'hard' or 'soft', got {target_update!r}")
    if double_targets is not None and target_update == "none":
        raise ValueError("train_dqn: double DQN values the chosen action with the target network; "
                         "use target_update='hard' or 'soft' with double_targets")
    s = settings or DQNSettings()
    rng = seed_everything(seed, keras=True)
    env = make_env(env_id)
    for wrap in wrappers:
        env = wrap(env)
    obs_dim, n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)
    online = network(obs_dim, n_actions, s.hidden_units)
    target = network(obs_dim, n_actions, s.hidden_units)
    target.set_weights(online.get_weights())
    weights = acting_weights(online, verify=True)
    bootstrap = None if target_update == "none" else target
    optimizer = keras.optimizers.Adam(s.learning_rate, clipnorm=10.0)
    epsilon = LinearSchedule(1.0, 0.05, s.epsilon_steps)

    @tf.function(jit_compile=True)
    def train_many(obs, actions, rewards, next_obs, terminated):
        total = tf.constant(0.0)
        for i in tf.range(s.train_every):
            batch = Batch(obs[i], actions[i], rewards[i], next_obs[i], terminated[i])
            total += dqn_train_step(online, optimizer, batch, s.gamma, bootstrap, double_targets)
            if target_update == "soft":
                soft(target, online, s.tau)
        return total / s.train_every

    buffer = ReplayBuffer(s.buffer_size, (obs_dim,))
    log, calls, running, best = DQNLog(), 0, 0.0, -np.inf
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
            weights, calls = acting_weights(online), calls + 1
            if target_update == "hard" and calls % s.hard_copy_every == 0:
                hard(target, online)
        if step >= s.learning_starts and step % s.eval_every == 0:
            frozen = [w.copy() for w in weights]
            policy = lambda o, w=frozen: mlp_forward(w, o).argmax(axis=1)  # noqa: E731
            quick = evaluate(policy, env_id, 10, seed=100_000 + step).mean()
            log.evals.append((step, quick))
            if on_eval is not None:
                on_eval(step, frozen)
            if quick > best and not log.solved:
                best, log.weights = quick, frozen
            if (not log.solved and quick >= s.threshold
                    and passes_with_margin(policy, env_id, s.threshold, seed=200_000 + step)):
                log.weights, log.solved = frozen, True
                log.solved_at, log.solved_seconds = step, time.perf_counter() - start
                if stop_when_solved:
                    break
    log.seconds, log.env_steps = time.perf_counter() - start, step
    return log


def greedy_q_vs_returns(weights, gamma: float = 0.99, episodes: int = 5, seed: int = 0,
                        env_id: str = "CartPole-v1", horizon: int = 250):
    """Measure overestimation: run greedy episodes; return (predicted, obtained) per visited state.

    ``predicted`` is ``max_a Q(s_t, a)`` of the network with NumPy acting ``weights``;
    ``obtained`` is the discounted return ``sum_k gamma^k r_{t+k}`` the same greedy policy
    then collected. An episode cut off by the time limit has no rewards after the cut,
    so only its states with at least ``horizon`` steps still to go count (the missing
    tail is then at most ``gamma^horizon / (1 - gamma)``, about 8 for 0.99 and 250).
    Returns two 1-D arrays of the same length.
    """
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
