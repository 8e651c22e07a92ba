"""course_utils.dqn: what lesson 04's loop keeps around the student's step."""
import numpy as np
import pytest

import course_utils as cu


def test_record_episodes_logs_each_finished_episode_with_its_end_step():
    class Log:
        returns, steps = [], []

    log = Log()
    env = cu.RecordEpisodes(cu.make_env("CartPole-v1"), log)
    env.reset(seed=0)
    ends = []
    for step in range(1, 200):
        _, _, terminated, truncated, _ = env.step(step % 2)
        if terminated or truncated:
            ends.append(step)
            env.reset()
    assert log.steps == ends and len(ends) >= 3
    assert log.returns == [float(ends[0])] + [float(b - a) for a, b in zip(ends, ends[1:])]  # reward 1 per step


def test_the_agent_acts_stores_and_trains_as_the_exercise_text_says():
    from course_utils.lessons import lesson04

    settings = lesson04.DQNSettings(batch_size=8, train_every=2, n_step=1)
    agent = cu.DQNAgent(4, 2, settings, np.random.default_rng(0), network=lesson04.build_q_network,
                        train_step=lesson04.dqn_train_step)
    obs = np.zeros(4, np.float32)
    assert agent.q_values(obs).shape == (2,) and agent.epsilon(0) == 1.0
    assert agent.epsilon(settings.epsilon_steps) == pytest.approx(0.05)
    for i in range(8):
        agent.store(obs + i, i % 2, 1.0, obs + i + 1, False, False)
    before = [w.copy() for w in agent.weights]
    loss = agent.train()
    assert np.isfinite(loss) and agent.calls == 1
    assert not all(np.array_equal(a, b) for a, b in zip(before, agent.weights))  # acts with the new weights


def test_the_agent_refuses_an_unknown_target_update():
    from course_utils.lessons import lesson04

    with pytest.raises(ValueError, match="target_update must be 'none', 'hard' or 'soft', got 'fast'"):
        cu.DQNAgent(4, 2, lesson04.DQNSettings(), np.random.default_rng(0), network=lesson04.build_q_network,
                    train_step=lesson04.dqn_train_step, target_update="fast")
