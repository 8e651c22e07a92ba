"""The README's open-the-course command starts a real JupyterLab that answers on its port."""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


@pytest.mark.slow
def test_tasks_lab_serves_jupyterlab(tmp_path):
    port, token = free_port(), secrets.token_hex(8)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    cmd = [sys.executable, str(ROOT / "tasks.py"), "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = get(f"{base}/api/status?token={token}")
                break
            except OSError:
                time.sleep(0.5)
        if status is None:
            proc.kill()
            output = proc.communicate(timeout=20)[0].decode(errors="replace")
            raise AssertionError(f"JupyterLab did not answer (exit {proc.poll()}):\n{output[-3000:]}")
        assert status[0] == 200
        code, page = get(f"{base}/lab?token={token}")
        assert code == 200 and "JupyterLab" in page
        _, listing = get(f"{base}/api/contents?token={token}")
        names = {item["name"] for item in json.loads(listing)["content"]}
        expected_root = ROOT / "exercises" if (ROOT / "exercises").is_dir() else ROOT
        assert names == {p.name for p in expected_root.iterdir() if not p.name.startswith(".")}
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End the server and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
