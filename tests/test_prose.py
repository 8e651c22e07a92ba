"""What a lesson's prose says about a run must be what the run printed, or what the bench measured.

Each row of ``CLAIMS`` ties one figure (or one qualitative claim) in a lesson's markdown to
where the truth is: a key path in ``benchmarks/results/bench.json`` (``Bench``) or a line
printed by the executed solution (``Printed``). A row fails when the prose no longer says
it (so an edit cannot silently drop the tie), when the truth cannot be found, or when the
two disagree. To add a lesson's figures, add rows; nothing else changes.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "results" / "bench.json"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class Bench:
    """A figure of bench.json: the summary row of ``algorithm``, then keys, e.g. ("steps", "median")."""
    algorithm: str
    keys: tuple

    def value(self, lesson: str) -> float:
        summary = {row["algorithm"]: row for row in json.loads(BENCH.read_text())["summary"]}
        assert self.algorithm in summary, f"bench.json has no row {self.algorithm!r}"
        value = summary[self.algorithm]
        for key in self.keys:
            value = value[key]
        return float(value)


@dataclass(frozen=True)
class Printed:
    """A number printed by the solution of the lesson: the first group of ``pattern`` in its text outputs."""
    pattern: str

    def value(self, lesson: str) -> float:
        found = re.search(self.pattern, solution_output(lesson))
        assert found, f"the solution of lesson {lesson} printed nothing matching {self.pattern!r}"
        return _number(found.group(1))


@dataclass(frozen=True)
class PrintedList:
    """Numbers printed by the solution: group 1 of ``pattern``, a list of numbers, reduced by ``reduce``."""
    pattern: str
    reduce: Callable

    def value(self, lesson: str) -> float:
        found = re.search(self.pattern, solution_output(lesson))
        assert found, f"the solution of lesson {lesson} printed nothing matching {self.pattern!r}"
        return float(self.reduce([_number(x) for x in re.findall(r"-?[\d.]+", found.group(1))]))


@dataclass(frozen=True)
class PrintedCount:
    """How many times the solution printed something matching ``pattern``."""
    pattern: str

    def value(self, lesson: str) -> float:
        return float(len(re.findall(self.pattern, solution_output(lesson))))


def same(rounding: float = 0.0) -> Callable[[float, float], bool]:
    """The prose's figure equals the truth, up to the rounding the prose uses (``about 4,300`` for 4,279.5)."""
    return lambda said, truth: abs(said - truth) <= rounding / 2 + 1e-9


@dataclass(frozen=True)
class Claim:
    """``prose`` is a regex on the lesson's markdown; its first group (if any) is the figure said.

    ``truth`` gives the true value; ``holds(said, truth)`` decides (for a claim without a
    figure, ``said`` is None and ``holds`` judges the truth alone).
    """
    lesson: str
    prose: str
    truth: object
    holds: Callable = same()


def _notebook(folder: str, lesson: str) -> dict:
    paths = sorted((ROOT / folder).glob(f"{lesson}_*.ipynb"))
    assert paths, f"no {folder}/{lesson}_*.ipynb"
    return json.loads(paths[0].read_text())


def markdown(lesson: str) -> str:
    """All markdown of the lesson's source, joined, with line breaks as spaces (a figure may wrap)."""
    cells = _notebook("notebooks", lesson)["cells"]
    return " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


def solution_output(lesson: str) -> str:
    """Everything the executed solution printed (stream and text/plain outputs)."""
    out = []
    for cell in _notebook("solutions", lesson)["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append("".join(o["text"]))
            elif "text/plain" in o.get("data", {}):
                out.append("".join(o["data"]["text/plain"]))
    return "\n".join(out)


def judge(claim: Claim) -> str | None:
    """Return why the claim fails, or None."""
    found = re.search(claim.prose, markdown(claim.lesson))
    if not found:
        return f"lesson {claim.lesson}'s prose no longer says {claim.prose!r}: update or remove the row"
    said = _number(found.group(1)) if found.groups() else None
    truth = claim.truth.value(claim.lesson)
    if not claim.holds(said, truth):
        return f"lesson {claim.lesson} says {found.group(0)!r}, but the truth ({claim.truth}) is {truth:g}"
    return None


_DQN_GAP = r"dqn\s*: predicted minus obtained, averaged over the run and 2 seeds:\s*(-?[\d.]+)"
_DOUBLE_GAP = r"double: predicted minus obtained, averaged over the run and 2 seeds:\s*(-?[\d.]+)"

_PPO_SCORES = r"PPO\s+: scores \[([\d ]+)\]"
_AC_SCORES = r"actor-critic: scores \[([\d ]+)\]"
_PPO_CI = r"PPO\s+: scores .*95% CI \[\s*([\d., ]+)\]"
_AC_CI = r"actor-critic: scores .*95% CI \[\s*([\d., ]+)\]"

CLAIMS = [
    # lesson 01
    Claim("01", r"only a couple of dozen steps", Printed(r"random agent: mean return ([\d.]+)"),
          lambda said, truth: 15 <= truth <= 35),
    Claim("01", r"after a median of about ([\d,]+) search steps", Bench("random search", ("steps", "median")), same(100)),
    Claim("01", r"Over those (\d+) seeds every search was accepted", Bench("random search", ("seeds",))),
    Claim("01", r"Over those 30 seeds every search was accepted", Bench("random search", ("solved",)),
          lambda said, truth: truth == 30),
    # lesson 02: what its exact computations printed
    Claim("02", r"The shortest route was worth (\d\.\d+)", Printed(r"shortest route: V\(start\) = ([\d.]+)"), same(0.001)),
    Claim("02", r"Policy iteration needed a handful of evaluations", Printed(r"stable after (\d+) evaluations"),
          lambda said, truth: 2 <= truth <= 10),
    Claim("02", r"value iteration hundreds of cheap sweeps", Printed(r"value iteration: (\d+) sweeps"),
          lambda said, truth: 100 <= truth < 1000),
    Claim("02", r"in the holes, the goal and state 6 several actions tie",
          PrintedList(r"states with more than one optimal action: \[([\d, ]+)\]", lambda xs: xs == [5, 6, 7, 11, 12, 15]),
          lambda said, truth: truth == 1),   # the holes are 5, 7, 11 and 12, the goal 15
    Claim("02", r"0.70 \(Gymnasium's `reward_threshold` for this map, nine standard errors below the prediction\)",
          PrintedList(r"predicted success within 100 steps: ([\d.]+\s+simulated, 10,000 fresh episodes:\s+[\d.]+ "
                      r"\(standard error [\d.]+)", lambda xs: (xs[0] - 0.70) / xs[-1]),
          lambda said, truth: 8.5 <= truth < 9.5),
    Claim("02", r"After 500,000 steps \(about 65,000 episodes\) it is (\d\.\d+)",
          Printed(r"after 500,000 steps: max \|Q - Q\*\| = ([\d.]+)"), same(0.001)),
    Claim("02", r"yet the greedy policy is optimal",
          PrintedList(r"Q-learning's greedy policy: V\(start\) = ([\d.]+ \(V\* = [\d.]+)", lambda xs: xs[0] == xs[1]),
          lambda said, truth: truth == 1),
    # lesson 03
    Claim("03", r"after a median of about ([\d,]+) environment steps", Bench("tabular Q (475)", ("steps", "median")),
          same(1000)),
    Claim("03", r"all (\d+) reached the stop at 475", Bench("tabular Q (475)", ("solved",))),
    Claim("03", r"The coarsest grid, 36 entries, does not reach 475",
          Printed(r"bins \(1, 1, 3, 6\)\s+table\s+36 entries \| best ([\d.]+) in 400 episodes"),
          lambda said, truth: truth < 475),
    Claim("03", r"The finer grids all get there", PrintedCount(r"entries \| reached 475 after \d+ episodes"),
          lambda said, truth: truth == 3),
    # lesson 05
    Claim("05", r"(\d) of 30 \| —", Bench("DQN, no target network", ("solved",))),
    Claim("05", r"every 96 gradient steps \| (\d+) of 30", Bench("DQN + hard target", ("solved",))),
    Claim("05", r"every 96 gradient steps \| 30 of 30 \| ([\d,]+)", Bench("DQN + hard target", ("steps", "median"))),
    Claim("05", r"every 96 gradient steps \| 30 of 30 \| [\d,]+ \(([\d,]+)", Bench("DQN + hard target", ("steps", "min"))),
    Claim("05", r"every 96 gradient steps \| 30 of 30 \| [\d,]+ \([\d,]+–([\d,]+)\)", Bench("DQN + hard target", ("steps", "max"))),
    Claim("05", r"\\tau = 0.01\$ \| (\d+) of 30", Bench("DQN + soft target", ("solved",))),
    Claim("05", r"\\tau = 0.01\$ \| 30 of 30 \| ([\d,]+)", Bench("DQN + soft target", ("steps", "median"))),
    Claim("05", r"\\tau = 0.01\$ \| 30 of 30 \| [\d,]+ \(([\d,]+)", Bench("DQN + soft target", ("steps", "min"))),
    Claim("05", r"\\tau = 0.01\$ \| 30 of 30 \| [\d,]+ \([\d,]+–([\d,]+)\)", Bench("DQN + soft target", ("steps", "max"))),
    Claim("05", r"anywhere from ([\d,]+) to [\d,]+ steps", Bench("DQN + hard target", ("steps", "min"))),
    Claim("05", r"anywhere from [\d,]+ to ([\d,]+) steps", Bench("DQN + hard target", ("steps", "max"))),
    Claim("05", r"without a target network they run far past 100",
          Printed(r"none: did not pass the stop test.*largest predicted Q\s+([\d.e+]+)"), lambda said, truth: truth > 1000),
    Claim("05", r"with either kind of target they stay below or close to 100",
          Printed(r"hard: passed the stop test.*largest predicted Q\s+([\d.e+]+)"), lambda said, truth: truth < 115),
    Claim("05", r"with either kind of target they stay below or close to 100",
          Printed(r"soft: passed the stop test.*largest predicted Q\s+([\d.e+]+)"), lambda said, truth: truth < 115),
    Claim("06", r"its largest gap is larger too", Printed(r"dqn\s*:.*largest\s+([\d.]+)"),
          lambda said, truth: truth > _number(re.search(r"double:.*largest\s+([\d.]+)", solution_output("06")).group(1))),
    # lesson 06
    Claim("06", r"The second line is about \$\+(1.5)\$", Printed(r"max of one set \(DQN's target\):\s+([\d.]+)"), same(0.1)),
    Claim("06", r"DQN's predictions climb past 100",
          Printed(r"dqn\s*:.*at the end predicted\s+([\d.]+)"), lambda said, truth: truth > 100),
    Claim("06", r"its gap averaged over the run is many times double DQN's",
          Printed(_DQN_GAP), lambda said, truth: truth > 3 * abs(_number(re.search(_DOUBLE_GAP, solution_output("06")).group(1)))),
    Claim("06", r"end close to what its policies obtain",
          Printed(r"double:.*at the end predicted\s+([\d.]+)"),
          lambda said, truth: abs(truth - _number(re.search(r"double:.*obtained\s+([\d.]+)\s*$", solution_output("06"),
                                                           re.M).group(1))) < 10),
    Claim("06", r"double DQN after ([\d,]+) steps at the median", Bench("double DQN", ("steps", "median"))),
    Claim("06", r"double DQN after [\d,]+ steps at the median \(at most ([\d,]+)\)", Bench("double DQN", ("steps", "max"))),
    Claim("06", r"dueling DQN after ([\d,]+) \(", Bench("dueling DQN", ("steps", "median"))),
    Claim("06", r"dueling DQN after [\d,]+ \(at most ([\d,]+)\)", Bench("dueling DQN", ("steps", "max"))),
    Claim("06", r"over (\d+) seeds of this code, every seed passed", Bench("dueling DQN", ("solved",))),
    # lesson 04
    Claim("04", r"Over (\d+) seeds, this loop with the lesson's pieces passed", Bench("DQN + hard target", ("seeds",))),
    Claim("04", r"Over 30 seeds, this loop with the lesson's pieces passed the stop test every time",
          Bench("DQN + hard target", ("solved",)), lambda said, truth: truth == 30),
    Claim("04", r"after a\s+median of ([\d,]+) environment steps", Bench("DQN + hard target", ("steps", "median"))),
    Claim("04", r"median of [\d,]+ environment steps \(([\d,]+) to", Bench("DQN + hard target", ("steps", "min"))),
    Claim("04", r"median of [\d,]+ environment steps \([\d,]+ to ([\d,]+)", Bench("DQN + hard target", ("steps", "max"))),
    Claim("04", r"the line under the plot prints the\s+largest estimate",
          Printed(r"largest Q-value ([\d.]+)"), lambda said, truth: truth > 0),
    # lesson 07
    Claim("07", r"Over 30 seeds, this code passed the stop test every time", Bench("REINFORCE", ("solved",)),
          lambda said, truth: truth == 30),
    Claim("07", r"after a median of about\s+([\d,]+) environment steps", Bench("REINFORCE", ("steps", "median")), same(100)),
    Claim("07", r"environment steps \(([\d,]+) to [\d,]+\)", Bench("REINFORCE", ("steps", "min"))),
    Claim("07", r"environment steps \([\d,]+ to ([\d,]+)\)", Bench("REINFORCE", ("steps", "max"))),
    Claim("07", r"passed the stop test\s+on (\d+) seeds of 10", Bench("vanilla policy gradient (no baseline)", ("solved",))),
    Claim("07", r"on 10 seeds of (\d+), after a median", Bench("vanilla policy gradient (no baseline)", ("seeds",))),
    Claim("07", r"of 10, after a median of ([\d,]+) environment steps", Bench("vanilla policy gradient (no baseline)", ("steps", "median")), same(1)),
    Claim("07", r"and at most ([\d,]+); with\s+the baseline", Bench("vanilla policy gradient (no baseline)", ("steps", "max"))),
    Claim("07", r"with\s+the baseline, after a median of about ([\d,]+)", Bench("REINFORCE", ("steps", "median")), same(100)),
    Claim("07", r"and at most ([\d,]+), over 30 seeds", Bench("REINFORCE", ("steps", "max"))),
    # lesson 09: the five seeds of each agent and their intervals
    Claim("09", r"its scores run from (\d+) to", PrintedList(_PPO_SCORES, min)),
    Claim("09", r"its scores run from \d+ to (\d+)", PrintedList(_PPO_SCORES, max)),
    Claim("09", r"greedy policies still score 9 or 10", PrintedList(_AC_SCORES, lambda xs: set(xs) <= {9, 10}),
          lambda said, truth: truth == 1),
    Claim("09", r"PPO's interval is more than (\d+) points wide", PrintedList(_PPO_CI, lambda lh: lh[1] - lh[0]),
          lambda said, truth: truth > said),
    Claim("09", r"the two intervals are far apart",
          PrintedList(_PPO_CI, lambda lh: lh[0] - PrintedList(_AC_CI, max).value("09")),
          lambda said, truth: truth > 100),
    Claim("09", r"actor-critic needs a median of ([\d,]+) steps", Bench("actor-critic", ("steps", "median"))),
    Claim("09", r"the bench's median is about ([\d,]+)", Bench("PPO", ("steps", "median")), same(1000)),
    # lesson 10
    Claim("10", r"a missing discount makes it (1), a discount applied twice 0.25",
          Printed(r"course/ProbeDiscount-v0\s+obs -1: Q\* \[(0.5)\]"), lambda said, truth: said == 2 * truth),
    Claim("10", r"a discount applied twice (0.25)", Printed(r"course/ProbeDiscount-v0\s+obs -1: Q\* \[(0.5)\]"),
          lambda said, truth: said == truth ** 2),
    Claim("10", r"tolerance of (0.1) that a correct agent meets",
          Printed(r"DQN\s+course/ProbeDiscount-v0\s+value error ([\d.]+)"), lambda said, truth: truth <= said),
    # lesson 11
    Claim("11", r"A random policy scores about −([\d,]+)", Printed(r"random torques: mean return -(\d+)"), same(100)),
    Claim("11", r"from near 0 upright", Printed(r"best (-?[\d.]+)\)"), lambda said, truth: truth >= -5),
    Claim("11", r"to about −(\d+) hanging", Printed(r"worst (-[\d.]+),"), lambda said, truth: abs(said + truth) <= 60),
    Claim("11", r"The temperature falls from (1) while", Printed(r"temperature ([\d.]+) ->"), same(0.1)),
    Claim("11", r"The temperature falls from 1 while the policy's entropy is above its target",
          PrintedList(r"temperature ([\d.]+ -> [\d.]+); entropy ", lambda xs: xs[1] < xs[0]), lambda said, truth: truth),
    Claim("11", r"drifts once the entropy has reached it",
          PrintedList(r"entropy (-?[\d.]+ -> -?[\d.]+) \(target -1\)", lambda xs: xs[0] > -1 and abs(xs[1] + 1) < 0.15),
          lambda said, truth: truth),
    Claim("11", r"Over (\d+) seeds this loop passed the stop test every time", Bench("SAC", ("solved",))),
    Claim("11", r"after a median of ([\d,]+) environment steps", Bench("SAC", ("steps", "median"))),
    Claim("11", r"environment steps \(([\d,]+) to", Bench("SAC", ("steps", "min"))),
    Claim("11", r"environment steps \([\d,]+ to ([\d,]+)", Bench("SAC", ("steps", "max"))),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=[f"{c.lesson}:{c.prose[:40]}" for c in CLAIMS])
def test_prose_agrees_with_what_the_lessons_printed_and_the_bench_measured(claim):
    problem = judge(claim)
    assert problem is None, problem


def test_a_wrong_figure_fails(monkeypatch):
    """The test can fail: lesson 06's old text ("17.5 above the outcomes") against its output (22.7)."""
    wrong = Claim("06", r"sat ([\d.]+) above the outcomes", Printed(_DQN_GAP), same(0.05))
    monkeypatch.setattr(sys.modules[__name__], "markdown",
                        lambda lesson: "Averaged over the run, DQN's predictions sat 17.5 above the outcomes")
    problem = judge(wrong)
    assert problem is not None and "sat 17.5 above the outcomes" in problem
    # and a row whose prose is gone fails too, rather than passing silently
    assert "no longer says" in judge(Claim("06", r"a sentence no lesson has", Bench("double DQN", ("seeds",))))


# --- each lesson's prose within its budget ---------------------------------------------------------------------

WORD_BUDGET = 1200   # words of markdown per lesson (split on whitespace, formulas' tokens counted)


def prose_words(lesson: str) -> int:
    cells = _notebook("notebooks", lesson)["cells"]
    return sum(len("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("lesson", sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_a_lessons_prose_stays_within_its_budget(lesson):
    words = prose_words(lesson)
    assert words <= WORD_BUDGET, f"lesson {lesson} has {words} words of prose, more than {WORD_BUDGET}"
