"""Sealed checks: a graded check runs a fresh copy of the course's check code and names any tampering."""
import builtins
import importlib
import sys

import pytest

from course_utils.instructor.sealed import CheckTampered, open_checks
from course_utils.lessons.lesson03 import epsilon_greedy

LESSON03 = "course_utils.checks.lesson03"


@pytest.fixture
def live():
    """The lesson's check module as a notebook sees it, reloaded afterwards so no patch leaks."""
    import course_utils.checks as package
    module = importlib.import_module(LESSON03)
    yield module
    importlib.reload(package)
    importlib.reload(module)


def test_an_honest_run_passes_and_uses_a_fresh_copy(live, capsys):
    checks = open_checks(LESSON03, "03.2")
    assert checks.check_epsilon_greedy is not live.check_epsilon_greedy
    checks.check_epsilon_greedy(epsilon_greedy)
    checks.close()
    assert capsys.readouterr().out.startswith("Exercise 03.2: passed")


def test_a_replaced_check_function_is_named(live):
    live.check_epsilon_greedy = lambda fn: print("Exercise 03.2: passed")
    with pytest.raises(CheckTampered, match=r"Exercise 03.2: tampered: course_utils.checks.lesson03."
                                            r"check_epsilon_greedy was replaced"):
        open_checks(LESSON03, "03.2")


def test_a_wrapped_check_function_is_named(live):
    real = live.check_epsilon_greedy
    live.check_epsilon_greedy = lambda fn: real(lambda q, e, rng: int(q.argmax()))
    with pytest.raises(CheckTampered, match="check_epsilon_greedy was replaced"):
        open_checks(LESSON03, "03.2")


def test_a_patched_shared_helper_and_a_deleted_check_are_named(live):
    import course_utils.checks as package
    package.fail = lambda *args, **kwargs: None
    del live.check_discretize
    with pytest.raises(CheckTampered) as err:
        open_checks(LESSON03, "03.2")
    assert "course_utils.checks.lesson03.check_discretize was deleted" in str(err.value)
    assert "course_utils.checks.fail was replaced" in str(err.value)


def test_a_patch_made_while_the_check_runs_is_caught_by_close(live):
    checks = open_checks(LESSON03, "03.2")
    sealed = sys.modules[checks._module.__name__.rpartition(".")[0]]

    def sneaky(q_values, epsilon, rng):  # student code runs inside the check
        sealed.fail = lambda *args, **kwargs: None
        return epsilon_greedy(q_values, epsilon, rng)

    checks.check_epsilon_greedy(sneaky)
    with pytest.raises(CheckTampered, match="the graded check's fail was replaced while it ran"):
        checks.close()


def test_a_replaced_print_is_named(live, monkeypatch):
    monkeypatch.setattr(builtins, "print", lambda *a, **k: None)
    with pytest.raises(CheckTampered, match="builtins.print was replaced"):
        open_checks(LESSON03, "03.2")


def test_a_top_level_check_module_is_sealed_too(tmp_path, monkeypatch):
    (tmp_path / "my_checks.py").write_text("def check_one(x):\n    assert x == 1\n    print('ok')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    live = importlib.import_module("my_checks")
    checks = open_checks("my_checks", "00.1")
    checks.check_one(1)
    checks.close()
    monkeypatch.setattr(live, "check_one", lambda x: print("ok"))
    with pytest.raises(CheckTampered, match="my_checks.check_one was replaced"):
        open_checks("my_checks", "00.1")
