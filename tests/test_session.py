import os
import sys

import pytest

from course_utils import checks
from course_utils.session import HEADLESS_ENV, is_headless, on_colab


def test_headless_when_the_tools_say_so_or_outside_a_kernel(monkeypatch):
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    assert is_headless()
    monkeypatch.delenv("COURSE_HEADLESS")
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert is_headless()  # plain Python: nobody to click a button
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    assert not is_headless()


def test_headless_env_switches_off_progress_bars_and_the_front_end(monkeypatch):
    from course_utils.progress import progress_bar
    from course_utils.session import environment

    for key in HEADLESS_ENV:
        monkeypatch.delenv(key, raising=False)
    with open(os.devnull, "w") as sink:
        assert not progress_bar(range(2), file=sink, disable=False).disable
        with environment(HEADLESS_ENV):
            assert progress_bar(range(2), file=sink, disable=False).disable
    monkeypatch.setitem(sys.modules, "ipykernel", object())  # as inside a notebook kernel
    assert not is_headless()
    with environment(HEADLESS_ENV):
        assert is_headless()
    assert not is_headless()


def test_on_colab_follows_colab_s_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not on_colab()
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert on_colab()


def test_check_helpers_print_fixed_lines_and_raise_with_hint(capsys):
    checks.passed("04.2", 12, "Targets do not bootstrap from terminal states.")
    assert capsys.readouterr().out == (
        "Exercise 04.2: passed (12 cases checked).\nTargets do not bootstrap from terminal states.\n")
    with pytest.raises(AssertionError, match="Exercise 04.2: td_targets gave 1.0, expected 0.0\nHint: mask"):
        checks.fail("04.2", "td_targets gave 1.0, expected 0.0", "mask the bootstrap")


def test_lesson_seed(monkeypatch):
    from course_utils.session import lesson_seed

    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert lesson_seed(5) == 5
    monkeypatch.setenv("COURSE_SEED", "3")
    assert lesson_seed(5) == 3
    monkeypatch.setenv("COURSE_SEED", "x")
    with pytest.raises(ValueError, match="COURSE_SEED must be a non-negative int, got 'x'"):
        lesson_seed()


def test_mean_return_reaches(capsys):
    checks.mean_return_reaches("09.9", [500.0] * 100, 475, 100, "solved.", "train longer")
    assert capsys.readouterr().out == "solved.\n"
    with pytest.raises(AssertionError, match=r"mean return 400.0 over 100 episodes is below 475\nHint: train longer"):
        checks.mean_return_reaches("09.9", [400.0] * 100, 475, 100, "solved.", "train longer")
    with pytest.raises(AssertionError, match="got 10 returns"):
        checks.mean_return_reaches("09.9", [500.0] * 10, 475, 100, "solved.", "train longer")
