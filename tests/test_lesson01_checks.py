"""Lesson 01's checks pass other correct forms of 01.1-01.3 (the mistakes they name: tests/test_checks.py)."""
import itertools

import numpy as np
import pytest
from mistake_bank import assert_passes, assert_rejected

from course_utils.checks import lesson01 as checks
from course_utils.lessons import lesson01 as reference


def _while_true(env, policy, seed=None):
    obs, info = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        rewards.append(reward)
        if terminated or truncated:
            return float(np.sum(rewards))


def _counted(env, policy, seed=None):
    total = 0
    obs = env.reset(seed=seed)[0]
    for _ in itertools.count():
        step = env.step(policy(obs))
        obs, total = step[0], total + step[1]
        if step[2] or step[3]:
            break
    print("episode over, return", total)   # a leftover print
    return total


EPISODE_CORRECT = {"the lesson's": reference.run_episode, "while True, sum of a list": _while_true,
                   "itertools.count, tuple indexing, a print": _counted}


@pytest.mark.parametrize("name", EPISODE_CORRECT)
def test_episode_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_run_episode, EPISODE_CORRECT[name], "01.1", capsys)


def _dot(weights):
    w = np.array(weights)
    return lambda obs: 1 if np.dot(w, obs) > 0 else 0


def _sum_of_products(weights):
    def policy(obs):
        return int(sum(float(a) * float(b) for a, b in zip(weights, obs)) > 0)
    return policy


POLICY_CORRECT = {"the lesson's": reference.linear_policy, "np.dot and a conditional": _dot,
                  "a sum of products": _sum_of_products}


@pytest.mark.parametrize("name", POLICY_CORRECT)
def test_linear_policy_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_linear_policy, POLICY_CORRECT[name], "01.2", capsys)


def _argmax_of_lists(env, n_candidates, rng, episodes_per_candidate=1):
    """All candidates drawn at once, scored in a list, the best taken with argmax."""
    candidates = rng.uniform(-1, 1, size=(n_candidates, env.observation_space.shape[0]))
    scores = [np.mean([reference.run_episode(env, reference.linear_policy(w)) for _ in range(episodes_per_candidate)])
              for w in candidates]
    best = int(np.argmax(scores))
    return candidates[best], float(scores[best])


def _normal_draws(env, n_candidates, rng, episodes_per_candidate=1):
    """Weights from a normal distribution (the text's [-1, 1] is one choice; any sign must be possible)."""
    best = (None, float("-inf"))
    for _ in range(n_candidates):
        w = rng.normal(size=4)
        score = sum(reference.run_episode(env, reference.linear_policy(w))
                    for _ in range(episodes_per_candidate)) / episodes_per_candidate
        if score > best[1]:
            best = (w, score)
    return best


SEARCH_CORRECT = {"the lesson's": reference.random_search, "drawn at once, argmax": _argmax_of_lists,
                  "normal draws, a running best": _normal_draws}


@pytest.mark.parametrize("name", SEARCH_CORRECT)
def test_random_search_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_random_search, SEARCH_CORRECT[name], "01.3", capsys,
                  reference.run_episode, reference.linear_policy)


def test_random_search_from_a_generator_of_its_own_is_named():
    def own_generator(env, n_candidates, rng, episodes_per_candidate=1):
        return _argmax_of_lists(env, n_candidates, np.random.default_rng(), episodes_per_candidate)

    assert_rejected(lambda f: checks.check_random_search(f, reference.run_episode, reference.linear_policy),
                    own_generator, "01.3", "the same rng seed gave other weights")
