"""Evaluating a policy over many episodes, side by side (introduced in lesson 01)."""
from __future__ import annotations

from typing import Callable, Sequence

import gymnasium as gym
import numpy as np

from . import envs  # noqa: F401  (registers the course's probe ids, so a probe can be evaluated too)
from ._validate import optional_seed, positive_int, real


def _actions(policy: Callable, obs: np.ndarray, batched: bool, expected: tuple) -> np.ndarray:
    """Call the policy on a batch of observations and check it gave one action each."""
    if batched:
        actions = np.asarray(policy(obs))
    else:
        actions = np.asarray([np.asarray(policy(o)) for o in obs])
    if actions.shape != expected:
        hint = (
            "If your policy takes a single observation, pass batched=False."
            if batched
            else "The policy should return one action for one observation."
        )
        raise ValueError(
            f"evaluate: the policy returned actions of shape {actions.shape} for "
            f"{len(obs)} observations of shape {obs.shape[1:]}; expected {expected}. {hint}"
        )
    return actions


def evaluate(
    policy: Callable,
    env_id: str,
    episodes: int = 100,
    seed: int = 0,
    *,
    batched: bool = True,
    max_parallel: int = 100,
    wrappers: Sequence[Callable] = (),
    **make_kwargs,
) -> np.ndarray:
    """Run ``episodes`` episodes of ``policy`` and return each episode's total reward.

    The episodes run side by side in a Gymnasium vector environment (up to
    ``max_parallel`` copies), so the policy is called once per time step for all
    of them. Each copy runs a fixed number of episodes, decided before they start,
    so short episodes are not over-counted.

    Args:
        policy: maps a batch of observations, shape ``(n, *obs_shape)``, to ``n``
            actions; with ``batched=False``, maps one observation to one action.
            For a greedy evaluation pass the greedy policy (no exploration).
        env_id: a registered id such as ``"CartPole-v1"``.
        episodes: how many episodes to run.
        seed: copy ``i`` of the environment is reset with ``seed + i``.
        batched: whether ``policy`` takes a batch of observations.
        max_parallel: at most this many environment copies at once.
        wrappers: functions env -> wrapped env applied to every copy, in order
            (e.g. an observation wrapper the policy expects).
        **make_kwargs: passed to ``gymnasium.make`` (e.g. ``max_episode_steps``).

    Returns:
        A float array of ``episodes`` returns.

    Example:
        >>> returns = evaluate(lambda obs: np.zeros(len(obs), dtype=int), "CartPole-v1", episodes=5)
        >>> returns.shape
        (5,)
    """
    if not callable(policy):
        raise TypeError(f"evaluate: policy must be callable (obs -> action), got {type(policy).__name__}")
    episodes = positive_int("evaluate", "episodes", episodes)
    seed = optional_seed("evaluate", seed)
    n = min(episodes, positive_int("evaluate", "max_parallel", max_parallel))
    quota = np.array([episodes // n + (i < episodes % n) for i in range(n)])   # episodes per copy, fixed up front
    envs = gym.make_vec(
        env_id,
        num_envs=n,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        wrappers=list(wrappers) or None,
        **make_kwargs,
    )
    try:
        finished = _run_quotas(envs, policy, batched, quota, seed)
    finally:
        envs.close()
    return np.concatenate([np.asarray(r, dtype=float) for r in finished])


def _run_quotas(envs, policy: Callable, batched: bool, quota: np.ndarray, seed: int) -> list[list[float]]:
    """Step every copy until it has finished its quota of episodes; return each copy's episode returns."""
    n = len(quota)
    expected = (n, *envs.single_action_space.shape)
    obs, _ = envs.reset(seed=seed)
    finished: list[list[float]] = [[] for _ in range(n)]
    running = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        actions = _actions(policy, obs, batched, expected)
        obs, rewards, terminated, truncated, _ = envs.step(actions)
        running += np.where(active, rewards, 0.0)
        for i in np.flatnonzero((terminated | truncated) & active):
            finished[i].append(float(running[i]))
            running[i] = 0.0
            active[i] = len(finished[i]) < quota[i]
    return finished


def passes_with_margin(
    policy: Callable,
    env_id: str,
    threshold: float,
    seed: int,
    *,
    episodes: int = 100,
    sets: int = 2,
    z: float = 3.0,
    wrappers: Sequence[Callable] = (),
    **make_kwargs,
) -> bool:
    """Return whether ``policy`` clears ``threshold`` with room to spare: the stop test of training.

    A policy whose true mean is just at the threshold passes one test of
    ``episodes`` episodes half the time, and the next fresh test half the time
    too. So this test asks more: ``sets`` independent sets of ``episodes``
    episodes (reset with ``seed``, ``seed + 1_000_000``, ...), each averaging at
    least ``threshold``, and a pooled mean at least ``z`` standard errors of an
    ``episodes``-episode mean above it. A policy that passes then passes a later
    fresh test of ``episodes`` episodes with high probability (for ``z = 3``,
    about 99.9% if its true mean is what was measured). A policy that scores the
    maximum every time has no spread and passes at once; one that sometimes
    drops the pole needs a mean far enough above the threshold.

    Stops early (returns ``False``) at the first set below the threshold, so a
    failing policy costs one set. Other arguments are as in ``evaluate``.
    (Introduced in lesson 04; the training loops of lessons 04-08 stop on it.)

    Example: pushing towards the side the pole leans to averages about 42 steps,
    each set of 20 episodes averages at least 40, but not with a margin:

        >>> lean = lambda obs: (obs[:, 2] > 0).astype(int)
        >>> passes_with_margin(lean, "CartPole-v1", threshold=30, seed=0, episodes=20)
        True
        >>> passes_with_margin(lean, "CartPole-v1", threshold=40, seed=0, episodes=20)
        False
    """
    threshold = real("passes_with_margin", "threshold", threshold)
    z = real("passes_with_margin", "z", z)
    if not 0 <= z < np.inf:
        raise ValueError(f"passes_with_margin: z must be a finite number >= 0 (standard errors of margin), got {z}")
    sets = positive_int("passes_with_margin", "sets", sets)
    if sets * positive_int("passes_with_margin", "episodes", episodes) < 2:
        raise ValueError("passes_with_margin: one episode has no spread to measure a margin with; "
                         "use sets * episodes >= 2")
    seed = positive_int("passes_with_margin", "seed", seed, allow_zero=True)
    returns = []
    for k in range(sets):
        got = evaluate(policy, env_id, episodes, seed + 1_000_000 * k, wrappers=wrappers, **make_kwargs)
        if got.mean() < threshold:
            return False
        returns.append(got)
    pooled = np.concatenate(returns)
    standard_error = pooled.std(ddof=1) / np.sqrt(episodes) if pooled.size > 1 else 0.0
    return bool(pooled.mean() - z * standard_error >= threshold)


def greedy_stop_test(weights, env_id: str, threshold: float, seed: int, *, quick_episodes: int = 10,
                     policy_of: Callable | None = None) -> bool:
    """The stop test of lessons 07, 08, 09 and 11: does the greedy policy of a network's ``weights`` pass?

    The greedy policy (the most probable action, or the largest Q-value; ``policy_of(weights)`` where
    given, such as lesson 11's mean action) plays ``quick_episodes`` episodes reset from ``seed``; only
    when they average ``threshold`` or more does it face ``passes_with_margin`` on fresh episodes (from
    ``seed + 100_000``).
    """
    from .acting import mlp_forward

    frozen = [np.array(w, copy=True) for w in weights]
    greedy = (policy_of(frozen) if policy_of is not None
              else lambda obs: mlp_forward(frozen, obs).argmax(axis=1))  # noqa: E731
    return bool(evaluate(greedy, env_id, quick_episodes, seed=seed).mean() >= threshold
                and passes_with_margin(greedy, env_id, threshold, seed=seed + 100_000))
