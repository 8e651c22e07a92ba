"""The checks' promise to a student: every rejection names the exercise and gives a hint,
even when the student's code itself raises (a wrong unpacking, a NumPy or TensorFlow
error); an untouched stub keeps its own message."""
import re
import textwrap

import pytest

from course_utils import checks
from course_utils.checks import lesson01, lesson03, lesson04, lesson07


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
    (lesson03.check_q_learning_update, (), UPDATE_TUPLE, "q_learning_update",
     r"Exercise 03\.3: .*\nHint: "),
    (lesson04.check_build_q_network, (), NETWORK_INT_SHAPE, "build_q_network",
     r"Exercise 04\.1: your code raised .*\(in build_q_network, line 3\)\nHint: keras\.Input\(\(obs_dim,\)\)"),
    (lesson07.check_discounted_returns, (), RETURNS_OWN_ASSERT, "discounted_returns",
     r"Exercise 07\.1: your code failed an assertion: rewards must be an array \(in discounted_returns, line 3\)\n"
     r"Hint: loop backwards"),
], ids=["01.1-gym-4-tuple", "01.1-reset-not-unpacked", "01.2-no-dot-product", "03.3-returns-tuple",
        "04.1-int-shape", "07.1-own-assert"])
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
        raise NotImplementedError("Exercise 07.1: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 07.1: write your code here"):
        lesson07.check_discounted_returns(stub)
    with pytest.raises(AssertionError, match=r"^Exercise 07\.1: .*the sums run forwards\nHint: the return to go"):
        lesson07.check_discounted_returns(lambda rewards, gamma: __import__("numpy").cumsum(rewards))


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
    from course_utils.lessons.lesson03 import DiscretizeObservation

    class LessonNumbers(DiscretizeObservation):
        def __init__(self, env, bins, low, high):
            super().__init__(env, bins, lesson03.LOW, lesson03.HIGH)   # ignores low and high

    with pytest.raises(AssertionError, match=r"Exercise 03\.1: with bins \(2, 3, 4, 5\).*\nHint: use the bins, low and "
                                             r"high given to __init__"):
        lesson03.check_discretize(LessonNumbers)


def test_epsilon_greedy_must_break_ties_with_the_rng_it_is_given():
    import numpy as np

    def numpy_ties(q_values, epsilon, rng):
        if rng.random() < epsilon:
            return int(rng.integers(len(q_values)))
        return int(np.random.choice(np.flatnonzero(q_values == q_values.max())))

    with pytest.raises(AssertionError, match=r"Exercise 03\.2: the same rng seed gave different actions"):
        lesson03.check_epsilon_greedy(numpy_ties)


def test_td_targets_must_work_inside_tf_function():
    import numpy as np

    def numpy_targets(rewards, next_q_values, terminated, gamma):
        return rewards + gamma * (1.0 - terminated) * np.max(next_q_values, axis=1)

    with pytest.raises(AssertionError, match=r"Exercise 04\.2: td_targets fails inside tf\.function.*\nHint: use "
                                             r"TensorFlow operations"):
        lesson04.check_td_targets(numpy_targets)


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


# --- messages that describe what the student's code did, not what the check's processing tripped on ---

def _reference(module: str):
    import importlib

    return importlib.import_module(f"course_utils.lessons.{module}")


@pytest.mark.parametrize("loss, message", [
    ("tf.square(tf.stop_gradient(targets) - q_taken)",
     r"the loss has shape \(32,\), expected a scalar \(shape \(\)\) for a batch of 32\nHint: you returned one error "
     r"per transition"),
    ("tf.reduce_mean(tf.square(tf.stop_gradient(targets) - q_taken[:, None]), axis=1)",
     r"the loss has shape \(32,\), expected a scalar"),
    ("tf.square(tf.stop_gradient(targets) - q_taken[:, None])",
     r"the loss has shape \(32, 32\), expected a scalar .*\nHint: .*broadcast them to \(batch, batch\)"),
    ("(keras.losses.Huber()(tf.stop_gradient(targets), q_taken), q_taken)",
     r"returned tuple, expected the loss as a scalar tensor"),
])
def test_a_loss_of_the_wrong_shape_says_which_shape(loss, message):
    dqn_loss = student(f"""
    def dqn_loss(q_network, batch, targets):
        q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
        return {loss}
    """, "dqn_loss")
    with pytest.raises(AssertionError, match=rf"^Exercise 04\.3: {message}"):
        lesson04.check_dqn_loss(dqn_loss)


@pytest.mark.parametrize("returned, message", [
    ("td_error, Q[obs, action]", r"returned tuple \(.*\), expected the TD error as one float"),
    ("[td_error]", r"returned list \[.*\], expected the TD error as one float"),
    ("{'td_error': td_error}", r"returned dict .*, expected the TD error as one float"),
    ("None", r"returned NoneType None, expected the TD error as one float"),
    ("np.array([td_error])", r"returned ndarray array\(\[.*\]\), expected the TD error as one float"),
    ("Q", r"returned ndarray array\(\[\[[^\n]*\.\.\., expected the TD error as one float"),
])
def test_q_learning_update_names_what_it_returned(returned, message):
    update = student(f"""
    def q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
        target = reward + (0.0 if terminated else gamma * np.max(Q[next_obs]))
        td_error = target - Q[obs, action]
        Q[obs, action] += alpha * td_error
        return {returned}
    """, "q_learning_update")
    with pytest.raises(AssertionError, match=rf"^Exercise 03\.3: {message}\nHint: update Q in place and return only"):
        lesson03.check_q_learning_update(update)


@pytest.mark.parametrize("returned", ["np.float32(td_error)", "np.array(td_error)", "td_error"])
def test_q_learning_update_accepts_any_one_number(returned, capsys):
    update = student(f"""
    def q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
        target = reward + (0.0 if terminated else gamma * np.max(Q[next_obs]))
        td_error = target - Q[obs, action]
        Q[obs, action] += alpha * td_error
        return {returned}
    """, "q_learning_update")
    lesson03.check_q_learning_update(update)
    assert "Exercise 03.3: passed (8 cases checked)." in capsys.readouterr().out


def test_swapped_alpha_is_named():
    update = student("""
    def q_learning_update(Q, obs, action, reward, next_obs, terminated, alpha, gamma):
        target = reward + (0.0 if terminated else gamma * np.max(Q[next_obs]))
        td_error = target - Q[obs, action]
        Q[obs, action] = alpha * Q[obs, action] + (1 - alpha) * target
        return td_error
    """, "q_learning_update")
    with pytest.raises(AssertionError, match=r"^Exercise 03\.3: with alpha=0\.1 Q\[obs, action\] moved by \(1 - alpha\) "
                                             r"\* td_error .*: alpha and 1 - alpha are swapped\nHint: "):
        lesson03.check_q_learning_update(update)


@pytest.mark.parametrize("returns, message", [
    ({"returns": [500.0] * 100}, r"got dict, expected an array of 100 returns"),
    (None, r"got NoneType, expected an array of 100 returns"),
    ("500", r"got str, expected an array of 100 returns"),
    (([500.0] * 100, [500] * 100), r"the returns have shape \(2, 100\), expected shape \(100,\)"),
    ([[500.0]] * 100, r"the returns have shape \(100, 1\), expected shape \(100,\)\nHint: .*\(flatten it\)"),
    ([500.0] * 10, r"got 10 returns, expected 100"),
    (["a"] * 100, r"got a list that is not an array of numbers"),
])
@pytest.mark.parametrize("check", [lesson01.check_solved, lesson04.check_solved], ids=["01.4", "04.6"])
def test_solved_checks_name_what_they_were_given(check, returns, message):
    exercise = "01.4" if check is lesson01.check_solved else "04.6"
    with pytest.raises(AssertionError, match=rf"^Exercise {re.escape(exercise)}: {message}"):
        check(returns)


def test_solved_checks_accept_a_list_or_an_array(capsys):
    import numpy as np

    lesson01.check_solved([500.0] * 100)
    lesson04.check_solved(np.full(100, 480, dtype=np.int64))
    assert capsys.readouterr().out.count("CartPole-v1 is solved.") == 2


TRAIN_STEP = """
def dqn_train_step(q_network, optimizer, batch, gamma, target_network=None):
    bootstrap = q_network if target_network is None else target_network
    next_max = tf.reduce_max(bootstrap(batch.NEXT), axis=1)
    targets = TARGETS
    with tf.GradientTape() as tape:
        loss = dqn_loss(q_network, batch, targets)
    grads = tape.gradient(loss, q_network.trainable_variables)
    optimizer.apply_gradients(zip(grads, q_network.trainable_variables))
    return RETURNED
"""


@pytest.mark.parametrize("targets, next_obs, returned, message", [
    ("batch.rewards + gamma * next_max", "next_obs", "loss",
     r"the targets bootstrap from terminated transitions\nHint: multiply gamma \* max Q\(s', a'\) by \(1 - batch\.terminated\)"),
    ("batch.rewards + (1 - batch.terminated) * next_max", "next_obs", "loss", r"the targets are not discounted"),
    ("batch.rewards + gamma * (1 - batch.terminated) * next_max", "obs", "loss", r"the targets were computed from batch\.obs"),
    ("batch.rewards", "next_obs", "loss", r"the targets are the rewards alone"),
    ("batch.rewards - gamma * (1 - batch.terminated) * next_max", "next_obs", "loss",
     r"the weights moved differently from one correct step: the targets \(first three expected: "
     r"-?\d+\.\d{3}, -?\d+\.\d{3}, -?\d+\.\d{3}\) or the loss differ\nHint: targets = "),
    ("batch.rewards + gamma * (1 - batch.terminated) * next_max", "next_obs", "dqn_loss(q_network, batch, targets)",
     r"expected the loss .*; the gradient step itself is right\nHint: return the loss computed inside the GradientTape"),
    ("batch.rewards + gamma * (1 - batch.terminated) * next_max", "next_obs", "grads",
     r"returned list of shape \(4,\), expected the loss \(one number\)"),
    ("batch.rewards + gamma * (1 - batch.terminated) * next_max", "next_obs", "None", r"returned None, expected the loss"),
])
def test_wrong_targets_in_the_training_step_get_a_targets_hint(targets, next_obs, returned, message):
    dqn_loss = _reference("lesson04").dqn_loss
    step = student(TRAIN_STEP.replace("NEXT", next_obs).replace("TARGETS", targets).replace("RETURNED", returned),
                   "dqn_train_step")
    step.__globals__["dqn_loss"] = dqn_loss
    with pytest.raises(AssertionError, match=rf"^Exercise 04\.4: .*{message}"):
        lesson04.check_dqn_train_step(step, dqn_loss, _reference("lesson04").td_targets)


def test_the_training_step_with_a_squared_loss_passes(capsys):
    lesson04_reference = _reference("lesson04")
    squared = student("""
    def dqn_loss(q_network, batch, targets):
        q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
        return tf.reduce_mean(tf.square(tf.stop_gradient(targets) - q_taken))
    """, "dqn_loss")
    step = student(TRAIN_STEP.replace("NEXT", "next_obs").replace("RETURNED", "loss").replace(
        "TARGETS", "td_targets(batch.rewards, bootstrap(batch.next_obs), batch.terminated, gamma)"), "dqn_train_step")
    step.__globals__.update(dqn_loss=squared, td_targets=lesson04_reference.td_targets)
    lesson04.check_dqn_train_step(step, squared, lesson04_reference.td_targets)
    assert "Exercise 04.4: passed" in capsys.readouterr().out


def test_a_tf_function_error_keeps_its_message_and_the_student_line(tmp_path):
    """Inside tf.function TensorFlow lists the traced frames first and the real message last."""
    import importlib.util

    cell = tmp_path / "ipykernel_7" / "4.py"
    cell.parent.mkdir()
    cell.write_text("import numpy as np\n\n\ndef td_targets(rewards, next_q_values, terminated, gamma):\n"
                    "    return rewards + gamma * (1.0 - terminated) * np.max(next_q_values, axis=1)\n")
    spec = importlib.util.spec_from_file_location("cell", cell)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(AssertionError) as caught:
        lesson04.check_td_targets(module.td_targets)
    first = str(caught.value).splitlines()[0]
    assert first.startswith("Exercise 04.2: td_targets fails inside tf.function, where the training step calls it: "
                            "it raised NotImplementedError: Cannot convert a symbolic tf.Tensor")
    assert first.endswith("(in td_targets, line 5)") and "File " not in first and "in user code" not in first


def test_tidy_keeps_the_error_line_of_a_traced_function():
    import tensorflow as tf

    library = tf.__file__.rsplit("/", 1)[0] + "/ops.py"
    err = ValueError('in user code:\n\n    File "/tmp/ipykernel_1/3.py", line 8, in h  *\n        return a + b\n'
                     f'    File "{library}", line 99, in add  **\n'
                     "        return x\n\n    ValueError: Dimensions must be equal, but are 3 and 4 for "
                     "'{{node add}} = AddV2[T=DT_FLOAT](a, b)' with input shapes: [3], [4].\n")
    assert checks._tidy(err) == ("Dimensions must be equal, but are 3 and 4 for '= AddV2[T=DT_FLOAT](a, b)' "
                                 "with input shapes: [3], [4].")
    assert checks.describe(err) == ("raised ValueError: Dimensions must be equal, but are 3 and 4 for "
                                    "'= AddV2[T=DT_FLOAT](a, b)' with input shapes: [3], [4]. (in h, line 8)")


def test_a_loop_that_never_resets_gets_a_reset_hint():
    no_reset = student("""
    def run_episode(env, policy, seed=None):
        obs, total, done = np.zeros(4), 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += reward
            done = terminated or truncated
        return total
    """, "run_episode")
    with pytest.raises(AssertionError, match=r"^Exercise 01\.1: the loop called env\.step\(\) before env\.reset\(\).*\n"
                                             r"Hint: start every episode with obs, info = env\.reset\(seed=seed\)"):
        lesson01.check_run_episode(no_reset)


def test_call_and_guarded_share_one_rule():
    def numpy_in_graph(x):
        import numpy as np
        import tensorflow as tf

        return tf.function(lambda t: np.max(t))(tf.constant(x))

    # NumPy on a symbolic tensor raises NotImplementedError: the student's error, not an untouched stub
    with pytest.raises(AssertionError, match=r"^Exercise 09\.1: numpy_in_graph raised NotImplementedError: .*\nHint: h"):
        checks.call("09.1", numpy_in_graph, [1.0, 2.0], hint="h")
    with pytest.raises(AssertionError) as caught:
        checks.call("09.1", lambda: [].pop(), hint="h")
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    with pytest.raises(NotImplementedError, match="Exercise 09.1: write your code here"):
        checks.call("09.1", lambda: (_ for _ in ()).throw(NotImplementedError("Exercise 09.1: write your code here")),
                    hint="h")


def test_the_library_folders_are_computed_once():
    checks._library_folders.cache_clear()
    for _ in range(3):
        with pytest.raises(AssertionError):
            lesson01.check_run_episode(student(RUN_EPISODE_OLD_GYM, "run_episode"))
    info = checks._library_folders.cache_info()
    assert info.misses == 1 and info.hits >= 2


def noisy(fn):
    """Wrap a correct function so that it prints, warns, logs and writes to fd 2 on every call."""
    import logging
    import os
    import sys
    import warnings

    def wrapper(*args):
        print("debug", args[:1])
        warnings.warn("just looking")
        logging.getLogger("student").error("a log line")
        sys.stderr.write("e" * 50_000 + "\n")
        os.write(2, b"a line from C code\n")
        return fn(*args)
    return wrapper


def test_a_correct_answer_that_prints_warns_and_logs_shows_only_the_verdict(capfd):
    import logging

    from course_utils.checks import lesson03
    from course_utils.lessons.lesson03 import epsilon_greedy

    logging.basicConfig()
    lesson03.check_epsilon_greedy(noisy(epsilon_greedy))
    out, err = capfd.readouterr()
    assert out == "Exercise 03.2: passed (7 cases checked).\n" and err == ""


def test_a_wrong_answer_that_printed_says_so_after_the_hint(capfd):
    from course_utils.checks import lesson03

    with pytest.raises(AssertionError) as err:
        lesson03.check_epsilon_greedy(noisy(lambda q, e, rng: int(q.argmax())))
    text = str(err.value)
    assert text.startswith("Exercise 03.2: ") and "\nHint: " in text
    assert "(While the check ran, your code printed or warned " in text and "'debug (array(" in text
    assert capfd.readouterr() == ("", "")


def test_the_hidden_output_is_kept_short_whatever_its_size():
    from course_utils.checks import KEEP, hush

    with hush() as heard:
        for _ in range(200):
            print("x" * 10_000)
    assert heard.out.count == 200 and len(heard.out.getvalue()) == KEEP
    assert "200 line(s)" in heard.note()
