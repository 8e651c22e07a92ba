"""Exercise 08.3, the rollout: the reference passes, correct variants pass, and each plausible
mistake is named (the table below)."""
import numpy as np
import pytest

import course_utils as cu
from course_utils.checks import lesson08
from mistake_bank import assert_rejected

REFERENCE = '''
def collect_rollout(agent, envs, obs, steps):
    batch = {key: [] for key in ("obs", "actions", "rewards", "next_obs", "terminated")}
    for _ in range(steps):
        actions = cu.sample_from_logits(agent.policy_logits(obs), agent.rng)
        next_obs, rewards, terminated, truncated, info = envs.step(actions)
        real_next = next_obs.copy()
        ended = terminated | truncated
        if ended.any():
            real_next[ended] = np.stack(info["final_obs"][ended])
        for key, value in zip(batch, (obs, actions, rewards, real_next, terminated)):
            batch[key].append(value)
        obs = next_obs
    dtypes = {"actions": np.int64}
    return {key: np.array(value, dtype=dtypes.get(key, np.float32)) for key, value in batch.items()}, obs
'''


def rollout_function(source: str = REFERENCE, **edits):
    """The reference rollout with lines replaced (``edits``: old text -> new text), compiled."""
    for old, new in edits.items():
        assert old in source, old
        source = source.replace(old, new)
    namespace = {"cu": cu, "np": np}
    exec(source, namespace)  # noqa: S102
    return namespace["collect_rollout"]


PASSED = f"Exercise 08.3: passed ({lesson08.ROLLOUT_CALLS * lesson08.ROLLOUT_LENGTH} cases checked).\n"


def test_the_lesson_s_rollout_passes(capsys):
    from course_utils.lessons import lesson08 as reference

    lesson08.check_collect_rollout(reference.collect_rollout)
    lesson08.check_collect_rollout(rollout_function())
    assert capsys.readouterr().out == PASSED * 2


PREALLOCATED = '''
def collect_rollout(agent, envs, obs, steps):
    n, dim = obs.shape
    out = {"obs": np.zeros((steps, n, dim), np.float32), "next_obs": np.zeros((steps, n, dim), np.float32),
           "actions": np.zeros((steps, n), np.int64), "rewards": np.zeros((steps, n), np.float32),
           "terminated": np.zeros((steps, n), np.float32)}
    for t in range(steps):
        logits = agent.policy_logits(obs)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        actions = np.array([agent.rng.choice(len(row), p=row) for row in p])
        new_obs, rewards, terminated, truncated, info = envs.step(actions)
        print("step", t, rewards)                       # a leftover debug line
        out["obs"][t], out["actions"][t], out["rewards"][t] = obs, actions, rewards
        out["terminated"][t] = terminated
        out["next_obs"][t] = new_obs
        for i in range(n):
            if info.get("_final_obs", np.zeros(n, bool))[i]:
                out["next_obs"][t, i] = info["final_obs"][i]
        obs = new_obs
    return out, obs
'''

ONE_ENV_AT_A_TIME = '''
def collect_rollout(agent, envs, obs, steps):
    rows = []
    for _ in range(steps):
        actions = np.array([cu.sample_from_logits(agent.policy_logits(o[None]), agent.rng)[0] for o in obs])
        next_obs, rewards, terminated, truncated, info = envs.step(actions)
        done = np.logical_or(terminated, truncated)
        final = np.stack([f if d else o for f, d, o in zip(info.get("final_obs", [None] * len(obs)), done, next_obs)])
        rows.append((obs, actions, rewards, final, terminated.astype(np.float32)))
        obs = next_obs
    o, a, r, n, d = zip(*rows)
    return dict(obs=np.stack(o).astype(np.float32), actions=np.stack(a), rewards=np.stack(r).astype(np.float32),
                next_obs=np.stack(n).astype(np.float32), terminated=np.stack(d)), obs
'''


@pytest.mark.parametrize("source", [PREALLOCATED, ONE_ENV_AT_A_TIME], ids=["preallocated, own sampling, a print",
                                                                          "one environment at a time"])
def test_other_correct_rollouts_pass(source, capsys):
    lesson08.check_collect_rollout(rollout_function(source))
    assert capsys.readouterr().out == PASSED


FINAL_OBS = '''        if ended.any():
            real_next[ended] = np.stack(info["final_obs"][ended])
'''
STACK = "    return {key: np.array(value, dtype=dtypes.get(key, np.float32)) for key, value in batch.items()}, obs"

MISTAKES = {
    "next_obs from the reset obs": ({FINAL_OBS: ""}, "environment 0's episode terminated, and batch['next_obs'] "
                                    "holds [0., 1., 0.], the first observation of its next episode"),
    "final_obs only where terminated": ({FINAL_OBS: '''        if terminated.any():
            real_next[terminated] = np.stack(info["final_obs"][terminated])
'''}, "environment 1's episode truncated, and batch['next_obs'] holds"),
    "truncation stored as terminal": ({"(obs, actions, rewards, real_next, terminated)":
                                       "(obs, actions, rewards, real_next, terminated | truncated)"},
                                      "was truncated (terminated=False, truncated=True) and batch['terminated'] holds 1.0"),
    "obs not advanced": ({"        obs = next_obs\n": ""}, "the observations of the step before: obs was not advanced"),
    "acting on final_obs": ({"        obs = next_obs\n": "        obs = real_next\n"},
                            "the last observation of the episode that just ended in environment 0"),
    "final_obs written into next_obs itself": ({"real_next = next_obs.copy()": "real_next = next_obs"},
                                               "do it on a copy (real_next = next_obs.copy())"),
    "continued from final_obs": ({STACK: STACK[:-3] + "real_next"},
                                 "which holds the last observation of an episode that ended"),
    "the given obs returned": ({"    for _ in range(steps):": "    start = obs\n    for _ in range(steps):",
                                STACK: STACK[:-3] + "start"}, "returned the observations it was given"),
    "ROLLOUT_STEPS instead of steps": ({"range(steps)": "range(16)"}, "took more than steps=5 environment steps"),
    "one step short": ({"range(steps)": "range(steps - 1)"}, "took 4 environment steps, expected steps=5"),
    "a generator of its own": ({"cu.sample_from_logits(agent.policy_logits(obs), agent.rng)":
                                "cu.sample_from_logits(agent.policy_logits(obs), np.random.default_rng())"},
                               "two runs with agent.rng seeded alike took different actions"),
    "greedy actions": ({"cu.sample_from_logits(agent.policy_logits(obs), agent.rng)":
                        "agent.policy_logits(obs).argmax(axis=1)"}, "you took its most likely action"),
    "actions not from the policy": ({"cu.sample_from_logits(agent.policy_logits(obs), agent.rng)":
                                     "envs.action_space.sample()"}, "without asking agent.policy_logits"),
    "least likely action": ({"cu.sample_from_logits(agent.policy_logits(obs), agent.rng)":
                             "agent.policy_logits(obs).argmin(axis=1)"}, "where the policy's probabilities are"),
    "logits as actions": ({"cu.sample_from_logits(agent.policy_logits(obs), agent.rng)": "agent.policy_logits(obs)"},
                          "envs.step got actions of shape (3, 3)"),
    "envs.reset at an episode's end": ({"        obs = next_obs\n": "        obs = next_obs\n        if ended.any():\n"
                                        "            obs, _ = envs.reset()\n"}, "your rollout called envs.reset()"),
    "next observations stored as obs": ({"(obs, actions, rewards, real_next, terminated)":
                                         "(next_obs, actions, rewards, real_next, terminated)"},
                                        "(the next observations), expected the observations the actions were sampled for"),
    "flattened with concatenate": ({"np.array(value, dtype=": "np.concatenate(value, dtype="},
                                   "has shape (15, 3), expected (5, 3, 3) (the steps and the environments are flattened"),
    "axes (environments, steps)": ({"np.array(value, dtype=dtypes.get(key, np.float32))":
                                    "np.array(value, dtype=dtypes.get(key, np.float32)).swapaxes(0, 1)"},
                                   "the axes are (environments, steps)"),
    "rewards left float64": ({"dtypes = {\"actions\": np.int64}": "dtypes = {\"actions\": np.int64, \"rewards\": None}"},
                             "batch['rewards'] has dtype float64, expected float32"),
    "terminated left bool": ({"dtypes = {\"actions\": np.int64}": "dtypes = {\"actions\": np.int64, \"terminated\": bool}"},
                             "batch['terminated'] has dtype bool (True/False flags), expected float32"),
    "actions as floats": ({"dtypes = {\"actions\": np.int64}": "dtypes = {}"},
                          "batch['actions'] has dtype float32, expected an integer dtype"),
    "lists, not arrays": ({STACK: "    return batch, obs"}, "batch['obs'] is a list, expected a NumPy array"),
    "the batch only": ({STACK: STACK[:-5]}, "returned dict, expected a pair (batch, obs)"),
    "a key missing": ({'("obs", "actions", "rewards", "next_obs", "terminated")': '("obs", "actions", "rewards", "next_obs")',
                       "(obs, actions, rewards, real_next, terminated)": "(obs, actions, rewards, real_next)"},
                      "missing ['terminated']"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named(name):
    edits, message = MISTAKES[name]
    assert_rejected(lesson08.check_collect_rollout, rollout_function(**edits), "08.3", message)


def test_the_stub_is_not_attempted():
    def stub(agent, envs, obs, steps):
        raise NotImplementedError("Exercise 08.3: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 08.3: write your code here"):
        lesson08.check_collect_rollout(stub)


def test_the_scripted_actor_is_sure_at_half_the_states_and_unsure_at_the_others():
    """What the greedy and off-policy mistakes are caught by: both kinds of state occur, in every environment."""
    obs = np.array([[i, e, t] for i in range(3) for e in range(2) for t in range(6)], np.float32)
    logits = lesson08.scripted_logits(obs)
    sure = logits.max(axis=1) == lesson08.SURE
    assert sure.sum() == (~sure).sum()
    assert len(set(logits[sure].argmax(axis=1))) == lesson08.ROLLOUT_ACTIONS
    assert np.allclose(logits[~sure], [0.1, 0.0, 0.0])


def test_train_runs_the_rollout_it_is_given():
    """The notebook passes the student's rollout to train: it is what collects every update's experience."""
    from course_utils.lessons import lesson08 as reference

    calls = []

    def counting(agent, envs, obs, steps):
        calls.append(steps)
        return reference.collect_rollout(agent, envs, obs, steps)

    log = reference.train(seed=0, max_env_steps=3 * reference.N_ENVS * reference.ROLLOUT_STEPS, rollout=counting)
    assert calls == [reference.ROLLOUT_STEPS] * 3
    assert log.returns and log.steps[-1] <= 3 * reference.N_ENVS * reference.ROLLOUT_STEPS and not log.solved
    assert log.weights is not None and log.critic_weights is not None


def test_a_generator_of_its_own_is_caught_all_but_surely():
    """Check 08.3 replays the rollouts with the agent's rng seeded alike: an answer sampling from another
    generator passes that only if its actions repeat by chance at every unsure state (probability 0.334 each)."""
    from course_utils.checks.lesson08 import SURE, scripted_logits

    agent = lesson08._RolloutAgent()
    envs = lesson08._recording_envs(agent, lesson08.ROLLOUT_LENGTH)
    obs, _ = envs.reset(seed=0)
    for call_number in range(1, lesson08.ROLLOUT_CALLS + 1):
        envs.call_number, envs.steps_this_call = call_number, 0
        _, obs = rollout_function()(agent, envs, obs, lesson08.ROLLOUT_LENGTH)
    unsure = sum(int(row.max() < SURE) for true in envs.log for row in scripted_logits(true["obs"]))
    assert (0.36 ** 2 + 2 * 0.32 ** 2) ** unsure < 1e-4, unsure
