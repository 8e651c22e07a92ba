"""Checks of lesson 06: returns-to-go, the policy-gradient loss, the baseline."""
from __future__ import annotations

import numpy as np

from . import fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed


def reference_returns(rewards, gamma) -> np.ndarray:
    out, g = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g
        out[t] = g
    return out


def _numpy_result(exercise: str, got, what: str, use: str) -> np.ndarray:
    """Return ``got`` when it is a NumPy array of numbers; else fail naming what it is."""
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "fiu":
        kind = f"{type(got).__name__}" + (f" of dtype {got.dtype}" if isinstance(got, np.ndarray) else "")
        fail(exercise, f"{what} returned {kind}, expected a NumPy array of floats", use)
    return got


@guarded("06.1", "loop backwards over the rewards: G_t = r_t + gamma * G_{t+1}, one value per reward, as a NumPy array")
def check_discounted_returns(discounted_returns) -> None:
    """Check ``discounted_returns(rewards, gamma)``: the return to go of every step."""
    rng = np.random.default_rng(6)
    cases = [([1.0, 1.0, 1.0], 0.9), ([0.0, 0.0, 1.0], 0.5), ([2.0], 0.99), ([1.0, 2.0, 3.0, 4.0], 0.0),
             ([1.0, -1.0, 2.0], 1.0), (list(rng.normal(size=50)), 0.97), ([1.0] * 500, 0.99)]
    for rewards, gamma in cases:
        got = _numpy_result("06.1", discounted_returns(list(rewards), gamma), "discounted_returns",
                            "return np.array of the returns (the training loop calls .astype on it): "
                            "e.g. fill returns = np.zeros(len(rewards)) backwards")
        want = reference_returns(rewards, gamma)
        if got.dtype.kind in "iu" and not np.allclose(want, np.round(want)):
            fail("06.1", f"discounted_returns({rewards[:5]}{'...' if len(rewards) > 5 else ''}, {gamma}) returned "
                 f"integers {got[:5].tolist()}: the array has dtype {got.dtype}",
                 "make the returns array a float one (np.zeros(len(rewards)), not np.zeros_like of int rewards): "
                 "an int array rounds every G_t you store in it")
        got = got.astype(float)
        if got.shape != want.shape:
            fail("06.1", f"returned shape {got.shape} for {len(rewards)} rewards", "return one value per step")
        if np.allclose(got, want):
            continue
        r = np.asarray(rewards, dtype=float)
        shown = f"discounted_returns({rewards[:5]}{'...' if len(rewards) > 5 else ''}, {gamma})"
        values = f"{shown} = {np.round(got[:5], 3).tolist()}, expected {np.round(want[:5], 3).tolist()}"
        prefix = np.array([sum(r * gamma**k for k, r in enumerate(reversed(rewards[:t + 1]))) for t in range(len(rewards))])
        forwards = np.allclose(got, prefix) or np.allclose(got, np.cumsum(rewards))
        if forwards and np.allclose(got, want[::-1]):
            fail("06.1", f"{shown} = {np.round(got[:5], 3).tolist()}: the sums run forwards, or the returns are "
                 "in reverse order", "the return to go at step t adds the rewards from t to the END: loop "
                 "backwards, and store G_t at index t (returns[t] = ...)")
        if forwards:
            fail("06.1", f"{shown} = {np.round(got[:5], 3).tolist()}: the sums run forwards",
                 "the return to go at step t adds the rewards from t to the END: loop backwards")
        if np.allclose(got, want[::-1]):
            fail("06.1", f"{values}: the returns are in reverse order",
                 "you computed them from the last step backwards: store G_t at index t (returns[t] = ...), "
                 "or reverse the list at the end")
        if np.allclose(got, np.full(len(rewards), want[0])):
            fail("06.1", f"{shown} gave every step the whole episode's return",
                 "step t gets only the rewards from t onwards, G_t = r_t + gamma * G_{t+1}")
        if np.allclose(got, reference_returns(rewards, 1.0)):
            fail("06.1", f"{values}: not discounted", "multiply the later return by gamma")
        if np.allclose(got, want * gamma ** np.arange(len(rewards))):
            fail("06.1", f"{values}: the discount counts from the start of the episode",
                 "discount from step t itself: r_t counts fully, r_{t+1} times gamma, r_{t+2} times gamma**2, ...")
        if np.allclose(got, gamma * want):
            fail("06.1", f"{values}: every return is multiplied by gamma once too often",
                 "r_t itself is not discounted: G_t = r_t + gamma * G_{t+1}, not gamma * (r_t + G_{t+1})")
        if np.allclose(got, want - r) or np.allclose(got, np.append(want[1:], 0.0)):
            fail("06.1", f"{values}: G_t leaves out r_t", "the return to go includes the reward of step t itself")
        fail("06.1", values, "G_t = r_t + gamma * G_{t+1}, with G after the last step = 0")
    passed("06.1", len(cases))


def reference_loss(logits, actions, weights):
    import tensorflow as tf

    logp = tf.gather(tf.nn.log_softmax(logits), actions, axis=1, batch_dims=1)
    return -tf.reduce_mean(logp * tf.stop_gradient(weights))


def _scalar(exercise: str, got, what: str) -> float:
    """Return the student's loss as a float, failing with a message when it is not one number."""
    if got is None or isinstance(got, (tuple, list, dict, str)):
        fail(exercise, f"{what} returned {type(got).__name__}, expected one number (a scalar tensor)",
             "return only the loss, averaged over the batch")
    shape = tuple(getattr(got, "shape", np.shape(got)))
    if shape != ():
        fail(exercise, f"{what} has shape {shape}, expected a scalar (shape ())",
             "average over the batch (tf.reduce_mean) so the loss is one number")
    return float(np.asarray(got))


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
        got_value = _scalar("06.2", got, "the loss")
        logp_all = tf.nn.log_softmax(logits).numpy()
        logp = tf.gather(logp_all, actions, axis=1, batch_dims=1).numpy()
        probs = np.exp(logp)
        w, a, z = weights.numpy(), actions.numpy(), logits.numpy()
        rows = np.arange(batch)
        if np.isclose(got_value, -want) and not np.isclose(want, 0):
            fail("06.2", f"loss {got_value:.4f}, expected {float(want):.4f}: the sign is flipped",
                 "gradient descent minimises the loss, so the loss is MINUS log pi(a|s) * weight")
        if np.isclose(got_value, -np.sum(logp * w)) and batch > 1:
            fail("06.2", "the loss is a sum over the batch", "take the mean (tf.reduce_mean), not the sum")
        if np.isclose(got_value, -np.mean(probs * w)):
            fail("06.2", "the loss uses probabilities", "use log-probabilities: tf.nn.log_softmax(logits)")
        if np.isclose(got_value, -np.mean(z[rows, a] * w)):
            fail("06.2", "the loss uses the raw logits as log-probabilities",
                 "turn the logits into log-probabilities first: tf.nn.log_softmax(logits)")
        if np.isclose(got_value, -np.mean(logp)) and not np.isclose(float(want), -np.mean(logp)):
            fail("06.2", "the loss ignores the weights", "multiply each log pi(a|s) by its weight (the return to go)")
        over_batch = logits.numpy() - np.log(np.exp(logits.numpy()).sum(axis=0, keepdims=True))
        if np.isclose(got_value, -np.mean(over_batch[rows, a] * w)) and batch > 1:
            fail("06.2", "the softmax was taken over the batch (axis 0)",
                 "the probabilities of one state's actions sum to 1: tf.nn.log_softmax(logits) works on the last axis")
        if np.isclose(got_value, -np.mean(logp_all * w[:, None])) or np.isclose(got_value, -np.mean(logp_all.sum(1) * w)):
            fail("06.2", "the loss uses the log-probabilities of all actions, not of the action taken",
                 "pick the taken action's entry in each row: tf.gather(log_probs, actions, axis=1, batch_dims=1)")
        if not np.isclose(got_value, float(want), atol=1e-5):
            fail("06.2", f"loss {got_value:.4f}, expected {float(want):.4f}",
                 "pick log pi(a|s) of the taken actions from tf.nn.log_softmax(logits), times the weights, "
                 "mean, negated")
        must_be_tensor("06.2", got, "the loss", "build the loss from TensorFlow operations on the logits "
                        "(tf.nn.log_softmax, tf.gather, tf.reduce_mean): no .numpy() or np.* inside")
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
        if cases == 1:
            first = (logits, actions, weights)
    matches_when_compiled("06.2", policy_gradient_loss, first, reference_loss,
              "use TensorFlow operations only (no .numpy(), np.* or len() of a tensor): the training step "
              "compiles the loss, with a batch size that changes from episode to episode")
    passed("06.2", cases)


@guarded("06.3", "with NumPy: (returns - returns.mean()) / (returns.std() + 1e-8), a new array")
def check_normalize_returns(normalize_returns) -> None:
    """Check ``normalize_returns(returns)``: zero mean, unit spread, safe for constant input.

    The sample standard deviation (``ddof=1``) is a standard deviation too, and as good a scale.
    """
    rng = np.random.default_rng(8)
    use = "return a NumPy array (the training loop calls .astype on it): work with np.mean and np.std"
    for returns in [rng.normal(50, 20, size=40), np.arange(1.0, 11.0), rng.uniform(0, 500, size=300)]:
        before = returns.copy()
        got = _numpy_result("06.3", normalize_returns(returns), "normalize_returns", use).astype(float)
        if not np.array_equal(returns, before):
            fail("06.3", "the input array was changed", "return a new array; do not modify returns in place")
        if got.shape != returns.shape:
            fail("06.3", f"returned shape {got.shape}, expected {returns.shape}", "one weight per step")
        if np.corrcoef(got, returns)[0, 1] < -0.999:
            fail("06.3", "the result is the negative of the normalised returns", "(G - mean) / std, not (mean - G) / std")
        if np.allclose(got, (returns - returns.min()) / (returns.max() - returns.min())):
            fail("06.3", "the returns were scaled to [0, 1] (min-max)",
                 "centre them on the mean and divide by the standard deviation: (G - mean) / (std + 1e-8)")
        if abs(got.mean()) > 1e-6:
            fail("06.3", f"the result has mean {got.mean():.4f}", "subtract the mean of the returns (the baseline)")
        spreads = (1.0, np.sqrt((len(returns) - 1) / len(returns)))   # std, or the sample std (ddof=1)
        if min(abs(got.std() - spread) for spread in spreads) > 1e-3:
            fail("06.3", f"the result has standard deviation {got.std():.4f}", "divide by the standard deviation")
        if np.corrcoef(got, returns)[0, 1] < 0.999:
            fail("06.3", "the order of the returns changed", "transform every return the same way: (G - mean) / std")
    with np.errstate(all="ignore"):
        const = _numpy_result("06.3", normalize_returns(np.full(5, 3.0)), "normalize_returns", use).astype(float)
    if not np.all(np.isfinite(const)) or np.abs(const).max() > 1e-6:
        fail("06.3", f"constant returns gave {const.tolist()}",
             "add a small epsilon to the standard deviation, inside the division: (G - mean) / (std + 1e-8)")
    passed("06.3", 4)


@guarded("06.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained policy's mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("06.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "train for more episodes; check the sign of the loss and the returns to go")
