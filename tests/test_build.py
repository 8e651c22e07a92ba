"""`course build`: exercises and solutions from one source, marker rules, --check."""
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from demo_course import ROOT, cell_index, demo_env, make_course, read

from course_utils.instructor.build import BuildError, build

demo_env()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    assert build(root, log=lambda *a: None) == []
    return root


def test_exercise_has_stubs_tags_and_no_outputs_even_in_check_cells(course):
    ex = read(course / "exercises" / "00_demo.ipynb")
    cell = ex.cells[cell_index(ex, "exercise", "00.1")]
    assert "# YOUR CODE HERE" in cell.source
    assert 'raise NotImplementedError("Exercise 00.1: write your code here")' in cell.source
    assert "enumerate(rewards)" not in cell.source and "BEGIN SOLUTION" not in cell.source
    assert cell.metadata["tags"] == ["exercise"] and cell.outputs == [] and cell.execution_count is None
    check = ex.cells[cell_index(ex, "check", "00.1")]
    assert check.metadata["tags"] == ["check", "nbval-check-output"]
    assert check.metadata["course"] == {"check": "00.1", "points": 2}
    assert check.outputs == [] and check.execution_count is None  # no verdict before the student works
    record = json.loads((course / "grading" / "00_demo.json").read_text())
    graded = next(c["cell"] for c in record["checks"] if c["exercise"] == "00.1")
    assert graded["source"] == check.source and graded["execution_count"] is not None
    assert graded["outputs"][0]["text"] == "Exercise 00.1: passed (6 cases checked).\n"
    plain = [c for c in ex.cells if c.cell_type == "code" and "tags" not in c.metadata]
    assert all(c.outputs == [] and c.execution_count is None for c in plain)


def test_solution_is_executed_without_markers(course):
    sol = read(course / "solutions" / "00_demo.ipynb")
    text = json.dumps(sol)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "enumerate(rewards)" in sol.cells[cell_index(sol, "exercise", "00.1")].source
    assert all(c.execution_count for c in sol.cells if c.cell_type == "code")
    assert sol.metadata["course"]["lesson"] == "00" and len(sol.metadata["course"]["build_hash"]) == 64


def test_colab_badge_and_setup_cell_use_the_pyproject_url(course):
    for folder in ("exercises", "solutions"):
        nb = read(course / folder / "00_demo.ipynb")
        badge, setup = nb.cells[0], nb.cells[1]
        assert f"github/deep-rl-course/deep-rl-course/blob/main/{folder}/00_demo.ipynb" in badge.source
        assert "'google.colab' in sys.modules" in setup.source
        assert "find_spec('course_utils') is None" in setup.source  # installs once
        assert "git+https://github.com/deep-rl-course/deep-rl-course.git" in setup.source


def test_cells_tagged_export_become_the_lesson_module(course):
    module = course / "course_utils" / "lessons" / "lesson00.py"
    text = module.read_text()
    assert text.startswith('"""Demo lesson.\n\nThe code this lesson teaches, as its solution shows it')
    assert "# exercise 00.1\ndef discounted_sum(rewards, gamma):" in text
    assert "enumerate(rewards)" in text and "SOLUTION" not in text and "def clip" not in text
    assert "import numpy" not in text  # only the imports the exported code uses
    namespace = {}
    exec(compile(text, str(module), "exec"), namespace)
    assert namespace["discounted_sum"]([1.0, 1.0], 0.5) == 1.5
    for folder in ("exercises", "solutions"):  # the tag is for authors; students never see it
        nb = read(course / folder / "00_demo.ipynb")
        assert "export" not in nb.cells[cell_index(nb, "exercise", "00.1")].metadata.get("tags", [])


def test_check_mode_catches_a_hand_edited_or_orphan_lesson_module(course, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(course, copy)
    module = copy / "course_utils" / "lessons" / "lesson00.py"
    module.write_text(module.read_text().replace("gamma**t", "gamma*t"))
    problems = build(copy, check=True)
    assert len(problems) == 1 and problems[0].startswith("course_utils/lessons/lesson00.py: line ")
    module.write_text((course / "course_utils" / "lessons" / "lesson00.py").read_text())
    (copy / "course_utils" / "lessons" / "lesson09.py").write_text("x = 1\n")
    assert build(copy, check=True) == [
        "course_utils/lessons/lesson09.py: has no source in notebooks/; run `course build` to remove it"]


def test_a_changed_transform_makes_the_stored_solution_stale(course, tmp_path, monkeypatch):
    """The build's own code is no input a lesson imports, so what it makes is compared instead."""
    import course_utils.instructor.transforms as b

    copy = tmp_path / "c"
    shutil.copytree(course, copy)
    original = b.colab_cells

    def changed(repo_url, rel_path):
        cells = original(repo_url, rel_path)
        cells[0].source += " (new badge text)"
        return cells

    monkeypatch.setattr(b, "colab_cells", changed)
    problems = build(copy, check=True)
    assert [p.split(":")[0] for p in problems] == ["solutions/00_demo.ipynb", "exercises/00_demo.ipynb"]
    assert all("cell 0 ('[![Open In Colab]" in p for p in problems)
    said = []
    assert build(copy, log=said.append) == []  # only the Colab header changed: refreshed, not executed again
    assert not any(line.startswith("executing") for line in said) and build(copy, check=True) == []
    assert "(new badge text)" in read(copy / "solutions" / "00_demo.ipynb").cells[0].source

    def changed_body(nb):
        nb.cells[-1].metadata["tags"] = ["something-new"]
    original_tag = b.tag_cells
    monkeypatch.setattr(b, "tag_cells", lambda nb: (original_tag(nb), changed_body(nb))[0])
    assert build(copy, check=True)[0] == (
        "solutions/00_demo.ipynb is out of date: the build now makes other cells than it stored "
        "(course_utils/instructor/transforms.py or markers.py changed); run `course build`")


def test_rebuild_is_byte_identical_and_does_not_execute(course):
    before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    logged = []
    assert build(course, log=logged.append) == []
    assert logged == []  # nothing executed, nothing written
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == before


def run_nbval(path):
    return subprocess.run([sys.executable, "-m", "pytest", str(path), "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", "-c", "/dev/null", "-q", "--color=no"],
                          capture_output=True, text=True, cwd=path.parent, timeout=300)


def test_nbval_passes_the_solution_and_fails_the_exercise(course):
    solution = run_nbval(course / "solutions" / "00_demo.ipynb")
    assert solution.returncode == 0, solution.stdout
    exercise = run_nbval(course / "exercises" / "00_demo.ipynb")
    assert exercise.returncode == 1
    assert "NotImplementedError" in exercise.stdout and "Exercise 00.1: write your code here" in exercise.stdout


def test_check_mode_passes_then_catches_a_hand_edit(course, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(course, copy)
    assert build(copy, check=True) == []
    path = copy / "exercises" / "00_demo.ipynb"
    nb = read(path)
    i = cell_index(nb, "exercise", "00.2")
    nb.cells[i].source += "\n# a hand edit"
    nbformat.write(nb, path)
    problems = build(copy, check=True)
    assert len(problems) == 1
    assert problems[0].startswith(f"exercises/00_demo.ipynb: cell {i} ('# EXERCISE 00.2')")


def test_check_mode_catches_a_changed_source_and_a_stray_file(course, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(course, copy)
    (copy / "exercises" / "08_old.ipynb").write_text("{}")
    src = copy / "notebooks" / "00_demo.ipynb"
    nb = read(src)
    nb.cells[0].source += " Edited."
    nbformat.write(nb, src)
    assert build(copy, check=True) == [
        "solutions/00_demo.ipynb is out of date: notebooks/00_demo.ipynb changed; run `course build`",
        "exercises/08_old.ipynb: has no source in notebooks/; run `course build` to remove it"]
    src.write_text((course / "notebooks" / "00_demo.ipynb").read_text())
    assert build(copy, check=True) == ["exercises/08_old.ipynb: has no source in notebooks/; run `course build` to remove it"]


def test_course_build_check_command_exit_codes(course, tmp_path, course_cmd):
    ok = subprocess.run([course_cmd, "build", "--check", "--root", str(course)], capture_output=True, text=True)
    assert ok.returncode == 0 and "up to date" in ok.stdout
    copy = tmp_path / "c"
    shutil.copytree(course, copy)
    (copy / "solutions" / "00_demo.ipynb").unlink()
    bad = subprocess.run([course_cmd, "build", "--check", "--root", str(copy)], capture_output=True, text=True)
    assert bad.returncode == 1 and "solutions/00_demo.ipynb is out of date: it is missing" in bad.stderr


def broken_course(tmp_path, edit):
    root = make_course(tmp_path)
    path = root / "notebooks" / "00_demo.ipynb"
    nb = read(path)
    edit(nb)
    nbformat.write(nb, path)
    return root


def set_source(exercise, kind, source):
    def edit(nb):
        nb.cells[cell_index(nb, kind, exercise)].source = source
    return edit


def drop_cell(exercise, kind):
    def edit(nb):
        del nb.cells[cell_index(nb, kind, exercise)]
    return edit


def add_code(source):
    def edit(nb):
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return edit


@pytest.mark.parametrize("edit, message", [
    (set_source("00.2", "exercise", "# EXERCISE 00.2\n### BEGIN SOLUTION\nx = 1"),
     r"00_demo.ipynb cell 6 \('# EXERCISE 00.2'\): '### BEGIN SOLUTION' at line 2 is never closed"),
    (set_source("00.2", "exercise", "# EXERCISE 00.2\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"),
     r"cell 6 .*nested '### BEGIN SOLUTION' at line 3"),
    (set_source("00.2", "exercise", "# EXERCISE 00.2\n### END SOLUTION"), r"'### END SOLUTION' at line 2 has no"),
    (drop_cell("00.2", "check"), r"exercise 00.2 has no '# CHECK 00.2 \(N points\)' cell"),
    (add_code("x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"), r"a solution region outside an exercise cell"),
    (set_source("00.2", "exercise", "# EXERCISE 01.2\n### BEGIN SOLUTION\n### END SOLUTION"),
     r"marker of lesson 01 in the lesson-00 file"),
    (set_source("00.3", "check", "# CHECK 00.3 (1 point)\nimport time; print(time.time_ns())"),
     r"cell 10 .*the check printed differently in two runs"),
    (set_source("00.2", "exercise", "# EXERCISE 00.2\n### BEGIN SOLUTION\nraise ValueError('oops')\n### END SOLUTION"),
     r"(?s)the solution does not run through.*ValueError: oops"),
])
def test_marker_rules_are_enforced_with_the_cell_named(tmp_path, edit, message):
    root = broken_course(tmp_path, edit)
    with pytest.raises(BuildError, match=message):
        build(root, log=lambda *a: None)


def tag_export(kind, exercise=None, source=None):
    def edit(nb):
        if source is not None:
            nb.cells.append(nbformat.v4.new_code_cell(source))
            cell = nb.cells[-1]
        else:
            cell = nb.cells[cell_index(nb, kind, exercise)]
        cell.metadata["tags"] = ["export"]
    return edit


@pytest.mark.parametrize("edit, message", [
    (tag_export("check", "00.1"), r"cell 4 \('# CHECK 00.1 \(2 points\)'\): a check cell cannot be exported"),
    (tag_export(None, source="def broken(:\n    pass"), r"cell 11 \('def broken\(:'\): an exported cell must be plain "
                                                       r"Python \(invalid syntax, line 1\)"),
    (tag_export(None, source="%timeit 1 + 1"), r"an exported cell must be plain Python"),
    (tag_export(None, source="def score_twice(rewards):\n    return 2 * discounted_sum(rewards, GAMMA)"),
     r"the cells tagged export use GAMMA, which they neither define nor import"),
])
def test_export_rules_are_enforced_with_the_cell_named(tmp_path, edit, message):
    with pytest.raises(BuildError, match=message):
        build(broken_course(tmp_path, edit), log=lambda *a: None)


def test_outputs_in_a_source_are_refused(tmp_path):
    def edit(nb):
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    with pytest.raises(BuildError, match="stored without outputs"):
        build(broken_course(tmp_path, edit))


def test_the_project_itself_is_up_to_date():
    """What CI checks: the committed exercises/ and solutions/ are what notebooks/ generates."""
    assert build(ROOT, check=True) == []


def test_handed_out_notebooks_show_no_output_or_verdict():
    """A student opening exercises/ sees no check's verdict (or the answers it prints) before working."""
    for path in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
        shown = [(i, c.source.splitlines()[0]) for i, c in enumerate(read(path).cells)
                 if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        assert shown == [], f"{path.name}: cells with stored outputs {shown}"


def lesson_hashes(root):
    """Return {lesson file: build hash} of the project's lessons, with the course folder ``root``."""
    import course_utils.instructor.staleness as b

    return {p.name: b.inputs_hash(b.build_inputs(p, read(p), root))
            for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def test_a_lesson_is_stale_only_when_what_it_imports_changes(tmp_path, monkeypatch):
    import course_utils.instructor.staleness as b

    base = lesson_hashes(ROOT)
    pkg = tmp_path / "course_utils"
    shutil.copytree(b.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(b, "PACKAGE_DIR", pkg)
    assert lesson_hashes(ROOT) == base

    def changed_after(edit: str) -> list[str]:
        (pkg / edit).write_text((pkg / edit).read_text() + "\n# a one-line change\n")
        now = lesson_hashes(ROOT)
        (pkg / edit).write_text((pkg / edit).read_text().removesuffix("\n# a one-line change\n"))
        return sorted(name[:2] for name in base if now[name] != base[name])

    everyone = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"]
    from_04 = everyone[3:]
    # lesson 06 measures overestimation; lesson 10's plots of agents' diagnostics live there too
    assert changed_after("diagnostics.py") == ["06", "10"]
    # lesson 04's loop uses the buffer and every later lesson imports lesson 04's module (its loop or its network)
    assert changed_after("replay.py") == from_04
    assert changed_after("training_log.py") == from_04  # cu.RecordEpisodes logs lesson 04's loop
    # what lessons 07 and 08's loops keep around the student's code; 08 imports lesson 07's module, 10 runs both loops
    assert changed_after("reinforce.py") == ["07", "08", "10"]
    assert changed_after("actor_critic.py") == ["08", "09", "10"]  # lesson 09's cu.ppo builds on it
    # what lesson 09's loop keeps around the student's code (lesson 10 runs that loop on the probes too)
    assert changed_after("ppo.py") == ["09", "10"] and changed_after("checks/lesson09.py") == ["09"]
    # what lesson 11's loop keeps around the student's code; the checks of a loop's step, lessons 04 and 11's
    assert changed_after("sac.py") == ["11"] and changed_after("checks/_loop.py") == ["04", "11"]
    assert changed_after("dqn.py") == from_04
    # the debugging kit is lesson 10's alone: it sits above every lesson it probes
    assert [changed_after(f"debugging/{m}.py") for m in ("__init__", "probes", "suspects")] == [["10"]] * 3
    assert changed_after("variants.py") == ["10"]
    # the reference bands, and lesson 01's plot of its search rounds
    assert changed_after("plotting.py") == everyone
    # the bands a bench run records are drawn in those plots: new bands, new solutions
    assert changed_after("data/reference_curves.json") == everyone
    assert [changed_after(f"instructor/{tool}.py") for tool in (  # the instructor's tools run no lesson
        "grade", "build", "bench", "record", "staleness", "transforms", "export", "execution")] == [[]] * 8
    assert changed_after("evaluation.py") == everyone
    # staleness follows the lessons' order: an edit of lesson NN's generated module stales later lessons only,
    # and a lesson's checks stale that lesson alone
    assert changed_after("lessons/lesson09.py") == ["10"]
    assert changed_after("lessons/lesson08.py") == ["09", "10"]  # 09 runs lesson 08's rollout; 10 its loop
    assert changed_after("lessons/lesson04.py") == from_04[1:]
    for nn in everyone:
        module = pkg / "lessons" / f"lesson{nn}.py"
        if module.exists():
            assert all(later > nn for later in changed_after(f"lessons/lesson{nn}.py")), nn
        assert changed_after(f"checks/lesson{nn}.py") == [nn]


def test_a_new_lock_makes_every_lesson_stale(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "requirements-lock.txt").write_text((ROOT / "requirements-lock.txt").read_text())
    base = lesson_hashes(root)
    assert base == lesson_hashes(ROOT)
    (root / "requirements-lock.txt").write_text((ROOT / "requirements-lock.txt").read_text()
                                                .replace("tensorflow==", "tensorflow==9.9.9\n# was "))
    now = lesson_hashes(root)
    assert all(now[name] != base[name] for name in base)


def test_imports_are_followed_through_aliases_relative_imports_and_the_lazy_table():
    from course_utils.instructor.staleness import imported_modules

    code = "import course_utils as cu\nfrom course_utils.checks import lesson07 as checks\nx = cu.evaluate\n%time y = 1"
    assert imported_modules(code) == {"course_utils", "course_utils.checks", "course_utils.checks.lesson07",
                                      "course_utils.evaluation"}
    inside = "def f():\n    from ..acting import mlp_forward\nfrom . import fail"
    assert imported_modules(inside, "course_utils.checks.lesson06") == {
        "course_utils", "course_utils.acting", "course_utils.checks"}
    assert imported_modules("import numpy as np\nnp.evaluate") == set()
    dotted = "import course_utils.replay\ncourse_utils.evaluate(policy)"  # binds course_utils too
    assert imported_modules(dotted) == {"course_utils", "course_utils.replay", "course_utils.evaluation"}


def test_ipython_syntax_is_read_as_ipython_runs_it_and_broken_code_is_named():
    from course_utils.instructor.staleness import imported_modules

    code = "import course_utils as cu\nfiles = !ls\ncu.make_env?\n%matplotlib inline\nenv = cu.make_env('CartPole-v1')"
    assert imported_modules(code) == {"course_utils", "course_utils.envs"}
    with pytest.raises(BuildError, match=r"cannot read the imports of a cell: .* at 'def f\(:'; fix the cell"):
        imported_modules("import course_utils as cu\ndef f(:\n    pass")


def project_copy(tmp_path):
    """Return a copy of the project's lessons and what the build generated from them (no package code)."""
    root = tmp_path / "course"
    for folder in ("notebooks", "exercises", "solutions", "grading"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(ROOT / "course_utils" / "lessons", root / "course_utils" / "lessons")
    for name in ("pyproject.toml", "requirements-lock.txt"):
        shutil.copy(ROOT / name, root / name)
    return root


def test_check_names_every_stale_lesson_and_what_changed(tmp_path):
    root = project_copy(tmp_path)
    assert build(root, check=True) == []
    lock = root / "requirements-lock.txt"
    lock.write_text(lock.read_text() + "# a new pin\n")
    src = root / "notebooks" / "07_reinforce.ipynb"
    nb = read(src)
    nb.cells[0].source += " Edited."
    nbformat.write(nb, src)
    problems = build(root, check=True)
    assert len(problems) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))), problems   # the lock is an input of each
    assert problems[6] == ("solutions/07_reinforce.ipynb is out of date: notebooks/07_reinforce.ipynb, "
                           "requirements-lock.txt changed; run `course build`")
    assert problems[0] == ("solutions/01_gymnasium_random_search.ipynb is out of date: requirements-lock.txt "
                           "changed; run `course build`")


def test_check_follows_a_changed_export_to_the_lessons_that_import_it(tmp_path):
    root = project_copy(tmp_path)
    src = root / "notebooks" / "03_tabular_q_learning.ipynb"
    nb = read(src)
    i = cell_index(nb, "exercise", "03.2")
    nb.cells[i].source = nb.cells[i].source.replace("(ties broken at random)", "(ties broken at random, by rng)")
    nbformat.write(nb, src)
    problems = build(root, check=True)
    assert problems[0].startswith("course_utils/lessons/lesson03.py: line ")
    stale = {p.split(" is out of date: ")[0]: p.split(" is out of date: ")[1] for p in problems[1:]}
    # 03's loop acts with lesson 03's epsilon_greedy; 04-11 import lesson 04's module (its loop or its network)
    assert sorted(stale) == [f"solutions/{name}" for name in ("03_tabular_q_learning.ipynb", "04_deep_q_network.ipynb",
                                                              "05_target_network.ipynb", "06_double_dueling_dqn.ipynb",
                                                              "07_reinforce.ipynb", "08_actor_critic.ipynb",
                                                              "09_ppo.ipynb", "10_debugging.ipynb",
                                                              "11_continuous_actions.ipynb")]
    assert stale["solutions/04_deep_q_network.ipynb"] == "course_utils/lessons/lesson03.py changed; run `course build`"


def test_only_tensorflow_startup_noise_is_dropped_from_solutions():
    from nbformat.v4 import new_output

    from course_utils.instructor.execution import is_library_noise

    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             "I0000 00:00:1795303764.067312   15464 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n")
    assert is_library_noise(new_output("stream", name="stderr", text=noise))
    assert not is_library_noise(new_output("stream", name="stdout", text=noise))
    assert not is_library_noise(new_output("stream", name="stderr", text=noise + "UserWarning: something real\n"))


def test_a_rebuild_that_changes_only_timings_changes_no_file(course):
    path = course / "solutions" / "00_demo.ipynb"
    before = path.read_text()
    timing_line = next(o["text"] for c in read(path).cells for o in c.get("outputs", []) if "after" in o.get("text", ""))
    assert timing_line.startswith("score 39.50 after 0.") and timing_line.rstrip().endswith(" s")
    said = []
    assert build(course, force=True, log=said.append) == []  # executed again: the timing differs
    assert path.read_text() == before
    assert "00_demo.ipynb: the same cells and outputs as stored but for timings; keeping the stored ones" in said


import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402

REAL_FIND_SPEC, REAL_DISTRIBUTIONS = importlib.util.find_spec, importlib.metadata.distributions


def run_setup_cell(monkeypatch, on_colab, installed, versions_after=None):
    """Run the Colab set-up cell's code with Colab, pip and the installed versions stood in for."""
    import importlib.metadata as md
    import types

    from course_utils.instructor.transforms import colab_cells

    source = colab_cells("https://github.com/o/r", "exercises/x.ipynb")[1].source
    calls = []
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real_find = REAL_FIND_SPEC
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find(name, *a) if installed else None) if name == "course_utils"
                        else real_find(name, *a))
    real = list(REAL_DISTRIBUTIONS())

    class Dist:
        def __init__(self, name, version):
            self.metadata, self.version = {"Name": name}, version

    def distributions():
        if not calls or versions_after is None:
            return real
        return [Dist(d.metadata["Name"], versions_after.get(d.metadata["Name"], d.version)) for d in real]

    monkeypatch.setattr(md, "distributions", distributions)
    shell = types.SimpleNamespace(run_line_magic=lambda magic, line: calls.append((magic, line)))
    exec(source, {"get_ipython": lambda: shell})  # noqa: S102 - the course's own cell
    return calls


def test_the_colab_setup_cell_installs_once_loudly_and_asks_for_a_restart(monkeypatch, capsys):
    assert run_setup_cell(monkeypatch, on_colab=False, installed=False) == []  # not on Colab: nothing
    assert run_setup_cell(monkeypatch, on_colab=True, installed=True) == []    # second run: nothing
    calls = run_setup_cell(monkeypatch, on_colab=True, installed=False)
    assert calls == [("pip", 'install "course-utils @ git+https://github.com/o/r.git"')]  # no -q: pip shows all
    assert capsys.readouterr().out == ""  # nothing already loaded changed
    calls = run_setup_cell(monkeypatch, on_colab=True, installed=False, versions_after={"nbformat": "0.0.1"})  # nbformat: loaded here
    out = capsys.readouterr().out
    assert "Restart the session now (Runtime > Restart session)" in out and "nbformat changed" in out
