"""Checks of lesson 07: TD advantages and the actor-critic losses."""
from __future__ import annotations

import numpy as np

from . import fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed


def reference_td_advantages(rewards, values, next_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_values - values


@guarded("07.1", "elementwise on the batch: rewards + gamma * (1 - terminated) * next_values - values")
def check_td_advantages(td_advantages) -> None:
    """Check ``td_advantages(rewards, values, next_values, terminated, gamma)``: one-step TD errors.

    The training loop passes float32 NumPy arrays and goes on with NumPy (``.mean()``,
    ``.std()``) before feeding the result to TensorFlow next to float32 tensors, so the
    result must be a float32 NumPy array.
    """
    rng = np.random.default_rng(11)
    for gamma in (0.99, 0.9, 0.0):
        n = 32
        r = rng.normal(1.0, 1.0, n).astype(np.float32)
        v, nv = rng.normal(5, 2, n).astype(np.float32), rng.normal(5, 2, n).astype(np.float32)
        term = (rng.random(n) < 0.3).astype(np.float32)
        got = td_advantages(r.copy(), v.copy(), nv.copy(), term.copy(), gamma)
        if isinstance(got, (float, np.generic)) or isinstance(got, np.ndarray) and got.shape == ():
            fail("07.1", f"returned one number ({type(got).__name__}), expected an array of {n} advantages",
                 "do not average or sum: one advantage per transition, element-wise on the arrays")
        if not isinstance(got, np.ndarray):
            fail("07.1", f"returned {type(got).__name__} for NumPy arrays, expected a NumPy array",
                 "the training loop goes on with NumPy (advantages.mean(), .std()): use plain arithmetic on the "
                 "arrays, no tf operations")
        if got.shape != (n,):
            fail("07.1", f"returned shape {got.shape} for {n} transitions", "return one advantage per transition")
        if got.dtype != np.float32:
            fail("07.1", f"float32 inputs gave a {got.dtype} result",
                 "keep float32 (no astype(float), np.float64 or np.array(..., dtype=float)): the training step "
                 "multiplies the advantages with float32 tensors, and TensorFlow does not mix dtypes")
        got = got.astype(float)
        want = reference_td_advantages(r, v, nv, term, gamma)
        if np.allclose(got, want, atol=1e-5):
            continue
        mask = 1.0 - term
        if np.allclose(got, r + gamma * nv - v, atol=1e-5):
            fail("07.1", "transitions with terminated=1 still add gamma * V(s')",
                 "you bootstrapped from a terminal state: multiply gamma * V(s') by (1 - terminated)")
        if np.allclose(got, r + gamma * term * nv - v, atol=1e-5):
            fail("07.1", "only the terminated transitions add gamma * V(s'): the mask is inverted",
                 "multiply by (1 - terminated), which is 0 when the episode terminated")
        if np.allclose(got, mask * (r + gamma * nv) - v, atol=1e-5):
            fail("07.1", "the reward of terminated transitions was masked too",
                 "only the bootstrapped part goes: r + gamma * (1 - terminated) * V(s') - V(s)")
        if np.allclose(got, want + v, atol=1e-5):
            fail("07.1", "the result is the TD target, not the advantage", "subtract the critic's V(s): target - values")
        if np.allclose(got, -want, atol=1e-5):
            fail("07.1", "the sign is flipped", "advantage = r + gamma * V(s') * (1 - terminated) - V(s)")
        if gamma and np.allclose(got, r + mask * nv - v, atol=1e-5):
            fail("07.1", "V(s') is not discounted", "multiply the next value by gamma")
        if np.allclose(got, r + gamma * mask * v - nv, atol=1e-5):
            fail("07.1", "values and next_values are swapped", "bootstrap from next_values, V(s'), and subtract values, V(s)")
        fail("07.1", f"advantages differ from r + gamma * (1 - terminated) * V(s') - V(s) (gamma={gamma})",
             "compute it element-wise on the arrays")
    passed("07.1", 3)


def reference_losses(logits, values, actions, advantages, returns, entropy_coef):
    """The check's own actor and critic losses: written apart from the lesson's solution on purpose.

    It repeats what ``lessons.lesson07`` computes, so that a mistake in the solution
    and the check's oracle would have to be made twice to pass unnoticed.
    """
    import tensorflow as tf

    log_probs = tf.nn.log_softmax(logits)
    taken = tf.gather(log_probs, actions, axis=1, batch_dims=1)
    entropy = -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=1))
    actor_loss = -tf.reduce_mean(taken * tf.stop_gradient(advantages)) - entropy_coef * entropy
    critic_loss = tf.reduce_mean(tf.square(tf.stop_gradient(returns) - values))
    return actor_loss, critic_loss, entropy


def _three_scalars(out) -> tuple:
    """Return the three losses as floats, failing with a message when ``out`` is not three numbers."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        fail("07.2", f"returned {type(out).__name__}{size}, expected a tuple of three losses",
             "return actor_loss, critic_loss, entropy (in this order)")
    values = []
    for name, x in zip(("actor_loss", "critic_loss", "entropy"), out):
        shape = tuple(getattr(x, "shape", np.shape(x))) if x is not None else None
        if shape != ():
            fail("07.2", f"{name} is {type(x).__name__}" + (f" of shape {shape}" if shape else "") +
                 ", expected one number", "average over the batch (tf.reduce_mean) so each is a scalar")
        values.append(float(np.asarray(x)))
    return tuple(values)


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
        a, c, e = _three_scalars(out)
        ra, rc, re = (float(x) for x in ref)
        _diagnose(a, c, e, ra, rc, re, coef, logits.numpy(), values.numpy(), actions.numpy(), advantages.numpy(),
                  returns.numpy())
        for name, loss in zip(("actor_loss", "critic_loss"), out):
            must_be_tensor("07.2", loss, name, "build the losses from TensorFlow operations (tf.nn.log_softmax, "
                            "tf.gather, tf.reduce_mean, tf.square): no .numpy() or np.* inside")
        for name, loss, var in [("advantages", out[0], advantages), ("returns", out[1], returns)]:
            g = tape.gradient(loss, var)
            if g is not None and np.abs(np.asarray(g)).max() > 0:
                fail("07.2", f"gradient flows into the {name}",
                     f"wrap the {name} in tf.stop_gradient: they are targets computed from the critic, not parameters")
        for got_loss, ref_loss, var in [(out[0], ref[0], logits), (out[1], ref[1], values)]:
            g, rg = tape.gradient(got_loss, var), tape.gradient(ref_loss, var)
            if g is None or not np.allclose(g, rg, atol=1e-5):
                fail("07.2", "a loss has the right value but the wrong gradient",
                     "build the losses from TensorFlow operations (no .numpy() inside)")
        del tape
        if batch == 16:
            first = (logits, values, actions, advantages, returns, coef)
    matches_when_compiled("07.2", actor_critic_losses, first, reference_losses,
              "use TensorFlow operations only (no .numpy() or np.* on tensors): the training step compiles "
              "the losses")
    passed("07.2", 3)


def _diagnose(a, c, e, ra, rc, re, coef, logits, values, actions, advantages, returns) -> None:
    """Fail 07.2 with the likely mistake when the three values are not the reference's."""
    if np.allclose([a, c], [rc, ra], atol=1e-5) and not np.isclose(ra, rc, atol=1e-5):
        fail("07.2", "the actor and critic losses are swapped", "return (actor_loss, critic_loss, entropy) in this order")
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    if not np.isclose(e, re, atol=1e-5):
        if np.isclose(e, -re, atol=1e-5):
            hint = "entropy is MINUS sum p log p: it is positive"
        elif np.isclose(e, re * len(logits), atol=1e-4):
            hint = "that is the sum over the batch: take the mean over the batch of each state's entropy"
        elif np.isclose(e, -np.mean(probs * log_probs), atol=1e-5):
            hint = "sum over the actions first (axis=1), then average over the batch"
        else:
            hint = "entropy = -mean over the batch of sum_a pi(a|s) log pi(a|s)"
        fail("07.2", f"entropy {e:.4f}, expected {re:.4f}", hint)
    rows = np.arange(len(actions))
    pg = -np.mean(log_probs[rows, actions] * advantages)
    if coef and np.isclose(a, ra + 2 * coef * re, atol=1e-5):
        fail("07.2", "the entropy bonus has the wrong sign",
             "we minimise the actor loss and want MORE entropy: actor_loss = pg_loss - entropy_coef * entropy")
    if coef and np.isclose(a, pg, atol=1e-5):
        fail("07.2", f"actor loss {a:.4f}, expected {ra:.4f}: the entropy bonus is missing",
             "actor_loss already includes the bonus: -mean(log pi(a|s) * advantage) - entropy_coef * entropy")
    if not np.isclose(a, ra, atol=1e-5):
        causes = [
            (-pg - coef * re, "the sign of the policy-gradient term is flipped",
             "the loss is MINUS mean(log pi(a|s) * advantage): minimising it raises the advantaged actions"),
            (-np.mean(probs[rows, actions] * advantages) - coef * re, "the actor loss uses probabilities",
             "use log-probabilities: tf.nn.log_softmax(logits)"),
            (-np.mean(logits[rows, actions] * advantages) - coef * re, "the actor loss uses the raw logits",
             "turn the logits into log-probabilities: tf.nn.log_softmax(logits)"),
            (len(rows) * pg - coef * re, "the policy-gradient term is a sum over the batch", "take the mean"),
        ]
        for value, what, hint in causes:
            if np.isclose(a, value, atol=1e-5):
                fail("07.2", f"actor loss {a:.4f}, expected {ra:.4f}: {what}", hint)
        fail("07.2", f"actor loss {a:.4f}, expected {ra:.4f}",
             "-mean(log pi(a|s) * advantage) - entropy_coef * entropy")
    if not np.isclose(c, rc, atol=1e-5):
        err = returns - values
        causes = [
            (0.5 * rc, "half the mean squared error", "this lesson's critic loss has no 1/2: mean((returns - values)**2)"),
            (np.mean(np.abs(err)), "the mean absolute error", "square the errors: mean((returns - values)**2)"),
            (np.sum(err ** 2), "a sum over the batch", "take the mean: tf.reduce_mean"),
            (np.mean(np.where(np.abs(err) <= 1, 0.5 * err ** 2, np.abs(err) - 0.5)), "a Huber loss",
             "the critic regresses with a mean squared error here: mean((returns - values)**2)"),
            (np.mean(err) ** 2, "the square of the mean error", "square each error, then average"),
        ]
        for value, what, hint in causes:
            if np.isclose(c, value, atol=1e-5):
                fail("07.2", f"critic loss {c:.4f}, expected {rc:.4f}: it is {what}", hint)
        fail("07.2", f"critic loss {c:.4f}, expected {rc:.4f}", "mean of (returns - values) ** 2")


@guarded("07.3", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained actor's greedy mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("07.3", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "train for more updates; check the signs of the losses and the terminal mask")
