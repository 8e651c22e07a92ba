"""Checks of lesson 07: TD advantages and the actor-critic losses."""
from __future__ import annotations

import numpy as np

from . import fail, guarded, mean_return_reaches, passed


def reference_td_advantages(rewards, values, next_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_values - values


@guarded("07.1", "elementwise on the batch: rewards + gamma * (1 - terminated) * next_values - values")
def check_td_advantages(td_advantages) -> None:
    """Check ``td_advantages(rewards, values, next_values, terminated, gamma)``: one-step TD errors."""
    rng = np.random.default_rng(11)
    for gamma in (0.99, 0.9, 0.0):
        n = 32
        r = rng.normal(1.0, 1.0, n).astype(np.float32)
        v, nv = rng.normal(5, 2, n).astype(np.float32), rng.normal(5, 2, n).astype(np.float32)
        term = (rng.random(n) < 0.3).astype(np.float32)
        got = np.asarray(td_advantages(r, v, nv, term, gamma), dtype=float)
        want = reference_td_advantages(r, v, nv, term, gamma)
        if got.shape != want.shape:
            fail("07.1", f"returned shape {got.shape} for {n} transitions", "return one advantage per transition")
        if np.allclose(got, want, atol=1e-5):
            continue
        if np.allclose(got, r + gamma * nv - v, atol=1e-5):
            fail("07.1", "transitions with terminated=1 still add gamma * V(s')",
                 "you bootstrapped from a terminal state: multiply gamma * V(s') by (1 - terminated)")
        if np.allclose(got, want + v, atol=1e-5):
            fail("07.1", "the result is the TD target, not the advantage", "subtract the critic's V(s): target - values")
        if np.allclose(got, -want, atol=1e-5):
            fail("07.1", "the sign is flipped", "advantage = r + gamma * V(s') * (1 - terminated) - V(s)")
        fail("07.1", f"advantages differ from r + gamma * (1 - terminated) * V(s') - V(s) (gamma={gamma})",
             "compute it element-wise on the arrays")
    passed("07.1", 3)


def reference_losses(logits, values, actions, advantages, returns, entropy_coef):
    import tensorflow as tf

    log_probs = tf.nn.log_softmax(logits)
    taken = tf.gather(log_probs, actions, axis=1, batch_dims=1)
    entropy = -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=1))
    actor_loss = -tf.reduce_mean(taken * tf.stop_gradient(advantages)) - entropy_coef * entropy
    critic_loss = tf.reduce_mean(tf.square(tf.stop_gradient(returns) - values))
    return actor_loss, critic_loss, entropy


@guarded("07.2", "log-probabilities by tf.nn.log_softmax; actor loss -mean(log pi(a|s) * stop_gradient(advantages)) - entropy_coef * entropy; critic loss mean((stop_gradient(returns) - values)^2); return the three")
def check_actor_critic_losses(actor_critic_losses) -> None:
    """Check ``actor_critic_losses(logits, values, actions, advantages, returns, entropy_coef)``."""
    import tensorflow as tf

    rng = np.random.default_rng(12)
    for batch, n, coef in [(16, 2, 0.01), (5, 3, 0.1), (8, 2, 0.0)]:
        logits = tf.Variable(rng.normal(size=(batch, n)).astype(np.float32))
        values = tf.Variable(rng.normal(size=batch).astype(np.float32))
        advantages = tf.Variable(rng.normal(size=batch).astype(np.float32))
        returns = tf.Variable(rng.normal(size=batch).astype(np.float32))
        actions = tf.constant(rng.integers(n, size=batch))
        with tf.GradientTape(persistent=True) as tape:
            out = actor_critic_losses(logits, values, actions, advantages, returns, coef)
            ref = reference_losses(logits, values, actions, advantages, returns, coef)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            fail("07.2", f"returned {type(out).__name__}", "return a tuple (actor_loss, critic_loss, entropy)")
        (a, c, e), (ra, rc, re) = out, ref
        if not np.isclose(float(e), float(re), atol=1e-5):
            hint = ("entropy is MINUS sum p log p: it is positive" if np.isclose(float(e), -float(re), atol=1e-5)
                    else "entropy = -mean over the batch of sum_a pi(a|s) log pi(a|s)")
            fail("07.2", f"entropy {float(e):.4f}, expected {float(re):.4f}", hint)
        if coef and np.isclose(float(a), float(ra) + 2 * coef * float(re), atol=1e-5):
            fail("07.2", "the entropy bonus has the wrong sign",
                 "we minimise the actor loss and want MORE entropy: actor_loss = pg_loss - entropy_coef * entropy")
        if not np.isclose(float(a), float(ra), atol=1e-5):
            fail("07.2", f"actor loss {float(a):.4f}, expected {float(ra):.4f}",
                 "-mean(log pi(a|s) * advantage) - entropy_coef * entropy")
        if np.isclose(float(c), 0.5 * float(rc), atol=1e-5) or not np.isclose(float(c), float(rc), atol=1e-5):
            fail("07.2", f"critic loss {float(c):.4f}, expected {float(rc):.4f}", "mean of (returns - values) ** 2")
        for name, var in [("advantages", advantages), ("returns", returns)]:
            g = tape.gradient(a if name == "advantages" else c, var)
            if g is not None and np.abs(np.asarray(g)).max() > 0:
                fail("07.2", f"gradient flows into the {name}",
                     f"wrap the {name} in tf.stop_gradient: they are targets computed from the critic, not parameters")
        for got_loss, ref_loss, var in [(a, ra, logits), (c, rc, values)]:
            g, rg = tape.gradient(got_loss, var), tape.gradient(ref_loss, var)
            if g is None or not np.allclose(g, rg, atol=1e-5):
                fail("07.2", "a loss has the right value but the wrong gradient",
                     "build the losses from TensorFlow operations (no .numpy() inside)")
        del tape
    passed("07.2", 3)


@guarded("07.3", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained actor's greedy mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("07.3", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "train for more updates; check the signs of the losses and the terminal mask")
