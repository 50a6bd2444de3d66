"""Two uvicorn processes sharing PostgreSQL and Redis: a message sent through one reaches a chat
session connected to the other within a second."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
UVICORN = ROOT / ".venv" / "bin" / "uvicorn"

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("REDIS_URL")
        ),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) shared by both processes",
    ),
]

SEED = """
import json
from channels_app.actors import Actor
from channels_app.services import applications, channels, users
app, _ = applications.create_application(name="Two processes")
actor = Actor.for_application(app)
jane = users.create_user(actor=actor, name="jane")
john = users.create_user(actor=actor, name="john")
channel, _ = channels.create_channel(actor=actor, type="PUBLIC", name="general", creator=jane,
                                     members=[john])
print(json.dumps({"channel": channel.pk,
                  "jane": users.mint_access_token(actor=actor, user_id=jane.pk)[0],
                  "john": users.mint_access_token(actor=actor, user_id=john.pk)[0]}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server on {port} exited: {process.stdout and process.stdout.read()!r}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"server on {port} did not start")


@pytest.fixture
def shared_database() -> Iterator[str]:
    """A database of its own, seen by both server processes and this test."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"ck_two_processes_{uuid.uuid4().hex[:8]}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def two_servers(shared_database: str) -> Iterator[tuple[dict[str, str], list[int], dict[str, Any]]]:
    env = {
        **os.environ,
        "DATABASE_URL": shared_database,
        "CHANNEL_LAYER_PREFIX": f"two-processes-{uuid.uuid4().hex[:8]}",
        "CHAT_RATE_SEND_PER_USER": "0/1",
        "CHAT_RATE_CONNECT_PER_USER": "0/1",
        "DEBUG": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED], env=env, cwd=ROOT, check=True, capture_output=True
    )
    data = json.loads(seeded.stdout.decode().strip().splitlines()[-1])
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [
                str(UVICORN),
                "chatkitty_site.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--lifespan",
                "off",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process)
        yield env, ports, data
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_message_sent_through_one_process_reaches_a_session_on_the_other(
    two_servers: tuple[dict[str, str], list[int], dict[str, Any]],
) -> None:
    import websockets

    _env, (receiving_port, sending_port), data = two_servers
    channel = data["channel"]

    def post_message(body: str) -> float:
        request = urllib.request.Request(
            f"http://127.0.0.1:{sending_port}/v1/channels/{channel}/messages",
            data=json.dumps({"body": body}).encode(),
            headers={"Authorization": f"Bearer {data['jane']}", "Content-Type": "application/json"},
            method="POST",
        )
        sent = time.monotonic()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        return sent

    def warm_up() -> None:
        """The first request of a fresh process loads the API: not what this test measures."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{sending_port}/v1/channels/{channel}",
            headers={"Authorization": f"Bearer {data['jane']}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    async def scenario() -> list[float]:
        url = f"ws://127.0.0.1:{receiving_port}/ws/v1/chat?token={data['john']}"
        latencies = []
        async with websockets.connect(url) as socket_:
            started = json.loads(await asyncio.wait_for(socket_.recv(), 10))
            assert started["type"] == "session.started" and started["channels"] == [channel]
            await asyncio.to_thread(warm_up)
            for index in range(3):
                sent = await asyncio.to_thread(post_message, f"across {index}")
                while True:
                    frame = json.loads(await asyncio.wait_for(socket_.recv(), 5))
                    if frame["type"] == "message.created":
                        break
                latencies.append(time.monotonic() - sent)
                assert frame["message"]["body"] == f"across {index}"
                assert frame["sequence"] == index + 1
        return latencies

    latencies = asyncio.run(scenario())
    assert max(latencies) < 1.0, latencies
