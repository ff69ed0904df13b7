"""A private PostgreSQL server for tests that stop and restart the database.

Never the shared server at :5432 (other work uses it): initdb into a temp directory and
run it as the postgres user on a free loopback port, with its socket in that directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*argv: str) -> list[str]:
    """Run a PostgreSQL binary as the postgres user (it refuses to run as root)."""
    command = " ".join(f"'{a}'" for a in argv)
    return ["su", "postgres", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else list(argv)


@dataclass
class PrivatePostgres:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/aftersales"

    @classmethod
    def create(cls, port: int) -> PrivatePostgres:
        root = Path(tempfile.mkdtemp(prefix="pg-private-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        server = cls(root, port)
        subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres",
                                    "--no-sync"), check=True, capture_output=True, timeout=120)
        return server

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                                    "-l", str(self.root / "server.log"), "-w", "-t", "60", "start"),
                       check=True, capture_output=True, timeout=90)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"),
                       check=False, capture_output=True, timeout=90)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
