"""The ``course`` command from a student's install: a missing instructor tool is named with its fix."""
import sys

from course_utils.instructor.cli import main


def test_a_missing_instructor_dependency_names_the_extra(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "course_utils.instructor.build", raising=False)
    monkeypatch.setitem(sys.modules, "nbformat", None)  # as if only the runtime dependencies were installed
    assert main(["build", "--check"]) == 2
    err = capsys.readouterr().err
    assert "course build: needs nbformat" in err and 'pip install "course-utils[instructor]"' in err


def test_other_import_errors_are_not_hidden(monkeypatch):
    monkeypatch.delitem(sys.modules, "course_utils.instructor.build", raising=False)
    monkeypatch.setitem(sys.modules, "nbformat", None)
    monkeypatch.setattr("course_utils.instructor.cli.INSTRUCTOR_EXTRA", set())
    try:
        main(["build", "--check"])
    except ModuleNotFoundError as err:
        assert err.name == "nbformat"
    else:
        raise AssertionError("the import error was swallowed")


def test_grading_records_are_found_in_the_checkout_not_in_the_package():
    from pathlib import Path

    from course_utils.instructor.options import Options

    root = Path(__file__).resolve().parents[1]
    assert Options().reference == root / "grading"
    assert sorted(p.name[:2] for p in (root / "grading").glob("*.json")) == [f"{n:02d}" for n in range(1, 10)]
    assert not (root / "course_utils" / "reference").exists()
