"""The lesson record build writes and grade reads: the same bytes back, and refused when stale for the installed checks."""
import json
import shutil
from pathlib import Path

import pytest

from course_utils.instructor.grade import Options, Submission, grade_submission
from course_utils.instructor.record import LessonRecord, Status, load
from course_utils.instructor.staleness import inputs_hash

ROOT = Path(__file__).resolve().parents[1]
RECORDS = sorted((ROOT / "grading").glob("[0-9][0-9]_*.json"))


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_a_record_reads_back_to_the_same_bytes_and_is_current(path):
    text = path.read_text()
    record = LessonRecord.from_json(text)
    assert record.to_json() == text
    assert record.lesson == path.name[:2] and record.check_module == f"course_utils.checks.lesson{record.lesson}"
    assert record.points == sum(json.loads(text)["checks"][i]["points"] for i in range(len(record.checks)))
    assert record.stale_reason(ROOT / "grading") is None


def copied_lesson(tmp_path, lesson, edit_inputs):
    """Copy a lesson's record and solution into a course folder, the solution's inputs edited, the record's hash
    made to match them (as a build with those inputs would have written both); return the grading folder."""
    record_path = next((ROOT / "grading").glob(f"{lesson}_*.json"))
    solution = json.loads((ROOT / "solutions" / f"{record_path.stem}.ipynb").read_text())
    edit_inputs(solution["metadata"]["course"]["inputs"])
    record = json.loads(record_path.read_text())
    record["build_hash"] = inputs_hash(solution["metadata"]["course"]["inputs"])
    for folder, name, data in (("grading", record_path.name, record), ("solutions", f"{record_path.stem}.ipynb", solution)):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(json.dumps(data))
    return tmp_path / "grading"


def submission(tmp_path, lesson):
    exercise = next((ROOT / "exercises").glob(f"{lesson}_*.ipynb"))
    (tmp_path / "ada").mkdir()
    return Submission("ada", Path(shutil.copy(exercise, tmp_path / "ada" / exercise.name)))


def test_grade_refuses_a_record_built_with_other_checks_and_says_how_to_rebuild(tmp_path):
    def older_checks(inputs):
        inputs["course_utils/checks/lesson01.py"] = "0" * 64
    grading = copied_lesson(tmp_path, "01", older_checks)
    assert "course_utils/checks/lesson01.py changed" in load(grading, "01").stale_reason(grading)
    rows = grade_submission(submission(tmp_path, "01"), Options(reference=grading))
    assert [r.exercise for r in rows] == [c.exercise for c in load(grading, "01").checks]
    assert {(r.status, r.points) for r in rows} == {(Status.STALE_RECORD, 0)}
    assert "the grading record of lesson 01" in rows[0].reason and "run `course build --lesson 01`" in rows[0].reason


def test_a_record_is_current_when_only_what_the_checks_do_not_run_changed(tmp_path):
    def other_notebook_text(inputs):
        inputs["notebooks/01_gymnasium_random_search.ipynb"] = "0" * 64   # the prose: a rebuild is due, the checks hold
    grading = copied_lesson(tmp_path, "01", other_notebook_text)
    assert load(grading, "01").stale_reason(grading) is None


def test_a_record_from_another_build_than_its_solution_is_stale(tmp_path):
    grading = copied_lesson(tmp_path, "01", lambda inputs: None)
    path = next(grading.glob("01_*.json"))
    path.write_text(path.read_text().replace(load(grading, "01").build_hash, "f" * 64))
    assert "come from different builds" in load(grading, "01").stale_reason(grading)


def test_a_record_without_its_solution_beside_it_cannot_be_told_stale(tmp_path):
    shutil.copy(RECORDS[0], tmp_path / RECORDS[0].name)   # as a wheel installs them: grading records alone
    assert load(tmp_path, RECORDS[0].name[:2]).stale_reason(tmp_path) is None
