"""Learning curves, Q-value traces and value tables on a grid (introduced in lessons 01, 02 and 04)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import positive_int


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Return the trailing mean of ``values`` over ``window`` points.

    The first ``window - 1`` points average over what exists so far, so the
    result has the same length as ``values``.

    Example:
        >>> moving_average([0, 2, 4, 6], window=2)
        array([0., 1., 3., 5.])
    """
    window = positive_int("moving_average", "window", window)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"moving_average: values must be 1-D, got shape {x.shape}")
    cumsum = np.concatenate([[0.0], np.cumsum(x)])
    counts = np.minimum(np.arange(1, len(x) + 1), window)
    return (cumsum[1:] - cumsum[np.arange(1, len(x) + 1) - counts]) / counts


REFERENCE_FILE = "reference_curves.json"   # package data written by `course bench --update-reference`


def reference_band(name: str, curve: str = "training_by_step") -> dict:
    """Return the band of healthy runs that ``course bench`` recorded for a bench row and curve.

    Args:
        name: a row of the bench, such as ``"DQN + hard target"`` or ``"REINFORCE"``.
        curve: ``"training_by_step"`` or ``"training_by_episode"`` (training returns, a
            moving average over 20 episodes), ``"greedy_by_step"`` (the greedy policy's
            mean over 10 episodes, for DQN) or ``"best_fresh_by_step"`` (random search's
            best fresh mean so far, lesson 01).

    Returns:
        A dict with ``x`` and the ``low``, ``median`` and ``high`` (10th, 50th and 90th
        percentiles over the seeds) at each x, and ``seeds`` and ``window``.
    """
    import json
    from importlib import resources

    bands = json.loads(resources.files("course_utils").joinpath("data", REFERENCE_FILE).read_text())["bands"]
    if name not in bands:
        raise ValueError(f"reference_band: no reference for {name!r}; there are {', '.join(sorted(bands))}")
    if curve not in bands[name]:
        raise ValueError(f"reference_band: {name!r} has no {curve!r} curve; it has {', '.join(sorted(bands[name]))}")
    return bands[name][curve]


def plot_reference(name: str, curve: str = "training_by_step", ax=None, color: str = "gray"):
    """Shade the band of healthy runs of ``name`` behind a plot (see ``reference_band``); return the axes.

    The shaded area holds the middle 80% of the reference code's runs over many seeds,
    the line inside it their median: a run inside the band learns as the reference
    does, one below it is slower than nine runs in ten.
    """
    import matplotlib.pyplot as plt

    band = reference_band(name, curve)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(band["x"], band["low"], band["high"], color=color, alpha=0.18, linewidth=0,
                    label=f"reference {name}: 80% of {band['seeds']} seeds")
    ax.plot(band["x"], band["median"], color=color, alpha=0.6, linewidth=1, linestyle=":")
    return ax


def plot_learning_curve(
    returns: Sequence[float],
    window: int = 20,
    threshold: float | None = None,
    steps: Sequence[int] | None = None,
    label: str | None = None,
    ax=None,
    reference: str | None = None,
):
    """Plot episode returns, their moving average and an optional threshold line.

    Args:
        returns: the return of each training episode, in order.
        window: episodes in the moving average.
        threshold: draw a dashed line at this return (e.g. 475 for CartPole-v1).
        steps: x positions (e.g. environment steps at each episode's end);
            default the episode number.
        label: legend label of the moving average.
        ax: a Matplotlib axes to draw on; a new figure when None.
        reference: a bench row (such as ``"DQN + hard target"``) whose band of healthy
            runs to shade behind the curve (``plot_reference``), against steps or episodes
            as the curve is.

    Returns:
        The Matplotlib axes.
    """
    import matplotlib.pyplot as plt

    y = np.asarray(returns, dtype=float)
    x = np.arange(1, len(y) + 1) if steps is None else np.asarray(steps)
    if x.shape != y.shape:
        raise ValueError(f"plot_learning_curve: steps has shape {x.shape}, expected {y.shape} (one per return)")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if reference is not None:
        plot_reference(reference, "training_by_episode" if steps is None else "training_by_step", ax=ax)
    (line,) = ax.plot(x, moving_average(y, window), label=label or f"moving average ({window})")
    ax.plot(x, y, alpha=0.25, color=line.get_color(), linewidth=0.8)
    if threshold is not None:
        ax.axhline(threshold, linestyle="--", color="gray", label=f"threshold {threshold:g}")
    ax.set_xlabel("episode" if steps is None else "environment steps")
    ax.set_ylabel("return")
    ax.legend(loc="best")
    return ax


def plot_search_rounds(rounds, threshold: float | None = None, ax=None, reference: str | None = None):
    """Plot a random search round by round (lesson 01): each round's best search score, its fresh mean, and the
    best fresh mean so far.

    Args:
        rounds: ``(search steps so far, best search score, fresh mean)`` for every round.
        threshold: draw a dashed line at this return.
        ax: a Matplotlib axes to draw on; a new figure when None.
        reference: a bench row (``"random search"``) whose band of the best fresh mean so
            far to shade behind the line.

    Returns:
        The Matplotlib axes.
    """
    import matplotlib.pyplot as plt

    r = np.asarray(rounds, dtype=float)
    if r.ndim != 2 or r.shape[1] != 3 or not len(r):
        raise ValueError(f"plot_search_rounds: rounds must be (steps, search score, fresh mean) triples, one per "
                         f"round, got shape {r.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if reference is not None:
        plot_reference(reference, "best_fresh_by_step", ax=ax)
    steps, scores, fresh = r.T
    ax.plot(steps, scores, "^", alpha=0.6, label="round's best search score (2 episodes)")
    ax.plot(steps, fresh, "o", alpha=0.6, label="its mean over 100 fresh episodes")
    (line,) = ax.step(steps, np.maximum.accumulate(fresh), where="post", label="best fresh mean so far")
    if threshold is not None:
        ax.axhline(threshold, linestyle="--", color="gray", label=f"threshold {threshold:g}")
    ax.set_xlabel("search steps (environment steps taken by the search)")
    ax.set_ylabel("return")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_q_values(q_values, action_names: Sequence[str] | None = None, ax=None):
    """Plot the Q-value of every action along one episode.

    Args:
        q_values: array of shape ``(steps, n_actions)``.
        action_names: one name per action (default ``action 0``, ``action 1``, ...).
        ax: a Matplotlib axes to draw on; a new figure when None.

    Returns:
        The Matplotlib axes.
    """
    import matplotlib.pyplot as plt

    q = np.asarray(q_values, dtype=float)
    if q.ndim != 2:
        raise ValueError(f"plot_q_values: q_values must have shape (steps, n_actions), got {q.shape}")
    names = list(action_names) if action_names is not None else [f"action {a}" for a in range(q.shape[1])]
    if len(names) != q.shape[1]:
        raise ValueError(f"plot_q_values: {len(names)} action names for {q.shape[1]} actions")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for a, name in enumerate(names):
        ax.plot(q[:, a], label=name)
    ax.set_xlabel("time step")
    ax.set_ylabel("predicted Q-value")
    ax.legend(loc="best")
    return ax


# FrozenLake's actions: 0 left, 1 down, 2 right, 3 up
GRID_ARROWS = ("←", "↓", "→", "↑")


def plot_value_grid(values, desc, policy=None, ax=None, title: str | None = None,
                    arrows: Sequence[str] = GRID_ARROWS, digits: int = 3):
    """Draw a value table on its grid world (lesson 02): one coloured cell per state, its value written in it.

    Args:
        values: one value per state, shape ``(rows * cols,)``, states numbered row by row
            (FrozenLake's numbering).
        desc: the map, ``env.unwrapped.desc`` (an array of bytes such as ``b"S"``, ``b"F"``,
            ``b"H"``, ``b"G"``), shape ``(rows, cols)``; each cell's letter is written in its corner.
        policy: optional actions, one per state; drawn as arrows, except on holes and the goal.
        ax: matplotlib axes to draw on; a new figure when None.
        title: the axes' title.
        arrows: the arrow drawn for each action.
        digits: decimals of the values written.

    Returns:
        The axes.

    Example:
        >>> import gymnasium as gym
        >>> env = gym.make("FrozenLake-v1")
        >>> ax = plot_value_grid(np.linspace(0, 1, 16), env.unwrapped.desc, policy=np.zeros(16, dtype=int))
    """
    import matplotlib.pyplot as plt

    letters = np.asarray(desc).astype(str)
    if letters.ndim != 2:
        raise ValueError(f"plot_value_grid: desc must be a 2-D map such as env.unwrapped.desc, got shape {letters.shape}")
    values = np.asarray(values, dtype=float)
    if values.shape != (letters.size,):
        raise ValueError(f"plot_value_grid: values must hold one value per cell, shape ({letters.size},), "
                         f"got shape {values.shape}")
    if policy is not None and np.shape(policy) != (letters.size,):
        raise ValueError(f"plot_value_grid: policy must hold one action per cell, shape ({letters.size},), "
                         f"got shape {np.shape(policy)}")
    rows, cols = letters.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * cols + 1, 1.1 * rows))
    image = ax.imshow(values.reshape(rows, cols), cmap="viridis")
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    middle = (values.max() + values.min()) / 2
    for s, value in enumerate(values):
        r, c = divmod(s, cols)
        color = "black" if value > middle else "white"
        ax.text(c, r + 0.12, f"{value:.{digits}f}", ha="center", va="center", fontsize=9, color=color)
        ax.text(c - 0.42, r - 0.42, letters[r, c], ha="left", va="top", fontsize=8, color=color, fontweight="bold")
        if policy is not None and letters[r, c] not in ("H", "G"):
            ax.text(c, r - 0.2, arrows[int(policy[s])], ha="center", va="center", fontsize=14, color=color)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    ax.tick_params(length=0)
    if title:
        ax.set_title(title)
    return ax
