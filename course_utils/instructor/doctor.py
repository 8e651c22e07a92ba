"""``course doctor``: check a student's set-up and say what to fix."""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Callable, Iterable

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

DIST = "course-utils"
FIX_ALL = "run `python3 tasks.py lab` in the course folder: it installs the tested versions into .venv"


@dataclass
class Finding:
    """The outcome of one check: status is "ok", "warn" or "fail"."""

    status: str
    what: str
    fix: str = ""


def check_python(version: str | None = None, requires: str | None = None) -> Finding:
    """Return whether this Python is one the course supports."""
    version = version or platform.python_version()
    if requires is None:
        requires = metadata.metadata(DIST)["Requires-Python"]
    if SpecifierSet(requires).contains(version):
        return Finding("ok", f"Python {version} (course supports {requires})")
    return Finding(
        "fail",
        f"Python {version} is outside what the course supports ({requires})",
        "install a supported Python (3.11 is what CI tests) and create the environment again",
    )


def check_requirement(requirement: str) -> Finding:
    """Return whether the installed version of one dependency satisfies its range."""
    req = Requirement(requirement)
    try:
        installed = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return Finding("fail", f"{req.name} is not installed (needs {req.specifier or 'any'})",
                       f'pip install "{req}"  (or {FIX_ALL})')
    if req.specifier and not req.specifier.contains(installed, prereleases=True):
        return Finding("fail", f"{req.name} {installed} is installed, the course needs {req.specifier}",
                       f'pip install "{req}"  (or {FIX_ALL})')
    return Finding("ok", f"{req.name} {installed} (needs {req.specifier or 'any'})")


def runtime_requirements() -> list[str]:
    """Return the package's runtime requirements that apply to this machine (no extras)."""
    reqs = []
    for line in metadata.requires(DIST) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            reqs.append(line)
    return reqs


# The modules the lessons import; the course asks for the distribution of the same name ("_" as "-").
COURSE_MODULES = ("tensorflow", "keras", "gymnasium", "pygame", "numpy", "matplotlib", "ipywidgets",
                  "imageio", "imageio_ffmpeg", "tqdm", "tensorboard")


def check_one_distribution_per_module(owners: dict | None = None) -> Finding:
    """Return whether each module the course imports is written by one distribution only.

    ``owners`` maps a module to the distributions that write it (default: what is installed,
    from ``importlib.metadata.packages_distributions``). Two of them, such as pygame and
    pygame-ce (which ``gymnasium[classic-control]`` brings), overwrite each other's files.
    """
    if owners is None:
        owners = metadata.packages_distributions()
    shared = {m: sorted(set(owners.get(m, ()))) for m in COURSE_MODULES if len(set(owners.get(m, ()))) > 1}
    if not shared:
        return Finding("ok", "each module the course imports comes from one distribution")
    what = "; ".join(f"{' and '.join(dists)} both write the module {module!r}" for module, dists in shared.items())
    fix = "; ".join(f"pip uninstall -y {' '.join(dists)} && pip install {module.replace('_', '-')}"
                    for module, dists in shared.items())
    return Finding("warn", what, f"{fix}  (removing only one of them deletes files the other one uses)")


def check_keras() -> Finding:
    """Return whether TensorFlow and Keras 3 import and run a tiny model."""
    start = time.perf_counter()
    import keras
    import tensorflow as tf

    seconds = time.perf_counter() - start
    if not keras.__version__.startswith("3."):
        return Finding("fail", f"Keras {keras.__version__} is not Keras 3", f'pip install "keras>=3"  (or {FIX_ALL})')
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    out = model(tf.zeros((1, 4)))
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU only (the course is sized for a 2-core CPU)"
    intra = tf.config.threading.get_intra_op_parallelism_threads() or "all cores"
    inter = tf.config.threading.get_inter_op_parallelism_threads() or "all cores"
    return Finding("ok", f"TensorFlow {tf.__version__} / Keras {keras.__version__} ran a model "
                         f"(output {tuple(out.shape)}); import took {seconds:.1f} s; {device}; "
                         f"TF threads: intra-op {intra}, inter-op {inter}")


def check_render() -> Finding:
    """Return whether CartPole renders a frame off-screen."""
    from ..envs import make_env

    env = make_env("CartPole-v1", seed=0, render_mode="rgb_array")
    try:
        frame = env.render()
    finally:
        env.close()
    if frame is None or getattr(frame, "ndim", 0) != 3:
        return Finding("fail", "CartPole-v1 did not render an RGB frame",
                       'pip install "pygame>=2.1.3"  (Gymnasium draws CartPole with it)')
    return Finding("ok", f"CartPole-v1 rendered a {frame.shape[1]}x{frame.shape[0]} frame with no display")


def check_video() -> Finding:
    """Return whether a short MP4 and GIF can be written."""
    import numpy as np

    from ..video import save_video

    frames = [np.full((64, 96, 3), 40 * i, dtype=np.uint8) for i in range(5)]
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {suffix: save_video(frames, os.path.join(tmp, "doctor" + suffix)).stat().st_size
                 for suffix in (".mp4", ".gif")}
    return Finding("ok", f"wrote a 5-frame MP4 ({sizes['.mp4']} bytes) and GIF ({sizes['.gif']} bytes)")


def check_cpu() -> Finding:
    """Return the CPU count and whether it is enough for the lessons' budgets."""
    cpus = os.cpu_count() or 1
    if cpus < 2:
        return Finding("warn", f"{cpus} CPU: training runs will take about twice the times in the README",
                       "give the machine (or Docker) at least 2 CPUs")
    return Finding("ok", f"{cpus} CPUs")


def check_quiet_env(level: str | None = None) -> Finding:
    """Return whether TensorFlow's start-up noise is silenced (``level``: the variable's value)."""
    if level in ("2", "3"):
        return Finding("ok", "TF_CPP_MIN_LOG_LEVEL is set: TensorFlow's start-up log is quiet")
    return Finding("warn", "TF_CPP_MIN_LOG_LEVEL is not set: TensorFlow prints start-up noise",
                   "export TF_CPP_MIN_LOG_LEVEL=3 (tasks.py and the Docker image set it)")


def all_checks() -> list[Callable[[], Finding]]:
    """Return the checks `course doctor` runs, in order."""
    reqs = [lambda r=r: check_requirement(r) for r in runtime_requirements()]
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    return [check_python, *reqs, check_one_distribution_per_module, lambda: check_quiet_env(level), check_keras,
            check_render, check_video, check_cpu]


def run_checks(checks: Iterable[Callable[[], Finding]]) -> Iterable[Finding]:
    """Run checks one by one, turning an unexpected exception into a failed finding."""
    for check in checks:
        try:
            yield check()
        except Exception as err:  # a broken set-up must be reported, not crash the doctor
            name = getattr(check, "__name__", "check")
            yield Finding("fail", f"{name} raised {type(err).__name__}: {err}", FIX_ALL)


def report(findings: Iterable[Finding], out=None) -> int:
    """Print the findings as they come and return the exit code: 1 if any failed, else 0."""
    out = out or sys.stdout
    print(f"course doctor: Python {platform.python_version()} at {sys.executable}", file=out)
    findings = list(_echo(findings, out))
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    print(f"{failed} problem(s), {warned} warning(s)" + ("" if failed else ": ready for the course"), file=out)
    return 1 if failed else 0


def _echo(findings: Iterable[Finding], out) -> Iterable[Finding]:
    for f in findings:
        print(f"  {f.status.upper():<5} {f.what}", file=out)
        if f.fix and f.status != "ok":
            print(f"        fix: {f.fix}", file=out)
        out.flush()
        yield f


def main() -> int:
    """Run every check and print what to fix; return the exit code."""
    checks = all_checks()  # reads TF_CPP_MIN_LOG_LEVEL as the student set it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep the doctor's own output readable
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return report(run_checks(checks))
