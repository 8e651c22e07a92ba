import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image, ImageSequence

from course_utils.video import record_episode, save_video, show_video


def balance(obs):
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(int)


def test_record_episode_frames_match_steps():
    frames, total = record_episode(balance, "CartPole-v1", seed=0, max_steps=40)
    assert len(frames) == int(total) + 1  # start frame plus one per step (reward 1 per step)
    assert frames[0].shape == (400, 600, 3) and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[-1])


def test_record_episode_single_observation_policy():
    frames, total = record_episode(lambda obs: 0, seed=1, batched=False)
    assert 8 <= total <= 12 and len(frames) == total + 1


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_save_video_roundtrip(tmp_path, suffix):
    frames, _ = record_episode(balance, seed=0, max_steps=10)
    path = save_video(frames, tmp_path / "sub" / f"episode{suffix}", fps=20)
    assert path.is_file() and path.stat().st_size > 0
    read = iio.imread(path)
    assert read.shape[1:3] == (400, 600)  # not padded to 608
    if suffix == ".mp4":
        assert read.shape[0] == len(frames)
    else:  # Pillow merges identical neighbouring frames into one longer frame
        with Image.open(path) as gif:
            durations = [gif.info["duration"] for _ in ImageSequence.Iterator(gif)]
        assert sum(durations) == pytest.approx(len(frames) * 50, abs=len(frames))


@pytest.mark.parametrize(
    "frames, path, message",
    [
        ([], "a.gif", "no frames"),
        ([np.zeros((4, 4, 3))], "a.avi", "must end in one of"),
        ([np.zeros((4, 4, 3)), np.zeros((4, 5, 3))], "a.gif", "one shape"),
        ([np.zeros((4, 4))], "a.gif", "one shape"),
    ],
)
def test_save_video_bad_input(tmp_path, frames, path, message):
    with pytest.raises(ValueError, match=message):
        save_video(frames, tmp_path / path)


def test_show_video_embeds_data(tmp_path):
    frames = [np.full((16, 16, 3), i * 20, np.uint8) for i in range(4)]
    gif = show_video(save_video(frames, tmp_path / "a.gif"))
    assert gif.data[:6] == b"GIF89a"
    mp4 = show_video(save_video(frames, tmp_path / "a.mp4"))
    assert "data:video/mp4;base64," in mp4.data
    with pytest.raises(FileNotFoundError, match="save it first"):
        show_video(tmp_path / "missing.mp4")


def test_side_by_side_holds_the_last_frame_of_the_shorter_episode():
    from course_utils.video import side_by_side

    a = [np.full((2, 3, 3), i, np.uint8) for i in range(2)]
    b = [np.full((2, 4, 3), 10 + i, np.uint8) for i in range(4)]
    frames = side_by_side(a, b)
    assert len(frames) == 4 and frames[3].shape == (2, 7, 3)
    assert frames[3][0, 0, 0] == 1 and frames[3][0, 3, 0] == 13
    with pytest.raises(ValueError, match="share one height"):
        side_by_side(a, [np.zeros((5, 3, 3), np.uint8)])
    with pytest.raises(ValueError, match="two or more"):
        side_by_side(a)
