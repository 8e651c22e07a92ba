"""Lesson 04's DQN loop (``lessons.lesson04.train_dqn``), which lessons 05 and 06 and the
bench call with their pieces, and the lesson training functions the bench times."""
import time

import numpy as np
import pytest

TINY = dict(max_steps=1_200, learning_starts=200, eval_every=600, epsilon_steps=500)


def test_lesson_07_train_tiny_budget_logs_every_episode():
    from course_utils.lessons import lesson07

    start = time.perf_counter()
    log = lesson07.train(seed=0, max_episodes=5)
    elapsed = time.perf_counter() - start
    assert len(log.returns) == len(log.steps) == len(log.seconds) == 5
    # each episode logged once, at its own end: CartPole pays 1 a step, so its length is its return
    assert np.diff([0, *log.steps]).tolist() == log.returns
    assert 0 < log.seconds[0] and log.seconds[-1] <= elapsed   # seconds since this run began, not a clock reading
    assert log.weights is log.agent.weights   # the log keeps what the run trained


def test_reference_epsilon_greedy_passes_the_lesson_03_check(capsys):
    from course_utils.lessons.lesson03 import epsilon_greedy
    from course_utils.checks import lesson03

    lesson03.check_epsilon_greedy(epsilon_greedy)
    assert "Exercise 03.2: passed" in capsys.readouterr().out


@pytest.mark.parametrize("target_update", ["none", "hard", "soft"])
def test_train_dqn_tiny_budget_runs_every_target_variant(target_update):
    from course_utils.lessons import lesson04, lesson05

    copies = []
    hard = lambda target, online: (copies.append(1), lesson05.hard_update(target, online))  # noqa: E731
    log = lesson04.train_dqn(0, lesson04.DQNSettings(**TINY), target_update=target_update,
                             hard=hard, soft=lesson05.soft_update)
    assert log.env_steps == 1_200 and [s for s, _ in log.evals] == [600, 1_200]
    assert sum(log.returns) <= 1_200 and log.weights is not None and not log.solved
    # (1200 - 200) / 16 = 62 compiled calls after learning starts; a copy every 6 of them
    assert len(copies) == (10 if target_update == "hard" else 0)


def test_train_dqn_refuses_what_it_cannot_run():
    from course_utils.lessons import lesson04

    with pytest.raises(ValueError, match="target_update must be 'none', 'hard' or 'soft', got 'fast'"):
        lesson04.train_dqn(target_update="fast")
    with pytest.raises(ValueError, match="target_update='soft' needs soft="):
        lesson04.train_dqn(target_update="soft")


def test_train_dqn_runs_lesson_06s_double_step_and_dueling_network_and_calls_on_eval():
    from course_utils.lessons import lesson04, lesson06

    seen = []
    log = lesson04.train_dqn(0, lesson04.DQNSettings(**TINY), train_step=lesson06.double_dqn_train_step,
                             network=lesson06.build_dueling_q_network,
                             on_eval=lambda step, w: seen.append((step, len(w))))
    assert seen == [(600, 6), (1_200, 6)]  # a dueling network acts as three folded Dense layers
    assert log.env_steps == 1_200 and not log.solved and log.solved_at is None


def test_double_dqn_step_says_it_needs_a_target_network():
    from course_utils.lessons import lesson04, lesson06

    with pytest.raises(ValueError, match="train with target_update='hard' or 'soft'"):
        lesson04.train_dqn(0, lesson04.DQNSettings(**TINY), target_update="none",
                           train_step=lesson06.double_dqn_train_step)


def test_greedy_q_vs_returns_measures_the_discounted_return_obtained():
    import course_utils as cu

    # A network that always says Q = (0, 7) pushes right every step: episodes end in about 10 steps.
    weights = [np.zeros((4, 2), np.float32), np.array([0.0, 7.0], np.float32)]
    predicted, obtained = cu.greedy_q_vs_returns(weights, gamma=0.9, episodes=2, seed=0)
    assert predicted.shape == obtained.shape and 10 < len(predicted) < 40
    np.testing.assert_allclose(predicted, 7.0)
    assert obtained.max() < 1 / (1 - 0.9) and np.isclose(obtained.min(), 1.0)  # the last step of each episode: r = 1
    # within an episode each obtained return is r + gamma * the next one; it is r = 1 at an episode's last step
    follows = np.isclose(obtained[:-1], 1.0 + 0.9 * obtained[1:]) | np.isclose(obtained[:-1], 1.0)
    assert follows.all() and np.isclose(obtained[-1], 1.0)


def test_the_discounted_sums_are_the_returns_from_each_step():
    from course_utils.diagnostics import _discounted_sums

    rewards = np.random.default_rng(0).normal(size=37)
    expected = [sum(0.97 ** k * r for k, r in enumerate(rewards[t:])) for t in range(len(rewards))]
    np.testing.assert_allclose(_discounted_sums(rewards, 0.97), expected)
    assert _discounted_sums([], 0.9).shape == (0,) and _discounted_sums([2.0], 0.5).tolist() == [2.0]
