"""`make bench`: the Platform API over HTTP against the seeded database, next to a bare DRF floor.

Starts the ASGI server (uvicorn + uvloop + httptools, one process pinned to CPU 1 with `taskset`,
DEBUG=0 and production-like settings) against the database `make seed-scale` filled, gets an
application token from `/oauth/token`, then measures each endpoint for `--duration` seconds with one
client and then with 16 concurrent keep-alive clients (an asyncio load generator pinned to CPU 0).
The floor (`bench/floor.py`, a bare `ListAPIView`) is served the same way and measured in the same
run, right after `GET /v1/channels`, so both see the same machine.

Results: a table on stdout, a Markdown table for the README and JSON under `bench/results/`.
Then the websocket fan-out (`bench/ws_fanout.py`, `bench/stomp_fanout.py`) and admin
(`bench/admin_bench.py`) benchmarks run as subprocesses when present, each with its own options
(`--ws-args`, `--stomp-args`, `--admin-args`).

Usage: DATABASE_URL=postgres://... python bench/run.py [--duration 10] [--only list,late,...]
"""

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"

READ_P99_BAR_MS = 25.0
WRITE_P99_BAR_MS = 40.0
FLOOR_RATIO_BAR = 0.5


@dataclass
class Endpoint:
    key: str
    label: str
    method: str
    path: str
    server: str = "api"  # "api" or "floor"
    # For writes: request number -> (path, JSON body); reads repeat `path`.
    dynamic: Callable[[int], tuple[str, bytes]] | None = None

    @property
    def write(self) -> bool:
        return self.method != "GET"


@dataclass
class Run:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""
    server_cpu_s: float | None = None

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50) * 1000, 2),
            "p99_ms": round(percentile(lat, 99) * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2) if lat else 0.0,
            **({"first_error": self.first_error} if self.first_error else {}),
            **(
                {"server_cpu_ms_per_request": round(1000 * self.server_cpu_s / self.requests, 2)}
                if self.server_cpu_s is not None and self.requests
                else {}
            ),
        }


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[index]


# --- a minimal keep-alive HTTP/1.1 client (cheaper per request than a general-purpose one) -----


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length: int | None = None
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, body


def build_request(
    method: str, path: str, port: int, token: str | None, body: bytes | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), to report server CPU per request: a figure
    that other load on the machine disturbs much less than latency."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    endpoint: Endpoint,
    port: int,
    token: str | None,
    clients: int,
    duration: float,
    server_pid: int | None = None,
) -> Run:
    run = Run()
    counter = [0]
    static = build_request(endpoint.method, endpoint.path, port, token)

    async def client() -> None:
        conn = Connection(port)
        await conn.open()
        try:
            while time.perf_counter() < deadline:
                raw = static
                if endpoint.dynamic is not None:
                    counter[0] += 1
                    path, body = endpoint.dynamic(counter[0])
                    raw = build_request(endpoint.method, path, port, token, body)
                started = time.perf_counter()
                status, reply = await conn.request(raw)
                run.latencies.append(time.perf_counter() - started)
                run.requests += 1
                if not 200 <= status < 300:
                    run.errors += 1
                    if not run.first_error:
                        run.first_error = f"{status} {reply[:300]!r}"
        finally:
            await conn.close()

    # Warm up (connections, caches, first-request imports), not counted.
    deadline = time.perf_counter() + min(1.0, duration / 5)
    await asyncio.gather(*(client() for _ in range(clients)))
    run = Run()
    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(client() for _ in range(clients)))
    run.seconds = time.perf_counter() - started
    cpu_after = process_cpu_seconds(server_pid) if server_pid else None
    if cpu_before is not None and cpu_after is not None:
        run.server_cpu_s = cpu_after - cpu_before
    return run


# --- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(settings_module: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production sits behind a TLS proxy; the bench talks plain HTTP to the process itself.
        SECURE_SSL_REDIRECT="0",
        # Production runs background work on `manage.py db_worker`: a send only queues it.
        TASK_BACKEND=os.environ.get("TASK_BACKEND", "database"),
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
        PYTHONUNBUFFERED="1",
    )
    return env


def pin_prefix(cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None or cpu >= (os.cpu_count() or 1):
        return []
    return ["taskset", "-c", str(cpu)]


class Server:
    """One uvicorn process serving `app` as production runs it, pinned to `cpu` when given, with
    `env` (by default `server_env("chatkitty_site.settings")`)."""

    def __init__(
        self,
        name: str,
        cpu: int | None,
        *,
        app: str = "chatkitty_site.asgi:application",
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        command = [
            *pin_prefix(cpu),
            str(Path(PYTHON).parent / "uvicorn"),
            app,
            "--host", HOST, "--port", str(self.port),
            "--loop", "uvloop", "--http", "httptools",
            "--ws", "websockets-sansio", "--ws-max-size", "65536",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env if env is not None else server_env("chatkitty_site.settings"),
            start_new_session=True,
        )
        self.pinned = bool(pin_prefix(cpu))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"The {self.name} server exited with {self.process.returncode}.")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"The {self.name} server did not start within {timeout:.0f}s.")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def oauth_token(port: int, client_id: str, client_secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    request = urllib.request.Request(
        f"http://{HOST}:{port}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


# --- the seeded data ------------------------------------------------------------------------------


def load_scale(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: run `make seed-scale` first (with the same DATABASE_URL)."
        )
    return dict(json.loads(path.read_text()))


def inspect_database(scale: dict[str, Any], check: bool) -> list[tuple[int, int]]:
    """Check the seeded volume (unless skipped) and pick (channel, member) pairs to post into."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")
    import django

    django.setup()
    from django.db import connection

    from channels_app.models import Application, Channel, ChatUser, Membership, Message

    if connection.vendor != "postgresql":
        raise SystemExit("make bench needs the seeded PostgreSQL: set DATABASE_URL.")
    app_id = scale["applicationId"]
    if not Application.objects.filter(pk=app_id).exists():
        raise SystemExit(
            f"Application {app_id} from var/scale.json is not in this database: run `make "
            "seed-scale` with the same DATABASE_URL."
        )
    if check:
        expected = scale.get("counts", {})
        found = {
            "users": ChatUser.objects.filter(application_id=app_id).count(),
            "channels": Channel.objects.filter(application_id=app_id).count(),
            "memberships": Membership.objects.filter(channel__application_id=app_id).count(),
            "messages": Message.objects.filter(application_id=app_id).count(),
        }
        short = {k: (found[k], expected.get(k, 0)) for k in found if found[k] < expected.get(k, 0)}
        if short or found["channels"] < 100_000:
            raise SystemExit(
                f"The seeded volume is not there ({found}; expected {expected} and at least "
                "100,000 channels): run `make seed-scale` (or pass --skip-seed-check)."
            )
        print(f"Seeded data: {found}", file=sys.stderr)
    # Post on behalf of many different members, into many channels: no single hot row lock.
    pairs = list(
        Membership.objects.filter(
            channel__application_id=app_id, channel__type__in=["PUBLIC", "PRIVATE"]
        )
        .order_by("user_id", "channel_id")
        .distinct("user_id")
        .values_list("channel_id", "user_id")[:200]
    )
    connection.close()
    return pairs


def endpoints(scale: dict[str, Any], pairs: list[tuple[int, int]]) -> list[Endpoint]:
    user, hot = scale["benchUserId"], scale["hotChannelId"]

    def post(n: int) -> tuple[str, bytes]:
        # On behalf of many different members, into many channels: no single hot row lock.
        channel, member = pairs[n % len(pairs)]
        body = {"body": f"bench message {n}", "user": {"id": member}}
        return f"/v1/channels/{channel}/messages", json.dumps(body).encode()

    return [
        Endpoint("list", "GET /v1/channels?page=0&size=25", "GET", "/v1/channels?page=0&size=25"),
        Endpoint("floor", "floor: bare DRF ListAPIView, page 1 of 25", "GET",
                 "/floor/channels?page=1", server="floor"),
        Endpoint("late", "GET /v1/channels?page=3999&size=25", "GET",
                 "/v1/channels?page=3999&size=25"),
        Endpoint("user_channels", "GET /v1/users/{id}/channels", "GET",
                 f"/v1/users/{user}/channels"),
        Endpoint("channel", "GET /v1/channels/{id}", "GET", f"/v1/channels/{hot}"),
        Endpoint("messages", "GET /v1/channels/{id}/messages", "GET",
                 f"/v1/channels/{hot}/messages"),
        Endpoint("post", "POST /v1/channels/{id}/messages", "POST", "", dynamic=post),
        Endpoint("unread", "GET /v1/users/{id}/messages/unread/count", "GET",
                 f"/v1/users/{user}/messages/unread/count"),
    ]  # fmt: skip


EXTRAS = {"ws": "ws_fanout.py", "stomp": "stomp_fanout.py", "admin": "admin_bench.py"}


def run_async(coro: Any) -> Any:
    try:
        import uvloop

        return asyncio.run(coro, loop_factory=uvloop.new_event_loop)
    except ImportError:
        return asyncio.run(coro)


def bar_for(endpoint: Endpoint) -> float | None:
    if endpoint.server == "floor":
        return None
    return WRITE_P99_BAR_MS if endpoint.write else READ_P99_BAR_MS


def report(results: dict[str, Any]) -> tuple[str, str]:
    """A plain table for the terminal and a Markdown table for the README."""
    rows = []
    for item in results["endpoints"].values():
        single, many = item.get("single", {}), item.get("concurrent", {})
        bar = item["bar_p99_ms"]
        verdict = "-" if bar is None else ("ok" if item["pass"] else "OVER")
        rows.append(
            (
                item["label"],
                f"{single.get('p50_ms', 0):.1f}",
                f"{single.get('p99_ms', 0):.1f}",
                f"{single.get('rps', 0):.0f}",
                f"{many.get('rps', 0):.0f}",
                f"{many.get('p99_ms', 0):.1f}",
                f"{many.get('server_cpu_ms_per_request', 0):.1f}",
                "-" if bar is None else f"<= {bar:.0f} ms: {verdict}",
            )
        )
    clients = results["clients"]
    head = ("Endpoint", "p50 ms", "p99 ms", "req/s 1 client", f"req/s {clients} clients",
            f"p99 ms @{clients}", "server CPU ms/req", "single-client p99 bar")  # fmt: skip
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    md = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    md += ["| " + " | ".join(f"`{r[0]}`" if i == 0 else r[i] for i in range(len(r))) + " |"
           for r in rows]  # fmt: skip
    ratio = results.get("floor_ratio")
    cpu_ratio = results.get("floor_cpu_ratio")
    if ratio is not None:
        verdict = "ok" if ratio >= FLOOR_RATIO_BAR else "UNDER"
        text = (
            f"GET /v1/channels at {clients} clients: {ratio:.0%} of the floor's throughput "
            f"(bar >= {FLOOR_RATIO_BAR:.0%}: {verdict})"
        )
        if cpu_ratio is not None:
            text += f"; by server CPU per request: {cpu_ratio:.0%}"
        lines += ["", text]
        md += ["", text + "."]
    return "\n".join(lines), "\n".join(md)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="Seconds measured per endpoint and mode (default 10).",
    )
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients (default 16).")
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated subset of: list, floor, late, user_channels, "
        "channel, messages, post, unread, ws, stomp, admin.",
    )
    parser.add_argument(
        "--skip-seed-check",
        action="store_true",
        help="Do not check the seeded volume before measuring.",
    )
    parser.add_argument("--scale-file", default=str(ROOT / "var" / "scale.json"))
    parser.add_argument("--server-cpu", type=int, default=1, help="CPU the servers are pinned to.")
    parser.add_argument("--client-cpu", type=int, default=0, help="CPU the load generator uses.")
    parser.add_argument(
        "--no-extras", action="store_true", help="Skip the websocket and admin benchmarks."
    )
    parser.add_argument("--ws-args", default="", help="Options passed to bench/ws_fanout.py.")
    parser.add_argument("--stomp-args", default="", help="Options passed to bench/stomp_fanout.py.")
    parser.add_argument("--admin-args", default="", help="Options passed to bench/admin_bench.py.")
    args = parser.parse_args()  # fmt: skip

    only = {item.strip() for item in args.only.split(",") if item.strip()}
    known = {"list", "floor", "late", "user_channels", "channel", "messages", "post", "unread",
             *EXTRAS}  # fmt: skip
    if only - known:
        parser.error(f"unknown --only item(s): {', '.join(sorted(only - known))}")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "make bench measures the production setup: set DATABASE_URL to the PostgreSQL "
            "database `make seed-scale` filled (and REDIS_URL), e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1/chatkitty_scale make seed-scale bench"
        )

    http_selected = not only or bool(only - set(EXTRAS))
    status = 0
    if http_selected:
        status = run_http(args, only)
    if not args.no_extras:
        for key, script in EXTRAS.items():
            path = ROOT / "bench" / script
            if (only and key not in only) or not path.exists():
                continue
            options = shlex.split(getattr(args, f"{key}_args"))
            print(f"\n== bench/{script} {' '.join(options)}", flush=True)
            code = subprocess.call([PYTHON, str(path), *options], cwd=ROOT)
            if code:
                print(f"bench/{script} exited with {code}", file=sys.stderr)
                status = status or code
    return status


def run_http(args: argparse.Namespace, only: set[str]) -> int:
    scale = load_scale(Path(args.scale_file))
    pairs = inspect_database(scale, check=not args.skip_seed_check)
    selected = [e for e in endpoints(scale, pairs) if not only or e.key in only]
    if not pairs and any(e.key == "post" for e in selected):
        raise SystemExit("No PUBLIC or PRIVATE membership to post with: run `make seed-scale`.")
    servers: dict[str, Server] = {}
    load_before = os.getloadavg()
    try:
        if any(e.server == "api" for e in selected):
            servers["api"] = Server("API", args.server_cpu)
        if any(e.server == "floor" for e in selected):
            servers["floor"] = Server(
                "floor", args.server_cpu, env=server_env("bench.floor_settings")
            )
        for server in servers.values():
            server.wait_ready()
        token = None
        if "api" in servers:
            token = oauth_token(servers["api"].port, scale["clientId"], scale["clientSecret"])
        pinned_client = False
        if hasattr(os, "sched_setaffinity") and args.client_cpu < (os.cpu_count() or 1):
            os.sched_setaffinity(0, {args.client_cpu})
            pinned_client = True
        results: dict[str, Any] = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": args.duration,
            "clients": args.clients,
            "cpus": os.cpu_count(),
            "server_pinned_cpu": args.server_cpu
            if any(s.pinned for s in servers.values())
            else None,
            "client_pinned_cpu": args.client_cpu if pinned_client else None,
            "scale": scale.get("counts", {}),
            "endpoints": {},
        }
        for endpoint in selected:
            server = servers[endpoint.server]
            item: dict[str, Any] = {"label": endpoint.label, "method": endpoint.method,
                                    "bar_p99_ms": bar_for(endpoint)}  # fmt: skip
            for mode, clients in (("single", 1), ("concurrent", args.clients)):
                run = run_async(
                    measure(
                        endpoint, server.port, token, clients, args.duration, server.process.pid
                    )
                )
                item[mode] = run.summary()
                s = item[mode]
                print(
                    f"{endpoint.label:<48} {clients:>3} client(s): p50 {s['p50_ms']:7.2f} ms  "
                    f"p99 {s['p99_ms']:7.2f} ms  {s['rps']:8.1f} req/s  errors {s['errors']}  "
                    f"server CPU {s.get('server_cpu_ms_per_request', 0):.2f} ms/req",
                    file=sys.stderr,
                    flush=True,
                )
                if run.first_error:
                    print(f"    first error: {run.first_error}", file=sys.stderr)
            bar = item["bar_p99_ms"]
            item["pass"] = (bar is None or item["single"]["p99_ms"] <= bar) and not (
                item["single"]["errors"] or item["concurrent"]["errors"]
            )
            results["endpoints"][endpoint.key] = item
    finally:
        for server in servers.values():
            server.stop()

    found = results["endpoints"]
    if "list" in found and "floor" in found and found["floor"]["concurrent"]["rps"]:
        results["floor_ratio"] = round(
            found["list"]["concurrent"]["rps"] / found["floor"]["concurrent"]["rps"], 3
        )
        cpu_list = found["list"]["concurrent"].get("server_cpu_ms_per_request")
        cpu_floor = found["floor"]["concurrent"].get("server_cpu_ms_per_request")
        if cpu_list and cpu_floor:
            results["floor_cpu_ratio"] = round(cpu_floor / cpu_list, 3)
    results["loadavg_before"] = [round(x, 2) for x in load_before]
    results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    ok = (
        all(item["pass"] for item in found.values())
        and results.get("floor_ratio", 1.0) >= FLOOR_RATIO_BAR
    )
    results["all_bars_met"] = ok
    text, markdown = report(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"http-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(text)
    print(f"\nload average before/after: {results['loadavg_before']} / {results['loadavg_after']}")
    print(f"Results: {out.relative_to(ROOT)}\n\nMarkdown:\n\n{markdown}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
