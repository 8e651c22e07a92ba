import random
import sys

import numpy as np
import pytest

from course_utils.envs import make_env, seed_everything


def rollout(env, steps=30):
    obs, _ = env.reset()
    trace = [obs]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        trace.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(trace)


def test_make_env_returns_cartpole_with_gymnasium_api():
    env = make_env("CartPole-v1")
    obs, info = env.reset(seed=3)
    assert obs.shape == (4,) and isinstance(info, dict)
    assert len(env.step(0)) == 5
    assert env.spec.max_episode_steps == 500


def test_same_seed_gives_same_trajectory_and_other_seed_differs():
    a = rollout(make_env("CartPole-v1", seed=7))
    b = rollout(make_env("CartPole-v1", seed=7))
    c = rollout(make_env("CartPole-v1", seed=8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rgb_array_renders_a_frame_without_display():
    env = make_env("CartPole-v1", seed=0, render_mode="rgb_array")
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8


def test_kwargs_reach_gymnasium_make():
    env = make_env("CartPole-v1", seed=0, max_episode_steps=5)
    env.reset()
    steps = [env.step(t % 2) for t in range(5)]  # alternate pushes: the pole stays up
    assert env.spec.max_episode_steps == 5
    assert [s[3] for s in steps] == [False] * 4 + [True]
    assert not any(s[2] for s in steps)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"env_id": "CartPol-v1"}, ValueError, "no environment 'CartPol-v1'"),
        ({"env_id": 3}, TypeError, "env_id must be a string"),
        ({"env_id": "CartPole-v1", "seed": -1}, ValueError, "seed must be >= 0"),
        ({"env_id": "CartPole-v1", "seed": 1.5}, TypeError, "seed must be an int"),
        ({"env_id": "CartPole-v1", "render_mode": "rgb"}, ValueError, "render_mode must be one of"),
    ],
)
def test_make_env_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_env(**kwargs)


def test_seed_everything_seeds_python_and_numpy_and_returns_generator():
    rng = seed_everything(5, keras=False)
    first = (random.random(), np.random.rand(), rng.random())
    rng = seed_everything(5, keras=False)
    assert (random.random(), np.random.rand(), rng.random()) == first


def test_seed_everything_seeds_keras_when_asked():
    import keras

    seed_everything(11, keras=True)
    a = keras.random.uniform((3,)).numpy()
    seed_everything(11, keras=True)
    b = keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(a, b)
    assert "tensorflow" in sys.modules


@pytest.mark.parametrize("seed, error", [(None, TypeError), (-3, ValueError), ("1", TypeError)])
def test_seed_everything_bad_seed(seed, error):
    with pytest.raises(error, match="seed_everything"):
        seed_everything(seed)


def test_count_steps_counts_steps_and_finished_episodes():
    from course_utils.envs import CountSteps

    env = CountSteps(make_env("CartPole-v1", seed=0))
    for _ in range(3):
        env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(0)
            done = terminated or truncated
    assert env.episodes == 3 and 3 * 8 <= env.steps <= 3 * 12


def test_noisy_reward_keeps_the_mean_and_repeats_under_a_seed():
    from course_utils.envs import NoisyReward

    def rewards(seed):
        env = NoisyReward(make_env("CartPole-v1"), scale=2.0)
        env.reset(seed=seed)
        env.action_space.seed(seed)
        out = []
        for _ in range(2_000):
            _, reward, terminated, truncated, _ = env.step(int(env.action_space.sample()))
            out.append(reward)
            if terminated or truncated:
                env.reset()
        return np.array(out)

    first = rewards(0)
    assert abs(first.mean() - 1.0) < 0.15 and 1.8 < first.std() < 2.2
    np.testing.assert_array_equal(first[:20], rewards(0)[:20])
    assert not np.allclose(first[:20], rewards(1)[:20])


def test_noisy_reward_refuses_a_negative_scale():
    from course_utils.envs import NoisyReward

    with pytest.raises(ValueError, match="scale must be >= 0, got -1"):
        NoisyReward(make_env("CartPole-v1"), scale=-1)


def test_rendering_opens_no_audio_device_unless_the_user_chose_one(monkeypatch):
    """pygame.init() also opens the sound card; without one (Colab, servers) SDL prints ALSA errors."""
    import os

    monkeypatch.delenv("SDL_AUDIODRIVER", raising=False)
    make_env("CartPole-v1", seed=0)
    assert "SDL_AUDIODRIVER" not in os.environ  # no rendering, nothing set
    make_env("CartPole-v1", seed=0, render_mode="rgb_array").render()
    assert os.environ["SDL_AUDIODRIVER"] == "dummy"
    monkeypatch.setenv("SDL_AUDIODRIVER", "pulseaudio")
    make_env("CartPole-v1", seed=0, render_mode="rgb_array")
    assert os.environ["SDL_AUDIODRIVER"] == "pulseaudio"


def test_rendering_prints_nothing_in_a_fresh_process():
    """The first render imports pygame, which greets on import ("pygame 2.6.1 (SDL ...)"; Gymnasium sets
    PYGAME_HIDE_SUPPORT_PROMPT) and opens the sound card (ALSA errors without one): none of it may show."""
    import os
    import subprocess

    code = ("from course_utils.envs import make_env\n"
            "frame = make_env('CartPole-v1', seed=0, render_mode='rgb_array').render()\n"
            "assert frame.shape == (400, 600, 3)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYGAME_HIDE_SUPPORT_PROMPT", "SDL_AUDIODRIVER")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "ALSA" not in done.stderr and "pygame" not in done.stderr, (done.stdout, done.stderr)
