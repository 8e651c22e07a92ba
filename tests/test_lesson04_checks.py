"""Lesson 04's checks of 04.1-04.4 pass other correct forms and name each known mistake (04.5: test_lesson04_loop)."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from mistake_bank import assert_passes, assert_rejected

from course_utils.checks import lesson04 as checks
from course_utils.lessons.lesson04 import dqn_loss, td_targets


# --- 04.1: the Q-network -------------------------------------------------------------------------------------

def _sequential(obs_dim, n_actions, hidden_units=(64, 64)):
    return keras.Sequential([keras.Input((obs_dim,)), *(keras.layers.Dense(u, activation="relu") for u in hidden_units),
                             keras.layers.Dense(n_actions)])


def _relu_layers(obs_dim, n_actions, hidden_units=(64, 64)):
    x = inputs = keras.Input(shape=(obs_dim,))
    for units in hidden_units:
        x = keras.layers.ReLU()(keras.layers.Dense(units)(x))
    return keras.Model(inputs=inputs, outputs=keras.layers.Dense(n_actions, activation="linear")(x))


def _subclass(obs_dim, n_actions, hidden_units=(64, 64)):
    class QNetwork(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = [keras.layers.Dense(u, activation=tf.nn.relu) for u in hidden_units]
            self.out = keras.layers.Dense(n_actions)

        def call(self, x):
            for layer in self.hidden:
                x = layer(x)
            return self.out(x)

    model = QNetwork()
    model(np.zeros((1, obs_dim), np.float32))
    return model


NETWORK_CORRECT = {"keras.Sequential": _sequential, "Dense then a ReLU layer": _relu_layers,
                   "a keras.Model subclass": _subclass}


@pytest.mark.parametrize("name", NETWORK_CORRECT)
def test_network_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_build_q_network, NETWORK_CORRECT[name], "04.1", capsys)


NETWORK_MISTAKES = {
    "softmax on the output": (
        lambda o, n, hidden_units=(64, 64): keras.Sequential(
            [keras.Input((o,)), *(keras.layers.Dense(u, activation="relu") for u in hidden_units),
             keras.layers.Dense(n, activation="softmax")]), "the output layer is a softmax"),
    "hidden_units ignored": (lambda o, n, hidden_units=(64, 64): _sequential(o, n), "Dense layer sizes"),
    "a frozen hidden layer": (
        lambda o, n, hidden_units=(64, 64): keras.Sequential(
            [keras.Input((o,)), *(keras.layers.Dense(u, activation="relu", trainable=False) for u in hidden_units),
             keras.layers.Dense(n)]), "are not trainable"),
    "no activation in the hidden layers": (
        lambda o, n, hidden_units=(64, 64): keras.Sequential(
            [keras.Input((o,)), *(keras.layers.Dense(u) for u in hidden_units), keras.layers.Dense(n)]),
        "the hidden layers have no activation"),
}


@pytest.mark.parametrize("name", NETWORK_MISTAKES)
def test_network_mistakes_are_named(name):
    answer, message = NETWORK_MISTAKES[name]
    assert_rejected(checks.check_build_q_network, answer, "04.1", message)


# --- 04.2: TD targets ----------------------------------------------------------------------------------------

def _where(rewards, next_q_values, terminated, gamma):
    bootstrap = gamma * tf.reduce_max(next_q_values, axis=-1)
    return tf.where(terminated > 0.5, rewards, rewards + bootstrap)


def _keras_ops(rewards, next_q_values, terminated, gamma):
    return keras.ops.add(rewards, gamma * keras.ops.max(next_q_values, axis=1) * keras.ops.subtract(1.0, terminated))


TARGETS_CORRECT = {"tf.where on terminated": _where, "keras.ops": _keras_ops}


@pytest.mark.parametrize("name", TARGETS_CORRECT)
def test_targets_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_td_targets, TARGETS_CORRECT[name], "04.2", capsys)


TARGETS_MISTAKES = {
    "bootstraps after termination": (
        lambda r, nq, term, g: r + g * tf.reduce_max(nq, axis=1), "terminated transitions still add gamma"),
    "mean instead of max": (lambda r, nq, term, g: r + g * (1.0 - term) * tf.reduce_mean(nq, axis=1),
                            "the target averages the next Q-values"),
    "NumPy inside": (lambda r, nq, term, g: r + g * (1.0 - term) * np.max(np.asarray(nq), axis=1),
                     "td_targets fails inside tf.function"),
}


@pytest.mark.parametrize("name", TARGETS_MISTAKES)
def test_targets_mistakes_are_named(name):
    answer, message = TARGETS_MISTAKES[name]
    assert_rejected(checks.check_td_targets, answer, "04.2", message)


# --- 04.3: the loss ------------------------------------------------------------------------------------------

def _one_hot(q_network, batch, targets):
    q = q_network(batch.obs)
    taken = tf.reduce_sum(q * tf.one_hot(batch.actions, q.shape[1]), axis=1)
    return keras.losses.Huber()(tf.stop_gradient(targets), taken)


def _gather_nd_squared(q_network, batch, targets):
    rows = tf.stack([tf.range(tf.shape(batch.actions)[0]), tf.cast(batch.actions, tf.int32)], axis=1)
    taken = tf.gather_nd(q_network(batch.obs), rows)
    return tf.reduce_mean(tf.square(tf.stop_gradient(targets) - taken))


def _huber_by_hand(q_network, batch, targets):
    q = q_network(batch.obs)
    taken = tf.reduce_sum(q * tf.one_hot(batch.actions, 2), axis=-1)
    error = tf.abs(taken - tf.stop_gradient(tf.cast(targets, taken.dtype)))
    return tf.reduce_mean(tf.where(error <= 1.0, 0.5 * error ** 2, error - 0.5))


LOSS_CORRECT = {"a one-hot mask, Huber": _one_hot, "tf.gather_nd, squared error": _gather_nd_squared,
                "Huber written out": _huber_by_hand}


@pytest.mark.parametrize("name", LOSS_CORRECT)
def test_loss_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_dqn_loss, LOSS_CORRECT[name], "04.3", capsys)


LOSS_MISTAKES = {
    "max over actions instead of the action taken": (
        lambda net, b, t: keras.losses.Huber()(tf.stop_gradient(t), tf.reduce_max(net(b.obs), axis=1)),
        "the loss uses max_a Q(s, a)"),
    "max over actions, squared error": (
        lambda net, b, t: tf.reduce_mean(tf.square(tf.stop_gradient(t) - tf.reduce_max(net(b.obs), axis=1))),
        "the loss uses max_a Q(s, a)"),
    "gradient into the targets": (
        lambda net, b, t: keras.losses.Huber()(t, tf.gather(net(b.obs), b.actions, axis=1, batch_dims=1)),
        "gradient flows into the targets"),
    "summed instead of averaged": (
        lambda net, b, t: tf.reduce_sum(tf.square(tf.stop_gradient(t) - tf.gather(net(b.obs), b.actions, axis=1,
                                                                               batch_dims=1))),
        "the sum of the errors over the 32 transitions, not their mean"),
}


@pytest.mark.parametrize("name", LOSS_MISTAKES)
def test_loss_mistakes_are_named(name):
    answer, message = LOSS_MISTAKES[name]
    assert_rejected(checks.check_dqn_loss, answer, "04.3", message)


# --- 04.4: one training step ---------------------------------------------------------------------------------

def _optimizer_apply(q_network, optimizer, batch, gamma, target_network=None):
    source = target_network if target_network is not None else q_network
    targets = tf.stop_gradient(td_targets(batch.rewards, source(batch.next_obs), batch.terminated, gamma))
    variables = q_network.trainable_variables
    with tf.GradientTape() as tape:
        loss = dqn_loss(q_network, batch, targets)
    optimizer.apply(tape.gradient(loss, variables), variables)   # Keras 3's own form of apply_gradients
    return loss


def _targets_inside_tape(q_network, optimizer, batch, gamma, target_network=None):
    with tf.GradientTape() as tape:
        next_q = (target_network or q_network)(batch.next_obs)
        loss = dqn_loss(q_network, batch, td_targets(batch.rewards, next_q, batch.terminated, gamma))
    grads = tape.gradient(loss, q_network.trainable_weights)
    optimizer.apply_gradients(zip(grads, q_network.trainable_weights))
    return loss


STEP_CORRECT = {"optimizer.apply(grads, variables)": _optimizer_apply,
                "targets computed inside the tape (the loss stops their gradient)": _targets_inside_tape}


@pytest.mark.parametrize("name", STEP_CORRECT)
def test_step_other_correct_forms_pass(name, capsys):
    assert_passes(checks.check_dqn_train_step, STEP_CORRECT[name], "04.4", capsys, dqn_loss, td_targets)
