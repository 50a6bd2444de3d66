"""Issue 7 #9: fault injection under load, against real processes of our own (faults.py).

Two uvicorn processes share a private PostgreSQL and Redis. Observers are connected to both, and
one sender per process sends acknowledged messages (idempotency key + ref, ack `message.sent`)
into one channel. Then one fault: kill -9 one ASGI process, restart Redis, or restart
PostgreSQL. Clients reconnect (to the survivor), resync (`resume` / `subscribe` with
`lastSequence`), and every client's delivered sequences are compared with the database.

Each scenario prints its figures (run with `-s`): acknowledged, delivered after resync, lost,
duplicates, recovery seconds. It asserts 0 lost, 0 duplicates, recovery within 10 s, and for the
database outage that the API answers 503 in the ApiError shape and the websocket an error
frame, never a false success.
"""

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .chat_load import ChatClient, Figures, figures, recovery_seconds
from .faults import Server, Stack

pytestmark = pytest.mark.processes

OBSERVERS_PER_SERVER = 5
SEND_INTERVAL = 0.05  # seconds between a sender's acknowledged messages
LOAD_BEFORE_FAULT = 4.0
LOAD_AFTER_RECOVERY = 3.0
RECOVERY_LIMIT = 10.0
OUTAGE_SECONDS = 3.0


@dataclass
class Load:
    channel_id: int
    app_token: str
    client_credentials: tuple[str, str]
    clients: list[ChatClient]
    senders: list[ChatClient]
    stop_sending: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list["asyncio.Task[None]"] = field(default_factory=list)

    def by_server(self, index: int) -> list[ChatClient]:
        return [client for client in self.clients if client.name.startswith(f"s{index}-")]

    async def stop_senders(self) -> None:
        self.stop_sending.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=60)

    async def close(self) -> None:
        self.stop_sending.set()
        for task in self.tasks:
            task.cancel()
        for client in self.clients:
            await client.stop()


async def start_load(stack: Stack, servers: list[Server]) -> Load:
    """Clients on every server (each falls back to the others), one sender per server."""
    per_server = OBSERVERS_PER_SERVER + 1
    seeded = await asyncio.to_thread(stack.seed, users=per_server * len(servers), channels=1)
    channel_id = seeded["channels"][0]["id"]
    clients = []
    for position, user in enumerate(seeded["users"]):
        index = position % len(servers)
        urls = [server.ws_url for server in servers[index:] + servers[:index]]
        role = "sender" if position < len(servers) else f"observer{position}"
        clients.append(ChatClient(f"s{index}-{role}", user["token"], urls, [channel_id]))
    load = Load(
        channel_id,
        seeded["appToken"],
        (seeded["clientId"], seeded["clientSecret"]),
        clients,
        clients[: len(servers)],
    )
    for client in clients:
        client.start()
    await asyncio.wait_for(asyncio.gather(*(client.ready.wait() for client in clients)), timeout=30)
    for sender in load.senders:
        load.tasks.append(
            asyncio.create_task(sender.send_loop(channel_id, SEND_INTERVAL, load.stop_sending))
        )
    return load


async def wait_recovered(load: Load, restored_at: float) -> float:
    deadline = restored_at + RECOVERY_LIMIT + 5
    while time.monotonic() < deadline:
        seconds = recovery_seconds(load.clients, restored_at)
        if seconds is not None:
            return seconds
        await asyncio.sleep(0.05)
    pytest.fail(f"not recovered {RECOVERY_LIMIT + 5:.0f} s after the fault ended")


async def finish(stack: Stack, load: Load, scenario: str, restored_at: float) -> Figures:
    """Stop sending, resync every client, compare with the database, print the figures."""
    await asyncio.sleep(LOAD_AFTER_RECOVERY)
    await load.stop_senders()
    await asyncio.gather(*(client.final_resync() for client in load.clients))
    stored = {load.channel_id: await asyncio.to_thread(stack.messages, load.channel_id)}
    result = figures(load.clients, stored)
    result.recovery_seconds = recovery_seconds(load.clients, restored_at)
    print("\n" + result.line(scenario))
    send_failures: Counter[str] = Counter()
    for client in load.clients:
        send_failures.update(client.send_failures)
    print(f"[{scenario}] send attempts refused or lost, then retried: {dict(send_failures)}")
    # Never a 500, on HTTP or on the websocket: an outage is ServiceUnavailableError.
    frames = {error.get("error") for client in load.clients for error in client.errors}
    assert frames <= {"ServiceUnavailableError"}, frames
    for server in stack.servers:
        log = server.log.read_text(errors="replace")
        assert "Internal Server Error" not in log, log[-3000:]
        assert "chat frame failed" not in log, log[-3000:]
    return result


def assert_nothing_lost(result: Figures, stored_sequences: list[int]) -> None:
    assert result.acknowledged > 0
    assert result.lost == 0
    assert result.duplicates == 0
    assert result.duplicate_keys == 0
    assert result.delivered_after_resync == result.expected_deliveries
    assert stored_sequences == list(range(1, len(stored_sequences) + 1))
    assert result.recovery_seconds is not None
    assert result.recovery_seconds <= RECOVERY_LIMIT


async def test_kill_9_of_one_asgi_process_loses_nothing(
    stack: Stack, two_servers: list[Server]
) -> None:
    load = await start_load(stack, two_servers)
    try:
        await asyncio.sleep(LOAD_BEFORE_FAULT)
        await asyncio.to_thread(two_servers[0].kill)
        restored_at = time.monotonic()  # the survivor serves on: recovery counts from the kill
        await wait_recovered(load, restored_at)
        result = await finish(stack, load, "kill -9 ASGI", restored_at)
        moved = load.by_server(0)
        assert all(client.url == two_servers[1].ws_url for client in moved)
        assert all(client.connects >= 2 for client in moved), "the killed process's clients"
        assert all(client.connects == 1 for client in load.by_server(1)), "the survivor's"
        assert result.reconnects == len(moved)
        stored = [row[1] for row in stack.messages(load.channel_id)]
        assert_nothing_lost(result, stored)
        assert [error for client in load.clients for error in client.errors] == []
    finally:
        await load.close()


async def test_redis_restart_loses_nothing(stack: Stack, two_servers: list[Server]) -> None:
    load = await start_load(stack, two_servers)
    try:
        await asyncio.sleep(LOAD_BEFORE_FAULT)
        await asyncio.to_thread(stack.redis.stop)
        down_at = time.monotonic()
        probes = await probe_api(two_servers[1], load, until=down_at + OUTAGE_SECONDS)
        await asyncio.to_thread(stack.redis.start)
        restored_at = time.monotonic()
        await wait_recovered(load, restored_at)
        result = await finish(stack, load, "Redis restart", restored_at)
        print(f"[Redis restart] API while down: {summary(probes)}")
        assert result.reconnects == 0, "sockets stay open across a Redis restart"
        assert probes
        for probe in probes:
            # Reads need only PostgreSQL; a send needs the rate-limit counters in Redis.
            assert probe.status in (200, 201, 503), probe
            if probe.status == 503:
                assert probe.body["error"] == "ServiceUnavailableError", probe
        stored = [row[1] for row in stack.messages(load.channel_id)]
        assert_nothing_lost(result, stored)
    finally:
        await load.close()


@dataclass
class Probe:
    method: str
    path: str
    status: int
    body: Any
    seconds: float


def summary(probes: list[Probe]) -> str:
    counts = Counter(f"{probe.method} {probe.path} {probe.status}" for probe in probes)
    slowest = max((probe.seconds for probe in probes), default=0)
    return f"{dict(counts)}, slowest answer {slowest:.2f} s"


async def probe_api(
    server: Server, load: Load, until: float, *, body: str = "rest-during-outage"
) -> list[Probe]:
    """Platform API calls during an outage: reads and writes with a user token and the
    application's token, and the OAuth token endpoint (authenticating needs the database).
    Sends carry `body`, so a test can count what its own outage stored (the stack is shared by
    the scenarios, and sends during a Redis outage are stored: rate limits fail open)."""
    user = {"Authorization": f"Bearer {load.senders[-1].token}"}
    app = {"Authorization": f"Bearer {load.app_token}"}
    messages = f"/v1/channels/{load.channel_id}/messages"
    outage_body = {"body": body}
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("GET", "/v1/me", "user", {"headers": user}),
        ("GET", messages, "user", {"headers": user}),
        ("POST", messages, "user", {"headers": user, "json": outage_body}),
        ("GET", "/v1/users", "app", {"headers": app}),
        ("POST", messages, "app", {"headers": app, "json": outage_body}),
        (
            "POST",
            "/oauth/token",
            "client credentials",
            {"auth": load.client_credentials, "data": {"grant_type": "client_credentials"}},
        ),
    ]
    probes: list[Probe] = []

    async def call(http: httpx.AsyncClient, method: str, path: str, who: str, options: Any) -> None:
        started = time.monotonic()
        response = await http.request(method, path, **options)
        seconds = time.monotonic() - started
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text[:200]
        probes.append(Probe(method, f"{path} as {who}", response.status_code, payload, seconds))

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        while time.monotonic() < until:  # one round of concurrent calls at a time
            await asyncio.gather(*(call(http, *spec) for spec in calls))
            await asyncio.sleep(0.2)
    return probes


async def connect_during_outage(server: Server, token: str) -> str:
    """What a new chat session gets while the database is down."""
    try:
        async with connect(
            server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30
        ) as connection:
            frames = []
            with contextlib.suppress(ConnectionClosed):
                async for text in connection:
                    frames.append(text)
            code = connection.close_code
            return f"close {code}: {frames}"
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}"
    except (InvalidHandshake, TimeoutError) as error:
        return f"no handshake: {error!r}"


async def test_postgres_restart_answers_503_and_loses_nothing(
    stack: Stack, two_servers: list[Server]
) -> None:
    load = await start_load(stack, two_servers)
    try:
        await asyncio.sleep(LOAD_BEFORE_FAULT)
        await asyncio.to_thread(stack.postgres.stop, "fast")
        down_at = time.monotonic()
        errors_before = sum(len(client.errors) for client in load.senders)
        probes = await probe_api(
            two_servers[1], load, until=down_at + OUTAGE_SECONDS, body="rest-while-postgres-down"
        )
        print(f"\n[PostgreSQL restart] API while down: {summary(probes)}")
        started = time.monotonic()
        new_session = await connect_during_outage(two_servers[0], load.clients[-1].token)
        took = time.monotonic() - started
        print(f"[PostgreSQL restart] new chat session while down ({took:.2f} s): {new_session}")
        send_errors = [
            error
            for client in load.senders
            for error in client.errors[errors_before:]
            if error.get("ref")
        ]
        acks_while_down = [
            ack for client in load.senders for ack in client.acks if ack.acked_at > down_at + 0.5
        ]
        await asyncio.to_thread(stack.postgres.start)
        restored_at = time.monotonic()
        await wait_recovered(load, restored_at)
        result = await finish(stack, load, "PostgreSQL restart", restored_at)

        print(
            f"[PostgreSQL restart] websocket send errors while down: "
            f"{dict(Counter(error['error'] for error in send_errors))}"
        )
        assert probes, "the API was probed while the database was down"
        for probe in probes:
            assert probe.status == 503, probe
            assert probe.seconds < 10, f"answer before clients' timeouts: {probe}"
            assert probe.body["error"] == "ServiceUnavailableError", probe
            assert probe.body["message"] and probe.body["timestamp"], probe
        assert send_errors, "sends while the database is down get error frames"
        assert {error["error"] for error in send_errors} == {"ServiceUnavailableError"}
        assert acks_while_down == [], "no acknowledgement while the database is down"
        assert new_session.startswith("close 1013"), new_session
        assert "ServiceUnavailableError" in new_session, new_session
        stored = stack.messages(load.channel_id)
        rest_bodies = await asyncio.to_thread(
            stack.postgres.query,
            stack.database,
            "SELECT count(*) FROM channels_app_message WHERE body = %s",
            ("rest-while-postgres-down",),
        )
        assert rest_bodies == [(0,)], "a 503 stored nothing"
        assert_nothing_lost(result, [row[1] for row in stored])
    finally:
        await load.close()
