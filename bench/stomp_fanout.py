"""Fan-out through the StompX protocol (ChatKitty's JS SDK, `/rtm/websocket`) next to the JSON
protocol (`/ws/v1/chat`), in the same run.

One ASGI server (uvicorn + uvloop, pinned to `--server-cpu`) against DATABASE_URL (and REDIS_URL
when set). The setup creates a throw-away application with one PUBLIC channel, `--subscribers`
members and a sender, and mints their tokens. Phases alternate, `--rounds` times each: all
subscribers connect with one protocol (STOMP clients CONNECT and subscribe to the channel's
messages topic as `startChatSession` does; JSON clients are subscribed to their channels on
connect), the sender (a JSON session, the same in both phases) sends `--rate` messages per second
for `--duration` seconds, and every delivery's latency is taken from send to receipt by the
subscriber. Target: STOMP p99 <= 1.5 x JSON p99.

Usage: DATABASE_URL=postgres://... [REDIS_URL=redis://...] python bench/stomp_fanout.py
       [--subscribers 100] [--rate 50] [--duration 10] [--rounds 2]
"""

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import HOST, RESULTS, Server, percentile  # noqa: E402

RATIO_TARGET = 1.5
SEQ = re.compile(r'"body":"fanout (\d+)"')


@dataclass
class Setup:
    application_id: int
    api_key: str
    channel_id: int
    sender_token: str
    subscribers: list[tuple[str, str]]  # (username, token)


@dataclass
class Phase:
    protocol: str
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    expected: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        return {
            "protocol": self.protocol,
            "sent": self.sent,
            "deliveries": len(values),
            "expected": self.expected,
            "p50_ms": round(percentile(values, 50) * 1000, 2),
            "p95_ms": round(percentile(values, 95) * 1000, 2),
            "p99_ms": round(percentile(values, 99) * 1000, 2),
            "max_ms": round(values[-1] * 1000, 2) if values else 0.0,
            "server_cpu_s": round(self.server_cpu, 2),
            "client_cpu_s": round(self.client_cpu, 2),
        }


def setup_database(subscribers: int) -> Setup:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")
    import django

    django.setup()
    from channels_app.actors import Actor
    from channels_app.services import applications, channels, users

    application, _ = applications.create_application(name=f"fanout-{uuid.uuid4().hex[:8]}")
    app_actor = Actor.for_application(application)
    sender = users.create_user(actor=app_actor, name="sender")
    channel, _ = channels.create_channel(
        actor=app_actor, type="PUBLIC", name="fanout", creator=sender
    )
    members = []
    for index in range(subscribers):
        user = users.create_user(actor=app_actor, name=f"subscriber-{index}")
        channels.add_member(actor=app_actor, channel_id=channel.pk, user=user)
        token, _ = users.mint_access_token(actor=app_actor, user_id=user.pk)
        members.append((user.name, token))
    sender_token, _ = users.mint_access_token(actor=app_actor, user_id=sender.pk)
    return Setup(application.pk, application.api_key, channel.pk, sender_token, members)


def drop_application(application_id: int) -> None:
    from channels_app.models import Application, Channel, Message

    Channel.objects.filter(application_id=application_id).update(last_message=None)
    Message.objects.filter(application_id=application_id).delete()
    Application.objects.filter(pk=application_id).delete()


# --- clients ---------------------------------------------------------------------------------


async def json_subscriber(url: str, on_message: Any, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=2**20) as socket:
        first = json.loads(await socket.recv())
        assert first["type"] == "session.started", first
        ready.set()
        async for text in socket:
            match = SEQ.search(text if isinstance(text, str) else text.decode())
            if match and '"type":"message.created"' in text:
                on_message(int(match[1]))


def stomp_frame(command: str, headers: dict[str, str], body: str = "") -> str:
    return command + "\n" + "".join(f"{k}:{v}\n" for k, v in headers.items()) + "\n" + body + "\0"


async def stomp_subscriber(
    url: str, username: str, token: str, topic: str, on_message: Any, ready: asyncio.Event
) -> None:
    async with websockets.connect(url, subprotocols=["v12.stomp"], max_size=2**20) as socket:  # type: ignore[list-item]
        params = base64.b64encode(json.dumps({"accessToken": token}).encode()).decode()
        await socket.send(
            stomp_frame(
                "CONNECT",
                {"StompX-User": username, "StompX-Auth-Params": params, "accept-version": "1.2"},
            )
        )
        connected = await socket.recv()
        assert str(connected).startswith("CONNECTED"), connected
        await socket.send(
            stomp_frame(
                "SUBSCRIBE",
                {"id": "sub-0", "destination": topic, "receipt": "r-0", "ack": "client-individual"},
            )
        )
        receipt = await socket.recv()
        assert str(receipt).startswith("RECEIPT"), receipt
        ready.set()
        async for text in socket:
            data = text if isinstance(text, str) else text.decode()
            if data.startswith("MESSAGE"):
                match = SEQ.search(data)
                if match:
                    on_message(int(match[1]))


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_phase(
    protocol: str, setup: Setup, port: int, rate: float, duration: float, server_pid: int
) -> Phase:
    phase = Phase(protocol)
    sent_at: dict[int, float] = {}

    def on_message(seq: int) -> None:
        start = sent_at.get(seq)
        if start is not None:
            phase.latencies.append(time.perf_counter() - start)

    base = f"ws://{HOST}:{port}"
    tasks: list[asyncio.Task[None]] = []
    readies: list[asyncio.Event] = []
    topic = f"/topic/channels/{setup.channel_id}/messages"
    for username, token in setup.subscribers:
        ready = asyncio.Event()
        readies.append(ready)
        if protocol == "json":
            coroutine = json_subscriber(f"{base}/ws/v1/chat?token={token}", on_message, ready)
        else:
            coroutine = stomp_subscriber(
                f"{base}/rtm/websocket?api-key={setup.api_key}",
                username,
                token,
                topic,
                on_message,
                ready,
            )
        tasks.append(asyncio.create_task(coroutine))
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=60)
    # Let the connect storm settle before measuring (each member coming online sends presence
    # to the connected members), as bench/ws_fanout.py does; same wait for both protocols.
    await asyncio.sleep(2 + len(setup.subscribers) / 200)

    async with websockets.connect(f"{base}/ws/v1/chat?token={setup.sender_token}") as sender:
        await sender.recv()  # session.started
        drain = asyncio.create_task(_drain(sender))
        interval = 1.0 / rate
        client_cpu, server_cpu = cpu_seconds(), cpu_seconds(server_pid)
        next_time = time.perf_counter()
        end = next_time + duration
        seq = 0
        while time.perf_counter() < end:
            seq += 1
            sent_at[seq] = time.perf_counter()
            frame = {"type": "message.send", "channelId": setup.channel_id, "body": f"fanout {seq}"}
            await sender.send(json.dumps(frame))
            next_time += interval
            await asyncio.sleep(max(0.0, next_time - time.perf_counter()))
        phase.sent = seq
        phase.expected = seq * len(setup.subscribers)
        deadline = time.perf_counter() + 10
        while len(phase.latencies) < phase.expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        phase.client_cpu = cpu_seconds() - client_cpu
        phase.server_cpu = cpu_seconds(server_pid) - server_cpu
        drain.cancel()
    for task in tasks:
        task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(1)  # let the server close the sessions before the next phase
    return phase


async def _drain(socket: Any) -> None:
    with contextlib.suppress(Exception):
        async for _ in socket:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="Messages per second.")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per phase.")
    parser.add_argument("--rounds", type=int, default=2, help="JSON/STOMP phase pairs.")
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    args = parser.parse_args()

    if args.client_cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {args.client_cpu})
    # The sender sends faster than a chat user may: lift the send and connect limits for the run.
    os.environ.setdefault("CHAT_RATE_SEND_PER_USER", "0")
    os.environ.setdefault("CHAT_RATE_SEND_PER_APPLICATION", "0")
    os.environ.setdefault("CHAT_RATE_CONNECT_PER_USER", "0")
    os.environ.setdefault("CHAT_RATE_CONNECT_PER_APPLICATION", "0")
    setup = setup_database(args.subscribers)
    server = Server("api", args.server_cpu)
    phases: dict[str, list[Phase]] = {"json": [], "stomp": []}
    try:
        server.wait_ready()
        for _ in range(args.rounds):
            for protocol in os.environ.get("FANOUT_ORDER", "json,stomp").split(","):
                phase = asyncio.run(
                    run_phase(
                        protocol, setup, server.port, args.rate, args.duration, server.process.pid
                    )
                )
                phases[protocol].append(phase)
                summary = phase.summary()
                print(
                    f"{protocol:>5}: {summary['deliveries']}/{summary['expected']} deliveries  "
                    f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  "
                    f"p99 {summary['p99_ms']} ms  server CPU {summary['server_cpu_s']} s"
                    f"  client CPU {summary['client_cpu_s']} s",
                    flush=True,
                )
    finally:
        server.stop()
        drop_application(setup.application_id)

    totals = {}
    for protocol, runs in phases.items():
        merged = Phase(protocol)
        for run in runs:
            merged.latencies += run.latencies
            merged.sent += run.sent
            merged.expected += run.expected
            merged.client_cpu += run.client_cpu
            merged.server_cpu += run.server_cpu
        totals[protocol] = merged.summary()
    json_p99, stomp_p99 = totals["json"]["p99_ms"], totals["stomp"]["p99_ms"]
    ratio = round(stomp_p99 / json_p99, 2) if json_p99 else float("inf")
    ok = ratio <= RATIO_TARGET and all(
        totals[p]["deliveries"] == totals[p]["expected"] for p in totals
    )
    print(
        f"\n{args.subscribers} subscribers, {args.rate:g} msg/s, {args.duration:g} s"
        f" x {args.rounds} rounds (server pinned: {server.pinned})\n"
        f"| protocol | deliveries | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|"
    )
    for protocol, summary in totals.items():
        print(
            f"| {protocol} | {summary['deliveries']}/{summary['expected']} | {summary['p50_ms']} |"
            f" {summary['p95_ms']} | {summary['p99_ms']} |"
        )
    print(
        f"\nSTOMP p99 / JSON p99 = {ratio} (target <= {RATIO_TARGET}): {'OK' if ok else 'MISSED'}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"stomp-fanout-{stamp}.json").write_text(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "rate": args.rate,
                "duration": args.duration,
                "rounds": args.rounds,
                "database": os.environ.get("DATABASE_URL", "sqlite").split(":")[0],
                "channel_layer": "redis" if os.environ.get("REDIS_URL") else "memory",
                "results": totals,
                "p99_ratio": ratio,
                "target": RATIO_TARGET,
                "ok": ok,
            },
            indent=2,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
