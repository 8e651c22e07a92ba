"""Checks of lesson 10: two probe environments, the probe runner, the diagnosis of eight agents."""
from __future__ import annotations

import warnings

import numpy as np

from ..debugging.probes import PROBES
from . import _passes_through, call, describe, fail, guarded, passed, say

PROBE_IDS = tuple(PROBES)   # simplest first
VALUE_TOLERANCE, BEST_PROBABILITY = 0.1, 0.9

# lesson 10's suspects: the simplest probe each fails (None: it has no bug), and what was wrong
DIAGNOSIS = {
    "dqn-1": ("course/ProbeObservation-v0",
              "stored every transition with obs and next_obs swapped, so it learned the values of the wrong states"),
    "dqn-2": (None, "was correct: lesson 04's DQN with the squared error instead of the Huber loss"),
    "dqn-3": ("course/ProbeConstant-v0",
              "left the terminal mask out of the TD target and bootstrapped past the end of every episode"),
    "dqn-4": ("course/ProbeAction-v0",
              "moved max_a Q(s, a) towards the target instead of Q(s, a) of the action taken"),
    "reinforce-1": ("course/ProbeContext-v0",
                    "stored each step under the observation that followed it, so its policy learned from the wrong input"),
    "reinforce-2": ("course/ProbeAction-v0",
                    "lost the minus sign of the policy-gradient loss: gradient descent made bad actions likelier"),
    "actor-critic-1": ("course/ProbeDiscount-v0", "left gamma out of the critic's TD target: r + V(s'), not r + gamma V(s')"),
    "actor-critic-2": ("course/ProbeConstant-v0",
                       "left the terminal mask out of the critic's TD target and bootstrapped past the end"),
}


def _new_env(exercise: str, cls, name: str, n_actions: int):
    """Return ``cls()``, checked to be a Gymnasium environment with ``n_actions`` actions."""
    import gymnasium as gym

    if not isinstance(cls, type):
        fail(exercise, f"got {type(cls).__name__}, expected the class {name}",
             f"pass the class itself: checks.check_{name[5:].lower()}_probe({name}), not an instance")
    env = call(exercise, cls, hint=f"{name}() must work with no arguments: keep ProbeEnv's __init__")
    if not isinstance(env, gym.Env):
        fail(exercise, f"{name}() is a {type(env).__name__}, not a gymnasium.Env",
             f"write class {name}(ProbeEnv): ... so it inherits the spaces and Gymnasium's Env")
    if env.action_space.n != n_actions:
        fail(exercise, f"{name} has {env.action_space.n} action(s), expected {n_actions}",
             "keep ProbeEnv's n_actions = 1" if n_actions == 1 else f"set n_actions = {n_actions} in the class")
    return env


def _reset(exercise: str, env, seed=None):
    """Return ``env.reset(seed=seed)`` (``env.reset()`` when seed is None), checked to be a pair."""
    got = call(exercise, env.reset, **({} if seed is None else {"seed": seed}), label=f"reset(seed={seed})",
               hint="give reset the signature reset(self, *, seed=None, options=None), call "
                    "super().reset(seed=seed), then return (observation(x), {})")
    if not (isinstance(got, tuple) and len(got) == 2):
        fail(exercise, f"reset returned {type(got).__name__} {got!r:.60}, expected a pair (observation, info)",
             "return observation(x), {} as Gymnasium's API asks")
    return got


def _observation(exercise: str, env, obs, where: str) -> np.ndarray:
    if not isinstance(obs, np.ndarray):
        fail(exercise, f"{where} gave a {type(obs).__name__} observation, expected a NumPy array of shape (1,)",
             "build every observation with the lesson's observation(x): np.array([x], dtype=np.float32)")
    if obs.shape != (1,) or obs.dtype != np.float32:
        fail(exercise, f"{where} gave an observation of shape {obs.shape} and dtype {obs.dtype}, "
             "expected shape (1,) and float32", "build every observation with the lesson's observation(x)")
    if not env.observation_space.contains(obs):
        fail(exercise, f"{where} gave the observation {obs.tolist()}, outside the observation space [-1, 1]",
             "keep observations in [-1, 1]")
    return obs


def _step(exercise: str, env, action: int, where: str):
    got = call(exercise, env.step, action, label=f"step({action}) {where}",
               hint="step(self, action) returns (observation, reward, terminated, truncated, info)")
    if not (isinstance(got, tuple) and len(got) == 5):
        fail(exercise, f"step({action}) {where} returned {type(got).__name__} of length "
             f"{len(got) if hasattr(got, '__len__') else '?'}, expected 5 values",
             "return (observation, reward, terminated, truncated, info), Gymnasium's five values")
    obs, reward, terminated, truncated, info = got
    _observation(exercise, env, obs, f"step({action}) {where}")
    if not isinstance(info, dict):
        fail(exercise, f"step({action}) {where} returned info {type(info).__name__}, expected a dict", "return {} as info")
    if truncated is not False and truncated != 0:
        fail(exercise, f"step({action}) {where} returned truncated={truncated!r}",
             "a probe's episode is never cut by a time limit: truncated is always False; the end of the episode is "
             "terminated=True")
    return obs, float(reward), bool(terminated)


def _run_check_env(exercise: str, env, name: str) -> None:
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_env(env, skip_render_check=True)
        except Exception as err:  # noqa: BLE001 - check_env's own verdict, shown to the student
            if _passes_through(err):
                raise
            fail(exercise, f"gymnasium's check_env rejects {name}: it {describe(err)}",
                 "seed with super().reset(seed=seed), draw randomness from self.np_random only, and return "
                 "observations made by observation(x)")
    problems = [str(w.message) for w in caught if "gymnasium" in (w.filename or "") + str(w.category)]
    serious = [p for p in problems if "not within the observation space" in p or "dtype" in p
               or "Not able to test" not in p and "precision" in p]
    if serious:
        fail(exercise, f"gymnasium's check_env warns about {name}: {serious[0][:200]}",
             "return observations made by observation(x): shape (1,), float32, in [-1, 1]")


MAX_PROBE_STEPS = 5     # a probe's episode ends within a few steps
DISCOUNT_SEEDS = 25     # check 10.1 plays an episode from each seed, and one after it from a reset without a seed
CONTEXT_SEEDS = 1000    # seeds check 10.2 resets a student's probe with
RARE = 140              # fewer times than this in CONTEXT_SEEDS is "rare": a context drawn one time in five comes
                        # up 200 times on average, sd 12.6, so a correct probe falls below 140 with probability
                        # 1e-6 per context (benchmarks/false_failures.py); one drawn one time in ten never reaches it


def _play(exercise: str, env, seed, actions) -> list:
    """Play one episode from ``reset(seed=seed)`` with ``actions`` (repeated); return [(x, action, reward)]."""
    obs = _observation(exercise, env, _reset(exercise, env, seed)[0], f"reset(seed={seed})")
    path = []
    for t in range(MAX_PROBE_STEPS):
        action = actions[t % len(actions)]
        nxt, reward, terminated = _step(exercise, env, action, f"at step {t + 1} after reset(seed={seed})")
        path.append((float(obs[0]), action, reward))
        if terminated:
            return path
        obs = nxt
    fail(exercise, f"after reset(seed={seed}) the episode had not ended after {MAX_PROBE_STEPS} steps",
         "a probe's episode ends within a step or two: return terminated=True at its end")


def _discounted(path: list, gamma: float) -> dict:
    """Return {x: discounted return from each step's observation} of one played episode."""
    out, ret = {}, 0.0
    for x, _, reward in reversed(path):
        ret = reward + gamma * ret
        out.setdefault(x, []).append(ret)
    return out


def _closed_form_pairs(exercise: str, env, gamma: float, name: str, n_actions: int) -> dict:
    """Return ``closed_form(gamma)`` as {x: Q-values}, failing unless it is a list of (observation, Q-values) pairs."""
    got = call(exercise, env.closed_form, gamma, hint="closed_form(self, gamma) returns a list of "
               "(observation(x), np.array([Q of each action])), one pair per observation")
    shown = f"{name}().closed_form({gamma})"
    try:
        pairs = {float(np.asarray(o).reshape(-1)[0]): np.asarray(q, dtype=float).reshape(-1) for o, q in got}
    except Exception:  # noqa: BLE001 - any shape of wrong answer gets the same message
        fail(exercise, f"{shown} returned {got!r:.120}, expected a list of (observation, Q-values) pairs",
             "return [(observation(x), np.array([...])), ...], one pair per observation an agent acts in")
    for x, q in pairs.items():
        if q.shape != (n_actions,):
            fail(exercise, f"{shown}: at observation {x:g} it gives {len(q)} Q-values, expected {n_actions} "
                 "(one per action)", "one Q-value per action of the probe")
    return pairs


def _same_every_time(exercise: str, returns: dict, what: str) -> dict:
    """Return {key: the one return}, failing when a key's returns differ between episodes."""
    for key, values in returns.items():
        if max(values) - min(values) > 1e-6:
            fail(exercise, f"{what(key)} the return was {min(values):g} in one episode and {max(values):g} in "
                 "another", "a probe's answer must be exact, so that a tolerance of 0.1 judges the agent: the "
                 "observation (and action) must fix what follows, and two states must not show the same observation")
    return {key: values[0] for key, values in returns.items()}


def _matches_play(exercise: str, pairs: dict, played: dict, name: str, gamma: float, n_actions: int) -> None:
    """Fail unless ``closed_form`` lists exactly the observations acted in, with the returns the probe paid."""
    shown = f"{name}().closed_form({gamma})"
    xs = sorted({x for x, _ in played})
    if sorted(pairs) != xs:
        fail(exercise, f"{shown} gives values for the observations {sorted(pairs)}; your probe's agent acts at "
             f"{xs}", "one pair for each observation an agent acts in (not the one after the end)")
    for x in xs:
        want = np.array([played.get((x, a), np.nan) for a in range(n_actions)])
        if not np.allclose(pairs[x], want, atol=1e-6):
            fail(exercise, f"{shown}: at observation {x:g} it gives {np.round(pairs[x], 4).tolist()}, but playing "
                 f"the probe with gamma={gamma} returned {np.round(want, 4).tolist()}",
                 "Q(x, a) is the discounted sum of the rewards that follow action a at x, each later reward "
                 "discounted once more")


@guarded("10.1", "a probe with one action whose first state's value comes only through the discount: for example "
         "reset returns observation(-1.0), the first step observation(1.0) with reward 0, the second ends with reward "
         "+1; closed_form(gamma) gives gamma at -1 and 1 at +1")
def check_discount_probe(ProbeDiscount) -> None:
    """Check a student's ``ProbeDiscount`` by playing it: check_env, episodes that end, exact returns, a closed form
    that matches them for every gamma, and a first state whose value shows a missing or doubled discount."""
    name, ex = "ProbeDiscount", "10.1"
    env = _new_env(ex, ProbeDiscount, name, 1)
    # seeded episodes, each followed by one from a reset without a seed, as the probe runner plays them
    paths = [_play(ex, env, seed, [0]) for k in range(DISCOUNT_SEEDS) for seed in (k, None)]
    _run_check_env(ex, env, name)
    if all(len(p) == 1 for p in paths):
        fail(ex, "every episode ended after one step: no value comes through the discount",
             "give the probe two steps, with the reward only at the end, so the first state's value is gamma times "
             "the second's")
    values = {}
    for gamma in (0.5, 0.9, 0.99, 1.0, 0.25):   # the closed form's gammas, then a missing and a doubled discount
        returns = {}
        for path in paths:
            for x, rets in _discounted(path, gamma).items():
                returns.setdefault((x, 0), []).extend(rets)
        values[gamma] = _same_every_time(ex, returns, lambda key: f"from observation {key[0]:g}")
    for gamma in (0.5, 0.9, 0.99):
        _matches_play(ex, _closed_form_pairs(ex, env, gamma, name, 1), values[gamma], name, gamma, 1)
    gaps = {key: min(abs(values[0.5][key] - values[1.0][key]), abs(values[0.5][key] - values[0.25][key]))
            for key in values[0.5]}
    if max(gaps.values()) <= VALUE_TOLERANCE:
        shown = ", ".join(f"{k[0]:g}: {values[0.5][k]:g}" for k in sorted(values[0.5]))
        fail(ex, f"with gamma = 0.5 your probe's values are {{{shown}}}; without the discount, or with it applied "
             f"twice, no value moves by more than the tolerance {VALUE_TOLERANCE}, so an agent with either bug passes",
             "put a reward a step after the first state (and none before), so that its value is gamma times it: "
             "1 without the discount, 0.25 with it twice")
    passed(ex, len(paths) * 3, "ProbeDiscount passes check_env; its values are exact, and a missing or doubled "
           "discount moves one by more than 0.1.")


@guarded("10.2", "a one-step probe with two actions whose best action depends on the observation: for example reset "
         "draws x = -1.0 or +1.0 with self.np_random; step returns +1.0 if the action matches x (1 for +1, 0 for -1) "
         "else -1.0, terminated; closed_form gives both actions' rewards at both observations")
def check_context_probe(ProbeContext) -> None:
    """Check a student's ``ProbeContext`` by playing it: check_env, seeded one-step episodes, exact rewards that
    closed_form matches, observations that come up often, and a best action that depends on the observation."""
    name, ex = "ProbeContext", "10.2"
    env = _new_env(ex, ProbeContext, name, 2)
    rewards, seen = {}, []
    for seed in range(CONTEXT_SEEDS):
        for action in (0, 1):
            path = _play(ex, env, seed, [action])
            if len(path) > 1:
                fail(ex, f"after reset(seed={seed}) the episode took {len(path)} steps, expected one",
                     "end every episode after its one step: terminated=True, so Q(x, a) is the reward")
            x, _, reward = path[0]
            rewards.setdefault((x, action), []).append(reward)
        seen.append(x)
        again = float(_reset(ex, env, seed)[0][0])
        if again != x:
            fail(ex, f"reset(seed={seed}) gave {x:g} and then {again:g}",
                 "the same seed must give the same observation: call super().reset(seed=seed) and draw from "
                 "self.np_random, not np.random or random")
    _run_check_env(ex, env, name)
    q = _same_every_time(ex, rewards, lambda key: f"for action {key[1]} at observation {key[0]:g}")
    xs = sorted({x for x, _ in q})
    counts = {x: seen.count(x) for x in xs}
    rare = [x for x in xs if counts[x] < RARE]
    if len(xs) < 2 or rare:
        fail(ex, f"over {CONTEXT_SEEDS} seeds reset gave " + ", ".join(f"{x:g} {counts[x]} times" for x in xs),
             "draw the observation with self.np_random so that each comes up often (at least one time in five): "
             "the probe must show an agent every context")
    best = {x: int(np.argmax([q[x, 0], q[x, 1]])) for x in xs}
    close = [x for x in xs if abs(q[x, 0] - q[x, 1]) < 2 * VALUE_TOLERANCE]
    if close:
        fail(ex, f"at observation {close[0]:g} the actions earn {q[close[0], 0]:g} and {q[close[0], 1]:g}: no action "
             "is clearly best there", "make one action earn clearly more at every observation (at least 0.2 more), "
             "so the best action's probability can be judged")
    if len(set(best.values())) < 2:
        fail(ex, f"action {best[xs[0]]} is the best at every observation ({', '.join(f'{x:g}' for x in xs)}): an "
             "agent that ignores what it sees passes", "make the best action depend on the observation, e.g. action "
             "1 at +1 and action 0 at -1")
    later = {float(_reset(ex, env)[0][0]) for _ in range(40)}
    if len(later) < 2:
        fail(ex, "reset() without a seed gave the same observation 40 times",
             "draw a new observation at every reset from self.np_random")
    _matches_play(ex, _closed_form_pairs(ex, env, 0.5, name, 2), q, name, 0.5, 2)
    passed(ex, 2 * CONTEXT_SEEDS, "ProbeContext passes check_env; seeded contexts that each come up often, and the best "
           "action depends on the observation.")


# ------------------------------------------------------------------ 10.3: the probe runner


class _Agent:
    """A fake agent for the check: knows the closed form, can be told to be wrong, records what it saw."""

    def __init__(self, env_id, n_actions, value_shift=None, probs=None, value=None, gamma=0.5):
        self.env_id, self.n_actions, self.gamma = env_id, n_actions, gamma
        self.value_shift, self.probs, self.fixed_value = value_shift or {}, probs, value
        self.acted, self.seen = [], []

    def act(self, obs):
        self.acted.append(np.array(obs, dtype=float).copy())
        return len(self.acted) % self.n_actions

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        self.seen.append((float(np.asarray(obs).reshape(-1)[0]), int(action), float(reward),
                          float(np.asarray(next_obs).reshape(-1)[0]), bool(terminated), bool(truncated)))

    def _q(self, obs):
        x = float(np.asarray(obs).reshape(-1)[0])
        from ..debugging.probes import closed_form

        for o, q in closed_form(self.env_id, self.gamma):
            if float(o[0]) == x:
                return x, np.asarray(q, dtype=float)
        raise AssertionError(f"Exercise 10.3: run_probe asked the agent about the observation {x:g}, which the probe "
                             "never shows before its end\nHint: ask about the observations of "
                             "probes.closed_form(env_id, agent.gamma)")

    def action_probs(self, obs):
        x, q = self._q(obs)
        if self.probs is not None:
            return np.asarray(self.probs[x] if isinstance(self.probs, dict) else self.probs, dtype=float)
        p = np.zeros(len(q)); p[int(q.argmax())] = 1.0
        return p

    def value(self, obs):
        if self.fixed_value == "none":
            return None
        x, q = self._q(obs)
        return float(self.action_probs(obs) @ q) + self.value_shift.get(x, 0.0)


def _result(got, case: str):
    shown = f"run_probe({case})"
    if not (isinstance(got, tuple) and len(got) == 2):
        fail("10.3", f"{shown} returned {type(got).__name__} {got!r:.80}, expected a pair "
             "(largest value error, smallest probability of the best action)", "return value_error, best_prob")
    try:
        return float(got[0]), float(got[1])
    except (TypeError, ValueError):
        fail("10.3", f"{shown} returned {got!r:.80}, expected two numbers", "return value_error, best_prob")


@guarded("10.3", "play steps environment steps (agent.act, env.step, agent.observe with both flags, reset at "
         "the end of each episode), then compare agent.value and agent.action_probs with the closed form")
def check_run_probe(run_probe) -> None:
    """Check ``run_probe(agent, env_id, steps, seed)`` with fake agents whose errors are known."""
    import course_utils as cu

    ex = "10.3"
    # what it feeds the agent: exactly `steps` transitions, the probe's own, both flags, a reset after each end
    for env_id, steps, seed in (("course/ProbeDiscount-v0", 7, 3), ("course/ProbeContext-v0", 25, 11)):
        n = cu.make_env(env_id).action_space.n
        agent = _Agent(env_id, n)
        _result(run_probe(agent, env_id, steps, seed), f"agent, {env_id!r}, {steps}, seed={seed}")
        if len(agent.seen) != steps:
            fail(ex, f"run_probe(agent, {env_id!r}, steps={steps}) called agent.observe {len(agent.seen)} times, "
                 f"expected {steps}", "steps counts environment steps, not episodes: one observe per env.step")
        env = cu.make_env(env_id)
        obs, _ = env.reset(seed=seed)
        for i, (o, a, r, o2, term, trunc) in enumerate(agent.seen):
            if o != float(obs[0]):
                fail(ex, f"transition {i}: agent.observe got obs {o:g}, expected {obs[0]:g} (the probe reset with "
                     f"seed={seed}, then played)", "reset once with env.reset(seed=seed), then env.reset() after "
                     "each episode; pass the observation the action was chosen from")
            obs2, reward, terminated, truncated, _ = env.step(a)
            if (r, o2, term, trunc) != (reward, float(obs2[0]), terminated, truncated):
                fail(ex, f"transition {i}: agent.observe got reward {r:g}, next_obs {o2:g}, terminated {term}, "
                     f"truncated {trunc}; the probe gave {reward:g}, {obs2[0]:g}, {terminated}, {truncated}",
                     "pass what env.step returned, in the order observe(obs, action, reward, next_obs, terminated, "
                     "truncated)")
            obs = env.reset()[0] if terminated or truncated else obs2
        if any(not np.array_equal(x.reshape(-1), np.array([s[0]])) for x, s in zip(agent.acted, agent.seen)):
            fail(ex, "agent.act was asked about other observations than the ones passed to agent.observe",
                 "act on the current observation and observe that same one")
    # what it reports
    cases = [
        ("course/ProbeDiscount-v0", dict(), (0.0, 1.0), "an agent that has the closed form exactly"),
        ("course/ProbeDiscount-v0", dict(value_shift={-1.0: 0.3}), (0.3, 1.0), "an agent 0.3 too high at -1"),
        ("course/ProbeObservation-v0", dict(value_shift={1.0: -0.4, -1.0: 0.1}), (0.4, 1.0),
         "an agent 0.4 too low at +1 and 0.1 too high at -1"),
        ("course/ProbeAction-v0", dict(probs=[0.2, 0.8]), (0.0, 0.8),
         "an agent whose value is that of its own policy, which picks the best action 80% of the time"),
        ("course/ProbeAction-v0", dict(probs=[0.2, 0.8], value_shift={1.0: 0.4}), (0.4, 0.8),
         "an agent with probabilities [0.2, 0.8] and a value 0.4 above that policy's"),
        ("course/ProbeContext-v0", dict(probs={-1.0: [0.7, 0.3], 1.0: [0.05, 0.95]}), (0.0, 0.7),
         "an agent that picks the best action 70% of the time at -1 and 95% at +1"),
        ("course/ProbeContext-v0", dict(probs=[0.5, 0.5], value="none"), (0.0, 0.5),
         "an agent without values (value returns None) and a uniform policy"),
    ]
    for env_id, kwargs, (want_error, want_prob), who in cases:
        agent = _Agent(env_id, cu.make_env(env_id).action_space.n, **kwargs)
        error, prob = _result(run_probe(agent, env_id, 4, 0), f"{who}, {env_id!r}, 4")
        if not np.isclose(error, want_error, atol=1e-6):
            hint = ("an agent with value None has nothing to compare: leave its value error at 0"
                    if kwargs.get("value") == "none" else
                    "compare agent.value(obs) with the value of the agent's own policy, action_probs(obs) @ q, and "
                    "keep the largest absolute difference over the probe's observations")
            fail(ex, f"for {who} on {env_id} the value error is {error:.3f}, expected {want_error:.3f}", hint)
        if not np.isclose(prob, want_prob, atol=1e-6):
            fail(ex, f"for {who} on {env_id} the best action's probability is {prob:.3f}, expected {want_prob:.3f}",
                 "the best action is the argmax of the closed-form Q-values; keep the smallest probability the "
                 "agent gives it over the probe's observations")
    passed(ex, 2 + len(cases), "run_probe plays the probe as Gymnasium asks and reports the agent's errors.")


# ------------------------------------------------------------------ 10.5: the diagnosis


class _TabularAgent:
    """A check's own probe agent: tabular Q-learning from uniformly random actions, with optional bugs.

    It learns Q* of a probe exactly within a few hundred steps; each bug makes it fail one probe first:
    "terminal" bootstraps past the end (ProbeConstant), "observation" ignores the observation
    (ProbeObservation), "discount" leaves gamma out (ProbeDiscount), "action" updates every action
    alike (ProbeAction).
    """

    gamma = 0.5

    def __init__(self, n_actions: int, seed: int = 0, bugs=()):
        self.n_actions, self.bugs = int(n_actions), set(bugs)
        self.rng = np.random.default_rng(seed)
        self.q: dict = {}
        self.played: list = []   # (observation, action) of each act, to tell which seed the probe was reset with

    def _row(self, obs):
        key = 0.0 if "observation" in self.bugs else round(float(np.asarray(obs).ravel()[0]), 3)
        return self.q.setdefault(key, np.zeros(self.n_actions))

    def act(self, obs):
        action = int(self.rng.integers(self.n_actions))
        self.played.append((float(np.asarray(obs).ravel()[0]), action))
        return action

    def observe(self, obs, action, reward, next_obs, terminated, truncated):
        gamma = 1.0 if "discount" in self.bugs else self.gamma
        done = terminated and "terminal" not in self.bugs
        target = reward + (0.0 if done else gamma * self._row(next_obs).max())
        row = self._row(obs)
        if "action" in self.bugs:
            row += 0.5 * (target - row)
        else:
            row[action] += 0.5 * (target - row[action])

    def value(self, obs):
        return float(self._row(obs).max())

    def action_probs(self, obs):
        probs = np.zeros(self.n_actions)
        probs[int(np.argmax(self._row(obs)))] = 1.0
        return probs


# (bugs of the check's own agent, the first probe it must fail): a small case for first_failure
_FAKE_SUSPECTS = [((), None), (("terminal",), "course/ProbeConstant-v0"), (("observation",), "course/ProbeObservation-v0"),
                  (("discount", "action"), "course/ProbeDiscount-v0"), (("action",), "course/ProbeAction-v0")]
_N_ACTIONS = [1, 1, 1, 2, 2]   # of the five probes, simplest first


def _agents_made_right(ex: str, who: str, made: list, reports: list, runs: int | None = None) -> None:
    """Fail when first_failure reused an agent, passed another seed or the wrong numbers of actions."""
    tried = len(reports) or runs or len(made)
    if made and len(made) < tried:
        fail(ex, f"for {who} first_failure made {len(made)} agent(s) for {tried} probes",
             "make a fresh agent for every probe: an agent trained on one probe carries what it learned "
             "(and its number of actions) into the next")
    seeds = {seed for _, seed in made}
    if made and seeds != {7}:
        fail(ex, f"called with seed=7, first_failure made agents with seed(s) {sorted(map(str, seeds))}",
             "pass the seed on to make(n_actions, seed=seed) and to run_probe")
    actions = [n for n, _ in made]
    if actions != _N_ACTIONS[:len(actions)]:
        fail(ex, f"the agents were made with n_actions {actions}, expected {_N_ACTIONS[:len(actions)]} "
             "for the probes simplest first", "read each probe's number of actions from its environment: "
             "cu.make_env(env_id).action_space.n")


def _reset_with(env_id: str, played: list, seed: int) -> bool:
    """Whether ``played``, an agent's (observation, action) pairs, is what the probe shows after env.reset(seed=seed)."""
    import course_utils as cu

    env = cu.make_env(env_id)
    obs, _ = env.reset(seed=seed)
    for seen, action in played:
        if seen != float(obs[0]):
            return False
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset()
    return True


def _check_probe_seeds(ex: str, agents: list, seed: int) -> None:
    """Fail unless each probe was played from a reset with ``seed`` (the check's agents record what they saw)."""
    for env_id, agent in zip(PROBE_IDS, agents):
        if agent.played and not _reset_with(env_id, agent.played, seed):
            fail(ex, f"called with seed={seed}, first_failure played {env_id} from a reset with " +
                 ("seed=0, run_probe's default" if _reset_with(env_id, agent.played, 0) else "another seed"),
                 "pass first_failure's seed on to run_probe too: run_probe(agent, env_id, PROBE_STEPS, seed=seed)")


def _check_first_failure(first_failure, ex: str) -> int:
    """Run the student's ``first_failure`` on the check's own tabular agents, with and without bugs."""
    for bugs, want in _FAKE_SUSPECTS:
        made, reports = [], []

        agents = []

        def make(n_actions, seed=0, bugs=bugs):
            made.append((int(n_actions), seed))
            agents.append(_TabularAgent(n_actions, seed, bugs))
            return agents[-1]

        who = f"an agent with {' and '.join(bugs)} bug(s)" if bugs else "a correct agent"
        hint = ("first_failure(make, seed, report) makes an agent with make(n_actions, seed=seed) for each "
                "probe and runs your run_probe on it")
        try:
            got = first_failure(make, seed=7, report=reports.append)
        except Exception as err:  # noqa: BLE001 - named below, after what the agents were made with is known
            if _passes_through(err):
                raise
            _agents_made_right(ex, who, made, reports)
            got = call(ex, lambda: (_ for _ in ()).throw(err), label="first_failure", hint=hint)
        if got is not None and got not in PROBE_IDS:
            fail(ex, f"for {who} first_failure returned {got!r}, expected {want!r}",
                 "return the id of the first probe that failed (a key of probes.PROBES), or None")
        runs = PROBE_IDS.index(want) + 1 if want else len(PROBE_IDS)
        if not made:
            fail(ex, f"for {who} first_failure never called make", "build the agent with make(n_actions, seed=seed)")
        _agents_made_right(ex, who, made, reports, runs)
        _check_probe_seeds(ex, agents, seed=7)
        if got != want:
            if want and got is None:
                what = f"for {who} first_failure returned None, expected {want!r}"
            else:
                what = f"for {who} first_failure returned {got!r}, expected {want!r}"
            fail(ex, what, "go through probes.PROBES in order, simplest first, and return the first probe whose "
                 "result passes() rejects (values off by more than 0.1, or the best action's probability under 0.9)")
        if len(made) > runs:
            fail(ex, f"for {who} first_failure ran {len(made)} probes, expected {runs}: it went on after the first "
                 "failure", "stop at the first probe that fails: the later ones add nothing")
        if len(reports) != len(made):
            fail(ex, f"for {who} report was called {len(reports)} time(s) for {len(made)} probes",
                 "call report(line) once per probe run, with its result")
    return len(_FAKE_SUSPECTS)


@guarded("10.5", "first_failure(make, seed=0, report=print) runs the probes simplest first, a fresh agent "
         "make(n_actions, seed=seed) for each, reports each result and returns the first failed probe id, or None; "
         "FIRST_FAILURE maps every suspect's name to first_failure(its make, seed=SEED)")
def check_diagnosis(first_failure, found) -> None:
    """Check ``first_failure`` on the check's own agents, then ``found``: {suspect: the simplest probe it fails, or None}."""
    from collections.abc import Mapping

    ex = "10.5"
    if not callable(first_failure):
        fail(ex, f"got {type(first_failure).__name__} for first_failure, expected the function",
             "call checks.check_diagnosis(first_failure, FIRST_FAILURE)")
    cases = _check_first_failure(first_failure, ex)
    names = list(DIAGNOSIS)
    if not isinstance(found, Mapping):
        fail(ex, f"got {type(found).__name__}, expected a dict {{agent name: probe id or None}}",
             "build FIRST_FAILURE = {name: first_failure(make, seed=SEED) for name, make in suspects.items()}")
    missing = [n for n in names if n not in found]
    if missing:
        fail(ex, f"no answer for {', '.join(missing)}", "give every agent an entry: a probe id, or None when the "
             "agent passes all five probes")
    extra = [n for n in found if n not in DIAGNOSIS]
    if extra:
        fail(ex, f"unknown agent(s) {', '.join(map(str, extra))}", f"the agents are {', '.join(names)}")
    for name in names:
        answer = found[name]
        if answer is not None and answer not in PROBE_IDS:
            fail(ex, f"{name}: {answer!r} is not a probe id", f"use one of {', '.join(PROBE_IDS)}, or None")
    wrong = [n for n in names if found[n] != DIAGNOSIS[n][0]]
    if wrong:
        name = wrong[0]
        answer, truth = found[name], DIAGNOSIS[name][0]
        if truth is None:
            hint = f"run all five probes on {name}: does it really fail {answer}? An agent may be correct"
        elif answer is None:
            hint = f"run the probes on {name} again, simplest first: one of them shows values or a policy that are wrong"
        elif PROBE_IDS.index(answer) > PROBE_IDS.index(truth):
            hint = (f"{name} fails {answer}, but a simpler probe shows the bug first: run them in order, simplest "
                    "first, and name the first that fails")
        else:
            hint = f"{name} passes {answer}: run the probes in order and name the first whose check fails"
        fail(ex, f"{len(wrong)} of {len(names)} answers are wrong; the first: {name} -> {answer!r}", hint)
    say(f"Exercise {ex}: passed ({cases} cases checked, {len(names)} agents diagnosed). What each agent did:")
    for name, (probe, bug) in DIAGNOSIS.items():
        say(f"  {name:15} {bug}" + (f" (exposed by {probe})" if probe else ""))


# ------------------------------------------------------------------ 10.4: the course's agents pass


@guarded("10.4", "pass the dict results[kind][env_id] = run_probe(...) that the cell above fills")
def check_course_agents_pass(results) -> None:
    """Check ``{agent kind: {probe id: (value error, best probability)}}``: every correct agent passes every probe."""
    from collections.abc import Mapping

    ex = "10.4"
    kinds = ("DQN", "REINFORCE", "actor-critic")
    if not isinstance(results, Mapping) or any(k not in results for k in kinds):
        fail(ex, f"expected a dict with the results of {', '.join(kinds)}", "pass the dict that the cell above fills")
    for kind in kinds:
        for env_id in PROBE_IDS:
            if env_id not in results[kind]:
                fail(ex, f"no result for {kind} on {env_id}", "run every agent on all five probes")
            error, prob = results[kind][env_id]
            if error > VALUE_TOLERANCE or prob < BEST_PROBABILITY:
                fail(ex, f"the course's {kind} fails {env_id}: value error {error:.2f} (at most {VALUE_TOLERANCE}), "
                     f"best action's probability {prob:.2f} (at least {BEST_PROBABILITY})",
                     "the course's agents are correct and run with the lessons' reference code: look at run_probe "
                     "(exercise 10.3), which trains and measures them")
    say(f"Exercise {ex}: the course's DQN, REINFORCE and actor-critic pass all five probes.")
