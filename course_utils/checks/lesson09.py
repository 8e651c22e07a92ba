"""Checks of lesson 09: GAE, the PPO loss, the update loop, the agent, and the IQM with its interval.

Each check compares the student's function with the check's own reference (written
apart from the lesson's solution), and when they differ, with a table of known
mistakes, so that the message names the mistake with the expected and received values
of a case small enough to read.
"""
from __future__ import annotations

import functools

import numpy as np

from . import fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed

# 09.1: GAE ------------------------------------------------------------------------------------


def reference_gae(rewards, values, next_values, terminated, truncated, gamma, lam, *, cut=None, forward=False,
                  delta_mask=None, carry_factor=None):
    """The check's GAE, with switches that reproduce the mistakes the check names.

    ``cut`` replaces the episode-end mask of the backward sum (``1 - done`` by default),
    ``delta_mask`` the bootstrap mask inside the TD error (``1 - terminated``),
    ``carry_factor`` the factor gamma * lam, and ``forward`` runs the sum forwards.
    """
    rewards, values, next_values = (np.asarray(x, dtype=np.float64) for x in (rewards, values, next_values))
    terminated, truncated = np.asarray(terminated, np.float64), np.asarray(truncated, np.float64)
    mask = 1.0 - terminated if delta_mask is None else delta_mask
    deltas = rewards + gamma * mask * next_values - values
    cut = (1.0 - terminated) * (1.0 - truncated) if cut is None else cut
    factor = gamma * lam if carry_factor is None else carry_factor
    out = np.zeros_like(deltas)
    following = np.zeros_like(deltas[0])
    steps = range(len(deltas)) if forward else reversed(range(len(deltas)))
    for t in steps:
        following = deltas[t] + factor * cut[t] * following
        out[t] = following
    return out


# by hand: two environments, three steps; environment 0 terminates at step 1, environment 1 is truncated at step 0
SMALL_GAE = dict(rewards=[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], values=[[2.0, 3.0], [1.0, 1.0], [2.0, 2.0]],
                 next_values=[[1.0, 4.0], [5.0, 2.0], [2.0, 2.0]], terminated=[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]],
                 truncated=[[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
SMALL_GAMMA, SMALL_LAM = 0.9, 0.5


def _gae_case(gae_advantages) -> str:
    """Return a sentence: the student's advantages on ``SMALL_GAE`` and the expected ones."""
    args = [np.array(v, np.float32) for v in SMALL_GAE.values()]
    want = reference_gae(*args, SMALL_GAMMA, SMALL_LAM).round(4).tolist()
    try:
        got = np.asarray(gae_advantages(*(a.copy() for a in args), SMALL_GAMMA, SMALL_LAM), dtype=float).round(4).tolist()
    except Exception as err:  # noqa: BLE001 - a message, whatever the code does
        got = f"an error ({type(err).__name__})"
    shown = ", ".join(f"{k}={v}" for k, v in SMALL_GAE.items())
    return (f" For the rollout of 3 steps (rows) of 2 environments (columns) {shown}, gamma={SMALL_GAMMA}, "
            f"lam={SMALL_LAM}: expected {want}, got {got}.")


def _gae_inputs(rng, steps, n):
    rewards = rng.normal(1.0, 1.0, (steps, n)).astype(np.float32)
    values = rng.normal(5.0, 2.0, (steps, n)).astype(np.float32)
    next_values = rng.normal(5.0, 2.0, (steps, n)).astype(np.float32)
    ended = rng.random((steps, n)) < 0.25
    truncated_share = rng.random((steps, n)) < 0.5
    terminated = (ended & ~truncated_share).astype(np.float32)
    truncated = (ended & truncated_share).astype(np.float32)
    return rewards, values, next_values, terminated, truncated


def _gae_mistakes(args, gamma, lam) -> list:
    """Return (advantages, what, hint) of each known GAE mistake on ``args``."""
    r, v, nv, term, trunc = (np.asarray(a, np.float64) for a in args)
    right = reference_gae(*args, gamma, lam)
    done = np.maximum(term, trunc)
    one = lambda **kw: reference_gae(*args, gamma, lam, **kw)  # noqa: E731
    normalised = (right - right.mean()) / (right.std() + 1e-8)
    return [
        (one(cut=np.ones_like(r)), "the sum runs on across episode ends: the advantage of an episode's last step "
         "includes the next episode's TD errors",
         "multiply gamma * lam * A[t + 1] by (1 - terminated[t]) * (1 - truncated[t]): 0 where an episode ended"),
        (one(cut=1.0 - term), "the sum is cut where an episode terminated but runs on where it was truncated",
         "a truncated episode ended too: the next row of that column is a new episode, so cut the sum at "
         "terminated OR truncated (keep the truncated step's own gamma * V(s') inside its TD error)"),
        (one(delta_mask=1.0 - done), "a truncated step's TD error drops gamma * V(s'): truncation treated as "
         "termination", "only terminated drops the bootstrap, r + gamma * (1 - terminated) * V(s') - V(s); "
         "truncated only cuts the sum"),
        (one(delta_mask=np.ones_like(r)), "terminated steps still add gamma * V(s') in their TD error",
         "delta = r + gamma * (1 - terminated) * next_values - values"),
        (reference_gae(r, v, nv, term, trunc, lam, lam, carry_factor=gamma * lam), "the TD error is discounted "
         "by lam instead of gamma: lam and gamma are swapped",
         "delta uses gamma alone; the backward sum uses gamma * lam"),
        (one(carry_factor=lam), "the backward sum multiplies by lam alone", "the factor is gamma * lam"),
        (one(carry_factor=gamma), "the backward sum multiplies by gamma alone (lam is missing)", "the factor is gamma * lam"),
        (one(carry_factor=0.0), "these are the one-step TD errors: nothing of the later steps was added",
         "add gamma * lam * (1 - done[t]) * A[t + 1], going backwards from the last step"),
        (one(forward=True), "the sum runs forwards (from step 0), adding earlier steps' TD errors",
         "go backwards, for t in reversed(range(steps)): each advantage adds the steps AFTER it"),
        (right + v, "these are the lambda-returns (advantages + values), not the advantages",
         "return the advantages; the loop adds the values for the critic's targets"),
        (-right, "the sign is flipped", "delta = r + gamma * (1 - terminated) * V(s') - V(s)"),
        (normalised, "the advantages are normalised (mean 0, standard deviation 1 over the whole rollout)",
         "return the raw advantages: the update normalises each minibatch, and the critic's targets need raw ones"),
        ((right - right.mean(axis=0)) / (right.std(axis=0) + 1e-8), "the advantages are normalised over axis 0 "
         "(each environment's column on its own)", "return the raw advantages: the update normalises each minibatch"),
        ((right - right.mean(axis=1, keepdims=True)) / (right.std(axis=1, keepdims=True) + 1e-8),
         "the advantages are normalised over axis 1 (each step's row on its own)",
         "return the raw advantages: the update normalises each minibatch"),
    ]


@guarded("09.1", "delta = r + gamma * (1 - terminated) * V(s') - V(s); then backwards over the rows, "
         "A[t] = delta[t] + gamma * lam * (1 - terminated[t]) * (1 - truncated[t]) * A[t + 1]")
def check_gae_advantages(gae_advantages) -> None:
    """Check ``gae_advantages(rewards, values, next_values, terminated, truncated, gamma, lam)``."""
    rng = np.random.default_rng(91)
    cases = 0
    for steps, n, gamma, lam in [(7, 3, 0.99, 0.95), (12, 5, 0.9, 0.8), (5, 2, 0.99, 0.0), (6, 4, 0.95, 1.0)]:
        args = _gae_inputs(rng, steps, n)
        copies = [a.copy() for a in args]
        got = gae_advantages(*copies, gamma, lam)
        if any(not np.array_equal(c, a) for c, a in zip(copies, args)):
            fail("09.1", "your function changed its input arrays", "compute into a new array (np.zeros_like(rewards)); "
                 "the loop uses values again for the critic's targets")
        if not isinstance(got, np.ndarray):
            fail("09.1", f"returned {type(got).__name__}, expected a NumPy array of shape ({steps}, {n})",
                 "build the result in a NumPy array, e.g. np.zeros_like(rewards), and fill it row by row")
        if got.shape != (steps, n):
            hint = ("one advantage per step and environment, in the rollout's layout (steps, n): do not flatten"
                    if got.size == steps * n else "one advantage per step and environment: shape (steps, n)")
            fail("09.1", f"returned shape {got.shape} for a rollout of {steps} steps of {n} environments", hint)
        if got.dtype != np.float32:
            fail("09.1", f"float32 inputs gave a {got.dtype} result",
                 "keep float32 (np.zeros_like(rewards) is float32): the training step feeds the advantages to "
                 "float32 tensors")
        want = reference_gae(*args, gamma, lam)
        if np.allclose(got, want, atol=1e-4):
            cases += steps * n
            continue
        if n != steps:
            across = reference_gae(*(a.T for a in args), gamma, lam).T
            if np.allclose(got, across, atol=1e-4):
                fail("09.1", "the sum runs over the environments (columns) instead of the steps (rows)." + _gae_case(gae_advantages),
                     "row t is step t: loop over range(len(rewards)) backwards, all columns at once")
        for value, what, hint in _gae_mistakes(args, gamma, lam):
            if np.allclose(got, value, atol=1e-4) and not np.allclose(value, want, atol=1e-4):
                fail("09.1", what + "." + _gae_case(gae_advantages), hint)
        fail("09.1", "the advantages are not GAE's." + _gae_case(gae_advantages),
             "delta = r + gamma * (1 - terminated) * next_values - values; then backwards, "
             "A[t] = delta[t] + gamma * lam * (1 - terminated[t]) * (1 - truncated[t]) * A[t + 1], with A = delta "
             "at the last step")
    passed("09.1", cases)


# 09.2: the PPO loss -----------------------------------------------------------------------------

def reference_ppo_losses(logits, values, actions, old_log_probs, advantages, returns, clip_eps, entropy_coef,
                         value_coef):
    """The check's own PPO loss: written apart from the lesson's solution on purpose."""
    import tensorflow as tf

    log_pi = tf.nn.log_softmax(logits)
    taken = tf.reduce_sum(log_pi * tf.one_hot(actions, tf.shape(logits)[1]), axis=1)
    ratio = tf.exp(taken - old_log_probs)
    surrogate = tf.minimum(ratio * advantages, tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    policy_loss = -tf.reduce_mean(surrogate)
    value_loss = tf.reduce_mean((returns - values) ** 2)
    entropy = tf.reduce_mean(-tf.reduce_sum(tf.nn.softmax(logits) * log_pi, axis=1))
    return policy_loss + value_coef * value_loss - entropy_coef * entropy, policy_loss, value_loss, entropy


NAMES = ("loss", "policy_loss", "value_loss", "entropy")
SMALL_PPO = dict(logits=[[0.0, 1.0], [2.0, 0.0], [0.5, 0.5]], values=[1.0, 2.0, 0.0], actions=[1, 0, 1],
                 old_log_probs=[-1.0, -0.5, -0.2], advantages=[1.0, -1.0, 0.5], returns=[2.0, 0.0, 1.0],
                 clip_eps=0.2, entropy_coef=0.1, value_coef=0.5)


def _small_ppo_args():
    import tensorflow as tf

    s = SMALL_PPO
    return (tf.Variable(np.array(s["logits"], np.float32)), tf.Variable(np.array(s["values"], np.float32)),
            tf.constant(np.array(s["actions"], np.int64)), tf.constant(np.array(s["old_log_probs"], np.float32)),
            tf.constant(np.array(s["advantages"], np.float32)), tf.constant(np.array(s["returns"], np.float32)),
            s["clip_eps"], s["entropy_coef"], s["value_coef"])


def _ppo_case(ppo_losses) -> str:
    """Return a sentence: the student's four losses on ``SMALL_PPO`` and the expected ones."""
    args = _small_ppo_args()
    want = tuple(round(float(x), 4) for x in reference_ppo_losses(*args))
    try:
        got = tuple(round(float(np.asarray(x)), 4) for x in ppo_losses(*args))
    except Exception as err:  # noqa: BLE001 - a message, whatever the code does
        got = f"an error ({type(err).__name__})"
    shown = ", ".join(f"{k}={v}" for k, v in SMALL_PPO.items())
    return f" For {shown}: expected (loss, policy_loss, value_loss, entropy) = {want}, got {got}."


def _four_scalars(out) -> tuple:
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        fail("09.2", f"returned {type(out).__name__}{size}, expected a tuple of four scalars",
             "return loss, policy_loss, value_loss, entropy (in this order)")
    values = []
    for name, x in zip(NAMES, out):
        shape = tuple(getattr(x, "shape", np.shape(x))) if x is not None else None
        if shape != ():
            fail("09.2", f"{name} is {type(x).__name__}" + (f" of shape {shape}" if shape else "") +
                 ", expected one number", "average over the minibatch (tf.reduce_mean) so each is a scalar")
        values.append(float(np.asarray(x)))
    return tuple(values)


def _policy_variants(logits, actions, old, adv, eps) -> list:
    """Return (policy_loss, what, hint) of each known mistake in the clipped surrogate."""
    log_pi = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    new = log_pi[np.arange(len(actions)), actions]
    ratio = np.exp(new - old)
    clip = np.clip(ratio, 1 - eps, 1 + eps)
    return [
        (-np.mean(np.minimum(1.0 * adv, 1.0 * adv)), "the ratio is 1 for every sample: the old log-probabilities "
         "were computed from the new policy (the logits) instead of taken from old_log_probs",
         "ratio = exp(log pi(a|s) from the logits - old_log_probs), the log-probabilities the rollout recorded"),
        (-np.mean(np.minimum(np.exp(old - new) * adv, np.clip(np.exp(old - new), 1 - eps, 1 + eps) * adv)),
         "the ratio is inverted (old over new)", "ratio = exp(new_log_probs - old_log_probs)"),
        (-np.mean(np.minimum((new - old) * adv, np.clip(new - old, 1 - eps, 1 + eps) * adv)),
         "the ratio is the difference of log-probabilities, not its exponential",
         "ratio = tf.exp(new_log_probs - old_log_probs)"),
        (-np.mean(np.maximum(ratio * adv, clip * adv)), "the surrogate takes the maximum of the two terms, which "
         "keeps the gradient where the policy already moved too far", "take tf.minimum of ratio * A and clip(ratio) * A"),
        (-np.mean(ratio * adv), "the ratio is not clipped", "min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)"),
        (-np.mean(clip * adv), "only the clipped term is used: without the minimum, a move in the wrong direction "
         "beyond the clip range can no longer be undone", "min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)"),
        (-np.mean(np.minimum(ratio * adv, ratio * np.clip(adv, -eps, eps))), "the advantage is clipped instead of the ratio",
         "clip the ratio to [1 - clip_eps, 1 + clip_eps]"),
        (-np.mean(np.minimum(ratio * adv, np.clip(ratio, -eps, eps) * adv)), "the ratio is clipped to "
         "[-clip_eps, clip_eps] instead of [1 - clip_eps, 1 + clip_eps]", "tf.clip_by_value(ratio, 1 - clip_eps, 1 + clip_eps)"),
        (np.mean(np.minimum(ratio * adv, clip * adv)), "the policy loss has the wrong sign: it is +L_clip",
         "we minimise the loss and want to maximise the surrogate: policy_loss = -mean(min(...))"),
        (-np.sum(np.minimum(ratio * adv, clip * adv)), "the policy loss is a sum over the minibatch", "take the mean"),
        (-np.mean(np.minimum(np.exp(logits[np.arange(len(actions)), actions] - old) * adv,
                             np.clip(np.exp(logits[np.arange(len(actions)), actions] - old), 1 - eps, 1 + eps) * adv)),
         "the ratio uses the raw logits instead of log-probabilities", "log-probabilities: tf.nn.log_softmax(logits)"),
    ]


def _diagnose_ppo(got, want, args, ppo_losses) -> None:
    """Fail 09.2 with the likely mistake when the four values are not the reference's."""
    logits, values, actions, old, adv, returns, eps, ce, cv = (
        np.asarray(a, dtype=np.float64) if hasattr(a, "shape") else a for a in args)
    actions = actions.astype(int)
    total, pl, vl, ent = got
    rtotal, rpl, rvl, rent = want
    case = _ppo_case(ppo_losses)
    if not np.isclose(ent, rent, atol=1e-5):
        hint = ("entropy is MINUS the sum of p log p: it is positive" if np.isclose(ent, -rent, atol=1e-5) else
                "that is a sum over the minibatch: take the mean" if np.isclose(ent, rent * len(logits), atol=1e-4)
                else "entropy = -mean over the minibatch of sum_a pi(a|s) log pi(a|s)")
        fail("09.2", f"entropy {ent:.4f}, expected {rent:.4f}." + case, hint)
    if not np.isclose(vl, rvl, atol=1e-5):
        err = returns - values
        for value, what, hint in [(0.5 * rvl, "half the mean squared error", "no 1/2 here: value_coef scales it"),
                                  (np.mean(np.abs(err)), "the mean absolute error", "square the errors"),
                                  (np.sum(err ** 2), "a sum over the minibatch", "take the mean"),
                                  (cv * rvl, "already multiplied by value_coef",
                                   "value_loss is the plain mean squared error; loss multiplies it by value_coef")]:
            if np.isclose(vl, value, atol=1e-5):
                fail("09.2", f"value_loss {vl:.4f}, expected {rvl:.4f}: it is {what}." + case, hint)
        fail("09.2", f"value_loss {vl:.4f}, expected {rvl:.4f}." + case, "mean((returns - values) ** 2)")
    if not np.isclose(pl, rpl, atol=1e-5):
        for value, what, hint in _policy_variants(logits, actions, old, adv, eps):
            if np.isclose(pl, value, atol=1e-5) and not np.isclose(value, rpl, atol=1e-5):
                fail("09.2", f"policy_loss {pl:.4f}, expected {rpl:.4f}: {what}." + case, hint)
        fail("09.2", f"policy_loss {pl:.4f}, expected {rpl:.4f}." + case,
             "-mean(min(ratio * A, clip(ratio, 1 - clip_eps, 1 + clip_eps) * A)), ratio = exp(new - old log-prob)")
    if not np.isclose(total, rtotal, atol=1e-5):
        for value, what in [(rpl + cv * rvl + ce * rent, "the entropy bonus has the wrong sign (it is added)"),
                            (rpl + cv * rvl, "the entropy bonus is missing"),
                            (rpl + rvl - ce * rent, "value_coef is missing: the value loss is added unscaled"),
                            (rpl - ce * rent, "the value loss is missing"),
                            (rpl + cv * rvl - cv * rent if cv != ce else np.nan, "the coefficients are swapped")]:
            if np.isclose(total, value, atol=1e-5):
                fail("09.2", f"loss {total:.4f}, expected {rtotal:.4f}: {what}." + case,
                     "loss = policy_loss + value_coef * value_loss - entropy_coef * entropy")
        fail("09.2", f"loss {total:.4f}, expected {rtotal:.4f}." + case,
             "loss = policy_loss + value_coef * value_loss - entropy_coef * entropy")


@guarded("09.2", "log-probabilities by tf.nn.log_softmax and tf.gather; ratio = tf.exp(new - old_log_probs); "
         "policy_loss = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)); value_loss = mean((returns - "
         "values)^2); loss = policy_loss + value_coef * value_loss - entropy_coef * entropy")
def check_ppo_losses(ppo_losses) -> None:
    """Check ``ppo_losses(logits, values, actions, old_log_probs, advantages, returns, clip_eps, entropy_coef,
    value_coef)``: the four values, their gradients, and that it compiles."""
    import tensorflow as tf

    rng = np.random.default_rng(92)
    first = None
    for batch, n, eps, ce, cv in [(32, 2, 0.2, 0.01, 0.25), (9, 3, 0.1, 0.05, 1.0), (16, 2, 0.3, 0.0, 0.5)]:
        logits = tf.Variable(rng.normal(size=(batch, n)).astype(np.float32))
        values = tf.Variable(rng.normal(size=batch).astype(np.float32))
        actions = tf.constant(rng.integers(n, size=batch))
        log_pi = tf.nn.log_softmax(logits).numpy()[np.arange(batch), actions.numpy()]
        # old log-probabilities a little off the current ones: about half the ratios leave the clip range
        old = tf.constant((log_pi + rng.normal(0.0, 2 * eps, batch)).astype(np.float32))
        advantages = tf.constant(rng.normal(size=batch).astype(np.float32))
        returns = tf.constant(rng.normal(size=batch).astype(np.float32))
        args = (logits, values, actions, old, advantages, returns, eps, ce, cv)
        with tf.GradientTape(persistent=True) as tape:
            out = ppo_losses(*args)
            ref = reference_ppo_losses(*args)
        got = _four_scalars(out)
        want = tuple(float(x) for x in ref)
        if not np.allclose(got, want, atol=1e-5):
            _diagnose_ppo(got, want, args, ppo_losses)
        for name, loss in zip(NAMES, out):
            must_be_tensor("09.2", loss, name, "build the losses from TensorFlow operations (tf.nn.log_softmax, "
                           "tf.gather, tf.exp, tf.clip_by_value, tf.minimum, tf.reduce_mean): no .numpy() or np.* inside")
            if loss.dtype != tf.float32:
                fail("09.2", f"{name} is a {loss.dtype.name} tensor, expected float32 like the logits and values",
                     "compute in the inputs' float32: no tf.cast to float64, no tf.constant(..., tf.float64) or "
                     "np.float64 values mixed in (the optimiser's float32 weights need a float32 loss)")
        for var, name in ((logits, "logits"), (values, "values")):
            g, rg = tape.gradient(out[0], var), tape.gradient(ref[0], var)
            if g is None or not np.allclose(g, rg, atol=1e-5):
                fail("09.2", f"loss has the right value but the wrong gradient with respect to the {name}." +
                     _ppo_case(ppo_losses), "build the losses from TensorFlow operations only (no .numpy() inside, "
                     "no tf.stop_gradient on the new log-probabilities or the values)")
        del tape
        first = first or args
    matches_when_compiled("09.2", ppo_losses, first, reference_ppo_losses,
                          "use TensorFlow operations only (no .numpy() or np.* on tensors): the training step compiles "
                          "the loss")
    passed("09.2", 3)


def _draws_from(ex: str, run, rng, name: str, hint: str, read=lambda out: out):
    """Return ``read(run())``, failing when ``run`` drew nothing from ``rng`` or drew from NumPy's global generator.

    ``read`` judges the output's form first, so that a stub is told what to return before how to draw.
    """
    before, kept = rng.bit_generator.state, np.random.get_state()
    out = read(run())
    global_used = not all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
                          for a, b in zip(kept, np.random.get_state()))
    np.random.set_state(kept)   # leave the student's own global generator as it was
    if global_used:
        fail(ex, f"your code drew from NumPy's global generator (np.random.*), not from {name}",
             hint + ": a run seeded through it then repeats")
    if rng.bit_generator.state == before:
        fail(ex, f"nothing was drawn from {name}: the randomness came from a generator of your own", hint)
    return out


# 09.3: the update loop --------------------------------------------------------------------------
# A recording agent: observation row i holds (i, i + 0.5); the other arrays encode i too, so every
# minibatch shows which rows it took from each array.

class _RecordingAgent:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.calls: list = []

    def train_step(self, minibatch):
        from collections.abc import Mapping

        fields = ("obs", "actions", "old_log_probs", "advantages", "returns")
        if not isinstance(minibatch, Mapping) or set(fields) - set(minibatch):
            got = sorted(minibatch) if isinstance(minibatch, Mapping) else type(minibatch).__name__
            fail("09.3", f"train_step got {got}, expected a dict with the keys {', '.join(fields)}",
                 "pass one dict: {key: value[rows] for key, value in batch.items()}, with its advantages normalised")
        self.calls.append({k: np.array(minibatch[k], copy=True) for k in fields})


def _update_batch(n: int, rng) -> dict:
    rows = np.arange(n)
    return {"obs": np.stack([rows, rows + 0.5], axis=1).astype(np.float32), "actions": (rows % 2).astype(np.int64),
            "old_log_probs": (-rows / n).astype(np.float32), "advantages": rng.normal(3.0, 2.0, n).astype(np.float32),
            "returns": (10.0 + rows).astype(np.float32)}


def _rows_of(call: dict, batch: dict, k: int) -> np.ndarray:
    """Return the batch rows a recorded minibatch took, failing when its arrays disagree."""
    obs = np.asarray(call["obs"])
    if obs.ndim != 2 or obs.shape[1] != 2:
        fail("09.3", f"minibatch {k}: obs has shape {obs.shape}, expected (m, {batch['obs'].shape[1]})",
             "index the rows of each array: value[rows], which keeps obs 2-D")
    rows = np.rint(obs[:, 0]).astype(int)
    for key, decode in [("actions", lambda r: r % 2), ("old_log_probs", lambda r: -r / len(batch["obs"])),
                        ("returns", lambda r: 10.0 + r)]:
        got = np.asarray(call[key], dtype=float)
        if got.shape != rows.shape or not np.allclose(got, decode(rows), atol=1e-5):
            fail("09.3", f"minibatch {k}: minibatch[{key!r}] does not hold the same rows as minibatch['obs']",
                 "take the same rows from all five arrays: rows = order[start:start + minibatch_size], then "
                 "value[rows] for each")
    return rows


def _check_batch_kept(batch: dict, kept: dict) -> None:
    """Fail if the update wrote into the batch it was given."""
    if any(not np.array_equal(batch[k], kept[k]) for k in kept) or set(batch) != set(kept):
        changed = sorted(k for k in kept if k not in batch or not np.array_equal(batch[k], kept[k]))
        fail("09.3", f"your update changed the batch it was given ({', '.join(changed) or 'its keys'})",
             "normalise a copy: minibatch = {key: value[rows] ...} makes new arrays; do not write into batch")


def _check_step_count(calls: list, n: int, epochs: int, size: int) -> None:
    """Fail, naming the likely slip, unless train_step ran epochs * ceil(n / size) times."""
    per_epoch = -(-n // size)
    if len(calls) == epochs * per_epoch:
        return
    if len(calls) == per_epoch and epochs > 1:
        what, hint = f"only one epoch ({len(calls)} steps)", "repeat the pass over the batch `epochs` times"
    elif len(calls) == epochs:
        what, hint = "one step per epoch: the whole batch as one minibatch", \
            "cut each epoch's order into minibatches of minibatch_size rows, one train_step each"
    elif len(calls) == epochs * (n // size):
        what, hint = "the last, smaller minibatch of each epoch was dropped", \
            "range(0, N, minibatch_size) also starts the last, smaller minibatch"
    else:
        what, hint = f"{len(calls)} steps", "epochs * ceil(N / minibatch_size) train_step calls"
    fail("09.3", f"{n} rows, {epochs} epochs, minibatches of {size}: expected {epochs * per_epoch} "
         f"train_step calls ({per_epoch} per epoch), got {what}", hint)


def _check_minibatch_advantages(e: int, i: int, call: dict, rows: np.ndarray, batch: dict) -> None:
    """Fail unless minibatch ``i`` of epoch ``e`` reached train_step with its own advantages normalised."""
    a = batch["advantages"][rows].astype(np.float64)
    got = np.asarray(call["advantages"], dtype=np.float64)
    whole = (batch["advantages"] - batch["advantages"].mean()) / (batch["advantages"].std() + 1e-8)
    right = [(a - a.mean()) / (a.std(ddof=d) + 1e-8) for d in (0, 1)] if len(a) > 1 else [a - a.mean()]
    if any(np.allclose(got, w, atol=1e-4) for w in right):
        return
    if not np.all(np.isfinite(got)):
        fail("09.3", f"epoch {e}, minibatch {i} ({len(a)} row{'s' * (len(a) > 1)}): advantages "
             f"{np.round(got, 3).tolist()} reach train_step, expected {np.round(right[0], 3).tolist()}" +
             (": the standard deviation of one row is 0 (or NaN with ddof=1)" if len(a) == 1 else ""),
             "divide by a.std() + 1e-8, the standard deviation with ddof=0, so that a one-row minibatch "
             "normalises to 0 instead of 0 / 0")
    if np.allclose(got, a, atol=1e-5):
        fail("09.3", "the advantages reach train_step as the batch holds them, not normalised",
             "replace each minibatch's advantages by (a - a.mean()) / (a.std() + 1e-8)")
    if np.allclose(got, whole[rows], atol=1e-4):
        fail("09.3", "the advantages were normalised over the whole batch, not over each minibatch",
             "normalise each minibatch's own advantages, after taking its rows")
    fail("09.3", f"epoch {e}, minibatch {i}: advantages {np.round(got, 3).tolist()}, expected "
         f"{np.round(right[0], 3).tolist()} (rows {rows.tolist()} normalised)",
         "(a - a.mean()) / (a.std() + 1e-8) with a = the minibatch's advantages")


def _check_epoch(e: int, part: list, batch: dict, n: int, size: int, first_call: int) -> np.ndarray:
    """Check one epoch's train_step calls (sizes, every row once, normalised advantages); return its row order."""
    rows = [_rows_of(c, batch, first_call + i) for i, c in enumerate(part)]
    sizes = [len(r) for r in rows]
    want_sizes = [size] * (n // size) + ([n % size] if n % size else [])
    if sizes != want_sizes:
        fail("09.3", f"epoch {e}: minibatch sizes {sizes}, expected {want_sizes}",
             "minibatches of minibatch_size consecutive entries of the epoch's order; the last may be smaller")
    order = np.concatenate(rows)
    if sorted(order.tolist()) != list(range(n)):
        fail("09.3", f"epoch {e} did not use every row exactly once (rows {order.tolist()})",
             "shuffle the row indices (agent.rng.permutation(N)) and walk through them")
    for i, (call, r) in enumerate(zip(part, rows)):
        _check_minibatch_advantages(e, i, call, r, batch)
    return order


def _check_shuffled(orders: list, n: int, epochs: int) -> None:
    """Fail if the rows were never shuffled, or shuffled once for every epoch."""
    if epochs > 1:
        if all(np.array_equal(o, np.arange(n)) for o in orders):
            fail("09.3", "the rows are taken in their stored order, never shuffled",
                 "each epoch: order = agent.rng.permutation(N)")
        if all(np.array_equal(o, orders[0]) for o in orders):
            fail("09.3", "every epoch walks the rows in the same order: the batch was shuffled once",
                 "draw a new order at the start of each epoch: agent.rng.permutation(N) inside the epoch loop")
    elif np.array_equal(orders[0], np.arange(n)) and not np.array_equal(np.random.default_rng(n).permutation(n),
                                                                       np.arange(n)):
        fail("09.3", "the rows are taken in their stored order, not shuffled", "order = agent.rng.permutation(N)")


@guarded("09.3", "for each epoch: order = agent.rng.permutation(N); for each start in range(0, N, minibatch_size): "
         "rows = order[start:start + minibatch_size]; a minibatch of those rows with normalised advantages; "
         "agent.train_step(minibatch)")
def check_ppo_update(ppo_update) -> None:
    """Check ``ppo_update(agent, batch, epochs, minibatch_size)`` on a recording agent."""
    rng = np.random.default_rng(93)
    cases = 0
    for n, epochs, size in [(12, 2, 4), (10, 2, 4), (8, 1, 8), (9, 4, 3), (9, 2, 4)]:   # the last ends on one row
        batch = _update_batch(n, rng)
        kept = {k: v.copy() for k, v in batch.items()}
        agent = _RecordingAgent(seed=n)
        _draws_from("09.3", lambda: ppo_update(agent, batch, epochs, size), agent.rng, "agent.rng",
                    "draw each epoch's order from agent.rng (its permutation, shuffle or random)")
        _check_batch_kept(batch, kept)
        _check_step_count(agent.calls, n, epochs, size)
        per_epoch = -(-n // size)
        orders = [_check_epoch(e, agent.calls[e * per_epoch:(e + 1) * per_epoch], batch, n, size, e * per_epoch)
                  for e in range(epochs)]
        cases += epochs
        _check_shuffled(orders, n, epochs)
        again = _RecordingAgent(seed=n)
        ppo_update(again, {k: v.copy() for k, v in kept.items()}, epochs, size)
        if [np.rint(c["obs"][:, 0]).tolist() for c in again.calls] != [np.rint(c["obs"][:, 0]).tolist()
                                                                       for c in agent.calls]:
            fail("09.3", "two runs with agent.rng seeded alike took the rows in different orders: the order came "
                 "from np.random or a generator of your own", "draw each epoch's order from agent.rng, so that a "
                 "seeded run repeats")
    passed("09.3", cases)


# 09.4: the agent ---------------------------------------------------------------------------------

@guarded("09.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained actor's greedy mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("09.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "with the lesson's settings all 30 seeds of the bench passed, so a piece is probably wrong in "
                        "a way its check could not see: look at the learning curve and the printed line of the "
                        "training run, and rerun the checks above")


# 09.5: interquartile mean and bootstrap interval ------------------------------------------------

def reference_iqm(x) -> np.ndarray:
    """The IQM along the last axis: drop n // 4 from each end of the sorted scores, average the rest."""
    x = np.sort(np.asarray(x, dtype=np.float64), axis=-1)
    cut = x.shape[-1] // 4
    return x[..., cut:x.shape[-1] - cut].mean(axis=-1)


RESAMPLES = 2000   # what the check asks each answer for


def reference_interval(scores, rng, resamples=RESAMPLES, level=0.95, statistic=reference_iqm):
    scores = np.asarray(scores, dtype=np.float64)
    draws = scores[rng.integers(0, len(scores), size=(resamples, len(scores)))]
    low, high = np.percentile(statistic(draws), [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(low), float(high)


IQM_CASES = [np.array([12.0, 500.0, 85.0, 310.0, 140.0]), np.array([9.0, 9.0, 10.0, 11.0, 500.0, 480.0, 13.0, 200.0]),
             np.array([100.0, 480.0, 495.0, 500.0, 500.0, 23.0, 460.0, 310.0, 150.0, 500.0]),
             np.array([30.0, 40.0, 400.0])]


def _three_numbers(out) -> tuple[float, float, float]:
    """Return ``(iqm, low, high)`` as floats, failing if ``out`` is not three numbers."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail("09.5", f"returned {type(out).__name__}, expected a tuple (iqm, low, high)",
             "return three floats: float(iqm), float(low), float(high)")
    try:
        iqm, low, high = (float(np.asarray(v)) for v in out)
    except (TypeError, ValueError):
        fail("09.5", f"returned {out!r}: not three numbers", "return three floats: iqm, low, high")
    return iqm, low, high


def _check_iqm(iqm: float, scores: np.ndarray, shown: str) -> None:
    """Fail, naming the likely slip, unless ``iqm`` is the interquartile mean of ``scores``."""
    want = float(reference_iqm(scores))
    if np.isclose(iqm, want, atol=1e-6):
        return
    s = np.sort(scores)
    for value, what in [(scores.mean(), "the mean of all scores"), (np.median(scores), "the median"),
                        (s[1:-1].mean(), "the mean without the lowest and highest score"),
                        (s[len(s) // 4: len(s) - len(s) // 4 + 1].mean() if len(s) > 3 else np.nan,
                         "the mean of one score too many at the top")]:
        if np.isclose(iqm, value, atol=1e-6):
            fail("09.5", f"iqm is {what}.{shown}: expected {want:.3f}, got {iqm:.3f}",
                 f"sort, drop n // 4 = {len(s) // 4} at each end, average the other {len(s) - 2 * (len(s) // 4)}")
    fail("09.5", f"iqm wrong.{shown}: expected {want:.3f}, got {iqm:.3f}",
         "sort, drop n // 4 at each end, average the rest")


SPREAD = 5.5       # how many standard deviations of a 2,000-draw quantile's coverage an end may be off


@functools.lru_cache(maxsize=None)
def bootstrap_distribution(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact distribution of a resample's IQM in case ``k``: its distinct values and their cumulative probabilities.

    Every resample of n seeds with replacement is a multiset of the n indices, with probability
    n! / (prod of its counts!) / n ** n; with the scores sorted, a multiset of sorted indices is its sorted resample.
    """
    import itertools
    import math

    scores = np.sort(IQM_CASES[k])
    n = len(scores)
    rows = np.array(list(itertools.combinations_with_replacement(range(n), n)))
    counts = (rows[:, :, None] == np.arange(n)).sum(axis=1)
    lgamma = np.vectorize(math.lgamma)
    probs = np.exp(math.lgamma(n + 1) - lgamma(counts + 1).sum(axis=1) - n * math.log(n))
    cut = n // 4
    iqms = np.round(scores[rows][:, cut:n - cut].mean(axis=1), 9)
    values, where = np.unique(iqms, return_inverse=True)
    return values, np.cumsum(np.bincount(where.ravel(), weights=probs))


def exact_quantile(k: int, q: float) -> float:
    """The smallest resample IQM of case ``k`` whose cumulative probability reaches ``q``."""
    values, cdf = bootstrap_distribution(k)
    return float(values[min(np.searchsorted(cdf, q - 1e-12), len(values) - 1)])


def near_the_bootstrap(k: int, end: float, q: float, resamples: int = RESAMPLES) -> bool:
    """Whether ``end`` can be the ``q`` quantile of ``resamples`` resample IQMs of case ``k``, drawn any way.

    The share of ``resamples`` draws at or below a value whose exact probability of that is F varies by
    sqrt(F (1 - F) / resamples); an end passes when ``q`` lies within ``SPREAD`` such deviations of the exact
    share below it and the share at or below it (benchmarks/false_failures.py measures how often a correct
    answer misses).
    """
    values, cdf = bootstrap_distribution(k)
    below = float(cdf[np.searchsorted(values, end - 1e-9) - 1]) if end - 1e-9 > values[0] else 0.0
    at_or_below = float(cdf[np.searchsorted(values, end + 1e-9, side="right") - 1]) if end + 1e-9 >= values[0] else 0.0

    def slack(f: float) -> float:
        return SPREAD * np.sqrt(max(f * (1 - f), q * (1 - q)) / resamples)

    return below - slack(below) <= q <= at_or_below + slack(at_or_below)


def _check_interval(low: float, high: float, iqm: float, scores: np.ndarray, k: int, level: float,
                    shown: str) -> None:
    """Fail, naming the likely slip, unless ``(low, high)`` is the percentile bootstrap's interval (case ``k``)."""
    if np.allclose((low, high), reference_interval(scores, np.random.default_rng(k), RESAMPLES, level), atol=1e-6):
        return
    want = float(reference_iqm(scores))
    qs = ((1 - level) / 2, (1 + level) / 2)
    exact = tuple(exact_quantile(k, q) for q in qs)
    msg = f"{shown}, level={level}: expected about [{exact[0]:.1f}, {exact[1]:.1f}], got [{low:.1f}, {high:.1f}]"
    alpha = 100 * (1 - level)
    resampled = scores[np.random.default_rng(k).integers(0, len(scores), size=(RESAMPLES, len(scores)))]
    boot, means = reference_iqm(resampled), resampled.mean(axis=-1)
    for value, what, hint in [
        ((want, want), "the interval has no width: every resample holds the same seeds (drawn without "
         "replacement?)", "draw with replacement: rng.integers(0, n, size=(resamples, n))"),
        (tuple(np.percentile(means, [alpha / 2, 100 - alpha / 2])), "this is the interval of the mean, not "
         "of the IQM", "compute the IQM of each resample"),
        (tuple(np.percentile(scores, [alpha / 2, 100 - alpha / 2])), "these are percentiles of the scores "
         "themselves, not of resampled IQMs", "resample the seeds, compute each resample's IQM, take the "
         "percentiles of those"),
        (tuple(np.percentile(boot, [alpha, 100 - alpha])), "the percentiles are those of a narrower interval "
         "(100 * (1 - level) and 100 * level)", "low and high are the percentiles 100 * (1 - level) / 2 and "
         "100 * (1 + level) / 2, e.g. 2.5 and 97.5"),
        (tuple(np.percentile(boot, [level / 2, 100 - level / 2])), "the percentiles are taken at level / 2 "
         "and 100 - level / 2", "use 100 * (1 - level) / 2 and 100 * (1 + level) / 2"),
    ]:
        if np.allclose((low, high), value, atol=1e-6):
            fail("09.5", what + "." + msg, hint)
    # another correct way to draw the resamples gives other numbers: judge each end by the exact distribution
    if low <= high and near_the_bootstrap(k, low, qs[0]) and near_the_bootstrap(k, high, qs[1]):
        return
    if low > high:
        fail("09.5", "low is above high." + msg, "return (iqm, low, high) with low <= high")
    for wrong, what, hint in [((1 - level, level), "its ends are the quantiles of a narrower interval, (1 - level) "
                               "and level", "the ends are the (1 - level) / 2 and (1 + level) / 2 quantiles"),
                              ((level / 200, 1 - level / 200), "its ends are the quantiles level / 200 and "
                               "1 - level / 200 (percentiles at level / 2)", "percentiles 100 * (1 - level) / 2 and "
                               "100 * (1 + level) / 2")]:
        if near_the_bootstrap(k, low, wrong[0]) and near_the_bootstrap(k, high, wrong[1]):
            fail("09.5", f"the interval is a percentile bootstrap's, but {what}." + msg, hint)
    fail("09.5", "the interval is not the percentile bootstrap's." + msg,
         "resample seed indices with rng.integers(0, n, size=(resamples, n)), the IQM of each row, "
         "np.percentile at 100 * (1 - level) / 2 and 100 * (1 + level) / 2")


@guarded("09.5", "sort, drop n // 4 scores at each end, average the rest; resample with rng.integers(0, n, "
         "size=(resamples, n)), the IQM of each row, np.percentile of those at 100 * (1 -/+ level) / 2")
def check_iqm_interval(iqm_interval) -> None:
    """Check ``iqm_interval(scores, rng, resamples=2000, level=0.95)`` -> ``(iqm, low, high)``."""
    cases = 0
    hint = "draw every resample from the rng argument (rng.integers, rng.choice, ...)"
    for k, scores in enumerate(IQM_CASES):
        for level in (0.95, 0.8):
            rng = np.random.default_rng(k)
            iqm, low, high = _draws_from("09.5", lambda: iqm_interval(scores.copy(), rng, RESAMPLES, level), rng,
                                         "rng", hint, read=_three_numbers)
            shown = f" For scores={scores.tolist()}"
            _check_iqm(iqm, scores, shown)
            _check_interval(low, high, iqm, scores, k, level, shown)
            cases += 1
    scores = IQM_CASES[2]
    first, again = (_three_numbers(iqm_interval(scores.copy(), np.random.default_rng(5), RESAMPLES, 0.95))
                    for _ in "12")
    if first != again:
        fail("09.5", f"two calls with rng seeded alike gave different intervals ({first[1]:.2f}, {first[2]:.2f}) and "
             f"({again[1]:.2f}, {again[2]:.2f})", hint + ", so that a seeded call repeats")
    _, low, high = _three_numbers(iqm_interval(scores.copy(), np.random.default_rng(6), 1, 0.95))
    if not np.isclose(low, high, rtol=0, atol=1e-9):
        fail("09.5", f"with resamples=1 the interval is [{low:.1f}, {high:.1f}]: one resample has one IQM, so low and "
             "high must both be it; the number of resamples is fixed in your code",
             "draw `resamples` resamples, the argument, not a number of your own")
    passed("09.5", cases + 2)
