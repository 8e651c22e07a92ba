"""The set-up files agree with each other: pyproject, the lock, README, CI, conda, Docker."""
import ast
import json
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK_TEXT = (ROOT / "requirements-lock.txt").read_text()


def lock_pins() -> dict:
    pins = {}
    for line in LOCK_TEXT.splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def lock_python() -> str:
    return re.search(r"with Python (\d+\.\d+)\.\d+", LOCK_TEXT).group(1)


def declared_requirements() -> list:
    project = PYPROJECT["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    own = canonicalize_name(project["name"])  # dev = course-utils[instructor,lab] + test tools
    return [r for r in reqs if (r.marker is None or r.marker.evaluate()) and canonicalize_name(r.name) != own]


def test_lock_holds_only_exact_pins():
    pins = lock_pins()
    assert len(pins) > 50
    for line in LOCK_TEXT.splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line), line


@pytest.mark.parametrize("req", declared_requirements(), ids=str)
def test_lock_satisfies_every_pyproject_range(req):
    pins = lock_pins()
    name = canonicalize_name(req.name)
    assert name in pins, f"{req.name} is required by pyproject.toml but missing from the lock"
    assert req.specifier.contains(pins[name], prereleases=True), (
        f"the lock pins {req.name}=={pins[name]}, outside pyproject's range {req.specifier}; "
        "run `python3 tasks.py lock`"
    )


def test_lock_has_what_the_extras_pull_in():
    """A dependency asked for with an extra (course-utils[...] aside) brings the extra's packages into the lock."""
    pins = lock_pins()
    for req in declared_requirements():
        for extra in req.extras:
            for line in metadata.requires(req.name) or []:
                sub = Requirement(line)
                if sub.marker is not None and sub.marker.evaluate({"extra": extra}):
                    assert canonicalize_name(sub.name) in pins, f"{sub.name} ({req.name}[{extra}])"


def test_lock_has_pygame_and_no_second_distribution_of_it():
    """CartPole renders with plain pygame (what Colab ships); pygame-ce would write the same package."""
    pins = lock_pins()
    assert "pygame" in pins and "pygame-ce" not in pins


def test_installed_versions_are_the_lock():
    """The environment the tests run in was installed from the lock."""
    for name, version in lock_pins().items():
        assert metadata.version(name) == version, f"{name}: installed {metadata.version(name)}, locked {version}"


def test_pyproject_uses_ranges_with_lower_bounds_never_exact_pins():
    for line in PYPROJECT["project"]["dependencies"]:
        req = Requirement(line)
        ops = {spec.operator for spec in req.specifier}
        assert ops & {">=", ">"}, f"{line}: needs a lower bound"
        assert not ops & {"==", "===", "~="}, f"{line}: no exact pins in the package (Colab must resolve it)"


def names(requirements) -> set:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_pyproject_runtime_is_what_the_lessons_import_and_tools_are_extras():
    project = PYPROJECT["project"]
    runtime, extras = names(project["dependencies"]), project["optional-dependencies"]
    assert runtime == {"tensorflow", "keras", "gymnasium", "pygame", "numpy", "matplotlib", "ipywidgets",
                       "imageio", "imageio-ffmpeg", "tqdm", "tensorboard"}
    assert {"nbval", "nbformat", "nbclient", "packaging"} <= names(extras["instructor"])
    assert names(extras["lab"]) == {"jupyterlab"}
    assert "course-utils[instructor,lab]" in extras["dev"] and "pytest" in names(extras["dev"])
    runtime_reqs = [Requirement(r) for r in project["dependencies"]]
    assert not any(r.extras for r in runtime_reqs), "an extra such as gymnasium[classic-control] brings pygame-ce"
    ipywidgets = next(r for r in runtime_reqs if r.name == "ipywidgets")
    assert ipywidgets.specifier.contains("7.7.1") and ipywidgets.specifier.contains("8.1.9")  # Colab's and the lock's
    assert project["scripts"]["course"] == "course_utils.instructor.cli:main"


def test_student_modules_import_no_instructor_dependency():
    """What the notebooks import (course_utils outside instructor/) runs with the runtime dependencies."""
    tools = {"nbval", "nbformat", "nbclient", "jupyterlab", "pytest", "packaging"}
    for path in (ROOT / "course_utils").rglob("*.py"):
        if "instructor" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        assert not imported & tools, f"{path.relative_to(ROOT)} imports {imported & tools}"


def test_python_range_is_3_11_to_3_13():
    """3.10 reached its end of life in October 2026 and the lock's Keras needs 3.11; TensorFlow has no 3.14 wheels."""
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert all(spec.contains(v) for v in ("3.11.0", "3.11.7", "3.12.3", "3.13.1"))
    assert not any(spec.contains(v) for v in ("3.9.18", "3.10.13", "3.14.0"))
    tasks = load_tasks()
    assert (tasks.MIN_PYTHON, tasks.MAX_PYTHON) == ((3, 11), (3, 13))
    assert spec.contains(lock_python() + ".0")


def readme_setup_commands() -> list:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up: two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_gives_two_commands_one_opens_the_course_one_tests():
    assert readme_setup_commands() == ["python3 tasks.py lab", "python3 tasks.py test"]


def test_ci_runs_exactly_the_readme_test_command():
    """Beside the README's test command, .ci/run only installs Chromium for the browser tests, and tests nothing."""
    text = (ROOT / ".ci" / "run").read_text()
    install = re.search(r"^if .*?^fi$", text, re.S | re.M)
    assert install and "apt-get install -y -q chromium" in install.group(0)
    assert not re.search(r"pytest|tasks\.py|course ", install.group(0)), install.group(0)
    lines = [
        line.strip() for line in text.replace(install.group(0), "").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert lines == [readme_setup_commands()[1]]


def test_tasks_test_runs_the_fast_tier_and_all_of_it_with_all():
    tasks = load_tasks()
    spread = ["-n", "2", "--dist", "loadfile"]
    assert tasks.pytest_args([], processes=2) == ["-m", "not slow", *spread]
    assert tasks.pytest_args(["-k", "replay", "-x"], processes=2) == ["-m", "not slow", *spread, "-k", "replay", "-x"]
    assert tasks.pytest_args(["--all"], processes=2) == spread
    assert tasks.pytest_args(["--all", "-x"], processes=1) == ["-x"]   # one core: no second process
    assert tasks.pytest_args(["-m", "slow"], processes=2) == [*spread, "-m", "slow"]
    assert tasks.pytest_args(["-mslow"], processes=2) == [*spread, "-mslow"]
    assert tasks.pytest_args(["--maxfail=2"], processes=3) == ["-m", "not slow", "-n", "3", "--dist", "loadfile",
                                                                "--maxfail=2"]
    assert tasks.pytest_args(["-n", "0", "--pdb"], processes=2) == ["-m", "not slow", "-n", "0", "--pdb"]
    assert tasks.pytest_args(["-p", "no:xdist"], processes=2) == ["-m", "not slow", "-p", "no:xdist"]
    assert 1 <= tasks.test_processes() <= 4


# What the slow tier holds, and why each is not in the fast one (CONTRIBUTING.md says when it runs).
SLOW_TIER = {
    "tests/test_lessons_elsewhere.py": "every solution again under another seed and other thread counts",
    "tests/test_bench.py": "course bench --quick, every algorithm trained end to end",
    "tests/test_colab_resolve.py": "pip resolving the course against Colab's package lists",
    "tests/test_lab.py": "JupyterLab's start",
}


def test_the_fast_tier_grades_every_lesson_once_and_the_slow_tier_holds_only_what_it_names():
    """The README's command grades each solution as a student runs it and each untouched exercise; `slow` marks
    nothing beyond the tests the slow tier names, so no test drops out of CI by a stray marker."""
    def collected(marker, *where):
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", marker, "-p",
                               "no:cacheprovider", *where], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return [line for line in done.stdout.splitlines() if "::" in line]
    slow = collected("slow", "tests")
    assert {item.split("::")[0] for item in slow} == set(SLOW_TIER)
    fast = collected("not slow", "tests/test_lessons.py", "tests/test_site.py")
    lessons = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    for test in ("test_solution_gets_full_points", "test_untouched_exercise_gets_no_points"):
        assert [f"tests/test_lessons.py::{test}[{lesson}.ipynb]" for lesson in lessons] == \
               [item for item in fast if f"::{test}[" in item]
    assert any("test_page_loads_in_chromium" in item for item in fast)   # the site's browser tests are fast-tier


def test_environment_yml_installs_the_lock_and_the_package():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^channels:\n  - conda-forge\n", text, re.M)
    assert re.search(rf"^  - python={re.escape(lock_python())}$", text, re.M)
    pip_lines = re.findall(r"^      - (.+)$", text, re.M)
    assert pip_lines == ["-r requirements-lock.txt", "-e ."]


def dockerfile_instructions() -> list:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def dockerfile_stages() -> list:
    """The Dockerfile's stages in order, each a list of (KEYWORD, rest) starting with its FROM."""
    stages = []
    for row in dockerfile_instructions():
        if row[0] == "FROM":
            stages.append([])
        stages[-1].append(row)
    return stages


def stage_runs(stage) -> list:
    return [rest for kw, rest in stage if kw == "RUN"]


def stage_env(stage) -> dict:
    return dict(item.split("=", 1) for kw, rest in stage if kw == "ENV" for item in shlex.split(rest))


def test_dockerfile_base_is_pinned_to_the_locks_python():
    froms = [stage[0][1].split()[0] for stage in dockerfile_stages()]
    assert len(set(froms)) == 1, f"both stages use one base, so the environment copied across runs on it: {froms}"
    image, _, tag = froms[0].partition(":")
    assert tag and tag != "latest" and re.search(r"\d", tag), f"pin the base image by tag, got {froms[0]}"
    assert tag.startswith(lock_python() + "."), f"base {froms[0]} vs lock made with Python {lock_python()}"


def student_requirements_snippet() -> str:
    """The Python code the Dockerfile runs to list what a student uses, and the pip line after it."""
    install = next(r for r in stage_runs(dockerfile_stages()[0]) if "pip install -c requirements-lock.txt" in r)
    words = shlex.split(install)
    code = words[words.index("-c", words.index("python")) + 1]
    assert words[words.index("-c", words.index("python")) + 2:][:2] == [">", "student-requirements.txt"]
    assert "pip install -c requirements-lock.txt -r student-requirements.txt" in install
    return code


def test_dockerfile_installs_the_student_extras_at_the_locks_versions():
    """The runtime dependencies with the instructor and lab extras, the lock as constraints; not dev's tools."""
    env_stage = dockerfile_stages()[0]
    copies = [rest for kw, rest in env_stage if kw == "COPY"]
    assert copies and copies[0].split()[:2] == ["pyproject.toml", "requirements-lock.txt"], \
        "copy only what the install reads, so editing the course keeps TensorFlow's layer"
    assert not any("-r requirements-lock.txt" in r for r in stage_runs(env_stage)), "the lock is constraints, not a list"
    listed = subprocess.run([sys.executable, "-c", student_requirements_snippet()], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split("\n")
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    assert [line for line in listed if line] == project["dependencies"] + extras["instructor"] + extras["lab"]
    assert "pytest" not in names(line for line in listed if line)


def test_dockerfile_final_stage_copies_the_environment_and_installs_only_the_course():
    env_stage, final = dockerfile_stages()
    stage_name = env_stage[0][1].split()[-1]
    assert env_stage[0][1].split()[-2].upper() == "AS"
    assert any(kw == "COPY" and f"--from={stage_name}" in rest and rest.split()[-2:] == ["/opt/venv", "/opt/venv"]
               for kw, rest in final)
    assert stage_env(final)["PATH"].startswith("/opt/venv/bin:")
    runs = stage_runs(final)
    assert not any("apt-get" in r or "strip" in r for r in runs), "the tools that trim the environment stay behind"
    pip_lines = [r for r in runs if "pip install" in r]
    assert len(pip_lines) == 1 and "pip install --no-deps --no-build-isolation -e ." in pip_lines[0]
    copies = [rest for kw, rest in final if kw == "COPY"]
    assert copies[-1].split()[-2:] == [".", "."] and "--chown=student:student" in copies[-1]


def test_dockerfile_trims_tensorflow_then_checks_it_trains():
    trim = next(r for r in stage_runs(dockerfile_stages()[0]) if "strip" in r)
    assert 'rm -rf "$tf/include"' in trim and "strip --strip-unneeded" in trim
    assert trim.index("strip --strip-unneeded") < trim.index("m.fit("), "check TensorFlow after stripping it"


def test_dockerfile_keeps_tensorflows_start_up_lines_out_of_the_notebook():
    """TF_CPP_MIN_LOG_LEVEL quiets TensorFlow's log; the kernel config keeps the cudart lines it misses out."""
    env_stage, final = dockerfile_stages()
    assert stage_env(final)["TF_CPP_MIN_LOG_LEVEL"] == "3"
    run = next(r for r in stage_runs(env_stage) if "ipython_kernel_config.py" in r)
    line, path = re.search(r'echo "(.+)" > (\S+)', run).groups()
    assert path == "/opt/venv/etc/ipython/ipython_kernel_config.py"  # sys.prefix/etc/ipython: read by every kernel
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config import Config

    config = Config()
    exec(line, {"c": config})
    assert dict(config) == {"IPKernelApp": {"capture_fd_output": False}}
    assert "capture_fd_output" in IPKernelApp.class_traits(config=True), "ipykernel renamed the option"


def test_dockerfile_serves_jupyterlab_on_the_exercises_as_non_root():
    rows = dockerfile_stages()[-1]
    keywords = [kw for kw, _ in rows]
    assert keywords[-1] == "CMD"
    users = [rest for kw, rest in rows if kw == "USER"]
    assert users and users[-1] not in ("root", "0")
    exposed = {port for kw, rest in rows if kw == "EXPOSE" for port in rest.split()}
    assert {"8888", "6006"} <= exposed
    workdir = [rest for kw, rest in rows if kw == "WORKDIR"][-1]
    cmd = json.loads(rows[-1][1])
    assert cmd[:2] == ["jupyter", "lab"]
    assert "--port=8888" in cmd and "--ip=0.0.0.0" in cmd
    assert f"--ServerApp.root_dir={workdir}/exercises" in cmd


def test_readme_docker_run_publishes_the_dockerfile_ports():
    text = (ROOT / "README.md").read_text()
    run_line = re.search(r"docker run .*?drl-course", text, re.S).group(0)
    args = shlex.split(run_line.replace("\\\n", " "))
    published = {args[i + 1] for i, a in enumerate(args) if a == "-p"}
    assert published == {"8888:8888", "6006:6006"}


def test_dockerignore_keeps_the_venv_out():
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()


def load_tasks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_python(path, version, works=True):
    """A stand-in interpreter that prints ``version`` the way python -c platform.python_version() does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n" if works else "#!/bin/sh\necho 'pyenv: not selected' >&2\nexit 127\n")
    path.chmod(0o755)
    return path


def test_the_matrix_finds_each_python_on_path_or_under_pyenv(tmp_path, monkeypatch):
    tasks = load_tasks()
    for version in ("3.12.4", "3.12.11", "3.13.1"):
        fake_python(tmp_path / "pyenv" / "versions" / version / "bin" / f"python{version[:4]}", version)
    on_path = fake_python(tmp_path / "bin" / "python3.11", "3.11.9")
    fake_python(tmp_path / "bin" / "python3.13", "", works=False)  # a pyenv shim of a version not selected
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert tasks.find_python("3.11") == on_path
    assert tasks.find_python("3.13") == tmp_path / "pyenv" / "versions" / "3.13.1" / "bin" / "python3.13"
    assert tasks.find_python("3.12").parent.parent.name == "3.12.11"  # the newest patch release
    assert tasks.find_python("3.10") is None
    assert tasks.MATRIX_PYTHONS == ["3.11", "3.12", "3.13"] and "matrix" in tasks.COMMANDS


def test_a_venv_holding_what_the_lock_dropped_is_made_again():
    """pip install -r never removes; .venv is rebuilt when it holds a distribution the lock no longer names."""
    tasks = load_tasks()
    lock = "# header\npygame==2.6.1\nPyYAML==6.0.3\njupyter_core==5.9.1\n"
    assert tasks.unlocked(["pygame", "pyyaml", "Jupyter-Core", "pip", "course_utils"], lock) == []
    assert tasks.unlocked(["pygame-ce", "pygame", "pip"], lock) == ["pygame-ce"]


def test_colab_lists_become_constraints_without_colab_s_own_builds():
    tasks = load_tasks()
    freeze = ("# Do not modify this file directly\ngoogle-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n"
              "ipywidgets==7.7.1\ntorch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313.whl\n"
              "ImageIO==2.37.4\npython-dateutil==2.9.0.post0\n\n")
    assert tasks.colab_constraints(freeze) == "ipywidgets==7.7.1\nImageIO==2.37.4\npython-dateutil==2.9.0.post0\n"
    lists = sorted((ROOT / "tests" / "data" / "colab").glob("pip-freeze-*-python*.txt"))
    assert len(lists) == 2 and "colab" in tasks.COMMANDS
    for freeze_list in lists:
        pins = tasks.colab_constraints(freeze_list.read_text()).splitlines()
        assert "ipywidgets==7.7.1" in pins and not any("@" in pin for pin in pins)
    assert all((ROOT / test).is_file() for test in tasks.COLAB_TESTS)
