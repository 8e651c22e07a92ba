"""The course's own reference code is not a student's answer: every route to it fails the check, in the
check itself, the notebook's check cell, `course check` and `course grade`; earlier lessons' pieces and a
solution typed out again still pass (the similarity report is where the latter shows)."""
import csv
import functools
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import nbformat
import pytest
from demo_course import cell_index, read

import course_utils.lessons
from course_utils import checks
from course_utils.checks import guarded, lesson01, lesson09, own_work, say

ROOT = Path(__file__).resolve().parents[1]
REFUSED = r"this is the course's reference solution, imported: write your own"


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    """The refusal on, as in a student's kernel (the test suite turns it off elsewhere, see conftest)."""
    monkeypatch.delenv(own_work.ACCEPT_REFERENCE, raising=False)


def cell(source: str, name: str):
    """Run ``source`` as a notebook cell would (code of the student's, not the package's); return ``name``."""
    namespace = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(source), "<ipython-input-1>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def typed_out(lesson: str) -> types.ModuleType:
    """Return the generated module of ``lesson`` run from its text, as if a student had typed it all out again."""
    path = Path(course_utils.lessons.__file__).parent / f"lesson{lesson}.py"
    module = types.ModuleType(f"typed_out_lesson{lesson}")
    sys.modules[module.__name__] = module   # dataclasses look their module up
    exec(compile(path.read_text(), f"<typed out {path.name}>", "exec"), module.__dict__)  # noqa: S102
    return module


ROUTES = {
    "from-import": "from course_utils.lessons.lesson01 import run_episode",
    "import": "import course_utils.lessons.lesson01\nrun_episode = course_utils.lessons.lesson01.run_episode",
    "importlib, a built name": "import importlib\nrun_episode = importlib.import_module('course_utils.lessons.' + "
                               "'lesson' + '01').run_episode",
    "__import__": "run_episode = __import__('course_utils.lessons.lesson01', fromlist=['x']).run_episode",
    "getattr on the module": "import course_utils.lessons.lesson01 as m\nrun_episode = getattr(m, 'run_' + 'episode')",
    "a def around it": """
        import importlib

        def run_episode(env, policy, seed=None):
            module = importlib.import_module('course_utils.lessons.lesson01')
            return module.run_episode(env, policy, seed=seed)
        """,
    "a lambda around it": "run_episode = lambda env, policy, seed=None: __import__('course_utils.lessons.lesson01', "
                          "fromlist=['x']).run_episode(env, policy, seed)",
    "functools.partial": "import functools\nfrom course_utils.lessons import lesson01\n"
                         "run_episode = functools.partial(lesson01.run_episode)",
    "functools.wraps": """
        import functools
        from course_utils.lessons import lesson01

        @functools.wraps(lesson01.run_episode)
        def run_episode(*args, **kwargs):
            return lesson01.run_episode(*args, **kwargs)
        """,
    "a def that prints, then calls it": """
        from course_utils.lessons.lesson01 import run_episode as reference

        def run_episode(env, policy, seed=None):
            print("my own, honest")
            return reference(env, policy, seed)
        """,
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_to_the_reference_fails_the_check(route, capsys):
    run_episode = cell(ROUTES[route], "run_episode")
    with pytest.raises(AssertionError, match=rf"^Exercise 01\.1: {REFUSED} \(.*course_utils\.lessons\.lesson01"
                                             rf"\.run_episode\)\nHint: course_utils\.lessons holds the published"):
        lesson01.check_run_episode(run_episode)
    assert "passed" not in capsys.readouterr().out   # the check ran to its end, but says nothing of a pass


def test_the_reason_says_which_function_of_the_students_called_it():
    wrapper = cell(ROUTES["a def around it"], "run_episode")
    with pytest.raises(AssertionError, match=r"\(your run_episode calls course_utils\.lessons\.lesson01\.run_episode\)"):
        lesson01.check_run_episode(wrapper)
    with pytest.raises(AssertionError, match=r"\(the check was given course_utils\.lessons\.lesson01\.run_episode\)"):
        lesson01.check_run_episode(course_utils.lessons.lesson01.run_episode)


def test_a_lesson_09_answer_that_calls_the_reference_fails():
    gae = cell("""
        from course_utils.lessons import lesson09

        def gae_advantages(*args):
            return lesson09.gae_advantages(*args)
        """, "gae_advantages")
    with pytest.raises(AssertionError, match=rf"^Exercise 09\.1: {REFUSED} \(your gae_advantages calls "
                                             r"course_utils\.lessons\.lesson09\.gae_advantages\)"):
        lesson09.check_gae_advantages(gae)


def test_a_reference_reached_through_the_students_other_exercise_counts_too():
    """01.3's check is given the student's run_episode: when that is the reference, 01.3 is not the student's either."""
    mine = typed_out("01")
    with pytest.raises(AssertionError, match=rf"^Exercise 01\.3: {REFUSED}"):
        lesson01.check_random_search(mine.random_search, course_utils.lessons.lesson01.run_episode, mine.linear_policy)


def test_the_solution_typed_out_again_passes(capsys):
    """The refusal is of the package's code, not of its text: a retyped solution is for the similarity report."""
    mine = typed_out("01")
    lesson01.check_run_episode(mine.run_episode)
    lesson01.check_linear_policy(mine.linear_policy)
    lesson01.check_random_search(mine.random_search, mine.run_episode, mine.linear_policy)
    assert capsys.readouterr().out.count("passed") == 3


# a check of this test file, as a lesson's check module writes one: it runs the student's function
def _check_episode_total(exercise):
    @guarded(exercise, "add the rewards")
    def check(total_of_one_episode):
        got = total_of_one_episode()
        if got != 4.0:
            checks.fail(exercise, f"got {got}", "add the rewards")
        say(f"Exercise {exercise}: passed.")
    return check


EARLIER_PIECE = """
    from course_utils.checks._fakes import ScriptedEnv
    from course_utils.lessons.lesson01 import run_episode   # what lesson 01 taught

    def total_of_one_episode():
        return run_episode(ScriptedEnv([1, 1, 1, 1]), lambda obs: 0)
    """


def test_an_earlier_lessons_piece_used_on_purpose_passes(capsys):
    _check_episode_total("09.7")(cell(EARLIER_PIECE, "total_of_one_episode"))
    assert capsys.readouterr().out == "Exercise 09.7: passed.\n"
    with pytest.raises(AssertionError, match=rf"^Exercise 01\.7: {REFUSED}"):   # the same code, graded in lesson 01
        _check_episode_total("01.7")(cell(EARLIER_PIECE, "total_of_one_episode"))


def test_lesson_code_the_check_runs_itself_is_not_the_students(capsys):
    """A check (code of the package, as the file name here says) may run the lesson's code around the student's."""
    namespace = {}
    exec(compile(textwrap.dedent("""
        import course_utils.lessons.lesson01
        from course_utils.checks import guarded, say
        from course_utils.checks._fakes import ScriptedEnv

        @guarded("01.8", "a policy returns an action")
        def check_policy(policy):   # runs the lesson's own episode loop around the student's policy
            total = course_utils.lessons.lesson01.run_episode(ScriptedEnv([1, 1]), policy)
            say(f"Exercise 01.8: passed ({total:g}).")
        """), str(Path(checks.__file__).with_name("a_check_of_the_package.py")), "exec"), namespace)  # noqa: S102
    namespace["check_policy"](cell("def policy(obs):\n    return 0", "policy"))
    assert capsys.readouterr().out == "Exercise 01.8: passed (2).\n"


def test_importing_the_reference_without_calling_it_is_not_counted(capsys):
    sys.modules.pop("course_utils.lessons.lesson01", None)   # imported afresh, inside the check
    honest = cell("""
        def run_episode(env, policy, seed=None):
            import course_utils.lessons.lesson01   # runs the module's top level, calls none of it
            obs, _ = env.reset(seed=seed)
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy(obs))
                total, done = total + float(reward), terminated or truncated
            return total
        """, "run_episode")
    lesson01.check_run_episode(honest)
    assert capsys.readouterr().out.startswith("Exercise 01.1: passed")


def test_switching_the_watch_off_fails_the_check():
    sneaky = cell("""
        import sys
        from course_utils.lessons.lesson01 import run_episode as reference

        def run_episode(env, policy, seed=None):
            sys.setprofile(None)
            return reference(env, policy, seed)
        """, "run_episode")
    with pytest.raises(AssertionError, match=r"^Exercise 01\.1: the check's watch for the course's reference code was "
                                             r"switched off while it ran"):
        lesson01.check_run_episode(sneaky)


def test_a_subclass_or_an_instance_of_a_reference_class_is_the_reference(tmp_path, monkeypatch):
    """No exercise of lessons 01 and 09 is a class, so a generated module with a class is made here."""
    path = tmp_path / "lesson09.py"
    path.write_text("class Agent:\n    def act(self, obs):\n        return 1\n")
    name = "made_lessons.lesson09"
    spec = __import__("importlib.util").util.spec_from_file_location(name, path)
    module = __import__("importlib.util").util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(own_work, "_lesson_files", lambda: {str(path): "09"})

    namespace = {"Base": module.Agent, "__name__": "__main__"}
    exec(compile("class Mine(Base):\n    def act(self, obs):\n        return super().act(obs)\n",  # noqa: S102
                 "<ipython-input-2>", "exec"), namespace)
    mine = namespace["Mine"]
    assert own_work.Watch("09.1", (mine,), {}).found == "a subclass of made_lessons.lesson09.Agent"
    assert own_work.Watch("09.1", (mine(),), {}).found == "an instance of made_lessons.lesson09.Agent"
    assert own_work.Watch("01.1", (mine,), {}).found == "a subclass of made_lessons.lesson09.Agent"   # a later lesson

    @guarded("09.1", "act")
    def check_act(make_agent):   # given a factory, not the class: only the call shows the reference
        make_agent().act(None)

    with pytest.raises(AssertionError, match=rf"^Exercise 09\.1: {REFUSED} \(your act calls "
                                             r"course_utils\.lessons\.lesson09\.Agent\.act\)"):
        check_act(lambda: mine())


def test_earlier_lessons_are_not_watched():
    files = own_work.reference_files("09")
    assert {Path(f).name for f in files} == {"lesson09.py", "lesson10.py", "lesson11.py"}   # the graded one and later
    assert {Path(f).name for f in own_work.reference_files("01")} >= {"lesson01.py", "lesson09.py"}


def test_the_test_suites_switch_lets_the_reference_pass(monkeypatch, capsys):
    monkeypatch.setenv(own_work.ACCEPT_REFERENCE, "1")
    lesson01.check_run_episode(course_utils.lessons.lesson01.run_episode)
    assert capsys.readouterr().out.startswith("Exercise 01.1: passed")


# --- through the kernel: the notebook's own check cell, `course check`, `course grade` and its feedback ----------

LESSON01 = "01_gymnasium_random_search.ipynb"
HOSTILE = {
    "01.1": "# EXERCISE 01.1\nfrom course_utils.lessons.lesson01 import run_episode",
    "01.2": "# EXERCISE 01.2\nimport importlib\n\nlinear_policy = importlib.import_module('course_utils.lessons.' + "
            "'lesson01').linear_policy",
    "01.3": "# EXERCISE 01.3\nimport course_utils.lessons.lesson01 as taught\n\n\n"
            "def random_search(env, n_candidates, rng, episodes_per_candidate=1):\n"
            "    return getattr(taught, 'random_search')(env, n_candidates, rng, episodes_per_candidate)",
}


def lesson01_notebook(exercises: dict[str, str], first: str = ""):
    nb = read(ROOT / "solutions" / LESSON01)
    for exercise, source in exercises.items():
        nb.cells[cell_index(nb, "exercise", exercise)].source = source
    if first:
        nb.cells.insert(cell_index(nb, "exercise", "01.1"), nbformat.v4.new_code_cell(first))
    return nb


@pytest.fixture(scope="module")
def lesson01_class(tmp_path_factory, course_cmd):
    folder = tmp_path_factory.mktemp("own") / "submissions"
    students = {
        "imports": lesson01_notebook(HOSTILE),
        "switch": lesson01_notebook({"01.1": HOSTILE["01.1"]}, first="import os\nos.environ['COURSE_ACCEPT_REFERENCE'] = '1'"),
        "honest": lesson01_notebook({}),
        "wraps": lesson01_notebook({"01.3": HOSTILE["01.3"]}),   # its own 01.1 and 01.2, the reference's search
    }
    for name, nb in students.items():
        (folder / name).mkdir(parents=True)
        nbformat.write(nb, folder / name / LESSON01)
    report = folder.parent / "grades.csv"
    result = subprocess.run([course_cmd, "grade", str(folder), "--report", str(report), "--workers", "2",
                             "--reference", str(ROOT / "grading")], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return folder, report, {(r["student"], r["exercise"]): r for r in csv.DictReader(report.open())}


def test_course_grade_refuses_the_reference_and_says_so(lesson01_class):
    _, _, rows = lesson01_class
    for exercise in ("01.1", "01.2", "01.3"):
        row = rows["imports", exercise]
        assert (row["status"], row["points"]) == ("error", "0"), row
        assert f"Exercise {exercise}: this is the course's reference solution, imported: write your own" in row["reason"]
    assert "(the check was given course_utils.lessons.lesson01.run_episode)" in rows["imports", "01.1"]["reason"]
    assert "(the check was given course_utils.lessons.lesson01.run_episode)" in rows["imports", "01.3"]["reason"]
    assert [rows["wraps", e]["status"] for e in ("01.1", "01.2", "01.3")] == ["passed", "passed", "error"]
    assert "(your random_search calls course_utils.lessons.lesson01.random_search)" in rows["wraps", "01.3"]["reason"]
    # 01.4 checks the returns the training cell produced: numbers, not code, so it cannot tell
    assert rows["imports", "01.4"]["status"] == "passed"
    assert [rows["honest", e]["status"] for e in ("01.1", "01.2", "01.3", "01.4")] == ["passed"] * 4


def test_a_notebook_that_sets_the_test_suites_switch_is_tampered(lesson01_class):
    _, _, rows = lesson01_class
    row = rows["switch", "01.1"]
    assert row["status"] == "tampered" and "the notebook set COURSE_ACCEPT_REFERENCE" in row["reason"]


def test_the_feedback_carries_the_reason(lesson01_class):
    _, report, _ = lesson01_class
    feedback = (report.parent / "grades-feedback" / "imports.md").read_text()
    assert "| 01.1 | 0/2 | error | AssertionError: Exercise 01.1: this is the course's reference solution" in feedback
    assert "course_utils.lessons holds the published solutions" in feedback


def test_course_check_refuses_it_too(lesson01_class, course_cmd):
    folder, _, _ = lesson01_class
    env = {k: v for k, v in os.environ.items() if k != own_work.ACCEPT_REFERENCE}
    out = subprocess.run([course_cmd, "check", str(folder / "imports" / LESSON01), "--reference",
                          str(ROOT / "grading")], capture_output=True, text=True, timeout=600, env=env).stdout
    assert "-- 01.1   0/2  error" in out and REFUSED in out
    assert out.splitlines()[-1] == "score: 2/7 (what the grader will give this file)"


def test_the_notebooks_own_check_cell_refuses_it(tmp_path):
    from nbclient import NotebookClient

    nb = lesson01_notebook(HOSTILE)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    old = os.environ.pop(own_work.ACCEPT_REFERENCE, None)
    try:
        NotebookClient(nb, timeout=600, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if old is not None:
            os.environ[own_work.ACCEPT_REFERENCE] = old
    check = nb.cells[cell_index(nb, "check", "01.1")]
    errors = [o for o in check.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "AssertionError" and REFUSED in errors[0].evalue
    assert not any("passed" in o.get("text", "") for o in check.outputs)
