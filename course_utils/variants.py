"""Other versions of the lessons' pieces, made from the lessons' own text (lesson 04, the bench).

``swap_globals`` runs a lesson's function with some of the names it calls bound to
something else: lesson 04's ``dqn_train_step`` calling a squared-error loss is exactly
what a student who answered exercise 04.3 with the squared error trains. Nothing here
imports a lesson: the buggy pieces lesson 10 diagnoses, which call the lessons' functions,
are in the debugging kit (``course_utils.debugging.suspects``).
"""
from __future__ import annotations

import types
from typing import Callable


def swap_globals(function: Callable, **names) -> Callable:
    """Return ``function`` (its very code) with the global ``names`` bound to the objects given."""
    unknown = sorted(set(names) - set(function.__code__.co_names))
    if unknown:
        raise ValueError(f"swap_globals: {function.__name__} does not use {', '.join(unknown)}; "
                         f"it uses {', '.join(sorted(function.__code__.co_names))}")
    bound = {**function.__globals__, **names}
    return types.FunctionType(function.__code__, bound, function.__name__, function.__defaults__, function.__closure__)


def squared_error_loss(q_network, batch, targets):
    """Exercise 04.3 answered with the squared error, which its check accepts as well as the Huber loss."""
    import tensorflow as tf

    q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
    return tf.reduce_mean(tf.square(tf.stop_gradient(targets) - q_taken))
