"""ChatKitty's own JavaScript SDK (`@chatkitty/core` 2.106.2, unmodified, from the npm registry)
against the real server: uvicorn in a subprocess on a free port, the product doc's snippets and
the live-chat steps run by `harness.mjs` under Node.

The server uses the test's database: pytest-django's PostgreSQL test database (this test is
transactional, so the server process sees the rows and they are flushed afterwards) or, on SQLite
(whose test database lives in memory), a file migrated here. The application, users and tokens
are created the way an operator and a backend would: `manage.py create_application --allow-guests`
and the Platform API.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXPECTED_STEPS = 27

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]


@dataclass
class Server:
    base_url: str
    host: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(tmp_path: Path, env: dict[str, str]) -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings.get("USER") or "", safe="")
        password = quote(settings.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or "5432"
        return f"postgres://{credentials}{host}:{port}/{settings['NAME']}"
    url = f"sqlite:///{tmp_path / 'sdk.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        check=True,
        timeout=120,
    )
    return url


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"the server did not listen within 30 s: {log.read_text()[-3000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "CHANNEL_LAYER_PREFIX": f"sdk-{uuid.uuid4().hex[:8]}",
        "TASK_BACKEND": "immediate",
        "PYTHONUNBUFFERED": "1",
    }
    env["DATABASE_URL"] = database_url(tmp_path, env)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "chatkitty_site.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                "websockets-sansio",
                "--ws-max-size",
                "65536",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        yield Server(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None
    all_headers = dict(headers or {})
    if isinstance(body, dict):
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        data = body.encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read() or b"null")


def seed(server: Server) -> dict[str, str]:
    """An application with guests on, two registered users and their access tokens."""
    created = subprocess.run(
        [sys.executable, "manage.py", "create_application", "SDK compatibility", "--allow-guests"],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    credentials = json.loads(created.stdout.strip().splitlines()[-1])
    basic = base64.b64encode(
        f"{credentials['clientId']}:{credentials['clientSecret']}".encode()
    ).decode()
    token = call(
        "POST",
        f"{server.base_url}/oauth/token",
        "grant_type=client_credentials",
        {"Authorization": f"Basic {basic}"},
    )["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    tokens = {}
    for name in ("jane", "john"):
        user = call(
            "POST",
            f"{server.base_url}/v1/users",
            {"name": f"{name}@chatkitty.com", "displayName": name.title(), "isGuest": False},
            bearer,
        )
        minted = call("POST", f"{server.base_url}/v1/users/{user['id']}/access-tokens", {}, bearer)
        tokens[name] = minted["accessToken"]
    return {
        "CK_API_KEY": credentials["apiKey"],
        "JANE_TOKEN": tokens["jane"],
        "JOHN_TOKEN": tokens["john"],
    }


def node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("Node 20 and npm are required in CI")
        pytest.skip("Node and npm are not installed")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 20, version.stdout
    return node, npm


def install_sdk(npm: str) -> None:
    """`npm ci` from the committed lock file, once (node_modules is git-ignored)."""
    if (HERE / "node_modules" / "@chatkitty" / "core" / "package.json").exists():
        return
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE,
        check=True,
        timeout=300,
    )


def test_the_unmodified_chatkitty_js_sdk_runs_the_doc_snippets_and_live_chat(
    server: Server,
) -> None:
    node, npm = node_tools()
    install_sdk(npm)
    installed = json.loads((HERE / "node_modules/@chatkitty/core/package.json").read_text())
    assert installed["version"] == "2.106.2"
    secrets = seed(server)

    result = subprocess.run(
        [node, "harness.mjs"],
        cwd=HERE,
        env={**server.env, **secrets, "CK_HOST": server.host, "STEP_TIMEOUT_MS": "10000"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith(("PASS ", "FAIL "))]
    failures = [line for line in steps if line.startswith("FAIL ")]
    assert not failures, output
    assert result.returncode == 0, output
    assert len(steps) == EXPECTED_STEPS, output
    assert f"SUMMARY {EXPECTED_STEPS}/{EXPECTED_STEPS}" in result.stdout, output
    for snippet in (
        "createChannel DIRECT (doc)",
        "createChannel PUBLIC (doc)",
        "createChannel PRIVATE (doc)",
        "listChannels() (doc)",
        "listChannels({ filter: { joined: true } }) (doc)",
        "listChannels({ filter: { joined: false } }) (doc)",
        "retrieveChannel(channelId) (doc)",
        "joinChannel({ channel }) (doc)",
        "onChannelJoined (doc)",
        "readChannel (doc)",
        "checkChannelUnread (doc)",
        "deleteChannel (doc)",
        "live onMessageReceived between two users",
        "retrieveChannel of a missing channel gives a failed result",
    ):
        assert any(snippet in line for line in steps), f"no step ran {snippet!r}:\n{output}"
