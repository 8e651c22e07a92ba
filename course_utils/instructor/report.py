"""The report of a grading run: rows, the CSV and JSON files, the on-screen table and the self-check printout.

The JSON beside the CSV keeps every submission's rows as it is graded, so a run can be
resumed (``--resume``), graded again in part (``regrade``: ``--only``, ``--failed``)
or joined from shards (``merge``). What goes back to students and the LMS is in ``handback``.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .intake import Submission
from .record import Status

CSV_FIELDS = ["student", "name", "layout", "lesson", "exercise", "points", "max_points", "status", "reason", "notebook",
              "passed_over"]


@dataclass
class Row:
    """One (student, lesson, exercise) line of the report."""

    student: str
    lesson: str
    exercise: str
    points: int
    max_points: int
    status: Status
    reason: str
    notebook: str
    name: str = ""          # the student's name as the LMS wrote it (Canvas, Moodle), else ""
    layout: str = "file"    # where the identity came from: "canvas", "moodle", "folder" or "file"
    passed_over: str = ""   # older copies of the same lesson by the same student, not graded ("; "-separated)


def make_row(submission: Submission, lesson: str, exercise: str, points: int, max_points: int, status: str,
             reason: str) -> Row:
    """Return a report row of ``submission``, carrying its identity and the copies it was chosen over."""
    return Row(submission.student, lesson, exercise, points, max_points, status, reason, submission.key,
               submission.name, submission.layout, "; ".join(submission.passed_over))


class Report:
    """Rows by submission, saved to CSV and JSON after every submission."""

    def __init__(self, csv_path: Path | None):
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = self.csv_path.with_suffix(".json") if self.csv_path else None
        self.submissions: dict[str, dict] = {}

    def load(self) -> None:
        """Read what an earlier run of the same report finished (for --resume)."""
        if self.json_path and self.json_path.exists():
            self.submissions.update(json.loads(self.json_path.read_text())["submissions"])

    def add(self, submission: Submission, rows: list[Row], seconds: float) -> None:
        self.submissions[submission.key] = {"student": submission.student, "seconds": round(seconds, 1),
                                            "rows": [asdict(r) for r in rows]}
        self.save()

    def rows(self) -> list[dict]:
        ordered = sorted(self.submissions.values(), key=lambda s: (s["student"], s["rows"][0]["notebook"]))
        return [r for s in ordered for r in s["rows"]]

    def save(self) -> None:
        if not self.csv_path:
            return
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.csv_path.with_name(self.csv_path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(self.rows())
        os.replace(tmp, self.csv_path)
        tmp = self.json_path.with_name(self.json_path.name + ".tmp")
        tmp.write_text(json.dumps({"submissions": self.submissions}, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, self.json_path)


def summary_table(rows: list[dict]) -> str:
    """Return a per-student table: score and each exercise's status."""
    exercises = sorted({r["exercise"] for r in rows})
    groups: dict[tuple, list] = {}
    for r in rows:
        who = f"{r['student']} ({r['name']})" if r.get("name") else r["student"]
        groups.setdefault((who, r["lesson"], r["notebook"]), []).append(r)
    width = max([7] + [len(k[0]) for k in groups])
    col = max([6] + [len(r["status"]) for r in rows])
    head = f"{'student':<{width}}  lesson  score  " + "  ".join(f"{e:<{col}}" for e in exercises)
    lines = [head, "-" * len(head)]
    for (student, lesson, _), rs in sorted(groups.items()):
        by_ex = {r["exercise"]: r["status"] for r in rs}
        got, top = sum(int(r["points"]) for r in rs), sum(int(r["max_points"]) for r in rs)
        cells = "  ".join(f"{by_ex.get(e, ''):<{col}}" for e in exercises)
        lines.append(f"{student:<{width}}  {lesson:<6}  {got:>2}/{top:<2}  {cells}".rstrip())
    return "\n".join(lines)


def regrade_keys(report: Report, only: list[str] | None = None, failed: bool = False) -> set[str]:
    """Return the keys of the report's submissions to grade again: those of the ``only`` students, or
    (``failed``) those with an exercise that did not pass."""
    keys = set()
    for key, entry in report.submissions.items():
        if only and entry["student"] in only:
            keys.add(key)
        if failed and any(r["status"] != Status.PASSED for r in entry["rows"]):
            keys.add(key)
    return keys


def regrade(report: Report, subs: list[Submission], only: list[str] | None, failed: bool) -> list[Submission]:
    """Return the submissions to grade again (``--only`` students', or ``--failed`` ones), their old rows dropped."""
    again = regrade_keys(report, only=only, failed=failed)
    for key in again:
        report.submissions.pop(key, None)
    return [s for s in subs if s.key in again or (only and s.student in only)]


def merge(json_paths: list[Path], report: Report) -> Report:
    """Join the JSON reports of several shards into ``report``."""
    for path in json_paths:
        data = json.loads(Path(path).read_text())
        report.submissions.update(data["submissions"])
    report.save()
    return report


def check_text(rows: list[Row]) -> str:
    """Return the self-check printout of one notebook: each exercise with its hint."""
    lines = []
    for r in rows:
        mark = "ok " if r.status == Status.PASSED else "-- "
        lines.append(f"{mark}{r.exercise:<6} {r.points}/{r.max_points}  {r.status}")
        if r.status != Status.PASSED:
            lines.append(f"        {r.reason}")
    got, top = sum(r.points for r in rows), sum(r.max_points for r in rows)
    lines.append(f"score: {got}/{top} (what the grader will give this file)")
    return "\n".join(lines)
