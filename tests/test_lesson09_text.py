"""Lesson 09's prose says the settings its code runs with, and its first-run bench claim holds."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "09_ppo.ipynb"


def prose() -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


def test_the_settings_the_prose_names_are_the_codes():
    from course_utils.lessons import lesson09 as L

    text = prose()
    found = re.search(r"\((\d+) environments, (\d+) steps: (\d+) transitions\)", text)
    assert found and [int(x) for x in found.groups()] == [L.N_ENVS, L.ROLLOUT_STEPS, L.N_ENVS * L.ROLLOUT_STEPS]
    found = re.search(r"takes its (\d+) epochs of (\d+) minibatches", text)
    assert found and [int(x) for x in found.groups()] == [L.EPOCHS, L.N_ENVS * L.ROLLOUT_STEPS // L.MINIBATCH_SIZE]
    found = re.search(r"every (\d+) updates here \(([\d,]+) environment steps; lesson 08 tested every (\d+) of its "
                      r"smaller updates\) the greedy policy plays 10 quick episodes", text)
    from course_utils.lessons import lesson08
    assert found and [int(x.replace(",", "")) for x in found.groups()] == [
        L.EVAL_EVERY, L.EVAL_EVERY * L.N_ENVS * L.ROLLOUT_STEPS, lesson08.EVAL_EVERY]
    assert L.N_ENVS * L.ROLLOUT_STEPS > lesson08.N_ENVS * lesson08.ROLLOUT_STEPS   # "smaller updates"


def test_the_budget_the_prose_reads_is_the_codes():
    source = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code")
    budget = int(re.search(r"BUDGET = \[SEED \+ k for k in range\((\d+)\)\], ([\d_]+)", source).group(2).replace("_", ""))
    assert f"at {budget:,} its greedy policies have collapsed onto one action" in prose() and f"IQM at {budget:,} steps" in prose()
    assert re.search(r"SEEDS, BUDGET = \[SEED \+ k for k in range\(5\)\]", source) and "five seeds" in prose()
