"""What an instructor hands back after ``course grade``: feedback per student, a class
summary per exercise, and a gradebook CSV for a learning-management system.

All three are made from the report's rows (``Report.rows()``), so they can be made
again from ``grades.json`` at any time, and they are rewritten whenever the report is.
"""
from __future__ import annotations

import collections
import csv
import datetime
import re
from pathlib import Path

from .record import Status

# Canvas's gradebook importer (canvas-lms lib/gradebook_importer.rb) reads a header row that
# starts "Student", "ID" and ends its student columns with "Section"; it finds the student by
# the "ID" column (the user id of the submission's file name), then by SIS ids, then by name.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Moodle's grading-worksheet upload (mod/assign/feedback/offline/importgradeslib.php) needs the
# columns "Identifier" ("Participant N"), "Grade" and "Last modified (grade)"; others are ignored.
MOODLE_COLUMNS = ["Identifier", "Full name", "Grade", "Maximum grade", "Last modified (grade)"]


def _points(rows: list[dict]) -> tuple[int, int]:
    return sum(int(r["points"]) for r in rows), sum(int(r["max_points"]) for r in rows)


def _safe(name: str) -> str:
    """Return a file name for a student's name: letters, digits, dot, dash and underscore only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"


def split_hint(reason: str) -> tuple[str, str]:
    """Split a reason into what happened and the hint the check gave (after "Hint:"), if any."""
    what, _, hint = reason.partition(" Hint: ") if " Hint: " in reason else reason.partition("\nHint: ")
    return what.strip(), hint.strip()


def feedback_markdown(student: str, rows: list[dict]) -> str:
    """Return one student's feedback: per notebook, each exercise's status, points, what happened and the hint."""
    got, top = _points(rows)
    name = rows[0].get("name") if rows else ""
    title = f"{name} ({student})" if name else student
    lines = [f"# Feedback for {title}", "", f"Total: **{got}/{top}** points.", ""]
    by_notebook: dict[str, list] = {}
    for r in rows:
        by_notebook.setdefault(Path(r["notebook"]).name, []).append(r)
    for notebook, rs in sorted(by_notebook.items()):
        g, t = _points(rs)
        lines += [f"## {notebook}: {g}/{t}", ""]
        if rs[0].get("passed_over"):
            lines += [f"Graded this file, your latest; not graded: {rs[0]['passed_over']}.", ""]
        lines += ["| exercise | points | status | what happened | hint |", "| --- | --- | --- | --- | --- |"]
        for r in rs:
            what, hint = split_hint(r["reason"]) if r["status"] != Status.PASSED else ("", "")
            cell = lambda text: text.replace("|", "\\|").replace("\n", " ")  # noqa: E731
            lines.append(f"| {r['exercise']} | {r['points']}/{r['max_points']} | {r['status']} | {cell(what)} | "
                         f"{cell(hint)} |")
        lines.append("")
    return "\n".join(lines)


def write_feedback(rows: list[dict], folder: Path) -> list[Path]:
    """Write ``<folder>/<student>.md`` for every student in ``rows``; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list] = {}
    for r in rows:
        by_student.setdefault(r["student"], []).append(r)
    written = []
    for student, rs in sorted(by_student.items()):
        path = folder / f"{_safe(student)}.md"
        path.write_text(feedback_markdown(student, rs) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _reason_kind(reason: str) -> str:
    """Return a reason without its numbers and quoted values, so that alike failures count together."""
    what, _ = split_hint(reason)
    what = re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", what)
    what = re.sub(r"-?\d+(\.\d+)?", "N", what)
    return what[:120]


def class_summary(rows: list[dict]) -> str:
    """Return a Markdown table per exercise: students, pass rate, mean points and the most common reasons."""
    by_exercise: dict[str, list] = collections.defaultdict(list)
    for r in rows:
        by_exercise[r["exercise"]].append(r)
    lines = ["| exercise | students | passed | mean points | most common reasons it did not pass |",
             "| --- | --- | --- | --- | --- |"]
    for exercise, rs in sorted(by_exercise.items()):
        passed = sum(r["status"] == Status.PASSED for r in rs)
        mean = sum(int(r["points"]) for r in rs) / len(rs)
        reasons = collections.Counter(f"{r['status']}: {_reason_kind(r['reason'])}" for r in rs
                                      if r["status"] != Status.PASSED)
        common = "; ".join(f"{n}× {text}".replace("|", "\\|") for text, n in reasons.most_common(3))
        lines.append(f"| {exercise} | {len(rs)} | {passed}/{len(rs)} ({100 * passed / len(rs):.0f}%) | "
                     f"{mean:.1f}/{rs[0]['max_points']} | {common} |")
    return "\n".join(lines)


def write_gradebook(rows: list[dict], path: Path) -> Path:
    """Write a gradebook CSV: one row per student, a column per exercise ("04.2") and the total.

    The ``student`` column holds the name of the student's submission folder: name the
    folders by the LMS's user name or e-mail address, and map that column to it on import.
    """
    exercises = sorted({r["exercise"] for r in rows if r["exercise"] != "-"})
    table: dict[str, dict] = {}
    for r in rows:
        line = table.setdefault(r["student"], {"student": r["student"]})
        if r["exercise"] != "-":
            line[r["exercise"]] = int(line.get(r["exercise"], 0)) + int(r["points"])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["student", *exercises, "total"])
        writer.writeheader()
        for student, line in sorted(table.items()):
            writer.writerow({**{e: 0 for e in exercises}, **line, "total": sum(line.get(e, 0) for e in exercises)})
    return path


def lesson_scores(rows: list[dict]) -> dict[str, dict[str, tuple[int, int]]]:
    """Return ``{student: {lesson: (points, max points)}}``; rows of an unknown lesson ("?") are left out."""
    scores: dict[str, dict[str, tuple[int, int]]] = collections.defaultdict(dict)
    for r in rows:
        if r["lesson"] == "?":
            continue
        got, top = scores[r["student"]].get(r["lesson"], (0, 0))
        scores[r["student"]][r["lesson"]] = (got + int(r["points"]), top + int(r["max_points"]))
    return scores


def canvas_title(lesson: str, titles: dict[str, str]) -> str:
    """Return the Canvas column of a lesson: the assignment as Canvas exports it ("Title (id)"), else "Lesson NN"."""
    return titles.get(lesson) or f"Lesson {lesson}"


def write_canvas_gradebook(rows: list[dict], path: Path, titles: dict[str, str]) -> Path:
    """Write a CSV for Canvas's *Grades → Import*: its student columns, then one column per lesson's points.

    ``ID`` is the Canvas user id from the submission's file name, which Canvas matches
    first; the SIS columns and the section stay empty. No total column: Canvas would
    take any column it does not know for a new assignment.
    """
    scores, names = lesson_scores(rows), {r["student"]: r.get("name", "") for r in rows}
    lessons = sorted({lesson for by in scores.values() for lesson in by})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CANVAS_COLUMNS + [canvas_title(lesson, titles) for lesson in lessons])
        for student in sorted(names, key=lambda s: (names[s], s)):
            writer.writerow([names[student], student, "", "", ""]
                            + [scores[student].get(lesson, ("", ""))[0] for lesson in lessons])
    return path


def write_moodle_worksheet(rows: list[dict], path: Path, lesson: str, when: datetime.datetime) -> Path:
    """Write a Moodle grading worksheet for one lesson: "Participant N", full name, points, time of grading.

    Moodle skips a grade changed in Moodle after ``when`` (unless told to ignore that)
    and a grade above the assignment's maximum grade.
    """
    scores, names = lesson_scores(rows), {r["student"]: r.get("name", "") for r in rows}
    stamp = when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MOODLE_COLUMNS)
        for student in sorted(scores, key=int):
            if lesson in scores[student]:
                got, top = scores[student][lesson]
                writer.writerow([f"Participant {student}", names[student], got, top, stamp])
    return path


def write_gradebooks(rows: list[dict], path: Path, titles: dict[str, str] | None = None,
                     when: datetime.datetime | None = None) -> list[Path]:
    """Write the gradebook(s) the students' layout imports back: Canvas's, Moodle's worksheet(s), else the generic one.

    Moodle takes one worksheet per assignment: with several lessons, ``<stem>-NN.csv``
    per lesson. Mixed layouts get the generic gradebook.
    """
    layouts = {r.get("layout") or "file" for r in rows}
    if layouts == {"canvas"}:
        return [write_canvas_gradebook(rows, path, titles or {})]
    if layouts == {"moodle"}:
        lessons = sorted({r["lesson"] for r in rows if r["lesson"] != "?"})
        when = when or datetime.datetime.now(datetime.timezone.utc)
        return [write_moodle_worksheet(rows, path if len(lessons) == 1 else
                                       path.with_name(f"{path.stem}-{lesson}{path.suffix}"), lesson, when)
                for lesson in lessons]
    return [write_gradebook(rows, path)]


def hand_back(rows: list[dict], report_csv: Path, titles: dict[str, str] | None = None) -> dict[str, Path]:
    """Write the feedback folder, the class summary and the gradebook beside ``grades.csv``; return their paths."""
    stem = report_csv.with_suffix("")
    summary = stem.parent / f"{stem.name}-summary.md"
    summary.write_text("# Class summary\n\n" + class_summary(rows) + "\n", encoding="utf-8")
    folder = stem.parent / f"{stem.name}-feedback"
    write_feedback(rows, folder)
    books = write_gradebooks(rows, stem.parent / f"{stem.name}-gradebook.csv", titles)
    return {"feedback": folder, "summary": summary, "gradebook": books[0] if books else None, "gradebooks": books}
