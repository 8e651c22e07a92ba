import io
import os
import subprocess

import pytest

from course_utils.instructor.doctor import (
    Finding,
    check_cpu,
    check_one_distribution_per_module,
    check_python,
    check_quiet_env,
    check_render,
    check_requirement,
    check_video,
    report,
    run_checks,
    runtime_requirements,
)


def test_requirement_ok_wrong_version_and_missing():
    assert check_requirement("numpy>=1.0").status == "ok"
    old = check_requirement("numpy>=999")
    assert old.status == "fail" and "the course needs >=999" in old.what and 'pip install "numpy>=999"' in old.fix
    missing = check_requirement("no-such-package-for-the-course>=1")
    assert missing.status == "fail" and "is not installed" in missing.what


def test_python_range():
    assert check_python("3.11.7", ">=3.11,<3.14").status == "ok"
    bad = check_python("3.9.2", ">=3.11,<3.14")
    assert bad.status == "fail" and "outside" in bad.what
    # with no range given, the doctor reads the installed package's Requires-Python: 3.11-3.13
    assert [check_python(v).status for v in ("3.10.13", "3.11.0", "3.13.1", "3.14.0")] == ["fail", "ok", "ok", "fail"]


def test_runtime_requirements_leave_out_the_dev_extra():
    from packaging.requirements import Requirement

    names = [Requirement(r).name for r in runtime_requirements()]
    assert "tensorflow" in names and "gymnasium" in names and "pytest" not in names


def test_checks_on_this_machine():
    assert check_render().status == "ok"
    assert check_video().status == "ok"

@pytest.mark.parametrize("count, status, words", [(1, "warn", "1 CPU: training runs will take about twice"),
                                                  (None, "warn", "1 CPU"), (2, "ok", "2 CPUs"), (16, "ok", "16 CPUs")])
def test_cpu_check_warns_below_two(monkeypatch, count, status, words):
    monkeypatch.setattr(os, "cpu_count", lambda: count)
    finding = check_cpu()
    assert finding.status == status and words in finding.what
    assert check_quiet_env("3").status == "ok" and check_quiet_env(None).status == "warn"


def test_two_distributions_of_one_module_are_named_with_the_fix():
    assert check_one_distribution_per_module().status == "ok"  # this environment, from the lock
    owners = {"pygame": ["pygame", "pygame-ce"], "google": ["protobuf", "google-auth"], "numpy": ["numpy"]}
    finding = check_one_distribution_per_module(owners)
    assert finding.status == "warn" and finding.what == "pygame and pygame-ce both write the module 'pygame'"
    assert finding.fix.startswith("pip uninstall -y pygame pygame-ce && pip install pygame  (removing only one")


def test_a_crashing_check_becomes_a_failure_and_exit_code_1():
    def check_boom():
        raise RuntimeError("boom")

    out = io.StringIO()
    code = report(run_checks([lambda: Finding("ok", "fine"), check_boom]), out=out)
    text = out.getvalue()
    assert code == 1
    assert "OK    fine" in text and "FAIL  check_boom raised RuntimeError: boom" in text and "fix:" in text
    assert "1 problem(s)" in text


def test_warnings_alone_exit_0():
    out = io.StringIO()
    assert report([Finding("warn", "slow", "add CPUs")], out=out) == 0
    assert "fix: add CPUs" in out.getvalue()


def test_course_doctor_command_passes_on_this_machine(course_cmd):
    result = subprocess.run([course_cmd, "doctor"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s)" in result.stdout
    assert "CartPole-v1 rendered" in result.stdout and "TensorFlow" in result.stdout
    assert "TF threads: intra-op" in result.stdout
