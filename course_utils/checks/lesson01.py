"""Checks of lesson 01: the episode loop, linear policies, random search."""
from __future__ import annotations

import numbers

import numpy as np

from . import fail, guarded, mean_return_reaches, passed
from ._fakes import ScriptedEnv, SteppedAfterEnd, SteppedBeforeReset, TargetEnv


def _episode(run_episode, env, policy, seed=None, ex="01.1"):
    try:
        return run_episode(env, policy, seed=seed)
    except SteppedBeforeReset:
        fail(ex, "the loop called env.step() before env.reset(): the episode was never started",
             "start every episode with obs, info = env.reset(seed=seed); the first observation comes from it")
    except SteppedAfterEnd:
        fail(ex, "the loop called env.step() after the episode had ended",
             "an episode ends when terminated OR truncated is True; stop on either")


@guarded("01.1", "env.reset(seed=seed) returns (obs, info) and env.step(action) five values (obs, reward, terminated, truncated, info); loop until terminated or truncated")
def check_run_episode(run_episode) -> None:
    """Check ``run_episode(env, policy, seed=None) -> float``."""
    cases = 0
    for rewards, end in [([1, 1, 1], "terminated"), ([0.5, 2.0, -1.0, 3.0], "truncated"),
                         ([1.0] * 7, "truncated"), ([2.5], "terminated"), ([1.0] * 300, "truncated"),
                         ([1.0] * 600, "terminated")]:
        env = ScriptedEnv(rewards, end)
        got = _episode(run_episode, env, lambda obs: 0)
        if not isinstance(got, numbers.Real):
            fail("01.1", f"run_episode returned {type(got).__name__} {got!r}", "return the total reward as a float")
        if len(env.actions) in (200, 500) and len(rewards) > len(env.actions):
            fail("01.1", f"the episode stopped after {len(env.actions)} steps although it had not ended "
                 f"(it ends after {len(rewards)} steps)", "do not cap the loop at a step count of your own "
                 "(200 was the old CartPole-v0's limit): the environment says when the episode is over, "
                 "with terminated or truncated")
        if env.actions and len(env.actions) < len(rewards):
            fail("01.1", f"the episode stopped after {len(env.actions)} of {len(rewards)} steps",
                 "keep stepping until terminated or truncated is True")
        if end == "truncated" and not env.actions:
            fail("01.1", "no step was taken", "call env.step(action) in a loop")
        if np.isclose(got, len(rewards)) and not np.isclose(sum(rewards), len(rewards)):
            fail("01.1", f"returned {got} for rewards {rewards}", "you counted steps: add up the rewards instead")
        if not np.isclose(got, sum(rewards)):
            fail("01.1", f"returned {got} for rewards {rewards}, expected {sum(rewards)}",
                 "add every reward that env.step returns, the last one included")
        cases += 1
    env = ScriptedEnv([1, 1, 1, 1])
    _episode(run_episode, env, lambda obs: int(obs[0]) % 2, seed=123)
    if env.seeds[-1] != 123:
        fail("01.1", f"env.reset got seed={env.seeds[-1]!r}, expected 123", "pass the seed on: env.reset(seed=seed)")
    if env.actions != [0, 1, 0, 1]:
        fail("01.1", f"actions taken {env.actions}, the policy asked for [0, 1, 0, 1]",
             "call policy(obs) with the newest observation and step with its action")
    cases += 2
    passed("01.1", cases)


@guarded("01.2", "linear_policy(weights) returns a function of one observation (shape (4,)) that returns the int 1 if weights @ obs > 0, else 0")
def check_linear_policy(linear_policy) -> None:
    """Check ``linear_policy(weights) -> callable`` mapping obs to 1 when weights @ obs > 0."""
    rng = np.random.default_rng(1)
    cases = [(rng.normal(size=4), rng.normal(size=4)) for _ in range(200)]
    cases.append((np.ones(4), np.zeros(4)))  # on the boundary: 0 (push left)
    wrong, inverted = 0, 0
    for weights, obs in cases:
        policy = linear_policy(weights)
        if not callable(policy):
            fail("01.2", f"linear_policy returned {type(policy).__name__}", "return a function obs -> action")
        action = policy(obs)
        want = int(weights @ obs > 0)
        if isinstance(action, np.bool_) or not (   # a NumPy bool is no action to env.step; a Python bool is an int
                isinstance(action, (numbers.Integral, np.integer))
                or (isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu")):
            fail("01.2", f"the policy returned {type(action).__name__} {action!r}",
                 "CartPole's env.step wants an int action: return int(weights @ obs > 0)")
        if action not in (0, 1):
            fail("01.2", f"the policy returned {action!r}", "return 0 (push left) or 1 (push right)")
        wrong += action != want
        inverted += action == 1 - want
    if inverted == len(cases) - 1:
        fail("01.2", "every action was the opposite of the expected one",
             "push right (1) when weights @ obs > 0, left (0) otherwise")
    if wrong:
        fail("01.2", f"{wrong} of {len(cases)} actions differ from int(weights @ obs > 0)",
             "use the dot product of weights and the observation; exactly 0 means push left (0)")
    passed("01.2", len(cases))


@guarded("01.3", "draw each candidate with rng.uniform(-1, 1, size=4), score it by its mean return over episodes_per_candidate episodes, keep the best (start from best_score = -inf)")
def check_random_search(random_search, run_episode, linear_policy) -> None:
    """Check ``random_search(env, n_candidates, rng, episodes_per_candidate=1)``."""
    n, k = 30, 2
    env = TargetEnv(seed=3, variants=k)
    weights, score = random_search(env, n, np.random.default_rng(7), episodes_per_candidate=k)
    weights = np.asarray(weights)
    if weights.shape != (4,):
        fail("01.3", f"best_weights has shape {weights.shape}", "draw one weight per observation dimension: shape (4,)")
    if len(env.returns) != n * k:
        fail("01.3", f"{len(env.returns)} episodes were played for {n} candidates x {k} episodes each",
             "play episodes_per_candidate episodes for each of the n_candidates candidates")
    per_candidate = np.asarray(env.returns).reshape(n, k)
    if k > 1 and all(len(set(env.seeds[i * k:(i + 1) * k])) == 1 and env.seeds[i * k] is not None for i in range(n)):
        fail("01.3", f"each candidate's {k} episodes were all reset with the same seed ({env.seeds[0]!r})",
             "the same seed replays the same episode: call run_episode without a seed, so the episodes differ")
    if np.all(per_candidate == per_candidate[0]):
        fail("01.3", f"all {n} candidates scored exactly the same", "draw new random weights for every candidate")
    means = per_candidate.mean(axis=1)
    if np.isclose(score, max(env.returns)) and not np.isclose(score, means.max()):
        fail("01.3", f"best_score {score} is one lucky episode", "score a candidate by the mean over its episodes")
    if k > 1 and np.isclose(score, per_candidate[:, 0].max()) and not np.isclose(score, means.max()):
        fail("01.3", f"best_score {score} is the first episode of a candidate only",
             f"average the returns of all {k} episodes of each candidate")
    if not np.isclose(score, means.max()):
        hint = ("you kept the last candidate, not the best" if np.isclose(score, means[-1])
                else "keep the candidate whose mean return is highest")
        fail("01.3", f"best_score {score}, but the best candidate averaged {means.max()}", hint)
    replay_env = TargetEnv(seed=3, variants=k)
    replay = np.mean([run_episode(replay_env, linear_policy(weights)) for _ in range(k)])
    if not np.isclose(replay, score):
        fail("01.3", f"best_weights score {replay}, not the best_score {score}", "return the weights of the best candidate")
    again, _ = random_search(TargetEnv(seed=3, variants=k), n, np.random.default_rng(7), episodes_per_candidate=k)
    other, _ = random_search(TargetEnv(seed=3, variants=k), n, np.random.default_rng(8), episodes_per_candidate=k)
    if not np.array_equal(np.asarray(again), weights) or np.array_equal(np.asarray(other), weights):
        fail("01.3", "the same rng seed gave other weights, or another seed the same ones",
             "draw candidates from the rng argument (rng.uniform or rng.normal), not np.random")
    singles = np.array([random_search(TargetEnv(seed=3), 1, np.random.default_rng(s))[0] for s in range(20)], dtype=float)
    if singles.min() >= 0:
        fail("01.3", "every weight drawn was >= 0", "draw each weight from [-1, 1] (rng.uniform(-1, 1, size=4)): "
             "a weight must be able to push either way")
    passed("01.3", 8)


@guarded("01.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the found policy's returns over ``episodes`` evaluation episodes reach ``threshold``."""
    mean_return_reaches("01.4", greedy_returns, threshold, episodes,
                        f"Mean return over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "search more candidates, or average each over more episodes before accepting it")
