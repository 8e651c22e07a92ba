"""Lesson 11's checks pass the reference pieces and other correct forms, and name each plausible mistake."""
import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from course_utils.checks import lesson11  # noqa: E402
from mistake_bank import assert_passes, assert_rejected  # noqa: E402
from course_utils.lessons import lesson11 as reference  # noqa: E402

LOG_2PI = math.log(2 * math.pi)


def test_reference_pieces_pass(capsys):
    lesson11.check_squashed_gaussian(reference.squashed_gaussian)
    lesson11.check_soft_q_targets(reference.soft_q_targets)
    lesson11.check_actor_and_temperature_losses(reference.actor_and_temperature_losses)
    lesson11.check_sac_env_step(reference.sac_env_step)
    assert capsys.readouterr().out == ("Exercise 11.1: passed (5 cases checked).\n"
                                       "Exercise 11.2: passed (4 cases checked).\n"
                                       "Exercise 11.3: passed (4 cases checked).\n"
                                       "Exercise 11.4: passed (40 cases checked).\n")


# ------------------------------------------------------------------------------------------ 11.1


def _squash(u_of=None, action_of=None, log_normal=None, correction=None, reduce=None, order=None):
    """A squashed Gaussian with one piece replaced: ``u_of(mean, log_std, noise)``, ``action_of(u, mean)``,
    ``log_normal(u, mean, log_std, noise)``, ``correction(u, a)`` (log of tanh's slope), ``reduce(x)`` over
    dimensions, ``order(actions, log_probs)``."""
    def squashed_gaussian(mean, log_std, noise):
        u = u_of(mean, log_std, noise) if u_of else mean + tf.exp(log_std) * noise
        a = action_of(u, mean) if action_of else tf.tanh(u)
        ln = log_normal(u, mean, log_std, noise) if log_normal else -0.5 * noise ** 2 - log_std - 0.5 * LOG_2PI
        corr = correction(u, a) if correction else 2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u))
        lp = reduce(ln - corr) if reduce else tf.reduce_sum(ln - corr, axis=1)
        return order(a, lp) if order else (a, lp)
    return squashed_gaussian


SQUASH_CORRECT = {
    "log(1 - a^2 + 1e-6)": _squash(correction=lambda u, a: tf.math.log(1.0 - a ** 2 + 1e-6)),
    "Gaussian log-density from (u - mean) / std": _squash(
        log_normal=lambda u, m, s, n: -0.5 * tf.square((u - m) / tf.exp(s)) - s - 0.5 * math.log(2 * math.pi)),
    "log(1 - tanh(u)^2 + eps), std as a variable, a print": lambda m, s, n: (
        print("sampling"), _squash(u_of=lambda mean, log_std, noise: mean + tf.math.exp(log_std) * noise,
                                   correction=lambda u, a: tf.math.log(1.0 - tf.tanh(u) ** 2 + 1e-7))(m, s, n))[1],
    "sum of log-density minus sum of corrections, clip": _squash(
        correction=lambda u, a: tf.math.log(tf.clip_by_value(1.0 - a ** 2, 1e-6, 1.0))),
}


@pytest.mark.parametrize("name", SQUASH_CORRECT)
def test_other_correct_squashed_gaussians_pass(name, capsys):
    assert_passes(lesson11.check_squashed_gaussian, SQUASH_CORRECT[name], "11.1", capsys)


SQUASH_MISTAKES = {
    "not squashed": (_squash(action_of=lambda u, m: u), "not squashed"),
    "noise ignored": (_squash(action_of=lambda u, m: tf.tanh(m)), "ignore the noise"),
    "scale not positive (log_std as std)": (_squash(u_of=lambda m, s, n: m + s * n), "scaled by log_std itself"),
    "no scale": (_squash(u_of=lambda m, s, n: m + n), "not scaled by the standard deviation"),
    "variance as scale": (_squash(u_of=lambda m, s, n: m + tf.exp(2 * s) * n), "scaled by the variance"),
    "no tanh correction": (_squash(correction=lambda u, a: 0.0 * u), "tanh correction is missing"),
    "correction added": (_squash(correction=lambda u, a: -2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u))),
                         "wrong sign"),
    "correction from u, before tanh": (_squash(correction=lambda u, a: tf.math.log(tf.abs(1.0 - u ** 2) + 1e-6)),
                                       "computed from u"),
    "not summed over dimensions": (_squash(reduce=lambda x: x), "one number per action dimension"),
    "averaged over dimensions": (_squash(reduce=lambda x: tf.reduce_mean(x, axis=1)), "averaged over the action"),
    "no -log std": (_squash(log_normal=lambda u, m, s, n: -0.5 * n ** 2 - 0.5 * LOG_2PI), "-log(std) term"),
    "no constant": (_squash(log_normal=lambda u, m, s, n: -0.5 * n ** 2 - s), "constant -log(2 pi) / 2"),
    "log(1 - a^2) with no epsilon": (_squash(correction=lambda u, a: tf.math.log(1.0 - a ** 2)), "flat tails"),
    "sample cut off (stop_gradient)": (_squash(u_of=lambda m, s, n: tf.stop_gradient(m + tf.exp(s) * n)),
                                       "no gradient (or the wrong one) back to mean"),
    "log-prob cut off": (_squash(reduce=lambda x: tf.stop_gradient(tf.reduce_sum(x, axis=1))),
                         "wrong gradient back to mean"),
    "NumPy inside": (_squash(action_of=lambda u, m: tf.constant(np.tanh(u.numpy()))),
                     "no gradient (or the wrong one) back to mean"),
    "swapped": (_squash(order=lambda a, lp: (lp, a)), "the two are swapped"),
    "(batch, 1) log-probs": (_squash(reduce=lambda x: tf.reduce_sum(x, axis=1, keepdims=True)),
                             "log_probs has shape (16, 1), expected (16,)"),
    "actions only": (lambda m, s, n: tf.tanh(m + tf.exp(s) * n), "expected a pair (actions, log_probs)"),
    "float64": (_squash(reduce=lambda x: tf.cast(tf.reduce_sum(x, axis=1), tf.float64)), "float64 log_probs"),
    "tf.print inside (XLA has none)": (_squash(action_of=lambda u, m: (tf.print("a"), tf.tanh(u))[1]),
                                       "compiled by XLA"),
    "constant counted once": (_squash(reduce=lambda x: tf.reduce_sum(x, axis=1) + 0.5 * LOG_2PI * (
        tf.cast(tf.shape(x)[1], tf.float32) - 1.0)), "counted once, not once per action dimension"),
    "epsilon 1e-4 inside the log": (_squash(correction=lambda u, a: tf.math.log(1.0 - a ** 2 + 1e-4)), "too large"),
}


@pytest.mark.parametrize("name", SQUASH_MISTAKES)
def test_squashed_gaussian_mistakes_are_named(name):
    answer, message = SQUASH_MISTAKES[name]
    assert_rejected(lesson11.check_squashed_gaussian, answer, "11.1", message)


# ------------------------------------------------------------------------------------------ 11.2


def _targets(next_q=None, entropy=None, mask=None, gamma_of=None, whole=None):
    """Soft targets with one piece replaced: ``next_q(critics, s, a)``, ``entropy(alpha, lp)`` (what is subtracted),
    ``mask(d)``, ``gamma_of(g)``, or ``whole(r, g, d, soft_value)``."""
    def soft_q_targets(critics, r, next_obs, d, next_a, next_lp, alpha, gamma):
        q = (next_q(critics, next_obs, next_a) if next_q else
             tf.minimum(critics.target_q1(next_obs, next_a), critics.target_q2(next_obs, next_a)))
        soft = q - (entropy(alpha, next_lp) if entropy else alpha * next_lp)
        g = gamma_of(gamma) if gamma_of else gamma
        if whole:
            return whole(r, g, d, soft)
        return r + g * (mask(d) if mask else 1.0 - d) * soft
    return soft_q_targets


TARGETS_CORRECT = {
    "tf.reduce_min over a stack": _targets(next_q=lambda c, s, a: tf.reduce_min(
        tf.stack([c.target_q1(s, a), c.target_q2(s, a)]), axis=0)),
    "written out, a print": lambda c, r, s, d, a, lp, al, g: (print("y"), r + g * (1 - d) * (tf.minimum(
        c.target_q1(s, a), c.target_q2(s, a)) - al * lp))[1],
    "stop_gradient around it": lambda *args: tf.stop_gradient(reference.soft_q_targets(*args)),
    "tf.where on the two": _targets(next_q=lambda c, s, a: (lambda q1, q2: tf.where(q1 < q2, q1, q2))(
        c.target_q1(s, a), c.target_q2(s, a))),
}


@pytest.mark.parametrize("name", TARGETS_CORRECT)
def test_other_correct_targets_pass(name, capsys):
    assert_passes(lesson11.check_soft_q_targets, TARGETS_CORRECT[name], "11.2", capsys)


TARGETS_MISTAKES = {
    "max of the twins": (_targets(next_q=lambda c, s, a: tf.maximum(c.target_q1(s, a), c.target_q2(s, a))),
                         "larger of the two target critics"),
    "mean of the twins": (_targets(next_q=lambda c, s, a: (c.target_q1(s, a) + c.target_q2(s, a)) / 2),
                          "average the two"),
    "one target critic": (_targets(next_q=lambda c, s, a: c.target_q1(s, a)), "target_q1 alone"),
    "online critics": (_targets(next_q=lambda c, s, a: tf.minimum(c.q1(s, a), c.q2(s, a))), "online critics"),
    "entropy term added": (_targets(entropy=lambda al, lp: -al * lp), "entropy term has the wrong sign"),
    "no alpha": (_targets(entropy=lambda al, lp: lp), "not weighted by alpha"),
    "no entropy term": (_targets(entropy=lambda al, lp: 0.0 * lp), "entropy term is missing"),
    "bootstrapping through terminated": (_targets(mask=lambda d: 1.0 + 0.0 * d), "still bootstrap"),
    "mask inverted": (_targets(mask=lambda d: d), "mask is inverted"),
    "reward masked": (_targets(whole=lambda r, g, d, v: (1 - d) * (r + g * v)), "reward of terminated"),
    "not discounted": (_targets(gamma_of=lambda g: 1.0), "not discounted"),
    "entropy outside": (lambda c, r, s, d, a, lp, al, g: r + g * (1 - d) * tf.minimum(
        c.target_q1(s, a), c.target_q2(s, a)) - al * lp, "outside the discounted"),
    "NumPy inside": (lambda c, r, s, d, a, lp, al, g: tf.constant(np.asarray(reference.soft_q_targets(
        c, r, s, d, a, lp, al, g)).astype(np.float32)), "inside tf.function"),
    "a (batch, 1) column": (lambda *args: reference.soft_q_targets(*args)[:, None], "shape (12, 1)"),
    "float64": (lambda *args: tf.cast(reference.soft_q_targets(*args), tf.float64), "float64 targets"),
    "a pair returned": (lambda *args: (reference.soft_q_targets(*args), None), "the targets is a tuple"),
    "a list returned": (lambda *args: [float(x) for x in reference.soft_q_targets(*args)], "the targets is a list"),
}


@pytest.mark.parametrize("name", TARGETS_MISTAKES)
def test_soft_target_mistakes_are_named(name):
    answer, message = TARGETS_MISTAKES[name]
    assert_rejected(lesson11.check_soft_q_targets, answer, "11.2", message)


# ------------------------------------------------------------------------------------------ 11.3


def _losses(actor=None, temperature=None, order=None):
    """The two losses with one replaced: ``actor(alpha, lp, q1, q2)``, ``temperature(log_alpha, lp, target)``."""
    def losses(lp, q1, q2, log_alpha, target):
        alpha = tf.stop_gradient(tf.exp(log_alpha))
        a = actor(alpha, lp, q1, q2) if actor else tf.reduce_mean(alpha * lp - tf.minimum(q1, q2))
        t = (temperature(log_alpha, lp, target) if temperature
             else -log_alpha * tf.reduce_mean(tf.stop_gradient(lp) + target))
        return order(a, t) if order else (a, t)
    return losses


LOSSES_CORRECT = {
    "alpha form of the temperature loss (CleanRL's)": _losses(
        temperature=lambda la, lp, t: tf.reduce_mean(-tf.exp(la) * (tf.stop_gradient(lp) + t))),
    "no stop_gradient anywhere, a print": lambda lp, q1, q2, la, t: (print("losses"), (
        tf.reduce_mean(tf.exp(la) * lp - tf.minimum(q1, q2)), -tf.reduce_mean(la * (lp + t))))[1],
    "mean inside the product": _losses(temperature=lambda la, lp, t: tf.reduce_mean(-la * (lp + t))),
    "a list of two": lambda *args: list(reference.actor_and_temperature_losses(*args)),
}


@pytest.mark.parametrize("name", LOSSES_CORRECT)
def test_other_correct_losses_pass(name, capsys):
    assert_passes(lesson11.check_actor_and_temperature_losses, LOSSES_CORRECT[name], "11.3", capsys)


LOSSES_MISTAKES = {
    "max of the critics": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(al * lp - tf.maximum(q1, q2))),
                           "larger of the two critics"),
    "mean of the critics": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(al * lp - (q1 + q2) / 2)),
                            "averages the two critics"),
    "q1 only": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(al * lp - q1)), "q1 alone"),
    "entropy sign": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(-al * lp - tf.minimum(q1, q2))),
                     "entropy term has the wrong sign"),
    "Q sign": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(al * lp + tf.minimum(q1, q2))),
               "Q has the wrong sign"),
    "no alpha": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(lp - tf.minimum(q1, q2))),
                 "not weighted by alpha"),
    "log_alpha for alpha": (lambda lp, q1, q2, la, t: _losses(actor=lambda al, lp_, a, b: tf.reduce_mean(
        la * lp_ - tf.minimum(a, b)))(lp, q1, q2, la, t), "log_alpha was used where alpha belongs"),
    "no entropy in the actor": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(0.0 * lp - tf.minimum(q1, q2))),
                                "entropy term is missing from the actor"),
    "actor summed": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_sum(al * lp - tf.minimum(q1, q2))),
                     "sums over the batch"),
    "actor gradient stopped at log_probs": (_losses(actor=lambda al, lp, q1, q2: tf.reduce_mean(
        al * tf.stop_gradient(lp) - tf.minimum(q1, q2))), "wrong gradient to log_probs"),
    "temperature sign": (_losses(temperature=lambda la, lp, t: la * tf.reduce_mean(lp + t)), "wrong sign"),
    "target entropy subtracted": (_losses(temperature=lambda la, lp, t: -la * tf.reduce_mean(lp - t)),
                                  "target entropy was subtracted"),
    "no target entropy": (_losses(temperature=lambda la, lp, t: -la * tf.reduce_mean(lp)), "target entropy is missing"),
    "temperature summed": (_losses(temperature=lambda la, lp, t: -la * tf.reduce_sum(lp + t)), "sums over the batch"),
    "temperature from a Python number": (_losses(temperature=lambda la, lp, t: tf.constant(0.0) * tf.reduce_mean(lp)),
                                         "no gradient to log_alpha"),
    "swapped": (_losses(order=lambda a, t: (t, a)), "swapped"),
    "per-row losses": (_losses(actor=lambda al, lp, q1, q2: al * lp - tf.minimum(q1, q2)), "expected one number"),
    "NumPy inside": (_losses(actor=lambda al, lp, q1, q2: tf.constant(float(np.mean(
        al.numpy() * lp.numpy() - np.minimum(q1.numpy(), q2.numpy()))))), "wrong gradient to log_probs"),
}


@pytest.mark.parametrize("name", LOSSES_MISTAKES)
def test_loss_mistakes_are_named(name):
    answer, message = LOSSES_MISTAKES[name]
    assert_rejected(lesson11.check_actor_and_temperature_losses, answer, "11.3", message)


# ------------------------------------------------------------------------------------------ 11.4


def _step(scale=None, stored_action=None, stored_terminated=None, due=None, reset=True, act=None, before=False):
    """The loop step with one piece replaced."""
    def sac_env_step(agent, env, obs, step):
        action = act(agent, obs, step) if act else agent.act(obs, step)
        low, high = env.action_space.low, env.action_space.high
        env_action = scale(action, low, high) if scale else low + (action + 1.0) * 0.5 * (high - low)
        next_obs, reward, terminated, truncated, _ = env.step(env_action)
        if before and (terminated or truncated):
            next_obs, _ = env.reset()
        kept = stored_action(action, env_action) if stored_action else action
        agent.store(obs, kept, reward, next_obs,
                    stored_terminated(terminated, truncated) if stored_terminated else terminated)
        s = agent.settings
        if (due(step, s) if due else step >= s.learning_starts and step % s.train_every == 0):
            agent.train()
        if reset and not before and (terminated or truncated):
            next_obs, _ = env.reset()
        return next_obs
    return sac_env_step


STEP_CORRECT = {
    "cu.scale_actions": _step(scale=lambda a, lo, hi: __import__("course_utils").scale_actions(a, lo, hi)),
    "np.interp-free affine form, a print": lambda agent, env, obs, step: (print(step), _step(
        scale=lambda a, lo, hi: (hi - lo) / 2 * a + (hi + lo) / 2)(agent, env, obs, step))[1],
    "float64 action to env.step": _step(scale=lambda a, lo, hi: np.asarray(lo, float) + (a + 1.0) / 2 * (hi - lo)),
    "uses the loss agent.train returns": lambda agent, env, obs, step: _step(due=lambda k, s: False)(
        _LossKept(agent, step), env, obs, step),
}


class _LossKept:
    """The agent, but the step trains inside store, keeping the critic loss agent.train returns, as a float."""

    def __init__(self, agent, step):
        self.agent, self.settings, self.step, self.losses = agent, agent.settings, step, []

    def act(self, obs, step):
        return self.agent.act(obs, step)

    def store(self, *transition):
        self.agent.store(*transition)
        s = self.settings
        if self.step >= s.learning_starts and self.step % s.train_every == 0:
            self.losses.append(float(self.agent.train()))


@pytest.mark.parametrize("name", STEP_CORRECT)
def test_other_correct_steps_pass(name, capsys):
    assert_passes(lesson11.check_sac_env_step, STEP_CORRECT[name], "11.4", capsys)


STEP_MISTAKES = {
    "not scaled": (_step(scale=lambda a, lo, hi: a), "not scaled to the box"),
    "scaled by high": (_step(scale=lambda a, lo, hi: a * hi), "multiplied by high"),
    "scaled by high and clipped": (_step(scale=lambda a, lo, hi: np.clip(a * hi, lo, hi)), "multiplied by high"),
    "scaled as from [0, 1]": (_step(scale=lambda a, lo, hi: lo + a * (hi - lo)), "as if it lay in [0, 1]"),
    "scaled action stored": (_step(stored_action=lambda a, e: e), "stored the scaled action"),
    "truncated stored as terminated": (_step(stored_terminated=lambda d, t: d or t), "truncated by the time limit"),
    "trains every step": (_step(due=lambda step, s: True), "before learning_starts"),
    "trains from step 1 on the schedule": (_step(due=lambda step, s: step % s.train_every == 0), "before learning_starts"),
    "never trains": (_step(due=lambda step, s: False), "never called"),
    "no reset": (_step(reset=False), "without env.reset()"),
    "reset before storing": (_step(before=True), "first observation of the next episode"),
    "random actions of its own before learning_starts": (_step(act=lambda agent, obs, step: np.float32(
        np.random.uniform(-1, 1, 2)) if step <= agent.settings.learning_starts else agent.act(obs, step)),
        "agent.act was not called"),
    "act asked twice": (_step(act=lambda agent, obs, step: (agent.act(obs, step), agent.act(obs, step))[1]),
                        "called 2 times"),
    "act without the step": (_step(act=lambda agent, obs, step: agent.act(obs, 0)), "agent.act(obs, 0)"),
    "stretched, not moved to the centre": (_step(scale=lambda a, lo, hi: a * (hi - lo) / 2), "not moved to its centre"),
    "trains only after learning_starts": (_step(due=lambda step, s: step > s.learning_starts and step % s.train_every == 0),
                                          "expected [8, 12, 16"),
    "reset at every step": (lambda agent, env, obs, step: (_step()(agent, env, obs, step), env.reset()[0])[1],
                            "env.reset() was called while the episode was still running"),
    "a batch of one observation to act": (_step(act=lambda agent, obs, step: agent.act(obs[None], step)[0]),
                                          "agent.act got an observation of shape (1, 3)"),
    "reward stored as None": (lambda agent, env, obs, step: _step()(_StoreNoReward(agent), env, obs, step),
                              "you stored reward=None"),
}


class _StoreNoReward:
    """The agent, but the step's store loses the reward."""

    def __init__(self, agent):
        self.agent, self.settings = agent, agent.settings

    def act(self, obs, step):
        return self.agent.act(obs, step)

    def store(self, obs, action, reward, next_obs, terminated):
        self.agent.store(obs, action, None, next_obs, terminated)

    def train(self):
        return self.agent.train()


@pytest.mark.parametrize("name", STEP_MISTAKES)
def test_loop_step_mistakes_are_named(name):
    answer, message = STEP_MISTAKES[name]
    assert_rejected(lesson11.check_sac_env_step, answer, "11.4", message)


def test_solved_check_reads_the_returns(capsys):
    lesson11.check_solved(np.full(100, -150.0))
    assert "swings up and holds" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="below -200"):
        lesson11.check_solved(np.full(100, -250.0))
