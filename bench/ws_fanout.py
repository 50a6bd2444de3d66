"""Websocket fan-out over `/ws/v1/chat`, next to a bare Channels floor, with two server processes.

Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): two uvicorn processes (uvloop, httptools),
each pinned to its own CPU with `taskset`, share them exactly as a deployment does. The setup
creates a throw-away application with one PUBLIC channel, a sender and as many members as the
largest scenario needs, and mints their user tokens.

Each scenario connects N subscribers (alternately to the two processes), then one sender,
connected over the websocket to the first process, sends `message.send` frames at R per second for
`--duration` seconds. Every `message.created` a subscriber receives is timed from the moment the
frame was sent (the send time rides in the message's properties; one client process, one clock).
Reported: delivered / expected (sent x N), p50 and p99 latency. The floor (`bench/floor_ws.py`,
served by `bench/asgi_floor.py`) relays the same frames through the same Redis channel layer with no
authentication, session, persistence or rules, and is measured in the same run.

Then idle connections: `--idle` authenticated sessions are opened on one process and held, and the
process's RSS growth per connection is reported.

Usage: DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/ws_fanout.py
       [--scenarios 1x50,100x50,1000x5] [--duration 20] [--idle 5000] [--skip-floor]
"""

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import HOST, RESULTS, Server, percentile, server_env  # noqa: E402

BARS = {"p99_ms_100": 100.0, "p99_ms_1000": 400.0, "floor_ratio": 2.0, "idle_kib": 64.0}


@dataclass
class Result:
    target: str
    subscribers: int
    rate: float
    sent: int = 0
    expected: int = 0
    delivered: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def ratio(self) -> float:
        return self.delivered / self.expected if self.expected else 0.0


@dataclass
class Setup:
    application_id: int
    channel_ids: dict[int, int]  # subscribers -> a channel whose members are exactly them
    sender_token: str
    tokens: list[str]


def setup_database(counts: list[int]) -> Setup:
    """One channel per scenario whose members are exactly its subscribers and the sender, so
    every member is connected: the benchmark measures live fan-out, not offline notifications
    (a member with no session gets a Notification row and event per message)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")
    import django

    django.setup()
    from channels_app.actors import Actor
    from channels_app.services import applications, channels, users

    application, _ = applications.create_application(name=f"ws-fanout-{uuid.uuid4().hex[:8]}")
    app = Actor.for_application(application)
    sender = users.create_user(actor=app, name="sender")
    members = [
        users.create_user(actor=app, name=f"subscriber-{index}") for index in range(max(counts))
    ]
    tokens = [users.mint_access_token(actor=app, user_id=user.pk)[0] for user in members]
    channel_ids = {}
    for count in sorted(set(counts)):
        channel, _ = channels.create_channel(
            actor=app, type="PUBLIC", name=f"fanout-{count}", creator=sender,
            members=members[:count],
        )  # fmt: skip
        channel_ids[count] = channel.pk
    sender_token = users.mint_access_token(actor=app, user_id=sender.pk)[0]
    return Setup(application.pk, channel_ids, sender_token, tokens)


def drop_application(application_id: int) -> None:
    from channels_app.models import Application, Channel, ChatSession, Message

    Channel.objects.filter(application_id=application_id).update(last_message=None)
    Message.objects.filter(application_id=application_id).delete()
    ChatSession.objects.filter(application_id=application_id).delete()
    Application.objects.filter(pk=application_id).delete()


async def open_socket(url: str) -> Any:
    import websockets

    socket_ = await websockets.connect(url, ping_interval=None, open_timeout=60, max_size=2**20)
    started = json.loads(await asyncio.wait_for(socket_.recv(), 60))
    if started.get("type") != "session.started":
        raise SystemExit(f"connect refused: {started}")
    return socket_


async def open_many(urls: list[str], batch: int = 50, *, strict: bool = True) -> list[Any]:
    """Connect in batches; with `strict=False` a refused handshake is skipped (idle counting)."""
    sockets: list[Any] = []
    for start in range(0, len(urls), batch):
        opened = await asyncio.gather(
            *(open_socket(url) for url in urls[start : start + batch]),
            return_exceptions=not strict,
        )
        sockets += [s for s in opened if not isinstance(s, BaseException)]
    return sockets


async def run_scenario(
    target: str,
    sub_urls: list[str],
    sender_url: str,
    channel_id: int,
    rate: float,
    duration: float,
) -> Result:
    result = Result(target=target, subscribers=len(sub_urls), rate=rate)
    subscribers = await open_many(sub_urls)
    sender = await open_socket(sender_url)

    async def listen(socket_: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in socket_:
                if '"message.created"' not in raw:
                    continue
                frame = json.loads(raw)
                sent_at = frame["message"]["properties"].get("t")
                if sent_at is not None:
                    result.latencies.append(time.perf_counter() - sent_at)

    async def drain(socket_: Any) -> None:
        with contextlib.suppress(Exception):
            async for _ in socket_:
                pass

    listeners = [asyncio.create_task(listen(socket_)) for socket_ in subscribers]
    drainer = asyncio.create_task(drain(sender))
    # Let the connect storm settle before measuring: each member coming online sends
    # `participant.presence` to the channel's connected members (O(N^2) frames for N connects).
    await asyncio.sleep(2 + len(subscribers) / 200)
    interval = 1.0 / rate
    start = time.perf_counter()
    index = 0
    while time.perf_counter() - start < duration:
        due = start + index * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await sender.send(
            json.dumps(
                {
                    "type": "message.send",
                    "channelId": channel_id,
                    "body": f"fanout {index}",
                    "properties": {"t": time.perf_counter()},
                }
            )
        )
        index += 1
    result.sent = index
    result.expected = index * len(subscribers)
    deadline = time.perf_counter() + 5
    while len(result.latencies) < result.expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    for task in (*listeners, drainer):
        task.cancel()
    await asyncio.gather(*(s.close() for s in [*subscribers, sender]), return_exceptions=True)
    result.delivered = len(result.latencies)
    ordered = sorted(result.latencies)
    result.p50_ms = percentile(ordered, 50) * 1000
    result.p99_ms = percentile(ordered, 99) * 1000
    return result


async def measure_idle(process: Server, urls: list[str]) -> dict[str, Any]:
    await asyncio.sleep(1)
    before = process.rss_kib()
    sockets = await open_many(urls, batch=25, strict=False)
    await asyncio.sleep(3)
    after = process.rss_kib()
    alive = sum(1 for s in sockets if s.state.name == "OPEN")
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {
        "connections": len(urls),
        "held": alive,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": round((after - before) / max(len(urls), 1), 1),
    }


def parse_scenarios(text: str) -> list[tuple[int, float]]:
    scenarios = []
    for part in text.split(","):
        count, _, rate = part.partition("x")
        scenarios.append((int(count), float(rate)))
    return scenarios


def table(results: list[Result]) -> str:
    lines = [
        "| target | subscribers | msg/s | delivered / expected | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.subscribers} | {r.rate:g} | {r.delivered} / {r.expected} "
            f"({r.ratio:.1%}) | {r.p50_ms:.1f} | {r.p99_ms:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--scenarios",
        default="1x50,100x50,1000x5",
        help="Comma-separated SUBSCRIBERSxRATE (default 1x50,100x50,1000x5).",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds per scenario.")
    parser.add_argument("--idle", type=int, default=5000, help="Idle sessions to hold (0: skip).")
    parser.add_argument("--skip-floor", action="store_true", help="Do not measure the floor.")
    parser.add_argument("--no-pin", action="store_true", help="Do not pin servers to CPUs.")
    args = parser.parse_args()  # fmt: skip

    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        raise SystemExit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis).")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # servers inherit it
    scenarios = parse_scenarios(args.scenarios)
    subscribers_needed = max([count for count, _ in scenarios] + [1])
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
                   cwd=ROOT, check=True)  # fmt: skip
    print(f"setting up {subscribers_needed} members...", flush=True)
    setup = setup_database([count for count, _ in scenarios] or [1])

    env = server_env("chatkitty_site.settings")
    env.update(
        CHANNEL_LAYER_PREFIX=f"ws-fanout-{uuid.uuid4().hex[:6]}",
        CHAT_RATE_SEND_PER_USER="0/1",
        CHAT_RATE_SEND_PER_APPLICATION="0/1",
        CHAT_RATE_CONNECT_PER_USER="0/1",
        CHAT_RATE_CONNECT_PER_APPLICATION="0/1",
    )
    results: list[Result] = []
    idle: dict[str, Any] = {}
    targets = [("server", "chatkitty_site.asgi:application")]
    if not args.skip_floor:
        targets.append(("floor", "bench.asgi_floor:application"))
    try:
        for target, app in targets:
            processes = [
                Server(f"{target} {cpu}", None if args.no_pin else cpu, app=app, env=env)
                for cpu in (0, 1)
            ]
            try:
                for process in processes:
                    process.wait_ready()
                ports = [process.port for process in processes]
                for count, rate in scenarios:
                    if target == "server":
                        urls = [
                            f"ws://{HOST}:{ports[i % 2]}/ws/v1/chat?token={setup.tokens[i]}"
                            for i in range(count)
                        ]
                        sender_url = f"ws://{HOST}:{ports[0]}/ws/v1/chat?token={setup.sender_token}"
                    else:
                        urls = [f"ws://{HOST}:{ports[i % 2]}/ws/floor" for i in range(count)]
                        sender_url = f"ws://{HOST}:{ports[0]}/ws/floor"
                    print(f"{target}: {count} subscribers at {rate:g} msg/s...", flush=True)
                    result = asyncio.run(
                        run_scenario(target, urls, sender_url, setup.channel_ids[count], rate,
                                     args.duration)
                    )  # fmt: skip
                    print(table([result]).splitlines()[-1], flush=True)
                    results.append(result)
                if target == "server" and args.idle:
                    print(f"server: holding {args.idle} idle sessions...", flush=True)
                    urls = [
                        f"ws://{HOST}:{ports[1]}/ws/v1/chat?token="
                        f"{setup.tokens[i % len(setup.tokens)]}"
                        for i in range(args.idle)
                    ]
                    idle = asyncio.run(measure_idle(processes[1], urls))
            finally:
                for process in processes:
                    process.stop()
    finally:
        drop_application(setup.application_id)

    print()
    print(table(results))
    if idle:
        print(
            f"\nidle: {idle['held']} / {idle['connections']} sessions held on one process, "
            f"{idle['kib_per_connection']} KiB of server memory each "
            f"(RSS {idle['rss_before_kib']} -> {idle['rss_after_kib']} KiB)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"ws-fanout-{stamp}.json"
    payload = {
        "duration": args.duration,
        "results": [{k: v for k, v in asdict(r).items() if k != "latencies"} for r in results],
        "idle": idle,
        "bars": BARS,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nresults: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
