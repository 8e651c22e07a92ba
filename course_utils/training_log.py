"""A record of a training run, episode by episode (introduced in lessons 04 and 07)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import gymnasium as gym


@dataclass
class TrainingLog:
    """What a training run did: each finished episode's return, the env steps and seconds at its end.

    ``weights`` and ``solved`` are for the loop to fill in: the network it kept and
    whether it passed its stop test. Lessons 07 and 08 log REINFORCE and
    actor-critic with it, so the two can be plotted against steps and seconds.

    Example:
        >>> log = TrainingLog()
        >>> log.add(21.0, env_steps=21)
        >>> log.add(35.0, env_steps=56)
        >>> log.returns, log.steps, len(log.seconds)
        ([21.0, 35.0], [21, 56], 2)
    """

    returns: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    weights: list | None = None
    solved: bool = False
    agent: object = field(default=None, repr=False)   # the trained agent, where a loop keeps it (lesson 07)
    started: float = field(default_factory=time.perf_counter, repr=False)

    def add(self, episode_return: float, env_steps: int) -> None:
        """Record a finished episode: its return and the env steps taken so far; time it since the log began."""
        self.returns.append(float(episode_return))
        self.steps.append(int(env_steps))
        self.seconds.append(time.perf_counter() - self.started)


class RecordEpisodes(gym.Wrapper):
    """Log each finished episode's return and end step in ``log``, whatever the code stepping the env does.

    ``log`` is a ``TrainingLog`` (its ``add``) or anything with lists ``returns`` and
    ``steps`` (lesson 04's ``DQNLog``). Counts every step taken through it (``steps``);
    with ``summary=True`` also writes ``charts/episode_return`` to the default
    TensorBoard writer. (Introduced in lesson 04.)
    """

    def __init__(self, env: gym.Env, log, summary: bool = False):
        super().__init__(env)
        self.log, self.summary, self.steps, self._running = log, summary, 0, 0.0

    def reset(self, **kwargs):
        self._running = 0.0
        return self.env.reset(**kwargs)

    def step(self, action):
        result = self.env.step(action)
        self.steps += 1
        self._running += float(result[1])
        if result[2] or result[3]:
            if hasattr(self.log, "add"):
                self.log.add(self._running, self.steps)
            else:
                self.log.returns.append(self._running)
                self.log.steps.append(self.steps)
            if self.summary:
                import tensorflow as tf

                tf.summary.scalar("charts/episode_return", self._running, step=self.steps)
            self._running = 0.0
        return result
