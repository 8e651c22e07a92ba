import numpy as np
import pytest


def test_lesson_06_train_tiny_budget_logs_every_episode():
    from course_utils.lessons import lesson06

    log = lesson06.train(seed=0, max_episodes=5)
    assert len(log.returns) == len(log.steps) == len(log.seconds) == 5
    assert log.steps[-1] == sum(log.returns)  # reward 1 per step in CartPole
    assert np.all(np.diff(log.seconds) >= 0) and not log.solved and log.weights is not None


def test_reference_epsilon_greedy_passes_the_lesson_02_check(capsys):
    from course_utils.lessons.lesson02 import epsilon_greedy
    from course_utils.checks import lesson02

    lesson02.check_epsilon_greedy(epsilon_greedy)
    assert "Exercise 02.2: passed" in capsys.readouterr().out


def test_reference_dqn_pieces_pass_the_lesson_03_checks(capsys):
    from course_utils.agents import dqn
    from course_utils.checks import lesson03

    lesson03.check_build_q_network(dqn.build_q_network)
    lesson03.check_td_targets(dqn.td_targets)
    lesson03.check_dqn_loss(dqn.dqn_loss)
    lesson03.check_dqn_train_step(dqn.dqn_train_step, dqn.dqn_loss, dqn.td_targets)
    assert capsys.readouterr().out.count("passed") == 4


@pytest.mark.parametrize("target_update", ["none", "hard", "soft"])
def test_train_dqn_tiny_budget_runs_every_variant(target_update):
    from course_utils.agents import dqn

    settings = dqn.DQNSettings(max_steps=1_200, learning_starts=200, eval_every=600, epsilon_steps=500)
    log = dqn.train_dqn(seed=0, target_update=target_update, settings=settings)
    assert log.env_steps == 1_200 and [s for s, _ in log.evals] == [600, 1_200]
    assert sum(log.returns) <= 1_200 and log.weights is not None and not log.solved


def test_train_dqn_refuses_an_unknown_target_update():
    from course_utils.agents import dqn

    with pytest.raises(ValueError, match="target_update must be 'none', 'hard' or 'soft', got 'fast'"):
        dqn.train_dqn(target_update="fast")


def test_reference_target_updates_pass_the_lesson_04_checks(capsys):
    from course_utils.agents import dqn
    from course_utils.checks import lesson04

    lesson04.check_hard_update(dqn.hard_update)
    lesson04.check_soft_update(dqn.soft_update)
    assert capsys.readouterr().out.count("passed") == 2


def test_train_dqn_double_and_dueling_tiny_budget_calls_on_eval():
    from course_utils.agents import dqn

    settings = dqn.DQNSettings(max_steps=1_200, learning_starts=200, eval_every=600, epsilon_steps=500)
    seen = []
    log = dqn.train_dqn(seed=0, target_update="soft", settings=settings, double_targets=dqn.double_dqn_targets,
                        network=dqn.build_dueling_q_network, on_eval=lambda step, w: seen.append((step, len(w))))
    assert seen == [(600, 6), (1_200, 6)]  # a dueling network acts as three folded Dense layers
    assert log.env_steps == 1_200 and not log.solved and log.solved_at is None


def test_train_dqn_refuses_double_targets_without_a_target_network():
    from course_utils.agents import dqn

    with pytest.raises(ValueError, match="use target_update='hard' or 'soft' with double_targets"):
        dqn.train_dqn(target_update="none", double_targets=dqn.double_dqn_targets)


def test_greedy_q_vs_returns_measures_the_discounted_return_obtained():
    from course_utils.agents import dqn

    # A network that always says Q = (0, 7) pushes right every step: episodes end in about 10 steps.
    weights = [np.zeros((4, 2), np.float32), np.array([0.0, 7.0], np.float32)]
    predicted, obtained = dqn.greedy_q_vs_returns(weights, gamma=0.9, episodes=2, seed=0)
    assert predicted.shape == obtained.shape and 10 < len(predicted) < 40
    np.testing.assert_allclose(predicted, 7.0)
    assert obtained.max() < 1 / (1 - 0.9) and np.isclose(obtained.min(), 1.0)  # the last step of each episode: r = 1
