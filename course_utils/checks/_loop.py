"""What the checks of a training loop's step share (lessons 04 and 11): a scripted environment that records every
step, and the verdicts on what the step returned, stored and when it trained."""
from __future__ import annotations

import numpy as np

from . import call, fail


def same(a, b, atol: float = 1e-8) -> bool:
    """Whether two observations (or actions) have one shape and the same numbers; False for what is not numbers."""
    try:
        return np.shape(a) == np.shape(b) and np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                                          atol=atol)
    except (TypeError, ValueError):
        return False


class LoopEnv:
    """A scripted environment for a check of a loop's step: observation ``[episode, t, 1]``; the episodes' lengths
    and ends from ``EPISODES``; every step recorded in ``log`` as (obs, action, reward, next_obs, terminated,
    truncated). A lesson subclasses it with its exercise, episodes, action space (``_space``) and action check
    (``_action``)."""

    EXERCISE, EPISODES = "", []

    def __init__(self):
        import gymnasium as gym

        self.action_space = self._space(gym)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.episode, self.t, self.now, self.ended = -1, 0, 0, None
        self.steps_this_call, self.log, self.first_obs = 0, [], {}

    def _space(self, gym):
        raise NotImplementedError

    def _action(self, action):
        """The action as the log keeps it; fail on one env.step could not take."""
        raise NotImplementedError

    def _obs(self):
        return np.array([self.episode, self.t, 1.0], np.float32)

    def reset(self, *, seed=None, options=None):
        if self.episode >= 0 and self.ended is None:
            fail(self.EXERCISE, f"at step {self.now} env.reset() was called while the episode was still running "
                 f"(after {self.t} of its steps, neither terminated nor truncated)",
                 "reset only when env.step returned terminated or truncated True")
        self.episode, self.t, self.ended = self.episode + 1, 0, None
        self.first_obs[self.episode] = self._obs()
        return self._obs(), {}

    def step(self, action):
        self.steps_this_call += 1
        if self.steps_this_call > 1:
            fail(self.EXERCISE, f"at step {self.now} env.step was called twice",
                 "one environment step per call of your function")
        if self.ended is not None:
            step, how = self.ended
            fail(self.EXERCISE, f"at step {self.now} env.step was called on an episode that ended at step {step} "
                 f"({how}), without env.reset() in between",
                 "when terminated or truncated is True, start a new episode with env.reset() and return its first "
                 "observation")
        action = self._action(action)
        obs = self._obs()
        length, how = self.EPISODES[self.episode]
        self.t += 1
        reward = self._reward()
        terminated, truncated = self.t == length and how == "terminated", self.t == length and how == "truncated"
        if terminated or truncated:
            self.ended = (self.now, how)
        self.log.append((obs, action, reward, self._obs(), terminated, truncated))
        return self._obs(), reward, terminated, truncated, {}

    def _reward(self) -> float:
        return 1.0 + self.t / 10


def returned_right(exercise: str, returned, env, step) -> None:
    """The step returns the observation to act on next: after an episode's end, the new episode's first one.

    ``env`` is a scripted loop environment whose ``log`` rows start (obs, action, reward, next_obs, terminated,
    truncated): lesson 04's, and lesson 11's with continuous actions."""
    current = env._obs()
    if isinstance(returned, tuple) and len(returned) == 2:
        fail(exercise, f"at step {step} your function returned a tuple of two: {returned!r}"[:300],
             "env.reset() returns (obs, info): return the observation only")
    if same(returned, current):
        return
    last = env.log[-1]
    if env.ended is None and (last[4] or last[5]):  # an episode ended here and was reset
        if same(returned, last[3]):
            fail(exercise, f"at step {step} the episode ended and you returned its last observation {last[3]}; the "
                 f"environment was reset and now shows {current}",
                 "return the first observation of the new episode, the one env.reset() gave")
    if same(returned, last[0]):
        fail(exercise, f"at step {step} you returned the observation you acted on ({last[0]}), expected the next one "
             f"({current})", "return the observation env.step gave (or env.reset() gave, after an episode's end)")
    fail(exercise, f"at step {step} you returned {returned!r}, expected the environment's current observation "
         f"{current}", "return the observation env.step gave (or env.reset() gave, after an episode's end)")


def stored_around_the_step_right(exercise: str, step, obs, reward, next_obs, true, env) -> None:
    """The stored obs, reward and next_obs are what the step acted on and what env.step returned (``true``, a row
    of ``env.log``), the transition stored before any reset."""
    t_obs, _, t_reward, t_next, t_term, t_trunc = true[:6]
    if not same(obs, t_obs):
        said = " (the next observation)" if same(obs, t_next) else ""
        fail(exercise, f"at step {step} you stored obs={obs}{said}, expected the observation you acted on, {t_obs}",
             "store (obs, action, reward, next_obs, ...) with obs the observation the action was chosen for")
    try:
        reward_stored = float(reward)
    except (TypeError, ValueError):
        reward_stored = None
    if reward_stored is None or not np.isclose(reward_stored, t_reward):
        fail(exercise, f"at step {step} you stored reward={reward!r}, env.step returned {t_reward}",
             "store the reward env.step returned")
    if not same(next_obs, t_next):
        first = env.first_obs.get(int(t_next[0]) + 1)
        if (t_term or t_trunc) and first is not None and same(next_obs, first):
            fail(exercise, f"at step {step} the episode ended and you stored next_obs={next_obs}, the first "
                 f"observation of the next episode; env.step returned {t_next}",
                 "store the transition before you reset: next_obs is what env.step returned")
        fail(exercise, f"at step {step} you stored next_obs={next_obs}, env.step returned {t_next}",
             "next_obs is the observation env.step returned")


def trained_when_due(exercise: str, trained_at, steps: int, learning_starts: int, train_every: int) -> None:
    """agent.train() at every multiple of train_every from learning_starts on, and never before."""
    due = [s for s in range(1, steps + 1) if s >= learning_starts and s % train_every == 0]
    if trained_at == due:
        return
    rule = f"with learning_starts={learning_starts} and train_every={train_every}, train at steps {due[:4]} ..."
    if not trained_at:
        fail(exercise, f"agent.train() was never called in {steps} steps",
             f"call agent.train() when step >= learning_starts and step % train_every == 0 ({rule})")
    early = [s for s in trained_at if s < learning_starts]
    if early:
        fail(exercise, f"agent.train() was called at step {early[0]}, before learning_starts={learning_starts}",
             f"wait until the buffer has learning_starts transitions of random play ({rule})")
    fail(exercise, f"agent.train() was called at steps {trained_at[:6]} ..., expected {due[:6]} ...",
         f"train when step >= learning_starts and step % train_every == 0 ({rule})")


def run_loop(exercise: str, step_fn, env: LoopEnv, agent, steps: int, hint: str, each=None) -> None:
    """Call the student's ``step_fn(agent, env, obs, step)`` for steps 1..``steps`` from a reset ``env``, checking
    that each call took one environment step and returned the observation to act on next; ``each(step)`` runs
    after each call's environment step, before what it returned is judged."""
    obs, _ = env.reset(seed=0)
    for step in range(1, steps + 1):
        env.now = agent.now = step
        env.steps_this_call = 0
        returned = call(exercise, step_fn, agent, env, obs, step, hint=hint)
        if env.steps_this_call == 0:
            fail(exercise, f"at step {step} env.step was not called", "take one environment step per call")
        if each is not None:
            each(step)
        returned_right(exercise, returned, env, step)
        obs = returned


def terminated_right(exercise: str, step, terminated, t_term: bool, t_trunc: bool, note: str = "") -> None:
    """The stored ``terminated`` is the one env.step returned: in particular not True for an episode only truncated."""
    if bool(terminated) == t_term:
        return
    if t_trunc:
        fail(exercise, f"at step {step} the episode was truncated by the time limit (terminated=False, "
             f"truncated=True) and you stored terminated={terminated!r}",
             "a truncated episode did not end in a terminal state: its target still bootstraps from next_obs; "
             f"store terminated as env.step returned it{note}")
    fail(exercise, f"at step {step} env.step returned terminated={t_term} and you stored terminated={terminated!r}",
         "store terminated as env.step returned it")
