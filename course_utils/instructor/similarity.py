"""The class similarity report: which students handed in alike exercise code, for the instructor to review.

``course grade --report grades.csv`` writes ``grades-similarity.csv`` and ``grades-similarity.md``
beside the report. Per lesson it compares every two students' exercise cells (the cells under
``# EXERCISE NN.k``, the code a student writes) and lists the pairs whose code is alike, highest
score first, with the exercises concerned; then the submissions whose exercise code is the
published solution's. It changes no points.

How code is compared, as MOSS does (Schleimer, Wilkerson and Aiken, "Winnowing: local
algorithms for document fingerprinting", SIGMOD 2003):

1. ``normalised``: the cell's Python tokens, with comments, docstrings, blank lines and
   spacing dropped, strings made ``S`` and every name the student chose made ``_``
   (keywords, builtins and attribute names after a dot stay: ``np.sum`` is ``_.sum``),
   so renaming variables and reformatting change nothing;
2. ``fingerprints``: a hash of every run of ``K`` tokens, and from every ``WINDOW``
   consecutive hashes the smallest (robust winnowing): two cells that share a run of
   ``K + WINDOW - 1`` tokens share a fingerprint, whatever surrounds it;
3. the fingerprints of the stub the student was given and of the published solution are
   taken out: code the course wrote is not similarity between students;
4. a pair's score is the fingerprints they share over the smaller of their two sets, over
   the lesson's exercises; a pair is listed from ``LISTED`` up, when both wrote at least
   ``MIN_FINGERPRINTS`` fingerprints of their own.

The hashes are ``blake2b``, not Python's ``hash``, so the file is the same on every run.
"""
from __future__ import annotations

import builtins
import csv
import hashlib
import io
import itertools
import keyword
import tokenize
from dataclasses import dataclass
from pathlib import Path

from . import intake, record as records
from .markers import MarkerIndex
from .verdict import exercise_sources

K = 8                  # tokens per hashed run
WINDOW = 4             # hashes per winnowing window: a shared run of K + WINDOW - 1 = 11 tokens is always seen
LISTED = 0.5           # the score from which a pair is listed
MIN_FINGERPRINTS = 4   # fewer fingerprints of one's own than this: too little code to compare
CSV_FIELDS = ["lesson", "kind", "student", "other", "score", "shared", "exercises"]
SOLUTION = "(published solution)"

_KEPT_NAMES = set(dir(builtins)) | {"self", "cls"}
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_STATEMENT_END = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}


def normalised(source: str) -> list[str]:
    """Return the tokens of a cell with names, strings, comments, docstrings and layout made uniform."""
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.splitlines()]
    raw = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            raw.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass   # what was read so far counts; a cell that is not Python is compared as far as it goes
    out: list[str] = []
    dropped = False
    for i, tok in enumerate(raw):
        kind, text = tok.type, tok.string
        if kind in _SKIPPED or kind == getattr(tokenize, "FSTRING_MIDDLE", None) \
                or kind == getattr(tokenize, "FSTRING_END", None) or (dropped and kind == tokenize.NEWLINE):
            continue
        dropped = kind == tokenize.STRING and _alone(raw, i)
        if dropped:
            continue   # a docstring, or a string standing as a statement: a comment in effect, its line end too
        if kind in (tokenize.STRING, getattr(tokenize, "FSTRING_START", None)):
            out.append("S")
        elif kind == tokenize.NAME and not (keyword.iskeyword(text) or text in _KEPT_NAMES
                                            or (out and out[-1] == ".")):
            out.append("_")
        elif kind == tokenize.NEWLINE:
            out.append(";")
        elif kind == tokenize.INDENT:
            out.append("{")
        elif kind == tokenize.DEDENT:
            out.append("}")
        else:
            out.append(text)
    return out


def _alone(raw: list, i: int) -> bool:
    """True when the string token ``raw[i]`` is a whole statement (a docstring)."""
    before = next((t for t in reversed(raw[:i]) if t.type not in _SKIPPED), None)
    after = next((t for t in raw[i + 1:] if t.type not in _SKIPPED), None)
    return (before is None or before.type in _STATEMENT_END) and (after is None or after.type in _STATEMENT_END)


def _hash(tokens: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(tokens).encode(), digest_size=8).digest(), "big")


def fingerprints(tokens: list[str]) -> set[int]:
    """Return the winnowed fingerprints of a token list (robust winnowing: the rightmost smallest per window)."""
    hashes = [_hash(tuple(tokens[i:i + K])) for i in range(len(tokens) - K + 1)]
    if len(hashes) <= WINDOW:   # one window or less: its smallest hash, if any
        return {min(hashes)} if hashes else set()
    chosen, last = set(), -1
    for start in range(len(hashes) - WINDOW + 1):
        window = hashes[start:start + WINDOW]
        low = min(window)
        at = start + max(j for j, h in enumerate(window) if h == low)
        if at != last:
            chosen.add(hashes[at])
            last = at
    return chosen


@dataclass
class Work:
    """One student's exercise cells of one lesson: normalised tokens and own fingerprints per exercise."""

    student: str
    tokens: dict[str, list[str]]
    own: dict[str, set[int]]

    @property
    def size(self) -> int:
        return sum(len(f) for f in self.own.values())


@dataclass
class Finding:
    """A line of the similarity file."""

    lesson: str
    kind: str         # "pair" or "solution"
    student: str
    other: str
    score: float
    shared: int
    exercises: list[str]

    def row(self) -> dict:
        return {"lesson": self.lesson, "kind": self.kind, "student": self.student, "other": self.other,
                "score": f"{self.score:.2f}", "shared": self.shared, "exercises": " ".join(self.exercises)}


def _cells(nb) -> dict[str, str]:
    return exercise_sources(nb, MarkerIndex.of(nb.cells))


def _course_code(reference: Path, lesson: str) -> tuple[dict[str, set[int]], dict[str, list[str]], list[str]]:
    """Return per exercise the fingerprints of the course's own code (stub and solution), the solution's tokens,
    and the exercises students write."""
    record = records.load(reference, lesson)
    if record is None:
        return {}, {}, []
    solution_path = Path(reference).parent / "solutions" / record.notebook
    solution = _cells(intake.read_notebook(solution_path)) if solution_path.is_file() else {}
    course, solution_tokens = {}, {}
    for exercise, stub in record.stubs.items():
        course[exercise] = fingerprints(normalised(stub))
        if exercise in solution:
            solution_tokens[exercise] = normalised(solution[exercise])
            course[exercise] |= fingerprints(solution_tokens[exercise])
    return course, solution_tokens, sorted(record.stubs)


def compare_lesson(lesson: str, notebooks: dict[str, Path], reference: Path) -> list[Finding]:
    """Return the findings of one lesson: alike pairs (highest score first), then copies of the published solution."""
    course, solution_tokens, exercises = _course_code(reference, lesson)
    works = []
    for student, path in sorted(notebooks.items()):
        try:
            cells = _cells(intake.read_notebook(path))
        except (ValueError, OSError):
            continue   # unreadable: its report rows say so
        tokens = {ex: normalised(cells[ex]) for ex in exercises if ex in cells}
        own = {ex: fingerprints(t) - course.get(ex, set()) for ex, t in tokens.items()}
        works.append(Work(student, tokens, own))
    pairs = []
    for a, b in itertools.combinations(works, 2):
        if min(a.size, b.size) < MIN_FINGERPRINTS:
            continue
        shared = {ex: a.own[ex] & b.own[ex] for ex in exercises if ex in a.own and ex in b.own}
        total = sum(len(s) for s in shared.values())
        score = total / min(a.size, b.size)
        if score >= LISTED:
            concerned = [ex for ex, s in shared.items() if s and len(s) >= LISTED * min(len(a.own[ex]), len(b.own[ex]))]
            pairs.append(Finding(lesson, "pair", a.student, b.student, score, total, concerned))
    pairs.sort(key=lambda f: (-f.score, -f.shared, f.student, f.other))
    copies = []
    for work in works:
        same = [ex for ex, t in work.tokens.items() if ex in solution_tokens and t == solution_tokens[ex]]
        if same:
            copies.append(Finding(lesson, "solution", work.student, SOLUTION, len(same) / len(exercises), 0, same))
    return pairs + copies


def compare(rows: list[dict], reference: Path) -> list[Finding]:
    """Return the findings of every lesson in the report's ``rows`` (the graded notebooks they name)."""
    by_lesson: dict[str, dict[str, Path]] = {}
    for r in rows:
        if r["lesson"] != "?" and r["status"] not in ("wrong lesson", "unknown lesson", "unreadable notebook"):
            by_lesson.setdefault(r["lesson"], {})[r["student"]] = Path(r["notebook"])
    return [f for lesson in sorted(by_lesson) for f in compare_lesson(lesson, by_lesson[lesson], reference)]


def markdown(findings: list[Finding], rows: list[dict]) -> str:
    """Return the readable page of the findings."""
    lessons = sorted({r["lesson"] for r in rows if r["lesson"] != "?"})
    lines = ["# Similarity of the class's exercise code", "",
             "A list to review, not a verdict: no points were changed. Each student's exercise cells were compared "
             "with every other student's of the same lesson after normalising names, strings, comments, docstrings "
             "and layout, by winnowed fingerprints (MOSS's method); the stub's code and the published solution's "
             f"are not counted. A pair is listed from a score of {LISTED:.2f}: the share of the smaller submission's "
             "fingerprints that the other has too.", ""]
    for lesson in lessons:
        students = len({r["student"] for r in rows if r["lesson"] == lesson})
        pairs = [f for f in findings if f.lesson == lesson and f.kind == "pair"]
        copies = [f for f in findings if f.lesson == lesson and f.kind == "solution"]
        lines += [f"## Lesson {lesson}", "", f"{students} student(s), {students * (students - 1) // 2} pair(s) compared.", ""]
        if pairs:
            lines += ["| score | students | shared fingerprints | exercises |", "| --- | --- | --- | --- |"]
            lines += [f"| {f.score:.2f} | {f.student} and {f.other} | {f.shared} | {', '.join(f.exercises) or '-'} |"
                      for f in pairs]
        else:
            lines.append("No pair of students is alike.")
        lines.append("")
        if copies:
            lines += ["Exercise code equal to the published solution (after the same normalising):", ""]
            lines += [f"- {f.student}: {', '.join(f.exercises)}" for f in copies]
            lines.append("")
    return "\n".join(lines)


def write_similarity(rows: list[dict], report_csv: Path, reference: Path) -> dict[str, Path]:
    """Write ``<stem>-similarity.csv`` and ``.md`` beside the report; return their paths."""
    findings = compare(rows, Path(reference))
    stem = Path(report_csv).with_suffix("")
    table, page = stem.with_name(f"{stem.name}-similarity.csv"), stem.with_name(f"{stem.name}-similarity.md")
    with open(table, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(finding.row() for finding in findings)
    page.write_text(markdown(findings, rows) + "\n", encoding="utf-8")
    return {"csv": table, "page": page, "pairs": sum(f.kind == "pair" for f in findings)}
