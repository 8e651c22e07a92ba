"""What an instructor hands back: feedback, class summary and gradebook, from report rows."""
import csv

from course_utils.instructor.handback import class_summary, feedback_markdown, hand_back, split_hint


def row(student, exercise, points, top, status, reason="passed", notebook="ana/04_deep_q_network.ipynb"):
    return {"student": student, "lesson": "03", "exercise": exercise, "points": points, "max_points": top,
            "status": status, "reason": reason, "notebook": notebook}


ROWS = [
    row("ana", "04.1", 1, 1, "passed"),
    row("ana", "04.2", 0, 2, "error", "AssertionError: Exercise 04.2: the target of a terminated step is 1.5, "
        "expected 1.0 Hint: multiply by (1 - terminated)"),
    row("bo|b", "04.1", 0, 1, "not attempted", "the exercise cell still raises NotImplementedError"),
    row("bo|b", "04.2", 0, 2, "error", "AssertionError: Exercise 04.2: the target of a terminated step is 2.5, "
        "expected 2.0 Hint: multiply by (1 - terminated)"),
]


def test_a_reason_splits_into_what_happened_and_the_hint():
    assert split_hint("AssertionError: x wrong Hint: do y") == ("AssertionError: x wrong", "do y")
    assert split_hint("the check never ran") == ("the check never ran", "")


def test_feedback_lists_each_exercise_with_its_hint():
    text = feedback_markdown("ana", ROWS[:2])
    assert "Total: **1/3** points." in text and "## 04_deep_q_network.ipynb: 1/3" in text
    assert "| 04.2 | 0/2 | error | AssertionError: Exercise 04.2: the target of a terminated step is 1.5, expected " \
           "1.0 | multiply by (1 - terminated) |" in text


def test_the_summary_counts_alike_failures_together():
    text = class_summary(ROWS)
    assert "| 04.1 | 2 | 1/2 (50%) | 0.5/1 | 1× not attempted: the exercise cell still raises NotImplementedError |" in text
    assert "| 04.2 | 2 | 0/2 (0%) | 0.0/2 | 2× error: AssertionError: Exercise N: the target of a terminated step " \
           "is N, expected N |" in text


def test_hand_back_writes_three_things_beside_the_report(tmp_path):
    paths = hand_back(ROWS, tmp_path / "grades.csv")
    assert sorted(p.name for p in paths["feedback"].iterdir()) == ["ana.md", "bo_b.md"]
    assert paths["summary"].read_text().startswith("# Class summary")
    book = list(csv.DictReader(paths["gradebook"].open()))
    assert book == [{"student": "ana", "04.1": "1", "04.2": "0", "total": "1"},
                    {"student": "bo|b", "04.1": "0", "04.2": "0", "total": "0"}]
