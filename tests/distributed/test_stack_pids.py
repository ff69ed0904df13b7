"""Which processes the local stack counts as its own (deploy/local/stack.py `Stack.pid`)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.stack import Stack


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """Another program, past its exec (until then its cmdline reads empty)."""
    child = subprocess.Popen(["sleep", "30"])
    cmdline = Path(f"/proc/{child.pid}/cmdline")
    deadline = time.monotonic() + 10
    while not cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    yield child
    child.kill()
    child.wait()


def test_a_pid_reused_by_another_program_is_not_ours(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    stack = Stack(root=tmp_path)
    (tmp_path / "broker.pid").write_text(f"{sleeper.pid}\n")
    assert stack.pid("broker") is None


def test_a_process_between_fork_and_exec_is_ours(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after Popen returns, /proc/PID/cmdline reads empty about one time in ten (mid-exec); the
    stack once took its just-started broker for dead and failed to come up."""
    stack = Stack(root=tmp_path)
    (tmp_path / "broker.pid").write_text(f"{sleeper.pid}\n")
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes",
                        lambda self: b"" if self.name == "cmdline" else real(self))
    assert stack.pid("broker") == sleeper.pid
