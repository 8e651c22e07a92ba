import numpy as np
import pytest

from course_utils.player import AssistedPlay


def balance(obs):
    return int(obs[2] + 0.5 * obs[3] > 0)


def confident_near_upright(obs):
    """Q-values that are high (confident) only while the pole is nearly upright."""
    obs = np.atleast_2d(obs)
    confidence = 10.0 - 200.0 * np.abs(obs[:, 2])
    push_right = obs[:, 2] + 0.5 * obs[:, 3] > 0
    return np.stack([np.where(push_right, confidence - 1, confidence),
                     np.where(push_right, confidence, confidence - 1)], axis=1)


def test_scripted_helper_takes_over_when_the_agent_is_unsure():
    play = AssistedPlay(confident_near_upright, seed=0, threshold=9.0)
    log = play.run(helper=balance)
    assert log.done and log.agent_steps > 0 and log.human_steps > 0
    assert log.steps == log.total_reward  # CartPole: reward 1 per step


def test_default_threshold_comes_from_the_start_state():
    play = AssistedPlay(confident_near_upright, seed=0, threshold_fraction=0.5)
    assert play.threshold == pytest.approx(0.5 * confident_near_upright(play.obs[None]).max())


def test_unsure_agent_refuses_to_act_alone_and_finished_episode_refuses_steps():
    play = AssistedPlay(confident_near_upright, seed=0, threshold=100.0)
    with pytest.raises(ValueError, match="the agent is unsure here"):
        play.step()
    assert play.step(1) == "human"
    play.run(helper=lambda obs: 0)
    with pytest.raises(RuntimeError, match="the episode is over"):
        play.step(0)


def test_widget_buttons_drive_the_same_code():
    play = AssistedPlay(confident_near_upright, seed=0, threshold=9.0)
    view = play.widget()
    image, status, buttons = view.children[0], view.children[1], view.children[2].children
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "your move" in status.value and [b.description for b in buttons] == ["push left", "push right"]
    while not play.log.done:
        buttons[balance(play.obs)].click()
    assert play.log.human_steps > 0 and "Episode over." in status.value and all(b.disabled for b in buttons)


def test_bad_q_values_shape_is_named():
    with pytest.raises(ValueError, match=r"returned shape \(2,\) for one observation; expected \(1, n_actions\)"):
        AssistedPlay(lambda obs: np.zeros(2))
