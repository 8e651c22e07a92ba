"""The buggy pieces of lesson 10's suspects: the lessons' own functions called wrongly.

Each is a classic mistake that lesson 10's probe environments expose; each docstring says
what is wrong, so read them after the lesson, not before. They sit in the debugging kit,
above the lessons whose functions they call.
"""
from __future__ import annotations


# Each is the lesson's own function called wrongly, so the bug is the one thing that differs.


def td_targets_without_terminal_mask(rewards, next_q_values, terminated, gamma):
    """Bug: bootstraps from the next observation even when the episode has ended."""
    from ..lessons.lesson04 import td_targets

    return td_targets(rewards, next_q_values, 0.0 * terminated, gamma)


def dqn_loss_on_the_best_action(q_network, batch, targets):
    """Bug: moves max_a Q(s, a) towards the target instead of Q(s, a) of the action taken."""
    import tensorflow as tf

    from ..lessons.lesson04 import dqn_loss

    greedy = tf.argmax(q_network(batch.obs), axis=1, output_type=batch.actions.dtype)
    return dqn_loss(q_network, batch._replace(actions=greedy), targets)


def policy_gradient_loss_sign_flipped(logits, actions, weights):
    """Bug: the policy-gradient loss without its minus sign, so gradient descent makes bad actions likelier."""
    from ..lessons.lesson07 import policy_gradient_loss

    return -policy_gradient_loss(logits, actions, weights)


def critic_targets_without_terminal_mask(rewards, values, next_values, terminated, gamma):
    """Bug: the critic bootstraps from V(s') even when the episode has ended."""
    from ..lessons.lesson08 import advantages_and_targets

    return advantages_and_targets(rewards, values, next_values, 0.0 * terminated, gamma)


def critic_targets_without_discount(rewards, values, next_values, terminated, gamma):
    """Bug: the discount is left out of the TD target, r + V(s') instead of r + gamma * V(s')."""
    from ..lessons.lesson08 import advantages_and_targets

    return advantages_and_targets(rewards, values, next_values, terminated, 1.0)
