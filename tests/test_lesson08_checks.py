"""Lesson 08's checks pass the reference pieces and correct variants, and name each plausible mistake."""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from course_utils.checks import lesson08  # noqa: E402
from mistake_bank import assert_passes, assert_rejected  # noqa: E402
from course_utils.lessons import lesson08 as reference  # noqa: E402


def test_reference_pieces_pass(capsys):
    lesson08.check_advantages_and_targets(reference.advantages_and_targets)
    lesson08.check_actor_critic_losses(reference.actor_critic_losses)
    assert capsys.readouterr().out == ("Exercise 08.1: passed (4 cases checked).\n"
                                       "Exercise 08.2: passed (3 cases checked).\n")


def _pair(delta=None, target=None, normalise=None, order=None):
    """The reference with one piece replaced: ``delta(r, v, nv, d, g)``, ``target(r, v, nv, d, g, adv)``,
    ``normalise(x)``, ``order(adv, targets)``."""
    def advantages_and_targets(r, v, nv, d, g):
        deltas = delta(r, v, nv, d, g) if delta else r + g * (1 - d) * nv - v
        adv = normalise(deltas) if normalise else (deltas - deltas.mean()) / (deltas.std() + 1e-8)
        targets = target(r, v, nv, d, g, adv) if target else deltas + v
        return order(adv, targets) if order else (adv, targets)
    return advantages_and_targets


TD_MISTAKES = {
    "no terminal mask": (_pair(delta=lambda r, v, nv, d, g: r + g * nv - v), "still add gamma * V(s')"),
    "mask inverted": (_pair(delta=lambda r, v, nv, d, g: r + g * d * nv - v), "the mask is inverted"),
    "reward masked too": (_pair(delta=lambda r, v, nv, d, g: (1 - d) * (r + g * nv) - v),
                          "reward of terminated transitions"),
    "not discounted": (_pair(delta=lambda r, v, nv, d, g: r + (1 - d) * nv - v), "V(s') is not discounted"),
    "values swapped": (_pair(delta=lambda r, v, nv, d, g: r + g * (1 - d) * v - nv), "values and next_values are swapped"),
    "targets from values": (_pair(target=lambda r, v, nv, d, g, adv: r + g * (1 - d) * v), "bootstrap from values, V(s)"),
    "targets from the normalised advantages": (_pair(target=lambda r, v, nv, d, g, adv: adv + v),
                                               "built from the normalised advantages"),
    "targets normalised too": (_pair(target=lambda r, v, nv, d, g, adv: (lambda t: (t - t.mean()) / (t.std() + 1e-8))(
        r + g * (1 - d) * nv)), "the targets were normalised too"),
    "advantages not normalised": (_pair(normalise=lambda x: x), "not normalised"),
    "sign flipped": (_pair(normalise=lambda x: (x.mean() - x) / (x.std() + 1e-8)), "the wrong sign"),
    "centred only": (_pair(normalise=lambda x: x - x.mean()), "centred but not divided"),
    "normalised targets as advantages": (_pair(delta=lambda r, v, nv, d, g: r + g * (1 - d) * nv,
                                               target=lambda r, v, nv, d, g, adv: r + g * (1 - d) * nv),
                                         "the normalised targets"),
    "no epsilon": (_pair(normalise=lambda x: (x - x.mean()) / x.std()), "add 1e-8 to the standard deviation"),
    "swapped": (_pair(order=lambda a, t: (t, a)), "the two are swapped"),
    "float64": (_pair(normalise=lambda x: (x - x.mean()) / (x.std() + 1e-8).astype(np.float64)),
                "gave a float64 advantages"),
    "tensorflow ops": (_pair(order=lambda a, t: (tf.constant(a), t)), "advantages is a EagerTensor"),
    "python list": (_pair(order=lambda a, t: (a, [float(x) for x in t])), "targets is a list"),
    "only the advantages": (lambda r, v, nv, d, g: _pair()(r, v, nv, d, g)[0], "expected a pair (advantages, targets)"),
    "a (batch, 1) column": (_pair(order=lambda a, t: (a[:, None], t)), "shape (32, 1)"),
    "python and": (_pair(delta=lambda r, v, nv, d, g: r + g * (not d) * nv - v), "your code raised ValueError"),
}


@pytest.mark.parametrize("name", TD_MISTAKES)
def test_advantages_and_targets_mistakes_are_named(name):
    wrong, message = TD_MISTAKES[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_rejected(lesson08.check_advantages_and_targets, wrong, "08.1", message)


TD_VARIANTS = {
    "np.where, targets first": _pair(delta=lambda r, v, nv, d, g: np.where(d > 0, r, r + g * nv) - v),
    "ddof=1": _pair(normalise=lambda x: (x - np.mean(x)) / (np.std(x, ddof=1) + 1e-8)),
    "bool mask, targets written out": _pair(delta=lambda r, v, nv, d, g: r + g * nv * ~d.astype(bool) - v,
                                            target=lambda r, v, nv, d, g, adv: r + g * (1 - d) * nv),
    "a list of two": _pair(order=lambda a, t: [a, t]),
}


@pytest.mark.parametrize("name", TD_VARIANTS)
def test_advantages_and_targets_other_correct_forms_pass(name, capsys):
    assert_passes(lesson08.check_advantages_and_targets, TD_VARIANTS[name], "08.1", capsys)


def _losses(actor=None, critic=None, entropy=None, order=None):
    """The reference losses with one piece replaced: each replacement takes the pieces it needs."""
    def losses(logits, values, actions, advantages, targets, entropy_coef):
        log_probs = tf.nn.log_softmax(logits)
        taken = tf.gather(log_probs, actions, axis=1, batch_dims=1)
        h = (entropy or (lambda lp: -tf.reduce_mean(tf.reduce_sum(tf.exp(lp) * lp, axis=1))))(log_probs)
        a = (actor or (lambda lp, t, adv, c, h: -tf.reduce_mean(t * tf.stop_gradient(adv)) - c * h))(
            log_probs, taken, advantages, entropy_coef, h)
        c = (critic or (lambda v, g: tf.reduce_mean(tf.square(tf.stop_gradient(g) - v))))(values, targets)
        return (order or (lambda a, c, h: (a, c, h)))(a, c, h)
    return losses


sg = tf.stop_gradient
LOSS_MISTAKES = {
    "entropy sign": (_losses(entropy=lambda lp: tf.reduce_mean(tf.reduce_sum(tf.exp(lp) * lp, axis=1))),
                     "it is positive"),
    "entropy summed over the batch": (_losses(entropy=lambda lp: -tf.reduce_sum(tf.exp(lp) * lp)), "sum over the batch"),
    "entropy mean over everything": (_losses(entropy=lambda lp: -tf.reduce_mean(tf.exp(lp) * lp)),
                                     "sum over the actions first"),
    "bonus added": (_losses(actor=lambda lp, t, adv, c, h: -tf.reduce_mean(t * sg(adv)) + c * h),
                    "the entropy bonus has the wrong sign"),
    "bonus missing": (_losses(actor=lambda lp, t, adv, c, h: -tf.reduce_mean(t * sg(adv))),
                      "the entropy bonus is missing"),
    "policy term sign": (_losses(actor=lambda lp, t, adv, c, h: tf.reduce_mean(t * sg(adv)) - c * h),
                         "sign of the policy-gradient term is flipped"),
    "probabilities": (_losses(actor=lambda lp, t, adv, c, h: -tf.reduce_mean(tf.exp(t) * sg(adv)) - c * h),
                      "uses probabilities"),
    "actor sum": (_losses(actor=lambda lp, t, adv, c, h: -tf.reduce_sum(t * sg(adv)) - c * h), "a sum over the batch"),
    "advantage not stopped": (_losses(actor=lambda lp, t, adv, c, h: -tf.reduce_mean(t * adv) - c * h),
                              "gradient flows into the advantages"),
    "targets not stopped": (_losses(critic=lambda v, g: tf.reduce_mean(tf.square(g - v))),
                            "gradient flows into the targets"),
    "half MSE": (_losses(critic=lambda v, g: 0.5 * tf.reduce_mean(tf.square(sg(g) - v))), "half the mean squared"),
    "absolute error": (_losses(critic=lambda v, g: tf.reduce_mean(tf.abs(sg(g) - v))), "mean absolute error"),
    "huber": (_losses(critic=lambda v, g: keras.losses.Huber()(sg(g), v)), "a Huber loss"),
    "critic sum": (_losses(critic=lambda v, g: tf.reduce_sum(tf.square(sg(g) - v))), "a sum over the batch"),
    "critic per step": (_losses(critic=lambda v, g: tf.square(sg(g) - v)), "critic_loss is EagerTensor of shape"),
    "losses swapped": (_losses(order=lambda a, c, h: (c, a, h)), "the actor and critic losses are swapped"),
    "two values": (_losses(order=lambda a, c, h: (a, c)), "returned tuple of 2"),
    "a dict": (_losses(order=lambda a, c, h: {"actor": a, "critic": c, "entropy": h}), "returned dict"),
    "numpy entropy": (_losses(entropy=lambda lp: -np.mean(np.sum(np.exp(lp) * lp, axis=1))), "the wrong gradient"),
    ".numpy() of the entropy": (_losses(order=lambda a, c, h: (a, c, h.numpy())), "fails inside tf.function"),
    "numpy critic": (_losses(critic=lambda v, g: np.mean((np.asarray(g) - np.asarray(v)) ** 2)),
                     "not a TensorFlow tensor"),
}


@pytest.mark.parametrize("name", LOSS_MISTAKES)
def test_actor_critic_loss_mistakes_are_named(name):
    wrong, message = LOSS_MISTAKES[name]
    assert_rejected(lesson08.check_actor_critic_losses, wrong, "08.2", message)


def _cross_entropy_losses(logits, values, actions, advantages, targets, entropy_coef):
    probs = tf.nn.softmax(logits)
    entropy = tf.reduce_mean(keras.losses.categorical_crossentropy(probs, logits, from_logits=True))
    pg = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits) * tf.stop_gradient(advantages)
    critic = keras.ops.mean(keras.ops.square(values - keras.ops.stop_gradient(targets)))
    return tf.reduce_mean(pg) - entropy_coef * entropy, critic, entropy


LOSS_VARIANTS = {
    "softmax then log": _losses(entropy=lambda lp: -tf.reduce_mean(tf.reduce_sum(
        tf.nn.softmax(lp) * tf.math.log(tf.nn.softmax(lp)), axis=1))),
    "sparse cross-entropy": _cross_entropy_losses,
    "keras MSE": _losses(critic=lambda v, g: keras.losses.MeanSquaredError()(sg(g), v)),
    "list of three": _losses(order=lambda a, c, h: [a, c, h]),
    "squared difference": _losses(critic=lambda v, g: tf.reduce_mean(tf.math.squared_difference(v, sg(g)))),
}


@pytest.mark.parametrize("name", LOSS_VARIANTS)
def test_actor_critic_loss_variants_pass(name, capsys):
    lesson08.check_actor_critic_losses(LOSS_VARIANTS[name])
    assert "Exercise 08.2: passed" in capsys.readouterr().out


def _message(check, answer) -> str:
    with pytest.raises(AssertionError) as err:
        check(answer)
    return str(err.value)


def test_advantages_and_targets_fallback_shows_a_small_case():
    """A mistake the check does not recognise still gets expected and received values on a case done by hand."""
    text = _message(lesson08.check_advantages_and_targets,
                    _pair(target=lambda r, v, nv, d, g, adv: r + g * (1 - d) * nv + np.float32(0.5)))
    assert "the targets are not r + gamma * (1 - terminated) * V(s')." in text
    assert ("For rewards=[1.0, 1.0, 0.5], values=[2.0, 3.0, 1.0], next_values=[3.0, 4.0, 2.0], terminated=[0.0, 1.0, 0.0], "
            "gamma=0.9: expected (advantages, targets) = [[0.824, -1.407, 0.583], [3.7, 1.0, 2.3]], got "
            "[[0.824, -1.407, 0.583], [4.2, 1.5, 2.8]].") in text, text


def test_a_named_td_mistake_shows_the_small_case_too():
    text = _message(lesson08.check_advantages_and_targets, TD_MISTAKES["no terminal mask"][0])
    assert "expected (advantages, targets) = [[0.824, -1.407, 0.583], [3.7, 1.0, 2.3]], got" in text, text


def test_loss_fallback_shows_a_small_case():
    text = _message(lesson08.check_actor_critic_losses, _losses(
        actor=lambda lp, t, adv, c, h: -2.0 * tf.reduce_mean(t * sg(adv)) - c * h))
    assert ("For logits=[[0.0, 1.0], [2.0, 0.0]], values=[1.0, 2.0], actions=[1, 0], advantages=[1.0, -1.0], "
            "targets=[2.0, 0.0], entropy_coef=0.1: expected (actor_loss, critic_loss, entropy) = "
            "(0.0458, 2.5, 0.4738), got (0.139, 2.5, 0.4738).") in text, text


def test_critic_fallback_shows_a_small_case():
    text = _message(lesson08.check_actor_critic_losses, _losses(
        critic=lambda v, g: tf.reduce_mean(tf.square(sg(g) - v)) + 1.0))
    assert "critic loss" in text and "(0.0458, 2.5, 0.4738), got (0.0458, 3.5, 0.4738)." in text, text


def test_no_message_names_the_course_s_internals():
    """The student reads the messages: no helper names they never met."""
    from test_lesson08_rollout import MISTAKES, rollout_function

    with np.errstate(divide="ignore", invalid="ignore"):
        texts = [_message(lesson08.check_advantages_and_targets, wrong) for wrong, _ in TD_MISTAKES.values()]
    texts += [_message(lesson08.check_actor_critic_losses, wrong) for wrong, _ in LOSS_MISTAKES.values()]
    texts += [_message(lesson08.check_collect_rollout, rollout_function(**edits)) for edits, _ in MISTAKES.values()]
    for text in texts:
        assert "mlp_forward" not in text and "acting_weights" not in text and "course_utils" not in text, text


def test_the_solved_check_gives_no_train_longer_advice():
    text = _message(lesson08.check_solved, np.full(100, 200.0))
    assert "mean return 200.0 over 100 episodes is below 475" in text
    assert "longer" not in text and "more updates" not in text, text


def test_the_gradient_fallback_shows_the_gradients_of_a_small_case():
    text = _message(lesson08.check_actor_critic_losses, LOSS_MISTAKES["numpy entropy"][0])
    assert ("d actor_loss / d logits: expected [[0.1246, -0.1246], [0.0701, -0.0701]], got "
            "[[0.1345, -0.1345], [0.0596, -0.0596]]; d critic_loss / d values: expected [-1.0, 2.0], got [-1.0, 2.0].") in text, text
