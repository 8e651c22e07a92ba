"""Checks of lesson 02: policy evaluation, greedy improvement, value iteration, predicted against simulated success.

Every check runs the student's function on small MDPs written in Gymnasium's ``P`` format,
whose answers are known in closed form (the formulas are in each builder's docstring), and
on FrozenLake-v1's own model. The truth comes from the check's own oracle, written apart
from the lesson's solution: the model as dense arrays and exact linear solves
(``_evaluate``) and policy iteration with those solves (``_optimal``). When an answer is
wrong, the check computes what each known mistake would have given (``MISTAKES``) and names
the one that matches.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from . import fail, guarded, passed

# --- the oracle ------------------------------------------------------------------------------------

# Known mistakes in the one-step backup: name -> (what went wrong, hint). ``_arrays`` builds the
# model each one sees; "discount twice" is the right model under gamma ** 2.
MISTAKES = {
    "bootstrap": ("it bootstrapped from terminal transitions: V(s') was added where terminated is True",
                  "an outcome (p, s_next, r, terminated) with terminated True has no future: count p * r alone "
                  "(p * (r + gamma * V[s_next] * (not terminated)))"),
    "first reward": ("every outcome of an action used the reward of the first listed outcome",
                     "unpack each tuple (p, s_next, r, terminated) and use its own r with its own probability"),
    "last reward": ("every outcome of an action used the reward of the last listed outcome (a loop variable "
                    "used after its loop)",
                    "add p * (r + ...) inside the loop over the outcomes, with each outcome's own r"),
    "unweighted reward": ("the rewards were added without their probabilities",
                          "weight the reward of each outcome by its probability: p * (r + gamma * V[s_next])"),
    "overwrite": ("where P[s][a] lists the same next state twice, one probability overwrote the other",
                  "P[s][a] can list one next state more than once (on FrozenLake, slips into a wall): add the "
                  "probabilities (+=), do not assign them"),
    "discount twice": ("the discount was applied twice: the values are those of gamma ** 2",
                       "multiply V[s_next] by gamma once"),
    "no reward": ("the rewards were left out: only gamma * V(s') was summed",
                  "q(s, a) = sum over outcomes of p * (r + gamma * V[s_next]), the reward included"),
}


def _arrays(P, mistake: str | None = None):
    """The model as arrays: expected reward R[s, a] and continuation C[s, a, s'] (probability of s', not terminated)."""
    n_states, n_actions = len(P), len(P[0])
    R = np.zeros((n_states, n_actions))
    C = np.zeros((n_states, n_actions, n_states))
    for s in range(n_states):
        for a in range(n_actions):
            outcomes = list(P[s][a])
            if mistake == "overwrite":   # tables indexed by next state, filled with =: the last duplicate wins
                outcomes = list({int(s_next): (p, s_next, r, t) for p, s_next, r, t in outcomes}.values())
            for p, s_next, r, terminated in outcomes:
                reward = {"first reward": outcomes[0][2], "last reward": outcomes[-1][2]}.get(mistake, r)
                R[s, a] += {"unweighted reward": 1.0, "no reward": 0.0}.get(mistake, p) * reward
                keep = 1.0 if mistake == "bootstrap" else float(not terminated)
                C[s, a, int(s_next)] += p * keep
    return R, C


def _q(P, V, gamma, mistake=None) -> np.ndarray:
    """q(s, a) = sum over outcomes of p * (r + gamma * V(s') * (not terminated)), shape (n_states, n_actions)."""
    R, C = _arrays(P, mistake)
    g = gamma ** 2 if mistake == "discount twice" else gamma
    return R + g * C @ np.asarray(V, dtype=float)


def _evaluate(P, policy, gamma, mistake=None) -> np.ndarray:
    """V of ``policy`` (actions, shape (n,), or probabilities, shape (n, n_actions)), solved exactly."""
    R, C = _arrays(P, mistake)
    g = gamma ** 2 if mistake == "discount twice" else gamma
    n = len(P)
    probs = np.asarray(policy, dtype=float) if np.ndim(policy) == 2 else np.eye(R.shape[1])[np.asarray(policy)]
    r_pi = (probs * R).sum(axis=1)
    c_pi = np.einsum("sa,sat->st", probs, C)
    return np.linalg.solve(np.eye(n) - g * c_pi, r_pi)


def _optimal(P, gamma, mistake=None):
    """(V*, an optimal policy) by policy iteration with exact solves; an action changes only when strictly better."""
    policy = np.zeros(len(P), dtype=int)
    for _ in range(1000):
        V = _evaluate(P, policy, gamma, mistake)
        Q = _q(P, V, gamma, mistake)
        better = Q.max(axis=1) > Q[np.arange(len(P)), policy] + 1e-12 * (1 + np.abs(V))
        if not better.any():
            return V, policy
        policy = np.where(better, Q.argmax(axis=1), policy)
    raise RuntimeError("the oracle's policy iteration did not stop")   # pragma: no cover


# --- the MDPs --------------------------------------------------------------------------------------

def two_states():
    """Stay (action 0) or switch (action 1) between two states; no terminal state.

    State 0: stay earns 1, switching earns 0. State 1: stay earns 2, switching earns 0.
    Closed form: V*(1) = 2 / (1 - gamma), V*(0) = max(1, 2 * gamma) / (1 - gamma); the policy
    (stay in 0, switch back from 1) has V(0) = 1 / (1 - gamma), V(1) = gamma / (1 - gamma).
    """
    return {0: {0: [(1.0, 0, 1.0, False)], 1: [(1.0, 1, 0.0, False)]},
            1: {0: [(1.0, 1, 2.0, False)], 1: [(1.0, 0, 0.0, False)]}}


def corridor():
    """Four cells in a row, goal at 3; actions left (0) and right (1); a move slips (stays) with probability 0.2.

    Every step costs -1, except the move from 2 into the goal, which earns +10 and ends the
    episode. The goal itself is not absorbing, as in CliffWalking: stepping from it earns -1,
    so bootstrapping from a terminal transition changes the answer. Moving left in cell 0 lists
    next state 0 twice. Closed form under "always right" (x = 1 - 0.2 gamma):
    V(2) = 7.8 / x, V(1) = (-1 + 0.8 gamma V(2)) / x, V(0) = (-1 + 0.8 gamma V(1)) / x,
    V(3) = -1 (its right move ends the episode at once); "always right" is optimal in 0-2.
    """
    P = {}
    for s in range(3):
        right = ([(0.8, 3, 10.0, True), (0.2, 2, -1.0, False)] if s == 2
                 else [(0.8, s + 1, -1.0, False), (0.2, s, -1.0, False)])
        P[s] = {0: [(0.8, max(s - 1, 0), -1.0, False), (0.2, s, -1.0, False)], 1: right}
    P[3] = {0: [(0.8, 2, -1.0, False), (0.2, 3, -1.0, True)], 1: [(1.0, 3, -1.0, True)]}
    return P


# Independent states: in state s, action a pays r and then stays in s with probability p, else ends (state 4).
# Each state's values depend on itself only, so in-place and two-array sweeps give the same numbers, and
# V after k sweeps from 0 is known in closed form: V_k = max_a (r_a + gamma p_a V_{k-1}); for one action,
# V_k = r (1 - (gamma p)^k) / (1 - gamma p). So the number of sweeps a stopping rule makes is known exactly.
INDEPENDENT = [[(-1.3, 0.85), (-1.1, 0.83)], [(1.9, 0.7), (0.8, 0.17)], [(1.2, 0.74), (1.3, 0.47)],
               [(-0.1, 0.91), (-1.0, 0.13)]]
STOP_GAMMA, STOP_THETA = 0.9, 1e-3


def independent():
    """The MDP of ``INDEPENDENT`` in Gymnasium's format; state 4 is terminal (absorbing, reward 0)."""
    P = {}
    for s, actions in enumerate(INDEPENDENT):
        P[s] = {a: ([(p, s, r, False), (1 - p, 4, r, True)] if p > 0 else [(1.0, 4, r, True)])
                for a, (r, p) in enumerate(actions)}
    P[4] = {a: [(1.0, 4, 0.0, True)] for a in range(2)}
    return P


def _sweeps(optimal: bool, gamma=STOP_GAMMA, count=200):
    """V_0 .. V_count on ``independent()`` (the policy "action 0 everywhere" when not optimal), and greedy policies."""
    V, values, policies = np.zeros(5), [np.zeros(5)], []
    for _ in range(count):
        Q = np.array([[r + gamma * p * V[s] for r, p in acts] for s, acts in enumerate(INDEPENDENT)])
        V = np.append(Q.max(axis=1) if optimal else Q[:, 0], 0.0)
        values.append(V)
        policies.append(tuple(Q.argmax(axis=1)))
    return values, policies


# stopping rules: name -> (the quantity tested against theta, given the changes of a sweep, new and old V; message)
STOP_RULES = {
    "largest change": (lambda c, new, old: np.abs(c).max(), ""),
    "mean change": (lambda c, new, old: np.abs(c).mean(), "the mean absolute change of a sweep"),
    "sum of changes": (lambda c, new, old: np.abs(c).sum(), "the sum of the absolute changes of a sweep"),
    "norm of changes": (lambda c, new, old: np.linalg.norm(c), "the Euclidean norm of the changes of a sweep"),
    "signed change": (lambda c, new, old: c.max(), "the largest signed change, without abs(): values that fall "
                      "(negative rewards) never hold the loop"),
    "last state's change": (lambda c, new, old: abs(c[3]), "the change of the last state swept (delta was "
                            "overwritten state by state instead of keeping the largest)"),
    "change of the largest value": (lambda c, new, old: abs(new.max() - old.max()),
                                    "the change of max(V), not the largest change of any V(s)"),
    "one sweep": (lambda c, new, old: 0.0, "the change of one state only (the terminal state's, or the smallest): "
                  "the loop stopped after its first sweep"),
}


def _sweeps_by_rule(optimal: bool) -> dict:
    """Rule name -> the number of sweeps it makes on ``independent()`` with STOP_GAMMA and STOP_THETA."""
    values, policies = _sweeps(optimal)
    out = {}
    for name, (quantity, _) in STOP_RULES.items():
        for k in range(1, len(values)):
            if quantity(values[k] - values[k - 1], values[k], values[k - 1]) < STOP_THETA:
                out[name] = k
                break
    if optimal:   # value iteration stopped when the greedy policy stopped changing
        out["policy unchanged"] = next(k + 1 for k in range(1, len(policies)) if policies[k] == policies[k - 1])
    return out


def random_mdp(seed: int, n_states: int = 6, n_actions: int = 3):
    """A random MDP: up to three outcomes per action, uneven probabilities, a reward per outcome, some terminating,
    a repeated next state here and there (no closed form: the oracle's exact solve is the truth)."""
    rng = np.random.default_rng(seed)
    P = {}
    for s in range(n_states):
        P[s] = {}
        for a in range(n_actions):
            k = int(rng.integers(1, 4))
            probs = rng.dirichlet(np.ones(k))
            P[s][a] = [(float(p), int(rng.integers(n_states)), float(np.round(rng.normal(0, 1), 2)), bool(rng.random() < 0.2))
                       for p in probs]
    return P


def frozen_lake():
    """FrozenLake-v1's model (4x4, slippery): ``P`` as Gymnasium gives it."""
    import gymnasium as gym

    return gym.make("FrozenLake-v1").unwrapped.P


# --- shared pieces of the checks ------------------------------------------------------------------

def _bound(gamma, theta) -> float:
    """How far from the truth a sweep loop that stopped on a largest change below theta may be: gamma theta / (1 - gamma)."""
    return gamma * theta / (1 - gamma) + 1e-9


def _values(ex: str, got, n: int, what: str) -> np.ndarray:
    """The student's value table as a float array of shape (n,), or a failure that says what came back."""
    if not isinstance(got, np.ndarray):
        shown = " ".join(repr(got).split())
        fail(ex, f"{what} is a {type(got).__name__} ({shown[:60]}), expected a NumPy array of shape ({n},)",
             f"start from V = np.zeros(len(P)) and return that array, one value per state")
    if got.shape != (n,):
        hint = ("return V, one value per state, not the table of q(s, a)" if got.shape == (n, got.shape[-1]) and
                got.ndim == 2 else f"return one value per state: shape (len(P),) = ({n},)")
        fail(ex, f"{what} has shape {got.shape}, expected ({n},)", hint)
    if got.dtype.kind != "f":
        fail(ex, f"{what} has dtype {got.dtype}, expected floats",
             "values are fractions: start from np.zeros(len(P)) (float64), not an int array")
    if not np.all(np.isfinite(got)):
        fail(ex, f"{what} holds inf or nan: {np.round(got, 3).tolist()}", "with gamma < 1 every value is finite; "
             "check the backup: p * (r + gamma * V[s_next] * (not terminated))")
    return got.astype(float)


def _unchanged(ex: str, before, after, what: str) -> None:
    if not _same(before, after):
        fail(ex, f"your function changed {what}", f"read {what} without writing to it (work on a copy)")


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _which_mistake(got, candidates, tol) -> str | None:
    """The first known mistake whose values ``got`` matches (and the truth does not), or None."""
    for name, values in candidates.items():
        if values is not None and np.abs(got - values).max() <= tol:
            return name
    return None


def _describe_case(label, gamma, theta) -> str:
    return f"on {label} with gamma={gamma}, theta={theta:g}"


def _wrong_values(ex, got, want, label, gamma, theta, candidates, extra=None) -> None:
    """Fail with the mistake that explains ``got``, else with the state that differs most."""
    tol = max(_bound(gamma, theta) * 3, 1e-7)
    candidates = {name: v for name, v in candidates.items() if np.abs(v - want).max() > 2 * tol}
    name = _which_mistake(got, candidates, tol)
    if name is not None:
        what, hint = extra[name] if extra and name in extra else MISTAKES[name]
        fail(ex, f"{_describe_case(label, gamma, theta)}: {what}", hint)
    i = int(np.argmax(np.abs(got - want)))
    fail(ex, f"{_describe_case(label, gamma, theta)}: V[{i}] = {got[i]:.6f}, expected {want[i]:.6f} "
             f"(every value should be within gamma * theta / (1 - gamma) = {_bound(gamma, theta):.1e} of the truth)",
         "V(s) = sum over (p, s_next, r, terminated) in P[s][a] of p * (r + gamma * V[s_next] * (not terminated)); "
         "sweep until the largest change of a sweep is below theta")


def _backup_candidates(P, gamma, value) -> dict:
    """Mistake name -> the values that mistake gives (``value(mistake)``)."""
    out = {}
    for name in MISTAKES:
        try:
            out[name] = value(name)
        except np.linalg.LinAlgError:
            continue
    return out


# --- 02.1 policy evaluation ------------------------------------------------------------------------

PE_HINT = ("policy_evaluation(P, policy, gamma, theta) starts from V = np.zeros(len(P)) and sweeps: "
           "V[s] = sum of p * (r + gamma * V[s_next] * (not terminated)) over the tuples of P[s][policy[s]], "
           "until the largest change of a sweep is below theta; it returns V")


def _pe_cases():
    rng = np.random.default_rng(2)
    lake = frozen_lake()
    return [("the two-state MDP", two_states(), np.array([0, 1]), 0.9, 1e-10),
            ("the two-state MDP", two_states(), np.array([1, 0]), 0.5, 1e-10),
            ("the corridor", corridor(), np.array([1, 1, 1, 1]), 0.9, 1e-10),
            ("the corridor", corridor(), np.array([1, 0, 1, 0]), 0.95, 1e-10),
            ("a random MDP (random_mdp(1))", random_mdp(1), rng.integers(3, size=6), 0.8, 1e-10),
            ("FrozenLake-v1", lake, rng.integers(4, size=16), 0.9, 1e-10),
            ("FrozenLake-v1", lake, _optimal(lake, 0.99)[1], 0.99, 1e-10)]


def _stopping(ex, got, optimal: bool, deltas=None) -> None:
    """On ``independent()``: infer the sweeps from V and name the stopping rule that made that many."""
    values, _ = _sweeps(optimal)
    rules = _sweeps_by_rule(optimal)
    right = rules["largest change"]
    matches = [k for k, v in enumerate(values) if np.abs(got - v).max() <= 1e-9]
    label = _describe_case("the MDP of independent states", STOP_GAMMA, STOP_THETA)
    if len(matches) != 1:
        return   # not one number of sweeps from V = 0 (an exact solve, another start): judged on the other MDPs
    k = matches[0]
    if k != right:
        named = [name for name, sweeps in rules.items() if sweeps == k and name != "largest change"]
        if named and named[0] == "policy unchanged":
            what = "the loop stopped when the greedy policy stopped changing"
        elif named:
            what = f"the stopping test used {STOP_RULES[named[0]][1]}"
        else:
            what = "the stopping test looked at another quantity than the largest change of a sweep"
        fail(ex, f"{label}: the loop made {k} sweep(s); the largest change of a sweep first fell below theta after "
                 f"{right}: {what}",
             "in each sweep keep delta = max(delta, abs(new - old)) over all states (delta = 0 at the start of the "
             "sweep), and stop after the first sweep whose delta < theta")
    if deltas is not None:
        want = [float(np.abs(values[i] - values[i - 1]).max()) for i in range(1, right + 1)]
        if len(deltas) != len(want) or not np.allclose(deltas, want, rtol=1e-9, atol=1e-12):
            shown = np.round(np.asarray(deltas[:3], dtype=float), 6).tolist()
            fail(ex, f"{label}: the loop stopped at the right sweep ({right}), but the deltas returned, starting "
                     f"{shown}, are not the largest change of each of the {right} sweeps (starting "
                     f"{np.round(want[:3], 6).tolist()})",
                 "append each sweep's delta (its largest abs(new - old)) once per sweep, the last sweep's included")


@guarded("02.1", PE_HINT)
def check_policy_evaluation(policy_evaluation) -> None:
    """Check ``policy_evaluation(P, policy, gamma, theta) -> V``, float array of shape (len(P),)."""
    P = independent()
    policy = np.zeros(5, dtype=int)
    got = _values("02.1", policy_evaluation(P, policy, STOP_GAMMA, STOP_THETA), 5, "the V returned")
    _stopping("02.1", got, optimal=False)
    cases = 1
    for label, P, policy, gamma, theta in _pe_cases():
        P_before, policy_before = copy.deepcopy(P), policy.copy()
        got = _values("02.1", policy_evaluation(P, policy, gamma, theta), len(P), "the V returned")
        _unchanged("02.1", P_before, P, "P")
        _unchanged("02.1", policy_before, policy, "policy")
        want = _evaluate(P, policy, gamma)
        if np.abs(got - want).max() <= _bound(gamma, theta):
            cases += 1
            continue
        candidates = _backup_candidates(P, gamma, lambda m: _evaluate(P, policy, gamma, m))
        V_star = _optimal(P, gamma)[0]
        if np.abs(V_star - want).max() > 1e-6:
            candidates["optimality"] = V_star
        one = _q(P, np.zeros(len(P)), gamma)[np.arange(len(P)), policy]
        candidates["one sweep"] = one
        extra = {"optimality": ("V is the optimal value V*: the backup took the max over the actions",
                                "that is the optimality backup; policy evaluation follows the given policy's action "
                                "P[s][policy[s]] only"),
                 "one sweep": ("V is what a single sweep from V = 0 gives: the loop stopped after its first sweep",
                               "keep sweeping until the largest change of a sweep is below theta (delta = 0 at the "
                               "start of each sweep, delta = max(delta, abs(new - old)) per state)")}
        _wrong_values("02.1", got, want, label, gamma, theta, candidates, extra)
    passed("02.1", cases)


# --- 02.2 greedy policy ----------------------------------------------------------------------------

GREEDY_HINT = ("greedy_policy(P, V, gamma) returns an int array of shape (len(P),): for each state an action with the "
               "largest q(s, a) = sum of p * (r + gamma * V[s_next] * (not terminated)) over P[s][a]")


def _greedy_cases():
    rng = np.random.default_rng(3)
    lake = frozen_lake()
    cases = [("the two-state MDP", two_states(), np.array([10.0, 20.0]), 0.9),
             ("the two-state MDP", two_states(), np.array([10.0, 20.0]), 0.3),
             ("the corridor", corridor(), _optimal(corridor(), 0.9)[0], 0.9),
             ("the corridor", corridor(), rng.normal(0, 5, 4), 0.9),
             ("the corridor", corridor(), np.array([-9.0, -9.0, 0.0, -19.0]), 0.9)]
    for gamma in (0.9, 0.99):
        cases.append(("FrozenLake-v1", lake, _optimal(lake, gamma)[0], gamma))   # ties at holes, goal and state 6
    for _ in range(4):
        cases.append(("FrozenLake-v1", lake, rng.uniform(0, 1, 16), 0.9))
    cases.append(("FrozenLake-v1", lake, rng.uniform(0, 1, 16), 0.5))
    for seed in (1, 2):
        cases.append((f"a random MDP (random_mdp({seed}))", random_mdp(seed), rng.normal(0, 2, 6), 0.8))
    return cases


def _is_greedy(actions, Q, tol=1e-9) -> np.ndarray:
    """Per state, whether ``actions`` picks one of the best actions of ``Q`` (ties within ``tol``)."""
    picked = Q[np.arange(len(Q)), actions]
    return picked >= Q.max(axis=1) - tol * (1 + np.abs(Q).max(axis=1))


@guarded("02.2", GREEDY_HINT)
def check_greedy_policy(greedy_policy) -> None:
    """Check ``greedy_policy(P, V, gamma) -> policy``: any best action is accepted where actions tie, but the same
    inputs must always give the same policy."""
    cases, answers = _greedy_cases(), []
    for label, P, V, gamma in cases:
        n, n_actions = len(P), len(P[0])
        P_before, V_before = copy.deepcopy(P), V.copy()
        got = greedy_policy(P, V, gamma)
        _unchanged("02.2", V_before, V, "V")
        _unchanged("02.2", P_before, P, "P")
        if not isinstance(got, np.ndarray):
            fail("02.2", f"returned {type(got).__name__}, expected a NumPy array of {n} actions",
                 "return np.array of one int action per state")
        if got.shape != (n,):
            fail("02.2", f"returned shape {got.shape}, expected ({n},)",
                 "return one action per state (the argmax over actions of q(s, a)), not the q table")
        if got.dtype.kind not in "iu":
            fail("02.2", f"returned dtype {got.dtype}, expected ints",
                 "actions index P[s][a] and env.step: use an int array (np.argmax gives ints)")
        if got.min() < 0 or got.max() >= n_actions:
            fail("02.2", f"returned actions {got.tolist()}", f"each action is between 0 and {n_actions - 1}")
        again = [greedy_policy(P, V.copy(), gamma) for _ in range(3)]
        if any(not np.array_equal(np.asarray(a), got) for a in again):
            fail("02.2", f"{label} with gamma={gamma}: the same V gave different policies on different calls "
                         "(ties are broken at random)",
                 "break ties the same way every time (np.argmax takes the first best action): policy iteration "
                 "stops when the policy stops changing, and random tie-breaks can keep it changing forever")
        answers.append(got)
    _judge_greedy(cases, answers)
    passed("02.2", len(cases))


def _judge_greedy(cases, answers) -> None:
    """Fail on the first case whose actions are not greedy, naming the mistake all the answers are greedy for."""
    wrong = [i for i, ((_, P, V, gamma), got) in enumerate(zip(cases, answers)) if not _is_greedy(got, _q(P, V, gamma)).all()]
    if not wrong:
        return
    label, P, V, gamma = cases[wrong[0]]
    if all(_is_greedy(got, -_q(P, V, gamma)).all() for (_, P, V, gamma), got in zip(cases, answers)):
        fail("02.2", f"{label} with gamma={gamma}: every action has the smallest q(s, a)", "take the argmax, not the argmin")
    for name, (what, hint) in MISTAKES.items():
        if all(_is_greedy(got, _q(P_, V_, g_, name)).all() for (_, P_, V_, g_), got in zip(cases, answers)):
            fail("02.2", f"{label} with gamma={gamma}: {what}", hint)
    got, Q = answers[wrong[0]], _q(P, V, gamma)
    s = int(np.flatnonzero(~_is_greedy(got, Q))[0])
    fail("02.2", f"{label} with gamma={gamma}: in state {s} you chose action {got[s]} with q = {Q[s, got[s]]:.6f}, "
                 f"but action {Q[s].argmax()} has q = {Q[s].max():.6f}",
         "q(s, a) = sum of p * (r + gamma * V[s_next] * (not terminated)) over P[s][a]; pick its argmax")


# --- 02.3 value iteration --------------------------------------------------------------------------

VI_HINT = ("value_iteration(P, gamma, theta) starts from V = np.zeros(len(P)) and sweeps V[s] = max over a of "
           "q(s, a), recording each sweep's largest change, until that change is below theta; it returns "
           "(V, deltas)")


def _vi_result(ex, result, n):
    if not isinstance(result, tuple) or len(result) != 2:
        shown = type(result).__name__ + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        fail(ex, f"returned a {shown}, expected a tuple (V, deltas)", "return V, deltas")
    V, deltas = result
    V = _values(ex, V, n, "the V returned")
    try:
        deltas = np.asarray(deltas, dtype=float)
    except (TypeError, ValueError):
        deltas = None
    if deltas is None or deltas.ndim != 1 or len(deltas) == 0:
        fail(ex, "deltas is not a list of numbers, one per sweep",
             "append each sweep's largest change to a list and return it with V")
    return V, deltas


def _vi_cases():
    lake = frozen_lake()
    return [("the two-state MDP", two_states(), 0.9, 1e-10), ("the two-state MDP", two_states(), 0.3, 1e-10),
            ("the corridor", corridor(), 0.9, 1e-10), ("the corridor", corridor(), 0.0, 1e-10),
            ("a random MDP (random_mdp(2))", random_mdp(2), 0.8, 1e-10),
            ("FrozenLake-v1", lake, 0.9, 1e-10), ("FrozenLake-v1", lake, 0.99, 1e-8)]


@guarded("02.3", VI_HINT)
def check_value_iteration(value_iteration) -> None:
    """Check ``value_iteration(P, gamma, theta) -> (V, deltas)``."""
    P = independent()
    V, deltas = _vi_result("02.3", value_iteration(P, STOP_GAMMA, STOP_THETA), 5)
    _stopping("02.3", V, optimal=True, deltas=deltas)
    cases = 1
    for label, P, gamma, theta in _vi_cases():
        P_before = copy.deepcopy(P)
        V, deltas = _vi_result("02.3", value_iteration(P, gamma, theta), len(P))
        _unchanged("02.3", P_before, P, "P")
        if not deltas[-1] < theta or (len(deltas) > 1 and deltas[:-1].min() < theta):
            fail("02.3", f"{_describe_case(label, gamma, theta)}: deltas {np.round(deltas[-3:], 12).tolist()} "
                         "(the last three): the loop should stop after the first sweep whose largest change is below "
                         "theta, and not before",
                 "after each sweep append delta, then stop if delta < theta")
        want = _optimal(P, gamma)[0]
        if np.abs(V - want).max() <= _bound(gamma, theta):
            cases += 1
            continue
        candidates = _backup_candidates(P, gamma, lambda m: _optimal(P, gamma, m)[0])
        n_actions = len(P[0])
        candidates["expectation"] = _evaluate(P, np.full((len(P), n_actions), 1 / n_actions), gamma)
        candidates["action 0"] = _evaluate(P, np.zeros(len(P), dtype=int), gamma)
        extra = {"expectation": ("V is the value of the random policy: the backup averaged over the actions "
                                 "(the expectation backup) where the optimality backup takes their max",
                                 "V[s] = max over a of q(s, a), not the mean"),
                 "action 0": ("V is the value of always taking action 0: the backup did not take the max over the "
                              "actions", "compute q(s, a) for every action a of P[s] and keep the largest")}
        _wrong_values("02.3", V, want, label, gamma, theta, candidates, extra)
    passed("02.3", cases)


# --- 02.4 predicted against simulated --------------------------------------------------------------

SUCCESS_THRESHOLD = 0.70   # Gymnasium's reward_threshold for FrozenLake-v1 4x4
HORIZON = 100              # FrozenLake-v1's time limit


def success_within(P, policy, steps) -> np.ndarray:
    """The check's own oracle: the probability of reaching reward 1 within ``steps`` steps, from every state."""
    R, C = _arrays(P)
    idx = np.arange(len(P))
    r_pi, c_pi = R[idx, policy], C[idx, policy]
    V = np.zeros(len(P))
    for _ in range(steps):
        V = r_pi + c_pi @ V
    return V


@guarded("02.4", "pass the greedy policy of value iteration, its predicted success probability (success_within(P, "
                 "policy, 100)[0]) and the array of returns cu.evaluate gave")
def check_predicted_success(policy, predicted, returns, min_episodes: int = 5000) -> None:
    """Check the simulated success rate of ``policy`` on FrozenLake-v1 reaches SUCCESS_THRESHOLD and agrees with
    ``predicted``, its probability of success within the 100-step limit, to within 4 standard errors."""
    ex = "02.4"
    P = frozen_lake()
    policy = np.asarray(policy)
    if policy.shape != (16,) or policy.dtype.kind not in "iu":
        fail(ex, f"policy has shape {policy.shape} and dtype {policy.dtype}", "pass the int array of 16 actions "
             "that greedy_policy gave")
    returns = np.asarray(returns, dtype=float)
    if returns.ndim != 1 or returns.size < min_episodes:
        fail(ex, f"got {returns.size} returns, expected at least {min_episodes}",
             f"simulate at least {min_episodes} episodes: fewer give a standard error too large to compare with")
    if not np.isin(returns, (0.0, 1.0)).all():
        fail(ex, "the returns are not all 0 or 1", "pass the returns of FrozenLake-v1 episodes, as cu.evaluate gives")
    if not isinstance(predicted, numbers.Real) and not (isinstance(predicted, np.ndarray) and predicted.shape == ()):
        fail(ex, f"predicted is a {type(predicted).__name__}", "pass one number, the start state's probability")
    predicted = float(predicted)
    truth = success_within(P, policy, HORIZON)[0]
    if abs(predicted - truth) > 1e-6:
        if abs(predicted - _evaluate(P, policy, 0.99)[0]) < 1e-4 or abs(predicted - _optimal(P, 0.99)[0][0]) < 1e-4:
            what = "predicted is the discounted value V(start) with gamma = 0.99, not a probability of success"
        elif abs(predicted - _evaluate(P, policy, 1.0 - 1e-12)[0]) < 1e-4:
            what = "predicted is the probability of success with no time limit"
        elif any(abs(predicted - success_within(P, policy, k)[0]) < 1e-9 for k in (98, 99, 101, 102)):
            what = "predicted counts another number of steps than the 100 of the time limit"
        else:
            what = f"predicted = {predicted:.4f}, but this policy succeeds within 100 steps with probability {truth:.4f}"
        fail(ex, what, "success_within(P, policy, 100): 100 two-array sweeps with gamma = 1 from V = 0, read at the "
                       "start state 0")
    rate, n = returns.mean(), returns.size
    if rate < SUCCESS_THRESHOLD:
        fail(ex, f"success rate {rate:.3f} over {n} episodes is below {SUCCESS_THRESHOLD}",
             "pass the greedy policy of value iteration's V*, evaluated on FrozenLake-v1 as it is (slippery)")
    error = np.sqrt(truth * (1 - truth) / n)
    if abs(rate - truth) > 4 * error:
        fail(ex, f"success rate {rate:.3f} over {n} episodes is more than 4 standard errors ({4 * error:.3f}) from "
                 f"the predicted {truth:.3f}",
             "simulate the same policy that was predicted, on FrozenLake-v1 with its 100-step limit")
    passed(ex, 3, f"Success rate over {min_episodes:,}+ episodes >= {SUCCESS_THRESHOLD}, within 4 standard errors "
                  "of the prediction.")
