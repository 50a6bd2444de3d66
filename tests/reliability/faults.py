"""Private server processes for fault injection: a PostgreSQL cluster, a Redis server and uvicorn
processes of our own, on free ports, that a test may kill and restart without touching the
machine's shared PostgreSQL (5432) and Redis (6379).

Nothing here imports pytest or Django at module level: `python -m tests.reliability.faults seed`
runs the seeding in a subprocess against the private cluster (the test process's own Django
settings point elsewhere).
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
POSTGRES_OS_USER = "postgres"


# --- ports and tools ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(
    port: int, timeout: float = 30, process: "subprocess.Popen[bytes] | None" = None
) -> float:
    """Wait until something listens on `port`; returns the seconds waited. Raises if the
    process exits first or the port stays closed."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.pid} exited with {process.returncode}")
        if port_open(port):
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def wait_port_closed(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_open(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still open after {timeout} s")


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout), or one on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_tools() -> str | None:
    """Why the private services cannot start here, or None."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(POSTGRES_OS_USER)
        except KeyError:
            return "running as root but there is no `postgres` OS user to run PostgreSQL as"
    return None


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]
    return command


def _kill_group(process: "subprocess.Popen[bytes]", sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


# --- PostgreSQL -----------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A throwaway cluster: trust auth, fsync off, listening on 127.0.0.1:`port` only."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        bin_dir = postgres_bin()
        assert bin_dir is not None
        subprocess.run(
            _as_postgres([str(bin_dir / args[0]), *args[1:]]),
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, user=POSTGRES_OS_USER)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C",
        )  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "64MB",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/reliability/faults.py\n")
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        wait_for_port(self.port, timeout=30)

    def stop(self, mode: str = "fast") -> None:
        """`fast` (sessions are terminated, a clean shutdown) or `immediate` (a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        wait_port_closed(self.port)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop however possible and remove the files (a fixture finalizer)."""
        if self.running():
            try:
                self.stop("immediate")
            except Exception:
                pid_file = self.data / "postmaster.pid"
                with contextlib.suppress(Exception):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name is ours, not user input

    def query(self, database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url(database), connect_timeout=10) as conn:
            return conn.execute(sql, params).fetchall()


# --- Redis ----------------------------------------------------------------------------------------


@dataclass
class Redis:
    """A redis-server with no persistence on 127.0.0.1:`port`."""

    root: Path
    port: int = field(default_factory=free_port)
    process: "subprocess.Popen[bytes] | None" = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.root),
                    "--maxclients", "10000",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for_port(self.port, timeout=30, process=self.process)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        _kill_group(self.process, sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _kill_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None
        wait_port_closed(self.port)


# --- uvicorn --------------------------------------------------------------------------------------


@dataclass
class Server:
    """One uvicorn process serving chatkitty_site.asgi, as `make run` does."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: "subprocess.Popen[bytes] | None" = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/chat"

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "uvicorn"), "chatkitty_site.asgi:application",
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
                    "--ws-max-size", "65536", "--no-access-log",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_for_port(self.port, timeout=timeout, process=self.process)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n{self.log.read_text()[-3000:]}") from None

    def kill(self) -> None:
        """kill -9: no shutdown, no close frames, no session cleanup."""
        assert self.process is not None
        _kill_group(self.process, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        _kill_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=10)

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used, from /proc."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def errors_logged(self) -> list[str]:
        """Tracebacks, 500s and uvicorn ERROR lines in the server's output."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        markers = ("Traceback", "ERROR", "Internal Server Error")
        return [line for line in text.splitlines() if any(m in line for m in markers)]


# --- the whole private stack ----------------------------------------------------------------------


GENEROUS_RATE_LIMITS = {
    "CHAT_RATE_SEND_PER_USER": "1000/1",
    "CHAT_RATE_SEND_PER_APPLICATION": "100000/1",
    "CHAT_RATE_CONNECT_PER_USER": "1000/60",
    "CHAT_RATE_CONNECT_PER_APPLICATION": "100000/60",
}


@dataclass
class Stack:
    """A private PostgreSQL (migrated) and Redis, and the environment servers run with."""

    root: Path
    postgres: Postgres
    redis: Redis
    database: str = "ck_fault"
    servers: list[Server] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.postgres.url(self.database)

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "REDIS_", "CHAT_RATE_", "PYTEST", "DJANGO_"))
        }
        return {
            **base,
            "DJANGO_SETTINGS_MODULE": "chatkitty_site.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "CHANNEL_LAYER_PREFIX": "fault",
            "TASK_BACKEND": "immediate",
            # Production settings: with DEBUG on, Django keeps the last 9,000 queries of every
            # connection in memory, which a memory figure would measure.
            "DEBUG": "0",
            "SECRET_KEY": "fault-injection-" + uuid.uuid4().hex,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **GENEROUS_RATE_LIMITS,
            **extra,
        }

    def manage(self, *args: str, timeout: float = 240) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return result.stdout

    def seed(self, *, users: int, channels: int) -> dict[str, Any]:
        """A fresh application with `users` users (tokens minted) spread over `channels` PUBLIC
        channels (user i in channel i % channels), through the services."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.reliability.faults", "seed", str(users), str(channels)],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            timeout=240,
        )
        seeded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return seeded

    def start_server(self, name: str, **env: str) -> Server:
        port = free_port()
        server = Server(env=self.env(**env), log=self.root / f"{name}-{port}.log", port=port)
        self.servers.append(server)
        server.start()
        return server

    def stop_servers(self) -> None:
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop()
        self.servers.clear()

    def messages(self, channel_id: int) -> list[tuple[int, int, int | None, str | None]]:
        """(id, sequence, user id, idempotency key) of a channel's persisted messages in order."""
        rows = self.postgres.query(
            self.database,
            "SELECT id, sequence, user_id, idempotency_key FROM channels_app_message "
            "WHERE channel_id = %s ORDER BY sequence, id",
            (channel_id,),
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    def destroy(self) -> None:
        self.stop_servers()
        with contextlib.suppress(Exception):
            self.redis.stop(signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.postgres.destroy()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_stack() -> Iterator[Stack]:
    """Start PostgreSQL and Redis of our own, migrate, yield; always clean up."""
    root = Path(tempfile.mkdtemp(prefix="ck-fault-"))
    root.chmod(0o755)  # the postgres OS user must reach its data directory below
    stack = Stack(root=root, postgres=Postgres(root / "pg"), redis=Redis(root / "redis"))
    try:
        stack.postgres.init()
        stack.postgres.start()
        stack.postgres.create_database(stack.database)
        stack.redis.start()
        stack.manage("migrate", "--noinput", "-v0")
        yield stack
    finally:
        stack.destroy()


# --- seeding (runs in a subprocess with the private DATABASE_URL) -------------------------------


def _seed(users: int, channels: int) -> dict[str, Any]:
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from channels_app.actors import Actor
    from channels_app.services import applications
    from channels_app.services import channels as channel_services
    from channels_app.services import users as user_services

    suffix = uuid.uuid4().hex[:8]
    application, client_secret = applications.create_application(name=f"fault {suffix}")
    assert application.oauth_client is not None
    actor = Actor.for_application(application)
    people = [
        user_services.create_user(actor=actor, name=f"u{index}-{suffix}") for index in range(users)
    ]
    tokens = [
        user_services.mint_access_token(actor=actor, user_id=user.pk, ttl_seconds=6 * 3600)[0]
        for user in people
    ]
    created = []
    for index in range(channels):
        members = [user for position, user in enumerate(people) if position % channels == index]
        channel, _ = channel_services.create_channel(
            actor=actor, type="PUBLIC", name=f"c{index}-{suffix}", members=members
        )
        created.append({"id": channel.pk, "members": [user.pk for user in members]})
    app_token = f"fault-app-{suffix}-{uuid.uuid4().hex}"
    AccessToken.objects.create(
        application=application.oauth_client,
        token=app_token,
        expires=timezone.now() + timedelta(hours=6),
        scope="application",
    )
    return {
        "applicationId": application.pk,
        "appToken": app_token,
        "clientId": application.oauth_client.client_id,
        "clientSecret": client_secret,
        "users": [
            {"id": user.pk, "token": token, "channelId": created[position % channels]["id"]}
            for position, (user, token) in enumerate(zip(people, tokens, strict=True))
        ],
        "channels": created,
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "seed":
        print(json.dumps(_seed(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        sys.exit("usage: python -m tests.reliability.faults seed USERS CHANNELS")
