"""Checks of lesson 07: returns to go, the policy-gradient loss, one episode and its update."""
from __future__ import annotations

import numpy as np

from . import call, fail, guarded, matches_when_compiled, mean_return_reaches, must_be_tensor, passed


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


@guarded("07.1", "loop backwards over the rewards: G_t = r_t + gamma * G_{t+1}, one value per reward, as a NumPy array")
def check_discounted_returns(discounted_returns) -> None:
    """Check ``discounted_returns(rewards, gamma)``: the return to go of every step."""
    rng = np.random.default_rng(6)
    cases = [([1.0, 1.0, 1.0], 0.9), ([0.0, 0.0, 1.0], 0.5), ([2.0], 0.99), ([1.0, 2.0, 3.0, 4.0], 0.0),
             ([1.0, -1.0, 2.0], 1.0), (list(rng.normal(size=50)), 0.97), ([1.0] * 500, 0.99)]
    for rewards, gamma in cases:
        got = _numpy_result("07.1", discounted_returns(list(rewards), gamma), "discounted_returns",
                            "return np.array of the returns (the training loop calls .astype on it): "
                            "e.g. fill returns = np.zeros(len(rewards)) backwards")
        want = reference_returns(rewards, gamma)
        if got.dtype.kind in "iu" and not np.allclose(want, np.round(want)):
            fail("07.1", f"discounted_returns({rewards[:5]}{'...' if len(rewards) > 5 else ''}, {gamma}) returned "
                 f"integers {got[:5].tolist()}: the array has dtype {got.dtype}",
                 "make the returns array a float one (np.zeros(len(rewards)), not np.zeros_like of int rewards): "
                 "an int array rounds every G_t you store in it")
        got = got.astype(float)
        if got.shape != want.shape:
            fail("07.1", f"returned shape {got.shape} for {len(rewards)} rewards", "return one value per step")
        if np.allclose(got, want):
            continue
        r = np.asarray(rewards, dtype=float)
        shown = f"discounted_returns({rewards[:5]}{'...' if len(rewards) > 5 else ''}, {gamma})"
        values = f"{shown} = {np.round(got[:5], 3).tolist()}, expected {np.round(want[:5], 3).tolist()}"
        prefix = np.array([sum(r * gamma**k for k, r in enumerate(reversed(rewards[:t + 1]))) for t in range(len(rewards))])
        forwards = np.allclose(got, prefix) or np.allclose(got, np.cumsum(rewards))
        if forwards and np.allclose(got, want[::-1]):
            fail("07.1", f"{shown} = {np.round(got[:5], 3).tolist()}: the sums run forwards, or the returns are "
                 "in reverse order", "the return to go at step t adds the rewards from t to the END: loop "
                 "backwards, and store G_t at index t (returns[t] = ...)")
        if forwards:
            fail("07.1", f"{shown} = {np.round(got[:5], 3).tolist()}: the sums run forwards",
                 "the return to go at step t adds the rewards from t to the END: loop backwards")
        if np.allclose(got, want[::-1]):
            fail("07.1", f"{values}: the returns are in reverse order",
                 "you computed them from the last step backwards: store G_t at index t (returns[t] = ...), "
                 "or reverse the list at the end")
        if np.allclose(got, np.full(len(rewards), want[0])):
            fail("07.1", f"{shown} gave every step the whole episode's return",
                 "step t gets only the rewards from t onwards, G_t = r_t + gamma * G_{t+1}")
        if np.allclose(got, reference_returns(rewards, 1.0)):
            fail("07.1", f"{values}: not discounted", "multiply the later return by gamma")
        if np.allclose(got, want * gamma ** np.arange(len(rewards))):
            fail("07.1", f"{values}: the discount counts from the start of the episode",
                 "discount from step t itself: r_t counts fully, r_{t+1} times gamma, r_{t+2} times gamma**2, ...")
        if np.allclose(got, gamma * want):
            fail("07.1", f"{values}: every return is multiplied by gamma once too often",
                 "r_t itself is not discounted: G_t = r_t + gamma * G_{t+1}, not gamma * (r_t + G_{t+1})")
        if np.allclose(got, want - r) or np.allclose(got, np.append(want[1:], 0.0)):
            fail("07.1", f"{values}: G_t leaves out r_t", "the return to go includes the reward of step t itself")
        fail("07.1", values, "G_t = r_t + gamma * G_{t+1}, with G after the last step = 0")
    passed("07.1", len(cases))


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


@guarded("07.2", "tf.nn.log_softmax(logits), the taken action's entry with tf.gather(..., actions, axis=1, batch_dims=1), times tf.stop_gradient(weights), averaged and negated")
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
        got_value = _scalar("07.2", got, "the loss")
        logp_all = tf.nn.log_softmax(logits).numpy()
        logp = tf.gather(logp_all, actions, axis=1, batch_dims=1).numpy()
        probs = np.exp(logp)
        w, a, z = weights.numpy(), actions.numpy(), logits.numpy()
        rows = np.arange(batch)
        if np.isclose(got_value, -want) and not np.isclose(want, 0):
            fail("07.2", f"loss {got_value:.4f}, expected {float(want):.4f}: the sign is flipped",
                 "gradient descent minimises the loss, so the loss is MINUS log pi(a|s) * weight")
        if np.isclose(got_value, -np.sum(logp * w)) and batch > 1:
            fail("07.2", "the loss is a sum over the batch", "take the mean (tf.reduce_mean), not the sum")
        if np.isclose(got_value, -np.mean(probs * w)):
            fail("07.2", "the loss uses probabilities", "use log-probabilities: tf.nn.log_softmax(logits)")
        if np.isclose(got_value, -np.mean(z[rows, a] * w)):
            fail("07.2", "the loss uses the raw logits as log-probabilities",
                 "turn the logits into log-probabilities first: tf.nn.log_softmax(logits)")
        if np.isclose(got_value, -np.mean(logp)) and not np.isclose(float(want), -np.mean(logp)):
            fail("07.2", "the loss ignores the weights", "multiply each log pi(a|s) by its weight (the return to go)")
        over_batch = logits.numpy() - np.log(np.exp(logits.numpy()).sum(axis=0, keepdims=True))
        if np.isclose(got_value, -np.mean(over_batch[rows, a] * w)) and batch > 1:
            fail("07.2", "the softmax was taken over the batch (axis 0)",
                 "the probabilities of one state's actions sum to 1: tf.nn.log_softmax(logits) works on the last axis")
        if np.isclose(got_value, -np.mean(logp_all * w[:, None])) or np.isclose(got_value, -np.mean(logp_all.sum(1) * w)):
            fail("07.2", "the loss uses the log-probabilities of all actions, not of the action taken",
                 "pick the taken action's entry in each row: tf.gather(log_probs, actions, axis=1, batch_dims=1)")
        if not np.isclose(got_value, float(want), atol=1e-5):
            fail("07.2", f"loss {got_value:.4f}, expected {float(want):.4f}",
                 "pick log pi(a|s) of the taken actions from tf.nn.log_softmax(logits), times the weights, "
                 "mean, negated")
        must_be_tensor("07.2", got, "the loss", "build the loss from TensorFlow operations on the logits "
                        "(tf.nn.log_softmax, tf.gather, tf.reduce_mean): no .numpy() or np.* inside")
        grad_w = tape.gradient(got, weights)
        if grad_w is not None and np.abs(np.asarray(grad_w)).max() > 0:
            fail("07.2", "the loss sends gradient into the weights (returns/advantages)",
                 "wrap the weights in tf.stop_gradient: they are targets, not something to optimise")
        grad_l, ref_l = tape.gradient(got, logits), tape.gradient(want, logits)
        if grad_l is None or not np.allclose(grad_l, ref_l, atol=1e-5):
            fail("07.2", "the gradient with respect to the logits differs from the reference",
                 "build the loss from TensorFlow operations on the logits (no .numpy() inside)")
        del tape
        cases += 1
        if cases == 1:
            first = (logits, actions, weights)
    matches_when_compiled("07.2", policy_gradient_loss, first, reference_loss,
              "use TensorFlow operations only (no .numpy(), np.* or len() of a tensor): the training step "
              "compiles the loss, with a batch size that changes from episode to episode")
    passed("07.2", cases)


@guarded("07.4", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained policy's mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("07.4", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "over 30 seeds the lesson's code always passed its stop test within this budget, so look for "
                        "what the checks above could not see: is your learning curve inside the gray band, "
                        "and did the training cell stop early?")


# 07.3: one episode and its update ------------------------------------------------------------
# The student's code plays episodes of a small scripted environment (observations name the
# episode and the time step) with a recording agent, so every action, the arrays handed to
# agent.update and the weights in them can be compared with what REINFORCE should do.

EPISODES = [(5, "terminated"), (7, "truncated"), (1, "terminated"), (4, "truncated")]   # (length, end)
CHECK_GAMMA, N_ACTIONS = 0.9, 3


class _EpisodeEnv:
    """Scripted episodes: observation ``[episode, t, 1]``, reward ``1 + t/10``, ends from ``EPISODES``."""

    def __init__(self, agent):
        import gymnasium as gym

        self.action_space = gym.spaces.Discrete(N_ACTIONS, seed=0)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.episode, self.t, self.ended, self.played = -1, 0, True, []   # played: per episode, its steps
        self.agent, self.samples_seen = agent, 0

    def _obs(self):
        return np.array([self.episode, self.t, 1.0], np.float32)

    def reset(self, *, seed=None, options=None):
        if not self.ended:
            fail("07.3", f"env.reset() was called in the middle of episode {self.episode + 1}, at its step {self.t}",
                 "reset once, before the episode; then step until terminated or truncated")
        if seed is not None:
            fail("07.3", f"episode {self.episode + 2} began with env.reset(seed={seed!r})",
                 "call env.reset() without a seed: the loop seeds the environment once, when it makes it "
                 "(cu.make_env(env_id, seed=seed)), and a seed given at every reset starts every episode from the "
                 "same state")
        self.episode, self.t, self.ended = self.episode + 1, 0, False
        self.played.append([])
        return self._obs(), {}

    def step(self, action):
        if self.episode < 0 or self.ended:
            said = "before env.reset()" if self.episode < 0 else f"after episode {self.episode + 1} had ended"
            fail("07.3", f"env.step was called {said}",
                 "start each episode with obs, _ = env.reset(), and stop stepping once terminated or truncated")
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            fail("07.3", f"env.step got the action {action!r} ({type(action).__name__})",
                 "pass the int that agent.sample_action(obs) returned")
        obs = self._obs()
        self._sampled_for(obs, int(action))
        length, how = EPISODES[self.episode]
        self.t += 1
        reward = 1.0 + self.t / 10
        terminated, truncated = self.t == length and how == "terminated", self.t == length and how == "truncated"
        self.ended = terminated or truncated
        self.played[-1].append((obs, int(action), reward))
        return self._obs(), reward, terminated, truncated, {}


    def _sampled_for(self, obs, action) -> None:
        """The action stepped with is the one agent.sample_action just gave for this very observation."""
        where = f"in episode {self.episode + 1} at step {self.t}"
        if len(self.agent.sampled) == self.samples_seen:
            fail("07.3", f"{where} env.step got action {action} without a new agent.sample_action(obs) for it",
                 "sample every action from the policy, one per step: REINFORCE learns from what its policy chose")
        self.samples_seen = len(self.agent.sampled)
        asked, given = self.agent.sampled[-1]
        if not _close(asked, obs):
            fail("07.3", f"{where} the action was sampled for {asked}, not for the current observation {obs}",
                 "act on the observation the environment last returned")
        if action != given:
            fail("07.3", f"{where} agent.sample_action gave {given} and env.step got {action}",
                 "step with the sampled action: REINFORCE learns from the actions its policy chose")


class _EpisodeAgent:
    """What the student's code is given as ``agent``, recording what it does with it."""

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.sampled, self.updates = [], []

    @staticmethod
    def value_of(observations) -> np.ndarray:
        observations = np.asarray(observations, dtype=float).reshape(-1, 3)
        return (2.0 + 0.3 * observations[:, 1] - 0.5 * observations[:, 0]).astype(np.float32)

    def sample_action(self, obs):
        action = int(self.rng.integers(N_ACTIONS))
        self.sampled.append((np.array(obs, dtype=np.float32, copy=True), action))
        return action

    def values(self, observations):
        return self.value_of(observations)

    def update(self, observations, actions, weights, returns):
        self.updates.append(tuple(np.array(x, dtype=float, copy=True) for x in (observations, actions, weights, returns)))
        return 0.0


EPISODE_HINT = ("obs, _ = env.reset(); step with agent.sample_action(obs) until terminated or truncated, keeping "
                "each step's obs, action and reward; returns = discounted_returns(rewards, gamma); "
                "agent.update(observations, actions, returns - agent.values(observations), returns)")


def _close(a, b) -> bool:
    return np.shape(a) == np.shape(b) and np.allclose(a, b, atol=1e-5)


@guarded("07.3", EPISODE_HINT)
def check_reinforce_episode(reinforce_episode) -> None:
    """Check ``reinforce_episode(agent, env, gamma)``: one episode played and one REINFORCE update."""
    agent = _EpisodeAgent()
    env = _EpisodeEnv(agent)
    for k, (length, how) in enumerate(EPISODES):
        before = len(agent.updates)
        call("07.3", reinforce_episode, agent, env, CHECK_GAMMA, hint=EPISODE_HINT)
        played = env.played[k] if k < len(env.played) else []
        if len(played) != length:
            fail("07.3", f"episode {k + 1} lasts {length} steps ({how} at the end) and your function played "
                 f"{len(played)} of them", "play the whole episode: step until terminated or truncated")
        done = len(agent.updates) - before
        if done != 1:
            fail("07.3", f"agent.update was called {done} times for episode {k + 1}",
                 "one update per episode, after it is over, with all its steps")
        _update_right(k, played, agent.updates[-1])
    passed("07.3", len(EPISODES))


def _update_right(k, played, update) -> None:
    """The arrays handed to agent.update: observations acted on, actions taken, G_t - V(s_t), G_t."""
    observations, actions, weights, returns = update
    obs = np.array([p[0] for p in played], dtype=float)
    taken = np.array([p[1] for p in played], dtype=float)
    rewards = [p[2] for p in played]
    want_returns = reference_returns(rewards, CHECK_GAMMA)
    values = _EpisodeAgent.value_of(obs)
    T = len(played)
    if observations.shape != (T, 3):
        fail("07.3", f"episode {k + 1} ({T} steps): agent.update got observations of shape {observations.shape}, "
             f"expected ({T}, 3)", "pass the observations acted on, one row per step: np.array(observations)")
    if not _close(observations, obs):
        nexts = np.array([[k, t + 1, 1.0] for t in range(T)])
        if _close(observations, nexts):
            fail("07.3", f"episode {k + 1}: the observations given to agent.update are the ones env.step returned, "
                 "one step late", "keep the observation each action was chosen for (append obs before env.step)")
        fail("07.3", f"episode {k + 1}: agent.update got observations {observations[:3].tolist()} ..., expected "
             f"{obs[:3].tolist()} ...", "pass the observations the actions were chosen for")
    if not _close(actions.reshape(-1), taken):
        fail("07.3", f"episode {k + 1}: agent.update got actions {actions.reshape(-1).tolist()}, env.step got "
             f"{taken.astype(int).tolist()}", "pass the actions taken, in order")
    if not _close(returns.reshape(-1), want_returns):
        _wrong_returns(k, rewards, returns.reshape(-1), want_returns)
    _wrong_weights(k, weights.reshape(-1), want_returns, values, T)


def _wrong_returns(k, rewards, got, want) -> None:
    r = np.asarray(rewards)
    shown = f"episode {k + 1} (rewards {np.round(r, 2).tolist()}, gamma {CHECK_GAMMA}): agent.update got returns " \
            f"{np.round(got, 3).tolist()}, expected {np.round(want, 3).tolist()}"
    if _close(got, reference_returns(rewards, 1.0)):
        fail("07.3", f"{shown}: they are not discounted", "use discounted_returns(rewards, gamma) with the gamma given")
    if _close(got, np.full(len(r), want[0])):
        fail("07.3", f"{shown}: every step got the whole episode's return G_0",
             "weight each step by its return to go G_t: an action cannot change the rewards before it")
    fail("07.3", shown, "returns = discounted_returns(rewards, gamma), one per step of the episode")


def _wrong_weights(k, weights, returns, values, T) -> None:
    want = returns - values
    if _close(weights, want):
        return
    shown = f"episode {k + 1}: agent.update got weights {np.round(weights, 3).tolist()[:5]}, expected G_t - V(s_t) = " \
            f"{np.round(want, 3).tolist()[:5]}"
    if weights.shape != (T,):
        fail("07.3", f"episode {k + 1} ({T} steps): agent.update got weights of shape {weights.shape}, expected ({T},)",
             "one weight per step: returns - agent.values(observations)")
    if _close(weights, returns):
        fail("07.3", f"{shown}: the weights are the returns, with no baseline subtracted",
             "subtract the baseline: returns - agent.values(observations)")
    if _close(weights, -want):
        fail("07.3", f"{shown}: the sign is flipped", "the weight is G_t - V(s_t): above the baseline is good")
    if T > 1 and _close(weights, (returns - returns.mean()) / (returns.std() + 1e-8)):
        fail("07.3", f"{shown}: you normalised the returns within the episode",
             "that mean and spread depend on the actions of this very episode, so it is not a baseline: subtract "
             "agent.values(observations), which does not")
    if _close(weights[:-1], returns[:-1] - values[1:]):
        fail("07.3", f"{shown}: the baseline is V of the next observations",
             "subtract the baseline of the state each action was taken in: agent.values(observations)")
    fail("07.3", shown, "weights = returns - agent.values(observations)")
