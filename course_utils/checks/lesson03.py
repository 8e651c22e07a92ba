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


def grid_cells(obs, bins, low, high) -> np.ndarray:
    """Each dimension's bin, as the lesson defines it: bins[i] equal-width intervals of [low[i], high[i]],
    a value outside them in the edge bin. ``obs`` (N, d) gives (N, d) ints."""
    bins = np.asarray(bins)
    frac = (np.asarray(obs, dtype=float) - low) / (high - low)
    return np.clip(np.floor(frac * bins).astype(int), 0, bins - 1)


def points_in_every_cell(bins, low, high, rng, per_cell: int):
    """``per_cell`` float32 points inside every cell of the grid, away from its edges, and the cells:
    arrays (cells, per_cell, d) and (cells, d)."""
    cells = np.array(list(np.ndindex(*bins)))
    width = (high - low) / np.asarray(bins)
    inside = rng.uniform(0.15, 0.85, size=(len(cells), per_cell, len(bins)))
    return (low + (cells[:, None, :] + inside) * width).astype(np.float32), cells


def _index(env, obs, where: str) -> int:
    got = env.observation(obs)
    if not isinstance(got, (numbers.Integral, np.integer)) or isinstance(got, bool):
        fail("03.1", f"{where}observation({np.round(obs, 3).tolist()}) returned {type(got).__name__} {got!r}",
             "return a single int: the number of the observation's cell")
    return int(got)


def _shown(obs) -> str:
    return str(np.round(np.asarray(obs, dtype=float), 3).tolist())


def _judge_grid(env, bins, low, high, rng, where: str = "") -> int:
    """Check the wrapper's numbering of one grid by what defines it; return the number of observations tried.

    Every index is in range(prod(bins)); two cells never share one (so the cells cover the range); the
    points of one cell share one; a value on or past an edge of [low, high] gets its edge cell's index.
    Any numbering passes: row-major, column-major, any other.
    """
    n = int(np.prod(bins))
    points, cells = points_in_every_cell(bins, low, high, rng, per_cell=3)
    got = np.array([[_index(env, obs, where) for obs in group] for group in points])
    for cell, group, indices in zip(cells, points, got):
        if not 0 <= indices[0] < n:
            fail("03.1", f"{where}observation({_shown(group[0])}) = {indices[0]}, outside Discrete({n})",
                 "number the cells 0 to prod(bins) - 1")
    owner = {}
    for cell, group, indices in zip(cells, points, got):
        cell = tuple(int(c) for c in cell)
        if indices[0] in owner:
            other = owner[indices[0]]
            apart = [d for d in range(len(bins)) if cell[d] != other[d]]
            hint = (f"bins {other[apart[0]]} and {cell[apart[0]]} of dimension {apart[0]} were merged: cut [low[i], "
                    f"high[i]] into bins[i] equal-width parts (np.linspace(low, high, bins + 1) gives their edges)"
                    if len(apart) == 1 else
                    "combine the dimensions' bins so that every combination gets its own number, like the digits "
                    "of a number whose digit i counts to bins[i]")
            fail("03.1", f"{where}the cells {other} and {cell} both got index {indices[0]}; each of the {n} cells "
                 "needs its own", hint)
        owner[int(indices[0])] = cell
    for cell, group, indices in zip(cells, points, got):
        cell = tuple(int(c) for c in cell)
        if len(set(indices.tolist())) > 1:
            k = int(np.flatnonzero(indices != indices[0])[0])
            fail("03.1", f"{where}observation({_shown(group[0])}) = {indices[0]} but observation({_shown(group[k])}) "
                 f"= {indices[k]}, and both lie in cell {cell}",
                 "a dimension's bin depends only on which of its bins[i] equal-width parts of [low[i], high[i]] "
                 "holds the value")
    index_of = {cell: index for index, cell in owner.items()}
    beyond = rng.uniform(low - 2 * (high - low), high + 2 * (high - low), size=(100, len(bins))).astype(np.float32)
    tries = [(np.asarray(low, dtype=np.float32), "a value equal to low belongs in the first bin"),
             (np.asarray(high, dtype=np.float32), "a value at or above high belongs in the last bin: clip each "
                                                   "dimension's bin to at most bins[i] - 1")]
    tries += [(obs, "a value outside [low, high] belongs in the first or last bin: clip each dimension's bin "
                    "into 0 to bins[i] - 1") for obs in beyond]
    for obs, hint in tries:
        cell = tuple(int(c) for c in grid_cells(obs[None], bins, low, high)[0])
        index = _index(env, obs, where)
        if index != index_of[cell]:
            fail("03.1", f"{where}observation({_shown(obs)}) = {index}, but its cell {cell} has index "
                 f"{index_of[cell]} (what the observations inside that cell got)", hint)
    return got.size + len(tries)


def _follows(indices, cells) -> bool:
    """Whether ``indices`` are a function of ``cells``: equal cells, equal indices."""
    first = {}
    return all(first.setdefault(tuple(c), i) == i for c, i in zip(cells.tolist(), indices))


@guarded("03.1", "observation(obs) numbers obs's cell of the grid: in each dimension the one of bins[i] equal-width parts of [low[i], high[i]] that holds the value (the edge part for a value outside), every combination its own int in range(prod(bins))")
def check_discretize(wrapper_class) -> None:
    """Check ``DiscretizeObservation(env, bins, low, high)`` by what defines a numbering of the grid's cells."""
    from gymnasium.utils.env_checker import check_env

    env = wrapper_class(gym.make("CartPole-v1"), BINS, LOW, HIGH)
    if not isinstance(env, gym.ObservationWrapper):
        fail("03.1", f"{type(env).__name__} is not a gymnasium.ObservationWrapper",
             "subclass gymnasium.ObservationWrapper and implement observation(self, obs)")
    space = env.observation_space
    if not isinstance(space, gym.spaces.Discrete) or space.n != int(np.prod(BINS)):
        fail("03.1", f"observation_space is {space}", f"one number per cell: Discrete(prod(bins)) = "
                                                      f"Discrete({np.prod(BINS)})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            check_env(env, skip_render_check=True, skip_close_check=True)
        except AssertionError as err:
            fail("03.1", f"gymnasium's env checker refused the wrapper: {err}",
                 "observation() must return one int inside the Discrete space")
    rng = np.random.default_rng(2)
    tried = _judge_grid(env, BINS, LOW, HIGH, rng)
    bins, low, high = (2, 3, 4, 5), np.array([-1.0, -2.0, -0.5, -1.0]), np.array([1.0, 0.0, 0.5, 3.0])
    where = f"with bins {bins}, low {low.tolist()} and high {high.tolist()}: "
    other = wrapper_class(gym.make("CartPole-v1"), bins, low, high)
    if not isinstance(other.observation_space, gym.spaces.Discrete) or other.observation_space.n != int(np.prod(bins)):
        fail("03.1", f"{where}observation_space is {other.observation_space}",
             "use the bins, low and high given to __init__, not the lesson's numbers")
    points = points_in_every_cell(bins, low, high, rng, per_cell=2)[0].reshape(-1, len(bins))
    indices = [_index(other, obs, where) for obs in points]
    if not _follows(indices, grid_cells(points, bins, low, high)) and _follows(indices, grid_cells(points, bins, LOW, HIGH)):
        fail("03.1", f"{where}the cells follow the lesson's low and high, not these",
             "use the bins, low and high given to __init__, not the lesson's numbers")
    tried += len(points) + _judge_grid(other, bins, low, high, rng, where)
    one = wrapper_class(gym.make("CartPole-v1"), (1, 1, 1, 1), LOW, HIGH)
    if one.observation_space.n != 1 or one.observation(np.ones(4, np.float32)) != 0:
        fail("03.1", "with bins (1, 1, 1, 1) every observation should map to 0", "one cell: number 0")
    passed("03.1", tried + 2)


def _frequencies(epsilon_greedy, q, epsilon, draws=20_000, seed=0):
    rng = np.random.default_rng(seed)
    actions = [epsilon_greedy(q, epsilon, rng) for _ in range(draws)]
    for a in actions[:50]:
        if isinstance(a, bool) or not isinstance(a, (numbers.Integral, np.integer)) or not 0 <= a < len(q):
            fail("03.2", f"epsilon_greedy returned {a!r}", f"return an int action between 0 and {len(q) - 1}")
    return np.bincount(np.asarray(actions, dtype=int), minlength=len(q)) / draws


# Check 03.2 judges frequencies: a correct answer that draws its numbers in another order than the lesson's
# sees another sample, so the tolerances are set by the binomial spread. DRAWS actions per epsilon, TIE_DRAWS
# for the tie test; false_failure_bound() is the chance that a correct answer fails (tests hold it below 1e-4).
DRAWS, TIE_DRAWS = 20_000, 4_000
UNIFORM_TOLERANCE, GREEDY_TOLERANCE, TIE_TOLERANCE = 0.02, 0.015, 0.05
EPSILONS = (0.1, 0.3, 0.6)


def false_failure_bound() -> float:
    """The chance that a correct epsilon-greedy fails check 03.2: by the normal approximation of each binomial
    frequency, two-sided, summed over every comparison the check makes."""
    import math

    def tail(p, n, tolerance):
        return math.erfc(tolerance / math.sqrt(p * (1 - p) / n) / math.sqrt(2))

    uniform = 4 * tail(0.25, DRAWS, UNIFORM_TOLERANCE)
    greedy = sum(tail(1 - eps + eps / 4, DRAWS, GREEDY_TOLERANCE) for eps in EPSILONS)
    return uniform + greedy + 2 * tail(0.5, TIE_DRAWS, TIE_TOLERANCE)


@guarded("03.2", "with probability epsilon an action drawn uniformly from all of them with rng, else one of the actions whose value is the largest, drawn with rng when several share it; return it as an int")
def check_epsilon_greedy(epsilon_greedy) -> None:
    """Check ``epsilon_greedy(q_values, epsilon, rng) -> int`` by its action frequencies."""
    q = np.array([0.5, 2.0, -1.0, 1.0])
    f = _frequencies(epsilon_greedy, q, 0.0, draws=500)
    if f[1] != 1.0:
        fail("03.2", f"with epsilon=0 the greedy action 1 was taken {f[1]:.0%} of the time",
             "with probability 1 - epsilon take argmax(q_values)")
    f = _frequencies(epsilon_greedy, q, 1.0, draws=DRAWS)
    if np.abs(f - 0.25).max() > UNIFORM_TOLERANCE:
        fail("03.2", f"with epsilon=1 the action frequencies were {np.round(f, 3).tolist()}",
             "with probability epsilon pick an action uniformly at random from all actions")
    for eps in EPSILONS:
        f = _frequencies(epsilon_greedy, q, eps, draws=DRAWS)
        want = 1 - eps + eps / len(q)
        if abs(f[1] - (1 - eps)) < 0.01 and abs(f[1] - want) > GREEDY_TOLERANCE:
            fail("03.2", f"with epsilon={eps} the greedy action was taken {f[1]:.3f} of the time, expected {want:.3f}",
                 "the random action is drawn from all actions, the greedy one included")
        if abs(f[1] - want) > GREEDY_TOLERANCE:
            fail("03.2", f"with epsilon={eps} the greedy action was taken {f[1]:.3f} of the time, expected "
                         f"1 - eps + eps/n = {want:.3f}", "explore with probability epsilon: rng.random() < epsilon")
    ties = np.array([1.0, 3.0, 3.0, 0.0])
    f = _frequencies(epsilon_greedy, ties, 0.0, draws=TIE_DRAWS)
    if abs(f[1] - 0.5) > TIE_TOLERANCE or abs(f[2] - 0.5) > TIE_TOLERANCE:
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
