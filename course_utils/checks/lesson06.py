"""Checks of lesson 06: double-DQN targets, the dueling combination and the dueling network."""
from __future__ import annotations

import numpy as np

from . import call, describe, each_reaches, fail, guarded, passed


def _as_array(value, exercise: str, what: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=float)
    except Exception as err:  # a symbolic tensor, None, a tuple of mixed shapes ...
        fail(exercise, f"{what} returned {type(value).__name__}, which is not an array ({err})",
             "return the array (or tensor) the formula gives")


@guarded("06.1", "choose a' = argmax of next_q_online, read next_q_target at a' (keras.ops.take_along_axis), then rewards + gamma * (1 - terminated) * that value")
def check_double_dqn_targets(double_dqn_targets) -> None:
    """Check ``double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma)``."""
    import tensorflow as tf

    rng = np.random.default_rng(5)
    cases = [(0.99, 2), (0.9, 3), (0.5, 4), (1.0, 2)]
    for gamma, n_actions in cases:
        r = rng.normal(1, 1, 16).astype(np.float32)
        online = rng.normal(5, 3, (16, n_actions)).astype(np.float32)
        target = rng.normal(5, 3, (16, n_actions)).astype(np.float32)
        term = (rng.random(16) < 0.4).astype(np.float32)
        term[:2] = (0.0, 1.0)
        got = _as_array(call("06.1", double_dqn_targets, tf.constant(r), tf.constant(online), tf.constant(target),
                              tf.constant(term), gamma,
                              hint="the inputs are tensors of shapes (batch,), (batch, n_actions), "
                                   "(batch, n_actions), (batch,); use keras.ops functions on them"),
                        "06.1", "double_dqn_targets")
        chosen = online.argmax(axis=1)
        value = target[np.arange(16), chosen]
        want = r + gamma * (1 - term) * value
        if got.shape != (16,):
            fail("06.1", f"returned shape {got.shape} for a batch of 16",
                 "return one target per transition, shape (batch,): take the chosen action's value with "
                 "take_along_axis and squeeze the action axis away")
        if np.allclose(got, want, atol=1e-4):
            continue
        mask = 1 - term
        if np.allclose(got, r + gamma * mask * target.max(axis=1), atol=1e-4):
            fail("06.1", "the target network both chose and valued the next action: that is the plain DQN target",
                 "choose a' = argmax of next_q_online, then read next_q_target at a'")
        if np.allclose(got, r + gamma * mask * online.max(axis=1), atol=1e-4):
            fail("06.1", "the online network both chose and valued the next action",
                 "choose with next_q_online, but read the value from next_q_target")
        if np.allclose(got, r + gamma * mask * online[np.arange(16), target.argmax(axis=1)], atol=1e-4):
            fail("06.1", "the roles are swapped: the target network chose the action and the online network valued it",
                 "a' = argmax_a next_q_online; value = next_q_target[a']")
        if np.allclose(got, r + gamma * value, atol=1e-4):
            fail("06.1", "terminated transitions still add gamma * Q_target(s', a')",
                 "multiply the bootstrapped value by (1 - terminated)")
        if np.allclose(got, r + mask * value, atol=1e-4):
            fail("06.1", "the next value is not discounted", "multiply it by gamma")
        i = int(np.argmax(np.abs(got - want)))
        fail("06.1", f"with gamma={gamma} and {n_actions} actions, transition {i} (reward {r[i]:.3f}, terminated "
             f"{bool(term[i])}, next_q_online {np.round(online[i], 3).tolist()}, next_q_target "
             f"{np.round(target[i], 3).tolist()}) got target {got[i]:.3f}, expected {want[i]:.3f}",
             "r + gamma * (1 - terminated) * (next_q_target at the action where next_q_online is largest), "
             "for the whole batch at once")
    r, online, target = np.ones(4, np.float32), np.eye(4, 2, dtype=np.float32), np.zeros((4, 2), np.float32)
    compiled = tf.function(double_dqn_targets, jit_compile=True)
    try:
        got = compiled(tf.constant(r), tf.constant(online), tf.constant(target), tf.zeros(4), 0.9)
    except Exception as err:  # noqa: BLE001 - NumPy calls and .numpy() fail on symbolic tensors
        what = f"it fails inside a compiled tf.function: it {describe(err)}"
    else:
        what = None
    if what:
        fail("06.1", what,
             "use keras.ops (or tf) operations only, no .numpy() or np.* on tensors: the training step compiles it")
    if not np.allclose(np.asarray(got), r):
        fail("06.1", "inside a compiled tf.function it gives other values", "use keras.ops operations only")
    passed("06.1", len(cases) + 1)


@guarded("06.2", "values has shape (batch, 1), advantages (batch, n_actions): return values + advantages - ops.mean(advantages, axis=1, keepdims=True)")
def check_dueling_q_values(dueling_q_values) -> None:
    """Check ``dueling_q_values(values, advantages)``: V + A - mean_a A, also on symbolic Keras tensors."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(7)
    for n_actions in (2, 3, 5):
        v = rng.normal(10, 5, (8, 1)).astype(np.float32)
        a = rng.normal(0, 3, (8, n_actions)).astype(np.float32)
        got = _as_array(call("06.2", dueling_q_values, tf.constant(v), tf.constant(a),
                              hint=f"values has shape (8, 1) and advantages (8, {n_actions}); average over the "
                                   "actions with keepdims=True so the mean has shape (8, 1) and broadcasts"),
                        "06.2", "dueling_q_values")
        want = v + a - a.mean(axis=1, keepdims=True)
        if got.shape != (8, n_actions):
            fail("06.2", f"values (8, 1) and advantages (8, {n_actions}) gave shape {got.shape}",
                 f"expected (8, {n_actions}): one Q-value per action; keep the action axis when you average "
                 "(keepdims=True) so it broadcasts")
        if np.allclose(got, want, atol=1e-4):
            continue
        if np.allclose(got, v + a, atol=1e-4):
            fail("06.2", "the advantages are not centred: you returned V + A",
                 "subtract mean_a A(s, a) from the advantages; otherwise V and A are not identifiable "
                 "(any constant can move between them)")
        if np.allclose(got, v + a - a.max(axis=1, keepdims=True), atol=1e-4):
            fail("06.2", "you subtracted the max advantage; this lesson uses the mean",
                 "use V + A - mean_a A (the dueling paper's more stable choice)")
        if np.allclose(got, v + a - a.mean(axis=0, keepdims=True), atol=1e-4):
            fail("06.2", "the mean was taken over the batch (axis 0)", "average over the actions: axis=1")
        if np.allclose(got, v + a - a.mean(), atol=1e-4):
            fail("06.2", "the mean was taken over the whole array", "average over the actions only: axis=1, keepdims=True")
        fail("06.2", f"for V = {v[0, 0]:.3f} and A = {np.round(a[0], 3).tolist()} the Q-values are "
             f"{np.round(got[0], 3).tolist()}, expected {np.round(want[0], 3).tolist()}",
             "Q(s, a) = V(s) + A(s, a) - mean over actions of A(s, .), element-wise for the whole batch")
    v_in, a_in = keras.Input((1,)), keras.Input((3,))
    try:
        model = keras.Model([v_in, a_in], dueling_q_values(v_in, a_in))
    except Exception as err:  # noqa: BLE001 - tf and NumPy functions fail on symbolic Keras tensors
        what = f"it fails on the symbolic tensors of a Keras model: it {describe(err)}"
    else:
        what = None
    if what:
        fail("06.2", what,
             "use keras.ops (keras.ops.mean, not tf.reduce_mean or np.mean): the network joins its heads with it")
    v, a = np.array([[1.0], [2.0]], np.float32), np.array([[0.0, 3.0, 6.0], [1.0, 1.0, 1.0]], np.float32)
    if not np.allclose(np.asarray(model([v, a])), [[-2.0, 1.0, 4.0], [2.0, 2.0, 2.0]], atol=1e-5):
        fail("06.2", "inside a Keras model it gives other values", "use keras.ops operations only")
    passed("06.2", 4)


def _acts_as_relu_trunk(model) -> bool:
    """Whether the model computes what a Dense-ReLU trunk under the two heads does, however its ReLUs are spelled
    (``activation="relu"``, or a linear Dense and a ``keras.layers.ReLU()`` after it)."""
    from ..acting import acting_weights

    try:
        acting_weights(model, verify=True)
    except ValueError:
        return False
    return True


@guarded("06.3", "a Dense-ReLU trunk, heads Dense(1, name='value') and Dense(n_actions, name='advantages'), combined with dueling_q_values")
def check_build_dueling_q_network(build_dueling_q_network) -> None:
    """Check ``build_dueling_q_network(obs_dim, n_actions, hidden_units=(64, 64)) -> keras.Model``."""
    import keras

    from ..acting import acting_weights

    cases = [(4, 2, (64, 64)), (6, 3, (32,)), (2, 5, (16, 8))]
    for obs_dim, n_actions, hidden in cases:
        model = call("06.3", build_dueling_q_network, obs_dim, n_actions, hidden,
                      hint="build it with the functional API: keras.Input, the Dense trunk, two Dense heads, "
                           "then dueling_q_values(values, advantages)")
        if not isinstance(model, keras.Model):
            fail("06.3", f"returned {type(model).__name__}", "return a keras.Model built with the functional API")
        x = np.random.default_rng(obs_dim).normal(size=(5, obs_dim)).astype(np.float32)
        q = np.asarray(call("06.3", model, x, hint=f"the model's input takes obs_dim={obs_dim} features"))
        if q.shape != (5, n_actions):
            fail("06.3", f"for obs_dim={obs_dim}, n_actions={n_actions} the output has shape {q.shape}",
                 f"expected (5, {n_actions}): the model's output is dueling_q_values(values, advantages)")
        layers = {layer.name: layer for layer in model.layers if isinstance(layer, keras.layers.Dense)}
        for name, units in (("value", 1), ("advantages", n_actions)):
            if name not in layers:
                fail("06.3", f"no Dense layer named {name!r} (Dense layers: {sorted(layers)})",
                     f"name the heads: keras.layers.Dense(1, name='value') and "
                     f"keras.layers.Dense(n_actions, name='advantages')")
            if layers[name].units != units:
                fail("06.3", f"the {name!r} head has {layers[name].units} units", f"it needs {units}")
            if layers[name].activation.__name__ != "linear":
                fail("06.3", f"the {name!r} head uses {layers[name].activation.__name__}",
                     "the heads are linear: returns can be any number")
        trunk = [layer for name, layer in layers.items() if name not in ("value", "advantages")]
        if [layer.units for layer in trunk] != list(hidden):
            fail("06.3", f"the shared trunk has Dense sizes {[layer.units for layer in trunk]}, expected {list(hidden)}",
                 "one Dense layer (ReLU) per entry of hidden_units, then the two heads on its output")
        if any(layer.activation.__name__ != "relu" for layer in trunk) and not _acts_as_relu_trunk(model):
            fail("06.3", f"trunk activations {[layer.activation.__name__ for layer in trunk]}",
                 "use activation='relu' on every trunk layer (or a ReLU layer after each)")
        value = np.asarray(keras.Model(model.inputs, layers["value"].output)([x]))
        if not np.allclose(q.mean(axis=1, keepdims=True), value, atol=1e-4):
            fail("06.3", "the mean over actions of the output is not the value head's output",
                 "the output must be dueling_q_values(values, advantages), whose advantages are centred")
        try:
            acting_weights(model, verify=True)
        except ValueError:
            fail("06.3", f"for obs_dim={obs_dim}, n_actions={n_actions} the network is not a trunk of Dense ReLU "
                 "layers whose last output feeds both heads, with the heads' dueling combination as its output",
                 "both heads read the last trunk layer's output; the model's output is "
                 "dueling_q_values(values, advantages) and nothing else (no layer after it, none skipped)")
    default = build_dueling_q_network(4, 2)
    sizes = [layer.units for layer in default.layers if isinstance(layer, keras.layers.Dense)]
    if sorted(sizes) != [1, 2, 64, 64]:
        fail("06.3", "the default hidden_units is not (64, 64)", "keep the signature's default hidden_units=(64, 64)")
    one, two = build_dueling_q_network(4, 2), build_dueling_q_network(4, 2)
    if any(a is b for a, b in zip(one.weights, two.weights)):
        fail("06.3", "two calls returned networks that share weights",
             "create new layers inside the function on every call (the target network is a second call)")
    passed("06.3", len(cases) + 2)


@guarded("06.4", "pass a dict {'double': returns, 'dueling': returns} of the arrays cu.evaluate gave")
def check_variants_solve(greedy_returns: dict, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check that double DQN and dueling DQN each reach ``threshold`` over ``episodes`` greedy episodes."""
    each_reaches("06.4", greedy_returns, ("double", "dueling"), threshold, episodes,
                 f"{{name}} DQN: greedy mean over {episodes} episodes >= {threshold:g}.",
                 "check your {name} exercise; the run uses it")
