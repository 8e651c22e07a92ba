"""Learning curves and Q-value traces (introduced in lessons 01 and 03)."""
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


def plot_learning_curve(
    returns: Sequence[float],
    window: int = 20,
    threshold: float | None = None,
    steps: Sequence[int] | None = None,
    label: str | None = None,
    ax=None,
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
    (line,) = ax.plot(x, moving_average(y, window), label=label or f"moving average ({window})")
    ax.plot(x, y, alpha=0.25, color=line.get_color(), linewidth=0.8)
    if threshold is not None:
        ax.axhline(threshold, linestyle="--", color="gray", label=f"threshold {threshold:g}")
    ax.set_xlabel("episode" if steps is None else "environment steps")
    ax.set_ylabel("return")
    ax.legend(loc="best")
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
