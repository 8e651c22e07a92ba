"""Checks of lesson 04: hard and soft target-network updates."""
from __future__ import annotations

import numpy as np

from . import describe, each_reaches, fail, guarded, passed


def _pair(seed_online, seed_target):
    import keras

    def net(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
        rng = np.random.default_rng(seed)
        for layer in model.layers:  # non-zero biases, so a copy that skips them shows
            layer.bias.assign(rng.normal(size=layer.bias.shape).astype(np.float32))
        return model
    return net(seed_online), net(seed_target)


@guarded("04.1", "target.set_weights(online.get_weights()) copies every weight; the networks must stay two separate models")
def check_hard_update(hard_update) -> None:
    """Check ``hard_update(target, online)``: every weight copied, the two networks stay separate."""
    online, target = _pair(0, 1)
    want, before = online.get_weights(), target.get_weights()
    hard_update(target, online)
    if not all(np.array_equal(a, b) for a, b in zip(online.get_weights(), want)):
        if all(np.allclose(a, b) for a, b in zip(online.get_weights(), before)):
            fail("04.1", "the online network received the target's weights: the copy went the wrong way",
                 "hard_update(target, online) copies online into target: target.set_weights(online.get_weights())")
        fail("04.1", "the online network's weights changed", "only the target network may change")
    got = target.get_weights()
    same = [np.allclose(a, b) for a, b in zip(got, want)]
    if not any(same):
        if all(np.allclose(a, b) for a, b in zip(got, before)):
            fail("04.1", "the target's weights did not change",
                 "assigning `target = online` only renames a local variable; copy the weights: "
                 "target.set_weights(online.get_weights())")
        share = _blend_share(got, before, want)
        if share is not None:
            fail("04.1", f"the target moved only part of the way: it became a blend of {share:.0%} online and "
                 f"{1 - share:.0%} target weights", "a hard update is a full copy, not a soft update: "
                 "target.set_weights(online.get_weights()) (or every weight's assign with tau = 1)")
        fail("04.1", "the target's weights changed, but not to the online network's",
             "copy the online network's weights unchanged: target.set_weights(online.get_weights())")
    if not all(same):
        names = [v.path for v, ok in zip(target.weights, same) if not ok]
        fail("04.1", f"these weights were not copied: {names}", "copy every weight of every layer, kernels and biases")
    online.layers[0].kernel.assign(online.layers[0].kernel + 1.0)
    if np.allclose(target.layers[0].kernel.numpy(), online.layers[0].kernel.numpy()):
        fail("04.1", "after the copy, changing the online network changed the target too",
             "copy the values (set_weights / assign), do not make the target share the online network's variables")
    passed("04.1", 3)


def _blend_share(got, before, want):
    """Return s in (0, 1) when every weight of ``got`` is s * want + (1 - s) * before, else None."""
    step = np.concatenate([(w - b).ravel() for w, b in zip(want, before)])
    moved = np.concatenate([(g - b).ravel() for g, b in zip(got, before)])
    share = float(moved @ step / (step @ step))
    if 0 < share < 1 and np.allclose(moved, share * step, atol=1e-5):
        return share
    return None


@guarded("04.2", "for each pair of weights: target_weight.assign(tau * online_weight + (1 - tau) * target_weight), with Keras/TensorFlow ops so it runs inside tf.function")
def check_soft_update(soft_update) -> None:
    """Check ``soft_update(target, online, tau)``: target <- tau * online + (1 - tau) * target, every weight."""
    import tensorflow as tf

    for tau in (0.1, 0.5, 0.0, 1.0):
        online, target = _pair(2, 3)
        o, t = online.get_weights(), target.get_weights()
        soft_update(target, online, tau)
        got = target.get_weights()
        want = [tau * a + (1 - tau) * b for a, b in zip(o, t)]
        if all(np.allclose(g, w, atol=1e-6) for g, w in zip(got, want)):
            if any(not np.allclose(a, b) for a, b in zip(online.get_weights(), o)):
                fail("04.2", "the online network changed", "only the target moves; the online network is read")
            continue
        swapped = [(1 - tau) * a + tau * b for a, b in zip(o, t)]
        if all(np.allclose(g, w, atol=1e-6) for g, w in zip(got, swapped)):
            fail("04.2", f"with tau={tau} the target moved by 1 - tau", "target <- tau * online + (1 - tau) * target")
        wrong = [v.path for v, g, w in zip(target.weights, got, want) if not np.allclose(g, w, atol=1e-6)]
        fail("04.2", f"with tau={tau} these weights are not tau * online + (1 - tau) * target: {wrong}",
             "update every weight of every layer (kernels and biases): loop over zip(target.weights, online.weights)")
    online, target = _pair(4, 5)
    o, t = online.get_weights(), target.get_weights()
    try:
        tf.function(lambda: soft_update(target, online, 0.25))()
    except Exception as err:  # noqa: BLE001 - get_weights/set_weights and .numpy() fail on symbolic tensors
        what = f"soft_update fails inside tf.function: it {describe(err)}"
    else:
        what = None
    if what:
        fail("04.2", what,
             "use variable.assign(...) (get_weights/set_weights only work eagerly): it runs after every gradient step")
    if not all(np.allclose(g, 0.25 * a + 0.75 * b, atol=1e-6) for g, a, b in zip(target.get_weights(), o, t)):
        fail("04.2", "inside tf.function the update gave other values", "use variable.assign(...) on every weight")
    passed("04.2", 5)


@guarded("04.3", "pass a dict {'hard': returns, 'soft': returns} of the arrays cu.evaluate gave")
def check_targets_solve(greedy_returns: dict, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check that DQN with each kind of target update reaches ``threshold`` over ``episodes`` episodes."""
    each_reaches("04.3", greedy_returns, ("hard", "soft"), threshold, episodes,
                 f"{{name}} target updates: greedy mean over {episodes} episodes >= {threshold:g}.",
                 "check your {name}_update; the runs use it for the target network")
