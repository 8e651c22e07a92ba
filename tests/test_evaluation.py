import numpy as np
import pytest

from course_utils.envs import make_env
from course_utils.evaluation import evaluate, passes_with_margin


def balance(obs):
    """A batched hand-written policy: push towards where the pole falls (scores ~ 200-500)."""
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(int)


def one_by_one_returns(policy, episodes, seed):
    """Reference: play the same episodes one at a time with a plain env."""
    returns = []
    for i in range(episodes):
        env = make_env("CartPole-v1")
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, r, terminated, truncated, _ = env.step(int(policy(obs[None])[0]))
            total += r
            done = terminated or truncated
        returns.append(total)
    return np.array(returns)


def test_matches_one_episode_at_a_time():
    returns = evaluate(balance, "CartPole-v1", episodes=6, seed=10)
    np.testing.assert_array_equal(returns, one_by_one_returns(balance, 6, seed=10))


def test_counts_every_episode_once_with_fewer_copies_than_episodes():
    always_left = lambda obs: np.zeros(len(obs), dtype=int)  # noqa: E731
    returns = evaluate(always_left, "CartPole-v1", episodes=7, seed=0, max_parallel=3)
    assert returns.shape == (7,)
    assert np.all((returns >= 8) & (returns <= 12))  # falls within about ten steps


def test_truncation_ends_episodes():
    returns = evaluate(balance, "CartPole-v1", episodes=3, max_episode_steps=20)
    np.testing.assert_array_equal(returns, [20.0, 20.0, 20.0])


def test_single_observation_policy_with_batched_false():
    returns = evaluate(lambda obs: int(obs[2] + 0.5 * obs[3] > 0), "CartPole-v1", 4, seed=10, batched=False)
    np.testing.assert_array_equal(returns, one_by_one_returns(balance, 4, seed=10))


def test_random_agent_scores_low_and_good_policy_scores_high():
    rng = np.random.default_rng(0)
    random_returns = evaluate(lambda obs: rng.integers(0, 2, len(obs)), "CartPole-v1", episodes=50)
    good_returns = evaluate(balance, "CartPole-v1", episodes=50)
    assert 10 < random_returns.mean() < 40
    assert good_returns.mean() > 150


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"policy": lambda obs: 0}, ValueError, r"returned actions of shape \(\) for 2 observations.*expected \(2,\).*batched=False"),
        ({"policy": lambda obs: np.zeros((len(obs), 1), int)}, ValueError, r"expected \(2,\)"),
        ({"policy": "left"}, TypeError, "policy must be callable"),
        ({"policy": balance, "episodes": 0}, ValueError, "episodes must be >= 1"),
        ({"policy": balance, "seed": -2}, ValueError, "seed must be >= 0"),
    ],
)
def test_bad_input(kwargs, error, message):
    kwargs = {"env_id": "CartPole-v1", "episodes": 2, **kwargs}
    with pytest.raises(error, match=message):
        evaluate(**kwargs)


def test_wrappers_are_applied_to_every_copy():
    import gymnasium as gym

    seen = []

    def sign_of_angle(env):
        return gym.wrappers.TransformObservation(env, lambda o: (o[2:3] > 0).astype(np.float32),
                                                 gym.spaces.Box(0, 1, (1,), np.float32))

    def policy(obs):
        seen.append(obs.shape)
        return obs[:, 0].astype(int)

    returns = evaluate(policy, "CartPole-v1", episodes=4, wrappers=[sign_of_angle])
    assert seen[0] == (4, 1)
    assert returns.mean() > 20  # pushing toward the fall beats chance


def lean(obs):
    """Push towards the side the pole leans to: about 42 steps on average, spread about 8."""
    return (obs[:, 2] > 0).astype(int)


def test_stop_test_passes_a_policy_that_never_fails_at_once():
    assert passes_with_margin(balance, "CartPole-v1", threshold=499, seed=0, episodes=20)


def test_stop_test_wants_a_margin_not_only_two_passing_sets():
    sets = [evaluate(lean, "CartPole-v1", 20, seed) for seed in (0, 1_000_000)]
    assert all(s.mean() >= 40 for s in sets)               # each set alone would pass at 40 ...
    assert not passes_with_margin(lean, "CartPole-v1", threshold=40, seed=0, episodes=20)   # ... not both with a margin
    pooled = np.concatenate(sets)
    margin = 3 * pooled.std(ddof=1) / np.sqrt(20)
    assert passes_with_margin(lean, "CartPole-v1", threshold=pooled.mean() - margin - 0.01, seed=0, episodes=20)
    assert not passes_with_margin(lean, "CartPole-v1", threshold=pooled.mean() - margin + 0.01, seed=0, episodes=20)
    assert passes_with_margin(lean, "CartPole-v1", threshold=40, seed=0, episodes=20, z=0.0)


def test_stop_test_plays_one_set_when_the_first_fails():
    calls = []

    def counting(obs):
        calls.append(len(obs))
        return lean(obs)

    assert not passes_with_margin(counting, "CartPole-v1", threshold=400, seed=0, episodes=10)
    played = len(calls)
    assert passes_with_margin(counting, "CartPole-v1", threshold=5, seed=0, episodes=10)
    assert len(calls) - played > played  # a passing policy played the second set as well


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"threshold": "475"}, TypeError, "passes_with_margin: threshold must be a number"),
        ({"sets": 0}, ValueError, "passes_with_margin: sets must be >= 1"),
        ({"z": None}, TypeError, "passes_with_margin: z must be a number"),
        ({"seed": -1}, ValueError, "passes_with_margin: seed must be >= 0"),
        ({"episodes": 0}, ValueError, "passes_with_margin: episodes must be >= 1"),
        ({"z": -1.0}, ValueError, "passes_with_margin: z must be a finite number >= 0"),
        ({"z": float("inf")}, ValueError, "passes_with_margin: z must be a finite number >= 0"),
        ({"sets": 1, "episodes": 1}, ValueError, "one episode has no spread"),
    ],
)
def test_stop_test_bad_input(kwargs, error, message):
    kwargs = {"policy": lean, "env_id": "CartPole-v1", "threshold": 40, "seed": 0, "episodes": 2, **kwargs}
    with pytest.raises(error, match=message):
        passes_with_margin(**kwargs)
