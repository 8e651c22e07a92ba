"""Measurements that tell whether an agent's values mean what they should (lesson 06)."""
from __future__ import annotations

import numpy as np

from .acting import mlp_forward
from .envs import make_env


def greedy_q_vs_returns(weights, gamma: float = 0.99, episodes: int = 5, seed: int = 0,
                        env_id: str = "CartPole-v1", horizon: int = 250):
    """Measure overestimation: run greedy episodes; return (predicted, obtained) per visited state.

    ``predicted`` is ``max_a Q(s_t, a)`` of the network with NumPy acting ``weights``
    (``cu.acting_weights``); ``obtained`` is the discounted return
    ``sum_k gamma^k r_{t+k}`` the same greedy policy then collected. An episode cut off
    by the time limit has no rewards after the cut, so only its states with at least
    ``horizon`` steps still to go count (the missing tail is then at most
    ``gamma^horizon / (1 - gamma)``, about 8 for 0.99 and 250). Returns two 1-D arrays
    of the same length.
    """
    env = make_env(env_id)
    predicted, obtained = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        q_values, rewards, done = [], [], False
        while not done:
            q = mlp_forward(weights, obs[None])[0]
            obs, reward, terminated, truncated, _ = env.step(int(q.argmax()))
            q_values.append(q.max())
            rewards.append(reward)
            done = terminated or truncated
        returns = _discounted_sums(rewards, gamma)
        keep = len(rewards) - horizon if truncated else len(rewards)
        predicted.extend(q_values[:max(keep, 0)])
        obtained.extend(returns[:max(keep, 0)])
    env.close()
    return np.asarray(predicted, dtype=float), np.asarray(obtained, dtype=float)


def _discounted_sums(rewards, gamma: float) -> np.ndarray:
    """Return ``sum_k gamma^k r_{t+k}`` for every step t of one episode's ``rewards``.

    One matrix product: row t weighs the rewards from step t on by gamma ** (j - t).
    """
    rewards = np.asarray(rewards, dtype=float)
    steps = np.arange(len(rewards))
    ahead = steps[None, :] - steps[:, None]   # j - t
    return np.where(ahead >= 0, float(gamma) ** np.maximum(ahead, 0), 0.0) @ rewards


# What each diagnostic of ``plot_diagnostics`` looks like in a healthy run (lesson 10).
HEALTHY = {
    "predicted vs obtained": "healthy: the predicted value follows the discounted return the agent then really "
                             "obtained from the same states; a steady gap means a wrong target (a missing terminal "
                             "mask or discount), a growing one divergence",
    "loss": "healthy: a TD or critic loss falls and then stays low but noisy; a loss that falls while the values "
            "are wrong says only that the network fits its (wrong) targets",
    "grad_norm": "healthy: the gradient norm shrinks as the fit improves and stays bounded; spikes or steady "
                 "growth mean exploding updates (lower the learning rate, clip gradients)",
    "entropy": "healthy: the policy's entropy falls slowly from log(number of actions) as the policy grows "
               "sure; a crash to 0 within a few updates means it committed before learning anything",
}


def plot_diagnostics(histories: dict, window: int = 10, axes=None):
    """Plot the diagnostics of one or more agents' updates side by side, one panel per diagnostic.

    ``histories`` maps a name to an agent's ``history`` (a dict of lists, as the probe
    agents of ``course_utils.debugging.probes`` keep): ``loss``, ``grad_norm``, and where the agent
    has them ``entropy`` and ``predicted``/``obtained`` (the mean value predicted for
    visited states and the mean discounted return obtained from them). Each panel's
    title names the diagnostic; ``HEALTHY`` says what it looks like when all is well.
    Returns the Matplotlib axes.
    """
    import matplotlib.pyplot as plt

    from .plotting import moving_average

    if not histories or not all(isinstance(h, dict) for h in histories.values()):
        raise TypeError("plot_diagnostics: pass {name: agent.history}, a dict of the agents' history dicts")
    panels = [p for p in ("predicted vs obtained", "loss", "grad_norm", "entropy")
              if any(h.get(p.split(" vs ")[0]) for h in histories.values())]
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False)
        axes = axes[0]
    for ax, panel in zip(axes, panels):
        for name, h in histories.items():
            if panel == "predicted vs obtained":
                if not h.get("predicted"):
                    continue
                (line,) = ax.plot(h["predicted"], label=f"{name}: predicted")
                ax.plot(h["obtained"], linestyle="--", color=line.get_color(), label=f"{name}: obtained")
                ax.set_xlabel("every 10th update")
            elif h.get(panel):
                ax.plot(moving_average(h[panel], min(window, len(h[panel]))), label=name)
                ax.set_xlabel("update")
        ax.set_title({"grad_norm": "gradient norm"}.get(panel, panel))
        ax.legend(fontsize="small")
    return axes
