"""A notebook numbered before the course's renumbering is told apart by its content, and carried over.

The "old" notebooks here are today's exercise notebooks turned back to their old numbers, the
way a student's copy from before the renumbering reads: markers, cell ids, course metadata,
the check module and the lesson modules it imports, and the file name.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.instructor import renumber
from course_utils.instructor.grade import grade_submission
from course_utils.instructor.intake import Submission
from course_utils.instructor.options import Options
from course_utils.instructor.record import Status

ROOT = Path(__file__).resolve().parent.parent
NEW_TO_OLD = {new: old for old, new in renumber.OLD_TO_NEW.items()}


def _old_copy(new: str, folder: Path) -> Path:
    """Write today's exercise notebook of lesson ``new`` as it was numbered before the renumbering; return its path."""
    path = next((ROOT / "exercises").glob(f"{new}_*.ipynb"))
    old = NEW_TO_OLD.get(new, new)   # 09 kept its number
    text = path.read_text()
    if new == "10":   # the debugging kit's names were cu.NAME, its module course_utils.probes
        text = re.sub(r"\bprobes\.(" + "|".join(renumber.KIT_NAMES) + r")\b", r"cu.\1", text)
        text = text.replace("from course_utils.debugging import probes", "from course_utils import probes")
    text = re.sub(r"(#\s*(?:EXERCISE|CHECK) )" + new + r"\.", lambda m: m[1] + old + ".", text)
    text = re.sub(r"\b(lessons?[./]lesson|checks import lesson|lessons import lesson)(\d\d)\b",
                  lambda m: m[1] + NEW_TO_OLD.get(m[2], m[2]), text)
    text = text.replace(f'"id": "l{new}-', f'"id": "l{old}-')
    text = text.replace(f'"lesson": "{new}"', f'"lesson": "{old}"').replace(f'"exercise": "{new}.', f'"exercise": "{old}.')
    target = folder / (old + path.name[2:])
    target.write_text(text)
    return target


def test_the_map_moves_lessons_02_to_08_and_keeps_01_and_09():
    assert renumber.OLD_TO_NEW == {"02": "03", "03": "04", "04": "05", "05": "06", "06": "07", "07": "08", "08": "10"}
    # the lessons there were at the renumbering (01-10; lesson 11 came after it)
    then = {p.name[:2] for p in (ROOT / "notebooks").glob("*.ipynb") if p.name[:2] <= "10"}
    assert set(renumber.OLD_TO_NEW.values()) | {"01", "09"} == then - {"02"} | {"01", "09"}


@pytest.mark.parametrize("new", ["03", "04", "08", "10"])   # old 07 shares check_solved with today's 07
def test_an_old_notebook_is_refused_with_its_new_lesson_named(new, tmp_path):
    old_path = _old_copy(new, tmp_path)
    rows = grade_submission(Submission(student="ana", path=old_path), Options(reference=ROOT / "grading"))
    assert rows and {r.status for r in rows} == {Status.WRONG_LESSON} and sum(r.points for r in rows) == 0
    reason = rows[0].reason
    assert f"this is lesson {new}'s notebook under its number from before the course was renumbered" in reason
    assert f"lesson {NEW_TO_OLD[new]} then" in reason and "course renumber" in reason


@pytest.mark.parametrize("new", ["01", "03", "04", "09", "10"])
def test_todays_notebooks_are_not_taken_for_old_ones(new):
    path = next((ROOT / "exercises").glob(f"{new}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    assert renumber.moved_lesson(nb.cells, new, renumber.check_calls_by_lesson(ROOT / "grading")) is None


def test_a_stray_call_of_another_lessons_check_does_not_move_a_notebook():
    calls = {"03": {"check_discretize", "check_epsilon_greedy"}, "04": {"check_q_network"}}
    cells = [{"cell_type": "code", "source": "checks.check_q_network(f)\nchecks.check_discretize(g)"}]
    assert renumber.moved_lesson(cells, "03", calls) is None      # one of its calls is lesson 03's
    cells = [{"cell_type": "code", "source": "checks.check_q_network(f)"}]
    assert renumber.moved_lesson(cells, "03", calls) == "04"      # all are lesson 04's, which was 03
    assert renumber.moved_lesson(cells, "05", calls) is None      # lesson 04 was not numbered 05 before


@pytest.mark.parametrize("new", ["03", "04", "08", "09", "10"])
def test_renumber_gives_back_todays_exercise_notebook(new, tmp_path):
    old_path = _old_copy(new, tmp_path)
    target = renumber.renumber_file(old_path, tmp_path / "out")
    today = next((ROOT / "exercises").glob(f"{new}_*.ipynb"))
    assert target.name == today.name
    got, want = nbformat.read(target, as_version=4), nbformat.read(today, as_version=4)
    assert [(c.get("id"), c.source, c.metadata) for c in got.cells] == \
        [(c.get("id"), c.source, c.metadata) for c in want.cells]
    assert got.metadata["course"] == want.metadata["course"]


def test_renumber_writes_over_nothing_and_refuses_a_notebook_numbered_the_new_way(tmp_path, capsys):
    from course_utils.instructor.cli import main

    old_path = _old_copy("04", tmp_path)
    (tmp_path / "04_deep_q_network.ipynb").write_text(old_path.read_text())   # a name that is taken
    today = ROOT / "exercises" / "03_tabular_q_learning.ipynb"
    assert main(["renumber", str(old_path), str(today)]) == 1
    out, err = capsys.readouterr()
    assert f"{old_path} -> {tmp_path / '04_deep_q_network-renumbered.ipynb'}" in out
    assert f"{today}: already numbered the new way" in err and not (ROOT / "exercises" / "04_tabular_q_learning.ipynb").exists()
    assert json.loads(old_path.read_text())["metadata"]["course"]["lesson"] == "03"   # the original is untouched


def test_renumber_out_keeps_each_students_folder_and_an_lms_prefix(tmp_path, capsys):
    from course_utils.instructor.cli import main

    for student in ("ana", "ben"):
        (tmp_path / "sub" / student).mkdir(parents=True)
        _old_copy("03", tmp_path / "sub" / student)
    flat = tmp_path / "canvas"
    flat.mkdir()
    canvas = flat / "smithjohn_12345_67890_02_tabular_q_learning.ipynb"
    canvas.write_text(_old_copy("03", tmp_path).read_text())
    assert main(["renumber", *map(str, sorted((tmp_path / "sub").glob("*/*.ipynb"))), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.ipynb")) == [
        "ana/03_tabular_q_learning.ipynb", "ben/03_tabular_q_learning.ipynb"]
    assert renumber.renumber_file(canvas).name == "smithjohn_12345_67890_03_tabular_q_learning.ipynb"
