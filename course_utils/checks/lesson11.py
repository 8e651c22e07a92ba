"""Checks of lesson 11: the squashed-Gaussian sample, the soft targets, the actor and temperature losses, the loop step.

The oracles here are written apart from the lesson's solution on purpose (see ``course_utils.lessons``).
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from . import fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed
from ._loop import LoopEnv, run_loop, same, stored_around_the_step_right, terminated_right, trained_when_due

LOG_2PI = math.log(2.0 * math.pi)
XLA_HINT = ("use only TensorFlow operations (no .numpy(), float(), np.*, tf.print or Python loops over rows): the "
            "update calls it inside tf.function compiled by XLA")


def _tf():
    import tensorflow as tf

    return tf


def _as_array(x, exercise: str, what: str, shape: tuple, hint: str) -> np.ndarray:
    """Return ``x`` as a float64 array of ``shape``, failing with a message that names ``what`` otherwise."""
    if x is None or isinstance(x, (tuple, list, dict)):
        fail(exercise, f"{what} is {'None' if x is None else 'a ' + type(x).__name__}, expected an array", hint)
    try:
        got = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    except (TypeError, ValueError):
        fail(exercise, f"{what} is a {type(x).__name__} that is not an array of numbers", hint)
    if got != shape:
        fail(exercise, f"{what} has shape {got}, expected {shape}", hint)
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        fail(exercise, f"{what} is a {type(x).__name__} that is not an array of numbers", hint)


def _shown(x, digits: int = 3) -> list:
    """Numbers for a message: rounded, as Python floats (float32 would print its binary noise)."""
    return np.round(np.asarray(x, dtype=float), digits).tolist()


def _pair(out, exercise: str, names: str) -> tuple:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        fail(exercise, f"returned {type(out).__name__}{size}, expected a pair ({names})", f"return {names}")
    return tuple(out)


# ------------------------------------------------------------------------------------------ 11.1


def reference_squashed_gaussian(mean, log_std, noise):
    """NumPy oracle: (tanh(u), log-probability of tanh(u)) for u = mean + exp(log_std) noise, in float64."""
    mean, log_std, noise = (np.asarray(x, np.float64) for x in (mean, log_std, noise))
    u = mean + np.exp(log_std) * noise
    log_normal = -0.5 * noise ** 2 - log_std - 0.5 * LOG_2PI
    log_det = np.log(4.0) - 2.0 * np.logaddexp(u, -u)    # log(1 - tanh(u)^2) = log(4 / (e^u + e^-u)^2)
    return np.tanh(u), (log_normal - log_det).sum(axis=1)


SQUASH_HINT = ("u = mean + exp(log_std) * noise; action = tanh(u); log_prob = sum over the action dimensions of "
               "[log N(u; mean, std) - log(1 - tanh(u)^2)], all in TensorFlow operations")


def _diagnose_actions(got, mean, log_std, noise, shown) -> None:
    want = np.tanh(mean + np.exp(log_std) * noise)
    if np.allclose(got, want, atol=1e-5):
        return
    for value, what, hint in [
        (mean + np.exp(log_std) * noise, "the actions are not squashed: they are u itself, outside (-1, 1)",
         "the action is tanh(u), which keeps it within the bounds"),
        (np.tanh(mean), "the actions ignore the noise: tanh(mean) is the deterministic action, not a sample",
         "sample u = mean + exp(log_std) * noise, then squash it"),
        (np.tanh(mean + log_std * noise), "the noise was scaled by log_std itself, which can be negative or zero",
         "the standard deviation is exp(log_std), always positive"),
        (np.tanh(mean + noise), "the noise was not scaled by the standard deviation", "u = mean + exp(log_std) * noise"),
        (np.tanh(mean + np.exp(log_std) ** 2 * noise), "the noise was scaled by the variance exp(2 log_std)",
         "scale it by the standard deviation exp(log_std)"),
        (np.tanh(mean + np.exp(0.5 * log_std) * noise), "the noise was scaled by exp(log_std / 2), as if log_std "
         "were the log of the variance", "here log_std is the log of the standard deviation: scale by exp(log_std)"),
    ]:
        if np.allclose(got, value, atol=1e-5):
            fail("11.1", what + shown, hint)
    fail("11.1", "the actions are not tanh(mean + exp(log_std) * noise)" + shown, SQUASH_HINT)


def _diagnose_log_probs(got, mean, log_std, noise, shown) -> None:
    u = mean + np.exp(log_std) * noise
    _, want = reference_squashed_gaussian(mean, log_std, noise)
    if np.allclose(got, want, atol=2e-3, rtol=1e-4):
        return
    log_normal = -0.5 * noise ** 2 - log_std - 0.5 * LOG_2PI
    log_det = np.log(4.0) - 2.0 * np.logaddexp(u, -u)
    with np.errstate(all="ignore"):
        for value, what, hint in [
            (log_normal.sum(1), "the tanh correction is missing: this is the log-density of u, not of tanh(u)",
             "subtract log(1 - tanh(u)^2) for each action dimension: tanh squeezes the density, so the squashed "
             "action's density is higher where tanh is flat"),
            ((log_normal + log_det).sum(1), "the tanh correction has the wrong sign: it was added",
             "log pi(a) = log N(u) - sum log(1 - tanh(u)^2): subtract it"),
            ((log_normal - np.log(np.abs(1 - u ** 2) + 1e-6)).sum(1), "the tanh correction was computed from u, "
             "the sample before tanh: log(1 - u^2) instead of log(1 - tanh(u)^2)",
             "the correction is log(1 - tanh(u)^2), the log of tanh's slope at u"),
            ((log_normal - np.log(1 - u ** 2)).sum(1), "the tanh correction was computed from u, the sample before "
             "tanh: log(1 - u^2) instead of log(1 - tanh(u)^2)",
             "the correction is log(1 - tanh(u)^2), the log of tanh's slope at u"),
            ((log_normal - log_det).mean(1), "the log-probabilities were averaged over the action dimensions",
             "the dimensions are independent: the log-probability of the action is the sum over them"),
            ((log_normal + log_std - log_det).sum(1), "the -log(std) term of the Gaussian's log-density is missing",
             "log N(u; mean, std) = -((u - mean) / std)^2 / 2 - log(std) - log(2 pi) / 2"),
            ((log_normal - log_det).sum(1) + 0.5 * LOG_2PI * (log_normal.shape[1] - 1), "the Gaussian's constant "
             "-log(2 pi) / 2 was counted once, not once per action dimension",
             "it is part of each dimension's log-density, summed with the rest over the dimensions"),
            ((log_normal - np.log(1 - np.tanh(u) ** 2 + 1e-4)).sum(1), "the number added inside the log, 1e-4, is "
             "too large: it changes the log-probability by up to 0.01 where tanh is steep",
             "add 1e-6, or use the exact form 2 (log 2 - u - softplus(-2u)), which needs none"),
            ((log_normal + 0.5 * LOG_2PI - log_det).sum(1), "the Gaussian's constant -log(2 pi) / 2 is missing "
             "(once per action dimension): the entropy the temperature compares with its target would be off by it",
             "log N(u; mean, std) = -((u - mean) / std)^2 / 2 - log(std) - log(2 pi) / 2"),
        ]:
            if np.allclose(got, value, atol=2e-3, rtol=1e-4):
                fail("11.1", what + shown, hint)
    fail("11.1", "the log-probabilities are not log N(u; mean, std) - log(1 - tanh(u)^2), summed over the action "
         "dimensions" + shown, SQUASH_HINT)


def _shown_case(squashed_gaussian) -> str:
    """A one-row, one-dimension case to work out by hand, with the student's answer."""
    tf = _tf()
    mean, log_std, noise = np.array([[0.5, -1.0]]), np.array([[-0.5, 0.0]]), np.array([[1.0, 0.5]])
    a, lp = reference_squashed_gaussian(mean, log_std, noise)
    try:
        got = squashed_gaussian(*(tf.constant(x, tf.float32) for x in (mean, log_std, noise)))
        got = [_shown(x, 4) for x in got]
    except Exception as err:  # noqa: BLE001 - a message, whatever the code does
        got = f"an error ({type(err).__name__})"
    return (f". For mean=[[0.5, -1.0]], log_std=[[-0.5, 0.0]], noise=[[1.0, 0.5]]: expected (actions, log_probs) = "
            f"({_shown(a, 4)}, {_shown(lp, 4)}), got {got}")


@guarded("11.1", SQUASH_HINT)
def check_squashed_gaussian(squashed_gaussian) -> None:
    """Check ``squashed_gaussian(mean, log_std, noise) -> (actions, log_probs)``.

    The actions are unique; the log-probabilities are accepted up to the small constant some forms add inside the
    logarithm (``log(1 - a^2 + 1e-6)``), and must stay finite where tanh saturates. Gradients must reach ``mean`` and
    ``log_std`` through the sample (the reparameterisation), and the function must give the same inside
    ``tf.function`` as eagerly.
    """
    tf = _tf()
    rng = np.random.default_rng(111)
    cases = 0
    for batch, dim in ((16, 3), (8, 1), (5, 2)):
        mean = rng.normal(0.0, 0.8, (batch, dim))
        log_std = rng.uniform(-1.5, 0.3, (batch, dim))
        noise = rng.normal(size=(batch, dim))
        m, s = tf.Variable(mean.astype(np.float32)), tf.Variable(log_std.astype(np.float32))
        n = tf.constant(noise.astype(np.float32))
        with tf.GradientTape(persistent=True) as tape:
            out = _pair(squashed_gaussian(m, s, n), "11.1", "actions, log_probs")
            total_action = tf.reduce_sum(out[0]) if tf.is_tensor(out[0]) else None
            total_log_prob = tf.reduce_sum(out[1]) if tf.is_tensor(out[1]) else None
        shown = _shown_case(squashed_gaussian)
        for name, x in zip(("actions", "log_probs"), out):
            must_be_tensor("11.1", x, name, "compute with TensorFlow operations (tf.exp, tf.tanh, tf.math.log, "
                           "tf.reduce_sum): the update differentiates through them")
        if tuple(out[0].shape) == (batch,) and tuple(out[1].shape) == (batch, dim):
            fail("11.1", "the two are swapped: the first has one number per row, the second one per action "
                 "dimension", "return actions, log_probs (in this order)")
        if tuple(out[1].shape) == (batch, dim) and dim > 1:
            fail("11.1", f"log_probs has shape {tuple(out[1].shape)}: one number per action dimension",
                 "sum over the action dimensions (axis=1): one log-probability per row")
        actions = _as_array(out[0], "11.1", "actions", (batch, dim), "one action of act_dim numbers per row")
        log_probs = _as_array(out[1], "11.1", "log_probs", (batch,), "one log-probability per row, shape (batch,)"
                              + (" (sum over axis 1)" if tuple(out[1].shape) == (batch, 1) else ""))
        if out[0].dtype != tf.float32 or out[1].dtype != tf.float32:
            fail("11.1", f"float32 inputs gave {out[0].dtype.name} actions and {out[1].dtype.name} log_probs",
                 "keep float32: the networks and the update work in float32")
        _diagnose_actions(actions, mean, log_std, noise, shown)
        _diagnose_log_probs(log_probs, mean, log_std, noise, shown)
        u = mean + np.exp(log_std) * noise
        grad_mean = tape.gradient(total_action, m)
        if grad_mean is None or not np.allclose(np.asarray(grad_mean), 1 - np.tanh(u) ** 2, atol=1e-4):
            fail("11.1", "the actions pass no gradient (or the wrong one) back to mean: the sample was cut off from "
                 "the actor's outputs", "build the sample from mean and log_std with TensorFlow operations, "
                 "u = mean + exp(log_std) * noise, with no tf.stop_gradient and no NumPy: this is the "
                 "reparameterisation the actor's loss differentiates through")
        want_grads = _log_prob_gradients(mean, log_std, noise)
        got_grads = tape.gradient(total_log_prob, [m, s])
        for name, g, w in zip(("mean", "log_std"), got_grads, want_grads):
            if g is None or not np.allclose(np.asarray(g), w, atol=5e-3, rtol=1e-2):
                fail("11.1", f"the log-probabilities pass the wrong gradient back to {name}",
                     "compute log_probs from the same u as the actions, with TensorFlow operations and no "
                     "tf.stop_gradient: the actor's loss differentiates through both")
        cases += 1
    _finite_where_saturated(squashed_gaussian)
    _same_when_compiled(squashed_gaussian)
    passed("11.1", cases + 2)


def _log_prob_gradients(mean, log_std, noise):
    """d(sum log_probs)/d(mean, log_std) of the oracle, by the chain rule through u (noise held fixed)."""
    u = mean + np.exp(log_std) * noise
    d_u = 2.0 * np.tanh(u)                 # d/du of -log(1 - tanh(u)^2)
    return d_u, d_u * np.exp(log_std) * noise - 1.0


def _finite_where_saturated(squashed_gaussian) -> None:
    """Samples far out on tanh's flat tails (|u| up to 20, where 1 - tanh(u)^2 is 0 in float32) keep finite values."""
    tf = _tf()
    mean = np.array([[12.0, -9.0], [-15.0, 0.0], [20.0, 3.0]], np.float32)
    log_std = np.full_like(mean, 2.0)   # the largest the actor's log_std is clipped to
    noise = np.array([[0.5, -1.0], [-0.3, 0.2], [0.0, 1.5]], np.float32)
    out = _pair(squashed_gaussian(*(tf.constant(x) for x in (mean, log_std, noise))), "11.1", "actions, log_probs")
    log_probs = np.asarray(out[1], dtype=np.float64)
    if not np.all(np.isfinite(log_probs)):
        u = _shown(mean + np.exp(log_std) * noise, 1)
        fail("11.1", f"for samples far out on tanh's flat tails (u = {u}) the log-probabilities are "
             f"{_shown(log_probs)}: 1 - tanh(u)^2 rounds to 0 in float32 "
             "and its log is -inf", "add a small number inside the log, log(1 - tanh(u)^2 + 1e-6), or use the exact "
             "form log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite")


def _same_when_compiled(squashed_gaussian) -> None:
    rng = np.random.default_rng(113)
    args = [rng.normal(size=(6, 2)).astype(np.float32), rng.uniform(-1, 0, (6, 2)).astype(np.float32),
            rng.normal(size=(6, 2)).astype(np.float32)]
    matches_when_compiled("11.1", squashed_gaussian, args, squashed_gaussian, XLA_HINT, xla=True)


# ------------------------------------------------------------------------------------------ 11.2


class _FakeCritic:
    """A critic the check can read: Q(s, a) = s . w + a . v + c, with its own w, v, c; records its calls."""

    def __init__(self, name: str, seed: int, obs_dim: int, act_dim: int, calls: list):
        rng = np.random.default_rng(seed)
        self.name, self.calls = name, calls
        self.w, self.v = rng.normal(size=obs_dim).astype(np.float32), rng.normal(size=act_dim).astype(np.float32)
        self.c = np.float32(rng.normal(3.0, 1.0))

    def numpy(self, obs, actions) -> np.ndarray:
        return np.asarray(obs, np.float64) @ self.w + np.asarray(actions, np.float64) @ self.v + self.c

    def __call__(self, obs, actions):
        tf = _tf()
        self.calls.append(self.name)
        return tf.linalg.matvec(tf.cast(obs, tf.float32), self.w) + tf.linalg.matvec(
            tf.cast(actions, tf.float32), self.v) + self.c


def fake_critics(obs_dim: int = 3, act_dim: int = 2, seed: int = 0) -> SimpleNamespace:
    """Four distinguishable linear critics ``q1, q2, target_q1, target_q2`` and the list of which were called."""
    calls: list = []
    names = ("q1", "q2", "target_q1", "target_q2")
    return SimpleNamespace(calls=calls, **{n: _FakeCritic(n, 100 * seed + i, obs_dim, act_dim, calls)
                                            for i, n in enumerate(names)})


TARGETS_HINT = ("y = rewards + gamma * (1 - terminated) * (min(target_q1(s', a'), target_q2(s', a')) - alpha * "
                "log pi(a'|s')), with critics.target_q1 and critics.target_q2 at (next_obs, next_actions)")


def _diagnose_targets(got, critics, r, next_obs, term, next_a, next_lp, alpha, gamma, shown) -> None:
    q = {n: getattr(critics, n).numpy(next_obs, next_a) for n in ("q1", "q2", "target_q1", "target_q2")}
    low = np.minimum(q["target_q1"], q["target_q2"])
    mask = 1.0 - term

    def y(next_value, reward=r, m=mask, g=gamma):
        return reward + g * m * next_value

    want = y(low - alpha * next_lp)
    if np.allclose(got, want, atol=1e-4, rtol=1e-5):
        return
    for value, what, hint in [
        (y(np.maximum(q["target_q1"], q["target_q2"]) - alpha * next_lp), "the targets take the larger of the two "
         "target critics", "take the smaller: the minimum counters the overestimation a max over noisy estimates "
         "brings (lesson 06), and twin critics are there for it"),
        (y((q["target_q1"] + q["target_q2"]) / 2 - alpha * next_lp), "the targets average the two target critics",
         "take their minimum: the average still overestimates"),
        (y(q["target_q1"] - alpha * next_lp), "the targets use target_q1 alone", "take the minimum of target_q1 "
         "and target_q2"),
        (y(q["target_q2"] - alpha * next_lp), "the targets use target_q2 alone", "take the minimum of target_q1 "
         "and target_q2"),
        (y(np.minimum(q["q1"], q["q2"]) - alpha * next_lp), "the targets were computed with the online critics "
         "q1 and q2", "bootstrap from the slowly moving copies, critics.target_q1 and critics.target_q2 (lesson "
         "05): a target that moves with every step is chased, not reached"),
        (y(low + alpha * next_lp), "the entropy term has the wrong sign: alpha * log pi was added",
         "the soft value is Q - alpha * log pi: an unlikely action (log pi very negative) is worth more"),
        (y(low - next_lp), "the entropy term is not weighted by alpha", "subtract alpha * log pi(a'|s')"),
        (y(low), "the entropy term is missing", "subtract alpha * log pi(a'|s') from the minimum"),
        (y(low - alpha * next_lp, m=1.0), "transitions with terminated=1 still bootstrap", "multiply the bootstrapped "
         "part by (1 - terminated): after a terminal state nothing follows"),
        (y(low - alpha * next_lp, m=term), "only terminated transitions bootstrap: the mask is inverted",
         "multiply by (1 - terminated), which is 0 when the episode terminated"),
        (mask * y(low - alpha * next_lp, m=1.0), "the reward of terminated transitions was masked too",
         "only the bootstrapped part goes: r + gamma * (1 - terminated) * (...)"),
        (y(low - alpha * next_lp, g=1.0), "the next value is not discounted", "multiply it by gamma"),
        (r + gamma * mask * low - alpha * next_lp, "alpha * log pi(a'|s') was subtracted outside the discounted, "
         "masked part", "the entropy belongs to the next state: gamma * (1 - terminated) * (min Q - alpha log pi)"),
    ]:
        if np.allclose(got, value, atol=1e-4, rtol=1e-5):
            fail("11.2", what + shown, hint)
    fail("11.2", "the targets are not r + gamma (1 - terminated) (min of the target critics - alpha log pi)" + shown,
         TARGETS_HINT)


@guarded("11.2", TARGETS_HINT)
def check_soft_q_targets(soft_q_targets) -> None:
    """Check ``soft_q_targets(critics, rewards, next_obs, terminated, next_actions, next_log_probs, alpha, gamma)``.

    The critics are four linear functions the check can tell apart, so the targets show which were used. The
    answer is unique up to floating point; it must run inside ``tf.function``.
    """
    tf = _tf()
    rng = np.random.default_rng(112)
    cases = 0
    for batch, alpha, gamma, seed in ((12, 0.2, 0.99, 0), (9, 0.05, 0.9, 1), (7, 1.0, 0.5, 2)):
        critics = fake_critics(seed=seed)
        r = rng.normal(-1.0, 1.0, batch)
        next_obs, next_a = rng.normal(size=(batch, 3)), rng.uniform(-1, 1, (batch, 2))
        term = (np.arange(batch) % 3 == 0).astype(np.float64)
        next_lp = rng.normal(-1.0, 1.5, batch)
        args = [tf.constant(x, tf.float32) for x in (r, next_obs, term, next_a, next_lp)]
        for alpha_given in (tf.constant(alpha, tf.float32), alpha):
            out = soft_q_targets(critics, args[0], args[1], args[2], args[3], args[4], alpha_given, gamma)
            must_be_tensor("11.2", out, "the targets", "compute them with TensorFlow operations on the tensors "
                           "given (tf.minimum, arithmetic): the update calls this inside tf.function")
            got = _as_array(out, "11.2", "the targets", (batch,), "one target per transition, shape (batch,): "
                            "squeeze nothing, sum nothing")
            low = np.minimum(critics.target_q1.numpy(next_obs, next_a), critics.target_q2.numpy(next_obs, next_a))
            shown = (f" (case {cases + 1}: alpha={alpha}, gamma={gamma}, terminated={term.astype(int).tolist()}; "
                     f"first targets expected {_shown(r + gamma * (1 - term) * (low - alpha * next_lp))[:4]}, "
                     f"got {_shown(got)[:4]})")
            _diagnose_targets(got, critics, r, next_obs, term, next_a, next_lp, alpha, gamma, shown)
            if getattr(out, "dtype", None) not in (tf.float32, np.float32):
                dtype = getattr(out, "dtype", None)
                fail("11.2", f"float32 inputs gave {getattr(dtype, 'name', dtype or type(out).__name__)} targets",
                     "keep float32: the critics' loss compares them with float32 Q-values")
        cases += 1
    critics = fake_critics(seed=3)
    batch = [rng.normal(size=(5,)), rng.normal(size=(5, 3)), np.array([0, 1, 0, 0, 1.0]), rng.uniform(-1, 1, (5, 2)),
             rng.normal(size=5)]
    args = [critics, *(x.astype(np.float32) for x in batch), np.float32(0.3), 0.99]   # alpha a scalar tensor, as trained
    matches_when_compiled("11.2", soft_q_targets, args, soft_q_targets, XLA_HINT, xla=True)
    passed("11.2", cases + 1)


# ------------------------------------------------------------------------------------------ 11.3


LOSSES_HINT = ("alpha = exp(log_alpha); actor loss = mean(alpha * log_probs - min(q1, q2)); temperature loss = "
               "-log_alpha * mean(log_probs + target_entropy) (or with alpha in place of log_alpha), with "
               "log_probs held constant there")


def _scalar(x, what: str) -> float:
    shape = tuple(getattr(x, "shape", np.shape(x))) if x is not None else None
    if shape != ():
        fail("11.3", f"{what} is {type(x).__name__}" + (f" of shape {shape}" if shape else "") + ", expected one number",
             "average over the batch (tf.reduce_mean) so each loss is a scalar")
    return float(np.asarray(x))


@guarded("11.3", LOSSES_HINT)
def check_actor_and_temperature_losses(losses) -> None:
    """Check ``actor_and_temperature_losses(log_probs, q1, q2, log_alpha, target_entropy) -> (actor, temperature)``.

    The actor's loss is unique (its value and its gradients with respect to log_probs, q1 and q2). The temperature's
    loss is judged by its gradient with respect to log_alpha, which is what the update uses: -mean(log_probs +
    target_entropy), or alpha times that (the form with alpha in place of log_alpha); both move alpha the same way.
    """
    tf = _tf()
    rng = np.random.default_rng(114)
    cases = 0
    for batch, log_alpha0, target in ((10, np.log(0.2), -1.0), (7, 0.5, -3.0), (12, -2.0, -2.0)):
        lp0, q10, q20 = rng.normal(-1.0, 1.0, batch), rng.normal(5, 2, batch), rng.normal(5, 2, batch)
        lp, q1, q2 = (tf.Variable(x.astype(np.float32)) for x in (lp0, q10, q20))
        log_alpha = tf.Variable(np.float32(log_alpha0))
        with tf.GradientTape(persistent=True) as tape:
            out = _pair(losses(lp, q1, q2, log_alpha, target), "11.3", "actor_loss, temperature_loss")
        alpha = float(np.exp(np.float32(log_alpha0)))
        actor, temperature = _scalar(out[0], "actor_loss"), _scalar(out[1], "temperature_loss")
        for name, x in zip(("actor_loss", "temperature_loss"), out):
            must_be_tensor("11.3", x, name, "compute with TensorFlow operations (tf.exp, tf.minimum, tf.reduce_mean)")
        _judge_actor(actor, tape.gradient(out[0], [lp, q1, q2]), lp0, q10, q20, alpha, log_alpha0, temperature, batch)
        _judge_temperature(tape.gradient(out[1], log_alpha), lp0, alpha, target, batch)
        cases += 1
    _losses_when_compiled(losses)
    passed("11.3", cases + 1)


def _judge_actor(actor, grads, lp, q1, q2, alpha, log_alpha, temperature, batch) -> None:
    low = np.minimum(q1, q2)
    want = np.mean(alpha * lp - low)
    if np.isclose(temperature, want, atol=1e-4) and not np.isclose(actor, want, atol=1e-4):
        fail("11.3", "the two losses are swapped", "return actor_loss, temperature_loss (in this order)")
    if not np.isclose(actor, want, atol=1e-4, rtol=1e-5):
        for value, what, hint in [
            (np.mean(alpha * lp - np.maximum(q1, q2)), "the actor's loss takes the larger of the two critics",
             "take min(q1, q2): the actor should not exploit whichever critic overestimates"),
            (np.mean(alpha * lp - (q1 + q2) / 2), "the actor's loss averages the two critics", "take min(q1, q2)"),
            (np.mean(alpha * lp - q1), "the actor's loss uses q1 alone", "take min(q1, q2)"),
            (np.mean(-alpha * lp - low), "the entropy term has the wrong sign", "the actor minimises alpha * log pi - "
             "Q: lowering log pi (more entropy) lowers the loss"),
            (np.mean(alpha * lp + low), "the actor's loss rewards lower Q-values: Q has the wrong sign",
             "minimise alpha * log pi - Q, so that higher Q lowers the loss"),
            (np.mean(lp - low), "the entropy term is not weighted by alpha", "alpha = exp(log_alpha) times log pi"),
            (np.mean(log_alpha * lp - low), "log_alpha was used where alpha belongs", "alpha = exp(log_alpha): the "
             "temperature is learned as its log so that it stays positive"),
            (np.mean(-low), "the entropy term is missing from the actor's loss", "add alpha * log pi(a|s)"),
            (np.sum(alpha * lp - low), "the actor's loss sums over the batch", "average it (tf.reduce_mean)"),
        ]:
            if np.isclose(actor, value, atol=1e-4, rtol=1e-5):
                fail("11.3", f"{what} (got {actor:.4f}, expected {want:.4f})", hint)
        fail("11.3", f"the actor's loss is {actor:.4f}, expected mean(alpha * log_probs - min(q1, q2)) = {want:.4f}",
             LOSSES_HINT)
    g_lp, g_q1, g_q2 = grads
    if g_lp is None or not np.allclose(np.asarray(g_lp), alpha / batch, atol=1e-5):
        fail("11.3", "the actor's loss passes the wrong gradient to log_probs", "alpha * log_probs, averaged, with no "
             "tf.stop_gradient on log_probs: the actor learns through them")
    want_q1 = np.where(q1 <= q2, -1.0 / batch, 0.0)
    want_q2 = np.where(q2 < q1, -1.0 / batch, 0.0)
    got_q = [np.zeros(batch) if g is None else np.asarray(g) for g in (g_q1, g_q2)]
    if not (np.allclose(got_q[0], want_q1, atol=1e-5) and np.allclose(got_q[1], want_q2, atol=1e-5)):
        fail("11.3", "the actor's loss passes the wrong gradient to q1 and q2", "-min(q1, q2), averaged, with no "
             "tf.stop_gradient: the actor learns by moving its actions up the smaller critic")


def _judge_temperature(grad, lp, alpha, target, batch) -> None:
    want = -np.mean(lp + target)          # d/d log_alpha of -log_alpha * mean(log_probs + target)
    got = None if grad is None else float(np.asarray(grad))
    if got is not None and any(np.isclose(got, c * want, atol=1e-5, rtol=1e-4) for c in (1.0, alpha)):
        return
    if got is None or got == 0.0:
        fail("11.3", "the temperature's loss passes no gradient to log_alpha", "build it from log_alpha (or "
             "alpha = tf.exp(log_alpha)) with TensorFlow operations, not from a Python number, and without "
             "tf.stop_gradient on log_alpha")
    for c in (1.0, alpha):
        for value, what, hint in [
            (-want, "the temperature's loss has the wrong sign: alpha would grow while the policy is more random "
             "than the target, and shrink when it is less", "minimise -log_alpha * mean(log_probs + target_entropy)"),
            (np.mean(lp - target), "the target entropy was subtracted from log_probs",
             "the entropy is -log pi, so the gap to the target is -(log_probs + target_entropy): "
             "-log_alpha * mean(log_probs + target_entropy)"),
            (-np.mean(lp - target), "the target entropy was subtracted from log_probs",
             "-log_alpha * mean(log_probs + target_entropy)"),
            (-np.mean(lp), "the target entropy is missing from the temperature's loss",
             "-log_alpha * mean(log_probs + target_entropy)"),
            (batch * want, "the temperature's loss sums over the batch", "average it (tf.reduce_mean)"),
        ]:
            if np.isclose(got, c * value, atol=1e-5, rtol=1e-4):
                fail("11.3", f"{what} (its gradient with respect to log_alpha is {got:.4f}, expected {want:.4f} or "
                     f"alpha times it)", hint)
    fail("11.3", f"the temperature's loss has gradient {got:.4f} with respect to log_alpha, expected "
         f"-mean(log_probs + target_entropy) = {want:.4f} (or alpha times it)", LOSSES_HINT)


def _losses_when_compiled(losses) -> None:
    tf = _tf()
    rng = np.random.default_rng(115)
    args = [*(rng.normal(size=6).astype(np.float32) for _ in range(3)), tf.Variable(-1.0), -1.0]
    matches_when_compiled("11.3", losses, args, losses, XLA_HINT, xla=True)


# ------------------------------------------------------------------------------------------ 11.4

# (length, how it ends) of the scripted episodes; Pendulum's all end truncated, these mostly do
LOOP_EPISODES = [(7, "truncated"), (5, "terminated"), (9, "truncated"), (6, "truncated"), (4, "terminated"),
                 (8, "truncated"), (50, "truncated")]
LOOP_STEPS, LEARNING_STARTS, TRAIN_EVERY = 40, 8, 4   # 8: training at step 8, not only after it
LOW, HIGH = np.array([-2.0, 0.0], np.float32), np.array([2.0, 4.0], np.float32)   # an asymmetric box, two dimensions
LOOP_HINT = ("action = agent.act(obs, step); env.step(low + (action + 1) / 2 * (high - low)) with low, high = "
             "env.action_space.low, env.action_space.high; agent.store(obs, action, reward, next_obs, terminated); "
             "agent.train() when due; env.reset() when the episode is over; return the observation to act on next")


def _same(a, b) -> bool:
    """Actions (float32 from agent.act, float64 once scaled) alike to 1e-5."""
    return same(a, b, atol=1e-5)


class _LoopEnv(LoopEnv):
    """The scripted environment of check 11.4: a Box action space; it records the action env.step was given."""

    EXERCISE, EPISODES = "11.4", LOOP_EPISODES

    def _space(self, gym):
        return gym.spaces.Box(LOW, HIGH, dtype=np.float32)

    def _action(self, action):
        try:
            given = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            fail("11.4", f"at step {self.now} env.step got {action!r}", "pass an array of act_dim numbers")
        if given.shape != LOW.shape:
            fail("11.4", f"at step {self.now} env.step got an action of shape {given.shape}, expected {LOW.shape}",
                 "pass one action of act_dim numbers, as agent.act gives it, scaled")
        return given

    def _reward(self) -> float:
        return -1.0 - self.t / 10


class _LoopAgent:
    """What the step is given as ``agent``: ``act`` answers from the observation, so the check knows every action."""

    def __init__(self):
        self.settings = SimpleNamespace(learning_starts=LEARNING_STARTS, train_every=TRAIN_EVERY, batch_size=4,
                                        gamma=0.99)
        self.rng = np.random.default_rng(0)
        self.now, self.stored, self.trained_at, self.acted = 0, [], [], []

    @staticmethod
    def action_of(obs, step) -> np.ndarray:
        episode, t, _ = np.asarray(obs, dtype=float)
        return np.array([np.sin(3 * episode + t + step), np.cos(2 * t + episode * step)], np.float32) * 0.95

    def act(self, obs, step):
        if np.shape(obs) != (3,):
            fail("11.4", f"at step {self.now} agent.act got an observation of shape {np.shape(obs)}",
                 "pass obs itself, shape (obs_dim,): agent.act acts on one observation")
        self.acted.append((self.now, np.array(obs, np.float32, copy=True), step))
        return self.action_of(obs, step)

    def store(self, obs, action, reward, next_obs, terminated, *extra):
        if extra:
            fail("11.4", f"agent.store was given {5 + len(extra)} values", "agent.store(obs, action, reward, "
                 "next_obs, terminated): five values, terminated as env.step gave it")
        self.stored.append((self.now, obs, action, reward, next_obs, terminated))

    def train(self):
        self.trained_at.append(self.now)
        return 0.0   # the critic loss, as SACAgent.train returns one


@guarded("11.4", LOOP_HINT)
def check_sac_env_step(sac_env_step) -> None:
    """Check ``sac_env_step(agent, env, obs, step) -> next obs`` on a scripted environment with an asymmetric box."""
    env, agent = _LoopEnv(), _LoopAgent()
    run_loop("11.4", sac_env_step, env, agent, LOOP_STEPS, LOOP_HINT, each=lambda step: _acted_right(agent, env, step))
    _stored_right(agent.stored, env)
    trained_when_due("11.4", agent.trained_at, LOOP_STEPS, LEARNING_STARTS, TRAIN_EVERY)
    passed("11.4", LOOP_STEPS)


def _acted_right(agent, env, step) -> None:
    """One call of agent.act(obs, step) on the current observation, its action scaled onto the box."""
    asked = [a for a in agent.acted if a[0] == step]
    obs, given = env.log[-1][0], env.log[-1][1]
    if not asked:
        fail("11.4", f"at step {step} agent.act was not called", "every action comes from agent.act(obs, step), the "
             "random ones before learning_starts included")
    if len(asked) > 1:
        fail("11.4", f"at step {step} agent.act was called {len(asked)} times", "call it once per step: each call "
             "draws new noise")
    _, acted_on, told = asked[0]
    if not _same(acted_on, obs):
        fail("11.4", f"at step {step} you asked agent.act about {acted_on}, not the current observation {obs}",
             "act on the observation you were given")
    if told != step:
        fail("11.4", f"at step {step} you called agent.act(obs, {told!r})", "pass the current step: agent.act(obs, "
             "step) acts at random until learning_starts")
    action = _LoopAgent.action_of(obs, step)
    want = LOW + (action + 1.0) / 2.0 * (HIGH - LOW)
    if _same(given, want):
        return
    for value, what, hint in [
        (action, "env.step was given the action in [-1, 1] as agent.act gave it, not scaled to the box",
         "map [-1, 1] onto [low, high]: low + (action + 1) / 2 * (high - low)"),
        (action * HIGH, "the action was multiplied by high, which maps [-1, 1] onto [-high, high], not [low, high]",
         "low + (action + 1) / 2 * (high - low) (Pendulum's box is symmetric, this one is not)"),
        (np.clip(action * HIGH, LOW, HIGH), "the action was multiplied by high and clipped: the part of [-1, 1] that "
         "falls below low is lost", "low + (action + 1) / 2 * (high - low)"),
        (LOW + action * (HIGH - LOW), "the action was scaled as if it lay in [0, 1]", "agent.act gives actions in "
         "[-1, 1]: low + (action + 1) / 2 * (high - low)"),
        (action * (HIGH - LOW) / 2, "the action was stretched to the box's width but not moved to its centre",
         "add the centre (low + high) / 2, or write low + (action + 1) / 2 * (high - low)"),
    ]:
        if _same(given, value):
            fail("11.4", f"at step {step} {what} (action {_shown(action)}, low {_shown(LOW)}, "
                 f"high {_shown(HIGH)}: expected {_shown(want)}, got {_shown(given)})",
                 hint)
    fail("11.4", f"at step {step} env.step got {_shown(given)} for the action "
         f"{_shown(action)} of agent.act; on the box low {_shown(LOW)}, high {_shown(HIGH)} "
         f"expected {_shown(want)}", LOOP_HINT)


def _stored_right(stored, env) -> None:
    """One transition per step, as env.step gave it, with the action agent.act gave (unscaled)."""
    steps = [s[0] for s in stored]
    if steps != list(range(1, LOOP_STEPS + 1)):
        if not stored:
            fail("11.4", f"agent.store was never called in {LOOP_STEPS} steps", "store every transition: "
                 "agent.store(obs, action, reward, next_obs, terminated)")
        twice = sorted({s for s in steps if steps.count(s) > 1})
        missing = [s for s in range(1, LOOP_STEPS + 1) if s not in steps]
        what = f"stored twice at step {twice[0]}" if twice else f"nothing stored at step {missing[0]}"
        fail("11.4", f"{len(stored)} transitions stored in {LOOP_STEPS} steps ({what})",
             "store exactly one transition per environment step")
    for (step, obs, action, reward, next_obs, terminated), true in zip(stored, env.log):
        t_obs, t_given, t_reward, t_next, t_term, t_trunc = true
        acted = _LoopAgent.action_of(t_obs, step)
        if not _same(action, acted) and _same(obs, t_obs):
            if _same(action, t_given):
                fail("11.4", f"at step {step} you stored the scaled action {_shown(t_given)}, not the "
                     f"one agent.act gave, {_shown(acted)}",
                     "store the action in [-1, 1]: the critics and the policy's tanh work there; scaling is the "
                     "environment's business")
            fail("11.4", f"at step {step} you stored action={action!r}, but agent.act gave {_shown(acted)}",
                 "store the action agent.act gave")
        stored_around_the_step_right("11.4", step, obs, reward, next_obs, true, env)
        terminated_right("11.4", step, terminated, t_term, t_trunc, note=" (Pendulum never terminates)")


# ------------------------------------------------------------------------------------------ 11.5


@guarded("11.5", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(returns, threshold: float = -200.0, episodes: int = 100) -> None:
    """Check the trained actor's mean action scores a mean return of ``threshold`` or more over ``episodes``."""
    mean_return_reaches("11.5", returns, threshold, episodes,
                        f"Mean return over {episodes} episodes >= {threshold:g}: the pendulum swings up and holds.",
                        "with the lesson's settings every seed tried passed within its budget, so a piece is "
                        "probably wrong in a way its check could not see: look at the temperature and entropy "
                        "plot and at the printed line of the training run, and rerun the checks above")
