"""Human-in-the-loop play: a trained agent drives and hands over when it is unsure (lesson 04).

The agent acts while the largest of its Q-values stays above a threshold, set by
default from the value it gives the start state. Below it, the agent asks: in a
notebook, through Left/Right buttons that show the frame and the Q-values; in a
headless run (tests, grading), a scripted helper answers instead, through the same code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .envs import make_env


@dataclass
class PlayLog:
    """Who did what in one assisted episode."""

    agent_steps: int = 0
    human_steps: int = 0
    total_reward: float = 0.0
    done: bool = False

    @property
    def steps(self) -> int:
        return self.agent_steps + self.human_steps


class AssistedPlay:
    """One episode in which ``q_values`` acts while confident and a person (or helper) acts otherwise.

    Args:
        q_values: maps a batch of observations ``(n, obs_dim)`` to Q-values ``(n, n_actions)``.
        env_id: a Gymnasium id; the environment renders off-screen.
        seed: seed of the episode.
        threshold: the agent acts when ``max Q(s) >= threshold``; default
            ``threshold_fraction`` times the largest Q-value of the start state.
        action_names: button labels, one per action.
        max_steps: the episode ends here at the latest.

    Example:
        >>> play = AssistedPlay(lambda obs: np.tile([1.0, 0.0], (len(obs), 1)), seed=0)
        >>> log = play.run(helper=lambda obs: 1)
        >>> log.agent_steps > 0 and log.done
        True
    """

    def __init__(self, q_values: Callable, env_id: str = "CartPole-v1", seed: int = 0,
                 threshold: float | None = None, threshold_fraction: float = 0.9,
                 action_names: Sequence[str] = ("push left", "push right"), max_steps: int = 500):
        self.q_values = q_values
        self.env = make_env(env_id, render_mode="rgb_array", max_episode_steps=max_steps)
        self.obs, _ = self.env.reset(seed=seed)
        q0 = self.current_q_values()
        if len(action_names) != len(q0):
            raise ValueError(f"AssistedPlay: {len(action_names)} action names for {len(q0)} actions")
        self.action_names = list(action_names)
        self.threshold = float(threshold) if threshold is not None else threshold_fraction * float(q0.max())
        self.log = PlayLog()
        self.last_actor = ""
        self._view = None

    def current_q_values(self) -> np.ndarray:
        """Return the agent's Q-values of the current observation."""
        q = np.asarray(self.q_values(self.obs[None]))
        if q.ndim != 2 or q.shape[0] != 1:
            raise ValueError(f"AssistedPlay: q_values returned shape {q.shape} for one observation; expected (1, n_actions)")
        return q[0]

    def confident(self) -> bool:
        """Return whether the agent acts by itself in the current state."""
        return float(self.current_q_values().max()) >= self.threshold

    def step(self, action: int | None = None) -> str:
        """Take one step: the agent's action when confident, else ``action``; return who acted."""
        if self.log.done:
            raise RuntimeError("AssistedPlay: the episode is over; create a new AssistedPlay to play again")
        if action is None:
            if not self.confident():
                raise ValueError(f"AssistedPlay: the agent is unsure here (max Q {self.current_q_values().max():.2f} < "
                                 f"threshold {self.threshold:.2f}); choose an action")
            action, actor = int(self.current_q_values().argmax()), "agent"
        else:
            actor = "human"
        self.obs, reward, terminated, truncated, _ = self.env.step(int(action))
        self.log.total_reward += float(reward)
        self.log.done = bool(terminated or truncated)
        if actor == "agent":
            self.log.agent_steps += 1
        else:
            self.log.human_steps += 1
        self.last_actor = actor
        return actor

    def advance(self) -> int:
        """Let the agent act until it is unsure or the episode ends; return how many steps it took."""
        n = 0
        while not self.log.done and self.confident():
            self.step()
            n += 1
        return n

    def run(self, helper: Callable) -> PlayLog:
        """Play to the end, with ``helper(obs) -> action`` answering whenever the agent asks."""
        while not self.log.done:
            self.advance()
            if not self.log.done:
                self.step(helper(self.obs))
        return self.log

    # the notebook view --------------------------------------------------------------------

    def _frame_png(self) -> bytes:
        import imageio.v3 as iio

        return iio.imwrite("<bytes>", self.env.render(), extension=".png")

    def _status_html(self) -> str:
        q = self.current_q_values()
        values = ", ".join(f"{name}: {v:.2f}" for name, v in zip(self.action_names, q))
        if self.log.done:
            who = "Episode over."
        elif self.confident():
            who = "The agent is confident and will act."
        else:
            who = "<b>The agent is unsure: your move.</b>"
        return (f"Q-values ({values}); threshold {self.threshold:.2f}.<br>{who}<br>"
                f"Steps: agent {self.log.agent_steps}, you {self.log.human_steps}; "
                f"return {self.log.total_reward:.0f}.")

    def _refresh(self) -> None:
        image, status, buttons = self._view
        image.value = self._frame_png()
        status.value = self._status_html()
        for button in buttons:
            button.disabled = self.log.done

    def _choose(self, action: int) -> None:
        if not self.log.done:
            self.step(action)
            self.advance()
        self._refresh()

    def widget(self):
        """Return an ipywidgets view: the frame, the Q-values and one button per action."""
        import ipywidgets as widgets

        self.advance()
        image = widgets.Image(format="png", width=480)
        status = widgets.HTML()
        buttons = [widgets.Button(description=name) for name in self.action_names]
        for action, button in enumerate(buttons):
            button.on_click(lambda _, a=action: self._choose(a))
        self._view = (image, status, buttons)
        self._refresh()
        return widgets.VBox([image, status, widgets.HBox(buttons)])
