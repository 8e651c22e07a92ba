"""What an instructor hands back after ``course grade``: feedback per student, a class
summary per exercise, and a gradebook CSV for a learning-management system.

All three are made from the report's rows (``Report.rows()``), so they can be made
again from ``grades.json`` at any time, and they are rewritten whenever the report is.
"""
from __future__ import annotations

import collections
import csv
import re
from pathlib import Path


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
    lines = [f"# Feedback for {student}", "", f"Total: **{got}/{top}** points.", ""]
    by_notebook: dict[str, list] = {}
    for r in rows:
        by_notebook.setdefault(Path(r["notebook"]).name, []).append(r)
    for notebook, rs in sorted(by_notebook.items()):
        g, t = _points(rs)
        lines += [f"## {notebook}: {g}/{t}", "", "| exercise | points | status | what happened | hint |",
                  "| --- | --- | --- | --- | --- |"]
        for r in rs:
            what, hint = split_hint(r["reason"]) if r["status"] != "passed" else ("", "")
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
        passed = sum(r["status"] == "passed" for r in rs)
        mean = sum(int(r["points"]) for r in rs) / len(rs)
        reasons = collections.Counter(f"{r['status']}: {_reason_kind(r['reason'])}" for r in rs
                                      if r["status"] != "passed")
        common = "; ".join(f"{n}× {text}".replace("|", "\\|") for text, n in reasons.most_common(3))
        lines.append(f"| {exercise} | {len(rs)} | {passed}/{len(rs)} ({100 * passed / len(rs):.0f}%) | "
                     f"{mean:.1f}/{rs[0]['max_points']} | {common} |")
    return "\n".join(lines)


def write_gradebook(rows: list[dict], path: Path) -> Path:
    """Write a gradebook CSV: one row per student, a column per exercise ("03.2") and the total.

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


def hand_back(rows: list[dict], report_csv: Path) -> dict[str, Path]:
    """Write the feedback folder, the class summary and the gradebook beside ``grades.csv``; return their paths."""
    stem = report_csv.with_suffix("")
    summary = stem.parent / f"{stem.name}-summary.md"
    summary.write_text("# Class summary\n\n" + class_summary(rows) + "\n", encoding="utf-8")
    folder = stem.parent / f"{stem.name}-feedback"
    write_feedback(rows, folder)
    return {"feedback": folder, "summary": summary,
            "gradebook": write_gradebook(rows, stem.parent / f"{stem.name}-gradebook.csv")}
