"""The checks' promise to a student: every rejection names the exercise and gives a hint,
even when the student's code itself raises (a wrong unpacking, a NumPy or TensorFlow
error); an untouched stub keeps its own message."""
import re
import textwrap

import pytest

from course_utils import checks
from course_utils.checks import lesson01, lesson02, lesson03, lesson06


def student(source: str, name: str):
    """Define the student's function from ``source`` as a notebook cell would, and return it."""
    namespace = {"np": __import__("numpy"), "keras": __import__("keras"), "tf": __import__("tensorflow")}
    exec(compile(textwrap.dedent(source), "<student cell>", "exec"), namespace)  # noqa: S102
    return namespace[name]


RUN_EPISODE_OLD_GYM = """
def run_episode(env, policy, seed=None):
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, done, info = env.step(policy(obs))
        total += reward
    return total
"""
RUN_EPISODE = """
def run_episode(env, policy, seed=None):
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += reward
        done = terminated or truncated
    return total
"""
RUN_EPISODE_NO_UNPACK = RUN_EPISODE.replace("obs, _ = env.reset(seed=seed)", "obs = env.reset(seed=seed)")
LINEAR_NO_SUM = """
def linear_policy(weights):
    return lambda obs: (weights * obs > 0).astype(int)
"""
SEARCH_NONE_START = """
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    best_weights, best_score = None, None
    for _ in range(n_candidates):
        weights = rng.uniform(-1, 1, size=4)
        score = 0.0
        if score > best_score:
            best_weights, best_score = weights, score
    return best_weights, best_score
"""
UPDATE_TUPLE = """
def q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
    target = reward + (0.0 if terminated else gamma * np.max(Q[next_obs]))
    td_error = target - Q[obs, action]
    Q[obs, action] += alpha * td_error
    return td_error, Q[obs, action]
"""
NETWORK_INT_SHAPE = """
def build_q_network(obs_dim, n_actions, hidden_units=(64, 64)):
    inputs = keras.Input(shape=obs_dim)
    x = inputs
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(n_actions)(x))
"""
RETURNS_OWN_ASSERT = """
def discounted_returns(rewards, gamma):
    assert isinstance(rewards, np.ndarray), "rewards must be an array"
    return rewards
"""


@pytest.mark.parametrize("check, args, source, name, message", [
    (lesson01.check_run_episode, (), RUN_EPISODE_OLD_GYM, "run_episode",
     r"Exercise 01\.1: your code raised ValueError: too many values to unpack \(expected 4\) "
     r"\(in run_episode, line 6\)\nHint: env\.reset\(seed=seed\) returns \(obs, info\) and env\.step"),
    (lesson01.check_run_episode, (), RUN_EPISODE_NO_UNPACK, "run_episode",
     r"Exercise 01\.1: your code raised .*\nHint: env\.reset\(seed=seed\) returns \(obs, info\)"),
    (lesson01.check_linear_policy, (), LINEAR_NO_SUM, "linear_policy",
     r"Exercise 01\.2: the policy returned ndarray array\(\[.*\]\)\nHint: CartPole's env\.step wants an int"),
    (lesson02.check_q_learning_update, (), UPDATE_TUPLE, "q_learning_update",
     r"Exercise 02\.3: .*\nHint: "),
    (lesson03.check_build_q_network, (), NETWORK_INT_SHAPE, "build_q_network",
     r"Exercise 03\.1: your code raised .*\(in build_q_network, line 3\)\nHint: keras\.Input\(\(obs_dim,\)\)"),
    (lesson06.check_discounted_returns, (), RETURNS_OWN_ASSERT, "discounted_returns",
     r"Exercise 06\.1: your code failed an assertion: rewards must be an array \(in discounted_returns, line 3\)\n"
     r"Hint: loop backwards"),
], ids=["01.1-gym-4-tuple", "01.1-reset-not-unpacked", "01.2-no-dot-product", "02.3-returns-tuple",
        "03.1-int-shape", "06.1-own-assert"])
def test_an_error_in_the_student_code_becomes_a_course_message(check, args, source, name, message):
    with pytest.raises(AssertionError, match=message):
        check(student(source, name), *args)


def test_a_search_that_compares_with_none_is_named():
    search = student(SEARCH_NONE_START, "random_search")
    run_episode = student(RUN_EPISODE, "run_episode")
    with pytest.raises(AssertionError, match=r"Exercise 01\.3: your code raised TypeError: '>' not supported .*"
                                             r"\(in random_search, line 7\)\nHint: .*start from best_score = -inf"):
        lesson01.check_random_search(search, run_episode, lambda w: (lambda obs: int(w @ obs > 0)))


def test_an_untouched_stub_and_the_check_s_own_failures_pass_through():
    def stub(rewards, gamma):
        raise NotImplementedError("Exercise 06.1: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 06.1: write your code here"):
        lesson06.check_discounted_returns(stub)
    with pytest.raises(AssertionError, match=r"^Exercise 06\.1: .*the sums run forwards\nHint: the return to go"):
        lesson06.check_discounted_returns(lambda rewards, gamma: __import__("numpy").cumsum(rewards))


def test_every_check_of_every_lesson_is_guarded():
    import importlib
    import pkgutil

    unguarded = []
    for info in pkgutil.iter_modules(checks.__path__):
        if not re.fullmatch(r"lesson\d\d", info.name):
            continue
        module = importlib.import_module(f"course_utils.checks.{info.name}")
        for name in dir(module):
            if name.startswith("check_") and not hasattr(getattr(module, name), "__wrapped__"):
                unguarded.append(f"{info.name}.{name}")
    assert unguarded == []

LINEAR = "def linear_policy(weights):\n    return lambda obs: int(weights @ obs > 0)\n"
SEARCH = """
def random_search(env, n_candidates, rng, episodes_per_candidate=1):
    best_weights, best_score = None, -np.inf
    for _ in range(n_candidates):
        weights = DRAW
        policy = linear_policy(weights)
        score = SCORE
        if score > best_score:
            best_weights, best_score = weights, float(score)
    return best_weights, best_score
"""
MEAN = "np.mean([run_episode(env, policy) for _ in range(episodes_per_candidate)])"
UNIFORM = "rng.uniform(-1.0, 1.0, size=4)"


def search(draw=UNIFORM, score=MEAN, before=""):
    namespace = {"np": __import__("numpy")}
    for source in (RUN_EPISODE, LINEAR):
        exec(source, namespace)  # noqa: S102
    exec(before + SEARCH.replace("DRAW", draw).replace("SCORE", score), namespace)  # noqa: S102
    return namespace["random_search"], namespace["run_episode"], namespace["linear_policy"]


@pytest.mark.parametrize("kwargs, message", [
    ({"score": "max(run_episode(env, policy) for _ in range(episodes_per_candidate))"}, "is one lucky episode"),
    ({"score": "[run_episode(env, policy) for _ in range(episodes_per_candidate)][0]"},
     "is the first episode of a candidate only"),
    ({"draw": "FIXED", "before": "import numpy as _np\nFIXED = _np.random.default_rng(0).uniform(-1, 1, 4)\n"},
     "scored exactly the same|the same rng seed gave other weights, or another seed the same ones"),
    ({"draw": "rng.random(4)"}, "every weight drawn was >= 0"),
    ({"score": "np.mean([run_episode(env, policy, seed=0) for _ in range(episodes_per_candidate)])"},
     r"each candidate's 2 episodes were all reset with the same seed \(0\)"),
    ({}, None),
    ({"draw": "rng.normal(size=4)"}, None),   # question 2 of the lesson invites trying a normal draw
])
def test_random_search_mistakes_are_named(kwargs, message, capsys):
    if message is None:
        lesson01.check_random_search(*search(**kwargs))
        assert "Exercise 01.3: passed" in capsys.readouterr().out
    else:
        with pytest.raises(AssertionError, match=rf"Exercise 01\.3: .*({message})"):
            lesson01.check_random_search(*search(**kwargs))


@pytest.mark.parametrize("body, message", [
    ("return np.bool_(weights @ obs > 0)", "the policy returned bool"),
    ("return bool(weights @ obs > 0)", None),   # a Python bool is an int: env.step(True) pushes right
    ("return float(weights @ obs > 0)", "the policy returned float 0.0"),
    ("return 1 / (1 + np.exp(-weights @ obs))", "the policy returned float64"),
    ("return np.array(int(weights @ obs > 0))", None),   # a 0-d int array is an action env.step takes
    ("return int(np.argmax([0.0, weights @ obs]))", None),
])
def test_linear_policy_must_return_an_int_action(body, message, capsys):
    make = student(f"def linear_policy(weights):\n    def policy(obs):\n        {body}\n    return policy\n",
                   "linear_policy")
    if message is None:
        lesson01.check_linear_policy(make)
        assert "Exercise 01.2: passed" in capsys.readouterr().out
    else:
        with pytest.raises(AssertionError, match=rf"Exercise 01\.2: {message}.*\nHint: CartPole's env\.step wants an int"):
            lesson01.check_linear_policy(make)


def test_the_binning_wrapper_must_use_its_arguments():
    from course_utils.lessons.lesson02 import DiscretizeObservation

    class LessonNumbers(DiscretizeObservation):
        def __init__(self, env, bins, low, high):
            super().__init__(env, bins, lesson02.LOW, lesson02.HIGH)   # ignores low and high

    with pytest.raises(AssertionError, match=r"Exercise 02\.1: with bins \(2, 3, 4, 5\).*\nHint: use the bins, low and "
                                             r"high given to __init__"):
        lesson02.check_discretize(LessonNumbers)


def test_epsilon_greedy_must_break_ties_with_the_rng_it_is_given():
    import numpy as np

    def numpy_ties(q_values, epsilon, rng):
        if rng.random() < epsilon:
            return int(rng.integers(len(q_values)))
        return int(np.random.choice(np.flatnonzero(q_values == q_values.max())))

    with pytest.raises(AssertionError, match=r"Exercise 02\.2: the same rng seed gave different actions"):
        lesson02.check_epsilon_greedy(numpy_ties)


def test_td_targets_must_work_inside_tf_function():
    import numpy as np

    def numpy_targets(rewards, next_q_values, terminated, gamma):
        return rewards + gamma * (1.0 - terminated) * np.max(next_q_values, axis=1)

    with pytest.raises(AssertionError, match=r"Exercise 03\.2: td_targets fails inside tf\.function.*\nHint: use "
                                             r"TensorFlow operations"):
        lesson03.check_td_targets(numpy_targets)


def test_a_hard_update_the_wrong_way_round_is_named():
    from course_utils.checks import lesson04

    with pytest.raises(AssertionError, match=r"Exercise 04\.1: the online network received the target's weights"):
        lesson04.check_hard_update(lambda target, online: online.set_weights(target.get_weights()))


def test_the_course_message_is_not_chained_to_the_library_traceback():
    with pytest.raises(AssertionError) as caught:
        lesson01.check_run_episode(student(RUN_EPISODE_OLD_GYM, "run_episode"))
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_the_student_frame_is_found_wherever_the_notebook_runs(tmp_path, monkeypatch):
    """A cell has a file name like <ipython-input-3> or /tmp/ipykernel_1/2.py; either is the student's."""
    monkeypatch.chdir(checks.__file__.rsplit("/", 2)[0])   # a notebook run from inside the package folder
    with pytest.raises(AssertionError, match=r"\(in run_episode, line 6\)"):
        lesson01.check_run_episode(student(RUN_EPISODE_OLD_GYM, "run_episode"))
    cell = tmp_path / "ipykernel_1" / "2.py"
    cell.parent.mkdir()
    cell.write_text(textwrap.dedent(RUN_EPISODE_OLD_GYM))
    namespace = {}
    exec(compile(cell.read_text(), str(cell), "exec"), namespace)  # noqa: S102
    with pytest.raises(AssertionError, match=r"\(in run_episode, line 6\)"):
        lesson01.check_run_episode(namespace["run_episode"])
