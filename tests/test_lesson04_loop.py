"""Exercise 04.5, one step of the DQN loop: the reference step passes, correct variants pass,
and each plausible mistake is named (the table below)."""
import numpy as np
import pytest

from course_utils.checks import lesson04
from course_utils.lessons.lesson03 import epsilon_greedy
from mistake_bank import assert_passes, assert_rejected

REFERENCE = '''
def dqn_env_step(agent, env, obs, step):
    action = epsilon_greedy(agent.q_values(obs), agent.epsilon(step), agent.rng)
    next_obs, reward, terminated, truncated, _ = env.step(action)
    agent.store(obs, action, reward, next_obs, terminated, truncated)
    if step >= agent.settings.learning_starts and step % agent.settings.train_every == 0:
        agent.train()
    if terminated or truncated:
        next_obs, _ = env.reset()
    return next_obs
'''


def step_function(source: str = REFERENCE, **edits):
    """The reference step with lines replaced (``edits``: old line text -> new text), compiled."""
    for old, new in edits.items():
        assert old in source, old
        source = source.replace(old, new)
    namespace = {"epsilon_greedy": epsilon_greedy, "np": np}
    exec(source, namespace)  # noqa: S102
    return namespace["dqn_env_step"]


def test_the_lesson_s_step_passes(capsys):
    from course_utils.lessons import lesson04 as reference

    lesson04.check_dqn_env_step(reference.dqn_env_step)
    lesson04.check_dqn_env_step(step_function())
    assert capsys.readouterr().out == "Exercise 04.5: passed (80 cases checked).\n" * 2


OWN_EPSILON = '''
def dqn_env_step(agent, env, obs, step):
    s = agent.settings
    if agent.rng.random() < agent.epsilon(step):
        action = int(env.action_space.sample())
    else:
        action = int(np.argmax(agent.q_values(obs)))
    next_obs, reward, terminated, truncated, info = env.step(action)
    print("step", step, reward)                       # a leftover debug line
    agent.store(obs, action, reward, next_obs, terminated, truncated)
    done = terminated or truncated
    if done:
        obs, info = env.reset()
    else:
        obs = next_obs
    if step >= s.learning_starts and not step % s.train_every:
        agent.train()
    return obs
'''


ONE_EXPRESSION_RESET = '''
def dqn_env_step(agent, env, obs, step):
    q = agent.q_values(obs)
    action = epsilon_greedy(q, agent.epsilon(step), agent.rng)
    next_obs, reward, terminated, truncated, _ = env.step(action)
    agent.store(obs=obs, action=action, reward=reward, next_obs=next_obs, terminated=terminated, truncated=truncated)
    if step % agent.settings.train_every == 0 and step >= agent.settings.learning_starts:
        agent.train()
    return env.reset()[0] if (terminated or truncated) else next_obs
'''


@pytest.mark.parametrize("source", [OWN_EPSILON, ONE_EXPRESSION_RESET],
                         ids=["own epsilon-greedy rule, reset before training, a print",
                              "keyword arguments to store, reset in the return"])
def test_other_correct_steps_pass(source, capsys):
    assert_passes(lesson04.check_dqn_env_step, step_function(source), "04.5", capsys)


RESET = "    if terminated or truncated:\n        next_obs, _ = env.reset()\n"

MISTAKES = {
    "no reset": ({RESET: ""}, "without env.reset() in between"),
    "reset only when terminated": ({"    if terminated or truncated:\n        next_obs, _ = env.reset()":
                                    "    if terminated:\n        next_obs, _ = env.reset()"},
                                   "that ended at step 15 (truncated), without env.reset()"),
    "reset, but the old observation returned": ({"        next_obs, _ = env.reset()": "        env.reset()"},
                                                "the episode ended and you returned its last observation"),
    "the pair (obs, info) returned": ({"        next_obs, _ = env.reset()": "        next_obs = env.reset()"},
                                      "returned a tuple of two"),
    "the observation acted on returned": ({"    return next_obs": "    return obs"},
                                          "you returned the observation you acted on"),
    "truncation stored as terminal": ({"terminated, truncated)\n    if step": "terminated or truncated, truncated)\n    if step"},
                                      "truncated by the time limit (terminated=False, truncated=True) and you stored "
                                      "terminated=True"),
    "truncated never passed on": ({"terminated, truncated)\n    if step": "terminated, False)\n    if step"},
                                  "env.step returned truncated=True and you stored truncated=False"),
    "stored after the reset": ({"    agent.store(obs, action, reward, next_obs, terminated, truncated)\n": "",
                                "    return next_obs": "    agent.store(obs, action, reward, next_obs, terminated, truncated)\n"
                                                      "    return next_obs"},
                               "the first observation of the next episode"),
    "obs and next_obs swapped": ({"agent.store(obs, action, reward, next_obs,": "agent.store(next_obs, action, reward, obs,"},
                                 "you stored obs=[0. 1. 1.] (the next observation)"),
    "no store": ({"    agent.store(obs, action, reward, next_obs, terminated, truncated)\n": ""},
                 "agent.store was never called"),
    "stored twice": ({"    agent.store(obs, action, reward, next_obs, terminated, truncated)\n":
                      "    agent.store(obs, action, reward, next_obs, terminated, truncated)\n" * 2},
                     "stored twice at step 1"),
    "training before learning_starts": ({"step >= agent.settings.learning_starts and ": ""},
                                        "was called at step 4, before learning_starts=10"),
    "training at every step": ({" and step % agent.settings.train_every == 0": ""},
                               "agent.train() was called at steps [10, 11, 12, 13, 14, 15]"),
    "never training": ({"        agent.train()\n": "        pass\n"}, "agent.train() was never called"),
    "always greedy": ({"epsilon_greedy(agent.q_values(obs), agent.epsilon(step), agent.rng)":
                       "int(np.argmax(agent.q_values(obs)))"}, "agent.epsilon(step) was never called"),
    "epsilon ignored": ({"epsilon_greedy(agent.q_values(obs), agent.epsilon(step), agent.rng)":
                         "epsilon_greedy(agent.q_values(obs), 0.0 * agent.epsilon(step), agent.rng)"},
                        "every action you took was the greedy one"),
    "epsilon of step 0": ({"agent.epsilon(step)": "agent.epsilon(0)"}, "you asked agent.epsilon(0)"),
    "a generator of its own": ({"agent.epsilon(step), agent.rng)": "agent.epsilon(step), np.random.default_rng())"},
                               "two runs with agent.rng seeded alike took different actions"),
    "the worst action": ({"epsilon_greedy(agent.q_values(obs), agent.epsilon(step), agent.rng)":
                          "epsilon_greedy(-agent.q_values(obs), agent.epsilon(step), agent.rng)"},
                         "you took the action with the lowest Q-value"),
    "the action as a float": ({"    next_obs, reward, terminated, truncated, _ = env.step(action)":
                               "    next_obs, reward, terminated, truncated, _ = env.step(float(action))"},
                              "at step 1 env.step got the action 1.0 (float)"),
    "two environment steps": ({"    next_obs, reward, terminated, truncated, _ = env.step(action)\n":
                               "    env.step(action)\n    next_obs, reward, terminated, truncated, _ = env.step(action)\n"},
                              "env.step was called twice"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named(name):
    edits, message = MISTAKES[name]
    assert_rejected(lesson04.check_dqn_env_step, step_function(**edits), "04.5", message)


def test_the_stub_is_not_attempted():
    def stub(agent, env, obs, step):
        raise NotImplementedError("Exercise 04.5: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 04.5: write your code here"):
        lesson04.check_dqn_env_step(stub)


def test_a_generator_of_its_own_is_caught_all_but_surely():
    """Check 04.5 replays the loop with agent.rng seeded alike: an answer exploring with another generator repeats
    its actions in all EXPLORING steps (epsilon 1, three actions) only by chance."""
    from course_utils.checks import lesson04

    assert 3.0 ** -lesson04.EXPLORING < 1e-4 and lesson04.N_ACTIONS == 3
