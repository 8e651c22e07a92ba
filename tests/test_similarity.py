"""The class similarity report: a planted pair (one student's lesson 01 renamed and reformatted by another) comes
first, four honest students written independently are not listed, and a copy of the published solution is."""
import csv
import re
from pathlib import Path

import nbformat
import pytest
from demo_course import cell_index, read

from course_utils.instructor.similarity import LISTED, SOLUTION, fingerprints, normalised, write_similarity

ROOT = Path(__file__).resolve().parents[1]
LESSON01 = "01_gymnasium_random_search.ipynb"

# Each student's three exercise cells (01.1 run_episode, 01.2 linear_policy, 01.3 random_search), all correct.
ANA = {
    "01.1": '''
def run_episode(env, policy, seed=None):
    """Play one episode with `policy` (observation -> action); return its total reward."""
    observation, info = env.reset(seed=seed)
    episode_return = 0.0
    while True:
        action = policy(observation)
        observation, r, term, trunc, info = env.step(action)
        episode_return = episode_return + r
        if term or trunc:
            break
    return float(episode_return)
''',
    "01.2": '''
def linear_policy(weights):
    """Return a policy obs -> action that pushes right (1) when weights @ obs > 0, else left (0)."""
    w = np.array(weights, dtype=np.float64)
    return lambda observation: 1 if float(np.dot(w, observation)) > 0.0 else 0
''',
    "01.3": '''
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    """Return (best_weights, best_score) over n_candidates random linear policies."""
    top_w = None
    top_score = float("-inf")
    dims = env.observation_space.shape[0]
    for candidate in range(n_candidates):
        w = rng.uniform(-1, 1, size=dims)
        returns = []
        for episode in range(episodes_per_candidate):
            returns.append(run_episode(env, linear_policy(w)))
        candidate_score = sum(returns) / len(returns)
        if candidate_score > top_score:
            top_score = candidate_score
            top_w = w
    return top_w, top_score
''',
}

def copied(code: str, renames: dict[str, str], edits: tuple = ()) -> str:
    """Return ``code`` as a copier hands it in: names replaced (whole words), then other edits to the text."""
    for old, new in renames.items():
        code = re.sub(rf"\b{old}\b", new, code)
    for old, new in edits:
        assert old in code, old
        code = code.replace(old, new)
    return code


DOCSTRING = re.compile(r'\n    """.*"""')
# Ben took Ana's notebook: other names, comments of his own, no docstrings, other line breaks and spacing.
BEN = {
    "01.1": copied(DOCSTRING.sub("\n    # reset first, then step until the episode is over", ANA["01.1"]),
                   {"observation": "o", "info": "_info", "episode_return": "G", "action": "a", "r": "rew",
                    "term": "done1", "trunc": "done2"},
                   (("seed=seed", "seed = seed"), ("env.step(a)", "env.step(\n            a\n        )"),
                    ("G = G + rew", "G = G + rew   # add up"))),
    "01.2": copied(DOCSTRING.sub("", ANA["01.2"]), {"w": "theta", "observation": "x"},
                   (("np.array(weights, ", "np.array(weights,\n                     "),)),
    "01.3": copied(DOCSTRING.sub("\n    # my random search", ANA["01.3"]),
                   {"top_w": "best", "top_score": "best_value", "dims": "n", "candidate": "i", "w": "params",
                    "returns": "scores", "episode": "j", "candidate_score": "value"}),
}

HONEST = {
    "cleo": {
        "01.1": '''
def run_episode(env, policy, seed=None):
    obs, _ = env.reset(seed=seed)
    rewards = []
    finished = False
    while not finished:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        rewards.append(reward)
        finished = terminated or truncated
    return float(np.sum(rewards))
''',
        "01.2": '''
class LinearPolicy:
    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=float)

    def __call__(self, obs):
        return int(self.weights.dot(obs) > 0)


def linear_policy(weights):
    return LinearPolicy(weights)
''',
        "01.3": '''
def score_of(env, weights, episodes):
    return np.mean([run_episode(env, linear_policy(weights)) for _ in range(episodes)])


def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    candidates = rng.uniform(-1.0, 1.0, size=(n_candidates, env.observation_space.shape[0]))
    scores = [score_of(env, c, episodes_per_candidate) for c in candidates]
    best = int(np.argmax(scores))
    return candidates[best], float(scores[best])
''',
    },
    "dev": {
        "01.1": '''
import itertools


def run_episode(env, policy, seed=None):
    state = env.reset(seed=seed)[0]
    total = 0
    for step in itertools.count():
        state, reward, terminated, truncated = env.step(policy(state))[:4]
        total += reward
        if terminated:
            return float(total)
        if truncated:
            return float(total)
''',
        "01.2": '''
def linear_policy(weights):
    weights = list(map(float, weights))

    def act(observation):
        activation = sum(wi * oi for wi, oi in zip(weights, observation))
        return int(activation > 0)
    return act
''',
        "01.3": '''
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    results = {}
    for k in range(n_candidates):
        weights = rng.uniform(low=-1, high=1, size=4)
        mean = np.mean([run_episode(env, linear_policy(weights)) for _ in range(episodes_per_candidate)])
        results[k] = (mean, weights)
    k_best = max(results, key=lambda k: results[k][0])
    return results[k_best][1], float(results[k_best][0])
''',
    },
    "eli": {
        "01.1": '''
def run_episode(env, policy, seed=None):
    """Sum of rewards of one episode."""
    o, info = env.reset(seed=seed)
    ret, steps = 0.0, 0
    terminated = truncated = False
    while not (terminated or truncated):
        a = int(policy(o))
        o, r, terminated, truncated, info = env.step(a)
        ret += float(r)
        steps += 1
    return ret
''',
        "01.2": '''
def linear_policy(weights):
    w = np.asarray(weights).astype(float).reshape(-1)
    def pi(o):
        z = np.asarray(o, dtype=float) @ w
        return 1 if z > 0 else 0
    return pi
''',
        "01.3": '''
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    size = env.observation_space.shape
    history = []
    for _ in range(n_candidates):
        w = rng.uniform(-1.0, 1.0, size=size)
        pol = linear_policy(w)
        avg = np.mean(np.array([run_episode(env, pol) for _ in range(episodes_per_candidate)]))
        history.append((float(avg), w))
    history.sort(key=lambda pair: pair[0])
    return history[-1][1], history[-1][0]
''',
    },
    "fay": {
        "01.1": '''
def run_episode(env, policy, seed=None):
    def steps():
        obs, _ = env.reset(seed=seed)
        while True:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            yield reward
            if terminated or truncated:
                return
    return float(sum(steps()))
''',
        "01.2": '''
def linear_policy(weights):
    coefficients = np.asarray(weights, dtype=float)
    return functools.partial(push_right_if_positive, coefficients)


def push_right_if_positive(coefficients, obs):
    return int(np.sign(coefficients @ obs) > 0)


import functools
''',
        "01.3": '''
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    best_pair = (None, -np.inf)
    i = 0
    while i < n_candidates:
        candidate = rng.uniform(-1, 1, env.observation_space.shape[0])
        total = 0.0
        for _ in range(episodes_per_candidate):
            total += run_episode(env, linear_policy(candidate))
        average = total / episodes_per_candidate
        best_pair = max(best_pair, (candidate, average), key=lambda p: p[1])
        i += 1
    return best_pair
''',
    },
}


def typed_again(exercise: str, renames: dict[str, str]) -> str:
    """Return the published solution of ``exercise`` as a student who typed it out again, with names of his own."""
    nb = read(ROOT / "solutions" / LESSON01)
    source = nb.cells[cell_index(nb, "exercise", exercise)].source
    return copied("\n" + DOCSTRING.sub("", source.split("\n", 1)[1]), renames)


# Gus typed the published solution out again
GUS = {"01.1": typed_again("01.1", {"obs": "o", "total": "g", "done": "over", "reward": "r", "terminated": "term",
                                    "truncated": "trunc"})}


def notebook(cells: dict[str, str]):
    nb = read(ROOT / "solutions" / LESSON01)
    for exercise, body in cells.items():
        nb.cells[cell_index(nb, "exercise", exercise)].source = f"# EXERCISE {exercise}" + body
    return nb


@pytest.fixture(scope="module")
def lesson01_class(tmp_path_factory):
    """The class's notebooks and the report rows that name them (the similarity file reads only those)."""
    folder = tmp_path_factory.mktemp("similar")
    rows = []
    for student, cells in {"ana": ANA, "ben": BEN, **HONEST, "gus": GUS}.items():
        path = folder / student / LESSON01
        path.parent.mkdir()
        nbformat.write(notebook(cells), path)
        rows += [{"student": student, "lesson": "01", "exercise": e, "status": "passed", "notebook": str(path)}
                 for e in ("01.1", "01.2", "01.3", "01.4")]
    paths = write_similarity(rows, folder / "grades.csv", ROOT / "grading")
    return paths, list(csv.DictReader(paths["csv"].open()))


def test_the_planted_pair_comes_first_with_its_exercises(lesson01_class):
    _, found = lesson01_class
    first = found[0]
    assert (first["kind"], first["student"], first["other"]) == ("pair", "ana", "ben")
    assert float(first["score"]) > 0.9 and first["exercises"] == "01.1 01.2 01.3"


def test_honest_students_are_not_listed(lesson01_class):
    _, found = lesson01_class
    pairs = [(r["student"], r["other"]) for r in found if r["kind"] == "pair"]
    assert pairs == [("ana", "ben")]


def test_a_copy_of_the_published_solution_is_listed_and_not_a_pair(lesson01_class):
    _, found = lesson01_class
    copies = [(r["student"], r["other"], r["exercises"]) for r in found if r["kind"] == "solution"]
    assert copies == [("gus", SOLUTION, "01.1 01.2 01.3")]   # 01.2 and 01.3 are the solution notebook's own


def test_the_page_reads_as_a_list_to_review(lesson01_class):
    paths, _ = lesson01_class
    page = paths["page"].read_text()
    assert "A list to review, not a verdict: no points were changed." in page
    assert "## Lesson 01" in page and "7 student(s), 21 pair(s) compared." in page
    assert "| ana and ben |" in page and "- gus: 01.1, 01.2, 01.3" in page


def test_names_comments_docstrings_and_layout_do_not_count():
    one = normalised('def f(x, y):\n    """Doc."""\n    # add\n    return np.sum(x) + y  # done\n')
    two = normalised('def g(a,\n      b):\n    return np.sum(a)+b\n')
    assert one == two == ["def", "_", "(", "_", ",", "_", ")", ":", ";", "{", "return", "_", ".", "sum", "(", "_",
                          ")", "+", "_", ";", "}"]
    assert normalised("print(len('a'))") == ["print", "(", "len", "(", "S", ")", ")", ";"]


def test_fingerprints_are_the_same_on_every_run_and_see_long_shared_runs():
    tokens = normalised(ANA["01.3"])
    assert fingerprints(tokens) == fingerprints(list(tokens))
    assert 0 < len(fingerprints(tokens)) < len(tokens)
    inserted = tokens[:30] + ["pass", ";"] * 5 + tokens[30:]   # other code in between: the rest is still found
    assert len(fingerprints(tokens) & fingerprints(inserted)) / len(fingerprints(tokens)) >= LISTED
