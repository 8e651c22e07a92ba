"""The one assertion every table of known mistakes makes (tests/test_lessonNN_checks.py)."""
import re

import pytest


def assert_rejected(check, answer, exercise: str, message: str) -> None:
    """``check(answer)`` fails the course's way: "Exercise NN.k: ..." naming ``message``, then a hint."""
    with pytest.raises(AssertionError, match=rf"^Exercise {re.escape(exercise)}: ") as err:
        check(answer)
    text = str(err.value)
    assert message in text and "\nHint: " in text, text


def assert_passes(check, answer, exercise: str, capsys, *args) -> None:
    """``check(answer, *args)`` passes, printing "Exercise NN.k: passed" and nothing before it."""
    check(answer, *args)
    out = capsys.readouterr().out
    assert out.startswith(f"Exercise {exercise}: passed"), out
