"""`course grade` / `course check` on a class of good, partial and hostile submissions."""
import csv
import json
import random
import subprocess
import time

import nbformat
import pytest
from demo_course import cell_index, demo_env, make_course, read

from course_utils.instructor import grade as grade_module
from course_utils.instructor.build import build
from course_utils.instructor.grade import Options, Report, collect_submissions, grade_all, merge, shard

demo_env()
WRONG_SUM = "# EXERCISE 00.1\ndef discounted_sum(rewards, gamma):\n    return float(sum(rewards))"
PASS_LINE = "Exercise 00.1: passed (6 cases checked).\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    build(root, log=lambda *a: None)
    return root


def options(course, **kw):
    return Options(reference=course / "grading", **{"cell_timeout": 20, **kw})


def set_cell(nb, kind, exercise, source):
    nb.cells[cell_index(nb, kind, exercise)].source = source


def submission_notebooks(course):
    """Return {student: notebook text} for a class of varied submissions."""
    solution = lambda: read(course / "solutions" / "00_demo.ipynb")  # noqa: E731
    exercise = lambda: read(course / "exercises" / "00_demo.ipynb")  # noqa: E731
    subs = {}

    subs["good"] = solution()

    nb = exercise()
    set_cell(nb, "exercise", "00.1", solution().cells[cell_index(nb, "exercise", "00.1")].source)
    subs["partial"] = nb

    nb = solution()
    set_cell(nb, "exercise", "00.1", WRONG_SUM)
    subs["wrong"] = nb

    nb = solution()
    set_cell(nb, "exercise", "00.1", WRONG_SUM)
    set_cell(nb, "check", "00.1", f"# CHECK 00.1 (2 points)\nprint({PASS_LINE.strip()!r})")
    subs["tampered_check"] = nb

    nb = solution()  # wrong code, but the stored outputs are those of a pass
    set_cell(nb, "exercise", "00.1", WRONG_SUM)
    subs["forged_outputs"] = nb

    nb = solution()
    del nb.cells[cell_index(nb, "check", "00.2")]
    subs["deleted_check"] = nb

    nb = solution()
    i = cell_index(nb, "check", "00.1")
    nb.cells.insert(i, nbformat.from_dict(json.loads(json.dumps(nb.cells[i]))))
    nb.cells[i].id = "copy-of-check"
    subs["duplicated_check"] = nb

    nb = solution()
    i, j = cell_index(nb, "exercise", "00.2"), cell_index(nb, "check", "00.2")
    moved = nb.cells[i:j + 1]
    del nb.cells[i:j + 1]
    nb.cells[4:4] = moved + [  # after the imports, before exercise 00.1
        nbformat.v4.new_markdown_cell("my notes"), nbformat.v4.new_code_cell("x = 41 + 1")]
    subs["extra_reordered"] = nb

    nb = solution()
    i = cell_index(nb, "exercise", "00.2")
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell("print('x' * (50 * 2**20))"))
    subs["huge_output"] = nb

    nb = solution()
    set_cell(nb, "exercise", "00.2", "# EXERCISE 00.2\nwhile True:\n    pass")
    subs["infinite_loop"] = nb

    nb = solution()  # outlives the timeout's interrupt and raises something else: it still ran past the timeout
    set_cell(nb, "exercise", "00.2", "# EXERCISE 00.2\ntry:\n    while True:\n        pass\n"
                                     "except KeyboardInterrupt:\n    raise ValueError('gave up')")
    subs["catches_interrupt"] = nb

    nb = solution()
    set_cell(nb, "exercise", "00.2", "# EXERCISE 00.2\nimport os\nos._exit(3)")
    subs["exits_kernel"] = nb

    nb = solution()  # a scratch cell that never ends, before independent exercises
    nb.cells.insert(4, nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    subs["hung_scratch_cell"] = nb

    nb = solution()
    set_cell(nb, "exercise", "00.2", "# EXERCISE 00.2\ndef clip(x, low, high):\n"
                                     "    hog = bytearray(64 * 2**30)\n    return min(max(x, low), high)")
    subs["memory_hog"] = nb

    nb = solution()
    del nb.cells[cell_index(nb, "exercise", "00.1")]
    subs["deleted_exercise"] = nb

    nb = solution()
    for cell in nb.cells:
        cell.source = cell.source.replace("# EXERCISE 00.", "# EXERCISE 01.").replace("# CHECK 00.", "# CHECK 01.")
    subs["wrong_lesson"] = nb

    forge = f"lambda *args, **kwargs: print({PASS_LINE.strip()!r})"
    nb = exercise()  # nothing done; a scratch cell after the imports makes every check print "passed"
    nb.cells.insert(4, nbformat.v4.new_code_cell(
        f"import demo_checks\nfor name in ('check_discounted_sum', 'check_clip', 'check_score'):\n"
        f"    setattr(demo_checks, name, {forge})"))
    subs["patched_from_scratch"] = nb

    nb = solution()  # wrong code whose own cell replaces its check
    set_cell(nb, "exercise", "00.1", WRONG_SUM + f"\n\nimport demo_checks\ndemo_checks.check_discounted_sum = {forge}")
    subs["patched_in_exercise"] = nb

    nb = solution()  # wrong code; `checks` rebound to a fake: the graded run does not use the name
    set_cell(nb, "exercise", "00.1", WRONG_SUM)
    nb.cells.insert(4, nbformat.v4.new_code_cell(
        f"class Fake:\n    def __getattr__(self, name):\n        return {forge}\n\n\nchecks = Fake()"))
    subs["rebinds_checks"] = nb

    nb = solution()  # wrong code; stdout rewritten so a failure would read as a pass
    set_cell(nb, "exercise", "00.1", WRONG_SUM)
    nb.cells.insert(4, nbformat.v4.new_code_cell(
        "import sys\n\n\nclass Rewrite:\n    def __init__(self, out):\n        self.out = out\n\n"
        "    def write(self, text):\n        return self.out.write(text.replace('expected', 'fine'))\n\n"
        "    def __getattr__(self, name):\n        return getattr(self.out, name)\n\n\nsys.stdout = Rewrite(sys.stdout)"))
    subs["patched_stdout"] = nb

    noise = ("    print('debug:', locals())\n    warnings.warn('still testing this')\n"
             "    logging.getLogger('mine').warning('a log line')\n    sys.stderr.write('e' * 100_000 + '\\n')\n"
             "    os.write(2, b'a line from C code\\n')\n")
    nb = solution()  # correct code that prints, warns, logs and floods stderr in every exercise function
    set_cell(nb, "exercise", "00.1", "# EXERCISE 00.1\nimport logging, os, sys, warnings\n\n\n"
             "def discounted_sum(rewards, gamma):\n" + noise
             + "    return float(sum(r * gamma**t for t, r in enumerate(rewards)))")
    set_cell(nb, "exercise", "00.2", "# EXERCISE 00.2\ndef clip(x, low, high):\n" + noise
             + "    return min(max(x, low), high)")
    subs["noisy_but_right"] = nb

    nb = solution()  # an import and a comment above the marker; 00.2 wrong
    set_cell(nb, "exercise", "00.1", "import math\n# my answer\n" + solution().cells[
        cell_index(nb, "exercise", "00.1")].source)
    set_cell(nb, "exercise", "00.2", "import math\n# EXERCISE 00.2\ndef clip(x, low, high):\n    return x")
    subs["lines_above_marker"] = nb

    nb = solution()  # marker in another case and spacing; 00.1 split in two cells
    i = cell_index(nb, "exercise", "00.1")
    nb.cells[i].source = "#exercise 00.1\nimport math"
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(
        "def discounted_sum(rewards, gamma):\n    return math.fsum(r * gamma**t for t, r in enumerate(rewards))"))
    right = solution()
    set_cell(nb, "exercise", "00.2", right.cells[cell_index(right, "exercise", "00.2")].source.replace(
        "# EXERCISE 00.2", "#  Exercise  00.2"))
    subs["loose_markers_split_cell"] = nb

    texts = {name: nbformat.writes(nb) for name, nb in subs.items()}
    texts["invalid_json"] = '{"cells": [ this is not json'
    return texts


# A file beside the notebook named ipykernel_launcher.py is what `python -m ipykernel_launcher`, the kernel's
# start, runs instead of Jupyter's: one that ends the process stands for a kernel that never starts.
DIES_AT_START = "import sys\nsys.exit(1)\n"
# The first start dies (as a kernel that lost a race for its port does), the second starts Jupyter's kernel.
DIES_ONCE = """import os, runpy, sys
here = os.path.dirname(os.path.abspath(__file__))
if not os.path.exists(os.path.join(here, "started-once")):
    open(os.path.join(here, "started-once"), "w").close()
    sys.exit(1)
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""
EXTRA_FILES = {  # student: {file beside the notebook: text}, each student's notebook is the solution
    "kernel_starts_second_time": {"ipykernel_launcher.py": DIES_ONCE},
    "kernel_never_starts": {"ipykernel_launcher.py": DIES_AT_START},
}


def write_class(folder, course, names=None):
    texts = submission_notebooks(course)
    texts.update({name: texts["good"] for name in EXTRA_FILES})
    for name, text in texts.items():
        if names is None or name in names:
            (folder / name).mkdir(parents=True)
            (folder / name / "00_demo.ipynb").write_text(text)
            for file, content in EXTRA_FILES.get(name, {}).items():
                (folder / name / file).write_text(content)
    return folder


EXPECTED = {  # student: [(status, points) for 00.1, 00.2, 00.3]
    "good": [("passed", 2), ("passed", 1), ("passed", 1)],
    "partial": [("passed", 2), ("not attempted", 0), ("passed", 1)],
    "wrong": [("error", 0), ("passed", 1), ("passed", 1)],
    "tampered_check": [("error", 0), ("passed", 1), ("passed", 1)],
    "forged_outputs": [("error", 0), ("passed", 1), ("passed", 1)],
    "deleted_check": [("passed", 2), ("passed", 1), ("passed", 1)],
    "duplicated_check": [("passed", 2), ("passed", 1), ("passed", 1)],
    "extra_reordered": [("passed", 2), ("passed", 1), ("passed", 1)],
    "huge_output": [("passed", 2), ("passed", 1), ("passed", 1)],
    "infinite_loop": [("passed", 2), ("timeout", 0), ("passed", 1)],   # run again without the hung cell
    "catches_interrupt": [("passed", 2), ("timeout", 0), ("passed", 1)],   # and the rest runs without it
    "exits_kernel": [("passed", 2), ("kernel died", 0), ("passed", 1)],
    "hung_scratch_cell": [("passed", 2), ("passed", 1), ("passed", 1)],
    "memory_hog": [("passed", 2), ("error", 0), ("passed", 1)],
    "deleted_exercise": [("not attempted", 0), ("passed", 1), ("error", 0)],
    "wrong_lesson": [("wrong lesson", 0)] * 3,
    "invalid_json": [("unreadable notebook", 0)] * 3,
    "patched_from_scratch": [("tampered", 0)] * 3,
    "patched_in_exercise": [("tampered", 0)] * 3,  # check code was changed: no later check is trusted
    "rebinds_checks": [("error", 0), ("passed", 1), ("passed", 1)],
    "patched_stdout": [("tampered", 0)] * 3,
    "noisy_but_right": [("passed", 2), ("passed", 1), ("passed", 1)],
    "lines_above_marker": [("passed", 2), ("error", 0), ("passed", 1)],
    "loose_markers_split_cell": [("passed", 2), ("passed", 1), ("passed", 1)],
    "kernel_starts_second_time": [("passed", 2), ("passed", 1), ("passed", 1)],   # the grader started it again
    "kernel_never_starts": [("not run", 0)] * 3,
}


@pytest.fixture(scope="module")
def graded_class(course, tmp_path_factory, course_cmd):
    """Grade the whole class once, through the real command, two at a time."""
    folder = write_class(tmp_path_factory.mktemp("class") / "submissions", course)
    report = folder.parent / "grades.csv"
    result = subprocess.run(
        [course_cmd, "grade", str(folder), "--report", str(report), "--workers", "2", "--cell-timeout", "10",
         "--memory-limit-mb", "4096", "--reference", str(course / "grading")],
        capture_output=True, text=True, timeout=900)
    rows = list(csv.DictReader(report.open()))
    return result, rows, report


def by_student(rows):
    out = {}
    for r in rows:
        out.setdefault(r["student"], []).append(r)
    return out


def test_every_submission_is_in_the_report_with_the_right_scores(graded_class):
    result, rows, _ = graded_class
    assert result.returncode == 0, result.stderr
    students = by_student(rows)
    assert set(students) == set(EXPECTED)
    for student, expected in EXPECTED.items():
        got = [(r["status"], int(r["points"])) for r in students[student]]
        assert [r["exercise"] for r in students[student]] == ["00.1", "00.2", "00.3"], student
        assert got == expected, f"{student}: {[(r['status'], r['reason']) for r in students[student]]}"
        for r in students[student]:   # a reason for every lost point, and "passed" only for a pass
            lost = int(r["points"]) < int(r["max_points"])
            assert r["reason"].strip() not in ("", "passed", r["status"]) if lost else r["reason"] == "passed", r


@pytest.mark.parametrize("student, exercise, reason", [
    ("wrong", "00.1", "AssertionError: Exercise 00.1: discounted_sum([1, 1, 1], 0.9) = 3.0, expected 2.71 "),
    ("wrong", "00.1", "Hint: you did not discount"),
    ("tampered_check", "00.1", "Hint: you did not discount"),
    ("partial", "00.2", "the exercise cell still raises NotImplementedError"),
    ("infinite_loop", "00.2", "the exercise cell ran past the cell timeout; the grader ran the rest of the notebook "
                              "without it"),
    ("exits_kernel", "00.2", "the exercise cell killed the kernel; the grader ran the rest"),
    ("memory_hog", "00.2", "MemoryError: the code needed more memory than the grader's limit"),
    ("deleted_exercise", "00.1", "no '# EXERCISE 00.1' cell"),
    ("deleted_exercise", "00.3", "NameError: name 'score' is not defined (the cell before this check failed: "
                                 "NameError: name 'discounted_sum' is not defined)"),
    ("wrong_lesson", "00.1", "named for lesson 00 but holds lesson 01's exercises"),
    ("invalid_json", "00.1", "not a notebook"),
    ("patched_from_scratch", "00.1", "Exercise 00.1: tampered: demo_checks.check_discounted_sum was replaced"),
    ("patched_from_scratch", "00.2", "demo_checks.check_clip was replaced"),
    ("patched_in_exercise", "00.1", "Exercise 00.1: tampered: demo_checks.check_discounted_sum was replaced"),
    ("rebinds_checks", "00.1", "Hint: you did not discount"),
    ("lines_above_marker", "00.2", "AssertionError: Exercise 00.2: clip(-3.0, -1.0, 1.0) = -3.0, expected -1.0"),
    ("patched_stdout", "00.1", "Exercise 00.1: tampered: sys.stdout is a Rewrite, not the kernel's output stream"),
    ("kernel_never_starts", "00.2", "the check never ran: the kernel did not start in the submission's folder (3 "
                                    "tries; Kernel died before replying to kernel_info). A file there named like a "
                                    "module Python or Jupyter loads at start (such as random.py or "
                                    "ipykernel_launcher.py) can stop it: rename it and grade again"),
])
def test_reasons_say_what_went_wrong(graded_class, student, exercise, reason):
    _, rows, _ = graded_class
    row = next(r for r in rows if r["student"] == student and r["exercise"] == exercise)
    assert reason in row["reason"]


def test_summary_table_and_json_report(graded_class):
    result, _, report = graded_class
    assert "student" in result.stdout and "good" in result.stdout and " 4/4 " in result.stdout
    assert f"{len(EXPECTED)} notebook(s) in the report" in result.stdout
    data = json.loads(report.with_suffix(".json").read_text())
    assert len(data["submissions"]) == len(EXPECTED)
    assert not list(report.parent.rglob(".course-grade-*"))  # temporary notebooks cleaned up


SUBSET = ["good", "partial", "wrong", "invalid_json", "deleted_check"]


@pytest.fixture(scope="module")
def small_class(course, tmp_path_factory):
    return write_class(tmp_path_factory.mktemp("small") / "submissions", course, SUBSET)


def grade_to(path, subs, course, **kw):
    report = Report(path)
    if kw.pop("resume", False):
        report.load()
    grade_all(subs, options(course), report, log=lambda *a: None, **kw)
    return report


def test_workers_resume_and_shards_give_the_serial_report(course, small_class, tmp_path, monkeypatch):
    """The class is graded for real once; the other three ways replay those rows (each after a random
    pause, so two workers finish out of order) to test the report's bookkeeping, not the grading again
    (graded_class grades with two workers for real)."""
    subs = collect_submissions([small_class])
    assert [s.student for s in subs] == sorted(SUBSET)
    real, graded = grade_module.grade_submission, {}

    def record(sub, opts):
        graded[sub.key] = real(sub, opts)
        return graded[sub.key]

    def replay(sub, _opts):
        time.sleep(random.uniform(0, 0.2))
        return graded[sub.key]

    monkeypatch.setattr(grade_module, "grade_submission", record)
    serial = grade_to(tmp_path / "serial.csv", subs, course)
    assert sorted(graded) == sorted(s.key for s in subs)
    monkeypatch.setattr(grade_module, "grade_submission", replay)

    parallel = grade_to(tmp_path / "parallel.csv", subs, course, workers=2)
    assert parallel.csv_path.read_bytes() == serial.csv_path.read_bytes()

    # an interrupted run: only two were graded; --resume grades just the rest
    grade_to(tmp_path / "resumed.csv", subs[:2], course)
    logged = []
    resumed = Report(tmp_path / "resumed.csv")
    resumed.load()
    grade_all(subs, options(course), resumed, log=logged.append)
    assert logged[0] == f"resuming: 2 submission(s) already graded in {tmp_path / 'resumed.csv'}"
    assert sum(line.startswith("graded ") for line in logged) == 3
    assert resumed.csv_path.read_bytes() == serial.csv_path.read_bytes()

    parts = [grade_to(tmp_path / f"shard{i}.csv", shard(subs, i, 2), course, workers=2) for i in range(2)]
    assert sorted(len(p.submissions) for p in parts) == [2, 3]
    merged = merge([p.json_path for p in parts], Report(tmp_path / "merged.csv"))
    assert merged.csv_path.read_bytes() == serial.csv_path.read_bytes()


def test_shard_index_is_checked():
    with pytest.raises(ValueError, match="the index must be 0 to 1"):
        shard([], 2, 2)


def test_course_check_prints_the_score_and_hints(course, small_class, course_cmd):
    result = subprocess.run([course_cmd, "check", str(small_class / "wrong" / "00_demo.ipynb"),
                             "--reference", str(course / "grading")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "-- 00.1   0/2  error"
    assert "Hint: you did not discount" in lines[1]
    assert lines[2] == "ok 00.2   1/1  passed"
    assert lines[-1] == "score: 2/4 (what the grader will give this file)"


def test_grade_command_refuses_bad_arguments(course_cmd, tmp_path):
    cases = [
        ([], "give at least one notebook"),
        ([str(tmp_path), "--resume"], "--resume needs --report"),
        ([str(tmp_path), "--shard", "x"], "--shard I/N"),
        ([str(tmp_path), "--reference", str(tmp_path / "none")], "run `course build` first"),
    ]
    for args, message in cases:
        result = subprocess.run([course_cmd, "grade", *args], capture_output=True, text=True)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)


def test_the_report_comes_with_feedback_a_class_summary_and_a_gradebook(graded_class):
    result, rows, report = graded_class
    feedback = report.parent / "grades-feedback"
    wrong = (feedback / "wrong.md").read_text()
    assert "# Feedback for wrong" in wrong and "Total: **2/4** points." in wrong
    assert "| 00.1 | 0/2 | error |" in wrong and "you did not discount" in wrong
    assert len(list(feedback.glob("*.md"))) == len(EXPECTED)
    summary = (report.parent / "grades-summary.md").read_text()
    passed_00_3 = sum(1 for r in rows if r["exercise"] == "00.3" and r["status"] == "passed")
    assert f"| 00.3 | {len(EXPECTED)} | {passed_00_3}/{len(EXPECTED)} (" in summary
    assert "| 00.1 |" in result.stdout and "feedback per student in" in result.stdout
    book = list(csv.DictReader((report.parent / "grades-gradebook.csv").open()))
    assert list(book[0]) == ["student", "00.1", "00.2", "00.3", "total"]
    good = next(line for line in book if line["student"] == "good")
    assert (good["00.1"], good["total"]) == ("2", "4")
    alike = (report.parent / "grades-similarity.md").read_text()   # beside them, the class's similarity file
    assert alike.startswith("# Similarity") and "- good: 00.1, 00.2" in alike and "similarity (" in result.stdout


def test_only_and_failed_grade_again_into_the_report(course, small_class, course_cmd, tmp_path):
    report = tmp_path / "grades.csv"
    base = [course_cmd, "grade", str(small_class), "--report", str(report), "--reference", str(course / "grading")]
    subprocess.run(base, capture_output=True, text=True, timeout=600, check=True)
    before = report.read_text()
    again = subprocess.run(base + ["--only", "wrong"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "grading again: 1 submission(s)" in again.stdout
    assert report.read_text() == before  # the same rows, the same order
    failed = subprocess.run(base + ["--failed"], capture_output=True, text=True, timeout=600)
    assert "grading again: 3 submission(s)" in failed.stdout  # partial, wrong and the unreadable one
    assert report.read_text() == before
    refused = subprocess.run([course_cmd, "grade", str(small_class), "--only", "wrong"], capture_output=True, text=True)
    assert refused.returncode == 2 and "give it with --report" in refused.stderr
