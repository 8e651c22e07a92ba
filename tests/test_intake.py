"""What instructors receive, graded as it comes: Colab copies, Canvas and Moodle bulk downloads.

File and folder names follow the LMSs' own code: Canvas's ``app/models/content_zipper.rb``
(``<sortable name>_[late_]<user id>_<attachment id>_<display name>``, the name lower-cased
with everything but word characters removed; a resubmitted file ``name-1.ipynb``) and
Moodle's ``mod/assign/locallib.php`` (``<Full Name>_<participant id>_assignsubmission_file_/``).
The names and identities are read from the course's own lesson 01 in Colab's shape; what is graded
through the real command is the demo lesson (``tests/demo``, seconds a notebook) in the same shapes:
these tests are about the intake and the report, and tests/test_lessons.py grades the real lessons.
"""
import csv
import datetime
import json
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
from demo_course import demo_env, make_course

from course_utils.instructor import handback, intake
from course_utils.instructor.build import build
from course_utils.instructor.markers import found_marker

ROOT = Path(__file__).resolve().parents[1]
L01 = "01_gymnasium_random_search.ipynb"
D00 = "00_demo.ipynb"   # the demo lesson: four points, 00.1 (2), 00.2 (1) and 00.3 (1)
demo_env()


def marker(cell):
    """Return the marker of a raw JSON cell, whose source may be a list of lines as Colab writes it."""
    source = cell.get("source", "")
    return found_marker({**cell, "source": "".join(source) if isinstance(source, list) else source})


def colab_shaped(folder: str, name: str, magics: bool = False, root: Path = ROOT) -> str:
    """Return the course's notebook as Colab writes it: no cell ids, nbformat_minor 0, Colab's metadata.

    With ``magics``: ``%%time`` on the first exercise cell, ``%%capture`` and a ``!pip`` line
    in the set-up cell, and a ``!echo`` line in an ordinary cell.
    """
    nb = json.loads((root / folder / name).read_text())
    nb["nbformat_minor"] = 0
    nb["metadata"] = {"colab": {"provenance": [], "name": f"Copy of {name}"},
                      "kernelspec": {"name": "conda-env-drl-py", "display_name": "Python [conda env:drl]"},
                      "language_info": {"name": "python"},
                      "widgets": {"application/vnd.jupyter.widget-state+json": {"0f1e": {"model_name": "LayoutModel",
                                                                                       "state": {}}}}}
    for i, cell in enumerate(nb["cells"]):
        cell.pop("id", None)
        cell["metadata"] = {"id": f"x{i:04d}", "colab": {"base_uri": "https://localhost:8080/"},
                            "outputId": f"9a{i:04d}-c0de"}
    if magics:
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        code[0]["source"] = "%%capture\n!pip install -q gymnasium\n" + "".join(code[0]["source"])
        exercise = next(c for c in code if (m := marker(c)) and m.kind == "exercise")
        exercise["source"] = "%%time\n" + "".join(exercise["source"])
        plain = next(c for c in code[1:] if not marker(c))   # an ordinary cell after the set-up one
        plain["source"] = "!echo started\n" + "".join(plain["source"])
    return json.dumps(nb)


def wrong_demo(course: Path) -> str:
    """Return the demo lesson's solution whose first exercise computes nothing (a wrong answer, not a stub)."""
    nb = json.loads((course / "solutions" / D00).read_text())
    cell = next(c for c in nb["cells"] if (m := marker(c)) and m.exercise == "00.1")
    cell["source"] = "# EXERCISE 00.1\ndef discounted_sum(rewards, gamma):\n    return 0.0\n"
    return json.dumps(nb)


# names, identities, lessons: no kernel needed ---------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("limaana_1001_5001_01_gymnasium_random_search.ipynb", ("1001", "limaana", "01_gymnasium_random_search.ipynb",
                                                             False, 5001)),
    ("limaana_late_1001_5002_01_gymnasium_random_search-1.ipynb",
     ("1001", "limaana", "01_gymnasium_random_search-1.ipynb", True, 5002)),
    ("limaana_LATE_1001_5002_Copy of 04_deep_q_network.ipynb",
     ("1001", "limaana", "Copy of 04_deep_q_network.ipynb", True, 5002)),
    ("o_harasean_1003_7_notes.ipynb", ("1003", "o_harasean", "notes.ipynb", False, 7)),  # names lose "_N_"
])
def test_canvas_file_names_give_the_user_id_and_name(name, expected):
    who = intake.canvas_identity(Path(name))
    assert (who.layout, who.student, who.name, who.original, who.late, who.file_id) == ("canvas", *expected)


@pytest.mark.parametrize("name", ["01_gymnasium_random_search.ipynb", "ana_1001_notes.ipynb",
                                  "ana_1001_5001_report.pdf"])
def test_other_names_are_not_canvas_names(name):
    assert intake.canvas_identity(Path(name)) is None


@pytest.mark.parametrize("path, expected", [
    ("dl/Ana Lima_101_assignsubmission_file_/Copy of 01_gymnasium_random_search.ipynb",
     ("101", "Ana Lima", "Copy of 01_gymnasium_random_search.ipynb")),
    ("dl/Ana Lima_101_assignsubmission_file_/work/01_x.ipynb", ("101", "Ana Lima", "01_x.ipynb")),
    ("dl/Participant_17_assignsubmission_file_/01_x.ipynb", ("17", "Participant", "01_x.ipynb")),  # blind marking
    ("dl/Bo Chen_102_assignsubmission_file_01_x.ipynb", ("102", "Bo Chen", "01_x.ipynb")),  # not in folders
])
def test_moodle_names_give_the_participant_id_and_full_name(path, expected):
    who = intake.identity_of(Path("/tmp") / path, Path("/tmp/dl"))
    assert (who.layout, who.student, who.name, who.original) == ("moodle", *expected)


def test_a_folder_per_student_and_a_single_notebook_keep_todays_identity():
    assert intake.identity_of(Path("/tmp/subs/ana/04_x.ipynb"), Path("/tmp/subs")).student == "ana"
    assert intake.identity_of(Path("/tmp/subs/ana_1_2_03_x.ipynb"), Path("/tmp/subs")).layout == "canvas"
    assert intake.identity_of(Path("/tmp/subs/ana/ana_1_2_03_x.ipynb"), Path("/tmp/subs")).layout == "folder"
    assert intake.identity_of(Path("/tmp/ben/04_x.ipynb")).layout == "file"


@pytest.mark.parametrize("name, lesson", [
    ("04_deep_q_network.ipynb", "04"), ("Copy of 04_deep_q_network.ipynb", "04"),
    ("Copy of Copy of 01_gymnasium_random_search.ipynb", "01"), ("04_deep_q_network (1).ipynb", "04"),
    ("my_dqn.ipynb", None), ("Untitled0.ipynb", None),
])
def test_the_lesson_of_a_file_name(name, lesson):
    assert intake.name_lesson(name) == lesson


def test_the_lesson_is_read_from_the_content_when_the_name_does_not_say():
    nb = nbformat.reads(colab_shaped("exercises", L01), as_version=4)  # markers, metadata.course gone, no ids
    assert intake.content_lessons(nb) == {"markers": {"01"}}
    assert intake.identify_lesson("Untitled0.ipynb", nb) == intake.Lesson("01")
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    plain.metadata["course"] = {"lesson": "03"}
    assert intake.identify_lesson("homework.ipynb", plain) == intake.Lesson("03")
    plain.metadata = {}
    plain.cells[0].id = "l08-12"
    assert intake.identify_lesson("homework.ipynb", plain) == intake.Lesson("08")


def test_name_and_content_that_disagree_or_say_nothing_are_said_so():
    nb = nbformat.reads((ROOT / "exercises" / L01).read_text(), as_version=4)
    wrong = intake.identify_lesson("04_deep_q_network.ipynb", nb)
    assert (wrong.lesson, wrong.status) == ("04", "wrong lesson")
    assert "named for lesson 04 but holds lesson 01's exercises (by its markers)" in wrong.reason
    nothing = intake.identify_lesson("notes.ipynb", nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    assert (nothing.lesson, nothing.status) == (None, "unknown lesson")
    assert "file name does not start with a lesson number" in nothing.reason and "unreadable" not in nothing.reason


@pytest.mark.parametrize("text, says", [
    ('{"cells": [ this is not json', "not a notebook: the file is not JSON (JSONDecodeError"),
    ('{"name": "ana", "scores": [1, 2]}', "not a notebook: the file is JSON, but has no 'nbformat' key"),
    ('[1, 2, 3]', "not a notebook: the file is JSON, but a list, not an object"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "none"}', "its 'cells' are not a list"),
])
def test_not_json_and_json_that_is_not_a_notebook_get_different_reasons(tmp_path, text, says):
    path = tmp_path / "01_x.ipynb"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        intake.read_notebook(path)
    assert says in str(err.value)


def test_the_latest_canvas_upload_is_chosen_and_the_others_named(tmp_path):
    for name in ["limaana_1001_5001_01_gymnasium_random_search.ipynb",
                 "limaana_late_1001_5007_01_gymnasium_random_search-2.ipynb",
                 "limaana_late_1001_5004_01_gymnasium_random_search-1.ipynb",
                 "okafordayo_1002_5003_01_gymnasium_random_search.ipynb"]:
        (tmp_path / name).write_text(colab_shaped("exercises", L01))
    subs = intake.collect([tmp_path])
    assert [(s.student, s.name, s.path.name) for s in subs] == [
        ("1001", "limaana", "limaana_late_1001_5007_01_gymnasium_random_search-2.ipynb"),
        ("1002", "okafordayo", "okafordayo_1002_5003_01_gymnasium_random_search.ipynb")]
    assert subs[0].passed_over == ("limaana_late_1001_5004_01_gymnasium_random_search-1.ipynb",
                                   "limaana_1001_5001_01_gymnasium_random_search.ipynb")
    assert intake.layout_summary(subs)[0] == 'layout: Canvas "Download Submissions": 2 student(s), 2 notebook(s)'
    assert "1001 (limaana): graded the latest, limaana_late_1001_5007" in intake.layout_summary(subs)[1]


def test_a_zip_member_that_would_land_outside_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.ipynb", "{}")
    with pytest.raises(ValueError, match="outside"):
        intake.collect([archive])
    assert not (tmp_path / "outside.ipynb").exists()


def test_a_pip_line_does_not_change_the_graders_environment():
    from course_utils.instructor.grade import without_installs

    assert without_installs("!pip install -q gymnasium\nif True:\n    %pip install x\n!echo hi") == (
        "pass  # course grade skipped: !pip install -q gymnasium\nif True:\n"
        "    pass  # course grade skipped: %pip install x\n!echo hi")


# the gradebooks, as the LMSs' importers read them --------------------------------------------

def rows_of(layout, marks):
    return [{"student": s, "name": n, "layout": layout, "lesson": "01", "exercise": e, "points": p, "max_points": m,
             "status": "passed" if p else "error", "reason": "", "notebook": "x", "passed_over": ""}
            for s, n, e, p, m in marks]


def test_the_canvas_gradebook_has_the_columns_canvas_imports(tmp_path):
    rows = rows_of("canvas", [("1001", "limaana", "01.1", 2, 2), ("1001", "limaana", "01.2", 1, 1),
                              ("1002", "okafordayo", "01.1", 0, 2), ("1002", "okafordayo", "01.2", 1, 1)])
    path = handback.write_gradebooks(rows, tmp_path / "g.csv", {"01": "Random search (4321)"})[0]
    lines = list(csv.reader(path.open()))
    assert lines == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Random search (4321)"],
                     ["limaana", "1001", "", "", "", "3"], ["okafordayo", "1002", "", "", "", "1"]]
    # what canvas-lms lib/gradebook_importer.rb checks of the header: "Student", "ID", the last
    # student column "Section"; no column it would take for a new assignment but the lesson's
    header = lines[0]
    assert "Student" in header[0] and "ID" in header[1] and header[4] == "Section"
    assert header[5:] == ["Random search (4321)"]


def test_the_moodle_worksheet_has_the_columns_moodle_imports(tmp_path):
    rows = rows_of("moodle", [("102", "Bo Chen", "01.1", 2, 2), ("101", "Ana Lima", "01.1", 0, 2)])
    when = datetime.datetime(2025, 6, 2, 9, 30, tzinfo=datetime.timezone.utc)
    path = handback.write_gradebooks(rows, tmp_path / "g.csv", when=when)[0]
    assert list(csv.reader(path.open())) == [
        ["Identifier", "Full name", "Grade", "Maximum grade", "Last modified (grade)"],
        ["Participant 101", "Ana Lima", "0", "2", "2025-06-02T09:30:00+00:00"],
        ["Participant 102", "Bo Chen", "2", "2", "2025-06-02T09:30:00+00:00"]]


# graded through the real command, on the demo lesson ---------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    build(root, log=lambda *a: None)
    return root


def grade(course_cmd, course, target, report, *extra):
    result = subprocess.run([course_cmd, "grade", str(target), "--report", str(report), "--workers", "2",
                             "--cell-timeout", "60", "--reference", str(course / "grading"), *extra],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return result, list(csv.DictReader(report.open()))


def scores(rows):
    """Return {student: (points, max points, [statuses])}."""
    out = {}
    for r in rows:
        got, top, statuses = out.get(r["student"], (0, 0, []))
        out[r["student"]] = (got + int(r["points"]), top + int(r["max_points"]), statuses + [r["status"]])
    return out


@pytest.fixture(scope="module")
def canvas_zip(tmp_path_factory, course):
    """Canvas's zip of an assignment: one flat folder; Lima resubmitted late, twice; Okafor did nothing."""
    tmp = tmp_path_factory.mktemp("canvas")
    archive = tmp / "rl101-lesson-00_submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("limaana_1001_5001_00_demo.ipynb", wrong_demo(course))
        zf.writestr("limaana_late_1001_5004_00_demo-1.ipynb", colab_shaped("solutions", D00, root=course))
        zf.writestr("okafordayo_1002_5002_Copy of 00_demo.ipynb", colab_shaped("exercises", D00, root=course))
        zf.writestr("chenbo_1003_5003_notes.ipynb", '{"cells": [ this is not json')
    return archive


@pytest.fixture(scope="module")
def graded_canvas(canvas_zip, course, course_cmd):
    report = canvas_zip.parent / "grades.csv"
    return (*grade(course_cmd, course, canvas_zip, report, "--assignment", "00=Demo (4321)"), report)


NOTHING_DONE = (0, 4, ["not attempted", "not attempted", "error"])   # the demo's stubs; 00.3 uses 00.1's


def test_a_canvas_zip_is_graded_under_each_canvas_user_id(graded_canvas):
    result, rows, _ = graded_canvas
    assert 'layout: Canvas "Download Submissions": 3 student(s), 3 notebook(s)' in result.stdout
    got = scores(rows)
    assert got["1001"] == (4, 4, ["passed"] * 3)
    assert got["1002"] == NOTHING_DONE
    assert got["1003"] == (0, 0, ["unreadable notebook"])
    lima = [r for r in rows if r["student"] == "1001"]
    assert {(r["name"], r["layout"], Path(r["notebook"]).name, r["passed_over"]) for r in lima} == {
        ("limaana", "canvas", "limaana_late_1001_5004_00_demo-1.ipynb", "limaana_1001_5001_00_demo.ipynb")}
    assert "not a notebook: the file is not JSON" in next(r["reason"] for r in rows if r["student"] == "1003")


def test_the_canvas_gradebook_and_feedback_carry_the_identity(graded_canvas):
    _, _, report = graded_canvas
    book = list(csv.reader((report.parent / "grades-gradebook.csv").open()))
    assert book == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Demo (4321)"],
                    ["chenbo", "1003", "", "", "", ""], ["limaana", "1001", "", "", "", "4"],
                    ["okafordayo", "1002", "", "", "", "0"]]
    lima = (report.parent / "grades-feedback" / "1001.md").read_text()
    assert lima.startswith("# Feedback for limaana (1001)")
    assert "not graded: limaana_1001_5001_00_demo.ipynb" in lima


def test_a_moodle_download_is_graded_under_each_participant(tmp_path, course, course_cmd):
    root = tmp_path / "RL101-Lesson 00-12345"
    for folder, text in [("Ana Lima_101_assignsubmission_file_", colab_shaped("exercises", D00, root=course)),
                         ("Bo Chen_102_assignsubmission_file_", colab_shaped("solutions", D00, magics=True,
                                                                             root=course))]:
        (root / folder).mkdir(parents=True)
        name = "Copy of " + D00 if folder.startswith("Ana") else D00
        (root / folder / name).write_text(text)
    (root / "Bo Chen_102_assignsubmission_onlinetext_").mkdir()
    (root / "Bo Chen_102_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>done</p>")
    result, rows = grade(course_cmd, course, root, tmp_path / "grades.csv")
    assert 'layout: Moodle "Download all submissions": 2 student(s), 2 notebook(s)' in result.stdout
    got = scores(rows)
    assert got["101"] == NOTHING_DONE  # the "Copy of" stub: not "unreadable"
    assert got["102"] == (4, 4, ["passed"] * 3)   # Colab's %%capture, !pip, %%time and !echo lines run or are skipped
    assert {r["name"] for r in rows} == {"Ana Lima", "Bo Chen"}
    sheet = list(csv.reader((tmp_path / "grades-gradebook.csv").open()))
    assert [line[:4] for line in sheet] == [["Identifier", "Full name", "Grade", "Maximum grade"],
                                            ["Participant 101", "Ana Lima", "0", "4"],
                                            ["Participant 102", "Bo Chen", "4", "4"]]


def test_the_issues_table_colab_copies_and_what_is_not_a_notebook(tmp_path, course, course_cmd):
    """The issue's rows in a folder per student, and the reasons that differ."""
    subs = tmp_path / "submissions"
    files = {
        "ana/Copy of " + D00: colab_shaped("solutions", D00, root=course),
        "ben/00_demo (1).ipynb": (course / "solutions" / D00).read_text(),
        "ben/" + D00: wrong_demo(course),  # the first download, older: passed over
        "cai/" + D00: colab_shaped("solutions", D00, magics=True, root=course),
        "dee/Untitled0.ipynb": colab_shaped("exercises", D00, root=course),         # the lesson from the content
        "eve/notes.ipynb": json.dumps({"name": "eve", "scores": [1, 2]}),
        "fay/" + D00: "this is not json",
        "gus/" + D00: (ROOT / "exercises" / L01).read_text(),   # the course's lesson 01 handed in as 00
        "hal/homework.ipynb": nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])),
    }
    for name, text in files.items():
        (subs / name).parent.mkdir(parents=True, exist_ok=True)
        (subs / name).write_text(text)
    # ben's "(1)" copy was written first, so only its copy number says it is the later download
    result, rows = grade(course_cmd, course, subs, tmp_path / "grades.csv")
    got = scores(rows)
    assert got["ana"] == got["ben"] == got["cai"] == (4, 4, ["passed"] * 3)
    assert got["dee"] == NOTHING_DONE  # lesson 00, read from its markers
    reasons = {r["student"]: (r["status"], r["reason"]) for r in rows}
    assert reasons["eve"][0] == "unreadable notebook" and "the file is JSON, but has no 'nbformat'" in reasons["eve"][1]
    assert reasons["fay"][0] == "unreadable notebook" and "the file is not JSON" in reasons["fay"][1]
    assert reasons["gus"][0] == "wrong lesson" and "named for lesson 00 but holds lesson 01's" in reasons["gus"][1]
    assert reasons["hal"][0] == "unknown lesson" and "cannot tell the lesson" in reasons["hal"][1]
    ben = next(r for r in rows if r["student"] == "ben")
    assert (Path(ben["notebook"]).name, ben["passed_over"]) == ("00_demo (1).ipynb", D00)
