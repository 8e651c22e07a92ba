"""Lesson 02's checks pass the reference pieces and other correct forms, and name each known mistake."""
from course_utils.checks import lesson02 as checks  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mistake_bank import assert_rejected  # noqa: E402


from course_utils.lessons.lesson02 import greedy_policy, policy_evaluation, value_iteration  # noqa: E402


def test_reference_pieces_pass(capsys):
    checks.check_policy_evaluation(policy_evaluation)
    checks.check_greedy_policy(greedy_policy)
    checks.check_value_iteration(value_iteration)
    assert capsys.readouterr().out == ("Exercise 02.1: passed (8 cases checked).\n"
                                       "Exercise 02.2: passed (14 cases checked).\n"
                                       "Exercise 02.3: passed (8 cases checked).\n")


# --- the oracle against the closed forms of the small MDPs -------------------------------------------------

@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 0.9, 0.99])
def test_the_oracle_gives_the_closed_forms(gamma):
    V, _ = checks._optimal(checks.two_states(), gamma)
    assert np.allclose(V, [max(1, 2 * gamma) / (1 - gamma), 2 / (1 - gamma)])
    assert np.allclose(checks._evaluate(checks.two_states(), [0, 1], gamma), [1 / (1 - gamma), gamma / (1 - gamma)])
    x = 1 - 0.2 * gamma
    v2 = 7.8 / x
    v1 = (-1 + 0.8 * gamma * v2) / x
    assert np.allclose(checks._evaluate(checks.corridor(), [1, 1, 1, 1], gamma), [(-1 + 0.8 * gamma * v1) / x, v1, v2, -1])
    for k, V in enumerate(checks._sweeps(optimal=False, gamma=gamma, count=30)[0]):
        r, p = np.array([a[0] for a in checks.INDEPENDENT]).T
        assert np.allclose(V[:4], r * (1 - (gamma * p) ** k) / (1 - gamma * p))


def test_the_oracle_agrees_with_frozen_lake_solved_another_way():
    P = checks.frozen_lake()
    V, policy = checks._optimal(P, 0.99)
    V_vi, _ = value_iteration(P, 0.99, 1e-13)
    assert np.abs(V - V_vi).max() < 1e-9 and np.isclose(V[0], 0.5420, atol=1e-4)


def test_every_stopping_rule_makes_its_own_number_of_sweeps():
    """The MDP of independent states is built so that each wrong rule stops at another sweep than the right one."""
    for optimal in (False, True):
        sweeps = checks._sweeps_by_rule(optimal)
        assert len(set(sweeps.values())) == len(sweeps), sweeps


# --- students' functions, built from one backup with one thing changed -------------------------------------

def _backup(P, s, a, V, gamma, mistake=None):
    """One q(s, a) as a student might write it, with ``mistake``."""
    outcomes = P[s][a]
    if mistake == "last reward":
        total = 0.0
        for p, s_next, r, terminated in outcomes:
            total += p * gamma * V[s_next] * (not terminated)
        return r + total   # the loop variable r: the last outcome's reward
    total, seen = 0.0, {}
    for p, s_next, r, terminated in outcomes:
        reward = {"first reward": outcomes[0][2]}.get(mistake, r)
        future = 0.0 if terminated and mistake != "bootstrap" else V[s_next]
        g = gamma * gamma if mistake == "discount twice" else gamma
        if mistake == "unweighted reward":
            total += reward + p * g * future
        elif mistake == "no reward":
            total += p * g * future
        elif mistake == "overwrite":
            seen[s_next] = (p, reward, future)
        else:
            total += p * (reward + g * future)
    if mistake == "overwrite":
        total = sum(p * (r + gamma * f) for p, r, f in seen.values())
    return total


def _evaluation(mistake=None, stop="max", in_place=True, sweeps=None, optimality=False):
    def evaluate(P, policy, gamma, theta=1e-10):
        V = np.zeros(len(P))
        for sweep in range(100_000):
            old = V.copy()
            source = V if in_place else old
            for s in range(len(P)):
                values = [_backup(P, s, a, source, gamma, mistake) for a in range(len(P[s]))]
                V[s] = max(values) if optimality else values[policy[s]]
            change = V - old
            if sweeps is not None:
                if sweep + 1 == sweeps:
                    return V
                continue
            if _STOPS[stop](change, V, old) < theta:
                return V
    return evaluate


_STOPS = {
    "max": lambda c, new, old: np.abs(c).max(),
    "mean": lambda c, new, old: np.abs(c).mean(),
    "sum": lambda c, new, old: np.abs(c).sum(),
    "norm": lambda c, new, old: np.linalg.norm(c),
    "signed": lambda c, new, old: c.max(),
    "last": lambda c, new, old: abs(c[-1]),
    "max of V": lambda c, new, old: abs(new.max() - old.max()),
}


PE_MISTAKES = {
    "optimality backup": (_evaluation(optimality=True), "the backup took the max over the actions"),
    "terminal bootstrapped": (_evaluation("bootstrap"), "bootstrapped from terminal transitions"),
    "reward of the first outcome": (_evaluation("first reward"), "the reward of the first listed outcome"),
    "reward of the last outcome": (_evaluation("last reward"), "the reward of the last listed outcome"),
    "reward unweighted": (_evaluation("unweighted reward"), "added without their probabilities"),
    "duplicates overwritten": (_evaluation("overwrite"), "one probability overwrote the other"),
    "discount twice": (_evaluation("discount twice"), "the discount was applied twice"),
    "one sweep": (_evaluation(sweeps=1), "the loop stopped after its first sweep"),
    "stop on the mean change": (_evaluation(stop="mean"), "the mean absolute change of a sweep"),
    "stop on the sum of changes": (_evaluation(stop="sum"), "the sum of the absolute changes"),
    "stop on the norm": (_evaluation(stop="norm"), "the Euclidean norm of the changes"),
    "stop on the signed change": (_evaluation(stop="signed"), "the largest signed change, without abs()"),
    "delta overwritten (terminal last)": (_evaluation(stop="last"), "the loop stopped after its first sweep"),
    "stop on the change of max(V)": (_evaluation(stop="max of V"), "the change of max(V)"),
    "list returned": (lambda P, policy, gamma, theta=1e-10: list(policy_evaluation(P, policy, gamma, theta)),
                      "is a list"),
    "int values": (lambda P, policy, gamma, theta=1e-10: policy_evaluation(P, policy, gamma, theta).astype(int),
                   "expected floats"),
    "q table returned": (lambda P, policy, gamma, theta=1e-10: np.tile(policy_evaluation(P, policy, gamma, theta),
                                                                       (len(P[0]), 1)).T, "has shape (5, 2)"),
    "policy sorted in place": (lambda P, policy, gamma, theta=1e-10: (policy_evaluation(P, policy, gamma, theta),
                                                                       policy.sort())[0], "your function changed policy"),
}


@pytest.mark.parametrize("name", PE_MISTAKES)
def test_policy_evaluation_mistakes_are_named(name):
    wrong, message = PE_MISTAKES[name]
    assert_rejected(checks.check_policy_evaluation, wrong, "02.1", message)


def _last_state_delta(P, policy, gamma, theta=1e-10):
    """delta overwritten state by state, terminal states skipped: the test sees the last non-terminal state only."""
    V = np.zeros(len(P))
    while True:
        for s in range(len(P)):
            if all(t for _, _, _, t in P[s][0]) and all(s2 == s for _, s2, _, _ in P[s][0]):
                continue   # an absorbing terminal state: its value stays 0
            v = sum(p * (r + gamma * V[s2] * (not t)) for p, s2, r, t in P[s][policy[s]])
            delta = abs(v - V[s])
            V[s] = v
        if delta < theta:
            return V


def test_a_delta_overwritten_state_by_state_is_named():
    assert_rejected(checks.check_policy_evaluation, _last_state_delta, "02.1", "the change of the last state swept")


def _matrix_evaluation(P, policy, gamma, theta=1e-10):
    """Another correct form: the model as matrices, two-array sweeps vectorised."""
    n = len(P)
    R, C = np.zeros(n), np.zeros((n, n))
    for s in range(n):
        for p, s_next, r, terminated in P[s][policy[s]]:
            R[s] += p * r
            C[s, s_next] += 0.0 if terminated else p
    V = np.zeros(n)
    while True:
        new = R + gamma * C @ V
        if np.abs(new - V).max() < theta:
            return new
        V = new


def _reverse_in_place(P, policy, gamma, theta=1e-10):
    """Another correct form: in-place sweeps in reverse state order, float32 avoided, a debug print left in."""
    V = np.zeros(len(P))
    while True:
        delta = 0.0
        for s in reversed(range(len(P))):
            new = 0.0
            for p, s_next, r, terminated in P[s][policy[s]]:
                new += p * r
                if not terminated:
                    new += p * gamma * V[s_next]
            delta = max(delta, abs(new - V[s]))
            V[s] = new
        print("delta", delta)
        if delta < theta:
            return V


def _solve_exactly(P, policy, gamma, theta=1e-10):
    """Another correct answer: the linear system solved exactly (no sweeps at all, so within any theta)."""
    n = len(P)
    R, C = np.zeros(n), np.zeros((n, n))
    for s in range(n):
        for p, s_next, r, terminated in P[s][policy[s]]:
            R[s] += p * r
            C[s, s_next] += 0.0 if terminated else p
    return np.linalg.solve(np.eye(n) - gamma * C, R)


PE_CORRECT = {
    "in place (Gauss-Seidel)": policy_evaluation,
    "two arrays (Jacobi)": _evaluation(in_place=False),
    "matrices, two arrays": _matrix_evaluation,
    "reverse order, in place, with a print": _reverse_in_place,
    "exact linear solve": _solve_exactly,
}


@pytest.mark.parametrize("name", PE_CORRECT)
def test_policy_evaluation_other_correct_forms_pass(name, capsys):
    checks.check_policy_evaluation(PE_CORRECT[name])
    assert capsys.readouterr().out == "Exercise 02.1: passed (8 cases checked).\n"


# --- 02.2 ---------------------------------------------------------------------------------------------------

def _greedy(mistake=None, pick=np.argmax):
    def greedy(P, V, gamma):
        q = np.array([[_backup(P, s, a, V, gamma, mistake) for a in range(len(P[s]))] for s in range(len(P))])
        return np.array([pick(row) for row in q])
    return greedy


def _random_ties(P, V, gamma):
    q = np.array([[_backup(P, s, a, V, gamma) for a in range(len(P[s]))] for s in range(len(P))])
    return np.array([np.random.choice(np.flatnonzero(np.isclose(row, row.max()))) for row in q])


GREEDY_MISTAKES = {
    "argmin": (_greedy(pick=np.argmin), "every action has the smallest q(s, a)"),
    "terminal bootstrapped": (_greedy("bootstrap"), "bootstrapped from terminal transitions"),
    "reward of the first outcome": (_greedy("first reward"), "the reward of the first listed outcome"),
    "reward of the last outcome": (_greedy("last reward"), "the reward of the last listed outcome"),
    "reward unweighted": (_greedy("unweighted reward"), "added without their probabilities"),
    "duplicates overwritten": (_greedy("overwrite"), "one probability overwrote the other"),
    "discount twice": (_greedy("discount twice"), "the discount was applied twice"),
    "reward left out": (_greedy("no reward"), "the rewards were left out"),
    "ties at random": (_random_ties, "ties are broken at random"),
    "q table returned": (lambda P, V, gamma: np.array([[_backup(P, s, a, V, gamma) for a in range(len(P[s]))]
                                                      for s in range(len(P))]), "returned shape (2, 2)"),
    "float actions": (lambda P, V, gamma: greedy_policy(P, V, gamma).astype(float), "expected ints"),
    "list": (lambda P, V, gamma: greedy_policy(P, V, gamma).tolist(), "returned list"),
    "V changed": (lambda P, V, gamma: greedy_policy(P, V.__iadd__(0.5) - 0.5, gamma), "your function changed V"),
}


@pytest.mark.parametrize("name", GREEDY_MISTAKES)
def test_greedy_policy_mistakes_are_named(name):
    wrong, message = GREEDY_MISTAKES[name]
    assert_rejected(checks.check_greedy_policy, wrong, "02.2", message)


def _last_best(P, V, gamma):
    """Ties broken towards the last best action, with a tolerance: consistent, so correct."""
    q = np.array([[_backup(P, s, a, V, gamma) for a in range(len(P[s]))] for s in range(len(P))])
    return np.array([np.flatnonzero(row >= row.max() - 1e-12)[-1] for row in q], dtype=np.int32)


def _loops_strictly_better(P, V, gamma):
    """Plain loops keeping the first best action (strict >), a list of ints turned into an array at the end."""
    policy = []
    for s in range(len(P)):
        best_a, best_q = 0, -np.inf
        for a in range(len(P[s])):
            q = sum(p * (r + gamma * V[s2] * (not t)) for p, s2, r, t in P[s][a])
            if q > best_q:
                best_a, best_q = a, q
        policy.append(best_a)
    return np.array(policy)


def _seeded_ties(P, V, gamma):
    """Ties broken at random, but by a generator seeded afresh on every call: the same V, the same policy."""
    rng = np.random.default_rng(0)
    q = np.array([[_backup(P, s, a, V, gamma) for a in range(len(P[s]))] for s in range(len(P))])
    return np.array([rng.choice(np.flatnonzero(np.isclose(row, row.max()))) for row in q])


GREEDY_CORRECT = {
    "reference": greedy_policy,
    "last best action (int32)": _last_best,
    "loops, strict >": _loops_strictly_better,
    "seeded random ties": _seeded_ties,
}


@pytest.mark.parametrize("name", GREEDY_CORRECT)
def test_greedy_policy_other_correct_forms_pass(name, capsys):
    checks.check_greedy_policy(GREEDY_CORRECT[name])
    assert capsys.readouterr().out == "Exercise 02.2: passed (14 cases checked).\n"


# --- 02.3 ---------------------------------------------------------------------------------------------------

def _iteration(mistake=None, stop="max", in_place=False, reduce=max, record="max", sweeps=None, on_policy=False):
    def iterate(P, gamma, theta=1e-10):
        V, deltas, last_policy = np.zeros(len(P)), [], None
        for sweep in range(100_000):
            old = V.copy()
            source = V if in_place else old
            policy = []
            for s in range(len(P)):
                values = [_backup(P, s, a, source, gamma, mistake) for a in range(len(P[s]))]
                V[s] = reduce(values)
                policy.append(int(np.argmax(values)))
            change = V - old
            deltas.append(float(_STOPS[record](change, V, old)))
            if sweeps is not None:
                if sweep + 1 == sweeps:
                    return V, deltas
                continue
            if on_policy:
                if policy == last_policy:
                    return V, deltas
                last_policy = policy
            elif _STOPS[stop](change, V, old) < theta:
                return V, deltas
    return iterate


def _mean(values):
    return sum(values) / len(values)


VI_MISTAKES = {
    "expectation backup": (_iteration(reduce=_mean), "the backup averaged over the actions (the expectation backup)"),
    "action 0 only": (_iteration(reduce=lambda values: values[0]), "the value of always taking action 0"),
    "terminal bootstrapped": (_iteration("bootstrap"), "bootstrapped from terminal transitions"),
    "reward of the first outcome": (_iteration("first reward"), "the reward of the first listed outcome"),
    "reward of the last outcome": (_iteration("last reward"), "the reward of the last listed outcome"),
    "reward unweighted": (_iteration("unweighted reward"), "added without their probabilities"),
    "duplicates overwritten": (_iteration("overwrite"), "one probability overwrote the other"),
    "discount twice": (_iteration("discount twice"), "the discount was applied twice"),
    "stop on the mean change": (_iteration(stop="mean"), "the mean absolute change of a sweep"),
    "stop on the sum of changes": (_iteration(stop="sum"), "the sum of the absolute changes"),
    "stop on the signed change": (_iteration(stop="signed"), "the largest signed change, without abs()"),
    "stop on the change of max(V)": (_iteration(stop="max of V"), "the change of max(V)"),
    "stop when the policy is stable": (_iteration(on_policy=True), "when the greedy policy stopped changing"),
    "one sweep": (_iteration(sweeps=1), "the loop stopped after its first sweep"),
    "deltas of the mean": (_iteration(record="mean"), "are not the largest change of each"),
    "first delta missing": (lambda P, gamma, theta=1e-10: (lambda V, d: (V, d[1:]))(*value_iteration(P, gamma, theta)),
                            "are not the largest change of each"),
    "V alone": (lambda P, gamma, theta=1e-10: value_iteration(P, gamma, theta)[0], "expected a tuple (V, deltas)"),
    "deltas not numbers": (lambda P, gamma, theta=1e-10: (value_iteration(P, gamma, theta)[0], None),
                           "deltas is not a list of numbers"),
}


@pytest.mark.parametrize("name", VI_MISTAKES)
def test_value_iteration_mistakes_are_named(name):
    wrong, message = VI_MISTAKES[name]
    assert_rejected(checks.check_value_iteration, wrong, "02.3", message)


def _vectorised(P, gamma, theta=1e-10):
    """Another correct form: dense arrays built once, then q = R + gamma * C @ V, two arrays."""
    n, m = len(P), len(P[0])
    R, C = np.zeros((n, m)), np.zeros((n, m, n))
    for s in range(n):
        for a in range(m):
            for p, s_next, r, terminated in P[s][a]:
                R[s, a] += p * r
                C[s, a, s_next] += 0.0 if terminated else p
    V, deltas = np.zeros(n), []
    while True:
        new = (R + gamma * C @ V).max(axis=1)
        deltas.append(np.abs(new - V).max())
        V = new
        if deltas[-1] < theta:
            return V, np.array(deltas)


VI_CORRECT = {
    "two arrays (reference)": value_iteration,
    "in place (Gauss-Seidel)": _iteration(in_place=True),
    "vectorised, deltas as an array": _vectorised,
}


@pytest.mark.parametrize("name", VI_CORRECT)
def test_value_iteration_other_correct_forms_pass(name, capsys):
    checks.check_value_iteration(VI_CORRECT[name])
    assert capsys.readouterr().out == "Exercise 02.3: passed (8 cases checked).\n"


# --- 02.4 ---------------------------------------------------------------------------------------------------

def _optimal_policy():
    return np.array([0, 3, 3, 3, 0, 0, 0, 0, 3, 1, 0, 0, 0, 2, 1, 0])


def _returns(rate, n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    out[rng.permutation(n)[:round(rate * n)]] = 1.0
    return out


def test_predicted_success_passes_and_names_its_mistakes(capsys):
    P = checks.frozen_lake()
    policy = _optimal_policy()
    predicted = checks.success_within(P, policy, 100)[0]
    assert np.isclose(predicted, 0.74016, atol=1e-5)
    checks.check_predicted_success(policy, predicted, _returns(0.735))
    assert capsys.readouterr().out == ("Exercise 02.4: passed (3 cases checked).\n"
                                       "Success rate over 5,000+ episodes >= 0.7, within 4 standard errors of the "
                                       "prediction.\n")
    v_discounted = checks._evaluate(P, policy, 0.99)[0]
    for predicted_wrong, message in [(v_discounted, "the discounted value V(start)"),
                                     (checks.success_within(P, policy, 99)[0], "another number of steps"),
                                     (checks.success_within(P, policy, 10_000)[0], "with no time limit"),
                                     (0.5, "predicted = 0.5000")]:
        assert_rejected(lambda p: checks.check_predicted_success(policy, p, _returns(0.735)), predicted_wrong, "02.4",
                        message)
    assert_rejected(lambda r: checks.check_predicted_success(policy, predicted, r), _returns(0.70), "02.4",
                    "more than 4 standard errors")
    assert_rejected(lambda r: checks.check_predicted_success(policy, predicted, r), _returns(0.74, n=500), "02.4",
                    "got 500 returns")
    always_left = np.zeros(16, dtype=int)
    left = checks.success_within(P, always_left, 100)[0]
    assert_rejected(lambda r: checks.check_predicted_success(always_left, left, r), _returns(left), "02.4",
                    "is below 0.7")


# --- the course's way with a student's error ----------------------------------------------------------------

def test_an_error_in_the_student_code_becomes_a_course_message():
    def unpacks_three(P, policy, gamma, theta=1e-10):
        V = np.zeros(len(P))
        for s in range(len(P)):
            for p, s_next, r in P[s][policy[s]]:
                V[s] += p * r
        return V

    with pytest.raises(AssertionError, match=r"^Exercise 02\.1: your code raised ValueError: too many values to "
                                             r"unpack \(expected 3\) \(in unpacks_three, line \d+\)\nHint: "
                                             r"policy_evaluation\(P, policy, gamma, theta\) starts from"):
        checks.check_policy_evaluation(unpacks_three)


def test_an_untouched_stub_keeps_its_own_message():
    def value_iteration(P, gamma, theta=1e-10):
        raise NotImplementedError("Exercise 02.3: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 02.3: write your code here"):
        checks.check_value_iteration(value_iteration)


def test_every_check_is_guarded():
    names = [name for name in dir(checks) if name.startswith("check_")]
    assert names and all(hasattr(getattr(checks, name), "__wrapped__") for name in names)
