"""Every lesson number in the course's text names the lesson that really has that number.

The course was renumbered once (a lesson on MDPs became lesson 02, the debugging lesson moved
after PPO); a sentence that still says "lesson 03's stop test" of the DQN lesson would send a
student to the wrong notebook. So, in the notebooks, the README, the site's pages, the
benchmarks' notes and the package's docstrings:

- a lesson's title says its file's number, and no lesson points forward to one it has not reached;
- "exercise NN.k" and "check NN.k" name a marker that lesson NN has;
- "lesson NN's `name`" names something lesson NN's code has;
- "lesson NN's <words>" and "lesson NN (<words>)" do not name another lesson's topic.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {p.name[:2]: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}

# Words that belong to one lesson's topic (lower case, matched as word starts). A mention of lesson NN
# followed by another lesson's word and none of its own is a slip.
TOPICS = {
    "01": ("random search", "linear polic", "episode loop"),
    "02": ("dynamic programming", "value iteration", "policy iteration", "policy evaluation", "mdp", "frozenlake",
           "bellman"),
    "03": ("tabular", "q-table", "binning", "discreti", "epsilon-greedy", "epsilon_greedy"),
    "04": ("dqn", "deep q", "q-network", "replay", "train_dqn"),
    "05": ("target network", "target update", "polyak", "soft update", "hard update", "soft target", "hard target"),
    "06": ("double", "dueling", "overestimat"),
    "07": ("reinforce", "baseline", "returns-to-go", "returns to go", "policy-gradient loss"),
    "08": ("actor-critic", "rollout", "td advantage", "critic"),
    "09": ("ppo", "gae", "iqm", "clipped", "surrogate"),
    "10": ("probe", "debugging", "suspect", "diagnos"),
    "11": ("sac", "soft actor-critic", "continuous", "pendulum", "squashed", "temperature", "twin critic"),
}
# DQN words fit the DQN variants too; a critic is PPO's and SAC's as well; replay and target critics are SAC's too
SHARED = {"04": ("05", "06", "11"), "05": ("11",), "06": ("11",), "08": ("09", "11")}
FITS = {nn: {nn} | {topic for topic, also in SHARED.items() if nn in also} for nn in TOPICS}
MENTION = r"(?i)\blesson (\d\d)(?:'s|’s| \()((?:[ \t]*[\w`.-]+){1,3})"


def _notebook_text(path: Path) -> tuple[str, str]:
    """Return (all the cells' text, the code cells' text) of a notebook."""
    cells = nbformat.read(path, as_version=4).cells
    return ("\n".join("".join(c.source) for c in cells),
            "\n".join("".join(c.source) for c in cells if c.cell_type == "code"))


# the two texts whose subject is the old numbers, which they name on purpose
OLD_NUMBERS = {"site/instructors/renumbering.md", "course_utils/instructor/renumber.py"}
TEXTS = {f"notebooks/{p.name}": _notebook_text(p)[0] for p in NOTEBOOKS.values()}
for pattern in ("README.md", "site/**/*.md", "benchmarks/**/*.md", "course_utils/**/*.py", "CONTRIBUTING.md"):
    for path in sorted(ROOT.glob(pattern)):
        if str(path.relative_to(ROOT)) not in OLD_NUMBERS:
            TEXTS[str(path.relative_to(ROOT))] = path.read_text()
CODE = {nn: _notebook_text(p)[1] for nn, p in NOTEBOOKS.items()}
MARKERS = {nn: set(re.findall(r"^# (?:EXERCISE|CHECK) (\d\d\.\d+)", text, re.M)) for nn, text in CODE.items()}


def _mentions(text: str):
    """Yield (lesson number, the words after the mention) for each 'lesson NN' and each 'lessons NN, MM and KK'."""
    for found in re.finditer(r"(?i)\blessons?[ -](\d\d(?!\d)(?:(?:,\s*|\s+and\s+|\s+or\s+|\s*[-–]\s*)\d\d(?!\d))*)(.{0,80})",
                             text, re.S):
        numbers = re.findall(r"\d\d", found.group(1))
        for number in numbers:
            yield number, found.group(2) if number == numbers[-1] else ""


def test_every_lesson_title_says_its_files_number():
    for nn, path in NOTEBOOKS.items():
        title = "".join(nbformat.read(path, as_version=4).cells[0].source).splitlines()[0]
        assert title.startswith(f"# Lesson {nn} — "), f"{path.name}: title {title!r}"


@pytest.mark.parametrize("nn", sorted(NOTEBOOKS))
def test_no_lesson_points_forward(nn):
    text = TEXTS[f"notebooks/{NOTEBOOKS[nn].name}"]
    later = sorted({n for n, _ in _mentions(text) if n > nn}
                   | {m[:2] for m in re.findall(r"(?i)\b(?:exercise|check)s? (\d\d\.\d+)", text) if m[:2] > nn})
    assert not later, f"lesson {nn} names lesson(s) {', '.join(later)}, which it has not reached"


def test_every_numbered_lesson_exists():
    missing = [f"{where}: lesson {n}" for where, text in TEXTS.items() for n, _ in _mentions(text)
               if n not in NOTEBOOKS and n != "00"]
    assert not missing, "\n".join(missing)


def test_every_exercise_and_check_named_exists():
    wrong = []
    for where, text in TEXTS.items():
        for exercise in re.findall(r"(?i)\b(?:exercises?|checks?) (\d\d\.\d+)\b", text):
            if exercise[:2] in NOTEBOOKS and exercise not in MARKERS[exercise[:2]]:
                wrong.append(f"{where}: {exercise} (lesson {exercise[:2]} has {', '.join(sorted(MARKERS[exercise[:2]]))})")
    assert not wrong, "\n".join(wrong)


def test_a_lessons_name_in_backquotes_is_in_that_lessons_code():
    wrong = []
    for where, text in TEXTS.items():
        for nn, name in re.findall(r"(?i)\blesson (\d\d)'s `{1,2}(?:cu\.)?([A-Za-z_][\w.]*)", text):
            word = name.split(".")[-1].rstrip("(")
            if nn in CODE and not re.search(rf"\b{re.escape(word)}\b", CODE[nn]):
                wrong.append(f"{where}: lesson {nn}'s `{name}`, which lesson {nn}'s code never names")
    assert not wrong, "\n".join(wrong)


def _topics_in(words: str) -> set[str]:
    words = words.lower()
    return {nn for nn, keys in TOPICS.items() if any(re.search(rf"(?<![\w-]){re.escape(k)}", words) for k in keys)}


def test_a_lesson_named_with_a_topic_has_that_topic():
    wrong = []
    for where, text in TEXTS.items():
        for found in re.finditer(MENTION, text):
            nn, words = found.group(1), found.group(2)
            named = _topics_in(words)
            if named and not named & FITS.get(nn, {nn}):
                wrong.append(f"{where}: 'lesson {nn}{found.group(0)[len('lesson ') + 2:]}' names lesson "
                             f"{'/'.join(sorted(named))}'s topic")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("sentence, ok", [
    ("lesson 04's DQN", True), ("lesson 05's DQN with a target network", True), ("lesson 03's DQN loop", False),
    ("lesson 07's REINFORCE", True), ("lesson 08's REINFORCE", False), ("lesson 10 (debugging)", True),
    ("lesson 08 (probes)", False), ("lesson 02's value iteration", True), ("lesson 09's critic", True),
])
def test_the_topic_rule_tells_a_slip_from_a_right_reference(sentence, ok):
    found = re.search(MENTION, sentence)
    named = _topics_in(found.group(2))
    assert (not named or bool(named & FITS[found.group(1)])) is ok
