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


@pytest.mark.parametrize("name", course_utils.__all__)
def test_every_export_resolves_to_the_module_the_table_names(name):
    import importlib

    value = getattr(course_utils, name)
    module = importlib.import_module(f"course_utils.{course_utils._EXPORTS[name]}")
    assert getattr(module, name) is value
    # a function or class is defined there; a constant (cu.HEALTHY) has no __module__ of its own
    assert getattr(value, "__module__", module.__name__) == module.__name__


def test_dir_lists_the_helpers_before_any_is_imported():
    """Tab completion in a notebook shows every helper while none of their modules is loaded."""
    code = (
        "import sys, course_utils; names = dir(course_utils); "
        "print('evaluate' in names, 'passes_with_margin' in names, 'course_utils.evaluation' in sys.modules)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]


def test_unknown_names_fail_clearly():
    with pytest.raises(AttributeError, match="has no attribute 'train_agent'"):
        course_utils.train_agent  # noqa: B018


def test_course_command_version_and_help(course_cmd):
    version = subprocess.run([course_cmd, "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"course_utils {course_utils.__version__}"
    bare = subprocess.run([course_cmd], capture_output=True, text=True)
    assert bare.returncode == 2 and "doctor" in bare.stdout
    bad = subprocess.run([course_cmd, "fly"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'fly'" in bad.stderr
