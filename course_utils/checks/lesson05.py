"""Checks of lesson 05: the target-network updates (hard copies and soft Polyak averaging) and the runs that use them."""
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


def _first(arrays) -> float:
    """The first number of a list of weight arrays, for a message's small case."""
    return float(np.asarray(arrays[0]).ravel()[0])


def _hard(hard_update, ex: str) -> int:
    """Check ``hard_update(target, online)``: every weight copied, the two networks stay separate."""
    online, target = _pair(0, 1)
    want, before = online.get_weights(), target.get_weights()
    hard_update(target, online)
    if not all(np.array_equal(a, b) for a, b in zip(online.get_weights(), want)):
        if all(np.allclose(a, b) for a, b in zip(online.get_weights(), before)):
            fail(ex, "the online network received the target's weights: the copy went the wrong way",
                 "hard_update(target, online) copies the online network into the target network, not back")
        fail(ex, "the online network's weights changed", "only the target network may change")
    got = target.get_weights()
    same = [np.allclose(a, b) for a, b in zip(got, want)]
    if not any(same):
        if all(np.allclose(a, b) for a, b in zip(got, before)):
            fail(ex, "the target's weights did not change",
                 "assigning `target = online` only renames a local variable; copy the values of the online "
                 "network's weights into the target's")
        share = _blend_share(got, before, want)
        if share is not None:
            fail(ex, f"the target moved only part of the way: it became a blend of {share:.0%} online and "
                 f"{1 - share:.0%} target weights", "a hard update is a full copy, not a soft update (it is a soft update with tau = 1)")
        fail(ex, f"the target's weights changed, but not to the online network's: its first kernel weight is "
             f"{_first(got):.4f}, the online network's {_first(want):.4f} (it was {_first(before):.4f})",
             "copy the online network's weights unchanged")
    if not all(same):
        names = [v.path for v, ok in zip(target.weights, same) if not ok]
        fail(ex, f"these weights were not copied: {names}", "copy every weight of every layer, kernels and biases")
    online.layers[0].kernel.assign(online.layers[0].kernel + 1.0)
    if np.allclose(target.layers[0].kernel.numpy(), online.layers[0].kernel.numpy()):
        fail(ex, "after the copy, changing the online network changed the target too",
             "copy the values (set_weights / assign), do not make the target share the online network's variables")
    return 3


def _blend_share(got, before, want):
    """Return s in (0, 1) when every weight of ``got`` is s * want + (1 - s) * before, else None."""
    step = np.concatenate([(w - b).ravel() for w, b in zip(want, before)])
    moved = np.concatenate([(g - b).ravel() for g, b in zip(got, before)])
    share = float(moved @ step / (step @ step))
    if 0 < share < 1 and np.allclose(moved, share * step, atol=1e-5):
        return share
    return None


def _soft(soft_update, ex: str) -> int:
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
                fail(ex, "the online network changed", "only the target moves; the online network is read")
            continue
        swapped = [(1 - tau) * a + tau * b for a, b in zip(o, t)]
        if all(np.allclose(g, w, atol=1e-6) for g, w in zip(got, swapped)):
            fail(ex, f"with tau={tau} the target moved by 1 - tau", "target <- tau * online + (1 - tau) * target")
        wrong = [v.path for v, g, w in zip(target.weights, got, want) if not np.allclose(g, w, atol=1e-6)]
        fail(ex, f"with tau={tau} these weights are not tau * online + (1 - tau) * target: {wrong}; the first "
             f"kernel weight became {_first(got):.4f}, expected {tau} * {_first(o):.4f} + {1 - tau:g} * {_first(t):.4f} "
             f"= {_first(want):.4f}", "update every weight of every layer, kernels and biases, each from its own "
             "counterpart in the online network")
    online, target = _pair(4, 5)
    o, t = online.get_weights(), target.get_weights()
    try:
        tf.function(lambda: soft_update(target, online, 0.25))()
    except Exception as err:  # noqa: BLE001 - get_weights/set_weights and .numpy() fail on symbolic tensors
        what = f"soft_update fails inside tf.function: it {describe(err)}"
    else:
        what = None
    if what:
        fail(ex, what,
             "the training step is compiled, and get_weights/set_weights (which go through NumPy) only work "
             "outside it: change the target's variables in place with TensorFlow operations")
    got = target.get_weights()
    if not all(np.allclose(g, 0.25 * a + 0.75 * b, atol=1e-6) for g, a, b in zip(got, o, t)):
        fail(ex, f"inside tf.function, with tau=0.25, the first kernel weight became {_first(got):.4f}, expected "
             f"{0.25 * _first(o) + 0.75 * _first(t):.4f}", "change the variables in place with TensorFlow "
             "operations, so that the compiled step runs them")
    return 5


@guarded("05.1", "hard_update(target, online) copies every weight of online into target and returns nothing; "
         "soft_update(target, online, tau) moves every target weight to tau * online + (1 - tau) * target, in place "
         "and inside tf.function; for tau=0.5, a target weight 0.0 and an online weight 1.0 become 0.5")
def check_target_updates(hard_update, soft_update) -> None:
    """Check exercise 05.1: ``hard_update(target, online)`` and ``soft_update(target, online, tau)``."""
    cases = _hard(hard_update, "05.1") + _soft(soft_update, "05.1")
    passed("05.1", cases)


@guarded("05.2", "pass a dict {'hard': returns, 'soft': returns} of the arrays cu.evaluate gave")
def check_targets_solve(greedy_returns: dict, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check that DQN with each kind of target update reaches ``threshold`` over ``episodes`` episodes."""
    each_reaches("05.2", greedy_returns, ("hard", "soft"), threshold, episodes,
                 f"{{name}} target updates: greedy mean over {episodes} episodes >= {threshold:g}.",
                 "check your {name}_update; the runs use it for the target network")
