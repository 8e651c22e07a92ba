"""Environment creation and seeding (introduced in lesson 01)."""
from __future__ import annotations

import os
import random
import sys

import gymnasium as gym
import numpy as np

from ._validate import optional_seed

RENDER_MODES = (None, "rgb_array", "human", "ansi")

def make_env(env_id: str, seed: int | None = None, render_mode: str | None = None, **kwargs) -> gym.Env:
    """Create a Gymnasium environment, seeded when ``seed`` is given.

    Seeding resets the environment once with ``reset(seed=seed)`` and seeds its
    action space, so later ``reset()`` calls without a seed and
    ``env.action_space.sample()`` are reproducible too.

    Args:
        env_id: a registered id such as ``"CartPole-v1"``.
        seed: a non-negative int, or None for an unseeded environment.
        render_mode: ``None``, ``"rgb_array"`` (frames as arrays, works with no
            display), ``"human"`` (a window) or ``"ansi"``.
        **kwargs: passed to ``gymnasium.make`` (for example ``max_episode_steps``).

    Returns:
        The environment.

    Example:
        >>> env = make_env("CartPole-v1", seed=0)
        >>> obs, info = env.reset()
        >>> obs.shape
        (4,)
    """
    if not isinstance(env_id, str):
        raise TypeError(f"make_env: env_id must be a string such as 'CartPole-v1', got {env_id!r}")
    seed = optional_seed("make_env", seed)
    if render_mode not in RENDER_MODES:
        raise ValueError(f"make_env: render_mode must be one of {RENDER_MODES}, got {render_mode!r}")
    if render_mode == "rgb_array" and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        # Frames are drawn off-screen; without this pygame complains there is no display.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    if render_mode is not None:
        # The course plays no sound. pygame.init() (which rendering calls) also opens the audio
        # device, and on a machine without a sound card (Colab, servers) prints ALSA errors.
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        env = gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.Error as err:
        raise ValueError(
            f"make_env: Gymnasium has no environment {env_id!r} ({err}). "
            "Check the spelling and version suffix, e.g. 'CartPole-v1'."
        ) from err
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


def seed_everything(seed: int, *, keras: bool | None = None) -> np.random.Generator:
    """Seed Python's ``random``, NumPy and (when used) TensorFlow/Keras in one call.

    Args:
        seed: a non-negative int.
        keras: True seeds Keras/TensorFlow (importing them), False leaves them
            alone, None (default) seeds them only when Keras or TensorFlow is
            already imported, so lessons without TensorFlow do not pay for it.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``, for code that
        takes an explicit ``rng``.
    """
    seed = optional_seed("seed_everything", seed)
    if seed is None:
        raise TypeError("seed_everything: seed must be an int, got None")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if keras is None:
        keras = "keras" in sys.modules or "tensorflow" in sys.modules
    if keras:
        import keras as keras_module

        keras_module.utils.set_random_seed(seed)
    return np.random.default_rng(seed)


class CountSteps(gym.Wrapper):
    """Count every environment step taken through this wrapper (in ``steps``) and episodes (in ``episodes``).

    Example:
        >>> env = CountSteps(make_env("CartPole-v1", seed=0))
        >>> _ = env.reset(); _ = env.step(0); _ = env.step(1)
        >>> env.steps
        2
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.steps = 0
        self.episodes = 0

    def step(self, action):
        result = self.env.step(action)
        self.steps += 1
        self.episodes += bool(result[2] or result[3])
        return result


class NoisyReward(gym.RewardWrapper):
    """Add zero-mean Gaussian noise of standard deviation ``scale`` to every reward (lesson 06).

    The expected reward, and so every true value, is unchanged; estimates built
    from noisy samples are not. The noise is seeded by ``seed`` and again by every
    ``reset(seed=...)``, so runs repeat exactly.

    Example:
        >>> env = NoisyReward(make_env("CartPole-v1"), scale=1.0)
        >>> _ = env.reset(seed=0)
        >>> round(float(env.step(0)[1]), 3)
        1.126
    """

    def __init__(self, env: gym.Env, scale: float = 1.0, seed: int | None = None):
        super().__init__(env)
        if not scale >= 0:
            raise ValueError(f"NoisyReward: scale must be >= 0, got {scale!r}")
        self.scale = float(scale)
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        return self.env.reset(seed=seed, options=options)

    def reward(self, reward):
        return float(reward) + self.scale * float(self._rng.normal())
