"""`course release OUT --through NN --repo URL`: a course for a class repository, with no open lesson's solution."""
import json
import subprocess
from pathlib import Path

import nbformat
import pytest

from course_utils.instructor.intake import read_notebook
from course_utils.instructor.markers import MarkerIndex
from course_utils.instructor.release import MARKER, ReleaseError, release
from course_utils.instructor.similarity import fingerprints, normalised
from course_utils.instructor.verdict import exercise_sources

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/a-school/drl-class-2026"
LESSONS = sorted(p.name[:2] for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
THROUGH = LESSONS[2]   # the third lesson, whatever its number after a renumbering


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts)


def solutions(lesson: str) -> dict[str, str]:
    """Return ``{exercise: its solution cell}`` of a lesson."""
    nb = read_notebook(next((ROOT / "solutions").glob(f"{lesson}_*.ipynb")))
    return exercise_sources(nb, MarkerIndex.of(nb.cells))


def code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    return path.read_text(errors="replace")


@pytest.fixture(scope="module")
def released(tmp_path_factory, course_cmd):
    out = tmp_path_factory.mktemp("release") / "class-repo"
    done = subprocess.run([course_cmd, "release", str(out), "--through", THROUGH, "--repo", REPO, "--root", str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_the_release_holds_the_exercises_the_package_and_a_readme_only(released):
    out, said = released
    tree = files(out)
    top = sorted({name.split("/")[0] for name in tree})
    assert top == sorted([MARKER, ".gitignore", "README.md", "course_utils", "environment.yml", "exercises",
                          "pyproject.toml", "requirements-lock.txt", "tasks.py"])
    assert [n[len("exercises/"):][:2] for n in tree if n.startswith("exercises/")] == LESSONS[:3]
    assert not any(n.split("/")[0] in ("solutions", "grading", "notebooks", "tests", "benchmarks", "site") for n in tree)
    assert f"released lessons {', '.join(LESSONS[:3])}" in said


def test_no_generated_module_of_an_open_lesson_ships(released):
    out, _ = released
    modules = sorted(p.name for p in (out / "course_utils" / "lessons").glob("lesson*.py"))
    assert modules == [f"lesson{n}.py" for n in LESSONS[:2]]   # the lessons before the open one, which it may use
    assert all(n < THROUGH for n in (m[6:8] for m in modules))


def test_no_solution_of_an_open_or_later_lesson_is_in_any_file_unsaid(released):
    """Compared as the similarity report compares students: a file that holds half an open exercise's solution
    or more is named by the release (a check's oracle, a library loop), and no other is."""
    out, said = released
    shipped = {p.relative_to(out).as_posix(): fingerprints(normalised(code_of(p)))
               for p in out.rglob("*") if p.suffix in (".py", ".ipynb")}
    compared, named = 0, 0
    for lesson in (n for n in LESSONS if n >= THROUGH):
        for exercise, code in solutions(lesson).items():
            own = fingerprints(normalised(code))
            for name, held in shipped.items():
                found = len(own & held) / len(own)
                note = f"note: {name} holds {found:.0%} of the solution of exercise {exercise}"
                assert (note in said) == (found >= 0.5), (exercise, name, found)
                compared, named = compared + 1, named + (found >= 0.5)
    assert compared > 100 and said.count("note: ") == named
    assert not [n for n in shipped if n.startswith("course_utils/checks/lesson") and n[-5:-3] > THROUGH]
    assert not [n for n in shipped if n.startswith("exercises/") and n[len("exercises/"):][:2] > THROUGH]


def test_colab_badges_and_set_up_cells_point_at_the_class_repository(released):
    out, _ = released
    for path in sorted((out / "exercises").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        badge, setup = nb.cells[0].source, nb.cells[1].source
        assert f"https://colab.research.google.com/github/a-school/drl-class-2026/blob/main/exercises/{path.name}" in badge
        assert f"git+{REPO}.git" in setup
        assert "deep-rl-course/deep-rl-course" not in nbformat.writes(nb)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    pyproject = (out / "pyproject.toml").read_text()
    assert f'Repository = "{REPO}"' in pyproject and "data-files" not in pyproject


def test_the_readme_is_for_students(released):
    out, _ = released
    readme = (out / "README.md").read_text()
    assert readme.startswith("# Deep reinforcement learning, hands on: the exercises")
    for lesson in LESSONS[:3]:
        name = next((out / "exercises").glob(f"{lesson}_*.ipynb")).name
        assert f"(https://colab.research.google.com/github/a-school/drl-class-2026/blob/main/exercises/{name})" in readme
    assert "course build" not in readme and "solutions/" not in readme


def test_the_released_package_imports_and_its_checks_run(released, tmp_path):
    """The first lesson's check module runs from the release, the reference refused there as anywhere."""
    out, _ = released
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import course_utils.checks as c; "
            "assert c.__file__.startswith(sys.argv[1]), c.__file__; import importlib; "
            f"importlib.import_module('course_utils.checks.lesson{LESSONS[0]}'); "
            f"import course_utils.lessons.lesson{LESSONS[0]}; "
            "print(sorted(p.name for p in __import__('pathlib').Path(c.__file__).parent.parent.joinpath('lessons').glob('lesson*.py')))")
    done = subprocess.run([__import__("sys").executable, "-c", code, str(out)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([f"lesson{n}.py" for n in LESSONS[:2]])


def test_the_next_release_goes_into_the_same_folder(released, tmp_path):
    out, _ = released
    again = tmp_path / "class-repo"
    (again / ".git").mkdir(parents=True)   # a clone of the class repository
    (again / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    release(ROOT, again, LESSONS[1], REPO, log=lambda *a: None)
    release(ROOT, again, THROUGH, REPO, log=lambda *a: None)
    assert files(again) == sorted(files(out) + [".git/HEAD"])
    assert json.loads((again / MARKER).read_text())["exercises"] == LESSONS[:3]


@pytest.mark.parametrize("args, message", [
    (["--through", "99"], "--through 99: no such lesson; the course has lessons 01"),
    (["--through", "3"], "--through 3: no such lesson"),
    (["--through", "01", "--repo", "https://gitlab.com/a/b"], "give the class repository's GitHub address"),
])
def test_bad_arguments_are_refused_with_what_to_do(course_cmd, tmp_path, args, message):
    full = ["--repo", REPO, *args] if "--repo" not in args else args
    done = subprocess.run([course_cmd, "release", str(tmp_path / "out"), "--root", str(ROOT), *full],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_that_is_not_a_release_is_left_alone(tmp_path):
    (tmp_path / "mine.txt").write_text("my notes")
    with pytest.raises(ReleaseError, match="is not empty and holds no earlier release"):
        release(ROOT, tmp_path, LESSONS[0], REPO, log=lambda *a: None)
    assert files(tmp_path) == ["mine.txt"]
