import numpy as np

from course_utils.agents import reinforce
from course_utils.checks import lesson06


def test_reference_reinforce_pieces_pass_the_lesson_06_checks(capsys):
    lesson06.check_discounted_returns(reinforce.discounted_returns)
    lesson06.check_policy_gradient_loss(reinforce.policy_gradient_loss)
    lesson06.check_normalize_returns(reinforce.normalize_returns)
    assert capsys.readouterr().out.count("passed") == 3


def test_train_reinforce_tiny_budget_logs_every_episode():
    log = reinforce.train_reinforce(seed=0, max_episodes=5)
    assert len(log.returns) == len(log.steps) == len(log.seconds) == 5
    assert log.steps[-1] == sum(log.returns)  # reward 1 per step in CartPole
    assert np.all(np.diff(log.seconds) >= 0) and not log.solved and log.weights is not None


def test_reference_epsilon_greedy_passes_the_lesson_02_check(capsys):
    from course_utils.agents.tabular import epsilon_greedy
    from course_utils.checks import lesson02

    lesson02.check_epsilon_greedy(epsilon_greedy)
    assert "Exercise 02.2: passed" in capsys.readouterr().out
