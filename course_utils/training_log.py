"""A record of a training run, episode by episode (introduced in lesson 06)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TrainingLog:
    """What a training run did: each finished episode's return, the env steps and seconds at its end.

    ``weights`` and ``solved`` are for the loop to fill in: the network it kept and
    whether it passed its stop test. Lessons 06 and 07 log REINFORCE and
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
    started: float = field(default_factory=time.perf_counter, repr=False)

    def add(self, episode_return: float, env_steps: int) -> None:
        """Record a finished episode: its return and the env steps taken so far; time it since the log began."""
        self.returns.append(float(episode_return))
        self.steps.append(int(env_steps))
        self.seconds.append(time.perf_counter() - self.started)
