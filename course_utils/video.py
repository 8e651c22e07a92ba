"""Recording an episode as frames, saving it as GIF/MP4, showing it inline (lesson 01)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ._validate import optional_seed, positive_int

VIDEO_SUFFIXES = (".gif", ".mp4")


def record_episode(
    policy: Callable,
    env_id: str = "CartPole-v1",
    seed: int | None = None,
    *,
    batched: bool = True,
    max_steps: int = 1000,
) -> tuple[list[np.ndarray], float]:
    """Run one episode with ``render_mode="rgb_array"`` and return its frames and return.

    Needs no display (no X server or Xvfb): frames are drawn off-screen.

    Args:
        policy: maps a batch of observations to a batch of actions (as in
            :func:`course_utils.evaluate`); with ``batched=False``, one observation
            to one action.
        env_id: a registered id such as ``"CartPole-v1"``.
        seed: seed of the episode's reset.
        batched: whether ``policy`` takes a batch of observations.
        max_steps: stop after this many steps even if the episode goes on.

    Returns:
        ``(frames, total_reward)``: the list of RGB frames (the first one is the
        start state) and the episode's total reward.
    """
    from .envs import make_env

    seed = optional_seed("record_episode", seed)
    max_steps = positive_int("record_episode", "max_steps", max_steps)
    env = make_env(env_id, render_mode="rgb_array")
    try:
        obs, _ = env.reset(seed=seed)
        frames, total = [env.render()], 0.0
        for _ in range(max_steps):
            action = np.asarray(policy(obs[None]))[0] if batched else policy(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            frames.append(env.render())
            if terminated or truncated:
                break
    finally:
        env.close()
    return frames, total


def side_by_side(*episodes: list) -> list[np.ndarray]:
    """Return frames showing several episodes next to each other, left to right.

    A shorter episode holds its last frame until the longest one ends, so you can
    see when each agent failed. All frames must have the same height.

    Example:
        >>> a = [np.zeros((2, 3, 3), np.uint8)] * 2
        >>> b = [np.ones((2, 3, 3), np.uint8)] * 5
        >>> frames = side_by_side(a, b)
        >>> len(frames), frames[0].shape
        (5, (2, 6, 3))
    """
    if len(episodes) < 2 or any(len(e) == 0 for e in episodes):
        raise ValueError("side_by_side: give two or more non-empty lists of frames")
    heights = {np.asarray(e[0]).shape[0] for e in episodes}
    if len(heights) != 1:
        raise ValueError(f"side_by_side: frames must share one height, got heights {sorted(heights)}")
    length = max(len(e) for e in episodes)
    return [np.concatenate([np.asarray(e[min(t, len(e) - 1)]) for e in episodes], axis=1) for t in range(length)]


def save_video(frames, path, fps: int = 30) -> Path:
    """Write RGB frames to ``path`` as an animated GIF or an MP4 (H.264), chosen by suffix.

    Args:
        frames: a sequence of ``(height, width, 3)`` uint8 arrays.
        path: where to write; must end in ``.gif`` or ``.mp4``. Folders are created.
        fps: frames per second.

    Returns:
        The path written, as a ``pathlib.Path``.
    """
    import imageio.v2 as imageio

    path = Path(path)
    fps = positive_int("save_video", "fps", fps)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"save_video: path must end in one of {VIDEO_SUFFIXES}, got {path.name!r}")
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("save_video: no frames to save; record an episode first")
    shape = frames[0].shape
    if len(shape) != 3 or shape[2] != 3 or any(f.shape != shape for f in frames):
        shapes = sorted({f.shape for f in frames})
        raise ValueError(
            f"save_video: frames must all have one shape (height, width, 3); got {shapes[:3]}. "
            "Record them with render_mode='rgb_array'."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [f.astype(np.uint8, copy=False) for f in frames]
    if path.suffix.lower() == ".gif":
        imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
    else:
        # macro_block_size=2 keeps 600x400 frames at their size (the default of 16
        # pads them to 608x400) while staying even, as the yuv420p format needs.
        imageio.mimsave(path, frames, fps=fps, macro_block_size=2, ffmpeg_log_level="error")
    return path


def show_video(path, width: int = 480):
    """Return an object that shows a saved GIF or MP4 inline in Jupyter, Colab or VS Code.

    The video is embedded in the notebook, so it still shows when the notebook
    is opened elsewhere. Make it the last line of a cell, or pass it to
    ``IPython.display.display``.
    """
    from IPython.display import HTML, Image
    import base64

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"show_video: no file {str(path)!r}; save it first with save_video")
    if path.suffix.lower() == ".gif":
        return Image(data=path.read_bytes(), format="gif", width=width)
    if path.suffix.lower() == ".mp4":
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return HTML(
            f'<video width="{width}" controls autoplay loop muted playsinline>'
            f'<source src="data:video/mp4;base64,{data}" type="video/mp4"></video>'
        )
    raise ValueError(f"show_video: path must end in one of {VIDEO_SUFFIXES}, got {path.name!r}")
