#!/usr/bin/env python3
"""Set up and run the course with nothing but Python 3 on the machine.

    python3 tasks.py lab     # create .venv from the lock (once), open JupyterLab on exercises/
    python3 tasks.py test    # create .venv from the lock (once), run the tests: the fast tier, a test
                             #   file per core (--all: the slow tier too, see CONTRIBUTING.md)
    python3 tasks.py lock    # instructors: rebuild requirements-lock.txt in a throwaway venv
                             #   (--keep: move only what a change of the ranges needs)
    python3 tasks.py matrix  # maintainers: install on Python 3.11-3.13, run lessons 01 and 04, print a table
    python3 tasks.py colab   # maintainers: install with Colab's recorded versions (ipywidgets 7.7.1, ...),
                             #   run the widget, progress-bar and player tests there, print a table
    python3 tasks.py site    # build the course website from solutions/ into _site/, in .venv-site
                             #   (--lessons 04: the home page and lesson 04 only)

Arguments after the command go to JupyterLab or pytest, for example
``python3 tasks.py lab --port 8890`` or ``python3 tasks.py test -k replay``.

The virtual environment lives in ``.venv`` inside the project. It is (re)installed
only when ``requirements-lock.txt`` or ``pyproject.toml`` changed since the last
install. This file uses the standard library only.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements-lock.txt"
STAMP = VENV / ".course-install-stamp"
MIN_PYTHON, MAX_PYTHON = (3, 11), (3, 13)

# Quiet, headless defaults for every command run from here (tests, JupyterLab kernels).
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "SDL_VIDEODRIVER": "dummy",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def venv_python() -> Path:
    """Return the path of the project venv's Python interpreter."""
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def venv_bin(name: str) -> Path:
    """Return the path of a console script installed in the project venv."""
    sub = f"Scripts/{name}.exe" if os.name == "nt" else f"bin/{name}"
    return VENV / sub


def run(cmd: list, **kwargs) -> None:
    """Run a command, echoing it; exit with its status when it fails."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def check_python() -> None:
    """Refuse to go on with a Python the course does not support."""
    version = sys.version_info[:2]
    if not MIN_PYTHON <= version <= MAX_PYTHON:
        sys.exit(
            f"tasks.py: Python {platform.python_version()} is not supported; the course "
            f"needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} to {MAX_PYTHON[0]}.{MAX_PYTHON[1]}. "
            "Run this file with a supported python3 (for example python3.11)."
        )


def install_fingerprint() -> str:
    """Return a hash of what decides the venv's contents."""
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def normalized(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def unlocked(installed: list, lock_text: str) -> list:
    """The installed distributions that the lock does not name (pip and the course itself aside)."""
    locked = {normalized(line.split("==")[0]) for line in lock_text.splitlines()
              if line.strip() and not line.startswith("#")}
    return sorted(name for name in installed if normalized(name) not in locked | {"pip", "course-utils"})


def installed_distributions(python: Path) -> list:
    """The names of the distributions installed for ``python``."""
    listed = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "list", "--format=json"],
                            capture_output=True, text=True)
    return [row["name"] for row in json.loads(listed.stdout or "[]")] if listed.returncode == 0 else []


def ensure_venv() -> None:
    """Create .venv and install the locked versions and the course package, if needed."""
    check_python()
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint and venv_python().exists():
        return
    stale = unlocked(installed_distributions(venv_python()), LOCK.read_text()) if venv_python().exists() else []
    if stale:
        # Installing the lock over them would leave them in place (pip removes nothing), and one
        # may share files with a locked one (pygame-ce and pygame): start from an empty venv.
        print(f"{VENV} holds {', '.join(stale)}, which the lock no longer names: creating it again ...", flush=True)
    if stale or not venv_python().exists():
        print(f"Creating the course's virtual environment in {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True, clear=True)
    pip = [venv_python(), "-m", "pip", "--disable-pip-version-check"]
    run(pip + ["install", "--quiet", "--upgrade", "pip"])
    print("Installing the locked versions (a few minutes the first time) ...", flush=True)
    locked = subprocess.run([str(c) for c in pip + ["install", "--quiet", "-r", LOCK]])
    if locked.returncode != 0:
        if os.environ.get("CI"):
            sys.exit("tasks.py: installing requirements-lock.txt failed (CI does not fall back).")
        print(
            "\nThe exact lock did not install on this machine (its versions were tested on "
            "Linux with the Python named in its header). Falling back to the package's "
            "version ranges; run `course doctor` afterwards to check the result.\n",
            flush=True,
        )
        run(pip + ["install", "--quiet", "-e", f"{ROOT}[dev]"])
    else:
        run(pip + ["install", "--quiet", "--no-deps", "--no-build-isolation", "-e", ROOT])
    STAMP.write_text(fingerprint)


def child_env() -> dict:
    """Return the environment for commands run inside the venv."""
    env = dict(os.environ)
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    env["PATH"] = str(venv_python().parent) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    return env


def lab(args: list) -> None:
    """Open JupyterLab on the exercises (or on the project while none are built)."""
    ensure_venv()
    root_dir = ROOT / "exercises"
    if not root_dir.is_dir():
        root_dir = ROOT
    cmd = [venv_bin("jupyter"), "lab", f"--ServerApp.root_dir={root_dir}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        # Jupyter refuses root unless told; root is common in containers and CI.
        print("tasks.py: running as root, so passing --allow-root to JupyterLab", flush=True)
        cmd.append("--allow-root")
    print("+", " ".join(str(c) for c in cmd), flush=True)
    try:
        sys.exit(subprocess.run([str(c) for c in cmd], env=child_env()).returncode)
    except KeyboardInterrupt:
        sys.exit(0)


def test_processes() -> int:
    """Processes that share out the test files: one per core, at most 4 (each imports TensorFlow)."""
    return max(1, min(4, os.cpu_count() or 1))


def pytest_args(args: list, processes: int | None = None) -> list:
    """Return pytest's arguments for ``tasks.py test ARGS``.

    The fast tier (every test not marked ``slow``) unless ``--all`` asks for both tiers or the
    arguments choose markers (``-m``) themselves; the test files shared out over ``processes``
    (pytest-xdist, a whole file to one process, so a file's fixtures run once) unless the
    arguments say how (``-n 0`` runs in this process, for ``--pdb``).
    """
    processes = test_processes() if processes is None else processes
    chosen = [a for a in args if a != "--all"]
    tier = [] if "--all" in args or any(a == "-m" or a.startswith("-m") and not a.startswith("--")
                                        for a in args) else ["-m", "not slow"]
    says_how = any(a in ("-n", "--numprocesses", "no:xdist") or a.startswith(("-n", "--numprocesses="))
                   for a in chosen)
    spread = [] if says_how or processes < 2 else ["-n", str(processes), "--dist", "loadfile"]
    return [*tier, *spread, *chosen]


def test(args: list) -> None:
    """Run the test suite inside the venv: the fast tier, or with ``--all`` the slow tier too."""
    ensure_venv()
    env = child_env()
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("TQDM_DISABLE", "1")
    run([venv_python(), "-m", "pytest", *pytest_args(args)], cwd=ROOT, env=env)


def lock(args: list) -> None:
    """Rebuild requirements-lock.txt from pyproject's ranges in a throwaway venv.

    Everything moves to the newest release the ranges allow. With ``--keep``, the current
    lock is a pip constraint: every locked version the ranges still allow stays, and only
    what a change of the ranges needs moves (a new dependency gets its newest release).
    """
    check_python()
    if any(arg != "--keep" for arg in args):
        sys.exit(f"tasks.py lock: unknown argument(s) {[a for a in args if a != '--keep']}; "
                 "the only one is --keep (keep the locked versions the ranges still allow)")
    keep = ["--constraint", LOCK] if "--keep" in args else []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_venv = Path(tmp) / "venv"
        venv.create(tmp_venv, with_pip=True)
        py = tmp_venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        run([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel", *keep])
        run([py, "-m", "pip", "install", "--quiet", f"{ROOT}[dev]", *keep])
        frozen = subprocess.run(
            [str(py), "-m", "pip", "freeze", "--all", "--exclude", "course-utils"],
            check=True, capture_output=True, text=True,
        ).stdout
    pins = sorted(
        (line for line in frozen.splitlines() if line and not line.startswith("pip==")),
        key=str.lower,
    )
    header = [
        "# Exact versions the course was tested with (CI, Dockerfile, environment.yml install this).",
        f"# Made by `python3 tasks.py lock{' --keep' if keep else ''}` with Python {platform.python_version()} "
        f"on {platform.system()} {platform.machine()}.",
        "# Do not edit by hand: change the ranges in pyproject.toml and run it again.",
    ]
    LOCK.write_text("\n".join(header + pins) + "\n")
    print(f"wrote {LOCK} ({len(pins)} packages)")


MATRIX_PYTHONS = ["3.11", "3.12", "3.13"]
MATRIX_LESSONS = ["01", "04"]
# Executes one notebook headless in the matrix venv (its own Python, so its own kernel).
RUN_NOTEBOOK = (
    "import sys, tempfile, nbformat, nbclient\n"
    "nb = nbformat.read(sys.argv[1], as_version=4)\n"
    "with tempfile.TemporaryDirectory() as scratch:\n"
    "    nbclient.NotebookClient(nb, timeout=1200, kernel_name='python3',\n"
    "                            resources={'metadata': {'path': scratch}}).execute()\n"
)


def python_version(python: Path) -> str | None:
    """Return the full version ("3.12.1") an interpreter reports, or None if it does not run
    (a pyenv shim for a version that is not selected prints an error instead)."""
    try:
        done = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def find_python(version: str) -> Path | None:
    """Return a working interpreter of Python ``version`` ("3.12"): on PATH, else the newest
    patch release under ~/.pyenv/versions."""
    import shutil

    candidates = [Path(found)] if (found := shutil.which(f"python{version}")) else []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"

    def newest_first(folder: Path) -> tuple:
        return tuple(-int(part) if part.isdigit() else 0 for part in folder.name.split("."))

    candidates += [folder / "bin" / f"python{version}" for folder in sorted(pyenv.glob(f"{version}.*"), key=newest_first)]
    for candidate in candidates:
        full = python_version(candidate) if candidate.exists() else None
        if full and (full == version or full.startswith(version + ".")):
            return candidate
    return None


def matrix(args: list) -> None:
    """Maintainers: on each Python 3.11-3.13 found, check that the lock installs as it is (pip's
    dry run: every pinned version has a release for that Python), install the package from its
    version ranges (not the lock) into .matrix/pyX.Y and run lessons 01 and 04's solutions;
    print a table.

    ``python3 tasks.py matrix 3.12 3.13`` picks versions. CI keeps one Python; this is for
    checking the ranges before a release.
    """
    import time

    rows = []
    for version in args or MATRIX_PYTHONS:
        python = find_python(version)
        if python is None:
            rows.append([version, "not found", "", "", "", ""])
            continue
        env_dir = ROOT / ".matrix" / f"py{version}"
        py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        start = time.monotonic()
        made = subprocess.run([str(python), "-m", "venv", "--clear", str(env_dir)])
        pip = [str(py), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
        ready = made.returncode == 0 and subprocess.run(pip + ["--upgrade", "pip"]).returncode == 0
        locked = ready and subprocess.run(pip + ["--dry-run", "-r", str(LOCK)], capture_output=True, text=True)
        lock_cell = "-" if not ready else "ok" if locked.returncode == 0 else "FAILED: " + (
            [line for line in locked.stderr.splitlines() if line.startswith("ERROR")] or ["pip failed"])[-1][:80]
        start = time.monotonic()
        installed = ready and subprocess.run(pip + [f"{ROOT}[instructor]"]).returncode == 0
        row = [f"{version} ({python_version(python)})", lock_cell,
               f"{'ok' if installed else 'FAILED'} ({time.monotonic() - start:.0f} s)"]
        env = {**child_env(), "COURSE_HEADLESS": "1", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
               "PATH": str(py.parent) + os.pathsep + os.environ.get("PATH", "")}
        for lesson in MATRIX_LESSONS:
            if not installed:
                row.append("-")
                continue
            notebook = next((ROOT / "solutions").glob(f"{lesson}_*.ipynb"))
            start = time.monotonic()
            done = subprocess.run([str(py), "-c", RUN_NOTEBOOK, str(notebook)], env=env, capture_output=True, text=True)
            last = (done.stderr.strip().splitlines() or [""])[-1][:80]
            row.append(f"ok ({time.monotonic() - start:.0f} s)" if done.returncode == 0 else f"FAILED: {last}")
        versions = subprocess.run(
            [str(py), "-c", "from importlib.metadata import version as v; "
             "print(', '.join(f'{p} {v(p)}' for p in ('tensorflow', 'keras', 'numpy', 'gymnasium')))"],
            capture_output=True, text=True).stdout.strip() if installed else ""
        rows.append(row + [versions])
    head = ["Python", "lock installs", "install from ranges", *(f"lesson {n}" for n in MATRIX_LESSONS), "resolved"]
    print("| " + " | ".join(head) + " |\n|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if any("FAILED" in cell or cell == "not found" for row in rows for cell in row):
        sys.exit(1)


COLAB_LISTS = ROOT / "tests" / "data" / "colab"
# What `colab` runs on Colab's versions: the notebook side (widgets, progress bars, video).
COLAB_TESTS = ["tests/test_widgets.py", "tests/test_player.py", "tests/test_progress.py"]
COLAB_REPORTED = ("ipywidgets", "ipython", "ipykernel", "tqdm", "tensorflow", "numpy", "gymnasium", "pygame")


def colab_constraints(freeze: str) -> str:
    """Colab's ``pip freeze`` as pip constraints: its ``name==version`` lines only (``name @ url``
    lines are Colab's own builds, or builds from other indexes, and cannot be installed from PyPI)."""
    lines = [line.strip() for line in freeze.splitlines()]
    return "".join(line + "\n" for line in lines if re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9._+!-]+", line))


def project_copy(where: Path) -> Path:
    """Copy what pip builds the package from, so that building it leaves nothing in the checkout."""
    import shutil

    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, where / name)
    for name in ("course_utils", "grading"):
        shutil.copytree(ROOT / name, where / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return where


def colab(args: list) -> None:
    """Maintainers: for each Colab package list in tests/data/colab/, install the package into
    .matrix/colab-pyX.Y with that list's versions as constraints (ipywidgets 7.7.1, IPython 7.34,
    ipykernel 6.17.1, ...) and run the notebook-side tests there; print a table.

    ``python3 tasks.py colab 3.12`` picks lists by Python. The default suite runs the same tests
    with the lock's ipywidgets 8; this is where they run with Colab's 7.7.
    """
    import time

    lists = sorted(COLAB_LISTS.glob("pip-freeze-*-python*.txt"))
    pythons = {path: re.search(r"python(\d+\.\d+)\.txt$", path.name).group(1) for path in lists}
    rows = []
    for freeze in [path for path in lists if not args or pythons[path] in args]:
        version = pythons[freeze]
        python = find_python(version)
        if python is None:
            rows.append([freeze.name, version, "not found", "", ""])
            continue
        env_dir = ROOT / ".matrix" / f"colab-py{version}"
        py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        start = time.monotonic()
        made = subprocess.run([str(python), "-m", "venv", "--clear", str(env_dir)])
        constraints = env_dir / "colab-constraints.txt"
        if made.returncode == 0:
            constraints.write_text(colab_constraints(freeze.read_text()))
        pip = [str(py), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
        installed = made.returncode == 0 and subprocess.run(pip + ["--upgrade", "pip"]).returncode == 0 \
            and subprocess.run(pip + ["--constraint", str(constraints), str(project_copy(env_dir / "src")),
                                      "pytest", "nbclient", "nbformat", "ipykernel"]).returncode == 0
        row = [freeze.name, f"{version} ({python_version(python)})",
               f"{'ok' if installed else 'FAILED'} ({time.monotonic() - start:.0f} s)"]
        if not installed:
            rows.append(row + ["-", ""])
            continue
        env = {**child_env(), "VIRTUAL_ENV": str(env_dir), "MPLBACKEND": "Agg",
               "PATH": str(py.parent) + os.pathsep + os.environ.get("PATH", "")}
        start = time.monotonic()
        done = subprocess.run([str(py), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *COLAB_TESTS],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        print(done.stdout[-3000:], done.stderr[-2000:], sep="", flush=True)
        summary = (done.stdout.strip().splitlines() or [""])[-1].strip("= ")
        row.append(f"{'ok' if done.returncode == 0 else 'FAILED'}: {summary}")
        versions = subprocess.run(
            [str(py), "-c", "from importlib.metadata import version as v; "
             f"print(', '.join(f'{{p}} {{v(p)}}' for p in {COLAB_REPORTED!r}))"],
            capture_output=True, text=True).stdout.strip()
        rows.append(row + [versions])
    head = ["Colab list", "Python", "install", "notebook-side tests", "installed"]
    print("| " + " | ".join(head) + " |\n|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if not rows or any("FAILED" in cell or cell == "not found" for row in rows for cell in row):
        sys.exit(1)


SITE_VENV = ROOT / ".venv-site"
SITE_LOCK = ROOT / "site" / "requirements-site.txt"


def ensure_site_venv() -> Path:
    """Create .venv-site from site/requirements-site.txt, if needed; return its Python.

    The website's packages (Sphinx, MyST-NB, ...) stay out of .venv, which is what students
    install; like .venv, it is installed again only when its lock or the Python changed.
    """
    check_python()
    python = SITE_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stamp = SITE_VENV / ".site-install-stamp"
    fingerprint = hashlib.sha256(SITE_LOCK.read_bytes() + platform.python_version().encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == fingerprint and python.exists():
        return python
    print(f"Creating the website's virtual environment in {SITE_VENV} ...", flush=True)
    # From empty each time: pip would leave in place what the lock no longer names.
    venv.create(SITE_VENV, with_pip=True, clear=True)
    run([python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "-r", SITE_LOCK])
    stamp.write_text(fingerprint)
    return python


def site(args: list) -> None:
    """Build the course website from solutions/ into _site/ (see site/build_site.py)."""
    python = ensure_site_venv()
    run([python, ROOT / "site" / "build_site.py", *args], cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


COMMANDS = {"lab": lab, "test": test, "lock": lock, "matrix": matrix, "colab": colab, "site": site}


def main(argv: list) -> None:
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
