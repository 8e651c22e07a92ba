"""Lesson 05's checks pass the reference target updates and name each known mistake (exercise 05.1: hard and
soft updates together; 05.2: the runs that use them)."""
import pytest

pytest.importorskip("tensorflow")

from course_utils.checks import lesson05  # noqa: E402
from course_utils.lessons import lesson05 as taught  # noqa: E402
from mistake_bank import assert_passes, assert_rejected  # noqa: E402
from test_checks import student  # noqa: E402

HARD = "def hard_update(target, online):\n    {}\n"
SOFT = "def soft_update(target, online, tau):\n    {}\n"
SOFT_OK = "for t, o in zip(target.weights, online.weights):\n        t.assign(tau * o + (1 - tau) * t)"


def test_the_reference_updates_pass(capsys):
    lesson05.check_target_updates(taught.hard_update, taught.soft_update)
    assert capsys.readouterr().out == "Exercise 05.1: passed (8 cases checked).\n"


HARD_CORRECT = {
    "set_weights of get_weights": "target.set_weights(online.get_weights())",
    "assign per variable": "for t, o in zip(target.weights, online.weights):\n        t.assign(o)",
    "layer by layer": "for tl, ol in zip(target.layers, online.layers):\n        tl.set_weights([w.copy() for w in "
                      "ol.get_weights()])",
}
SOFT_CORRECT = {
    "tau * o + (1 - tau) * t": SOFT_OK,
    "t + tau * (o - t)": "for t, o in zip(target.weights, online.weights):\n        t.assign(t + tau * (o - t))",
    "assign_add": "for t, o in zip(target.variables, online.variables):\n        t.assign_add(tau * (o - t))",
    "keras.ops.lerp-like": "import keras\n    for t, o in zip(target.weights, online.weights):\n"
                           "        t.assign(keras.ops.add(keras.ops.multiply(1.0 - tau, t), keras.ops.multiply(tau, o)))",
}


@pytest.mark.parametrize("hard_name", HARD_CORRECT)
@pytest.mark.parametrize("soft_name", SOFT_CORRECT)
def test_other_correct_target_updates_pass(hard_name, soft_name, capsys):
    hard = student(HARD.format(HARD_CORRECT[hard_name]), "hard_update")
    soft = student(SOFT.format(SOFT_CORRECT[soft_name]), "soft_update")
    assert_passes(lambda pair: lesson05.check_target_updates(*pair), (hard, soft), "05.1", capsys)


# (hard_update body, soft_update body, what the message must name)
MISTAKES = {
    "copied the wrong way": ("online.set_weights(target.get_weights())", SOFT_OK,
                             "the online network received the target's weights"),
    "renamed, not copied": ("target = online", SOFT_OK, "the target's weights did not change"),
    "hard update as a blend": ("for t, o in zip(target.weights, online.weights):\n        t.assign(0.5 * o + 0.5 * t)",
                               SOFT_OK, "it became a blend of 50% online and 50% target weights"),
    "hard update scaled": ("target.set_weights([2 * w for w in online.get_weights()])", SOFT_OK,
                           "its first kernel weight is"),
    "kernels only": ("for t, o in zip(target.weights[::2], online.weights[::2]):\n        t.assign(o)", SOFT_OK,
                     "these weights were not copied"),
    "tau on the wrong side": ("target.set_weights(online.get_weights())",
                              "for t, o in zip(target.weights, online.weights):\n        t.assign((1 - tau) * o + tau * t)",
                              "the target moved by 1 - tau"),
    "biases left out": ("target.set_weights(online.get_weights())",
                        "for t, o in zip(target.weights[::2], online.weights[::2]):\n        t.assign(tau * o + (1 - tau) * t)",
                        "expected 0.1 * "),
    "NumPy, not in place": ("target.set_weights(online.get_weights())",
                            "target.set_weights([tau * o + (1 - tau) * t for o, t in zip(online.get_weights(), "
                            "target.get_weights())])", "soft_update fails inside tf.function"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_target_update_mistakes_are_named(name):
    hard_body, soft_body, message = MISTAKES[name]
    hard, soft = student(HARD.format(hard_body), "hard_update"), student(SOFT.format(soft_body), "soft_update")
    assert_rejected(lambda pair: lesson05.check_target_updates(*pair), (hard, soft), "05.1", message)


@pytest.mark.parametrize("given, message", [
    ([500.0] * 100, "got list, expected a dict with one array of returns per run"),
    (None, "got NoneType, expected a dict"),
    ({"hard": None, "soft": [500.0] * 100}, "the 'hard' run: got NoneType, expected an array of 100 returns"),
    ({"hard": [500.0] * 100, "soft": [[500.0]] * 100}, "the 'soft' run: the returns have shape (100, 1)"),
    ({"hard": [500.0] * 100}, "no returns for the 'soft' run"),
    ({"hard": [500.0] * 100, "soft": [200.0] * 100}, "the 'soft' run: mean return 200.0 over 100 episodes is below 475"),
])
def test_the_target_runs_check_names_what_it_was_given(given, message):
    assert_rejected(lesson05.check_targets_solve, given, "05.2", message)
