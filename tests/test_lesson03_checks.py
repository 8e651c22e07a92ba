"""Lesson 03's checks pass the reference pieces and other correct forms, and name each known mistake."""
import math

import gymnasium as gym
import numpy as np
import pytest
from mistake_bank import assert_passes, assert_rejected

from course_utils.checks import lesson03 as checks
from course_utils.lessons.lesson03 import DiscretizeObservation, epsilon_greedy, q_learning_update


def test_reference_pieces_pass(capsys):
    checks.check_discretize(DiscretizeObservation)
    checks.check_epsilon_greedy(epsilon_greedy)
    checks.check_q_learning_update(q_learning_update)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in out] == ["Exercise 03.1: passed", "Exercise 03.2: passed",
                                                     "Exercise 03.3: passed"]


# --- 03.1: the binning wrapper --------------------------------------------------------------------------------

def wrapper(numbering, space=lambda bins: gym.spaces.Discrete(int(np.prod(bins)))):
    """A DiscretizeObservation whose observation(self, obs) is ``numbering``; it keeps bins, low and high."""
    class Wrapper(gym.ObservationWrapper):
        def __init__(self, env, bins, low, high):
            super().__init__(env)
            self.bins, self.low, self.high = tuple(bins), np.asarray(low, float), np.asarray(high, float)
            self.observation_space = space(bins)

        def observation(self, obs):
            return numbering(self, obs)
    return Wrapper


def _fraction_bins(self, obs):
    return np.clip(np.floor((np.asarray(obs, float) - self.low) / (self.high - self.low) * self.bins).astype(int),
                   0, np.asarray(self.bins) - 1)


def _column_major(self, obs):
    return int(np.ravel_multi_index(_fraction_bins(self, obs), self.bins, order="F"))


def _digitize_and_digits(self, obs):
    index = 0
    for x, n, lo, hi in zip(obs, self.bins, self.low, self.high):
        inner_edges = np.linspace(lo, hi, n + 1)[1:-1]
        index = index * n + int(np.digitize(x, inner_edges))
    return index


def _plain_python(self, obs):
    index, scale = 0, 1
    for x, n, lo, hi in zip(obs, self.bins, self.low, self.high):
        b = min(max(math.floor((float(x) - lo) / ((hi - lo) / n)), 0), n - 1)
        index, scale = index + b * scale, scale * n
    return index


def _searchsorted_numpy_int(self, obs):
    parts = [np.searchsorted(np.linspace(lo, hi, n + 1)[1:-1], x, side="right")
             for x, n, lo, hi in zip(obs, self.bins, self.low, self.high)]
    return np.int64(np.ravel_multi_index(parts, self.bins))


DISCRETIZE_CORRECT = {
    "column-major numbering": _column_major,
    "np.digitize on the inner edges, digits combined by hand": _digitize_and_digits,
    "plain Python, first dimension as the lowest digit": _plain_python,
    "np.searchsorted, a NumPy int returned": _searchsorted_numpy_int,
}


@pytest.mark.parametrize("name", DISCRETIZE_CORRECT)
def test_discretize_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_discretize, wrapper(DISCRETIZE_CORRECT[name]), "03.1", capsys)


def _parts(self, obs):
    return np.floor((np.asarray(obs, float) - self.low) / (self.high - self.low) * self.bins).astype(int)


def _no_clip(self, obs):
    return int(np.ravel_multi_index(_parts(self, obs), self.bins, mode="wrap"))


def _top_only(self, obs):
    return int(np.ravel_multi_index(np.minimum(_parts(self, obs), np.asarray(self.bins) - 1), self.bins, mode="wrap"))


def _clip_to_bins(self, obs):   # high lands one past the last bin, which wraps into another cell's number
    parts = np.clip(np.floor((np.asarray(obs, float) - self.low) / (self.high - self.low) * self.bins).astype(int),
                    0, np.asarray(self.bins))
    return int(np.ravel_multi_index(parts, self.bins, mode="wrap"))


def _sum_of_bins(self, obs):
    return int(_fraction_bins(self, obs).sum())


def _linspace_bins_edges(self, obs):   # np.linspace(low, high, bins): bins - 1 intervals
    parts = [min(int(np.digitize(x, np.linspace(lo, hi, n)[1:-1])), n - 1)
             for x, n, lo, hi in zip(obs, self.bins, self.low, self.high)]
    return int(np.ravel_multi_index(parts, self.bins))


def _truncate(self, obs):   # int() rounds -0.5 up to 0, so just below low lands in bin 0, further below not
    parts = np.minimum(((np.asarray(obs, float) - self.low) / (self.high - self.low) * self.bins).astype(int),
                       np.asarray(self.bins) - 1)
    return int(np.ravel_multi_index(parts, self.bins, mode="wrap"))


def _array(self, obs):
    return np.array([_column_major(self, obs)])


def _lesson_numbers(self, obs):   # the lesson's low and high, whatever __init__ was given
    parts = np.clip(np.floor((np.asarray(obs, float) - checks.LOW) / (checks.HIGH - checks.LOW) * self.bins)
                    .astype(int), 0, np.asarray(self.bins) - 1)
    return int(np.ravel_multi_index(parts, self.bins))


DISCRETIZE_MISTAKES = {
    "no clip at all": (wrapper(_no_clip), "a value at or above high belongs in the last bin"),
    "high clipped to bins, one past the last bin": (wrapper(_clip_to_bins), "a value at or above high belongs in the last bin"),
    "clipped only at the top": (wrapper(_top_only), "a value outside [low, high] belongs in the first or last bin"),
    "the bins summed: cells share numbers": (wrapper(_sum_of_bins), "like the digits of a number"),
    "np.linspace(low, high, bins) as the edges": (wrapper(_linspace_bins_edges), "were merged: cut [low[i], high[i]]"),
    "truncation toward zero, no clip below": (wrapper(_truncate), "a value outside [low, high] belongs in the first"),
    "an array returned": (wrapper(_array), "observation() must return one int inside the Discrete space"),
    "the lesson's low and high used": (wrapper(_lesson_numbers), "use the bins, low and high given to __init__"),
    "observation space of sum(bins)": (wrapper(_column_major, lambda bins: gym.spaces.Discrete(int(sum(bins)))),
                                       "observation_space is Discrete(20)"),
}


@pytest.mark.parametrize("name", DISCRETIZE_MISTAKES)
def test_discretize_mistakes_are_named(name):
    answer, message = DISCRETIZE_MISTAKES[name]
    assert_rejected(checks.check_discretize, answer, "03.1", message)


def test_every_cell_is_visited_away_from_its_edges():
    rng = np.random.default_rng(0)
    bins, low, high = (2, 3, 4, 5), np.array([-1.0, -2.0, -0.5, -1.0]), np.array([1.0, 0.0, 0.5, 3.0])
    points, cells = checks.points_in_every_cell(bins, low, high, rng, per_cell=3)
    assert len(cells) == 120 and len({tuple(c) for c in cells}) == 120
    for cell, group in zip(cells, points):
        assert (checks.grid_cells(group, bins, low, high) == cell).all()
        frac = ((group - low) / (high - low) * np.asarray(bins)) % 1
        assert (frac > 0.1).all() and (frac < 0.9).all()


# --- 03.2: epsilon-greedy -------------------------------------------------------------------------------------

def _choice_of_all(q_values, epsilon, rng):
    if rng.uniform() < epsilon:
        return int(rng.choice(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == q_values.max())))


def _shuffled_argmax(q_values, epsilon, rng):
    order = rng.permutation(len(q_values))
    greedy = int(order[np.argmax(np.asarray(q_values)[order])])
    return int(rng.integers(len(q_values))) if rng.random() < epsilon else greedy


def _noise_tie_break(q_values, epsilon, rng):
    explore = rng.random() < epsilon
    action = rng.integers(len(q_values))
    best = np.isclose(q_values, np.max(q_values))
    return int(action) if explore else int(np.argmax(best * rng.random(len(q_values))))


EPSILON_CORRECT = {"rng.choice for both draws": _choice_of_all, "argmax of a shuffled order": _shuffled_argmax,
                   "random keys among the best": _noise_tie_break}


@pytest.mark.parametrize("name", EPSILON_CORRECT)
def test_epsilon_greedy_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_epsilon_greedy, EPSILON_CORRECT[name], "03.2", capsys)


EPSILON_MISTAKES = {
    "np.argmax breaks ties to the first": (
        lambda q, e, rng: int(rng.integers(len(q))) if rng.random() < e else int(np.argmax(q)),
        "with two best actions"),
    "explores only among the other actions": (
        lambda q, e, rng: (int(rng.choice([a for a in range(len(q)) if a != int(np.argmax(q))]))
                           if rng.random() < e else int(np.argmax(q))),
        "pick an action uniformly at random from all actions"),
    "epsilon the probability of the greedy action": (
        lambda q, e, rng: int(np.argmax(q)) if rng.random() < e else int(rng.integers(len(q))),
        "with epsilon=0 the greedy action 1 was taken"),
    "np.random instead of rng": (
        lambda q, e, rng: (int(np.random.randint(len(q))) if rng.random() < e
                           else int(np.random.choice(np.flatnonzero(q == q.max())))),
        "the same rng seed gave different actions"),
}


@pytest.mark.parametrize("name", EPSILON_MISTAKES)
def test_epsilon_greedy_mistakes_are_named(name):
    answer, message = EPSILON_MISTAKES[name]
    assert_rejected(checks.check_epsilon_greedy, answer, "03.2", message)


# --- 03.3: the Q-learning update ------------------------------------------------------------------------------

def _blend(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
    target = reward if terminated else reward + gamma * Q[next_obs].max()
    old = Q[obs, action]
    Q[obs, action] = (1 - alpha) * old + alpha * target
    return target - old


def _mask(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
    delta = reward + gamma * (1 - float(terminated)) * np.max(Q[next_obs, :]) - Q[obs][action]
    Q[obs][action] += alpha * delta
    return np.float64(delta)


UPDATE_CORRECT = {"(1 - alpha) Q + alpha target": _blend, "a (1 - terminated) mask, np.float64": _mask}


@pytest.mark.parametrize("name", UPDATE_CORRECT)
def test_update_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_q_learning_update, UPDATE_CORRECT[name], "03.3", capsys)


def _update(mistake):
    def update(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
        boot = 0.0 if terminated and mistake != "bootstraps when terminated" else gamma * Q[next_obs].max()
        if mistake == "sarsa":
            boot = 0.0 if terminated else gamma * Q[next_obs, action]
        delta = reward + boot - Q[obs, action]
        step = (1 - alpha) * delta if mistake == "alpha swapped" else alpha * delta
        Q[obs, action] += step
        return {"returns alpha * delta": alpha * delta, "returns the new value": Q[obs, action]}.get(mistake, delta)
    return update


UPDATE_MISTAKES = {
    "bootstraps when terminated": "you bootstrapped from a terminal state",
    "sarsa": "the target used Q[next_obs, action]",
    "alpha swapped": "alpha and 1 - alpha are swapped",
    "returns alpha * delta": "which is alpha * the TD error",
    "returns the new value": "the new value of Q[obs, action]",
}


@pytest.mark.parametrize("name", UPDATE_MISTAKES)
def test_update_mistakes_are_named(name):
    assert_rejected(checks.check_q_learning_update, _update(name), "03.3", UPDATE_MISTAKES[name])


def test_a_correct_epsilon_greedy_fails_check_03_2_less_than_once_in_10000():
    """The bound of ``false_failure_bound`` (each tolerance is 4.3 or more standard deviations wide)."""
    assert checks.false_failure_bound() < 1e-4, checks.false_failure_bound()
