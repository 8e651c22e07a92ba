"""Checks of lesson 03: binning wrapper, epsilon-greedy, the Q-learning update."""
from __future__ import annotations

import numbers
import warnings

import gymnasium as gym
import numpy as np

from . import fail, guarded, mean_return_reaches, passed

BINS = (1, 1, 6, 12)
LOW = np.array([-2.4, -3.0, -0.21, -3.5])
HIGH = -LOW


def reference_index(obs, bins, low, high) -> int:
    """The bin index the lesson asks for: equal-width bins, clipped, row-major."""
    bins = np.asarray(bins)
    frac = (np.asarray(obs, dtype=float) - low) / (high - low)
    idx = np.clip(np.floor(frac * bins).astype(int), 0, bins - 1)
    return int(np.ravel_multi_index(idx, bins))


@guarded("03.1", "in __init__ keep bins, low and high as arrays and set observation_space = Discrete(prod(bins)); observation(obs) returns one int, np.ravel_multi_index of the clipped bin index of each dimension")
def check_discretize(wrapper_class) -> None:
    """Check ``DiscretizeObservation(env, bins, low, high)``."""
    from gymnasium.utils.env_checker import check_env

    env = wrapper_class(gym.make("CartPole-v1"), BINS, LOW, HIGH)
    if not isinstance(env, gym.ObservationWrapper):
        fail("03.1", f"{type(env).__name__} is not a gymnasium.ObservationWrapper",
             "subclass gymnasium.ObservationWrapper and implement observation(self, obs)")
    space = env.observation_space
    if not isinstance(space, gym.spaces.Discrete) or space.n != int(np.prod(BINS)):
        fail("03.1", f"observation_space is {space}", f"set self.observation_space = Discrete(prod(bins)) = Discrete({np.prod(BINS)})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            check_env(env, skip_render_check=True, skip_close_check=True)
        except AssertionError as err:
            fail("03.1", f"gymnasium's env checker refused the wrapper: {err}",
                 "observation() must return one int inside the Discrete space")
    rng = np.random.default_rng(2)
    inside = rng.uniform(LOW, HIGH, size=(300, 4))
    outside = rng.uniform(3 * LOW, 3 * HIGH, size=(300, 4))
    edges = np.array([LOW, HIGH, LOW - 1, HIGH + 1])  # not interior edges: float rounding may go either way there
    for group, hint in [(inside, "split [low, high] of each dimension into bins[i] equal parts and "
                                 "combine the indices with np.ravel_multi_index(indices, bins)"),
                        (edges, "a value equal to high belongs in the last bin: clip each index to bins[i] - 1"),
                        (outside, "clip values outside [low, high] into the first or last bin")]:
        for obs in group:
            got = env.observation(obs.astype(np.float32))
            want = reference_index(obs.astype(np.float32), BINS, LOW, HIGH)
            if not isinstance(got, (numbers.Integral, np.integer)) or isinstance(got, bool):
                fail("03.1", f"observation() returned {type(got).__name__} {got!r}", "return a single int")
            if got != want:
                fail("03.1", f"observation({np.round(obs, 3).tolist()}) = {got}, expected {want}", hint)
    bins, low, high = (2, 3, 4, 5), np.array([-1.0, -2.0, -0.5, -1.0]), np.array([1.0, 0.0, 0.5, 3.0])
    other = wrapper_class(gym.make("CartPole-v1"), bins, low, high)
    for obs in rng.uniform(low - 0.5, high + 0.5, size=(100, 4)).astype(np.float32):
        got, want = other.observation(obs), reference_index(obs, bins, low, high)
        if got != want:
            fail("03.1", f"with bins {bins}, low {low.tolist()} and high {high.tolist()}: observation("
                 f"{np.round(obs, 3).tolist()}) = {got}, expected {want}",
                 "use the bins, low and high given to __init__, not the lesson's numbers")
    one = wrapper_class(gym.make("CartPole-v1"), (1, 1, 1, 1), LOW, HIGH)
    if one.observation_space.n != 1 or one.observation(np.ones(4, np.float32)) != 0:
        fail("03.1", "with bins (1, 1, 1, 1) every observation should map to 0", "one bin per dimension: index 0")
    passed("03.1", len(inside) + len(edges) + len(outside) + 100 + 2)


def _frequencies(epsilon_greedy, q, epsilon, draws=20_000, seed=0):
    rng = np.random.default_rng(seed)
    actions = [epsilon_greedy(q, epsilon, rng) for _ in range(draws)]
    for a in actions[:50]:
        if isinstance(a, bool) or not isinstance(a, (numbers.Integral, np.integer)) or not 0 <= a < len(q):
            fail("03.2", f"epsilon_greedy returned {a!r}", f"return an int action between 0 and {len(q) - 1}")
    return np.bincount(np.asarray(actions, dtype=int), minlength=len(q)) / draws


@guarded("03.2", "with probability epsilon return int(rng.integers(len(q_values))), else an int chosen with rng among the actions whose value is the maximum")
def check_epsilon_greedy(epsilon_greedy) -> None:
    """Check ``epsilon_greedy(q_values, epsilon, rng) -> int`` by its action frequencies."""
    q = np.array([0.5, 2.0, -1.0, 1.0])
    f = _frequencies(epsilon_greedy, q, 0.0, draws=500)
    if f[1] != 1.0:
        fail("03.2", f"with epsilon=0 the greedy action 1 was taken {f[1]:.0%} of the time",
             "with probability 1 - epsilon take argmax(q_values)")
    f = _frequencies(epsilon_greedy, q, 1.0)
    if np.abs(f - 0.25).max() > 0.02:
        fail("03.2", f"with epsilon=1 the action frequencies were {np.round(f, 3).tolist()}",
             "with probability epsilon pick an action uniformly at random from all actions")
    for eps in (0.1, 0.3, 0.6):
        f = _frequencies(epsilon_greedy, q, eps)
        want = 1 - eps + eps / len(q)
        if abs(f[1] - (1 - eps)) < 0.01 and abs(f[1] - want) > 0.015:
            fail("03.2", f"with epsilon={eps} the greedy action was taken {f[1]:.3f} of the time, expected {want:.3f}",
                 "the random action is drawn from all actions, the greedy one included")
        if abs(f[1] - want) > 0.015:
            fail("03.2", f"with epsilon={eps} the greedy action was taken {f[1]:.3f} of the time, expected "
                         f"1 - eps + eps/n = {want:.3f}", "explore with probability epsilon: rng.random() < epsilon")
    ties = np.array([1.0, 3.0, 3.0, 0.0])
    f = _frequencies(epsilon_greedy, ties, 0.0, draws=4000)
    if abs(f[1] - 0.5) > 0.05 or abs(f[2] - 0.5) > 0.05:
        fail("03.2", f"with two best actions (1 and 2) the frequencies were {np.round(f, 3).tolist()}",
             "break ties at random: rng.choice(np.flatnonzero(q_values == q_values.max())); np.argmax always picks the first")
    runs = [[epsilon_greedy(q, 0.5, r) for _ in range(30)] + [epsilon_greedy(ties, 0.0, r) for _ in range(30)]
            for r in (np.random.default_rng(9), np.random.default_rng(9))]
    if runs[0] != runs[1]:
        fail("03.2", "the same rng seed gave different actions", "draw every random number from rng, not np.random")
    passed("03.2", 7)


def _is_number(value) -> bool:
    """True for one real number: a Python or NumPy scalar, or a 0-d numeric array (not a bool)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiu"


def reference_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma) -> float:
    target = reward + (0.0 if terminated else gamma * Q[next_obs].max())
    td = target - Q[obs, action]
    Q[obs, action] += alpha * td
    return float(td)


@guarded("03.3", "target = reward + gamma * max(Q[next_obs]) (reward alone when terminated); Q[obs, action] += alpha * (target - Q[obs, action]); return the TD error as a float")
def check_q_learning_update(q_learning_update) -> None:
    """Check ``q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma)``."""
    rng = np.random.default_rng(4)
    cases = 0
    for terminated in (False, True):
        for alpha, gamma in [(0.5, 0.99), (0.1, 0.9), (1.0, 0.0), (0.3, 1.0)]:
            Q = rng.normal(size=(6, 3))
            obs, action, next_obs, reward = 2, 1, 4, float(rng.normal())
            expected, original = Q.copy(), Q.copy()
            want = reference_update(expected, obs, action, reward, next_obs, terminated, alpha, gamma)
            got = q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma)
            if not _is_number(got):
                shown = " ".join(repr(got).split())
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                fail("03.3", f"returned {type(got).__name__} {shown}, expected the TD error as one float",
                     "update Q in place and return only the TD error: return float(td_error)")
            changed = np.argwhere(~np.isclose(Q, original))
            if len(changed) == 0 and not np.isclose(want, 0):
                fail("03.3", "Q was not changed", "update the table in place: Q[obs, action] += alpha * td_error")
            if any(tuple(c) != (obs, action) for c in changed):
                fail("03.3", f"entries {[tuple(c) for c in changed]} changed", "change only Q[obs, action]")
            bootstrapped = original.copy()
            td_boot = reference_update(bootstrapped, obs, action, reward, next_obs, False, alpha, gamma)
            if terminated and np.isclose(got, td_boot) and not np.isclose(got, want):
                fail("03.3", "the target used gamma * max Q[next_obs] on a terminated transition",
                     "you bootstrapped from a terminal state: when terminated, the target is just the reward")
            if not terminated and np.isclose(got, reward - original[obs, action]) and not np.isclose(got, want):
                fail("03.3", "the target ignored the next state on a non-terminal transition",
                     "bootstrap with reward + gamma * max(Q[next_obs]) unless terminated (truncated still bootstraps)")
            sarsa = reward + gamma * original[next_obs, action] - original[obs, action]
            if not terminated and np.isclose(got, sarsa) and not np.isclose(got, want):
                fail("03.3", "the target used Q[next_obs, action]", "Q-learning takes the max over the next actions")
            if np.isclose(got, alpha * want) and not np.isclose(alpha, 1.0):
                fail("03.3", f"returned {got}, which is alpha * the TD error", "return the TD error itself, before alpha")
            if np.isclose(got, expected[obs, action]) and not np.isclose(got, want):
                fail("03.3", f"returned {got}, the new value of Q[obs, action]", "return the TD error, not the updated value")
            if not np.isclose(got, want):
                fail("03.3", f"returned TD error {got}, expected {want}", "td_error = target - Q[obs, action]")
            if not np.allclose(Q, expected):
                moved = Q[obs, action] - original[obs, action]
                if not np.isclose(alpha, 0.5) and np.isclose(moved, (1 - alpha) * want):
                    fail("03.3", f"with alpha={alpha} Q[obs, action] moved by (1 - alpha) * td_error = {moved:.4f}, "
                         f"expected alpha * td_error = {alpha * want:.4f}: alpha and 1 - alpha are swapped",
                         "the new value keeps (1 - alpha) of the old one: Q[obs, action] += alpha * td_error, "
                         "i.e. (1 - alpha) * Q[obs, action] + alpha * target")
                hint = ("the step was not scaled by alpha" if np.isclose(Q[obs, action], original[obs, action] + want)
                        else "Q[obs, action] += alpha * td_error")
                fail("03.3", f"Q[obs, action] became {Q[obs, action]:.4f}, expected {expected[obs, action]:.4f}", hint)
            cases += 1
    passed("03.3", cases)


@guarded("03.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_greedy_return(greedy_returns, threshold: float = 195.0, episodes: int = 100) -> None:
    """Check the greedy policy's mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("03.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: the Q-table balances the pole.",
                        "train for more episodes, or check the schedules of epsilon and alpha")
