"""Checks of lesson 06: double-DQN targets and the dueling network."""
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


def _diagnose_combination(q: np.ndarray, v: np.ndarray, a: np.ndarray) -> None:
    """Fail 06.2, naming the slip, unless ``q`` is V + A - mean over actions of A for the heads' outputs ``v``, ``a``."""
    want = v + a - a.mean(axis=1, keepdims=True)
    if np.allclose(q, want, atol=1e-4):
        return
    for value, what, hint in [
        (v + a, "the advantages are not centred: the output is V + A", "subtract the mean over actions of A(s, .) "
         "from the advantages; otherwise V and A are not identifiable (any constant can move between them)"),
        (v + a - a.max(axis=1, keepdims=True), "the max advantage was subtracted; this lesson uses the mean",
         "use V + A - mean over actions of A (the dueling paper's more stable choice)"),
        (v + a - a.mean(axis=0, keepdims=True), "the mean was taken over the batch (axis 0)",
         "average over the actions: axis=1"),
        (v + a - a.mean(), "the mean was taken over the whole array", "average over the actions only: axis=1, "
         "keepdims=True"),
        (v - a + a.mean(axis=1, keepdims=True), "the advantages were subtracted: the Q-values are V - A + mean A",
         "Q = V + (A - mean over actions of A)"),
    ]:
        if np.allclose(q, value, atol=1e-4):
            fail("06.2", what, hint)
    fail("06.2", f"for the heads' V = {v[0, 0]:.3f} and A = {np.round(a[0], 3).tolist()} the Q-values are "
         f"{np.round(q[0], 3).tolist()}, expected {np.round(want[0], 3).tolist()}",
         "the output is Q(s, a) = V(s) + A(s, a) - mean over actions of A(s, .), for every row of the batch")


def _acts_as_relu_trunk(model) -> bool:
    """Whether the model computes what the loop's NumPy copy of it computes: a Dense-ReLU trunk whose last output
    feeds both heads, their combination as the output, however its ReLUs are spelled (``activation="relu"``, or a
    linear Dense and a ``keras.layers.ReLU()`` after it)."""
    from ..acting import acting_weights

    try:
        acting_weights(model, verify=True)
    except ValueError:
        return False
    return True


@guarded("06.2", "a Dense-ReLU trunk, heads Dense(1, name='value') and Dense(n_actions, name='advantages'), and as "
         "output values + advantages - keras.ops.mean(advantages, axis=1, keepdims=True)")
def check_build_dueling_q_network(build_dueling_q_network) -> None:
    """Check ``build_dueling_q_network(obs_dim, n_actions, hidden_units=(64, 64)) -> keras.Model``."""
    import keras

    cases = [(4, 2, (64, 64)), (6, 3, (32,)), (2, 5, (16, 8))]
    for obs_dim, n_actions, hidden in cases:
        model = call("06.2", build_dueling_q_network, obs_dim, n_actions, hidden,
                      hint="build it with the functional API: keras.Input, the Dense trunk, two Dense heads, and "
                           "join the heads with keras.ops (keras.ops.mean, not tf.reduce_mean or np.mean): the "
                           "symbolic tensors of a Keras model take keras.ops functions and arithmetic only")
        if not isinstance(model, keras.Model):
            fail("06.2", f"returned {type(model).__name__}", "return a keras.Model built with the functional API")
        # 7 rows, never a number of actions: Keras 3's TensorFlow ops.add turns (batch, n) + (batch, 1) into a bias_add
        # along the last axis when batch == n (keras-team/keras PR 20386), which would fail `A - mean + V` here
        x = np.random.default_rng(obs_dim).normal(size=(7, obs_dim)).astype(np.float32)
        q = np.asarray(call("06.2", model, x, hint=f"the model's input takes obs_dim={obs_dim} features; average the "
                            "advantages over the actions with keepdims=True, so the mean has shape (batch, 1)"))
        if q.shape != (7, n_actions):
            fail("06.2", f"for obs_dim={obs_dim}, n_actions={n_actions} the output has shape {q.shape}",
                 f"expected (7, {n_actions}): one Q-value per action; keep the action axis when you average "
                 "(keepdims=True) so the mean broadcasts")
        layers = {layer.name: layer for layer in model.layers if isinstance(layer, keras.layers.Dense)}
        for name, units in (("value", 1), ("advantages", n_actions)):
            if name not in layers:
                fail("06.2", f"no Dense layer named {name!r} (Dense layers: {sorted(layers)})",
                     f"name the heads: keras.layers.Dense(1, name='value') and "
                     f"keras.layers.Dense(n_actions, name='advantages')")
            if layers[name].units != units:
                fail("06.2", f"the {name!r} head has {layers[name].units} units", f"it needs {units}")
            if layers[name].activation.__name__ != "linear":
                fail("06.2", f"the {name!r} head uses {layers[name].activation.__name__}",
                     "the heads are linear: returns can be any number")
        trunk = [layer for name, layer in layers.items() if name not in ("value", "advantages")]
        if [layer.units for layer in trunk] != list(hidden):
            fail("06.2", f"the shared trunk has Dense sizes {[layer.units for layer in trunk]}, expected {list(hidden)}",
                 "one Dense layer (ReLU) per entry of hidden_units, then the two heads on its output")
        relu_trunk = _acts_as_relu_trunk(model)
        if any(layer.activation.__name__ != "relu" for layer in trunk) and not relu_trunk:
            fail("06.2", f"trunk activations {[layer.activation.__name__ for layer in trunk]}",
                 "use activation='relu' on every trunk layer (or a ReLU layer after each)")
        heads = keras.Model(model.inputs, [layers["value"].output, layers["advantages"].output])
        value, advantages = (np.asarray(h, dtype=float) for h in heads(x))
        _diagnose_combination(q.astype(float), value, advantages)
        if not relu_trunk:
            fail("06.2", f"for obs_dim={obs_dim}, n_actions={n_actions} the network is not a trunk of Dense ReLU "
                 "layers whose last output feeds both heads, with the heads' dueling combination as its output",
                 "both heads read the last trunk layer's output; the model's output is their combination and "
                 "nothing else (no layer after it, none skipped)")
    default = build_dueling_q_network(4, 2)
    sizes = [layer.units for layer in default.layers if isinstance(layer, keras.layers.Dense)]
    if sorted(sizes) != [1, 2, 64, 64]:
        fail("06.2", "the default hidden_units is not (64, 64)", "keep the signature's default hidden_units=(64, 64)")
    one, two = build_dueling_q_network(4, 2), build_dueling_q_network(4, 2)
    if any(a is b for a, b in zip(one.weights, two.weights)):
        fail("06.2", "two calls returned networks that share weights",
             "create new layers inside the function on every call (the target network is a second call)")
    passed("06.2", len(cases) + 2)


@guarded("06.3", "pass a dict {'double': returns, 'dueling': returns} of the arrays cu.evaluate gave")
def check_variants_solve(greedy_returns: dict, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check that double DQN and dueling DQN each reach ``threshold`` over ``episodes`` greedy episodes."""
    each_reaches("06.3", greedy_returns, ("double", "dueling"), threshold, episodes,
                 f"{{name}} DQN: greedy mean over {episodes} episodes >= {threshold:g}.",
                 "check your {name} exercise; the run uses it")
