"""Lesson 06's checks pass the reference pieces and name each known mistake."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402

from course_utils.lessons import lesson04 as taught03, lesson06 as taught05  # noqa: E402
from course_utils.checks import lesson06  # noqa: E402
from mistake_bank import assert_passes, assert_rejected  # noqa: E402


def test_reference_pieces_pass(capsys):
    lesson06.check_double_dqn_targets(taught05.double_dqn_targets)
    lesson06.check_build_dueling_q_network(taught05.build_dueling_q_network)
    assert capsys.readouterr().out.count("passed") == 2


def _pick(q, actions):
    return ops.squeeze(ops.take_along_axis(q, ops.expand_dims(actions, 1), axis=1), 1)


DOUBLE_MISTAKES = {
    "target chooses and values": (lambda r, on, tg, d, g: r + g * (1 - d) * ops.max(tg, axis=1),
                                  "the target network both chose and valued"),
    "online chooses and values": (lambda r, on, tg, d, g: r + g * (1 - d) * ops.max(on, axis=1),
                                  "the online network both chose and valued"),
    "roles swapped": (lambda r, on, tg, d, g: r + g * (1 - d) * _pick(on, ops.argmax(tg, axis=1)),
                      "the roles are swapped"),
    "no terminal mask": (lambda r, on, tg, d, g: r + g * _pick(tg, ops.argmax(on, axis=1)),
                         "terminated transitions still add"),
    "no discount": (lambda r, on, tg, d, g: r + (1 - d) * _pick(tg, ops.argmax(on, axis=1)),
                    "not discounted"),
    "keeps the action axis": (lambda r, on, tg, d, g: r[:, None] + g * (1 - d[:, None]) * ops.take_along_axis(
        tg, ops.expand_dims(ops.argmax(on, axis=1), 1), axis=1), "shape (16, 1)"),
    "mean of the target's values": (lambda r, on, tg, d, g: r + g * (1 - d) * ops.mean(tg, axis=1),
                                    "got target"),
    "numpy inside": (lambda r, on, tg, d, g: r + g * (1 - d) * np.asarray(tg)[np.arange(len(r)), np.asarray(on).argmax(1)],
                     "fails inside a compiled tf.function"),
}


@pytest.mark.parametrize("name", DOUBLE_MISTAKES)
def test_double_dqn_mistakes_are_named(name):
    wrong, message = DOUBLE_MISTAKES[name]
    assert_rejected(lesson06.check_double_dqn_targets, wrong, "06.1", message)


def _centred(v, a):
    return v + a - ops.mean(a, axis=1, keepdims=True)


def _dueling(obs_dim, n_actions, hidden_units=(64, 64), *, combine=_centred, names=("value", "advantages"),
             value_from_input=False, head_activation=None, trunk_activation="relu"):
    inputs = keras.Input((obs_dim,))
    x = inputs
    for units in hidden_units:
        x = keras.layers.Dense(units, activation=trunk_activation)(x)
    values = keras.layers.Dense(1, name=names[0], activation=head_activation)(inputs if value_from_input else x)
    advantages = keras.layers.Dense(n_actions, name=names[1])(x)
    return keras.Model(inputs, combine(values, advantages))


SHARED = keras.layers.Dense(64, activation="relu")

NETWORK_MISTAKES = {
    "plain Q-network": (lambda o, n, hidden_units=(64, 64): taught03.build_q_network(o, n, hidden_units),
                        "no Dense layer named 'value'"),
    "unnamed heads": (lambda o, n, hidden_units=(64, 64): _dueling(o, n, hidden_units, names=("v", "a")),
                      "no Dense layer named 'value'"),
    "not centred": (lambda o, n, hidden_units=(64, 64): _dueling(o, n, hidden_units, combine=lambda v, a: v + a),
                    "the advantages are not centred"),
    "max subtracted": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v + a - ops.max(a, axis=1, keepdims=True)), "the max advantage"),
    "mean over the batch": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v + a - ops.mean(a, axis=0, keepdims=True)), "over the batch"),
    "mean of the whole array": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v + a - ops.mean(a)), "the whole array"),
    "advantages subtracted": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v - a + ops.mean(a, axis=1, keepdims=True)),
        "the advantages were subtracted"),
    "no keepdims": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v + a - ops.mean(a, axis=1)), "keepdims=True"),
    "a tensorflow op on the symbolic heads": (lambda o, n, hidden_units=(64, 64): _dueling(
        o, n, hidden_units, combine=lambda v, a: v + a - __import__("tensorflow").reduce_mean(a, axis=1, keepdims=True)),
        "symbolic tensors of a Keras model"),
    "linear trunk": (lambda o, n, hidden_units=(64, 64): _dueling(o, n, hidden_units, trunk_activation=None),
                     "trunk activations ['linear', 'linear']"),
    "relu head": (lambda o, n, hidden_units=(64, 64): _dueling(o, n, hidden_units, head_activation="relu"),
                  "the 'value' head uses relu"),
    "ignores hidden_units": (lambda o, n, hidden_units=(64, 64): _dueling(o, n),
                             "the shared trunk has Dense sizes"),
    "value head skips the trunk": (lambda o, n, hidden_units=(64, 64): _dueling(o, n, hidden_units,
                                                                                 value_from_input=True),
                                   "whose last output feeds both heads"),
    "layers shared between calls": (lambda o, n, hidden_units=(64, 64): _shared_trunk(o, n, hidden_units),
                                    "share weights"),
}


_SHARED_LAYERS = {}


def _shared_trunk(obs_dim, n_actions, hidden_units):
    """Builds its layers once per shape and reuses them: the online and the target network would share weights."""
    key = (obs_dim, n_actions, tuple(hidden_units))
    if key not in _SHARED_LAYERS:
        _SHARED_LAYERS[key] = ([keras.layers.Dense(u, activation="relu") for u in hidden_units],
                               keras.layers.Dense(1, name="value"), keras.layers.Dense(n_actions, name="advantages"))
    trunk, value, advantages = _SHARED_LAYERS[key]
    inputs = keras.Input((obs_dim,))
    x = inputs
    for layer in trunk:
        x = layer(x)
    return keras.Model(inputs, _centred(value(x), advantages(x)))


@pytest.mark.parametrize("name", NETWORK_MISTAKES)
def test_dueling_network_mistakes_are_named(name):
    wrong, message = NETWORK_MISTAKES[name]
    assert_rejected(lesson06.check_build_dueling_q_network, wrong, "06.2", message)


def test_solve_check(capsys):
    lesson06.check_variants_solve({"double": np.full(100, 500.0), "dueling": np.full(100, 480.0)})
    with pytest.raises(AssertionError, match="mean return 300.0 over 100 episodes is below 475"):
        lesson06.check_variants_solve({"double": np.full(100, 500.0), "dueling": np.full(100, 300.0)})
    assert "dueling DQN: greedy mean over 100 episodes >= 475." in capsys.readouterr().out


def test_an_untouched_stub_keeps_its_own_message():
    def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma):
        raise NotImplementedError("Exercise 06.1: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 06.1: write your code here"):
        lesson06.check_double_dqn_targets(double_dqn_targets)


DOUBLE_VARIANTS = {
    "tf.gather with batch_dims": lambda r, on, tg, d, g: r + g * (1.0 - d) * __import__("tensorflow").gather(
        tg, ops.argmax(on, axis=1), axis=1, batch_dims=1),
    "one-hot": lambda r, on, tg, d, g: r + g * (1 - d) * ops.sum(
        ops.one_hot(ops.argmax(on, axis=1), ops.shape(on)[1]) * tg, axis=1),
    "mask first": lambda r, on, tg, d, g: r + (1 - d) * (g * _pick(tg, ops.argmax(on, axis=-1))),
}


@pytest.mark.parametrize("name", DOUBLE_VARIANTS)
def test_double_dqn_variants_pass(name, capsys):
    lesson06.check_double_dqn_targets(DOUBLE_VARIANTS[name])
    assert "Exercise 06.1: passed" in capsys.readouterr().out


def test_a_numpy_call_inside_the_compiled_step_keeps_its_message():
    with pytest.raises(AssertionError, match=r"^Exercise 06\.1: it fails inside a compiled tf\.function: it raised "
                                             r"\w+: .*\nHint: use keras\.ops"):
        lesson06.check_double_dqn_targets(DOUBLE_MISTAKES["numpy inside"][0])


def _relu_layers_inline_combination(obs_dim, n_actions, hidden_units=(64, 64)):
    """A trunk of Dense then ReLU layers, the heads built advantages first, the combination written inline."""
    inputs = keras.Input(shape=(obs_dim,), dtype="float32")
    h = inputs
    for units in hidden_units:
        h = keras.layers.ReLU()(keras.layers.Dense(units)(h))
    advantages = keras.layers.Dense(n_actions, activation=None, name="advantages")(h)
    values = keras.layers.Dense(1, activation="linear", name="value")(h)
    return keras.Model(inputs=inputs, outputs=values + (advantages - ops.mean(advantages, axis=-1, keepdims=True)))


def _list_comprehension_trunk(obs_dim, n_actions, hidden_units=(64, 64)):
    """The trunk's layers made first in a list, then applied; a leftover print."""
    trunk = [keras.layers.Dense(u, activation=keras.activations.relu) for u in hidden_units]
    inputs = keras.Input((obs_dim,))
    x = inputs
    for layer in trunk:
        x = layer(x)
    print("trunk output", x.shape)
    values, advantages = keras.layers.Dense(1, name="value")(x), keras.layers.Dense(n_actions, name="advantages")(x)
    return keras.Model(inputs, advantages - ops.mean(advantages, axis=-1, keepdims=True) + values)


NETWORK_CORRECT = {"the lesson's": taught05.build_dueling_q_network,
                   "Dense then ReLU layers, advantages head first, combination inline": _relu_layers_inline_combination,
                   "trunk layers made in a list, a print, the mean over the last axis": _list_comprehension_trunk}


@pytest.mark.parametrize("name", NETWORK_CORRECT)
def test_dueling_network_other_correct_forms_pass(name, capsys):
    assert_passes(lesson06.check_build_dueling_q_network, NETWORK_CORRECT[name], "06.2", capsys)
