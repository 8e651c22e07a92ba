"""Checks of lesson 06: returns-to-go, the policy-gradient loss, the baseline."""
from __future__ import annotations

import numpy as np

from . import fail, guarded, mean_return_reaches, passed


def reference_returns(rewards, gamma) -> np.ndarray:
    out, g = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


@guarded("06.1", "loop backwards over the rewards: G_t = r_t + gamma * G_{t+1}, one value per reward, as a NumPy array")
def check_discounted_returns(discounted_returns) -> None:
    """Check ``discounted_returns(rewards, gamma)``: the return to go of every step."""
    rng = np.random.default_rng(6)
    cases = [([1.0, 1.0, 1.0], 0.9), ([0.0, 0.0, 1.0], 0.5), ([2.0], 0.99), ([1.0, 2.0, 3.0, 4.0], 0.0),
             ([1.0, -1.0, 2.0], 1.0), (list(rng.normal(size=50)), 0.97), ([1.0] * 500, 0.99)]
    for rewards, gamma in cases:
        got = np.asarray(discounted_returns(rewards, gamma), dtype=float)
        want = reference_returns(rewards, gamma)
        if got.shape != want.shape:
            fail("06.1", f"returned shape {got.shape} for {len(rewards)} rewards", "return one value per step")
        if np.allclose(got, want):
            continue
        shown = f"discounted_returns({rewards[:5]}{'...' if len(rewards) > 5 else ''}, {gamma})"
        prefix = np.array([sum(r * gamma**k for k, r in enumerate(reversed(rewards[:t + 1]))) for t in range(len(rewards))])
        if np.allclose(got, prefix) or np.allclose(got, np.cumsum(rewards)):
            fail("06.1", f"{shown} = {np.round(got[:5], 3).tolist()}: the sums run forwards",
                 "the return to go at step t adds the rewards from t to the END: loop backwards")
        if np.allclose(got, np.full(len(rewards), want[0])):
            fail("06.1", f"{shown} gave every step the whole episode's return",
                 "step t gets only the rewards from t onwards, G_t = r_t + gamma * G_{t+1}")
        if np.allclose(got, reference_returns(rewards, 1.0)):
            fail("06.1", f"{shown} = {np.round(got[:5], 3).tolist()}: not discounted", "multiply the later return by gamma")
        fail("06.1", f"{shown} = {np.round(got[:5], 3).tolist()}, expected {np.round(want[:5], 3).tolist()}",
             "G_t = r_t + gamma * G_{t+1}, with G after the last step = 0")
    passed("06.1", len(cases))


def reference_loss(logits, actions, weights):
    import tensorflow as tf

    logp = tf.gather(tf.nn.log_softmax(logits), actions, axis=1, batch_dims=1)
    return -tf.reduce_mean(logp * tf.stop_gradient(weights))


@guarded("06.2", "tf.nn.log_softmax(logits), the taken action's entry with tf.gather(..., actions, axis=1, batch_dims=1), times tf.stop_gradient(weights), averaged and negated")
def check_policy_gradient_loss(policy_gradient_loss) -> None:
    """Check ``policy_gradient_loss(logits, actions, weights)`` = mean of -log pi(a|s) * weight."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    cases = 0
    for batch, n in [(7, 2), (5, 3), (1, 4)]:
        logits = tf.Variable(rng.normal(size=(batch, n)).astype(np.float32))
        actions = tf.constant(rng.integers(n, size=batch))
        weights = tf.Variable(rng.normal(size=batch).astype(np.float32))
        with tf.GradientTape(persistent=True) as tape:
            got = policy_gradient_loss(logits, actions, weights)
            want = reference_loss(logits, actions, weights)
        got_value = np.asarray(got)
        if got_value.shape != ():
            fail("06.2", f"the loss has shape {got_value.shape}", "return one number: the mean over the batch")
        logp = tf.gather(tf.nn.log_softmax(logits), actions, axis=1, batch_dims=1).numpy()
        probs = tf.gather(tf.nn.softmax(logits), actions, axis=1, batch_dims=1).numpy()
        w = weights.numpy()
        if np.isclose(got_value, -want) and not np.isclose(want, 0):
            fail("06.2", f"loss {got_value:.4f}, expected {float(want):.4f}: the sign is flipped",
                 "gradient descent minimises the loss, so the loss is MINUS log pi(a|s) * weight")
        if np.isclose(got_value, -np.sum(logp * w)) and batch > 1:
            fail("06.2", "the loss is a sum over the batch", "take the mean (tf.reduce_mean), not the sum")
        if np.isclose(got_value, -np.mean(probs * w)):
            fail("06.2", "the loss uses probabilities", "use log-probabilities: tf.nn.log_softmax(logits)")
        if not np.isclose(got_value, float(want), atol=1e-5):
            fail("06.2", f"loss {got_value:.4f}, expected {float(want):.4f}",
                 "pick log pi(a|s) of the taken actions from tf.nn.log_softmax(logits), times the weights, "
                 "mean, negated")
        grad_w = tape.gradient(got, weights)
        if grad_w is not None and np.abs(np.asarray(grad_w)).max() > 0:
            fail("06.2", "the loss sends gradient into the weights (returns/advantages)",
                 "wrap the weights in tf.stop_gradient: they are targets, not something to optimise")
        grad_l, ref_l = tape.gradient(got, logits), tape.gradient(want, logits)
        if grad_l is None or not np.allclose(grad_l, ref_l, atol=1e-5):
            fail("06.2", "the gradient with respect to the logits differs from the reference",
                 "build the loss from TensorFlow operations on the logits (no .numpy() inside)")
        del tape
        cases += 1
    passed("06.2", cases)


@guarded("06.3", "with NumPy: (returns - returns.mean()) / (returns.std() + 1e-8), a new array")
def check_normalize_returns(normalize_returns) -> None:
    """Check ``normalize_returns(returns)``: zero mean, unit spread, safe for constant input."""
    rng = np.random.default_rng(8)
    for returns in [rng.normal(50, 20, size=40), np.arange(1.0, 11.0), rng.uniform(0, 500, size=300)]:
        before = returns.copy()
        got = np.asarray(normalize_returns(returns), dtype=float)
        if not np.array_equal(returns, before):
            fail("06.3", "the input array was changed", "return a new array; do not modify returns in place")
        if got.shape != returns.shape:
            fail("06.3", f"returned shape {got.shape}, expected {returns.shape}", "one weight per step")
        if abs(got.mean()) > 1e-6:
            fail("06.3", f"the result has mean {got.mean():.4f}", "subtract the mean of the returns (the baseline)")
        if abs(got.std() - 1) > 1e-3:
            fail("06.3", f"the result has standard deviation {got.std():.4f}", "divide by the standard deviation")
        if np.corrcoef(got, returns)[0, 1] < 0.999:
            fail("06.3", "the order of the returns changed", "transform every return the same way: (G - mean) / std")
    const = np.asarray(normalize_returns(np.full(5, 3.0)), dtype=float)
    if not np.all(np.isfinite(const)) or np.abs(const).max() > 1e-6:
        fail("06.3", f"constant returns gave {const.tolist()}",
             "add a small epsilon to the standard deviation, e.g. (G - mean) / (std + 1e-8)")
    passed("06.3", 4)


@guarded("06.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained policy's mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("06.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "train for more episodes; check the sign of the loss and the returns to go")
