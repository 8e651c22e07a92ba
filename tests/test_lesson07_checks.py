"""Lesson 07's checks pass the reference pieces and correct variants, and name each plausible mistake."""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from course_utils.checks import lesson07  # noqa: E402
from mistake_bank import assert_rejected  # noqa: E402
from course_utils.lessons import lesson07 as reference  # noqa: E402


def test_reference_pieces_pass(capsys):
    lesson07.check_discounted_returns(reference.discounted_returns)
    lesson07.check_policy_gradient_loss(reference.policy_gradient_loss)
    out = capsys.readouterr().out
    assert out == "Exercise 07.1: passed (7 cases checked).\nExercise 07.2: passed (3 cases checked).\n"


def _loop(step, init="np.zeros(len(rewards))", after="returns"):
    """A backwards loop over the rewards with ``step`` computing ``future`` from rewards[t] and future."""
    namespace = {"np": np}
    exec(f"def discounted_returns(rewards, gamma):\n"  # noqa: S102
         f"    returns, future = {init}, 0.0\n"
         f"    for t in reversed(range(len(rewards))):\n"
         f"        {step}\n"
         f"    return {after}\n", namespace)
    return namespace["discounted_returns"]


def _appending(rewards, gamma):
    out, future = [], 0.0
    for r in reversed(rewards):
        future = r + gamma * future
        out.append(future)
    return np.array(out)      # forgot to reverse


def _forward(rewards, gamma):
    out, past = [], 0.0
    for r in rewards:
        past = r + gamma * past
        out.append(past)
    return np.array(out)


def _from_start(rewards, gamma):
    n = len(rewards)
    return np.array([sum(gamma ** k * rewards[k] for k in range(t, n)) for t in range(n)])


def _python_list(rewards, gamma):
    out, future = [], 0.0
    for r in reversed(rewards):
        future = r + gamma * future
        out.insert(0, future)
    return out


RETURNS_MISTAKES = {
    "forward cumulative sum": (lambda r, g: np.cumsum(r), "the sums run forwards"),
    "forward discounted loop": (_forward, "the sums run forwards"),
    "reversed cumulative sum, no discount": (lambda r, g: np.cumsum(r[::-1])[::-1].astype(float), "not discounted"),
    "every step gets G_0": (lambda r, g: np.full(len(r), reference.discounted_returns(r, g)[0]),
                            "the whole episode's return"),
    "not reversed back": (_appending, "reverse order"),
    "discount from the episode start": (_from_start, "the discount counts from the start"),
    "gamma on r_t too": (_loop("future = gamma * (rewards[t] + future); returns[t] = future"),
                         "multiplied by gamma once too often"),
    "leaves out r_t": (_loop("returns[t] = future; future = rewards[t] + gamma * future"), "leaves out r_t"),
    "only the total": (lambda r, g: float(reference.discounted_returns(r, g)[0]), "expected a NumPy array"),
    "python list": (_python_list, "returned list, expected a NumPy array"),
    "int array": (_loop("future = rewards[t] + gamma * future; returns[t] = future",
                        init="np.zeros(len(rewards), dtype=int)"), "returned integers"),
    "tensorflow tensor": (lambda r, g: tf.constant(reference.discounted_returns(r, g)), "returned EagerTensor"),
}


@pytest.mark.parametrize("name", RETURNS_MISTAKES)
def test_returns_to_go_mistakes_are_named(name):
    wrong, message = RETURNS_MISTAKES[name]
    assert_rejected(lesson07.check_discounted_returns, wrong, "07.1", message)


def _via_numpy_flip(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    powers = gamma ** np.arange(len(rewards))
    return np.cumsum((rewards * powers)[::-1])[::-1] / powers


RETURNS_VARIANTS = {
    "reference": reference.discounted_returns,
    "list then np.array": lambda r, g: np.array(_python_list(r, g)),
    "float32 array": lambda r, g: reference.discounted_returns(r, g).astype(np.float32),
    "discount matrix": lambda r, g: np.triu(g ** np.subtract.outer(np.arange(len(r)), np.arange(len(r))).T.clip(0)
                                            * (np.arange(len(r))[None, :] >= np.arange(len(r))[:, None])) @ np.asarray(r),
}


@pytest.mark.parametrize("name", RETURNS_VARIANTS)
def test_returns_to_go_variants_pass(name, capsys):
    lesson07.check_discounted_returns(RETURNS_VARIANTS[name])
    assert "Exercise 07.1: passed" in capsys.readouterr().out


def _taken(log_probs, actions):
    return tf.gather(log_probs, actions, axis=1, batch_dims=1)


PG_MISTAKES = {
    "sign flipped": (lambda z, a, w: tf.reduce_mean(_taken(tf.nn.log_softmax(z), a) * tf.stop_gradient(w)),
                     "the sign is flipped"),
    "sum, not mean": (lambda z, a, w: -tf.reduce_sum(_taken(tf.nn.log_softmax(z), a) * tf.stop_gradient(w)),
                      "a sum over the batch"),
    "probabilities": (lambda z, a, w: -tf.reduce_mean(_taken(tf.nn.softmax(z), a) * tf.stop_gradient(w)),
                      "uses probabilities"),
    "raw logits": (lambda z, a, w: -tf.reduce_mean(_taken(z, a) * tf.stop_gradient(w)), "raw logits"),
    "no weights": (lambda z, a, w: -tf.reduce_mean(_taken(tf.nn.log_softmax(z), a)), "ignores the weights"),
    "softmax over the batch": (lambda z, a, w: -tf.reduce_mean(_taken(tf.nn.log_softmax(z, axis=0), a)
                                                               * tf.stop_gradient(w)), "over the batch (axis 0)"),
    "every action's log-prob": (lambda z, a, w: -tf.reduce_mean(tf.nn.log_softmax(z) * tf.stop_gradient(w)[:, None]),
                                "of all actions"),
    "no stop_gradient": (lambda z, a, w: -tf.reduce_mean(_taken(tf.nn.log_softmax(z), a) * w),
                         "gradient into the weights"),
    "numpy inside": (lambda z, a, w: -np.mean(_taken(tf.nn.log_softmax(z), a).numpy() * np.asarray(w)),
                     "not a TensorFlow tensor"),
    "per-step losses": (lambda z, a, w: -_taken(tf.nn.log_softmax(z), a) * tf.stop_gradient(w),
                        "expected a scalar"),
    "gather without batch_dims": (lambda z, a, w: -tf.reduce_mean(tf.gather(tf.nn.log_softmax(z), a)
                                                                  * tf.stop_gradient(w)), "your code raised"),
    "len() of a tensor": (lambda z, a, w: -tf.reduce_sum(_taken(tf.nn.log_softmax(z), a) * tf.stop_gradient(w))
                          / len(a), "fails inside tf.function"),
    "returns the log-probs too": (lambda z, a, w: (-tf.reduce_mean(_taken(tf.nn.log_softmax(z), a) * w),
                                                   tf.nn.log_softmax(z)), "returned tuple"),
}


@pytest.mark.parametrize("name", PG_MISTAKES)
def test_policy_gradient_loss_mistakes_are_named(name):
    wrong, message = PG_MISTAKES[name]
    assert_rejected(lesson07.check_policy_gradient_loss, wrong, "07.2", message)


PG_VARIANTS = {
    "log of softmax": lambda z, a, w: -tf.reduce_mean(_taken(tf.math.log(tf.nn.softmax(z)), a) * tf.stop_gradient(w)),
    "one-hot": lambda z, a, w: -tf.reduce_mean(tf.reduce_sum(tf.one_hot(a, tf.shape(z)[1]) * tf.nn.log_softmax(z), 1)
                                               * tf.stop_gradient(w)),
    "sparse cross-entropy": lambda z, a, w: tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=a, logits=z) * tf.stop_gradient(w)),
    "keras ops": lambda z, a, w: -keras.ops.mean(keras.ops.take_along_axis(
        keras.ops.log_softmax(z), keras.ops.expand_dims(a, 1), axis=1)[:, 0] * keras.ops.stop_gradient(w)),
}


@pytest.mark.parametrize("name", PG_VARIANTS)
def test_policy_gradient_loss_variants_pass(name, capsys):
    lesson07.check_policy_gradient_loss(PG_VARIANTS[name])
    assert "Exercise 07.2: passed" in capsys.readouterr().out
