import subprocess
import sys

import pytest

import course_utils


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_and_every_core_helper_leave_tensorflow_unimported():
    code = (
        "import sys, course_utils as cu\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "for name in cu.__all__: getattr(cu, name)\n"
        "cu.seed_everything(0); cu.make_env('CartPole-v1', seed=0)\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_exports_resolve_and_unknown_names_fail_clearly():
    assert course_utils.ReplayBuffer.__module__ == "course_utils.replay"
    assert set(course_utils.__all__) <= set(dir(course_utils))
    with pytest.raises(AttributeError, match="has no attribute 'train_agent'"):
        course_utils.train_agent  # noqa: B018


def test_course_command_version_and_help(course_cmd):
    version = subprocess.run([course_cmd, "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"course_utils {course_utils.__version__}"
    bare = subprocess.run([course_cmd], capture_output=True, text=True)
    assert bare.returncode == 2 and "doctor" in bare.stdout
    bad = subprocess.run([course_cmd, "fly"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'fly'" in bad.stderr
