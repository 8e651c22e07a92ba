"""Installing the course on Colab changes nothing Colab ships.

For each of Colab's recorded package lists (``tests/data/colab/pip-freeze-*-pythonX.Y.txt``,
see the README there), this asks pip what installing the package the way the Colab set-up
cell does (the project, runtime dependencies only, no extras) would do there:

    pip install --dry-run --ignore-installed --report REPORT.json
        --python-version X.Y --platform <Colab's> --only-binary=:all:
        -c COLAB-PINS <a copy of the project>

``COLAB-PINS`` holds the list's ``name==version`` lines (``name @ url`` lines are Colab's own
builds or builds from other indexes and cannot be constraints; they are left out, and
installing any of those names counts as a change). ``--python-version`` and ``--platform``
make pip pick the wheels Colab would get, for the list's Python (3.13, 3.12) on Linux
x86-64, whatever machine runs the test; pip allows them only with ``--only-binary=:all:``
(the project itself is still built from its source).

What counts as a change, each named in the failure:

- upgraded or downgraded: pip cannot meet the package's ranges with Colab's version. pip
  then names the constraint in its conflict; the test drops that constraint and resolves
  again (as often as needed), so the failure names every package that would move and a
  version it would move to (the one that keeps the most of Colab's pins; Colab's own
  ``pip install`` may take a newer one).
- replaced: the resolve installs a name Colab ships as its own build (``name @ url``).
- shadowed: the resolve adds a distribution Colab does not ship that writes a top-level
  module a shipped distribution provides (pygame-ce writes ``pygame``, the module of
  Colab's pygame). The added distribution's modules are read from its wheel (downloaded
  for added distributions only, so none when nothing is added); a shipped distribution's
  module is taken to be its normalized name, or the name in ``IMPORT_NAMES`` where that
  differs.

It needs the package index. It is skipped, saying so, only when a quick request to the
index pip is configured with gets no answer; any other failure fails the test.
"""
from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
COLAB_LISTS = sorted((ROOT / "tests" / "data" / "colab").glob("pip-freeze-*-python*.txt"))
PROJECT = "course-utils"
# The wheel platforms Colab takes: Linux on x86-64 (the lists' own torch wheels are
# manylinux_2_28_x86_64), glibc 2.35 (Ubuntu 22.04). pip does not widen a --platform given to
# it to the older manylinux levels, so each one is named.
COLAB_PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]
MAX_ROUNDS = 12
SHOWN = ("tensorflow", "keras", "numpy", "gymnasium", "pygame", "ipywidgets", "widgetsnbextension",
         "matplotlib", "tqdm")  # named in the summary a passing run prints (pytest -s)

# Distributions whose import name is not their own name (normalized): the module a shipped
# one provides, so that a second distribution writing it is caught.
IMPORT_NAMES = {
    "pillow": "PIL", "opencv-python": "cv2", "opencv-python-headless": "cv2",
    "opencv-contrib-python": "cv2", "opencv-contrib-python-headless": "cv2", "pyyaml": "yaml",
    "scikit-learn": "sklearn", "scikit-image": "skimage", "beautifulsoup4": "bs4",
    "python-dateutil": "dateutil", "pyopengl": "OpenGL",
    "msgpack-python": "msgpack", "psycopg2-binary": "psycopg2", "tensorflow-cpu": "tensorflow",
    "pygame-ce": "pygame", "ipython": "IPython", "pyzmq": "zmq", "attrs": "attr",
}


def python_of(freeze: Path) -> str:
    """The Python a Colab list was taken with, from its file name ("...-python3.13.txt")."""
    return re.search(r"python(\d+\.\d+)\.txt$", freeze.name).group(1)


def read_colab_list(freeze: Path) -> tuple[dict, set]:
    """Return ``({name: version}, {names Colab ships as its own builds})`` of a freeze list."""
    pins, builds = {}, set()
    for line in freeze.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        if " @ " in line:
            builds.add(canonicalize_name(line.split(" @ ")[0]))
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        exact = [s for s in req.specifier if s.operator == "=="]
        if req.extras or req.url or len(exact) != 1:
            continue
        pins[canonicalize_name(req.name)] = exact[0].version
    return pins, builds


def import_name(dist: str) -> str:
    return IMPORT_NAMES.get(dist, dist.replace("-", "_"))


def pip_setting(name: str) -> str | None:
    """A pip setting (``index-url``, ``cert``) as pip sees it: environment, then its config files."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("." + name) and value.strip().strip("'\""):
            return value.strip().strip("'\"").split()[0]
    return None


@lru_cache(maxsize=1)
def index_unreachable() -> str | None:
    """Why the index pip is configured with cannot be reached (a short reason), or None when it answers."""
    index = (pip_setting("index-url") or "https://pypi.org/simple").rstrip("/")
    if not index.startswith(("http://", "https://")):
        return None  # a local index: nothing to reach
    context = ssl.create_default_context(cafile=pip_setting("cert"))
    try:
        urllib.request.urlopen(f"{index}/pip/", timeout=10, context=context).close()
    except urllib.error.HTTPError:
        return None  # it answered
    except (urllib.error.URLError, OSError) as err:
        return f"the package index {index} is unreachable ({getattr(err, 'reason', err)})"
    return None


def needs_index():
    reason = index_unreachable()
    if reason:
        pytest.skip(f"{reason}: the Colab resolve needs it")


@dataclass
class Resolution:
    """What installing ``requirements`` into a Colab runtime would do."""

    colab: str
    python: str
    installed: dict = field(default_factory=dict)  # name -> version, as pip would install
    changes: list = field(default_factory=list)    # one readable line per change

    def summary(self) -> str:
        kept = len([n for n in self.installed if n != PROJECT])
        shown = ", ".join(f"{n} {self.installed[n]}" for n in SHOWN if n in self.installed)
        lines = [f"{self.colab} (Python {self.python}): {kept} distributions resolved, "
                 f"{len(self.changes)} change(s) to what Colab ships", f"  resolved: {shown}, ..."]
        lines += [f"  {change}" for change in self.changes] or ["  would change: nothing"]
        return "\n".join(lines)


def run_pip(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True)


def platform_options() -> list:
    return [option for platform in COLAB_PLATFORMS for option in ("--platform", platform)]


def top_level_modules(name: str, version: str, python: str, scratch: Path) -> set:
    """The importable top-level modules the wheel of ``name==version`` writes (namespace folders left out)."""
    where = scratch / f"wheel-{name}"
    done = run_pip(["download", "--no-deps", "--only-binary=:all:", "--python-version", python,
                    *platform_options(), "-d", str(where), f"{name}=={version}"], scratch)
    assert done.returncode == 0, f"pip download {name}=={version} failed:\n{done.stderr[-2000:]}"
    modules = set()
    for wheel in where.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for path in archive.namelist():
                first, _, rest = path.partition("/")
                if first.endswith((".dist-info", ".data")):
                    continue
                if not rest and first.endswith((".py", ".so", ".pyd")):
                    modules.add(first.split(".")[0])
                elif rest == "__init__.py":
                    modules.add(first)
    return modules


def resolve_on_colab(requirements: list, freeze: Path, scratch: Path) -> Resolution:
    """Resolve ``requirements`` against the Colab list ``freeze``; see the module docstring."""
    pins, builds = read_colab_list(freeze)
    python = python_of(freeze)
    result = Resolution(colab=freeze.name, python=python)
    dropped = {}  # name -> the conflict pip named
    for _ in range(MAX_ROUNDS):
        constraints = scratch / "colab-constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items()) if n not in dropped))
        report = scratch / "report.json"
        done = run_pip(["install", "--dry-run", "--ignore-installed", "--report", str(report),
                        "--python-version", python, *platform_options(), "--only-binary=:all:",
                        "-c", str(constraints), *requirements], ROOT)
        if done.returncode == 0:
            break
        conflicts = {canonicalize_name(m.group(1)): m.group(0).strip() for m in re.finditer(
            r"The user requested \(constraint\) ([A-Za-z0-9._-]+)==\S+", done.stdout + done.stderr)}
        new = {n: c for n, c in conflicts.items() if n in pins and n not in dropped}
        assert new, f"pip could not resolve {requirements} for {freeze.name}:\n{(done.stdout + done.stderr)[-4000:]}"
        dropped.update(new)
    else:
        pytest.fail(f"still conflicting after dropping {sorted(dropped)} from {freeze.name}'s pins")

    for item in json.loads(report.read_text())["install"]:
        meta = item["metadata"]
        result.installed[canonicalize_name(meta["name"])] = meta["version"]
    shipped = {import_name(n): n for n in (*pins, *builds)}
    for name, version in sorted(result.installed.items()):
        if name == PROJECT:
            continue
        if name in pins and Version(version) != Version(pins[name]):
            way = "upgraded" if Version(version) > Version(pins[name]) else "downgraded"
            why = f" (pip: {dropped[name]})" if name in dropped else ""
            result.changes.append(f"{way}: {name} {pins[name]} -> {version}{why}")
        elif name in builds:
            result.changes.append(f"replaced: {name}, which Colab ships as its own build, by {version}")
        elif name not in pins:
            for module in sorted(top_level_modules(name, version, python, scratch)):
                if module in shipped:
                    result.changes.append(f"shadowed: {name} {version} writes the module {module!r} "
                                          f"of Colab's {shipped[module]} {pins.get(shipped[module], '')}".rstrip())
    return result


def test_the_colab_lists_are_there_and_readable():
    """Offline: both runtimes are recorded, with the packages the course cares about pinned."""
    assert [python_of(f) for f in COLAB_LISTS] == ["3.12", "3.13"]
    for freeze in COLAB_LISTS:
        pins, builds = read_colab_list(freeze)
        assert len(pins) > 500 and "google-colab" in builds and "torch" in builds
        assert pins["ipywidgets"] == "7.7.1" and pins["pygame"] == "2.6.1" and "tensorflow" in pins


def project_copy(where: Path) -> Path:
    """tasks.py's copy of what pip builds the package from (``tasks.py colab`` installs from it
    too), so that building its metadata leaves no ``course_utils.egg-info`` in the checkout."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_tasks", ROOT / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    return tasks.project_copy(where)


@pytest.mark.slow
@pytest.mark.parametrize("freeze", COLAB_LISTS, ids=lambda f: f.name)
def test_installing_the_course_on_colab_changes_nothing_colab_ships(freeze, tmp_path):
    needs_index()
    result = resolve_on_colab([str(project_copy(tmp_path / "project"))], freeze, tmp_path)
    print(result.summary())
    assert PROJECT in result.installed
    assert not result.changes, "installing the course on Colab would change what it ships:\n" + result.summary()


@pytest.mark.slow
def test_the_check_names_upgrades_downgrades_and_a_second_pygame(tmp_path):
    """The dependencies before issue 15 upgraded ipywidgets and added pygame-ce: the check must say so
    (and name a downgrade, here of tqdm, as one)."""
    needs_index()
    freeze = next(f for f in COLAB_LISTS if python_of(f) == "3.13")
    old = ["gymnasium[classic-control]>=1.1,<2", "ipywidgets>=8.0,<9", "tqdm<4.67"]
    result = resolve_on_colab(old, freeze, tmp_path)
    print(result.summary())
    text = "\n".join(result.changes)
    assert re.search(r"upgraded: ipywidgets 7\.7\.1 -> 8\.", text), text
    assert re.search(r"upgraded: widgetsnbextension 3\.6\.10 -> 4\.", text), text
    assert re.search(r"shadowed: pygame-ce \S+ writes the module 'pygame' of Colab's pygame 2\.6\.1", text), text
    assert re.search(r"downgraded: tqdm 4\.67\.3 -> 4\.66\.", text), text
    assert len(result.changes) == 4, text
