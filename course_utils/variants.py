"""Other versions of the lessons' pieces, made from the lessons' own text (lessons 03 and 08, the bench).

``swap_globals`` runs a lesson's function with some of the names it calls bound to
something else: lesson 03's ``dqn_train_step`` calling a squared-error loss is exactly
what a student who answered exercise 03.3 with the squared error trains. The buggy
pieces below are the classic mistakes lesson 08's probe environments expose; each
docstring says what is wrong, so read them after the lesson, not before.
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
    """Exercise 03.3 answered with the squared error, which its check accepts as well as the Huber loss."""
    import tensorflow as tf

    q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
    return tf.reduce_mean(tf.square(tf.stop_gradient(targets) - q_taken))


# ------------------------------------------------------------------ buggy pieces (lesson 08)
# Each is the lesson's own function called wrongly, so the bug is the one thing that differs.


def td_targets_without_terminal_mask(rewards, next_q_values, terminated, gamma):
    """Bug: bootstraps from the next observation even when the episode has ended."""
    from .lessons.lesson03 import td_targets

    return td_targets(rewards, next_q_values, 0.0 * terminated, gamma)


def dqn_loss_on_the_best_action(q_network, batch, targets):
    """Bug: moves max_a Q(s, a) towards the target instead of Q(s, a) of the action taken."""
    import tensorflow as tf

    from .lessons.lesson03 import dqn_loss

    greedy = tf.argmax(q_network(batch.obs), axis=1, output_type=batch.actions.dtype)
    return dqn_loss(q_network, batch._replace(actions=greedy), targets)


def policy_gradient_loss_sign_flipped(logits, actions, weights):
    """Bug: the policy-gradient loss without its minus sign, so gradient descent makes bad actions likelier."""
    from .lessons.lesson06 import policy_gradient_loss

    return -policy_gradient_loss(logits, actions, weights)


def td_advantages_without_terminal_mask(rewards, values, next_values, terminated, gamma):
    """Bug: the critic bootstraps from V(s') even when the episode has ended."""
    from .lessons.lesson07 import td_advantages

    return td_advantages(rewards, values, next_values, 0.0 * terminated, gamma)


def td_advantages_without_discount(rewards, values, next_values, terminated, gamma):
    """Bug: the discount is left out of the TD target, r + V(s') instead of r + gamma * V(s')."""
    from .lessons.lesson07 import td_advantages

    return td_advantages(rewards, values, next_values, terminated, 1.0)
