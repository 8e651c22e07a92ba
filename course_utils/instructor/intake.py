"""What ``course grade`` is given, as instructors receive it: which notebooks, whose, and of which lesson.

Three layouts are recognised, by the names the LMS gives files and folders (looked up in
the LMS's own code, not guessed):

- **Canvas** "Download Submissions": one flat folder (or its ``.zip``) of files named
  ``<name>_[late_]<user id>_<file id>_<original name>``, where ``<name>`` is the sortable
  name with everything but letters, digits and ``_`` removed, lower-cased (canvas-lms
  ``app/models/content_zipper.rb``: ``get_filename`` and ``add_upload_submission``).
  A resubmitted file keeps its name with ``-1``, ``-2`` before the extension.
- **Moodle** "Download all submissions": a folder per participant,
  ``<Full Name>_<participant id>_assignsubmission_file_/<original name>`` (or, with
  "Download submissions in folders" off, that prefix on each file name); the
  participant id is the one the assignment's grading worksheet calls "Participant N"
  (moodle ``mod/assign/locallib.php``: ``download_submissions``).
- **Folders**: ``<student>/NN_topic.ipynb``, the student being the folder's name.

The lesson of a notebook is read from its file name when that starts with a lesson
number (after Colab's "Copy of " and a browser's " (1)"), otherwise from its content:
the exercise and check markers, ``metadata.course.lesson`` and the ``lNN-`` cell ids.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .markers import MarkerIndex
from .record import Status

CANVAS_FILE = re.compile(r"^(?P<name>.+?)_(?:(?P<late>late)_)?(?P<user_id>\d+)_(?P<file_id>\d+)_(?P<original>.+)$",
                         re.IGNORECASE)
MOODLE_PREFIX = re.compile(r"^(?P<name>[^_]+)_(?P<participant>\d+)_assignsubmission_file_(?P<rest>.*)$")
COPY_OF = re.compile(r"^(copy of\s+)+", re.IGNORECASE)            # Colab's "File > Save a copy in Drive"
COPY_NUMBER = re.compile(r"(?:-(\d+)| \((\d+)\))(?=\.ipynb$)")   # Canvas's "-1", a browser's " (1)"
NAME_LESSON = re.compile(r"^(\d{2})_")
CELL_ID_LESSON = re.compile(r"^l(\d{2})-")
LAYOUT_NAMES = {"canvas": 'Canvas "Download Submissions"', "moodle": 'Moodle "Download all submissions"',
                "folder": "one folder per student", "file": "single notebooks"}


@dataclass(frozen=True)
class Identity:
    """Whose a notebook is, as its LMS names them: ``student`` is the id the gradebook imports by."""

    layout: str          # "canvas", "moodle", "folder" or "file"
    student: str         # Canvas user id, Moodle participant id, or the folder's name
    name: str = ""       # Canvas's name part, Moodle's full name
    original: str = ""   # the file name the student gave, without the LMS's prefix
    late: bool = False   # Canvas marked the submission late
    file_id: int = 0     # Canvas's attachment id: a later upload has a larger one


@dataclass
class Submission:
    """One notebook to grade, whose it is, and the older copies it was chosen over."""

    student: str
    path: Path
    name: str = ""
    layout: str = "file"
    passed_over: tuple[str, ...] = ()
    key: str = field(init=False)

    def __post_init__(self):
        self.key = str(self.path)


@dataclass(frozen=True)
class Lesson:
    """Which lesson a notebook is: ``lesson`` (None if unknown), and a status and reason when it is a problem."""

    lesson: str | None
    status: Status | None = None   # None, Status.WRONG_LESSON or Status.UNKNOWN_LESSON
    reason: str = ""


# identity ------------------------------------------------------------------------------------

def moodle_identity(path: Path, root: Path | None) -> Identity | None:
    """Return the Moodle identity in a folder above ``path`` (up to ``root``) or in its name, or None."""
    for part in [*_parts_below(path.parent, root), path.name]:
        m = MOODLE_PREFIX.match(part)
        if m:
            return Identity("moodle", m["participant"], m["name"].strip(), m["rest"] or path.name)
    return None


def _parts_below(folder: Path, root: Path | None) -> list[str]:
    """Return the folder names from ``root`` (exclusive) down to ``folder``; just ``folder``'s name without a root."""
    if root is None:
        return [folder.name]
    try:
        return list(folder.relative_to(root).parts)
    except ValueError:
        return [folder.name]


def canvas_identity(path: Path) -> Identity | None:
    """Return the Canvas identity in a ``<name>_[late_]<user id>_<file id>_<original>`` file name, or None."""
    m = CANVAS_FILE.match(path.name)
    if not m or not m["original"].lower().endswith(".ipynb"):
        return None
    return Identity("canvas", m["user_id"], m["name"], m["original"], bool(m["late"]), int(m["file_id"]))


def identity_of(path: Path, root: Path | None = None) -> Identity:
    """Return whose ``path`` is: Moodle's participant, Canvas's user (flat in ``root`` only), else its folder."""
    found = moodle_identity(path, root)
    if found is None and (root is None or path.parent == root):
        found = canvas_identity(path)
    if found is not None:
        return found
    return Identity("folder" if root is not None else "file", path.resolve().parent.name, "", path.name)


# reading and the lesson ----------------------------------------------------------------------

def read_notebook(path: Path):
    """Return the notebook at ``path``; raise ``ValueError`` saying whether it is not JSON or JSON but no notebook."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the file ({type(err).__name__}: {err})") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ValueError(f"not a notebook: the file is not JSON ({type(err).__name__}: {str(err)[:160]})") from None
    problem = _not_a_notebook(data)
    if problem:
        raise ValueError(f"not a notebook: the file is JSON, but {problem}")
    try:
        return nbformat.reads(text.lstrip("\ufeff"), as_version=4)
    except Exception as err:  # nbformat raises several types for a damaged notebook
        raise ValueError(f"not a notebook: the file is JSON, but nbformat cannot read it "
                         f"({type(err).__name__}: {str(err)[:160]})") from None


def _not_a_notebook(data) -> str:
    """Return what keeps parsed JSON from being a notebook, or "" if it looks like one."""
    if not isinstance(data, dict):
        return f"a {type(data).__name__}, not an object with notebook cells"
    if "nbformat" not in data:
        return "has no 'nbformat' key (is it a notebook at all?)"
    cells = data.get("cells", [c for ws in data.get("worksheets", []) for c in ws.get("cells", [])])
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return "its 'cells' are not a list of cells"
    return ""


def name_lesson(original: str) -> str | None:
    """Return the lesson number a file name starts with, after Colab's "Copy of " prefixes."""
    m = NAME_LESSON.match(COPY_OF.sub("", original.strip()))
    return m[1] if m else None


def content_lessons(nb, index: MarkerIndex | None = None) -> dict[str, set[str]]:
    """Return the lessons a notebook's content names: ``{"markers"|"metadata"|"cell ids": {lesson, ...}}``.

    ``index`` is the notebook's marker index, when the caller has it already.
    """
    index = index or MarkerIndex.of(nb.cells)
    found = {"markers": {m.lesson for m in index.markers if m is not None},
             "metadata": set(), "cell ids": set()}
    course = nb.get("metadata", {}).get("course")
    if isinstance(course, dict) and re.fullmatch(r"\d{2}", str(course.get("lesson", ""))):
        found["metadata"].add(str(course["lesson"]))
    found["cell ids"] = {m[1] for c in nb.cells if isinstance(c.get("id"), str) and (m := CELL_ID_LESSON.match(c["id"]))}
    return {k: v for k, v in found.items() if v}


def identify_lesson(original: str, nb, index: MarkerIndex | None = None) -> Lesson:
    """Return the lesson of a notebook: by its file name if that names one, else by its content (see module doc)."""
    by_name = name_lesson(original)
    content = content_lessons(nb, index) if nb is not None else {}
    evidence = next(iter(content.items()), None)  # markers first: they are what the grader keys on
    if by_name and evidence and by_name not in evidence[1]:
        return Lesson(by_name, Status.WRONG_LESSON, f"the file is named for lesson {by_name} but holds lesson "
                      f"{', '.join(sorted(evidence[1]))}'s exercises (by its {evidence[0]})")
    if by_name:
        return Lesson(by_name)
    if evidence is None:
        return Lesson(None, Status.UNKNOWN_LESSON, "cannot tell the lesson: the file name does not start with a lesson "
                      "number (e.g. 03_...) and the notebook has no exercise markers, course metadata or lesson cell ids")
    if len(evidence[1]) > 1:
        return Lesson(None, Status.UNKNOWN_LESSON, f"cannot tell the lesson: the file name has no lesson number and its "
                      f"{evidence[0]} name lessons {', '.join(sorted(evidence[1]))}")
    return Lesson(next(iter(evidence[1])))


def lesson_of_file(path: Path, original: str) -> str | None:
    """Return the lesson of the notebook at ``path`` for grouping its copies, or None if unknown."""
    try:
        nb = read_notebook(path)
    except ValueError:
        nb = None
    return identify_lesson(original, nb).lesson


# choosing among copies ---------------------------------------------------------------------

def copy_number(original: str) -> int:
    """Return the copy number a name carries (Canvas's ``-2``, a browser's `` (2)``), 0 for none."""
    m = COPY_NUMBER.search(original)
    return int(m[1] or m[2]) if m else 0


def recency(path: Path, who: Identity) -> tuple:
    """Return a sort key that is larger for a later submission: Canvas's file id, the copy number, the time."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return who.file_id, copy_number(who.original), mtime, path.name


def choose_latest(found: list[tuple[Path, Identity]]) -> list[Submission]:
    """Return one submission per student and lesson, the latest; the others are named in ``passed_over``."""
    groups: dict[tuple, list[tuple[Path, Identity]]] = {}
    for path, who in found:
        lesson = lesson_of_file(path, who.original)
        group = (who.layout, who.student, lesson) if lesson else (who.layout, who.student, str(path))
        groups.setdefault(group, []).append((path, who))
    chosen = []
    for copies in groups.values():
        copies.sort(key=lambda pw: recency(*pw), reverse=True)
        (path, who), older = copies[0], copies[1:]
        chosen.append(Submission(who.student, path, who.name, who.layout, tuple(p.name for p, _ in older)))
    return chosen


# collecting --------------------------------------------------------------------------------

def notebooks_in(folder: Path) -> list[Path]:
    """Return the notebooks under ``folder``, leaving out checkpoints, the grader's own copies and macOS's ``__MACOSX``."""
    return sorted(f for f in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in f.parts
                  and "__MACOSX" not in f.parts and not f.name.startswith((".course-grade-", "._")))


def unpack(archive: Path) -> Path:
    """Unpack an LMS's ``.zip`` into a folder beside it, named after it, and return that folder.

    Unpacking again into the same folder gives the same paths, so ``--resume`` and
    ``--only`` find the same submissions. A member that would land outside the folder
    is refused.
    """
    target = archive.with_suffix("")
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            dest = (target / member.filename).resolve()
            if target.resolve() not in dest.parents and dest != target.resolve():
                raise ValueError(f"{archive}: refusing the member {member.filename!r}, which would land outside {target}")
        zf.extractall(target)
    return target


def collect(paths: list[str | Path]) -> list[Submission]:
    """Return the latest notebook per student and lesson under ``paths`` (notebooks, folders or LMS zips), sorted."""
    found: list[tuple[Path, Identity]] = []
    for p in map(Path, paths):
        if p.suffix.lower() == ".zip" and p.is_file():
            p = unpack(p)
        if p.is_dir():
            root = p.resolve()
            found += [(f.resolve(), identity_of(f.resolve(), root)) for f in notebooks_in(p)]
        else:
            found.append((p, identity_of(p.resolve())))
    unique = {str(path): (path, who) for path, who in found}
    subs = choose_latest(list(unique.values()))
    return sorted(subs, key=lambda s: (s.student, s.path.name, s.key))


def layout_summary(subs: list[Submission]) -> list[str]:
    """Return lines saying which layouts were taken, and for each choice among copies, what was graded and passed over."""
    lines = []
    for layout in sorted({s.layout for s in subs}):
        mine = [s for s in subs if s.layout == layout]
        lines.append(f"layout: {LAYOUT_NAMES[layout]}: {len({s.student for s in mine})} student(s), "
                     f"{len(mine)} notebook(s)")
    for s in subs:
        if s.passed_over:
            who = f"{s.student} ({s.name})" if s.name else s.student
            lines.append(f"  {who}: graded the latest, {s.path.name}; passed over {', '.join(s.passed_over)}")
    return lines
