"""Lesson 10's checks pass the reference probes and runner and correct variants, and name each plausible mistake."""
import warnings

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import course_utils as cu  # noqa: E402
from course_utils.checks import lesson10  # noqa: E402
from course_utils.debugging import probes  # noqa: E402
from course_utils.lessons import lesson10 as reference  # noqa: E402
from course_utils.lessons.lesson10 import ProbeEnv, observation  # noqa: E402
from mistake_bank import assert_passes, assert_rejected  # noqa: E402


def test_reference_pieces_pass(capsys):
    lesson10.check_discount_probe(reference.ProbeDiscount)
    lesson10.check_context_probe(reference.ProbeContext)
    lesson10.check_run_probe(reference.run_probe)
    lesson10.check_diagnosis(reference.first_failure, {name: probe for name, (probe, _) in lesson10.DIAGNOSIS.items()})
    out = capsys.readouterr().out
    for exercise in ("10.1", "10.2", "10.3", "10.5"):
        assert f"Exercise {exercise}: passed" in out
    assert "dqn-3           left the terminal mask out" in out


# ---------------------------------------------------------------- 10.1 ProbeDiscount


def discount(reset=None, step=None, closed_form=None, n_actions=1):
    """A ProbeDiscount with some of its methods replaced by a student's version."""
    def default_reset(self, *, seed=None, options=None):
        super(cls, self).reset(seed=seed)
        self.t = 0
        return observation(-1.0), {}

    def default_step(self, action):
        self.t += 1
        if self.t == 1:
            return observation(1.0), 0.0, False, False, {}
        return observation(0.0), 1.0, True, False, {}

    cls = type("ProbeDiscount", (ProbeEnv,), {
        "n_actions": n_actions, "reset": reset or default_reset, "step": step or default_step,
        "closed_form": closed_form or (lambda self, gamma: [(observation(-1.0), np.array([gamma])),
                                                            (observation(1.0), np.array([1.0]))])})
    return cls


def first_then(first, second):
    def step(self, action):
        self.t += 1
        return first if self.t == 1 else second
    return step


DISCOUNT_MISTAKES = {
    "reward on both steps, closed form of reward at the end only": (
        discount(step=first_then((observation(1.0), 1.0, False, False, {}), (observation(0.0), 1.0, True, False, {}))),
        "at observation -1 it gives [0.5], but playing the probe with gamma=0.5 returned [1.5]"),
    "reward on the first step only": (
        discount(step=first_then((observation(1.0), 1.0, False, False, {}), (observation(0.0), 0.0, True, False, {})),
                 closed_form=lambda self, g: [(observation(-1.0), np.array([1.0])), (observation(1.0), np.array([0.0]))]),
        "no value moves by more than the tolerance 0.1"),
    "ends after one step": (discount(step=first_then((observation(1.0), 0.0, True, False, {}),
                                                     (observation(0.0), 1.0, True, False, {}))),
                            "every episode ended after one step"),
    "never ends": (discount(step=first_then((observation(1.0), 0.0, False, False, {}),
                                            (observation(0.0), 1.0, False, False, {}))),
                   "the episode had not ended after 5 steps"),
    "truncated instead of terminated": (discount(step=first_then((observation(1.0), 0.0, False, False, {}),
                                                                 (observation(0.0), 1.0, False, True, {}))),
                                        "returned truncated=True"),
    "observation as a float": (discount(step=first_then((1.0, 0.0, False, False, {}),
                                                        (observation(0.0), 1.0, True, False, {}))),
                               "observation"),
    "float64 observation": (discount(step=first_then((np.array([1.0]), 0.0, False, False, {}),
                                                     (observation(0.0), 1.0, True, False, {}))),
                            "observation"),
    "four values from step": (discount(step=first_then((observation(1.0), 0.0, False, {}),
                                                       (observation(0.0), 1.0, True, {}))),
                              "expected 5 values"),
    "both states show -1": (discount(step=first_then((observation(-1.0), 0.0, False, False, {}),
                                                     (observation(0.0), 1.0, True, False, {}))),
                            "from observation -1 the return was 0.5 in one episode and 1 in another"),
    "no super().reset": (discount(reset=lambda self, *, seed=None, options=None: (setattr(self, "t", 0),
                                                                                 (observation(-1.0), {}))[1]),
                         "check_env"),
    "reset without keyword seed": (discount(reset=lambda self: (setattr(self, "t", 0), (observation(-1.0), {}))[1]),
                                   "reset(seed=0) raised TypeError"),
    "undiscounted closed form": (discount(closed_form=lambda self, g: [(observation(-1.0), np.array([1.0])),
                                                                       (observation(1.0), np.array([1.0]))]),
                                 "at observation -1 it gives [1.0], but playing the probe with gamma=0.5 returned [0.5]"),
    "gamma squared": (discount(closed_form=lambda self, g: [(observation(-1.0), np.array([g * g])),
                                                            (observation(1.0), np.array([1.0]))]),
                      "it gives [0.25], but playing the probe with gamma=0.5 returned [0.5]"),
    "closed form misses a state": (discount(closed_form=lambda self, g: [(observation(-1.0), np.array([g]))]),
                                   "gives values for the observations [-1.0]; your probe's agent acts at [-1.0, 1.0]"),
    "closed form of the state after the end": (
        discount(closed_form=lambda self, g: [(observation(-1.0), np.array([g])), (observation(1.0), np.array([1.0])),
                                              (observation(0.0), np.array([0.0]))]),
        "gives values for the observations [-1.0, 0.0, 1.0]"),
    "closed form gives a number": (discount(closed_form=lambda self, g: g), "expected a list of (observation"),
    "two actions": (discount(n_actions=2), "has 2 action(s), expected 1"),
}


@pytest.mark.parametrize("name", DISCOUNT_MISTAKES)
def test_discount_probe_mistakes_are_named(name):
    wrong, message = DISCOUNT_MISTAKES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # check_env's own warnings about a wrong environment
        assert_rejected(lesson10.check_discount_probe, wrong, "10.1", message)


def test_discount_probe_given_as_an_instance_is_named():
    assert_rejected(lesson10.check_discount_probe, reference.ProbeDiscount(), "10.1", "expected the class ProbeDiscount")


def _chain(xs, reward):
    """A one-action probe that shows xs in turn and pays ``reward`` as the episode ends."""
    def reset(self, *, seed=None, options=None):
        ProbeEnv.reset(self, seed=seed)
        self.t = 0
        return observation(xs[0]), {}

    def step(self, action):
        self.t += 1
        done = self.t == len(xs)
        return observation(0.0 if done else xs[self.t]), (reward if done else 0.0), done, False, {}

    def closed_form(self, gamma):
        return [(observation(x), np.array([reward * gamma ** (len(xs) - 1 - i)])) for i, x in enumerate(xs)]
    return type("ProbeDiscount", (ProbeEnv,), {"reset": reset, "step": step, "closed_form": closed_form})


def _counter(self, action):
    self.t += 1
    return (observation(1.0), 0.0, False, False, {}) if self.t == 1 else (observation(0.0), 1.0, True, False, {})


DISCOUNT_CORRECT = {
    "the lesson's design, its pairs in another order, lists for Q": discount(
        step=_counter, closed_form=lambda self, g: [(np.array([1.0], np.float32), [1.0]),
                                                    (np.array([-1.0], np.float32), [g])]),
    "a leftover print": discount(closed_form=lambda self, g: (print("debugging", g), [
        (observation(-1.0), np.array([g])), (observation(1.0), np.ones(1))])[1]),
    "observations 0.0 then 0.5, reward 2 at the end": _chain([0.0, 0.5], 2.0),
    "three steps: -1, 0, +1, reward 1 at the end": _chain([-1.0, 0.0, 1.0], 1.0),
    "a reward on both steps, closed form 1 + gamma": discount(
        step=first_then((observation(1.0), 1.0, False, False, {}), (observation(0.0), 1.0, True, False, {})),
        closed_form=lambda self, g: [(observation(-1.0), np.array([1.0 + g])), (observation(1.0), np.array([1.0]))]),
}


@pytest.mark.parametrize("name", DISCOUNT_CORRECT)
def test_discount_probe_other_correct_designs_pass(name, capsys):
    assert_passes(lesson10.check_discount_probe, DISCOUNT_CORRECT[name], "10.1", capsys)
    assert "debugging" not in capsys.readouterr().out


# ---------------------------------------------------------------- 10.2 ProbeContext


def context(draw=None, reward=None, closed_form=None, n_actions=2, steps=1):
    def reset(self, *, seed=None, options=None):
        ProbeEnv.reset(self, seed=seed)
        self.x, self.t = float(draw(self) if draw else self.np_random.choice([-1.0, 1.0])), 0
        return observation(self.x), {}

    def step(self, action):
        self.t += 1
        r = reward(self.x, action) if reward else (1.0 if (action == 1) == (self.x > 0) else -1.0)
        return observation(0.0), r, self.t == steps, False, {}

    return type("ProbeContext", (ProbeEnv,), {
        "n_actions": n_actions, "reset": reset, "step": step,
        "closed_form": closed_form or (lambda self, g: [(observation(-1.0), np.array([1.0, -1.0])),
                                                        (observation(1.0), np.array([-1.0, 1.0]))])})


CONTEXT_MISTAKES = {
    "global numpy random": (context(draw=lambda self: np.random.choice([-1.0, 1.0])), "self.np_random"),
    "always +1": (context(draw=lambda self: 1.0), "over 1000 seeds reset gave 1 1000 times"),
    "-1 one time in ten": (context(draw=lambda self: -1.0 if self.np_random.random() < 0.1 else 1.0),
                           "each comes up often"),
    "0 or 1, closed form at -1 and +1": (context(draw=lambda self: self.np_random.integers(2)),
                                         "gives values for the observations [-1.0, 1.0]; your probe's agent acts at "
                                         "[0.0, 1.0]"),
    "reward inverted": (context(reward=lambda x, a: -1.0 if (a == 1) == (x > 0) else 1.0),
                        "at observation -1 it gives [1.0, -1.0], but playing the probe with gamma=0.5 returned "
                        "[-1.0, 1.0]"),
    "reward 0 when wrong, closed form -1": (context(reward=lambda x, a: 1.0 if (a == 1) == (x > 0) else 0.0),
                                            "returned [1.0, 0.0]"),
    "reward ignores the observation": (
        context(reward=lambda x, a: 1.0 if a == 1 else -1.0,
                closed_form=lambda self, g: [(observation(x), np.array([-1.0, 1.0])) for x in (-1.0, 1.0)]),
        "action 1 is the best at every observation (-1, 1): an agent that ignores what it sees passes"),
    "the actions almost tie": (context(reward=lambda x, a: 0.1 if (a == 1) == (x > 0) else 0.0,
                                       closed_form=lambda self, g: [(observation(-1.0), np.array([0.1, 0.0])),
                                                                    (observation(1.0), np.array([0.0, 0.1]))]),
                               "no action is clearly best there"),
    "two steps": (context(steps=2), "the episode took 2 steps, expected one"),
    "one action": (context(n_actions=1), "has 1 action(s), expected 2"),
    "closed form of the action probe": (context(closed_form=lambda self, g: [(observation(-1.0), np.array([-1.0, 1.0])),
                                                                             (observation(1.0), np.array([-1.0, 1.0]))]),
                                        "at observation -1 it gives [-1.0, 1.0], but playing the probe"),
}


@pytest.mark.parametrize("name", CONTEXT_MISTAKES)
def test_context_probe_mistakes_are_named(name):
    wrong, message = CONTEXT_MISTAKES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_rejected(lesson10.check_context_probe, wrong, "10.2", message)


def _three_contexts(self, g):
    return [(observation(x), np.array([float(x < 0) - float(x >= 0), float(x >= 0) - float(x < 0)]))
            for x in (-1.0, 0.0, 1.0)]


CONTEXT_CORRECT = {
    "x from integers, reward as 2 * match - 1": context(draw=lambda self: 2.0 * self.np_random.integers(2) - 1.0,
                                                        reward=lambda x, a: 2.0 * float(a == (x > 0)) - 1.0),
    "x from random() < 0.5": context(draw=lambda self: -1.0 if self.np_random.random() < 0.5 else 1.0),
    "observations -0.5 and +0.5, reward 1 or 0": context(
        draw=lambda self: self.np_random.choice([-0.5, 0.5]), reward=lambda x, a: float((a == 1) == (x > 0)),
        closed_form=lambda self, g: [(observation(-0.5), np.array([1.0, 0.0])), (observation(0.5), np.array([0.0, 1.0]))]),
    "four contexts drawn alike, the sign decides": context(
        draw=lambda self: float(self.np_random.choice([-1.0, -1 / 3, 1 / 3, 1.0])),
        closed_form=lambda self, g: [(observation(x), np.array([1.0, -1.0]) * (1 if x < 0 else -1))
                                     for x in (-1.0, -1 / 3, 1 / 3, 1.0)]),
    "three contexts, action 1 best at 0 and +1": context(
        draw=lambda self: float(self.np_random.integers(3) - 1), closed_form=_three_contexts,
        reward=lambda x, a: 1.0 if (a == 1) == (x >= 0) else -1.0),
}


@pytest.mark.parametrize("name", CONTEXT_CORRECT)
def test_context_probe_other_correct_designs_pass(name, capsys):
    assert_passes(lesson10.check_context_probe, CONTEXT_CORRECT[name], "10.2", capsys)


# ---------------------------------------------------------------- 10.3 run_probe


def runner(loop="right", compare="right"):
    """A student's run_probe: the reference with one part written another way (or wrongly)."""
    def run_probe(agent, env_id, steps, seed=0):
        env = cu.make_env(env_id)
        obs, _ = env.reset(seed=seed)
        for i in range(steps):
            if loop == "reset every step":
                obs, _ = env.reset(seed=seed + i)
            action = agent.act(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            if loop == "done as terminated":
                agent.observe(obs, action, reward, next_obs, terminated or truncated, False)
            elif loop == "arguments swapped":
                agent.observe(next_obs, action, reward, obs, terminated, truncated)
            else:
                agent.observe(obs, action, reward, next_obs, terminated, truncated)
            if loop == "one step too many" and i == steps - 1:
                agent.observe(obs, action, reward, next_obs, terminated, truncated)
            if loop == "print":
                print("step", i, reward)
            obs = env.reset()[0] if terminated or truncated else next_obs
        error, best = 0.0, 1.0
        for obs, q in probes.closed_form(env_id, agent.gamma):
            probs = np.asarray(agent.action_probs(obs))
            value = agent.value(obs)
            if value is not None:
                target = {"right": probs @ q, "max q": q.max()}.get(compare, probs @ q)
                diff = value - target if compare == "signed" else abs(value - target)
                error = max(error, diff) if compare != "mean" else error + abs(value - target) / 2
            best = min(best, probs[np.argmax(q)]) if compare != "mean prob" else best * probs[np.argmax(q)]
        if compare == "list":
            return [error, best]
        return error, best
    return run_probe


RUNNER_MISTAKES = {
    "a reset with a new seed every step": (runner(loop="reset every step"), "transition 1: agent.observe got obs"),
    "terminated or truncated as terminated": (runner(loop="done as terminated"), None),
    "obs and next_obs swapped": (runner(loop="arguments swapped"), "transition 0: agent.observe got obs"),
    "one step too many": (runner(loop="one step too many"), "called agent.observe 8 times, expected 7"),
    "compared with max Q": (runner(compare="max q"), "the value error is 0.400, expected 0.000"),
    "signed error": (runner(compare="signed"), "the value error is"),
    "returns a list": (runner(compare="list"), "expected a pair"),
}


@pytest.mark.parametrize("name", [n for n, (_, m) in RUNNER_MISTAKES.items() if m])
def test_run_probe_mistakes_are_named(name):
    wrong, message = RUNNER_MISTAKES[name]
    assert_rejected(lesson10.check_run_probe, wrong, "10.3", message)


def test_passing_terminated_or_truncated_as_terminated_is_harmless_on_probes(capsys):
    """No probe ever truncates, so the merged flag is the same transition: nothing to reject here."""
    lesson10.check_run_probe(runner(loop="done as terminated"))
    assert "Exercise 10.3: passed" in capsys.readouterr().out


def test_run_probe_with_a_leftover_print_passes(capsys):
    lesson10.check_run_probe(runner(loop="print"))
    out = capsys.readouterr().out
    assert out.startswith("Exercise 10.3: passed") and "step 0" not in out


def test_run_probe_that_is_a_stub_says_so():
    def stub(agent, env_id, steps, seed=0):
        raise NotImplementedError("Exercise 10.3: write your code here")
    with pytest.raises(NotImplementedError, match="write your code here"):
        lesson10.check_run_probe(stub)


# ---------------------------------------------------------------- 10.4 and 10.5


ANSWERS = {name: probe for name, (probe, _) in lesson10.DIAGNOSIS.items()}

DIAGNOSIS_MISTAKES = {
    "a correct agent accused": ({**ANSWERS, "dqn-2": "course/ProbeAction-v0"}, "An agent may be correct"),
    "a later probe named": ({**ANSWERS, "actor-critic-2": "course/ProbeDiscount-v0"}, "a simpler probe shows the bug"),
    "an earlier probe named": ({**ANSWERS, "reinforce-1": "course/ProbeAction-v0"}, "reinforce-1 passes"),
    "a bug missed": ({**ANSWERS, "dqn-4": None}, "run the probes on dqn-4 again"),
    "an agent left out": ({k: v for k, v in ANSWERS.items() if k != "dqn-1"}, "no answer for dqn-1"),
    "a made-up probe": ({**ANSWERS, "dqn-1": "ProbeObservation"}, "is not a probe id"),
    "a list": (list(ANSWERS.values()), "expected a dict"),
    "an unknown agent": ({**ANSWERS, "dqn-9": None}, "unknown agent(s) dqn-9"),
}


@pytest.mark.parametrize("name", DIAGNOSIS_MISTAKES)
def test_diagnosis_mistakes_are_named(name):
    wrong, message = DIAGNOSIS_MISTAKES[name]
    assert_rejected(lambda found: lesson10.check_diagnosis(reference.first_failure, found), wrong, "10.5", message)


def _first_failure(order=None, fresh=True, n_actions=None, seed=None, stop=True, report_each=True, value=None,
                   probe_seed=True):
    """A first_failure written with one mistake (or none), using the lesson's run_probe and passes."""
    def first_failure(make, seed_=0, report=print, **kwargs):
        seed_used = seed_ if seed is None else seed
        ids = list(probes.PROBES) if order is None else order
        agent, failed = None, None
        for env_id in ids:
            n = cu.make_env(env_id).action_space.n if n_actions is None else n_actions
            if fresh or agent is None:
                agent = make(n, seed=seed_used)
            error, prob = (reference.run_probe(agent, env_id, reference.PROBE_STEPS, seed=seed_used) if probe_seed
                           else reference.run_probe(agent, env_id, reference.PROBE_STEPS))
            if report_each:
                report(f"{env_id} {error:.2f} {prob:.2f}")
            ok = reference.passes(error, prob)
            if not ok and failed is None:
                failed = env_id
                if stop:
                    return value if value is not None else env_id
        return failed
    return lambda make, seed=0, report=print: first_failure(make, seed, report)


FIRST_FAILURE_MISTAKES = {
    "one agent for every probe": (_first_failure(fresh=False), "made 1 agent(s) for"),
    "hardest probe first": (_first_failure(order=list(probes.PROBES)[::-1]), "expected [1, 1, 1, 2, 2]"),
    "two actions everywhere": (_first_failure(n_actions=2), "the agents were made with n_actions [2"),
    "seed not passed on": (_first_failure(seed=0), "made agents with seed(s) ['0']"),
    "goes on after the failure": (_first_failure(stop=False), "it went on after the first failure"),
    "no report": (_first_failure(report_each=False), "report was called 0 time(s)"),
    "returns the probe's name": (_first_failure(value="ProbeConstant"), "returned 'ProbeConstant'"),
    "seed given to make but not to run_probe": (_first_failure(probe_seed=False),
                                                "from a reset with seed=0, run_probe's default"),
}


def _lazy_first_failure(make, seed=0, report=print):
    """Run the probes as a generator and stop at the first failure with next()."""
    def runs():
        for env_id, _ in probes.PROBES.items():
            agent = make(n_actions=cu.make_env(env_id).action_space.n, seed=seed)
            result = reference.run_probe(agent=agent, env_id=env_id, steps=reference.PROBE_STEPS, seed=seed)
            report(f"{env_id}: {result}")
            yield env_id, reference.passes(*result)
    return next((env_id for env_id, ok in runs() if not ok), None)


def _while_first_failure(make, seed=0, report=print):
    """A while loop over the ids, its own report line, and a flag."""
    ids, i, failed = list(probes.PROBES), 0, None
    while failed is None and i < len(ids):
        env = cu.make_env(ids[i])
        error, prob = reference.run_probe(make(int(env.action_space.n), seed), ids[i], reference.PROBE_STEPS, seed)
        print("checking", ids[i])   # a leftover print beside the report
        report(f"{ids[i]}: error={error:.3f} p(best)={prob:.3f}")
        failed = None if reference.passes(error, prob) else ids[i]
        i += 1
    return failed


FIRST_FAILURE_CORRECT = {"the lesson's solution": reference.first_failure, "a generator and next()": _lazy_first_failure,
                         "a while loop with a flag": _while_first_failure}


@pytest.mark.parametrize("name", FIRST_FAILURE_CORRECT)
def test_first_failure_other_correct_forms_pass(name, capsys):
    assert_passes(lambda f: lesson10.check_diagnosis(f, ANSWERS), FIRST_FAILURE_CORRECT[name], "10.5", capsys)


@pytest.mark.parametrize("name", FIRST_FAILURE_MISTAKES)
def test_first_failure_mistakes_are_named(name):
    wrong, message = FIRST_FAILURE_MISTAKES[name]
    assert_rejected(lambda f: lesson10.check_diagnosis(f, ANSWERS), wrong, "10.5", message)


def test_a_failing_course_agent_is_named():
    results = {kind: {env_id: (0.0, 1.0) for env_id in probes.PROBES} for kind in ("DQN", "REINFORCE", "actor-critic")}
    lesson10.check_course_agents_pass(results)
    results["actor-critic"]["course/ProbeDiscount-v0"] = (0.5, 1.0)
    assert_rejected(lesson10.check_course_agents_pass, results, "10.4",
                    "the course's actor-critic fails course/ProbeDiscount-v0: value error 0.50")


def test_untouched_stubs_say_write_your_code_here():
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 10.1: write your code here")

    untouched = type("ProbeDiscount", (ProbeEnv,), {"reset": stub, "step": stub, "closed_form": stub})
    with pytest.raises(NotImplementedError, match="Exercise 10.1: write your code here"):
        lesson10.check_discount_probe(untouched)
    only_reset = discount(step=stub)
    with pytest.raises(NotImplementedError, match="Exercise 10.1: write your code here"):
        lesson10.check_discount_probe(only_reset)
