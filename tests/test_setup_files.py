"""The set-up files agree with each other: pyproject, the lock, README, CI, conda, Docker."""
import ast
import json
import re
import shlex
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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


def test_python_range_is_3_10_to_3_13():
    spec = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert all(spec.contains(v) for v in ("3.10.0", "3.11.7", "3.12.3", "3.13.1"))
    assert not any(spec.contains(v) for v in ("3.9.18", "3.14.0"))
    assert spec.contains(lock_python() + ".0")


def readme_setup_commands() -> list:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up: two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_gives_two_commands_one_opens_the_course_one_tests():
    assert readme_setup_commands() == ["python3 tasks.py lab", "python3 tasks.py test"]


def test_ci_runs_exactly_the_readme_test_command():
    lines = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert lines == [readme_setup_commands()[1]]


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


def test_dockerfile_base_is_pinned_to_the_locks_python():
    froms = [rest for kw, rest in dockerfile_instructions() if kw == "FROM"]
    assert len(froms) == 1
    image, _, tag = froms[0].partition(":")
    assert tag and tag != "latest" and re.search(r"\d", tag), f"pin the base image by tag, got {froms[0]}"
    assert tag.startswith(lock_python() + "."), f"base {froms[0]} vs lock made with Python {lock_python()}"


def test_dockerfile_installs_the_lock_before_the_package():
    rows = dockerfile_instructions()
    runs = [rest for kw, rest in rows if kw == "RUN"]
    copies = [rest for kw, rest in rows if kw == "COPY"]
    lock_install = next(i for i, r in enumerate(runs) if "pip install -r requirements-lock.txt" in r)
    package_install = next(i for i, r in enumerate(runs) if "--no-deps" in r and "-e ." in r)
    assert lock_install < package_install
    assert "requirements-lock.txt" in copies[0]
    assert not any(re.search(r"pip install (?!-r requirements-lock|--no-deps)", r) for r in runs)


def test_dockerfile_serves_jupyterlab_on_the_exercises_as_non_root():
    rows = dockerfile_instructions()
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
    on_path = fake_python(tmp_path / "bin" / "python3.10", "3.10.13")
    fake_python(tmp_path / "bin" / "python3.13", "", works=False)  # a pyenv shim of a version not selected
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert tasks.find_python("3.10") == on_path
    assert tasks.find_python("3.13") == tmp_path / "pyenv" / "versions" / "3.13.1" / "bin" / "python3.13"
    assert tasks.find_python("3.12").parent.parent.name == "3.12.11"  # the newest patch release
    assert tasks.find_python("3.11") is None
    assert tasks.MATRIX_PYTHONS == ["3.10", "3.11", "3.12", "3.13"] and "matrix" in tasks.COMMANDS


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
