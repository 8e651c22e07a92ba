"""course_utils.reinforce: what lesson 07's episode code talks to."""
import numpy as np
import pytest

import course_utils as cu


def agent(use_baseline=True):
    from course_utils.lessons import lesson07

    return cu.ReinforceAgent(4, 2, np.random.default_rng(0), network=lesson07.build_policy_network,
                             loss=lesson07.policy_gradient_loss, use_baseline=use_baseline)


def test_the_agent_samples_gives_values_and_updates_both_networks():
    a = agent()
    obs = np.zeros((3, 4), np.float32)
    assert a.sample_action(obs[0]) in (0, 1) and a.values(obs).shape == (3,) and a.values(obs).dtype == np.float32
    before, baseline_before = [w.copy() for w in a.weights], a.values(obs).copy()
    loss = a.update(obs, [0, 1, 0], [1.0, -1.0, 0.5], [10.0, 9.0, 8.0])
    assert np.isfinite(loss) and a.updates == 1
    assert not all(np.array_equal(x, y) for x, y in zip(before, a.weights))
    assert not np.allclose(a.values(obs), baseline_before)       # moved towards the returns


def test_without_a_baseline_values_are_zero_and_the_two_estimates_agree():
    a = agent(use_baseline=False)
    assert np.array_equal(a.values(np.ones((5, 4))), np.zeros(5))
    from course_utils.lessons import lesson07

    spread = a.gradient_variance(cu.make_env("CartPole-v1", seed=0), lesson07.discounted_returns, 0.99, episodes=3)
    assert set(spread) == {"without baseline", "with baseline"} and spread["without baseline"] > 0
    # an untrained baseline network is not zero, so the estimates differ; with zero weights they agree
    a.baseline_weights = [np.zeros_like(w) for w in a.baseline_weights]
    spread = a.gradient_variance(cu.make_env("CartPole-v1", seed=0), lesson07.discounted_returns, 0.99, episodes=3)
    assert spread["with baseline"] == pytest.approx(spread["without baseline"])


def test_update_says_which_shapes_it_wanted():
    with pytest.raises(ValueError, match=r"wanted observations \(T, obs_dim\) and actions, weights, returns of "
                                         r"shape \(T,\); got \(3, 4\), \(2,\), \(3,\), \(3,\)"):
        agent().update(np.zeros((3, 4)), [0, 1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
