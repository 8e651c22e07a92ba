"""Exercise 07.3, one REINFORCE episode and its update: the reference passes, another correct
way passes, and each plausible mistake is named (the table below)."""
import numpy as np
import pytest

from course_utils.checks import lesson07
from mistake_bank import assert_passes, assert_rejected

REFERENCE = '''
def reinforce_episode(agent, env, gamma):
    observations, actions, rewards = [], [], []
    obs, _ = env.reset()
    done = False
    while not done:
        action = agent.sample_action(obs)
        observations.append(obs)
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        done = terminated or truncated
    observations = np.array(observations, dtype=np.float32)
    returns = discounted_returns(rewards, gamma)
    agent.update(observations, np.array(actions), returns - agent.values(observations), returns)
'''


def discounted_returns(rewards, gamma):
    out, g = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


def episode_function(source: str = REFERENCE, **edits):
    for old, new in edits.items():
        assert old in source, old
        source = source.replace(old, new)
    namespace = {"np": np, "discounted_returns": discounted_returns}
    exec(source, namespace)  # noqa: S102
    return namespace["reinforce_episode"]


def test_the_lesson_s_episode_passes(capsys):
    lesson07.check_reinforce_episode(episode_function())
    assert capsys.readouterr().out == "Exercise 07.3: passed (4 cases checked).\n"


OTHER = '''
def reinforce_episode(agent, env, gamma):
    obs, info = env.reset()
    steps = []
    while True:
        a = agent.sample_action(obs)
        next_obs, r, terminated, truncated, info = env.step(a)
        steps.append((obs, a, r))
        print("t", len(steps), r)            # a leftover debug line
        obs = next_obs
        if terminated or truncated:
            break
    obs_arr = np.stack([s[0] for s in steps])
    G, g = [], 0.0
    for _, _, r in reversed(steps):
        g = r + gamma * g
        G.insert(0, g)
    G = np.array(G, dtype=np.float32)
    baseline = agent.values(obs_arr)
    agent.update(obs_arr, [s[1] for s in steps], G - baseline, G)
    return sum(s[2] for s in steps)
'''


COUNTED = '''
import itertools

def reinforce_episode(agent, env, gamma):
    obs = env.reset()[0]
    observations, actions, rewards = [], [], []
    for t in itertools.count():
        observations.append(np.asarray(obs, dtype=np.float32))
        actions.append(int(agent.sample_action(obs)))
        obs, reward, terminated, truncated, _ = env.step(actions[-1])
        rewards.append(float(reward))
        if terminated or truncated:
            break
    states = np.vstack(observations)
    returns = np.asarray(discounted_returns(rewards, gamma), dtype=np.float64)
    agent.update(states, np.asarray(actions, dtype=np.int64), returns - agent.values(states), returns)
'''


@pytest.mark.parametrize("source", [OTHER, COUNTED], ids=["steps as tuples, own returns, a print",
                                                         "itertools.count, np.vstack, float64 returns"])
def test_other_correct_episodes_pass(source, capsys):
    assert_passes(lesson07.check_reinforce_episode, episode_function(source), "07.3", capsys)


UPDATE = "    agent.update(observations, np.array(actions), returns - agent.values(observations), returns)"
MISTAKES = {
    "reset after the episode, not before": ({"    obs, _ = env.reset()\n    done = False\n": "    done = False\n    obs = None\n",
                                             "    observations = np.array(": "    env.reset()\n    observations = np.array("},
                                            "env.step was called before env.reset()"),
    "stops only when terminated": ({"done = terminated or truncated": "done = terminated"},
                                   "env.step was called after episode 2 had ended"),
    "stops at truncation only... one step short": ({"    while not done:": "    while not done and len(rewards) < 4:"},
                                                   "episode 1 lasts 5 steps (terminated at the end) and your function played 4"),
    "next observation kept": ({"        observations.append(obs)\n        actions.append(action)\n        obs, reward, terminated, truncated, _ = env.step(action)":
                               "        actions.append(action)\n        obs, reward, terminated, truncated, _ = env.step(action)\n        observations.append(obs)"},
                              "the ones env.step returned, one step late"),
    "no baseline": ({UPDATE: "    agent.update(observations, np.array(actions), returns, returns)"},
                    "the weights are the returns, with no baseline subtracted"),
    "per-episode normalisation": ({UPDATE: "    agent.update(observations, np.array(actions), (returns - returns.mean()) / (returns.std() + 1e-8), returns)"},
                                  "you normalised the returns within the episode"),
    "sign flipped": ({UPDATE: "    agent.update(observations, np.array(actions), agent.values(observations) - returns, returns)"},
                     "the sign is flipped"),
    "undiscounted": ({"returns = discounted_returns(rewards, gamma)": "returns = discounted_returns(rewards, 1.0)"},
                     "they are not discounted"),
    "whole-episode return": ({"returns = discounted_returns(rewards, gamma)": "returns = np.full(len(rewards), discounted_returns(rewards, gamma)[0])"},
                             "every step got the whole episode's return G_0"),
    "baseline of the next states": ({UPDATE: "    nexts = np.array([[o[0], o[1] + 1, 1.0] for o in observations], np.float32)\n"
                                             "    agent.update(observations, np.array(actions), returns - agent.values(nexts), returns)"},
                                    "the baseline is V of the next observations"),
    "an update per step": ({"        done = terminated or truncated\n": "        done = terminated or truncated\n"
                            "        agent.update(np.array([obs]), [action], [reward], [reward])\n"},
                           "agent.update was called 6 times for episode 1"),
    "greedy action": ({"        action = agent.sample_action(obs)\n": "        agent.sample_action(obs)\n        action = 0\n"},
                      "agent.sample_action gave 2 and env.step got 0"),
    "the action as a float": ({"env.step(action)": "env.step(float(action))"}, "env.step got the action 2.0 (float)"),
    "the same seed at every reset": ({"obs, _ = env.reset()": "obs, _ = env.reset(seed=0)"},
                                     "episode 1 began with env.reset(seed=0)"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named(name):
    edits, message = MISTAKES[name]
    assert_rejected(lesson07.check_reinforce_episode, episode_function(**edits), "07.3", message)
