"""Checks of lesson 08: advantages and targets, the actor-critic losses, the rollout."""
from __future__ import annotations

import numpy as np

from . import (call, fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed,
               same_actions_again)


def _normalised(x, ddof=0):
    return (x - x.mean()) / (x.std(ddof=ddof) + 1e-8)


def reference_advantages_and_targets(rewards, values, next_values, terminated, gamma):
    """The TD errors normalised over the batch, and the TD targets."""
    targets = rewards + gamma * (1.0 - terminated) * next_values
    return _normalised(targets - values), targets


# a case small enough to work out by hand, shown in every message about wrong values
SMALL_TD = dict(rewards=[1.0, 1.0, 0.5], values=[2.0, 3.0, 1.0], next_values=[3.0, 4.0, 2.0], terminated=[0.0, 1.0, 0.0])


def _small_td_case(advantages_and_targets, gamma=0.9) -> str:
    """Return a sentence: the student's advantages and targets on ``SMALL_TD`` and the expected ones."""
    args = {k: np.array(v, np.float32) for k, v in SMALL_TD.items()}
    want = [np.asarray(x, float).round(3).tolist() for x in reference_advantages_and_targets(*args.values(), gamma)]
    shown = ", ".join(f"{k}={v}" for k, v in SMALL_TD.items())
    try:
        got = [np.asarray(x, dtype=float).round(3).tolist()
               for x in advantages_and_targets(*(a.copy() for a in args.values()), gamma)]
    except Exception as err:  # noqa: BLE001 - a message, whatever the code does
        got = f"an error ({type(err).__name__})"
    return f" For {shown}, gamma={gamma}: expected (advantages, targets) = {want}, got {got}."


def _array(got, what: str, n: int):
    """Return ``got`` as checked: a float32 NumPy array of shape (n,)."""
    if isinstance(got, (float, np.generic)) or isinstance(got, np.ndarray) and got.shape == ():
        fail("08.1", f"{what} is one number ({type(got).__name__}), expected an array of {n}",
             "do not average or sum: one value per transition, element-wise on the arrays")
    if not isinstance(got, np.ndarray):
        fail("08.1", f"{what} is a {type(got).__name__} for NumPy arrays, expected a NumPy array",
             "the training loop goes on with NumPy: use plain arithmetic on the arrays, no tf operations")
    if got.shape != (n,):
        fail("08.1", f"{what} has shape {got.shape} for {n} transitions", "one value per transition")
    if got.dtype != np.float32:
        fail("08.1", f"float32 inputs gave a {got.dtype} {what}",
             "keep float32 (no astype(float), np.float64 or np.array(..., dtype=float)): the training step "
             "multiplies them with float32 tensors, and TensorFlow does not mix dtypes")
    return got.astype(float)


def _diagnose_targets(targets, r, v, nv, term, gamma, adv, wrong) -> None:
    """Fail, naming the slip, when the targets are not r + gamma (1 - terminated) V(s')."""
    mask = 1.0 - term
    want = r + gamma * mask * nv
    if np.allclose(targets, want, atol=1e-5):
        return
    for value, what, hint in [
        (r + gamma * nv, "transitions with terminated=1 still add gamma * V(s')",
         "you bootstrapped from a terminal state: multiply gamma * V(s') by (1 - terminated)"),
        (r + gamma * term * nv, "only the terminated transitions add gamma * V(s'): the mask is inverted",
         "multiply by (1 - terminated), which is 0 when the episode terminated"),
        (mask * (r + gamma * nv), "the reward of terminated transitions was masked too",
         "only the bootstrapped part goes: r + gamma * (1 - terminated) * V(s')"),
        (r + mask * nv if gamma else np.nan, "V(s') is not discounted", "multiply the next value by gamma"),
        (r + gamma * mask * v, "the targets bootstrap from values, V(s), not next_values, V(s')",
         "the target looks one step ahead: r + gamma * (1 - terminated) * V(s')"),
        (r + gamma * mask * v - nv + v, "values and next_values are swapped",
         "bootstrap from next_values, V(s'), and subtract values, V(s), for the TD error"),
        (adv + v, "the targets were built from the normalised advantages",
         "the critic aims at r + gamma * (1 - terminated) * V(s'), on the rewards' scale: take the targets from "
         "the TD errors before normalising them"),
        (_normalised(want), "the targets were normalised too", "normalise only the advantages: the critic's "
         "targets stay on the rewards' scale"),
        (want - v, "the targets are the TD errors, without V(s)", "target = r + gamma * (1 - terminated) * V(s')"),
    ]:
        if np.allclose(targets, value, atol=1e-5):
            wrong(what, hint)
    wrong("the targets are not r + gamma * (1 - terminated) * V(s')", "compute it element-wise on the arrays")


def _diagnose_advantages(adv, deltas, targets, wrong) -> None:
    """Fail, naming the slip, when the advantages are not the TD errors normalised over the batch."""
    if any(np.allclose(adv, _normalised(deltas, d), atol=1e-4) for d in (0, 1)):
        return
    for value, what, hint in [
        (deltas, "the advantages are the TD errors, not normalised", "(delta - delta.mean()) / (delta.std() + 1e-8)"),
        (_normalised(-deltas), "the advantages have the wrong sign", "delta = target - V(s), not V(s) - target"),
        (deltas - deltas.mean(), "the advantages were centred but not divided by their standard deviation",
         "(delta - delta.mean()) / (delta.std() + 1e-8)"),
        (deltas / (deltas.std() + 1e-8), "the advantages were divided by their standard deviation but not centred",
         "subtract the mean first"),
        (_normalised(targets), "the advantages are the normalised targets, not the normalised TD errors",
         "subtract the critic's V(s) before normalising: delta = target - V(s)"),
    ]:
        if np.allclose(adv, value, atol=1e-4):
            wrong(what, hint)
    wrong("the advantages are not the TD errors normalised over the batch",
          "delta = r + gamma * (1 - terminated) * V(s') - V(s), then (delta - delta.mean()) / (delta.std() + 1e-8)")


@guarded("08.1", "delta = rewards + gamma * (1 - terminated) * next_values - values; return ((delta - delta.mean()) / "
         "(delta.std() + 1e-8), delta + values)")
def check_advantages_and_targets(advantages_and_targets) -> None:
    """Check ``advantages_and_targets(rewards, values, next_values, terminated, gamma) -> (advantages, targets)``.

    The targets are unique up to floating point; the advantages are the TD errors normalised over the batch (the
    standard deviation with ddof 0 or 1). The training loop passes float32 NumPy arrays and goes on with them.
    """
    rng = np.random.default_rng(11)
    cases = 0
    for gamma, n, equal in ((0.99, 32, False), (0.9, 32, False), (0.0, 32, False), (0.9, 8, True)):
        r = rng.normal(1.0, 1.0, n).astype(np.float32)
        v, nv = rng.normal(5, 2, n).astype(np.float32), rng.normal(5, 2, n).astype(np.float32)
        term = (rng.random(n) < 0.3).astype(np.float32)
        if equal:   # every TD error the same: their standard deviation is 0
            r, v, nv, term = np.ones(n, np.float32), np.zeros(n, np.float32), np.zeros(n, np.float32), term * 0
        out = advantages_and_targets(r.copy(), v.copy(), nv.copy(), term.copy(), gamma)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail("08.1", f"returned {type(out).__name__}" + (f" of {len(out)}" if isinstance(out, (tuple, list))
                                                              else "") + ", expected a pair (advantages, targets)",
                 "return advantages, targets")
        adv, targets = _array(out[0], "advantages", n), _array(out[1], "targets", n)

        def wrong(what, hint):
            fail("08.1", what + "." + _small_td_case(advantages_and_targets), hint)

        if equal:
            if not np.all(np.isfinite(adv)) or not np.allclose(adv, 0.0, atol=1e-4):
                wrong(f"a batch whose TD errors are all equal gave advantages {np.round(adv[:3], 3).tolist()}..., "
                      "expected zeros", "add 1e-8 to the standard deviation: with equal TD errors it is 0")
            cases += 1
            continue
        want_adv, want_targets = reference_advantages_and_targets(r, v, nv, term, gamma)
        if np.allclose(adv, want_targets, atol=1e-5) and np.allclose(targets, want_adv, atol=1e-4):
            wrong("the two are swapped", "return advantages first, then targets")
        _diagnose_targets(targets, r, v, nv, term, gamma, adv, wrong)
        want_targets = want_targets.astype(float)
        _diagnose_advantages(adv, want_targets - v, want_targets, wrong)
        cases += 1
    passed("08.1", cases)


def reference_losses(logits, values, actions, advantages, targets, entropy_coef):
    """The check's own actor and critic losses: written apart from the lesson's solution on purpose.

    It repeats what ``lessons.lesson08`` computes, so that a mistake in the solution
    and the check's oracle would have to be made twice to pass unnoticed.
    """
    import tensorflow as tf

    log_probs = tf.nn.log_softmax(logits)
    taken = tf.gather(log_probs, actions, axis=1, batch_dims=1)
    entropy = -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=1))
    actor_loss = -tf.reduce_mean(taken * tf.stop_gradient(advantages)) - entropy_coef * entropy
    critic_loss = tf.reduce_mean(tf.square(tf.stop_gradient(targets) - values))
    return actor_loss, critic_loss, entropy


def _three_scalars(out) -> tuple:
    """Return the three losses as floats, failing with a message when ``out`` is not three numbers."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        fail("08.2", f"returned {type(out).__name__}{size}, expected a tuple of three losses",
             "return actor_loss, critic_loss, entropy (in this order)")
    values = []
    for name, x in zip(("actor_loss", "critic_loss", "entropy"), out):
        shape = tuple(getattr(x, "shape", np.shape(x))) if x is not None else None
        if shape != ():
            fail("08.2", f"{name} is {type(x).__name__}" + (f" of shape {shape}" if shape else "") +
                 ", expected one number", "average over the batch (tf.reduce_mean) so each is a scalar")
        values.append(float(np.asarray(x)))
    return tuple(values)


@guarded("08.2", "log-probabilities by tf.nn.log_softmax; actor loss -mean(log pi(a|s) * stop_gradient(advantages)) - entropy_coef * entropy; critic loss mean((stop_gradient(targets) - values)^2); return the three")
def check_actor_critic_losses(actor_critic_losses) -> None:
    """Check ``actor_critic_losses(logits, values, actions, advantages, targets, entropy_coef)``."""
    import tensorflow as tf

    rng = np.random.default_rng(12)
    for batch, n, coef in [(16, 2, 0.01), (5, 3, 0.1), (8, 2, 0.0)]:
        logits = tf.Variable(rng.normal(size=(batch, n)).astype(np.float32))
        values = tf.Variable(rng.normal(size=batch).astype(np.float32))
        advantages = tf.Variable(rng.normal(size=batch).astype(np.float32))
        targets = tf.Variable(rng.normal(size=batch).astype(np.float32))
        actions = tf.constant(rng.integers(n, size=batch))
        with tf.GradientTape(persistent=True) as tape:
            out = actor_critic_losses(logits, values, actions, advantages, targets, coef)
            ref = reference_losses(logits, values, actions, advantages, targets, coef)
        a, c, e = _three_scalars(out)
        ra, rc, re = (float(x) for x in ref)
        _diagnose(a, c, e, ra, rc, re, coef, logits.numpy(), values.numpy(), actions.numpy(), advantages.numpy(),
                  targets.numpy(), actor_critic_losses)
        for name, loss in zip(("actor_loss", "critic_loss"), out):
            must_be_tensor("08.2", loss, name, "build the losses from TensorFlow operations (tf.nn.log_softmax, "
                            "tf.gather, tf.reduce_mean, tf.square): no .numpy() or np.* inside")
        for name, loss, var in [("advantages", out[0], advantages), ("targets", out[1], targets)]:
            g = tape.gradient(loss, var)
            if g is not None and np.abs(np.asarray(g)).max() > 0:
                fail("08.2", f"gradient flows into the {name}",
                     f"wrap the {name} in tf.stop_gradient: they are targets computed from the critic, not parameters")
        for got_loss, ref_loss, var in [(out[0], ref[0], logits), (out[1], ref[1], values)]:
            g, rg = tape.gradient(got_loss, var), tape.gradient(ref_loss, var)
            if g is None or not np.allclose(g, rg, atol=1e-5):
                fail("08.2", "a loss has the right value but the wrong gradient." + _small_gradient_case(actor_critic_losses),
                     "build the losses from TensorFlow operations (no .numpy() inside)")
        del tape
        if batch == 16:
            first = (logits, values, actions, advantages, targets, coef)
    matches_when_compiled("08.2", actor_critic_losses, first, reference_losses,
              "use TensorFlow operations only (no .numpy() or np.* on tensors): the training step compiles "
              "the losses")
    passed("08.2", 3)


SMALL_LOSSES = dict(logits=[[0.0, 1.0], [2.0, 0.0]], values=[1.0, 2.0], actions=[1, 0], advantages=[1.0, -1.0],
                    targets=[2.0, 0.0], entropy_coef=0.1)


def _small_arguments():
    import tensorflow as tf

    s = SMALL_LOSSES
    return (tf.Variable(np.array(s["logits"], np.float32)), tf.Variable(np.array(s["values"], np.float32)),
            tf.constant(np.array(s["actions"], np.int64)), tf.constant(np.array(s["advantages"], np.float32)),
            tf.constant(np.array(s["targets"], np.float32)), s["entropy_coef"])


def _shown_small_case() -> str:
    return ", ".join(f"{k}={v}" for k, v in SMALL_LOSSES.items())


def _small_loss_case(actor_critic_losses) -> str:
    """Return a sentence: the student's three losses on ``SMALL_LOSSES`` and the expected ones."""
    args = _small_arguments()
    want = [round(float(x), 4) for x in reference_losses(*args)]
    try:
        got = tuple(round(float(np.asarray(x)), 4) for x in actor_critic_losses(*args))
    except Exception as err:  # noqa: BLE001 - a message, whatever the code does
        got = f"an error ({type(err).__name__})"
    return f" For {_shown_small_case()}: expected (actor_loss, critic_loss, entropy) = {tuple(want)}, got {got}."


def _small_gradient_case(actor_critic_losses) -> str:
    """Return a sentence: the gradients of the student's losses on ``SMALL_LOSSES`` and the expected ones."""
    import tensorflow as tf

    args = _small_arguments()
    shown = []
    for i, (name, var) in enumerate((("actor_loss", args[0]), ("critic_loss", args[1]))):
        with tf.GradientTape(persistent=True) as tape:
            want = reference_losses(*args)[i]
            try:
                got = actor_critic_losses(*args)[i]
            except Exception:  # noqa: BLE001 - a message, whatever the code does
                got = None
        rg = np.asarray(tape.gradient(want, var), dtype=float).round(4).tolist()
        g = tape.gradient(got, var) if got is not None and tf.is_tensor(got) else None
        shown.append(f"d {name} / d {'logits' if i == 0 else 'values'}: expected {rg}, got "
                     f"{None if g is None else np.asarray(g, dtype=float).round(4).tolist()}")
    return f" For {_shown_small_case()}: " + "; ".join(shown) + "."


def _diagnose(a, c, e, ra, rc, re, coef, logits, values, actions, advantages, targets, actor_critic_losses) -> None:
    """Fail 08.2 with the likely mistake when the three values are not the reference's."""
    if np.allclose([a, c], [rc, ra], atol=1e-5) and not np.isclose(ra, rc, atol=1e-5):
        fail("08.2", "the actor and critic losses are swapped", "return (actor_loss, critic_loss, entropy) in this order")
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
        fail("08.2", f"entropy {e:.4f}, expected {re:.4f}." + _small_loss_case(actor_critic_losses), hint)
    rows = np.arange(len(actions))
    pg = -np.mean(log_probs[rows, actions] * advantages)
    if coef and np.isclose(a, ra + 2 * coef * re, atol=1e-5):
        fail("08.2", "the entropy bonus has the wrong sign",
             "we minimise the actor loss and want MORE entropy: actor_loss = pg_loss - entropy_coef * entropy")
    if coef and np.isclose(a, pg, atol=1e-5):
        fail("08.2", f"actor loss {a:.4f}, expected {ra:.4f}: the entropy bonus is missing",
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
                fail("08.2", f"actor loss {a:.4f}, expected {ra:.4f}: {what}", hint)
        fail("08.2", f"actor loss {a:.4f}, expected {ra:.4f}." + _small_loss_case(actor_critic_losses),
             "-mean(log pi(a|s) * advantage) - entropy_coef * entropy")
    if not np.isclose(c, rc, atol=1e-5):
        err = targets - values
        causes = [
            (0.5 * rc, "half the mean squared error", "this lesson's critic loss has no 1/2: mean((targets - values)**2)"),
            (np.mean(np.abs(err)), "the mean absolute error", "square the errors: mean((targets - values)**2)"),
            (np.sum(err ** 2), "a sum over the batch", "take the mean: tf.reduce_mean"),
            (np.mean(np.where(np.abs(err) <= 1, 0.5 * err ** 2, np.abs(err) - 0.5)), "a Huber loss",
             "the critic regresses with a mean squared error here: mean((targets - values)**2)"),
            (np.mean(err) ** 2, "the square of the mean error", "square each error, then average"),
        ]
        for value, what, hint in causes:
            if np.isclose(c, value, atol=1e-5):
                fail("08.2", f"critic loss {c:.4f}, expected {rc:.4f}: it is {what}", hint)
        fail("08.2", f"critic loss {c:.4f}, expected {rc:.4f}." + _small_loss_case(actor_critic_losses),
             "mean of (targets - values) ** 2")


@guarded("08.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained actor's greedy mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("08.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "with the lesson's settings every seed tried passed within its budget, so a piece is "
                        "probably wrong in a way its check could not see: look at the learning curve and at the "
                        "printed line of the training run, and rerun the checks above")


# 08.3: the rollout ---------------------------------------------------------------------------
# The student's rollout is driven on three scripted environments in a SyncVectorEnv with
# SAME_STEP autoreset, so Gymnasium's own final_obs mechanics are exercised. Observations
# name the environment, the episode and the time step, so every stored field can be
# compared with what the rollout should have gathered, and every mistake named.

# (length, how it ends) of each episode, per environment: ends of both kinds, two on the
# same step, one on the last step of a rollout
ROLLOUT_SCRIPT = [[(4, "terminated"), (6, "truncated"), (3, "terminated"), (50, "terminated")],
                  [(5, "truncated"), (5, "terminated"), (50, "truncated")],
                  [(7, "terminated"), (2, "truncated"), (4, "truncated"), (50, "terminated")]]
ROLLOUT_CALLS, ROLLOUT_LENGTH, ROLLOUT_ACTIONS, SURE = 3, 5, 3, 20.0
N_SCRIPTED = len(ROLLOUT_SCRIPT)


def _scripted_env_class():
    import gymnasium as gym

    class ScriptedEnv(gym.Env):
        """Observation ``[env, episode, t]``; episode lengths and ends from ``ROLLOUT_SCRIPT``."""

        def __init__(self, index):
            self.index, self.episode, self.t = index, -1, 0
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
            self.action_space = gym.spaces.Discrete(ROLLOUT_ACTIONS)

        def _obs(self):
            return np.array([self.index, self.episode, self.t], np.float32)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.episode, self.t = self.episode + 1, 0
            return self._obs(), {}

        def step(self, action):
            length, how = ROLLOUT_SCRIPT[self.index][self.episode]
            self.t += 1
            reward = 1.0 + self.t / 10 + self.index / 100
            return self._obs(), reward, self.t == length and how == "terminated", \
                self.t == length and how == "truncated", {}

    return ScriptedEnv


def scripted_logits(obs) -> np.ndarray:
    """The scripted actor: sure of one action at every other time step, unsure at the others."""
    obs = np.asarray(obs, dtype=float).reshape(-1, 3)
    logits = np.zeros((len(obs), ROLLOUT_ACTIONS), np.float32)
    for row, (i, episode, t) in zip(logits, obs):
        key = int(i + episode + t)
        if key % 2 == 0:
            row[(key // 2) % ROLLOUT_ACTIONS] = SURE   # probability 1 - 4e-9
        else:
            row[0] = 0.1                               # probabilities 0.36, 0.32, 0.32
    return logits


class _RolloutAgent:
    """What the rollout is given as ``agent``: the scripted actor, recording what it is asked."""

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.asked = []          # observations asked for since the last envs.step

    def policy_logits(self, obs):
        self.asked.extend(np.array(obs, dtype=np.float32, copy=True).reshape(-1, 3))
        return scripted_logits(obs)


def _rows(a) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=2, separator=", ").replace("\n", "")


def _recording_envs(agent, steps):
    """The scripted vector environment, wrapped so that every step is checked and recorded."""
    import gymnasium as gym

    scripted = _scripted_env_class()
    inner = gym.vector.SyncVectorEnv([lambda i=i: scripted(i) for i in range(N_SCRIPTED)],
                                     autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)

    class Recording(gym.vector.VectorWrapper):
        def __init__(self):
            super().__init__(inner)
            self.current, self.call_number, self.steps_this_call, self.log, self.started = None, 0, 0, [], False

        def reset(self, **kwargs):
            if self.started:
                fail("08.3", "your rollout called envs.reset()",
                     "do not reset: with SAME_STEP autoreset, an environment whose episode ends starts the next one "
                     "within the same envs.step call, and envs.reset() would restart every environment")
            self.started = True
            self.current, info = self.env.reset(**kwargs)
            return self.current.copy(), info

        def step(self, actions):
            self.steps_this_call += 1
            at = f"at step {self.steps_this_call} of rollout call {self.call_number}"
            if self.steps_this_call > steps:
                fail("08.3", f"rollout call {self.call_number} took more than steps={steps} environment steps",
                     "take exactly `steps` steps (the argument), not ROLLOUT_STEPS or another number")
            _actions_right(at, actions, agent.asked, self.current, self.log[-1] if self.log else None)
            next_obs, rewards, terminated, truncated, info = self.env.step(np.asarray(actions))
            ended = terminated | truncated
            real = next_obs.copy()
            if ended.any():
                real[ended] = np.stack(info["final_obs"][ended])
            self.log.append(dict(obs=self.current.copy(), actions=np.asarray(actions).copy(), rewards=rewards.copy(),
                                 next_obs=real, reset_obs=next_obs.copy(), terminated=terminated.copy(),
                                 truncated=truncated.copy()))
            self.current = next_obs.copy()
            agent.asked = []
            return next_obs, rewards, terminated, truncated, info

    return Recording()


def _actions_right(at, actions, asked, current, previous) -> None:
    """Actions for every environment, integers, sampled from the actor at the current observations."""
    a = np.asarray(actions) if not isinstance(actions, (int, float)) else np.asarray([actions])
    if a.shape != (N_SCRIPTED,):
        fail("08.3", f"{at} envs.step got actions of shape {a.shape}, expected ({N_SCRIPTED},): one per environment",
             "sample one action per environment from agent.policy_logits(obs), shape (n_envs, n_actions)")
    if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= ROLLOUT_ACTIONS:
        fail("08.3", f"{at} envs.step got the actions {_rows(a)} ({a.dtype}), expected integers from 0 to "
             f"{ROLLOUT_ACTIONS - 1}", "cu.sample_from_logits(logits, agent.rng) returns one integer action per row")
    if not asked:
        fail("08.3", f"{at} envs.step was called without asking agent.policy_logits for the current observations "
             f"{_rows(current)}", "sample the actions from the actor: cu.sample_from_logits(agent.policy_logits(obs), "
             "agent.rng)")
    seen = np.array(asked)
    missing = [i for i, row in enumerate(current) if not (np.abs(seen - row).max(axis=1) == 0).any()]
    ended = [] if previous is None else [i for i in missing if previous["terminated"][i] or previous["truncated"][i]]
    for i in ended:
        if (np.abs(seen - previous["next_obs"][i]).max(axis=1) == 0).any():
            fail("08.3", f"{at} you asked agent.policy_logits for {_rows(previous['next_obs'][i])}, the last "
                 f"observation of the episode that just ended in environment {i}; that environment has started a new "
                 f"episode and is at {_rows(current[i])}",
                 "act on what envs.step returned; if you put info['final_obs'] into next_obs for the batch, do it on "
                 "a copy (real_next = next_obs.copy()), so obs = next_obs stays the new episodes' observations")
    if missing:
        stale = previous is not None and seen.shape == previous["obs"].shape and np.array_equal(seen, previous["obs"])
        fail("08.3", f"{at} the environments show {_rows(current)}, but you asked agent.policy_logits for "
             f"{_rows(seen)}" + (", the observations of the step before: obs was not advanced" if stale else ""), "act on the observation you are at: after each step, obs = next_obs (the one "
             "envs.step returned, which is already the new episode's first observation where one ended)")
    probs = np.exp(scripted_logits(current) - SURE)
    probs /= probs.sum(axis=1, keepdims=True)
    for i, (action, p) in enumerate(zip(a, probs)):
        if p[action] < 1e-6:
            fail("08.3", f"{at} environment {i} was at {_rows(current[i])}, where the policy's probabilities are "
                 f"{_rows(p)}, and you took action {action}",
                 "sample from softmax(logits): cu.sample_from_logits(agent.policy_logits(obs), agent.rng)")


ROLLOUT_HINT = ("for each of the `steps` steps: actions = cu.sample_from_logits(agent.policy_logits(obs), agent.rng); "
                "envs.step(actions); keep obs, actions, rewards, the real next observations (info['final_obs'] where "
                "an episode ended) and terminated; obs = next_obs; return the stacked arrays and obs")


@guarded("08.3", ROLLOUT_HINT)
def check_collect_rollout(collect_rollout) -> None:
    """Check ``collect_rollout(agent, envs, obs, steps) -> (batch, obs)`` on scripted environments, call by call."""
    log = _run_rollouts(collect_rollout)
    _sampled_not_greedy(log)
    _replayed_by_the_agents_rng(collect_rollout, [true["actions"].tolist() for true in log])
    passed("08.3", ROLLOUT_CALLS * ROLLOUT_LENGTH)


def _run_rollouts(collect_rollout) -> list:
    """Call the student's rollout ROLLOUT_CALLS times on fresh scripted environments and agent, checking each
    call's steps, batch and returned observation; return the environments' log of what truly happened."""
    agent = _RolloutAgent()
    envs = _recording_envs(agent, ROLLOUT_LENGTH)
    obs, _ = envs.reset(seed=0)
    for call_number in range(1, ROLLOUT_CALLS + 1):
        envs.call_number, envs.steps_this_call = call_number, 0
        given = obs.copy()
        out = call("08.3", collect_rollout, agent, envs, obs, ROLLOUT_LENGTH, hint=ROLLOUT_HINT)
        if envs.steps_this_call < ROLLOUT_LENGTH:
            fail("08.3", f"rollout call {call_number} took {envs.steps_this_call} environment steps, expected "
                 f"steps={ROLLOUT_LENGTH}", "take exactly `steps` steps (the argument) in one call")
        log = envs.log[-ROLLOUT_LENGTH:]
        batch, returned = _unpack(out, call_number)
        _batch_right(batch, log, call_number)
        _continues_right(returned, given, log, envs.current, call_number)
        obs = returned
    return envs.log


def _replayed_by_the_agents_rng(collect_rollout, actions) -> None:
    """The same rollouts again with an agent whose rng starts where the first one's did: the actions must repeat.

    An answer that samples with a generator of its own (np.random, a fresh default_rng()) takes other actions at the
    states where the actor is unsure: at each, the same action twice has probability 0.36² + 2 · 0.32² = 0.33, so
    all of them alike by chance is unlikely (test_lesson08_rollout counts them)."""
    same_actions_again("08.3", actions, [true["actions"].tolist() for true in _run_rollouts(collect_rollout)],
                       "sample with agent.rng (cu.sample_from_logits(logits, agent.rng)), not with np.random or a "
                       "generator of your own")


def _unpack(out, call_number):
    if not isinstance(out, tuple) or len(out) != 2:
        size = f" of {len(out)}" if isinstance(out, (tuple, list)) else ""
        fail("08.3", f"rollout call {call_number} returned {type(out).__name__}{size}, expected a pair (batch, obs)",
             "return batch, obs: the dict of arrays and the observation to continue from")
    batch, returned = out
    if not isinstance(batch, dict):
        fail("08.3", f"the batch is a {type(batch).__name__}, expected a dict", "return a dict with the keys "
             "'obs', 'actions', 'rewards', 'next_obs', 'terminated'")
    missing = [k for k in ("obs", "actions", "rewards", "next_obs", "terminated") if k not in batch]
    if missing:
        fail("08.3", f"the batch has the keys {sorted(batch)}, missing {missing}",
             "return a dict with the keys 'obs', 'actions', 'rewards', 'next_obs', 'terminated'")
    return batch, returned


def _batch_right(batch, log, call_number) -> None:
    """Each field: a NumPy array of shape (steps, n_envs, ...) and the stated dtype, holding the right values."""
    steps, n = ROLLOUT_LENGTH, N_SCRIPTED
    wanted = {"obs": ((steps, n, 3), "float32"), "actions": ((steps, n), "int"), "rewards": ((steps, n), "float32"),
              "next_obs": ((steps, n, 3), "float32"), "terminated": ((steps, n), "float32")}
    for key, (shape, dtype) in wanted.items():
        value = batch[key]
        if not isinstance(value, np.ndarray):
            fail("08.3", f"batch[{key!r}] is a {type(value).__name__}, expected a NumPy array of shape {shape}",
                 "stack the per-step arrays: np.array(list_of_arrays, dtype=...)")
        if value.shape != shape:
            if value.shape == (steps * n,) + shape[2:]:
                why = "the steps and the environments are flattened into one axis"
            elif value.shape == (n, steps) + shape[2:]:
                why = "the axes are (environments, steps)"
            else:
                why = f"{steps} steps of {n} environments"
            fail("08.3", f"batch[{key!r}] has shape {value.shape}, expected {shape} ({why})",
                 "every field is (steps, n_envs, ...): one entry per step, np.array of the list of per-step arrays")
        ok = np.issubdtype(value.dtype, np.integer) if dtype == "int" else value.dtype == np.float32
        if not ok:
            extra = (" (True/False flags)" if value.dtype == bool else "")
            fail("08.3", f"batch[{key!r}] has dtype {value.dtype}{extra}, expected " +
                 ("an integer dtype (int64)" if dtype == "int" else "float32"),
                 f"np.array(..., dtype={'np.int64' if dtype == 'int' else 'np.float32'}): "
                 + ("actions index the actor's logits" if dtype == "int" else
                    "rewards from envs.step are float64 and terminated is bool; the update takes float32 "
                    "(terminated as 1.0 / 0.0)"))
    for t, true in enumerate(log):
        at = f"rollout call {call_number}, step {t + 1}"
        _field_right(batch, "obs", t, true, at)
        _field_right(batch, "actions", t, true, at)
        _field_right(batch, "rewards", t, true, at)
        _next_obs_right(batch["next_obs"][t], true, at)
        _terminated_right(batch["terminated"][t], true, at)


def _field_right(batch, key, t, true, at) -> None:
    got, want = batch[key][t], true[key]
    if np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), atol=1e-6):
        return
    what = {"obs": "the observations the actions were sampled for",
            "actions": "the actions passed to envs.step", "rewards": "the rewards envs.step returned"}[key]
    if key == "obs" and np.allclose(got, true["next_obs"]) or key == "obs" and np.allclose(got, true["reset_obs"]):
        said = " (the next observations)"
    else:
        said = ""
    fail("08.3", f"{at}: batch[{key!r}] holds {_rows(got)}{said}, expected {what}, {_rows(want)}",
         f"store {what} of each step, in the order of the steps")


def _next_obs_right(got, true, at) -> None:
    want = true["next_obs"]
    if np.allclose(got, want, atol=1e-6):
        return
    for i in range(N_SCRIPTED):
        if np.allclose(got[i], want[i], atol=1e-6):
            continue
        ended = true["terminated"][i] or true["truncated"][i]
        how = "terminated" if true["terminated"][i] else "truncated"
        if ended and np.allclose(got[i], true["reset_obs"][i]):
            fail("08.3", f"{at}: environment {i}'s episode {how}, and batch['next_obs'] holds {_rows(got[i])}, the "
                 f"first observation of its next episode; its real last observation, info['final_obs'][{i}], is "
                 f"{_rows(want[i])}",
                 "where terminated | truncated, take next_obs from info['final_obs'] (the vector environment has "
                 "already reset): the critic bootstraps a truncated episode from its real last state")
        fail("08.3", f"{at}: batch['next_obs'] of environment {i} holds {_rows(got[i])}, expected {_rows(want[i])}",
             "next_obs is what envs.step returned, with info['final_obs'] where an episode ended")


def _terminated_right(got, true, at) -> None:
    want = true["terminated"].astype(np.float32)
    if np.array_equal(got, want):
        return
    i = int(np.flatnonzero(got != want)[0])
    if true["truncated"][i] and got[i] == 1.0:
        fail("08.3", f"{at}: environment {i}'s episode was truncated (terminated=False, truncated=True) and "
             f"batch['terminated'] holds 1.0 for it",
             "store terminated only, not terminated | truncated: a truncated episode did not reach a terminal state, "
             "and the critic still bootstraps from its last observation")
    fail("08.3", f"{at}: batch['terminated'] holds {_rows(got)}, envs.step returned terminated={_rows(want)}",
         "store terminated as envs.step returned it, as 1.0 / 0.0")


def _continues_right(returned, given, log, current, call_number) -> None:
    """The rollout returns the observations the environments are at, to act on in the next call."""
    got = np.asarray(returned, dtype=float) if isinstance(returned, np.ndarray) else None
    if got is None or got.shape != current.shape:
        fail("08.3", f"rollout call {call_number} returned {type(returned).__name__} "
             f"{getattr(returned, 'shape', '')} as the observation to continue from, expected an array of shape "
             f"{current.shape}", "return obs, the observations returned by the last envs.step")
    if np.allclose(got, current):
        return
    if np.allclose(got, log[-1]["next_obs"]):
        fail("08.3", f"rollout call {call_number} returned {_rows(got)} to continue from, which holds the last "
             f"observation of an episode that ended; the environments are at {_rows(current)}",
             "continue from what envs.step returned (the new episodes' first observations), not from final_obs; "
             "copy next_obs before you put final_obs into it")
    if np.allclose(got, given):
        fail("08.3", f"rollout call {call_number} returned the observations it was given, {_rows(given)}, expected "
             f"those the environments are at, {_rows(current)}", "return obs after setting obs = next_obs at each step")
    fail("08.3", f"rollout call {call_number} returned {_rows(got)} to continue from, expected {_rows(current)}",
         "return the observations returned by the last envs.step")


def _sampled_not_greedy(log) -> None:
    """Where the actor was unsure, a sampled policy takes other actions than its most likely one."""
    taken, unsure = [], 0
    for true in log:
        logits = scripted_logits(true["obs"])
        for row, action in zip(logits, true["actions"]):
            if row.max() < SURE:
                unsure += 1
                taken.append(int(action) == int(row.argmax()))
    if all(taken):
        fail("08.3", f"at all {unsure} states where the policy was unsure (probabilities 0.36, 0.32, 0.32) you took its "
             "most likely action", "sample the actions (cu.sample_from_logits), do not take the argmax: the actor "
             "learns from the actions it tries")
